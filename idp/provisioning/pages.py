"""Set up your NHS login: the pages of the claim of a provisioning request (the rules are in claim.py).

    /set-up-your-nhs-login/<token>   the emailed link: counted, then the browser's session holds the request's id
    /start                           what this is, which organisation asked, the mobile the code goes to
    /security-code                   the code (and a new one)
    /check-your-details              PDS read again after it could not answer
    /password                        create a password (create) or enter yours (uplift)
    /done                            set up: log in, or go to a service
    and a page for each problem (link not valid, used, expired, cancelled, locked, record changed, PDS down...)

The token is in the first URL only: it is read, its use counted, and the browser is sent on to pages that hold
the journey in the patient's server-side session (``session[STATE]``: the request's id, whether the code was
sent and when it was proved). Every form has its CSRF token; no page needs JavaScript.
"""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext, ngettext

from .. import surfaces
from ..authentication.one_time_codes import CodeCheck, TooManyCodes
from ..authentication.password_policy import MESSAGES as PASSWORD_MESSAGES
from ..clock import now
from ..extensions import db
from ..i18n import N_, NAMES, current_language
from ..models import Person, ProvisioningRequest
from . import claim
from .claim import Problem

bp = surfaces.declare(Blueprint("provisioning_claim", __name__, url_prefix="/set-up-your-nhs-login"),
                      surfaces.Surface.PAGE)
STATE = "provisioning_claim"

# Each problem's page: its path, its status, its heading and what to do next (message ids).
PROBLEMS = {
    Problem.NOT_VALID: ("link-not-valid", 404, N_("This link does not work"), (
        N_("Check you used the whole link in the email we sent you. If you copied it, make sure you copied all of it."),
        N_("If it still does not work, ask the health service that asked for your NHS login to send you a new link."))),
    Problem.USED: ("link-already-used", 410, N_("This link has already been used"), (
        N_("Each link works only once. If you used it to set up your NHS login, you can log in with your email "
           "address and password."),
        N_("If you did not use it, contact the health service that asked for your NHS login."))),
    Problem.EXPIRED: ("link-expired", 410, N_("This link has expired"), (
        N_("A link to set up your NHS login works for 7 days."),
        N_("Ask the health service that asked for your NHS login to send you a new link."))),
    Problem.CANCELLED: ("request-cancelled", 410, N_("This link has been cancelled"), (
        N_("The health service that asked for your NHS login has cancelled the request, so the link no longer works."),
        N_("If you still want to set up your NHS login, ask them to send you a new link."))),
    Problem.LOCKED: ("try-again-later", 429, N_("You cannot set up your NHS login right now"), (
        None,)),  # the lockout message, with its minutes (_locked_message)
    Problem.RECORD_CHANGED: ("check-your-details-with-your-gp", 409, N_("We cannot set up your NHS login"), (
        N_("Your details on your NHS record have changed since the health service asked for your NHS login, so we "
           "cannot finish setting it up."),
        N_("Contact your GP surgery to check your details are correct, then ask the health service to set up your "
           "NHS login again."))),
    Problem.UNAVAILABLE: ("service-unavailable", 503, N_("Sorry, there is a problem with the service"), (
        N_("We cannot check your details at the moment. Try again later."),)),
    Problem.HAS_ACCOUNT: ("you-already-have-an-nhs-login", 409, N_("You already have an NHS login"), (
        N_("An NHS login account already uses your email address or is linked to your NHS record, so we cannot set "
           "up another one."),
        N_("Log in with that account. If you want the health service to prove who you are on it, ask them to ask "
           "again with that account's email address."))),
    Problem.ACCOUNT_CHANGED: ("cannot-set-up", 409, N_("We cannot set up your NHS login"), (
        N_("Your NHS login account has changed since the health service asked us to prove who you are on it, so we "
           "cannot finish."),
        N_("Ask the health service to ask again."))),
}
TIMED_OUT = ("use-the-link-again", 400, N_("Your session has ended"), (
    N_("For your security, setting up your NHS login has to be finished in the same browser, within a short time."),
    N_("Use the link in the email we sent you to start again.")))
WRONG_PASSWORD = N_("The password is not correct. Enter the password of your NHS login account.")


def _settings():
    return current_app.extensions["idp"].settings


def _source() -> str:
    return request.remote_addr or "unknown"


def _toggle() -> dict:
    """The language link: this page again in the other language (only on pages a GET shows)."""
    other = "en" if current_language() == "cy" else "cy"
    return {"href": url_for(request.endpoint, **(request.view_args or {}), lang=other), "lang": other,
            "text": NAMES[other]}


