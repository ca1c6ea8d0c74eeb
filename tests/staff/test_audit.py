"""The staff audit is append-only, written with the caller's change, and migration 0009 makes its tables."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from staff.support import staff_member
from support import PG_URL, make_app


def test_audit_rows_are_refused_update_and_delete(app):
    member, _, _ = staff_member(app)
    with app.test_request_context("/staff/", environ_base={"REMOTE_ADDR": "192.0.2.7"}):
        from idp.extensions import db
        from idp.models import StaffAuditEvent
        from idp.staff import audit

        event = audit.record("case.viewed", member=member, person_id="person-1", subject="submission-1", step="one")
        assert event in db.session.new, "added, not committed"
        db.session.commit()
        assert (event.source, event.staff_email, event.detail) == ("192.0.2.7", member.email, {"step": "one"})
        event.action = "something else"
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.delete(db.session.get(StaffAuditEvent, event.seq))
            db.session.commit()
        db.session.rollback()
        with pytest.raises(RuntimeError, match="append-only"):
            StaffAuditEvent.query.delete()
        with pytest.raises(RuntimeError, match="append-only"):
            StaffAuditEvent.query.update({"action": "x"})
        db.session.rollback()
        assert [e.action for e in audit.of(person_id="person-1")] == ["case.viewed"]


def test_an_event_is_kept_only_with_the_change_it_describes(app):
    member, _, _ = staff_member(app)
    with app.test_request_context("/staff/"):
        from idp.extensions import db
        from idp.staff import audit

        audit.record("case.viewed", member=member)
        db.session.rollback()
        assert audit.of() == []


@pytest.mark.skipif(bool(PG_URL), reason="migrates a private SQLite database from empty")
def test_migration_0009_makes_the_staff_tables_and_goes_down_again(tmp_path):
    from flask_migrate import downgrade, upgrade

    app = make_app(f"sqlite:///{tmp_path / 'staff.sqlite3'}", str(tmp_path))
    with app.app_context():
        from idp.extensions import db

        upgrade(revision="0009")
        tables = {row[0] for row in db.session.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
        assert {"staff_members", "staff_sessions", "staff_audit"} <= tables
        downgrade(revision="0008")
        tables = {row[0] for row in db.session.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
        assert not {"staff_members", "staff_sessions", "staff_audit"} & tables
        db.session.remove()
        db.engine.dispose()
