"""Benchmark: a returning person's single sign-on, against the provider served as `make run` serves it.

One flow = what a relying party and a browser do when a person who is already
logged in (and has already consented) comes back to a service:

    GET  /authorize   with the session cookie       -> 302 to the redirect_uri with a code (no pages)
    POST /token       code + PKCE verifier, private_key_jwt (a fresh RS512 assertion every time)
    GET  /userinfo    with the access token

Each virtual user has its own browser (``requests.Session`` with cookies) and logs in
and consents once before anything is measured. Levels of concurrency run one after
the other, each for a bounded time and number of flows. Reported per level: completed
flows per second, p50/p95/p99 latency of each step and of the whole flow, and the
server's CPU milliseconds per flow (gunicorn master + workers, from /proc), plus the
load generator's own CPU per flow, because both share the same cores.

    .venv/bin/python benchmarks/sso_flow.py                       # starts its own served provider
    .venv/bin/python benchmarks/sso_flow.py --concurrency 1,4,16 --duration 10 --json out.json
    .venv/bin/python benchmarks/sso_flow.py --url http://127.0.0.1:5000 --client-id demo-rp \\
        --key keys/demo-rp-private.pem --redirect-uri http://localhost:5001/callback \\
        --email p9@example.com --password demo-password-123 [--server-pid <gunicorn master pid>]

All traffic goes to the provider's URL (127.0.0.1 by default); every loop is bounded by count and time.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import multiprocessing as mp
import os
import platform
import secrets
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import requests  # noqa: E402
from joserfc import jwt  # noqa: E402
from joserfc.jwk import RSAKey  # noqa: E402

from benchmarks.served import browse_to_callback, served_provider, system_busy_seconds, tree_cpu_seconds  # noqa: E402

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
STEPS = ("authorize", "token", "userinfo", "flow")
HTTP_TIMEOUT = 10


@dataclass
class Target:
    """What a virtual user needs to know about the provider and the client (picklable)."""

    base_url: str
    client_id: str
    private_key_pem: bytes
    redirect_uri: str
    email: str
    password: str
    scope: str
    vtr: str
    authorization_endpoint: str = ""
    token_endpoint: str = ""
    userinfo_endpoint: str = ""

    def discover(self) -> None:
        doc = requests.get(self.base_url + "/.well-known/openid-configuration", timeout=HTTP_TIMEOUT).json()
        self.authorization_endpoint = doc["authorization_endpoint"]
        self.token_endpoint = doc["token_endpoint"]
        self.userinfo_endpoint = doc["userinfo_endpoint"]


class FlowError(RuntimeError):
    pass


class VirtualUser:
    """One person in one browser, and the relying party they come back to."""

    def __init__(self, target: Target):
        self.t = target
        self.browser = requests.Session()  # the person's browser: carries the provider's session cookie
        self.rp = requests.Session()  # the relying party's back channel
        self.key = RSAKey.import_key(target.private_key_pem)

    def _authorize_url(self) -> tuple[str, str]:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        params = {
            "response_type": "code", "client_id": self.t.client_id, "redirect_uri": self.t.redirect_uri,
            "scope": self.t.scope, "state": secrets.token_urlsafe(12), "nonce": secrets.token_urlsafe(12),
            "code_challenge": challenge, "code_challenge_method": "S256", "vtr": self.t.vtr,
        }
        return self.t.authorization_endpoint + "?" + urlencode(params), verifier

    def assertion(self) -> str:
        now = int(time.time())
        claims = {"iss": self.t.client_id, "sub": self.t.client_id, "aud": self.t.token_endpoint,
                  "jti": str(uuid.uuid4()), "iat": now, "exp": now + 60}
        return jwt.encode({"alg": "RS512"}, claims, self.key, algorithms=["RS512"])

    def setup(self) -> None:
        """Log in and consent once (not measured), then check that a flow needs no pages."""
        url, _ = self._authorize_url()
        callback = browse_to_callback(self.browser, self.t.base_url, url, email=self.t.email, password=self.t.password,
                                      redirect_uri=self.t.redirect_uri)
        if "code" not in parse_qs(urlsplit(callback).query):
            raise FlowError(f"setup: no code in {callback}")
        self.flow()

    def flow(self) -> tuple[float, float, float, float]:
        """One single sign-on; returns the seconds of (authorize, token, userinfo, whole flow)."""
        start = time.perf_counter()
        url, verifier = self._authorize_url()
        t0 = time.perf_counter()
        response = self.browser.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)
        t1 = time.perf_counter()
        target = response.headers.get("Location", "")
        if response.status_code != 302 or not target.startswith(self.t.redirect_uri + "?"):
            raise FlowError(f"authorize: {response.status_code} {target[:120] or response.text[:120]}")
        params = parse_qs(urlsplit(target).query)
        if "code" not in params:
            raise FlowError(f"authorize: {target[:160]}")
        form = {
            "grant_type": "authorization_code", "code": params["code"][0], "redirect_uri": self.t.redirect_uri,
            "code_verifier": verifier, "client_assertion_type": ASSERTION_TYPE, "client_assertion": self.assertion(),
        }
        t2 = time.perf_counter()
        response = self.rp.post(self.t.token_endpoint, data=form, timeout=HTTP_TIMEOUT)
        t3 = time.perf_counter()
        if response.status_code != 200:
            raise FlowError(f"token: {response.status_code} {response.text[:160]}")
        access_token = response.json()["access_token"]
        t4 = time.perf_counter()
        response = self.rp.get(self.t.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"},
                               timeout=HTTP_TIMEOUT)
        t5 = time.perf_counter()
        if response.status_code != 200:
            raise FlowError(f"userinfo: {response.status_code} {response.text[:160]}")
        return t1 - t0, t3 - t2, t5 - t4, t5 - start


@dataclass
class Samples:
    latencies: list = field(default_factory=list)  # (authorize, token, userinfo, flow) per completed flow
    errors: int = 0
    first_errors: list = field(default_factory=list)
    first_start: float = math.inf
    last_end: float = 0.0
    client_cpu: float = 0.0
    system_busy: float = 0.0  # every core's non-idle time during the run, whoever used it

    def merge(self, other: "Samples") -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.first_errors += other.first_errors[: max(0, 5 - len(self.first_errors))]
        self.first_start = min(self.first_start, other.first_start)
        self.last_end = max(self.last_end, other.last_end)
        self.client_cpu += other.client_cpu


def run_flows(user: VirtualUser, until: float, max_flows: int, samples: Samples, record: bool = True) -> None:
    """Flows one after another until the monotonic deadline or the count; bounded both ways."""
    done = 0
    while done < max_flows and time.monotonic() < until:
        began = time.monotonic()
        try:
            result = user.flow()
        except (FlowError, requests.RequestException, ValueError, KeyError) as exc:
            samples.errors += 1
            if len(samples.first_errors) < 5:
                samples.first_errors.append(str(exc)[:200])
            done += 1
            continue
        done += 1
        if record:
            samples.first_start = min(samples.first_start, began)
            samples.last_end = time.monotonic()
            samples.latencies.append(result)


def _cpu_self() -> float:
    t = os.times()
    return t.user + t.system


# --- processes: one virtual user per process (no GIL shared between virtual users) ---------------------
def _process_user(target: Target, warmup: float, max_flows: int, ready, go_warm, warm_done, go, deadline, out) -> None:
    try:
        user = VirtualUser(target)
        user.setup()
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which stops the run
        ready.put(f"setup failed: {exc}")
        return
    ready.put("ready")
    if not go_warm.wait(120):
        return
    run_flows(user, time.monotonic() + warmup, max_flows, Samples(), record=False)
    warm_done.put("warm")
    if not go.wait(120):
        return
    samples = Samples()
    cpu0 = _cpu_self()
    run_flows(user, deadline.value, max_flows, samples)
    samples.client_cpu = _cpu_self() - cpu0
    out.put(samples)


def _collect(queue, procs, timeout: float) -> list:
    """One message from every process, within ``timeout``; fails early if a process died without sending it."""
    messages, deadline = [], time.monotonic() + timeout
    while len(messages) < len(procs):
        if time.monotonic() > deadline:
            raise SystemExit(f"load generator: only {len(messages)} of {len(procs)} processes answered in {timeout:g} s")
        try:
            messages.append(queue.get(timeout=0.5))
        except Exception:  # noqa: BLE001 - queue.Empty
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise SystemExit(f"load generator: {len(dead)} processes died (exit code {dead[0].exitcode})") from None
    return messages


def run_level_processes(target: Target, concurrency: int, duration: float, max_flows: int, warmup: float,
                        server_cpu) -> tuple[Samples, float]:
    ctx = mp.get_context("spawn")
    ready, warm_done, out = ctx.Queue(), ctx.Queue(), ctx.Queue()
    go_warm, go = ctx.Event(), ctx.Event()
    deadline = ctx.Value("d", 0.0)
    share = max(1, math.ceil(max_flows / concurrency))
    procs = [ctx.Process(target=_process_user, args=(target, warmup, share, ready, go_warm, warm_done, go, deadline, out),
                         daemon=True) for _ in range(concurrency)]
    for p in procs:
        p.start()
    try:
        for message in _collect(ready, procs, 120):
            if message != "ready":
                raise SystemExit(message)
        go_warm.set()
        _collect(warm_done, procs, warmup + 60)
        cpu0, busy0 = server_cpu(), system_busy_seconds()
        deadline.value = time.monotonic() + duration
        go.set()
        samples = Samples()
        for part in _collect(out, procs, duration + 60):
            samples.merge(part)
        cpu1, busy1 = server_cpu(), system_busy_seconds()
        samples.system_busy = busy1 - busy0
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.terminate()  # only the load-generating processes this run started
                p.join(5)
    return samples, cpu1 - cpu0


# --- threads: all virtual users in this process ----------------------------------------------------
def run_level_threads(target: Target, concurrency: int, duration: float, max_flows: int, warmup: float,
                      server_cpu) -> tuple[Samples, float]:
    users = [VirtualUser(target) for _ in range(concurrency)]
    for user in users:
        user.setup()
    share = max(1, math.ceil(max_flows / concurrency))

    def phase(until: float, record: bool) -> list[Samples]:
        results = [Samples() for _ in users]
        threads = [threading.Thread(target=run_flows, args=(u, until, share, s, record)) for u, s in zip(users, results)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(until - time.monotonic() + 60)
        return results

    phase(time.monotonic() + warmup, record=False)
    cpu0, client0, busy0 = server_cpu(), _cpu_self(), system_busy_seconds()
    results = phase(time.monotonic() + duration, record=True)
    cpu1, client1, busy1 = server_cpu(), _cpu_self(), system_busy_seconds()
    samples = Samples()
    for s in results:
        samples.merge(s)
    samples.client_cpu = client1 - client0
    samples.system_busy = busy1 - busy0
    return samples, cpu1 - cpu0


# --- reporting -------------------------------------------------------------------------------------
def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarise(concurrency: int, mode: str, samples: Samples, server_cpu_s: float | None, cores: int) -> dict:
    flows = len(samples.latencies)
    wall = samples.last_end - samples.first_start if flows else 0.0
    result = {
        "concurrency": concurrency, "mode": mode, "flows": flows, "errors": samples.errors,
        "first_errors": samples.first_errors, "seconds": round(wall, 3),
        "flows_per_second": round(flows / wall, 1) if wall > 0 else 0.0,
        "latency_ms": {},
        "server_cpu_ms_per_flow": round(server_cpu_s * 1000 / flows, 2) if server_cpu_s is not None and flows else None,
        "client_cpu_ms_per_flow": round(samples.client_cpu * 1000 / flows, 2) if flows else None,
    }
    for i, step in enumerate(STEPS):
        values = sorted(s[i] * 1000 for s in samples.latencies)
        result["latency_ms"][step] = {f"p{q}": round(percentile(values, q), 1) for q in (50, 95, 99)}
    if wall > 0 and server_cpu_s is not None:
        result["server_cores_busy"] = round(server_cpu_s / wall, 2)
    if wall > 0:
        result["client_cores_busy"] = round(samples.client_cpu / wall, 2)
        result["all_cores_busy"] = round(samples.system_busy / wall, 2)
        if server_cpu_s is not None:
            # What neither the provider nor the load generator used: other processes on the machine.
            result["other_cores_busy"] = round(max(0.0, samples.system_busy - samples.client_cpu - server_cpu_s) / wall, 2)
    result["cores"] = cores
    return result


def print_table(results: list[dict]) -> None:
    head = (f"{'conc':>4} {'mode':<9} {'flows':>6} {'err':>4} {'flows/s':>8} "
            + " ".join(f"{step + ' p50/p95/p99 ms':>26}" for step in STEPS)
            + f" {'srv CPU ms/flow':>15} {'cli CPU ms/flow':>15} {'cores srv/cli/other':>19}")
    print(head)
    print("-" * len(head))
    for r in results:
        lat = " ".join(
            f"{'/'.join(format(r['latency_ms'][s][f'p{q}'], '.1f') for q in (50, 95, 99)):>26}" for s in STEPS
        )
        srv = "n/a" if r["server_cpu_ms_per_flow"] is None else f"{r['server_cpu_ms_per_flow']:.2f}"
        cores = "/".join(f"{r.get(k, float('nan')):.2f}" for k in ("server_cores_busy", "client_cores_busy", "other_cores_busy"))
        print(f"{r['concurrency']:>4} {r['mode']:<9} {r['flows']:>6} {r['errors']:>4} {r['flows_per_second']:>8.1f} "
              f"{lat} {srv:>15} {r['client_cpu_ms_per_flow'] or 0:>15.2f} {cores:>19}")
    for r in results:
        if r["first_errors"]:
            print(f"  concurrency {r['concurrency']}: first errors: {r['first_errors']}")


def run_all(target: Target, args, server_cpu, meta: dict) -> list[dict]:
    target.discover()
    cores = os.cpu_count() or 1
    results = []
    for level in args.concurrency:
        runner = run_level_processes if args.mode == "processes" else run_level_threads
        samples, cpu = runner(target, level, args.duration, args.max_flows, args.warmup, server_cpu)
        summary = summarise(level, args.mode, samples, cpu if server_cpu is not _no_cpu else None, cores)
        results.append(summary)
        print(f"  concurrency {level}: {summary['flows']} flows, {summary['flows_per_second']} flows/s, "
              f"{summary['errors']} errors", file=sys.stderr, flush=True)
    print()
    print(f"{meta['server']}; load generator: {args.mode}; {cores} cores; "
          f"{args.duration:g} s or {args.max_flows} flows per level, after {args.warmup:g} s warm-up")
    print_table(results)
    return results


def _no_cpu() -> float:
    return 0.0


def cpu_breakdown(target: Target, count: int, server_cpu) -> list[dict]:
    """Server CPU per request of each step, one request at a time (concurrency 1), ``count`` of each.

    /token cannot run without a fresh code, so its cost is a whole flow minus /authorize and /userinfo.
    /trustmark (a small JSON document, no database) shows the cost of any request on this stack.
    """
    target.discover()
    user = VirtualUser(target)
    user.setup()
    url, verifier = user._authorize_url()
    code = parse_qs(urlsplit(user.browser.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT).headers["Location"]).query)["code"][0]
    access_token = user.rp.post(target.token_endpoint, timeout=HTTP_TIMEOUT, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": target.redirect_uri, "code_verifier": verifier,
        "client_assertion_type": ASSERTION_TYPE, "client_assertion": user.assertion()}).json()["access_token"]

    def trustmark():
        user.rp.get(target.base_url + "/trustmark", timeout=HTTP_TIMEOUT).raise_for_status()

    def authorize():
        response = user.browser.get(user._authorize_url()[0], allow_redirects=False, timeout=HTTP_TIMEOUT)
        if "code=" not in response.headers.get("Location", ""):
            raise FlowError(f"authorize: {response.status_code}")

    def userinfo():
        user.rp.get(target.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"},
                    timeout=HTTP_TIMEOUT).raise_for_status()

    measured = {}
    for name, fn in (("GET /trustmark", trustmark), ("GET /authorize", authorize), ("GET /userinfo", userinfo),
                     ("whole flow", user.flow)):
        for _ in range(min(20, count)):  # warm this code path in every worker
            fn()
        cpu0, started = server_cpu(), time.perf_counter()
        for _ in range(count):
            fn()
        measured[name] = ((server_cpu() - cpu0) * 1000 / count, (time.perf_counter() - started) * 1000 / count)
    flow_cpu, flow_wall = measured["whole flow"]
    measured["POST /token (flow - authorize - userinfo)"] = (
        flow_cpu - measured["GET /authorize"][0] - measured["GET /userinfo"][0],
        flow_wall - measured["GET /authorize"][1] - measured["GET /userinfo"][1],
    )
    rows = [{"step": k, "server_cpu_ms": round(v[0], 2), "wall_ms": round(v[1], 2)} for k, v in measured.items()]
    print(f"\nserver CPU per request, one at a time, {count} of each")
    print(f"{'step':<44} {'server CPU ms':>13} {'wall ms':>8}")
    for row in rows:
        print(f"{row['step']:<44} {row['server_cpu_ms']:>13.2f} {row['wall_ms']:>8.2f}")
    return rows


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="an already-running provider (then --client-id, --key, --email, --password are needed)")
    p.add_argument("--client-id")
    p.add_argument("--key", help="PEM file of the client's private key (private_key_jwt, RS512)")
    p.add_argument("--redirect-uri", help="with --url: the client's registered redirect URI")
    p.add_argument("--email")
    p.add_argument("--password")
    p.add_argument("--server-pid", type=int, help="with --url: the gunicorn master's pid, to measure server CPU")
    p.add_argument("--scope", default="openid profile email")
    p.add_argument("--vtr", default='["P9.Cp"]')
    p.add_argument("--workers", type=int, default=None, help="gunicorn workers of the provider started here (default 2 x cores)")
    p.add_argument("--concurrency", default="1,4,16", help="comma-separated levels (default 1,4,16)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds measured per level (default 10)")
    p.add_argument("--max-flows", type=int, default=20000, help="at most this many flows per level (default 20000)")
    p.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per level before measuring (default 2)")
    p.add_argument("--mode", choices=("processes", "threads"), default="processes",
                   help="one process per virtual user (default) or threads in one process")
    p.add_argument("--gunicorn-args", default=None,
                   help="experiments only: replace 'idp.wsgi:app' for the provider started here, "
                        "e.g. \"--worker-class gthread --threads 4 idp.wsgi:app\" (the default is what make run does)")
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--cpu-breakdown", type=int, default=0, metavar="N",
                   help="first measure server CPU per step, N requests of each, one at a time (needs the server pid)")
    args = p.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if not args.concurrency or min(args.concurrency) < 1 or max(args.concurrency) > 256:
        p.error("--concurrency levels must be between 1 and 256")
    if not (0 <= args.cpu_breakdown <= 10000):
        p.error("--cpu-breakdown must be between 0 and 10000")
    if not (0 < args.duration <= 600) or not (0 <= args.warmup <= 60) or not (1 <= args.max_flows <= 1_000_000):
        p.error("--duration must be in (0, 600], --warmup in [0, 60], --max-flows in [1, 1000000]")
    if args.url and not all((args.client_id, args.key, args.email, args.password)):
        p.error("--url needs --client-id, --key, --email and --password")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    meta = {"load_average_at_start": os.getloadavg(), "python": platform.python_version(), "platform": platform.platform(), "cores": os.cpu_count(),
            "mode": args.mode, "duration": args.duration, "warmup": args.warmup, "max_flows": args.max_flows}
    if args.url:
        with open(args.key, "rb") as fh:
            key = fh.read()
        if not args.redirect_uri:
            raise SystemExit("--redirect-uri is needed with --url")
        target = Target(args.url.rstrip("/"), args.client_id, key, args.redirect_uri, args.email, args.password,
                        args.scope, args.vtr)
        server_cpu = (lambda: tree_cpu_seconds(args.server_pid)) if args.server_pid else _no_cpu
        meta["server"] = f"provider at {target.base_url}"
        if args.cpu_breakdown and args.server_pid:
            meta["cpu_breakdown"] = cpu_breakdown(target, args.cpu_breakdown, server_cpu)
        results = run_all(target, args, server_cpu, meta)
    else:
        workers = args.workers or (os.cpu_count() or 1) * 2
        print(f"starting a served provider (gunicorn idp.wsgi:app, {workers} workers, SQLite) ...", file=sys.stderr, flush=True)
        extra = args.gunicorn_args.split() if args.gunicorn_args else None
        with served_provider(workers=workers, refresh_tokens=False, client_id="bench", gunicorn_args=extra) as served:
            target = Target(served.base_url, served.client_id, served.private_key_pem, served.redirect_uri,
                            served.email, served.password, args.scope, args.vtr)
            how = f"gunicorn {args.gunicorn_args}" if extra else "gunicorn idp.wsgi:app (as make run)"
            meta["server"] = f"{how}, {workers} workers, SQLite, {served.base_url}"
            meta["workers"] = workers
            if args.cpu_breakdown:
                meta["cpu_breakdown"] = cpu_breakdown(target, args.cpu_breakdown, served.server_cpu_seconds)
            results = run_all(target, args, served.server_cpu_seconds, meta)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"meta": meta, "results": results}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