def _page(template: str, status: int = 200, **context):
    if request.method == "GET":
        context.setdefault("language_toggle", _toggle())
    return render_template(template, **context), status


def _to(problem: Problem):
    return redirect(url_for("provisioning_claim.problem", name=PROBLEMS[problem][0]), 303)


def _state() -> dict:
    state = session.get(STATE)
    return dict(state) if isinstance(state, dict) and isinstance(state.get("id"), str) else {}


def _keep(state: dict) -> None:
    session[STATE] = state


def _journey():
    """(row, state, None) for the request this browser is claiming, or (None, None, the response to give)."""
    state = _state()
    if not state:
        return None, None, redirect(url_for("provisioning_claim.problem", name=TIMED_OUT[0]), 303)
    row = db.session.get(ProvisioningRequest, state["id"])
    problem = claim.problem_of(row)
    if problem is Problem.USED and state.get("done"):
        return None, None, redirect(url_for("provisioning_claim.done"), 303)
    if problem is None and claim.is_locked(row, _source(), _settings()):
        problem = Problem.LOCKED
    if problem is not None:
        return None, None, _to(problem)
    return row, state, None


def _proven(state: dict) -> bool:
    return isinstance(state.get("proven_at"), int) and state["proven_at"] > now() - claim.PROVEN_SECONDS


def _stopped(problem: Problem):
    """A problem that ends this browser's journey for good (the request is no longer pending)."""
    if problem in claim.STOPS:
        session.pop(STATE, None)
    return _to(problem)


# --- the link -----------------------------------------------------------------------------------------
@bp.get("/<token>")
def open_link(token: str):
    row, problem = claim.open_link(token, _source(), _settings())
    state = _state()
    if problem is Problem.USED and state.get("done") and row is not None and state["id"] == row.id:
        return redirect(url_for("provisioning_claim.done"), 303)
    if problem is not None:
        return _to(problem)
    _keep({"id": row.id})  # a new journey: the code again, whatever this browser did before
    return redirect(url_for("provisioning_claim.start"), 303)


@bp.route("/start", methods=["GET", "POST"])
def start():
    row, state, elsewhere = _journey()
    if elsewhere is not None:
        return elsewhere
    errors = []
    if request.method == "POST":
        try:
            claim.send_code(row, current_language())
        except TooManyCodes:
            errors = [{"field": None, "message": gettext(
                "You have asked for too many security codes. Wait 1 hour, then try again.")}]
        else:
            _keep({**state, "code_sent": True, "proven_at": None})
            return redirect(url_for("provisioning_claim.security_code"), 303)
    return _page("provisioning/start.html", 429 if errors else 200, row=row, errors=errors,
                 number=claim.masked_mobile(row), action=url_for("provisioning_claim.start"))


# --- the code to the mobile on the record -------------------------------------------------------------
def _code_page(row, errors, status=None, resent=False):
    return _page("accounts/enter_code.html", status or (400 if errors else 200), errors=errors,
                 heading=gettext("Enter the security code"),
                 intro=gettext("We have sent a 6-digit code by text message to your phone number ending %(number)s.",
                               number=claim.masked_mobile(row)),
                 action=url_for("provisioning_claim.security_code"),
                 resend_action=url_for("provisioning_claim.new_code"), resent=resent, client_name=None)


@bp.route("/security-code", methods=["GET", "POST"])
def security_code():
    row, state, elsewhere = _journey()
    if elsewhere is not None:
        return elsewhere
    if not state.get("code_sent"):
        return redirect(url_for("provisioning_claim.start"), 303)
    if _proven(state):
        return redirect(url_for("provisioning_claim.password"), 303)
    errors = []
    if request.method == "POST":
        outcome = claim.check_code(row, request.form.get("code", ""), _source(), _settings())
        if outcome is CodeCheck.THROTTLED:
            return _to(Problem.LOCKED)
        if outcome is CodeCheck.OK:
            _keep({**state, "proven_at": now(), "checked": False})
            return _check(row)
        errors = [{"field": "code", "message": gettext(
            "The security code is not correct or has expired. Check it, or send a new code.")}]
    return _code_page(row, errors, resent=request.args.get("resent") == "1")


@bp.post("/security-code/new")
def new_code():
    row, state, elsewhere = _journey()
    if elsewhere is not None:
        return elsewhere
    if not state.get("code_sent") or _proven(state):
        return redirect(url_for("provisioning_claim.security_code"), 303)
    try:
        claim.send_code(row, current_language())
    except TooManyCodes:
        return _code_page(row, [{"field": "code", "message": gettext(
            "You have asked for too many security codes. Wait 1 hour, then try again.")}], status=429)
    return redirect(url_for("provisioning_claim.security_code", resent=1), 303)


