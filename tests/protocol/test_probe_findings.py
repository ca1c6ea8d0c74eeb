"""The independent probe's findings in the core (issue 6), each replayed over HTTP as the tester did it.

asserted_login_identity's findings live with the rest of its tests (test_asserted_login_identity.py).
"""
from __future__ import annotations

import base64
import dataclasses
import datetime
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import pytest
from freezegun import freeze_time

from support import ISSUER, callback_params, csrf_from, follow_to_rp, wait_until

LOGGED_OUT = "https://rp.example/logged-out"
PROFILE = "openid profile email"


def _b64(data) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _segments(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload), signature


def _with_client_auth(rp, path: str, **form):
    auth, headers = rp.auth(claims={"aud": ISSUER + path})
    return rp.http.post(path, data={**auth, **form}, headers=headers)


def introspect(rp, token: str, **extra) -> dict:
    return _with_client_auth(rp, "/introspect", token=token, **extra).get_json()


def revoke(rp, token: str, **extra):
    return _with_client_auth(rp, "/revoke", token=token, **extra)


def userinfo(http, access_token: str):
    return http.get("/userinfo", headers={"Authorization": "Bearer " + access_token})


def logout_with_hint(http, id_token: str):
    return http.get("/logout?" + urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": LOGGED_OUT}))


@pytest.fixture
def rrp(register):
    return register(refresh_tokens=True)


# --- 2. /introspect and forged tokens ---------------------------------------------------------------
@pytest.mark.parametrize("forgery", ["alg none", "broken signature"])
def test_a_forged_token_that_keeps_a_real_jti_is_not_active(rp, person, forgery):
    access_token = rp.tokens_for(person("P9"), scope=PROFILE)["access_token"]
    header, claims, signature = _segments(access_token)
    claims.update(sub="someone-else", scope="openid profile email phone")
    if forgery == "alg none":
        forged = f"{_b64({**header, 'alg': 'none'})}.{_b64(claims)}."
    else:
        forged = f"{_b64(header)}.{_b64(claims)}.{signature}"
    assert introspect(rp, access_token)["active"] is True  # the real one
    assert introspect(rp, forged) == {"active": False}
    assert introspect(rp, forged, token_type_hint="access_token") == {"active": False}


# --- 6. a wrong token_type_hint ---------------------------------------------------------------------
def test_a_wrong_hint_does_not_end_the_search(rrp, person):
    tokens = rrp.tokens_for(person("P0"))
    assert introspect(rrp, tokens["refresh_token"], token_type_hint="access_token")["active"] is True
    assert introspect(rrp, tokens["access_token"], token_type_hint="refresh_token")["active"] is True

    assert revoke(rrp, tokens["refresh_token"], token_type_hint="access_token").status_code == 200
    refreshed = rrp.refresh(tokens["refresh_token"])
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"


# --- 4. logout revokes the session's tokens; refreshing keeps sid and the refresh expiry ---------------
def test_logout_ends_the_sessions_refresh_and_access_tokens(rrp, register, person, client):
    other = register(refresh_tokens=True)  # a second service in the same browser session
    email = person("P0")
    tokens, other_tokens = rrp.tokens_for(email), other.tokens_for(email)

    assert logout_with_hint(client, tokens["id_token"]).status_code == 302
    for rp, issued in ((rrp, tokens), (other, other_tokens)):
        assert rp.refresh(issued["refresh_token"]).get_json()["error"] == "invalid_grant"
        assert userinfo(client, issued["access_token"]).status_code == 401
        assert introspect(rp, issued["access_token"]) == {"active": False}


def test_a_refreshed_id_token_keeps_the_sessions_sid(rrp, person):
    tokens = rrp.tokens_for(person("P0"))
    first = rrp.verify_id_token(tokens["id_token"])
    refreshed = rrp.refresh(tokens["refresh_token"]).get_json()
    assert first["sid"]
    assert rrp.verify_id_token(refreshed["id_token"])["sid"] == first["sid"]


def test_rotation_does_not_extend_the_refresh_tokens_life(rrp, person):
    with freeze_time(datetime.datetime.now(datetime.timezone.utc)) as frozen:
        tokens = rrp.tokens_for(person("P0"))
        frozen.tick(datetime.timedelta(days=20))
        rotated = rrp.refresh(tokens["refresh_token"]).get_json()["refresh_token"]
        frozen.tick(datetime.timedelta(days=11))  # 31 days after the login, 11 after the rotation
        late = rrp.refresh(rotated)
    assert late.status_code == 400 and late.get_json()["error"] == "invalid_grant"


# --- 5. a scope taken away from a client --------------------------------------------------------------
def test_removing_a_scope_reaches_the_grants_the_client_already_holds(app, rrp, person, client):
    tokens = rrp.tokens_for(person("P9"), scope=PROFILE)
    assert "nhs_number" in userinfo(client, tokens["access_token"]).get_json()

    result = app.test_cli_runner().invoke(args=["clients", "update", rrp.client_id, "--scope", "openid email"])
    assert result.exit_code == 0, result.output

    held = userinfo(client, tokens["access_token"]).get_json()
    assert "email" in held and not {"nhs_number", "family_name", "birthdate"} & set(held)
    assert introspect(rrp, tokens["access_token"])["scope"] == "openid email"
    refreshed = rrp.refresh(tokens["refresh_token"]).get_json()
    assert refreshed["scope"] == "openid email"
    id_claims = rrp.verify_id_token(refreshed["id_token"])
    assert "nhs_number" not in id_claims and "birthdate" not in id_claims
    assert "nhs_number" not in userinfo(client, refreshed["access_token"]).get_json()


# --- 7. the session's absolute lifetime ---------------------------------------------------------------
def test_an_active_session_still_ends_twelve_hours_after_the_login(rp, person):
    email = person("P0")
    with freeze_time(datetime.datetime.now(datetime.timezone.utc)) as frozen:
        assert "code" in rp.login_flow(email)
        for _ in range(5):  # busy all day: back every two hours
            frozen.tick(datetime.timedelta(hours=2))
            assert "code" in callback_params(rp.authorize(prompt="none"))
        frozen.tick(datetime.timedelta(hours=2, seconds=1))  # 12 hours and a second after the login
        assert callback_params(rp.authorize(prompt="none"))["error"] == "login_required"


# --- 8. id_token_hint names someone else than who logs in -------------------------------------------
def test_a_hint_for_one_person_is_not_answered_with_a_code_for_another(app, rp, person):
    hinted = rp.tokens_for(person("P0"))["id_token"]
    browser = dataclasses.replace(rp, http=app.test_client())  # no session: a login is needed
    response = browser.authorize(id_token_hint=hinted)
    back = follow_to_rp(browser.http, response, email=person("P0"), redirect_uri=rp.redirect_uri)
    assert callback_params(back)["error"] == "login_required"


def test_the_hinted_person_logging_in_gets_the_code(app, rp, person):
    email = person("P0")
    hinted = rp.tokens_for(email)["id_token"]
    browser = dataclasses.replace(rp, http=app.test_client())
    back = follow_to_rp(browser.http, browser.authorize(id_token_hint=hinted), email=email, redirect_uri=rp.redirect_uri)
    assert "code" in callback_params(back)


# --- 9. client assertion audiences ---------------------------------------------------------------------
@pytest.mark.parametrize("aud", [
    ["https://evil.example/token", ISSUER + "/token"],
    [ISSUER, "https://evil.example"],
    ISSUER + "/revoke",  # ours, but not the endpoint being called
    [],
])
def test_a_client_assertion_for_anyone_else_is_refused(rp, person, aud):
    code = rp.login_flow(person("P0"))["code"]
    form, _ = rp.auth(claims={"aud": aud})
    form.update(grant_type="authorization_code", code=code, redirect_uri=rp.redirect_uri,
                code_verifier=rp.last["verifier"])
    response = rp.http.post("/token", data=form)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize("aud", [ISSUER, ISSUER + "/", ISSUER + "/token", [ISSUER, ISSUER + "/token"]])
def test_a_client_assertion_for_us_is_accepted(rp, person, aud):
    code = rp.login_flow(person("P0"))["code"]
    form, _ = rp.auth(claims={"aud": aud})
    form.update(grant_type="authorization_code", code=code, redirect_uri=rp.redirect_uri,
                code_verifier=rp.last["verifier"])
    assert rp.http.post("/token", data=form).status_code == 200


def test_the_endpoint_being_called_is_an_audience(rp, person):
    tokens = rp.tokens_for(person("P0"))
    assert introspect(rp, tokens["access_token"])["active"] is True  # aud = .../introspect
    assert revoke(rp, tokens["access_token"]).status_code == 200  # aud = .../revoke
    assert introspect(rp, tokens["access_token"]) == {"active": False}


# --- 3. a slow back-channel logout endpoint -------------------------------------------------------------
@dataclasses.dataclass
class SlowListener:
    """A relying party whose back-channel endpoint trickles its answer, a byte every quarter second."""

    server: ThreadingHTTPServer
    received: list = dataclasses.field(default_factory=list)
    completed: list = dataclasses.field(default_factory=list)
    quick: threading.Event = dataclasses.field(default_factory=threading.Event)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"


@pytest.fixture
def slow_listener():
    listener: SlowListener

    class Trickle(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            listener.received.append((self.path, self.rfile.read(length).decode()))
            answer = b"x" * 48  # twelve seconds at the trickle's pace
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            try:
                for i in range(len(answer)):
                    if not listener.quick.is_set():
                        time.sleep(0.25)
                    self.wfile.write(answer[i:i + 1])
                    self.wfile.flush()
            except OSError:
                return  # the provider hung up: its deadline passed
            listener.completed.append(self.path)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    listener = SlowListener(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield listener
    listener.quick.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_trickling_backchannel_endpoint_does_not_hold_up_logout(app, register, person, client, slow_listener,
                                                                    monkeypatch):
    from idp import jobs
    from idp.extensions import db
    from idp.models import Job

    monkeypatch.setattr(app.extensions["idp"].settings, "outbound_timeout_seconds", 1)
    services = [register(backchannel_logout_uri=slow_listener.url(f"/bc{i}"), refresh_tokens=True) for i in range(3)]
    email = person("P0")
    tokens = [rp.tokens_for(email) for rp in services]

    response = logout_with_hint(client, tokens[0]["id_token"])
    # The answer came back while every relying party was still (or not yet) trickling.
    assert response.status_code == 302 and response.headers["Location"] == LOGGED_OUT
    assert slow_listener.completed == []
    assert callback_params(services[0].authorize(prompt="none"))["error"] == "login_required"
    for rp, issued in zip(services, tokens):
        assert rp.refresh(issued["refresh_token"]).get_json()["error"] == "invalid_grant"

    def jobs_state():
        with app.app_context():
            return [(job.attempts, job.last_error, job.outcome) for job in Job.query.all()]

    # Each delivery was cut off at the overall deadline and is queued for a retry.
    tried = wait_until(lambda: (state := jobs_state()) and all(a >= 1 and e for a, e, _ in state) and state)
    assert len(tried) == 3 and all(outcome is None for _, _, outcome in tried), tried
    assert slow_listener.completed == []

    slow_listener.quick.set()  # the relying parties recover; the retries get through
    with app.app_context():
        Job.query.update({"run_after": 0})
        db.session.commit()
        jobs.run_due()
    assert wait_until(lambda: all(outcome == "done" for _, _, outcome in jobs_state())), jobs_state()
    assert sorted(slow_listener.completed) == ["/bc0", "/bc1", "/bc2"]


def test_every_outbound_fetch_has_an_overall_deadline(app, slow_listener):
    from idp.outbound import FetchFailed, fetch

    with app.app_context(), pytest.raises(FetchFailed):
        fetch("POST", slow_listener.url("/sector"), deadline=1, max_bytes=1024, data={"a": "b"})
    assert slow_listener.received and slow_listener.completed == []


# --- also tightened: form-action and the logout redirector ------------------------------------------------
def csp_form_action(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(part.strip() for part in policy.split(";") if part.strip().startswith("form-action"))


def test_form_action_allows_only_us_and_where_this_journey_returns(rp, client):
    assert csp_form_action(client.get("/")) == "form-action 'self'"
    login_page = client.get(rp.authorize().headers["Location"])
    assert csp_form_action(login_page) == "form-action 'self' https://rp.example"


def test_logout_with_only_a_client_id_asks_before_redirecting(rp, client):
    params = {"client_id": rp.client_id, "post_logout_redirect_uri": LOGGED_OUT, "state": "s1"}
    page = client.get("/logout?" + urlencode(params))
    assert page.status_code == 200 and "Location" not in page.headers
    html = page.get_data(as_text=True)
    assert "You are not logged in" in html
    assert csp_form_action(page) == "form-action 'self' https://rp.example"

    onward = client.post("/logout", data={**params, "confirm": "yes", "csrf_token": csrf_from(html)})
    assert onward.status_code == 302 and onward.headers["Location"] == LOGGED_OUT + "?state=s1"
