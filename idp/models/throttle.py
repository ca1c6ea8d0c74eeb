"""Failed guesses, counted per subject (an account or a source address) in a window."""
from ..extensions import db


class FailedAttempt(db.Model):
    __tablename__ = "failed_attempt"

    subject = db.Column(db.String(200), primary_key=True)  # e.g. "login:account:<hash>"
    window_start = db.Column(db.Integer, nullable=False)
    count = db.Column(db.Integer, nullable=False, default=0)
    locked_until = db.Column(db.Integer)
