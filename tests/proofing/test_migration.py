"""Migration 0008: people who were above P0 before the evidence ledger keep a level their evidence explains."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from support import PG_URL, make_app


@pytest.mark.skipif(bool(PG_URL), reason="migrates a private SQLite database from empty")
def test_people_above_p0_before_the_ledger_get_evidence_of_their_level(tmp_path):
    from flask_migrate import upgrade

    app = make_app(f"sqlite:///{tmp_path / 'before.sqlite3'}", str(tmp_path))
    with app.app_context():
        from idp.extensions import db
        from idp.proofing import evidence

        upgrade(revision="0007")
        for person_id, level, nhs_number in (("p9", "P9", "9990000026"), ("p0", "P0", None)):
            db.session.execute(text(
                "INSERT INTO person (id, email, email_verified, phone_number_verified, phone_number_pds_matched,"
                " landline_number_verified, proofing_level, nhs_number, is_test_person, created_at, updated_at)"
                " VALUES (:id, :email, 1, 0, 0, 0, :level, :nhs, 1, 0, 0)"),
                {"id": person_id, "email": f"{person_id}@example.com", "level": level, "nhs": nhs_number})
        db.session.commit()
        upgrade()
        assert evidence.evidenced_level("p9") == "P9"
        (row,) = evidence.of("p9")
        assert (row.checked_by, row.nhs_number, row.seq) == ("migration:0008", "9990000026", 1)
        assert evidence.of("p0") == []
        db.session.remove()
        db.engine.dispose()
