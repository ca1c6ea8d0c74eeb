"""Client assertion ``jti`` values already seen, shared by every process through the database."""
from ..extensions import db


class UsedAssertion(db.Model):
    __tablename__ = "used_assertion"

    client_id = db.Column(db.String(64), primary_key=True)
    jti = db.Column(db.String(200), primary_key=True)
    expires_at = db.Column(db.Integer, nullable=False, index=True)
