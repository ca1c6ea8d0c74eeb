"""The conformance run: one provider served for the session, set up the way a tester sets up the plans.

The provider runs as ``idp serve`` runs it (gunicorn, 2 workers, benchmarks/served.py) on
SQLite, or on a fresh PostgreSQL database when IDP_TEST_DATABASE_URL is set. Its clients
and test person are made with the ``idp`` CLI, with the options each plan's variant needs:
``client`` and ``client2`` (client_secret_basic), ``client-post`` (client_secret_post),
``client-pkj`` (private_key_jwt) and ``client-bc`` (back-channel logout); all with PKCE and
nonce optional and RS256 ID tokens. Their redirect, post-logout and back-channel URIs point
at a small receiver on 127.0.0.1 that plays the suite's own web server.

Each test is one suite module, marked ``oidf_module(name, plan)``; the plugin below writes
``conformance/report.md`` when the whole run (no deselected modules) has finished.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
for path in (ROOT, HERE):
    if path not in sys.path:
        sys.path.insert(0, path)

from benchmarks.served import drop_postgres_database, prepare, scratch_postgres_database, start  # noqa: E402
from oidf.keys import new_rsa_key, public_pem  # noqa: E402
from oidf.receiver import start_receiver  # noqa: E402
from oidf.report import Row, render, today  # noqa: E402
from oidf.rp import ClientConfig, Provider  # noqa: E402
from oidf.suite import ModuleRun, Suite  # noqa: E402

REPORT = os.path.join(ROOT, "conformance", "report.md")
PERSON = {"email": "conformance.tester@example.com", "level": "P9", "phone": "+447700900123",
          "nhs-number": "9990000026", "given-name": "Sam", "family-name": "Jones", "birthdate": "1970-01-31",
          "postcode": "LS1 4AP", "gp-ods-code": "B86001"}
SCOPES = "openid profile email phone"
VECTORS = '["P9.Cp","P5.Cp","P0.Cp"]'
# client name -> (auth method, extra `idp clients add` options)
CLIENTS = {
    "client": ("client_secret_basic", ["--refresh-tokens"]),
    "client2": ("client_secret_basic", ["--refresh-tokens"]),
    "client-post": ("client_secret_post", []),
    "client-pkj": ("private_key_jwt", ["--refresh-tokens"]),
    "client-bc": ("client_secret_basic", ["--backchannel-logout-uri", "{receiver}/backchannel_logout"]),
}


# --- the served provider ---------------------------------------------------------------------------
def _register(served, receiver, name: str) -> ClientConfig:
    method, extra = CLIENTS[name]
    redirect_uri = receiver.url("callback")
    post_logout = receiver.url("post_logout_redirect")
    args = ["clients", "add", "--client-id", f"conformance-{name}", "--name", f"Conformance suite {name}",
            "--redirect-uri", redirect_uri, "--post-logout-redirect-uri", post_logout, "--scope", SCOPES,
            "--vtr", VECTORS, "--auth-method", method, "--id-token-alg", "RS256", "--pkce", "optional",
            "--nonce", "optional", *[a.format(receiver=receiver.base_url) for a in extra]]
    key = None
    if method == "private_key_jwt":
        key = new_rsa_key()
        pem_path = os.path.join(served.directory, f"{name}.pem")
        with open(pem_path, "wb") as fh:
            fh.write(public_pem(key))
        args += ["--public-key", pem_path]
    registered = json.loads(served.cli(*args))
    return ClientConfig(client_id=registered["client_id"], redirect_uri=redirect_uri, auth_method=method,
                        secret=registered.get("client_secret"), key=key, id_token_alg="RS256", scope="openid",
                        post_logout_redirect_uri=post_logout)


@pytest.fixture(scope="session")
def suite():
    receiver, served, database_url = start_receiver(), None, None
    try:
        if os.environ.get("IDP_TEST_DATABASE_URL"):
            database_url = scratch_postgres_database(os.environ["IDP_TEST_DATABASE_URL"], "idp_conformance")
        served = prepare(workers=2, database_url=database_url, extra_env={"IDP_PASSWORD_HASH_PROFILE": "fast"})
        password = "conformance-" + os.urandom(9).hex()
        person_args = ["users", "add", "--password", password]
        for name, value in PERSON.items():
            person_args += [f"--{name}", value]
        with ThreadPoolExecutor(max_workers=len(CLIENTS) + 2) as pool:  # each CLI call is a process start
            person = pool.submit(served.cli, *person_args)
            # RFC 7591 3: the initial access token the operator hands a tester for the dynamic plan; the
            # suite's registrations say nothing of PKCE or nonce, and its modules send no PKCE.
            token = pool.submit(served.cli, "clients", "initial-access-token", "--env", "sandpit", "--pkce", "optional",
                                "--nonce", "optional", "--description", "conformance run")
            clients = dict(zip(CLIENTS, pool.map(lambda name: _register(served, receiver, name), CLIENTS)))
            person.result()
        start(served)
        yield Suite(served=served, receiver=receiver, provider=Provider.discover(served.base_url), clients=clients,
                    email=PERSON["email"], password=password, initial_access_token=token.result().strip())
    finally:
        if served is not None:
            served.stop()
            shutil.rmtree(served.directory, ignore_errors=True)
        receiver.stop()
        if database_url:
            drop_postgres_database(database_url)


@pytest.fixture(scope="session", autouse=True)
def _first_halves(request):
    """Run, at the start, the first half of each module that needs time to pass before its second half."""
    markers = [item.get_closest_marker("oidf_late") for item in request.session.items]
    markers = sorted((m for m in markers if m), key=lambda m: -m.kwargs.get("wait", 0))  # the longest wait first
    if not markers:
        return
    suite = request.getfixturevalue("suite")
    for marker in markers:
        first_half = marker.kwargs["first_half"]
        if first_half.__name__ not in suite.early:
            try:
                suite.early[first_half.__name__] = first_half(suite)
            except Exception as exc:  # the module's own test reports it
                suite.early[first_half.__name__] = exc


@pytest.fixture
def conformance(suite, request) -> ModuleRun:
    return ModuleRun(suite, request.node)


# --- the report ------------------------------------------------------------------------------------
_rows: dict[str, Row] = {}
_state = {"deselected": 0, "started": None}


def pytest_configure(config):
    config.addinivalue_line("markers", "oidf_module(name, plan, variant=None): the suite module a test reproduces")
    config.addinivalue_line("markers", "oidf_late(first_half, wait=0): run at the end; first_half(suite) runs at the "
                                       "start, those with the longest wait (seconds) first")


def pytest_collection_modifyitems(config, items):
    """Move the late modules after the other conformance modules, so time has passed since their first half."""
    late = [item for item in items if item.get_closest_marker("oidf_late")]
    if not late:
        return
    # The longest wait first: its second half absorbs the time the shorter ones need.
    late.sort(key=lambda item: -item.get_closest_marker("oidf_late").kwargs.get("wait", 0))
    rest = [item for item in items if item not in late]
    positions = [i for i, item in enumerate(rest) if item.get_closest_marker("conformance")]
    cut = positions[-1] + 1 if positions else len(rest)
    items[:] = rest[:cut] + late + rest[cut:]


def pytest_deselected(items):
    _state["deselected"] += sum(1 for item in items if item.get_closest_marker("oidf_module"))


def pytest_runtest_setup(item):
    if item.get_closest_marker("oidf_module") and _state["started"] is None:
        _state["started"] = time.monotonic()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    marker = item.get_closest_marker("oidf_module")
    if marker is None:
        return
    earlier = _rows.get(item.nodeid)
    if not (report.when == "call" or (report.when == "setup" and not report.passed)
            or (report.when == "teardown" and report.failed and earlier is not None and earlier.result == "PASSED")):
        return
    props = item.user_properties
    row = Row(plan=marker.args[1], module=marker.args[0], variant=marker.kwargs.get("variant"),
              result="PASSED" if report.passed else "SKIPPED" if report.skipped else "FAILED",
              warnings=[v for k, v in props if k == "warning"], notes=[v for k, v in props if k == "note"],
              unsupported=next((v for k, v in props if k == "unsupported"), None))
    if call.excinfo is not None and not report.passed:
        message = str(call.excinfo.value).strip() or call.excinfo.typename
        if report.when != "call" and not report.skipped:
            message = f"error in {report.when}: {message}"
        row.reason = message.splitlines()[0][:300]
    _rows[item.nodeid] = row


def pytest_sessionfinish(session, exitstatus):
    if not _rows or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    where = os.path.relpath(REPORT, ROOT)
    if _state["deselected"]:
        _say(session, f"conformance: {_state['deselected']} modules deselected, so {where} was not rewritten")
        return
    info = {"date": today(), "database": "PostgreSQL" if os.environ.get("IDP_TEST_DATABASE_URL") else "SQLite",
            "duration": time.monotonic() - (_state["started"] or time.monotonic())}
    with open(REPORT, "w") as fh:
        fh.write(render(list(_rows.values()), info) + "\n")
    _say(session, f"conformance: {len(_rows)} module runs reported in {where}")
    _rows.clear()


def _say(session, line: str) -> None:
    terminal = session.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        terminal.write_line(line)
