"""Prometheus metrics: one registry per process, or, under gunicorn with ``PROMETHEUS_MULTIPROC_DIR`` set (as
``idp serve`` does), the sum over every worker (prometheus_client's multiprocess mode).

Counts come from the places that know: each request (after it is answered), the domain events (``idp.events``),
and the append-only records (evidence, the provisioning audit) as they are written. Labels are bounded: an
endpoint name, never a path; an outcome, never a person.
"""
from __future__ import annotations

import os
import time

from flask import g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client import CONTENT_TYPE_LATEST  # noqa: F401 - re-exported: the /metrics content type
from sqlalchemy import event

from .. import events

REQUESTS = Counter("idp_http_requests_total", "HTTP requests answered", ["endpoint", "method", "status"])
LATENCY = Histogram("idp_http_request_duration_seconds", "Time to answer a request", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
LOGINS = Counter("idp_logins_total", "Logins by outcome", ["outcome"])
STEP_UPS = Counter("idp_step_ups_total", "Authorization requests that asked for more inside the login",
                   ["kind"])
PROOFING = Counter("idp_proofing_outcomes_total", "Identity proofing evidence recorded", ["route", "outcome"])
PROVISIONING = Counter("idp_provisioning_calls_total", "Provisioning API calls", ["operation", "outcome"])
ERRORS = Counter("idp_unhandled_errors_total", "Requests that ended in an unexpected error")


def count_unhandled_error() -> None:
    ERRORS.inc()

_LOGIN_EVENTS = {"login.succeeded": "succeeded", "login.failed": "failed", "login.throttled": "throttled"}


# prometheus_client chooses at import whether values live in files shared by the workers; so does this module.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> bytes:
    """The text of /metrics: this process's metrics, or every worker's in multiprocess mode."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


def _start_timer():
    g.idp_request_started = time.perf_counter()


def _count(response):
    started = g.pop("idp_request_started", None)
    endpoint = request.endpoint or "unmatched"
    REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


def _listen_once() -> None:
    # Signals and mapper events are process-wide: connected once, whatever the number of apps made (the tests).
    if getattr(_listen_once, "done", False):
        return
    _listen_once.done = True
    for name, outcome in _LOGIN_EVENTS.items():
        events.listen(name, lambda _sender, _outcome=outcome, **_: LOGINS.labels(_outcome).inc())
    events.listen("authorization.stepped_up", lambda _sender, kind="step_up", **_: STEP_UPS.labels(kind).inc())
    from ..models import Evidence, ProvisioningAuditEvent

    @event.listens_for(Evidence, "after_insert")
    def _evidence(_mapper, _connection, row):
        PROOFING.labels(row.route, row.outcome).inc()

    @event.listens_for(ProvisioningAuditEvent, "after_insert")
    def _provisioning(_mapper, _connection, row):
        PROVISIONING.labels(row.operation, row.outcome).inc()


def install(app) -> None:
    app.before_request(_start_timer)
    app.after_request(_count)
    _listen_once()
