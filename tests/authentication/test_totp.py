"""Authenticator app (Ck): TOTP enrolment and verification, RFC 6238 4 and 5.2 (drift window, no reuse)."""
from __future__ import annotations

import pyotp
import pytest
from freezegun import freeze_time

T0 = 1_800_000_000  # a step boundary: 1_800_000_000 / 30 is whole
STEP = 30


@pytest.fixture
def ctx(app, person):
    """An app context and a person in it: ``(totp module, person, settings)``."""
    email = person()
    with app.app_context():
        from idp.authentication.factors import totp
        from idp.models import Person

        yield totp, Person.query.filter_by(email=email).one(), app.extensions["idp"].settings


def code_at(secret: str, t: int) -> str:
    return pyotp.TOTP(secret).at(t)


def enrolled(totp, someone, at: int = T0 - 10 * STEP) -> str:
    """Enrol an app (confirmed ten steps before T0, so T0's window is fresh) and return its secret."""
    with freeze_time(_utc(at)):
        enrolment = totp.start_enrolment(someone)
        assert totp.confirm_enrolment(someone, enrolment.secret, code_at(enrolment.secret, at))
    return enrolment.secret


def _utc(t: int):
    import datetime

    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)


def test_enrolment_offers_the_key_as_uri_qr_code_and_groups_of_four(ctx):
    totp, someone, _ = ctx
    enrolment = totp.start_enrolment(someone)
    parsed = pyotp.parse_uri(enrolment.provisioning_uri)
    assert enrolment.provisioning_uri.startswith("otpauth://totp/")
    assert parsed.secret == enrolment.secret and parsed.issuer == "NHS login" and parsed.name == someone.email
    assert (parsed.digits, parsed.interval) == (6, 30)
    assert enrolment.qr_svg.startswith("<svg") and "<?xml" not in enrolment.qr_svg
    assert enrolment.manual_key.replace(" ", "") == enrolment.secret
    assert all(len(group) == 4 for group in enrolment.manual_key.split(" "))
    assert not totp.is_set_up(someone), "nothing is stored before the code is confirmed"


def test_confirming_with_a_wrong_code_stores_nothing(ctx):
    totp, someone, _ = ctx
    enrolment = totp.start_enrolment(someone)
    with freeze_time(_utc(T0)):
        wrong = f"{(int(code_at(enrolment.secret, T0)) + 1) % 1_000_000:06d}"
        assert not totp.confirm_enrolment(someone, enrolment.secret, wrong)
        assert not totp.confirm_enrolment(someone, "not a secret", code_at(enrolment.secret, T0))
    assert not totp.is_set_up(someone)


def test_the_secret_is_not_stored_in_clear(ctx):
    totp, someone, _ = ctx
    secret = enrolled(totp, someone)
    from idp.extensions import db

    row = db.session.execute(db.text("SELECT * FROM authenticator_app WHERE person_id = :p"), {"p": someone.id}).one()
    stored = " ".join(str(value) for value in row._mapping.values())
    assert secret not in stored and secret.lower() not in stored
    assert totp.is_set_up(someone)


def test_the_window_is_one_step_either_side(ctx):
    totp, someone, _ = ctx
    secret = enrolled(totp, someone)
    with freeze_time(_utc(T0 + 5)):
        assert not totp.verify(someone, code_at(secret, T0 - 2 * STEP)), "two steps back is too old"
        assert totp.verify(someone, code_at(secret, T0 - STEP)), "the previous step is drift"
        assert totp.verify(someone, code_at(secret, T0 + STEP)), "the next step is drift"
        assert not totp.verify(someone, code_at(secret, T0 + 2 * STEP)), "two steps ahead is too far"


def test_a_code_is_accepted_once(ctx):
    totp, someone, _ = ctx
    secret = enrolled(totp, someone)
    with freeze_time(_utc(T0)) as clock:
        code = code_at(secret, T0)
        assert totp.verify(someone, code)
        assert not totp.verify(someone, code)
        clock.tick(STEP)  # still inside the window of the code's step
        assert not totp.verify(someone, code)


def test_a_later_step_after_an_earlier_one_is_accepted_not_the_reverse(ctx):
    totp, someone, _ = ctx
    secret = enrolled(totp, someone)
    with freeze_time(_utc(T0)):
        assert totp.verify(someone, code_at(secret, T0 - STEP))
        assert totp.verify(someone, code_at(secret, T0))
        assert totp.verify(someone, code_at(secret, T0 + STEP))
        # RFC 6238 5.2: once a step is used, no code at or before it is accepted, even inside the window.
        assert not totp.verify(someone, code_at(secret, T0))
        assert not totp.verify(someone, code_at(secret, T0 - STEP))


