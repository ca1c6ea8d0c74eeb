"""Work done after the response, from a durable queue in the database.

A request queues a job in the same transaction as the change that needs it (``enqueue``), so the
work is neither lost nor done for a change that rolled back. Each process runs a worker thread,
started when it first queues something and woken when that commits; it also polls, so retries and
jobs queued by other processes or nodes are picked up. ``idp jobs run`` drains the queue by hand
(``IDP_JOBS_WORKER=false`` leaves all of it to that).

A job is claimed with one conditional UPDATE (a lease), so two workers never run it at once; a
handler that raises is retried with backoff and then marked failed.
"""
from __future__ import annotations

import logging
import os
import threading
import uuid
from typing import Callable

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, or_
from sqlalchemy.orm import Session

from .clock import now
from .extensions import db
from .models import Job

log = logging.getLogger(__name__)

RETRY_DELAYS = (10, 60, 300, 1800, 3600)  # seconds before attempts 2..6; the sixth failure is final
LEASE_SECONDS = 120  # longer than any handler may run (each outbound call has its own deadline)
_handlers: dict[str, Callable[[dict], None]] = {}
_give_up_hooks: dict[str, Callable[[dict, str], None]] = {}
_WORKER = "idp.jobs"


class RetryLater(Exception):
    """A handler's way to say the work failed and should be tried again (the message is recorded)."""


class GiveUp(Exception):
    """A handler's way to say the work failed and trying again will not help (recorded as failed)."""


def handler(kind: str, on_give_up: Callable[[dict, str], None] | None = None):
    """Register the function doing jobs of ``kind`` (it raises to retry); ``on_give_up(payload, error)`` runs if one fails for good."""

    def register(function):
        _handlers[kind] = function
        if on_give_up is not None:
            _give_up_hooks[kind] = on_give_up
        return function

    return register


def enqueue(kind: str, payload: dict) -> None:
    """Queue a job; it is committed with the caller's transaction and run soon after."""
    if kind not in _handlers:
        raise ValueError(f"no handler for job kind {kind!r}")
    db.session.add(Job(id=str(uuid.uuid4()), kind=kind, payload=payload, run_after=now(), attempts=0))
    db.session.info["idp.jobs_queued"] = True


def run_due(limit: int = 50) -> int:
    """Run up to ``limit`` due jobs, one at a time; returns how many ran."""
    ran = 0
    while ran < limit:
        job = _claim_next()
        if job is None:
            break
        _run(job)
        ran += 1
    return ran


def _claim_next() -> Job | None:
    current = now()
    due = (Job.finished_at.is_(None), Job.run_after <= current,
           or_(Job.leased_until.is_(None), Job.leased_until < current))
    for candidate in Job.query.filter(*due).order_by(Job.run_after).limit(5).all():
        claimed = Job.query.filter(Job.id == candidate.id, *due).update(
            {"leased_until": current + LEASE_SECONDS, "attempts": Job.attempts + 1}, synchronize_session=False
        )
        db.session.commit()
        if claimed == 1:
            return db.session.get(Job, candidate.id, populate_existing=True)
    return None


def _run(job: Job) -> None:
    try:
        _handlers[job.kind](dict(job.payload))
    except Exception as error:  # noqa: BLE001 - any failure of the work is recorded and retried
        db.session.rollback()
        if not isinstance(error, (RetryLater, GiveUp)):
            log.exception("job %s (%s) failed", job.id, job.kind)
        _finish_or_retry(job, str(error)[:200] or type(error).__name__, final=isinstance(error, GiveUp))
        return
    job.finished_at, job.outcome, job.leased_until = now(), "done", None
    db.session.commit()


def _finish_or_retry(job: Job, message: str, final: bool) -> None:
    job = db.session.get(Job, job.id, populate_existing=True)
    job.last_error, job.leased_until = message, None
    if final or job.attempts > len(RETRY_DELAYS):
        job.finished_at, job.outcome = now(), "failed"
    else:
        job.run_after = now() + RETRY_DELAYS[job.attempts - 1]
    db.session.commit()
    if job.outcome == "failed":
        _give_up(job, message)


def _give_up(job: Job, message: str) -> None:
    # Work that will never be done must be reported, not just left as a row nobody reads.
    log.error("job %s (%s) failed for good after %d attempt(s): %s", job.id, job.kind, job.attempts, message)
    hook = _give_up_hooks.get(job.kind)
    if hook is None:
        return
    try:
        hook(dict(job.payload), message)
        db.session.commit()
    except Exception:  # noqa: BLE001 - the job stays failed either way; the worker must go on
        db.session.rollback()
        log.exception("job %s (%s): its give-up hook failed", job.id, job.kind)


def prune_finished(older_than: int) -> int:
    """Delete jobs that finished more than ``older_than`` seconds ago (housekeeping)."""
    return Job.query.filter(Job.finished_at < now() - older_than).delete()


# --- the worker thread of each process ------------------------------------------------------------
class Worker:
    def __init__(self, app: Flask, poll_seconds: int):
        self.app = app
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        with self._lock:
            # A thread does not survive fork: a worker process starts its own.
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._stopped.clear()
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._loop, name="idp-jobs", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 10) -> None:
        self._stopped.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            self._wake.clear()
            with self.app.app_context():
                try:
                    while not self._stopped.is_set() and run_due(limit=10):
                        pass
                except Exception:  # noqa: BLE001 - the worker must outlive a database hiccup
                    log.exception("job worker: could not run the queue")
                finally:
                    db.session.remove()
            self._wake.wait(self.poll_seconds)


def init_app(app: Flask) -> None:
    settings = app.extensions["idp"].settings
    if settings.jobs_worker:
        app.extensions[_WORKER] = Worker(app, settings.jobs_poll_seconds)


def stop_worker(app: Flask) -> None:
    worker = app.extensions.get(_WORKER)
    if worker is not None:
        worker.stop()


@event.listens_for(Session, "after_commit")
def _wake_after_commit(session) -> None:
    if session.info.pop("idp.jobs_queued", False) and has_app_context():
        worker = current_app.extensions.get(_WORKER)
        if worker is not None:
            worker.wake()


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session) -> None:
    session.info.pop("idp.jobs_queued", None)
