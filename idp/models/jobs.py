"""Work queued to run after a response (back-channel logout notices now; messages later).

A row per job, so work a committed request asked for survives a crash: any process's worker, or
``idp jobs run``, takes it once its lease has lapsed.
"""
from sqlalchemy import JSON

from ..clock import now
from ..extensions import db


class Job(db.Model):
    __tablename__ = "job"

    id = db.Column(db.String(36), primary_key=True)
    kind = db.Column(db.String(40), nullable=False)
    payload = db.Column(JSON, nullable=False)  # identifiers only: never a secret or personal data
    created_at = db.Column(db.Integer, nullable=False, default=now)
    run_after = db.Column(db.Integer, nullable=False, index=True)
    attempts = db.Column(db.Integer, nullable=False, default=0)
    leased_until = db.Column(db.Integer)
    finished_at = db.Column(db.Integer, index=True)
    outcome = db.Column(db.String(10))  # "done" | "failed"; None while pending
    last_error = db.Column(db.String(200))
