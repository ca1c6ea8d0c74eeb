"""Fixtures for the Notifier: an app without a worker thread (jobs run when the test says), and audit events."""
from __future__ import annotations

import json
import logging

import pytest

from support import make_app


@pytest.fixture
def make_notifier_app(app, tmp_path):
    """``make_notifier_app(IDP_EMAIL_ADAPTER=...)``: an app over the test database whose jobs run only by ``run_due``."""
    made = []

    def _make(**overrides):
        overrides.setdefault("IDP_JOBS_WORKER", "false")
        built = make_app(app.config["SQLALCHEMY_DATABASE_URI"], str(tmp_path), **overrides)
        made.append(built)
        return built

    yield _make
    for built in made:
        with built.app_context():
            from idp.extensions import db

            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def notifier(make_notifier_app):
    """The development set-up: every channel goes to the outbox."""
    return make_notifier_app()


@pytest.fixture
def audit(caplog, monkeypatch):
    """``audit()`` returns the audit events logged so far, as dicts."""
    # Alembic's fileConfig (migrations/env.py), run in this process to build the template database,
    # disables every logger that existed before it: switch ours back on.
    for name in ("idp.audit", "idp.jobs", "idp.notifications.delivery"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    caplog.set_level(logging.INFO, logger="idp.audit")

    def _events(name=None):
        found = [json.loads(r.getMessage()) for r in caplog.records if r.name == "idp.audit"]
        return [e for e in found if name is None or e["event"] == name]

    return _events


@pytest.fixture
def run_jobs():
    """``run_jobs(app)`` runs the due jobs once and returns how many ran."""

    def _run(app) -> int:
        from idp import jobs

        with app.app_context():
            return jobs.run_due()

    return _run
