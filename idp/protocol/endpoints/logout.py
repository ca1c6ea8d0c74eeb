"""/logout: OpenID Connect RP-Initiated Logout 1.0, with back-channel notification.

Logout happens without a question only when the id_token_hint names the person
logged in here; anything else asks first, so a third-party page cannot log
people out (RP-Initiated Logout 1.0 section 6).
"""
from authlib.common.urls import add_params_to_uri
from flask import redirect, render_template, request, url_for

from ...authentication import current_login
from ...events import emit
from ...extensions import csrf, db
from ...i18n import N_
from ...web import allow_form_target, error_page
from ...models import Person
from ..logout import (
    LogoutRequestError,
    check_post_logout_redirect_uri,
    end_session,
    read_id_token_hint,
    resolve_client,
)
from ..subjects import session_id_for, subject_for
from . import bp, idp

PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales", "logout_hint")
# Nothing was ended: the person may be logged in still, here or at the service.
MAY_STILL_BE_LOGGED_IN = N_("You may still be logged in. Go back to the service you were using and try again.")


@bp.route("/logout", methods=["GET", "POST"])
@csrf.exempt
def logout():
    source = request.args if request.method == "GET" else request.form
    params = {k: source.get(k) for k in PARAMS if source.get(k)}
    ctx = idp()
    try:
        for name in PARAMS:
            if len(source.getlist(name)) > 1:
                raise LogoutRequestError(f"The '{name}' parameter is repeated.")
        hint = read_id_token_hint(params["id_token_hint"], ctx.keystore, ctx.settings.issuer) if "id_token_hint" in params else None
        client = resolve_client(params.get("client_id"), hint)
        target = check_post_logout_redirect_uri(params.get("post_logout_redirect_uri"), client)
    except LogoutRequestError as error:
        return error_page(N_("Sorry, we could not log you out"), error.message, 400, advice=MAY_STILL_BE_LOGGED_IN,
                          oauth_error="invalid_request", description=str(error))

    login = current_login()
    confirmed = request.method == "POST" and request.form.get("confirm") == "yes"
    if request.method == "POST" and "confirm" in request.form:
        csrf.protect()  # the confirmation form is ours, so it carries our CSRF token
        if not confirmed:
            return redirect(url_for("accounts.account"))
    # Ask unless the hint shows the relying party holds this login's ID token. Nobody logged in and no
    # hint: a bare client_id would make us an open redirector to its logout URI, so ask then too.
    ask = (login is not None and not _hint_names_this_login(hint, login, client)) or (
        login is None and hint is None and target is not None)
    if ask and not confirmed:
        allow_form_target(target)  # confirming finishes with the redirect there
        return render_template("protocol/logout_confirm.html", action=url_for("protocol.logout"), hidden=params,
                               client_name=client.name if client else None, nobody_logged_in=login is None)
    if login is not None:
        end_session(login)
        emit("logout.succeeded", client_id=client.client_id if client else None)
    if target:
        extra = [("state", params["state"])] if "state" in params else []
        return redirect(add_params_to_uri(target, extra) if extra else target)
    return render_template("protocol/logged_out.html", client_name=client.name if client else None)


def _hint_names_this_login(hint, login, client) -> bool:
    if not hint or client is None:
        return False
    if hint.get("sid") and hint["sid"] == session_id_for(login.sid, client):
        return True
    person = db.session.get(Person, login.person_id)
    return person is not None and hint.get("sub") == subject_for(person, client)
