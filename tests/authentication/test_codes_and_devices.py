"""Security codes (one_time_codes.py) and remembered browsers (factors/remembered_device.py): the named rules."""
import pytest
from freezegun import freeze_time

from idp.authentication import one_time_codes as codes
from idp.authentication.factors import remembered_device as devices
from idp.authentication.one_time_codes import CodeCheck

T0 = "2026-12-03 10:00:00"


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app.extensions["idp"].settings


def test_a_code_is_spent_once(ctx):
    code = codes.issue("login", "journey-a", "+447700900123")
    assert codes.check("login", "journey-a", code, "198.51.100.1", ctx) is CodeCheck.OK
    assert codes.check("login", "journey-a", code, "198.51.100.1", ctx) is CodeCheck.WRONG


def test_a_code_expires_after_five_minutes(ctx):
    with freeze_time(T0) as clock:
        code = codes.issue("login", "journey-b", "+447700900123")
        clock.tick(codes.CODE_LIFETIME + 1)
        assert codes.check("login", "journey-b", code, "198.51.100.1", ctx) is CodeCheck.WRONG


def test_a_code_works_only_in_its_own_journey_and_purpose(ctx):
    code = codes.issue("login", "journey-c", "+447700900123")
    assert codes.check("login", "journey-other", code, "198.51.100.1", ctx) is CodeCheck.WRONG
    assert codes.check("confirm_phone", "journey-c", code, "198.51.100.1", ctx) is CodeCheck.WRONG
    assert codes.check("login", "journey-c", code, "198.51.100.1", ctx) is CodeCheck.OK


def test_a_new_code_replaces_the_old_and_does_not_reset_the_failures(ctx):
    first = codes.issue("login", "journey-d", "+447700900123")
    for _ in range(codes.FAILURES_PER_JOURNEY - 1):
        assert codes.check("login", "journey-d", "000000" if first != "000000" else "111111", "198.51.100.2",
                           ctx) is CodeCheck.WRONG
    second = codes.issue("login", "journey-d", "+447700900123")
    wrong = next(c for c in ("000000", "111111", "222222") if c not in (first, second))
    # The new code did not reset the count: one more wrong code locks the journey, even for the newest code.
    assert codes.check("login", "journey-d", wrong, "198.51.100.2", ctx) is CodeCheck.THROTTLED
    assert codes.check("login", "journey-d", second, "198.51.100.2", ctx) is CodeCheck.THROTTLED


def test_a_superseded_code_no_longer_works(ctx):
    first = codes.issue("login", "journey-g", "+447700900123")
    second = codes.issue("login", "journey-g", "+447700900123")
    if first != second:  # the same six digits twice is one chance in a million; then the row is the new one
        assert codes.check("login", "journey-g", first, "198.51.100.3", ctx) is CodeCheck.WRONG
    assert codes.check("login", "journey-g", second, "198.51.100.3", ctx) is CodeCheck.OK


def test_codes_to_one_number_are_capped_per_hour(ctx):
    with freeze_time(T0) as clock:
        for n in range(codes.SENDS_PER_HOUR):
            codes.issue("login", f"journey-e{n}", "+447700900999")
        with pytest.raises(codes.TooManyCodes):
            codes.issue("login", "journey-e-more", "+447700900999")
        clock.tick(3601)
        codes.issue("login", "journey-e-later", "+447700900999")


def test_the_table_holds_neither_code_nor_number(ctx):
    from idp.extensions import db

    code = codes.issue("login", "journey-f", "+447700900555")
    db.session.commit()
    rows = db.session.execute(db.text("SELECT * FROM one_time_code")).all()
    assert rows and not any(code in str(row) or "+447700900555" in str(row) for row in rows)


def test_a_remembered_browser_is_recognised_for_its_person_only(ctx, person):
    from idp.models import Person

    owner = Person.query.filter_by(email=person()).one()
    other = Person.query.filter_by(email=person()).one()
    cookie = devices.remember(owner.id, "Mozilla/5.0 (Windows NT 10.0) Firefox/140.0")
    from idp.extensions import db

    db.session.commit()
    assert devices.recognise(owner.id, cookie)
    assert not devices.recognise(other.id, cookie)
    assert not devices.recognise(owner.id, cookie.split(".")[0] + ".forged")
    assert [d.label for d in devices.devices_of(owner.id)] == ["Firefox on Windows"]
    assert devices.forget(owner.id) == 1 and not devices.recognise(owner.id, cookie)


def test_a_remembered_browser_is_forgotten_after_six_months_unused(ctx, person):
    from idp.extensions import db
    from idp.models import Person

    owner = Person.query.filter_by(email=person()).one()
    with freeze_time(T0) as clock:
        cookie = devices.remember(owner.id, "")
        db.session.commit()
        clock.tick(devices.FORGET_AFTER - 60)
        assert devices.recognise(owner.id, cookie)  # used: the six months start again
        clock.tick(devices.FORGET_AFTER - 60)
        assert devices.recognise(owner.id, cookie)
        clock.tick(devices.FORGET_AFTER + 1)
        assert not devices.recognise(owner.id, cookie)