# --- PDS again --------------------------------------------------------------------------------------------
def _check(row):
    """Read PDS again: on to the password when the record is still the request's."""
    _, problem = claim.recheck(row, _settings())
    if problem is not None:
        return _stopped(problem)
    state = _state()
    _keep({**state, "checked": True})
    return redirect(url_for("provisioning_claim.password"), 303)


@bp.post("/check-your-details")
def check():
    """Try the PDS check again (after PDS could not answer)."""
    row, state, elsewhere = _journey()
    if elsewhere is not None:
        return elsewhere
    if not _proven(state):
        return redirect(url_for("provisioning_claim.start"), 303)
    return _check(row)


# --- the password, and completing -----------------------------------------------------------------------------
@bp.route("/password", methods=["GET", "POST"])
def password():
    row, state, elsewhere = _journey()
    if elsewhere is not None:
        return elsewhere
    if not _proven(state):
        return redirect(url_for("provisioning_claim.start"), 303)
    if not state.get("checked"):
        return _to(Problem.UNAVAILABLE)  # the check after the code did not finish: its page offers it again
    errors = []
    if request.method == "POST":
        given = request.form.get("password", "")
        if not given:
            errors = [{"field": "password", "message": gettext("Enter a password") if row.code == "create"
                       else gettext("Enter your password")}]
        else:
            done = claim.complete(row, given, _source(), _settings(), current_language())
            if done.claimed:
                _keep({"id": row.id, "done": True})
                return redirect(url_for("provisioning_claim.done"), 303)
            if done.problem is Problem.USED and _proven(state):
                # A double submit: the first one claimed it for this browser's person.
                _keep({"id": row.id, "done": True})
                return redirect(url_for("provisioning_claim.done"), 303)
            if done.problem is not None:
                return _stopped(done.problem)
            errors = [{"field": "password", "message": _password_error(done.reasons[0])}]
    return _page("provisioning/password.html", 400 if errors else 200, row=row, errors=errors,
                 action=url_for("provisioning_claim.password"),
                 forgotten_url=url_for("accounts.forgotten_password") if row.code == "uplift" else None)


def _password_error(reason: str) -> str:
    if reason == "throttled":
        return _locked_message()
    if reason == "wrong":
        return gettext(WRONG_PASSWORD)
    return gettext(PASSWORD_MESSAGES[reason])


@bp.get("/done")
def done():
    state = _state()
    row = db.session.get(ProvisioningRequest, state["id"]) if state.get("done") else None
    person = db.session.get(Person, row.claimed_person_id) if row is not None and row.status == "claimed" else None
    if person is None:
        return _journey()[2] or redirect(url_for("provisioning_claim.start"), 303)
    return _page("provisioning/done.html", email=person.email, account_url=url_for("accounts.account"))


# --- the problems ---------------------------------------------------------------------------------------------
_BY_PATH = {path: (problem, status, heading, lines) for problem, (path, status, heading, lines) in PROBLEMS.items()}
_BY_PATH[TIMED_OUT[0]] = (None, *TIMED_OUT[1:])


def problem_page(name: str):
    problem, status, heading, lines = _BY_PATH[name]
    paragraphs = [gettext(line) if line else _locked_message(then_the_link=True) for line in lines]
    retry_action = None
    if problem is Problem.UNAVAILABLE and _proven(_state()):
        retry_action = url_for("provisioning_claim.check")
    return _page("provisioning/problem.html", status, heading=gettext(heading), paragraphs=paragraphs,
                 retry_action=retry_action, login_url=url_for("accounts.account") if problem in (
                     Problem.USED, Problem.HAS_ACCOUNT) else None)


for _path in _BY_PATH:  # one static path each (a pattern would compete with the link's /<token>)
    bp.add_url_rule(f"/{_path}", endpoint="problem", view_func=problem_page, defaults={"name": _path},
                    methods=["GET"])


def _locked_message(then_the_link: bool = False) -> str:
    minutes = max(1, -(-_settings().login_lockout_seconds // 60))
    if then_the_link:
        return ngettext("You have tried too many times. Wait %(num)d minute, then use the link in the email we sent "
                        "you again.", "You have tried too many times. Wait %(num)d minutes, then use the link in the "
                        "email we sent you again.", minutes)
    return ngettext("You have tried too many times. Wait %(num)d minute, then try again.",
                    "You have tried too many times. Wait %(num)d minutes, then try again.", minutes)