def test_the_confirming_code_cannot_log_in_afterwards(ctx):
    totp, someone, _ = ctx
    with freeze_time(_utc(T0)):
        enrolment = totp.start_enrolment(someone)
        code = code_at(enrolment.secret, T0)
        assert totp.confirm_enrolment(someone, enrolment.secret, code)
        assert not totp.verify(someone, code)


@pytest.mark.parametrize("candidate", ["", "12345", "1234567", "12a456", "١٢٣٤٥٦", None, 123456, "123456\x00"])
def test_malformed_codes_are_simply_refused(ctx, candidate):
    totp, someone, _ = ctx
    enrolled(totp, someone)
    with freeze_time(_utc(T0)):
        assert totp.verify(someone, candidate) is False


def test_spaces_as_apps_show_them_are_ignored(ctx):
    totp, someone, _ = ctx
    secret = enrolled(totp, someone)
    with freeze_time(_utc(T0)):
        code = code_at(secret, T0)
        assert totp.verify(someone, f" {code[:3]} {code[3:]} ")


def test_enrolling_again_replaces_the_app_only_once_confirmed(ctx):
    totp, someone, _ = ctx
    old = enrolled(totp, someone)
    with freeze_time(_utc(T0)):
        new = totp.start_enrolment(someone)
        assert totp.verify(someone, code_at(old, T0)), "an unconfirmed enrolment changes nothing"
    with freeze_time(_utc(T0 + 5 * STEP)):
        assert totp.confirm_enrolment(someone, new.secret, code_at(new.secret, T0 + 5 * STEP))
    with freeze_time(_utc(T0 + 10 * STEP)):
        assert not totp.verify(someone, code_at(old, T0 + 10 * STEP))
        assert totp.verify(someone, code_at(new.secret, T0 + 10 * STEP))
    from idp.models import AuthenticatorApp

    assert AuthenticatorApp.query.filter_by(person_id=someone.id).count() == 1


def test_remove(ctx):
    totp, someone, _ = ctx
    secret = enrolled(totp, someone)
    assert totp.remove(someone) is True
    assert not totp.is_set_up(someone)
    assert totp.remove(someone) is False
    with freeze_time(_utc(T0)):
        assert not totp.verify(someone, code_at(secret, T0))


def test_too_many_wrong_codes_in_a_row_block_the_app(ctx, monkeypatch):
    totp, someone, _ = ctx
    monkeypatch.setattr(totp, "MAX_CONSECUTIVE_FAILURES", 3)
    secret = enrolled(totp, someone)
    with freeze_time(_utc(T0)):
        right = code_at(secret, T0)
        wrong = f"{(int(right) + 1) % 1_000_000:06d}"
        for _ in range(2):
            assert not totp.verify(someone, wrong)
        assert totp.verify(someone, right), "a right code clears the count"
        for _ in range(3):
            assert not totp.verify(someone, wrong)
        assert totp.is_blocked(someone)
        assert not totp.verify(someone, code_at(secret, T0 + STEP)), "blocked: even the right code is refused"
        totp.reset_failures(someone)
        assert totp.verify(someone, code_at(secret, T0 + STEP))


def test_a_code_used_by_a_parallel_request_is_refused(ctx):
    """The step is compared in the UPDATE: a request that read the row before another used the code still loses."""
    totp, someone, _ = ctx
    secret = enrolled(totp, someone)
    from idp.extensions import db
    from idp.models import AuthenticatorApp

    with freeze_time(_utc(T0)):
        code = code_at(secret, T0)
        app_row = AuthenticatorApp.query.filter_by(person_id=someone.id).one()
        # Another process accepts the code after this one has loaded the row (its copy is now stale).
        db.session.execute(db.text("UPDATE authenticator_app SET last_used_step = :s WHERE id = :i"),
                           {"s": T0 // STEP, "i": app_row.id})
        db.session.commit()
        assert app_row.last_used_step < T0 // STEP
        assert not totp.verify(someone, code)


def test_the_factor_proves_ck_once_set_up(ctx):
    totp, someone, _ = ctx

    assert totp.FACTOR.component == "Ck" and totp.FACTOR.name == "authenticator_app"
    assert not totp.FACTOR.is_set_up(someone)
    enrolled(totp, someone)
    assert totp.FACTOR.is_set_up(someone)
