"""Single-use JWT ids (client assertions, asserted login identities), shared by every process through the database."""
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db


class UsedAssertion(db.Model):
    __tablename__ = "used_assertion"

    client_id = db.Column(db.String(64), primary_key=True)
    jti = db.Column(db.String(200), primary_key=True)
    expires_at = db.Column(db.Integer, nullable=False, index=True)

    @classmethod
    def spend(cls, client_id: str, jti: str, expires_at: int) -> bool:
        """Record a jti; False if it was already recorded. The (client_id, jti) key is the lock across processes.

        Committed at once, so the value stays spent even if the rest of the request fails.
        """
        statement = _SPEND[db.engine.dialect.name]
        inserted = db.session.execute(statement, {"client_id": client_id, "jti": jti, "expires_at": expires_at}).first()
        db.session.commit()
        return inserted is not None  # a returned row, because drivers disagree on rowcount here


# Built once per dialect; ON CONFLICT DO NOTHING exists in both SQLite and PostgreSQL.
_SPEND = {
    name: insert(UsedAssertion.__table__).on_conflict_do_nothing().returning(UsedAssertion.__table__.c.jti)
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
