"""Start the provider the way `make run` serves it (gunicorn, ``idp.wsgi:app``) in a throw-away directory.

Shared by the end-to-end tests (tests/e2e) and the benchmarks. Everything it
starts listens on 127.0.0.1 only, every wait is bounded, and ``stop()`` ends
only the gunicorn master it started (by its pid) and, if that does not work,
that master's own process group.

    with served_provider(workers=2) as idp:
        idp.base_url, idp.client_id, idp.private_key_pem, idp.email, idp.password ...
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
IDP = os.path.join(VENV_BIN, "idp")
PYTHON = os.path.join(VENV_BIN, "python")

PERSON = dict(nhs_number="9990000026", family_name="Jones", given_name="Sam", birthdate="1970-01-31")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ServeError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rsa_key_pair() -> tuple[bytes, bytes]:
    """(private PKCS#8 PEM, public SubjectPublicKeyInfo PEM) of a fresh RSA 2048 key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


# --- CPU time of a process tree, from /proc (no psutil) ----------------------------------------
def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            raw = fh.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces.
    return raw[raw.rindex(")") + 2:].split()


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields and int(fields[1]) == pid:  # fields[1] is ppid (field 4 of the file)
                found.append(int(entry))
    return found


def tree_cpu_seconds(pid: int) -> float:
    """utime+stime of a process and its live children, plus the time of children it already reaped."""
    total = 0.0
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # After the ")" : state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
    total += sum(int(fields[i]) for i in (11, 12, 13, 14))
    for child in children_of(pid):
        child_fields = _stat(child)
        if child_fields:
            total += sum(int(child_fields[i]) for i in (11, 12))
    return total / CLOCK_TICKS


def system_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (/proc/stat), to see what else ran during a measurement."""
    with open("/proc/stat") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    return (total - idle) / CLOCK_TICKS


# --- the served provider ------------------------------------------------------------------------
@dataclass
class ServedProvider:
    base_url: str
    port: int
    workers: int
    directory: str
    env: dict
    client_id: str = ""
    client: dict = field(default_factory=dict)
    private_key_pem: bytes = b""
    redirect_uri: str = ""
    post_logout_redirect_uri: str = ""
    email: str = ""
    password: str = ""
    process: subprocess.Popen | None = None
    access_log: str = ""
    log_path: str = ""

    @property
    def master_pid(self) -> int | None:
        return self.process.pid if self.process else None

    def worker_pids(self) -> list[int]:
        return children_of(self.master_pid) if self.master_pid else []

    def server_cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.master_pid) if self.master_pid else 0.0

    def url(self, path: str) -> str:
        return urljoin(self.base_url + "/", path.lstrip("/"))

    def cli(self, *args: str, timeout: float = 60) -> str:
        """Run ``idp <args>`` against this instance's database; returns stdout."""
        result = subprocess.run([IDP, *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise ServeError(f"idp {' '.join(args[:2])} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
        return result.stdout

    def logs(self, limit: int = 4000) -> str:
        try:
            with open(self.log_path) as fh:
                return fh.read()[-limit:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of master and workers
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: the master and its workers only
            proc.wait(timeout=5)


def prepare(directory: str | None = None, *, port: int | None = None, workers: int | None = None,
            database_url: str | None = None, extra_env: dict | None = None) -> ServedProvider:
    """A migrated database with signing keys for a provider that will listen on 127.0.0.1:<port>.

    ``database_url`` defaults to a SQLite file in ``directory``; give an empty PostgreSQL
    database (``scratch_postgres_database``) to serve from PostgreSQL. ``extra_env`` adds
    IDP_* settings (e.g. ``IDP_PASSWORD_HASH_PROFILE=fast``).
    """
    directory = directory or tempfile.mkdtemp(prefix="idp-served-")
    port = port or free_port()
    workers = workers or (os.cpu_count() or 1) * 2
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}
    env.update({
        "IDP_DATABASE_URL": database_url or f"sqlite:///{os.path.join(directory, 'idp.sqlite3')}",
        "IDP_INSTANCE_PATH": directory,
        "IDP_ISSUER": base_url,
        "PORT": str(port),
        "IDP_ENV": "development",
    })
    env.update(extra_env or {})
    served = ServedProvider(base_url=base_url, port=port, workers=workers, directory=directory, env=env)
    served.cli("db", "upgrade", timeout=120)
    served.cli("keys", "init")
    return served


def scratch_postgres_database(server_url: str, name: str) -> str:
    """Create (or re-create) an empty database ``name`` on the server of ``server_url``; returns its URL.

    ``server_url`` is a SQLAlchemy URL such as ``IDP_TEST_DATABASE_URL``; its own database is
    left alone, so a served provider never shares tables with the in-process tests.
    """
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ServeError(f"not a plain database name: {name!r}")
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(database_url: str) -> None:
    """Drop a database made by ``scratch_postgres_database`` (connecting to the server's own database)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    with psycopg.connect(url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False),
                         autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {url.database} WITH (FORCE)")


def register_client(served: ServedProvider, *, client_id: str = "e2e", scope: str = "openid profile email",
                    vtr: str = '["P9.Cp","P0.Cp"]', refresh_tokens: bool = True,
                    redirect_uri: str | None = None, post_logout_redirect_uri: str | None = None) -> dict:
    """Register a private_key_jwt client with a fresh RSA key (kept in memory and in the temp directory)."""
    private, public = rsa_key_pair()
    public_path = os.path.join(served.directory, f"{client_id}-public.pem")
    private_path = os.path.join(served.directory, f"{client_id}-private.pem")
    with open(public_path, "wb") as fh:
        fh.write(public)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private)
    # Nothing listens there: the browser part stops at the redirect and never follows it.
    redirect_uri = redirect_uri or f"http://127.0.0.1:{free_port()}/callback"
    post_logout = post_logout_redirect_uri or redirect_uri.rsplit("/", 1)[0] + "/logged-out"
    args = ["clients", "add", "--client-id", client_id, "--name", "E2E", "--redirect-uri", redirect_uri,
            "--post-logout-redirect-uri", post_logout, "--public-key", public_path, "--scope", scope, "--vtr", vtr,
            "--refresh-tokens" if refresh_tokens else "--no-refresh-tokens"]
    client = json.loads(served.cli(*args))
    served.client, served.client_id = client, client["client_id"]
    served.private_key_pem = private
    served.redirect_uri, served.post_logout_redirect_uri = redirect_uri, post_logout
    return client


def add_person(served: ServedProvider, *, email: str | None = None, password: str | None = None, level: str = "P9") -> dict:
    email = email or f"sam.{secrets.token_hex(4)}@example.com"
    password = password or "e2e-" + secrets.token_urlsafe(12)
    args = ["users", "add", "--email", email, "--password", password, "--level", level]
    for name, value in PERSON.items():
        args += [f"--{name.replace('_', '-')}", value]
    person = json.loads(served.cli(*args))
    served.email, served.password = email, password
    return person


def start(served: ServedProvider, *, access_log_format: str | None = None, gunicorn_args: list[str] | None = None,
          timeout: float = 30) -> ServedProvider:
    """Serve with gunicorn exactly as ``idp serve`` does, and wait (bounded) until discovery answers.

    ``gunicorn_args`` replaces the app argument (``idp.wsgi:app``),
    for experiments only: e.g. ``["--worker-class", "gthread", "--threads", "4", "idp.wsgi:app"]``.
    """
    served.log_path = os.path.join(served.directory, "gunicorn.log")
    args = [PYTHON, "-m", "gunicorn", "--bind", f"127.0.0.1:{served.port}", "--workers", str(served.workers),
            "--limit-request-line", "8190"]  # as idp serve (idp.cli.GUNICORN_LIMITS)
    if gunicorn_args:
        args += list(gunicorn_args)
    elif access_log_format:
        # The same server, with the access log in a file whose lines name the worker pid (%(p)s).
        served.access_log = os.path.join(served.directory, "access.log")
        args += ["--access-logfile", served.access_log, "--access-logformat", access_log_format, "idp.wsgi:app"]
    else:
        args += ["idp.wsgi:app"]  # as `idp serve` does by default (IDP_ACCESS_LOG unset)
    log = open(served.log_path, "ab")
    try:
        # Its own session, so stop() can end exactly this master and its workers.
        served.process = subprocess.Popen(args, env=served.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
    finally:
        log.close()
    discovery = served.url("/.well-known/openid-configuration")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise ServeError(f"gunicorn exited with {served.process.returncode}:\n{served.logs()}")
        try:
            response = requests.get(discovery, timeout=2)
            if response.status_code == 200 and len(served.worker_pids()) >= served.workers:
                return served
        except requests.RequestException:
            pass
        time.sleep(0.1)
    served.stop()
    raise ServeError(f"the provider did not answer {discovery} within {timeout} s:\n{served.logs()}")


@contextlib.contextmanager
def served_provider(*, workers: int | None = None, directory: str | None = None, refresh_tokens: bool = True,
                    access_log_format: str | None = None, gunicorn_args: list[str] | None = None,
                    client_id: str = "e2e", keep: bool = False):
    """A served provider with one registered client and one P9 person; stopped and removed afterwards."""
    own_dir = directory is None
    served = prepare(directory, workers=workers)
    try:
        register_client(served, client_id=client_id, refresh_tokens=refresh_tokens)
        add_person(served)
        start(served, access_log_format=access_log_format, gunicorn_args=gunicorn_args)
        yield served
    finally:
        served.stop()
        if own_dir and not keep:
            shutil.rmtree(served.directory, ignore_errors=True)


# --- the browser --------------------------------------------------------------------------------
_CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"|value="([^"]+)"[^>]*?name="csrf_token"')


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    if not match:
        raise ServeError("no csrf_token on the page")
    return match.group(1) or match.group(2)


def browse_to_callback(browser: requests.Session, base_url: str, authorize_url: str, *, email: str, password: str,
                       redirect_uri: str, max_steps: int = 10, timeout: float = 10) -> str:
    """Play a person in a browser from /authorize to the redirect back to the client; returns that URL.

    Logs in and consents when the provider asks; stops (without following) at the client's redirect_uri.
    """
    response = browser.get(authorize_url, allow_redirects=False, timeout=timeout)
    for _ in range(max_steps):
        if response.status_code not in (301, 302, 303):
            raise ServeError(f"expected a redirect, got {response.status_code}: {response.text[:300]}")
        location = urljoin(response.url, response.headers["Location"])
        if location.startswith(redirect_uri):
            return location
        if not location.startswith(base_url):
            raise ServeError(f"redirected somewhere unexpected: {location}")
        page = browser.get(location, allow_redirects=False, timeout=timeout)
        path = location[len(base_url):]
        if path.startswith("/login") and page.status_code == 200:
            response = browser.post(location, data={"email": email, "password": password,
                                                    "csrf_token": csrf_token(page.text)},
                                    allow_redirects=False, timeout=timeout)
        elif path.startswith("/consent") and page.status_code == 200:
            response = browser.post(location, data={"decision": "allow", "csrf_token": csrf_token(page.text)},
                                    allow_redirects=False, timeout=timeout)
        else:
            response = page
    raise ServeError("too many redirects inside the provider")


if __name__ == "__main__":  # a quick manual check: start, print, stop
    with served_provider(workers=int(sys.argv[1]) if len(sys.argv) > 1 else 2) as p:
        print(json.dumps({"base_url": p.base_url, "client_id": p.client_id, "email": p.email,
                          "master": p.master_pid, "workers": p.worker_pids(), "cpu": p.server_cpu_seconds()}))
