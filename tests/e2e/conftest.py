"""A provider served by gunicorn over real HTTP on 127.0.0.1, shared by the e2e tests of one run.

Started with benchmarks/served.py exactly as ``idp serve`` serves it (2 workers,
so the tests cross worker processes), with the access log in a file whose lines
name the worker pid. Stopped at the end of the session.
"""
from __future__ import annotations

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.served import served_provider  # noqa: E402
from browser_support import launch_chromium, serve_stack  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

# pid, method, path, status: enough to tell which worker answered which request.
ACCESS_LOG_FORMAT = "%(p)s %(m)s %(U)s %(s)s"


@pytest.fixture(scope="session")
def served():
    with served_provider(workers=2, access_log_format=ACCESS_LOG_FORMAT) as provider:
        yield provider


# One provider stack and one Chromium per browser-test module.

@pytest.fixture(scope="module")
def stack():
    with serve_stack(workers=2) as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()
