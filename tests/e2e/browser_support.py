"""What the browser tests need: the provider and the demo relying party served side by side, Chromium, axe-core.

* ``serve_stack()`` serves the provider (gunicorn, as ``idp serve`` does) on http://localhost:P, an issuer with a
  host name so that passkeys work (the WebAuthn RP ID is the issuer's host), and the demo RP
  (clients/demo_rp, as scripts/serve.sh serves it) on http://localhost:R, registered from
  clients/demo-rp.json moved to that port with a key of its own. Both on free ports, in a temporary directory.
* ``Stack.next_code(address)`` reads the newest security code sent to an address from the development
  outbox of the served database, as tests/support.py's ``last_code`` does in process; ``templates_sent``
  the templates of the messages sent to an address.
* ``Stack.add_staff(email, role...)`` runs `idp staff add` on the served database and returns the set-up link.
* ``Stack.add_provisioning_client(public_pem, ods_code...)`` runs `idp clients add --provisioning` there and returns
  the client_id; ``Stack.links_sent(address, prefix)`` the links starting with ``prefix`` in the messages sent to it.
* ``launch_chromium()`` starts Debian's Chromium (scripts/install-browser.sh) through Playwright; a Chromium that
  is missing or does not start is a failure that says how to install it, never a skip.
* ``Axe`` injects node_modules/axe-core/axe.min.js (scripts/install-frontend.sh) and fails on any WCAG 2.2 AA
  violation with one readable line per offending element (less two findings on NHS.UK frontend's file upload
  and conditional radios, each checked another way: see ``FILE_UPLOAD_BUTTON``).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import pytest
import requests

from benchmarks.served import PYTHON, ROOT, ServedProvider, free_port, rsa_key_pair, start

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
AXE_JS = os.path.join(ROOT, "node_modules", "axe-core", "axe.min.js")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SYNTHETIC_PDS = os.path.join(ROOT, "idp", "proofing", "data", "synthetic-pds.ndjson")
INSTALL_HINT = "install it with `make browser` (bash scripts/install-browser.sh: Debian's chromium package)"
# As the machine notes have it: no sandbox as root, and none of Chromium's own calls to the outside world.
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-dev-shm-usage"]
CODE = re.compile(r"(?<!\d)\d(?: ?\d){5}(?!\d)")


# --- the provider and the demo RP -------------------------------------------------------------------
@dataclass
class Stack:
    provider: ServedProvider
    rp_url: str
    rp_process: subprocess.Popen | None = None
    rp_log: str = ""
    app: object = None  # an in-process app on the served database: people and the outbox
    _codes_read: dict = field(default_factory=dict)

    @property
    def idp_url(self) -> str:
        return self.provider.base_url

    def add_person(self, email: str, password: str, phone: str | None = None, level: str = "P0"):
        from idp.people import add_test_person

        with self.app.app_context():
            add_test_person(self.app.extensions["idp"].settings, email=email, password=password, phone=phone,
                            level=level)

    def messages_to(self, to: str) -> int:
        """How many messages have been sent to ``to`` (delivered or still queued)."""
        from idp.extensions import db
        from idp.models import OutboundMessage

        with self.app.app_context():
            try:
                return OutboundMessage.query.filter(OutboundMessage.to_address == to).count()
            finally:
                db.session.remove()

    def codes(self, to: str) -> list[str]:
        """The codes in the messages sent to ``to`` (delivered by the provider's job workers), oldest first."""
        from idp.extensions import db
        from idp.notifications.adapters.outbox import read

        with self.app.app_context():
            try:
                entries = read(self.app.extensions["idp"].settings.secret_key, to=to)
            finally:
                db.session.remove()
        return [m.group(0).replace(" ", "") for m in (CODE.search(e.body) for e in entries if e.body) if m]

    def next_code(self, to: str, timeout: float = 10) -> str:
        """The code of the next message to ``to`` that this test run has not read yet (waits for delivery)."""
        seen = self._codes_read.get(to, 0)
        deadline = time.monotonic() + timeout
        while len(codes := self.codes(to)) <= seen:
            if time.monotonic() > deadline:
                raise AssertionError(f"no new security code was sent to {to} within {timeout} s "
                                     f"(outbox has {len(codes)}); provider log:\n{self.provider.logs()}")
            time.sleep(0.1)
        self._codes_read[to] = len(codes)
        return codes[-1]

    def templates_sent(self, to: str) -> list[str]:
        """The templates of the messages sent to ``to`` (``photo_id_received``...), oldest first."""
        from idp.extensions import db
        from idp.notifications.adapters.outbox import read

        with self.app.app_context():
            try:
                return [entry.template for entry in read(self.app.extensions["idp"].settings.secret_key, to=to)]
            finally:
                db.session.remove()

    def add_staff(self, email: str, *roles: str) -> str:
        """`idp staff add --email ... --role ...` on the served database; returns the one-time set-up link."""
        from idp.extensions import db

        args = ["staff", "add", "--email", email] + [arg for role in roles for arg in ("--role", role)]
        try:
            result = self.app.test_cli_runner().invoke(args=args)
        finally:
            with self.app.app_context():
                db.session.remove()
        found = re.search(r"set-up link \(valid 72 hours, once\): (\S+)", result.output)
        if result.exit_code != 0 or found is None:
            raise AssertionError(f"`idp {' '.join(args)}` failed ({result.exit_code}): {result.output}")
        return found.group(1)

    def add_provisioning_client(self, public_pem: bytes, *ods_codes: str, name: str = "Practice system") -> str:
        """`idp clients add --provisioning --ods-code ... --public-key FILE` on the served database: a staff system
        that may call the provisioning API for those organisations; returns its client_id."""
        from idp.extensions import db

        path = os.path.join(self.provider.directory, f"provisioning-{len(os.listdir(self.provider.directory))}.pem")
        with open(path, "wb") as fh:
            fh.write(public_pem)
        args = ["clients", "add", "--name", name, "--provisioning", "--public-key", path]
        args += [arg for code in ods_codes for arg in ("--ods-code", code)]
        try:
            result = self.app.test_cli_runner().invoke(args=args)
        finally:
            with self.app.app_context():
                db.session.remove()
        if result.exit_code != 0:
            raise AssertionError(f"`idp {' '.join(args)}` failed ({result.exit_code}): {result.output}")
        return json.loads(result.output)["client_id"]

    def links_sent(self, to: str, prefix: str, timeout: float = 10) -> list[str]:
        """The links starting with ``prefix`` in the messages sent to ``to``, oldest first (waits for at least one)."""
        from idp.extensions import db
        from idp.notifications.adapters.outbox import read

        pattern = re.compile(re.escape(prefix) + r"[^\s)]*")
        deadline = time.monotonic() + timeout
        while True:
            with self.app.app_context():
                try:
                    entries = read(self.app.extensions["idp"].settings.secret_key, to=to)
                finally:
                    db.session.remove()
            links = [m.group(0) for e in entries if e.body for m in pattern.finditer(e.body)]
            if links or time.monotonic() > deadline:
                return links
            time.sleep(0.1)

    def stop(self) -> None:
        proc, self.rp_process = self.rp_process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # its own session: this gunicorn only
                proc.wait(timeout=5)
        self.provider.stop()
        if self.app is not None:
            from idp.jobs import stop_worker

            stop_worker(self.app)
            with self.app.app_context():
                from idp.extensions import db

                db.session.remove()
                db.engine.dispose()


def _register_demo_rp(stack: Stack) -> str:
    """clients/demo-rp.json as `idp demo load` registers it (every URI moved to the demo RP's URL, through
    `idp clients sync`'s code), with a fresh key pair; returns the private key's path for the demo RP."""
    from idp.clients_sync import sync_directory
    from idp.demo import at_base_url

    directory = stack.provider.directory
    private, public = rsa_key_pair()
    clients = os.path.join(directory, "clients")
    os.makedirs(clients)
    private_path = os.path.join(directory, "demo-rp-private.pem")
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private)
    with open(os.path.join(clients, "demo-rp-public.pem"), "wb") as fh:
        fh.write(public)
    with open(os.path.join(ROOT, "clients", "demo-rp.json")) as fh:
        registration = at_base_url(json.load(fh), stack.rp_url)
    registration["public_key_file"] = "demo-rp-public.pem"
    with open(os.path.join(clients, "demo-rp.json"), "w") as fh:
        json.dump(registration, fh)
    lines = sync_directory(clients, development=True)
    if lines != ["created demo-rp from demo-rp.json"]:
        raise RuntimeError(f"the demo RP was not registered: {lines}")
    return private_path


def _prepare(stack: Stack) -> str:
    """What `make run` does before serving (`idp db upgrade`, `idp keys init`, the demo client, and
    `idp pds load idp/proofing/data/synthetic-pds.ndjson` for the proofing pages), done in this process (each
    `idp` command would start the app again, seconds each); returns the demo RP's key path."""
    from flask_migrate import upgrade

    from idp import create_app
    from idp.config import Settings

    settings = Settings.from_env(stack.provider.env, instance_path=stack.provider.directory)
    stack.app = create_app(settings=settings)
    with stack.app.app_context():
        from idp.extensions import db

        upgrade()
        stack.app.extensions["idp"].keystore.ensure_keys(development=True)
        private_key = _register_demo_rp(stack)
        from idp.proofing.pds.synthetic import load

        load(SYNTHETIC_PDS)  # the people and GP online accounts that the proofing journeys match
        db.session.remove()
    return private_key


def _start_demo_rp(stack: Stack, private_key: str, port: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_", "DEMO_RP_"))}
    env.update({"DEMO_RP_ISSUER": stack.idp_url, "DEMO_RP_BASE_URL": stack.rp_url, "DEMO_RP_PRIVATE_KEY": private_key,
                "DEMO_RP_CLIENT_ID": "demo-rp"})
    stack.rp_log = os.path.join(stack.provider.directory, "demo-rp.log")
    with open(stack.rp_log, "ab") as log:
        # As scripts/serve.sh: one worker (the demo keeps its sessions in memory), four threads.
        stack.rp_process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
             "--log-level", "warning", "clients.demo_rp.app:create_app()"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)


def _wait_for_demo_rp(stack: Stack, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and stack.rp_process.poll() is None:
        with contextlib.suppress(requests.RequestException):
            if requests.get(stack.rp_url + "/", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    with open(stack.rp_log) as fh:
        raise RuntimeError(f"the demo RP did not answer {stack.rp_url} within {timeout} s:\n{fh.read()[-3000:]}")


@contextlib.contextmanager
def serve_stack(workers: int = 2):
    idp_port, rp_port = free_port(), free_port()
    idp_url, rp_url = f"http://localhost:{idp_port}", f"http://localhost:{rp_port}"
    directory = tempfile.mkdtemp(prefix="idp-browser-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IDP_", "FLASK_"))}
    env.update({
        "IDP_DATABASE_URL": f"sqlite:///{os.path.join(directory, 'idp.sqlite3')}", "IDP_INSTANCE_PATH": directory,
        "IDP_ISSUER": idp_url, "PORT": str(idp_port), "IDP_ENV": "development",
        # The fast argon2 profile (real hashing, cheap parameters; development only) keeps each login quick.
        "IDP_PASSWORD_HASH_PROFILE": "fast",
    })
    provider = ServedProvider(base_url=idp_url, port=idp_port, workers=workers, directory=directory, env=env)
    stack = Stack(provider=provider, rp_url=rp_url)
    try:
        private_key = _prepare(stack)
        _start_demo_rp(stack, private_key, rp_port)  # starts while the provider does
        start(provider)
        _wait_for_demo_rp(stack)
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(directory, ignore_errors=True)


# --- Chromium ----------------------------------------------------------------------------------------
def launch_chromium(playwright):
    """Debian's Chromium, headless; a failure (not a skip) with the way to install it when it cannot start."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium not found at {CHROMIUM}: {INSTALL_HINT}, or set CHROMIUM to a Chromium binary",
                    pytrace=False)
    args = list(CHROMIUM_ARGS) + (["--no-sandbox"] if os.geteuid() == 0 else [])
    try:
        return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=args, timeout=30_000)
    except Exception as error:  # Playwright's Error, with Chromium's own output at its end
        lines = str(error).splitlines()
        reason = "\n".join(lines[:1] + [line for line in lines[1:] if not line.lstrip(" -").startswith("<launch")][-12:])
    pytest.fail(f"Chromium at {CHROMIUM} did not start ({INSTALL_HINT}):\n{reason}", pytrace=False)


# --- axe-core ----------------------------------------------------------------------------------------
def axe_source() -> str:
    if not os.path.isfile(AXE_JS):
        pytest.fail(f"{AXE_JS} not found: run `make assets` (scripts/install-frontend.sh installs axe-core "
                    "from package-lock.json)", pytrace=False)
    return AXE_JS


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} axe-core violation(s) of WCAG 2.2 AA on {url}:"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']} "
                     f"[{', '.join(t for t in violation['tags'] if t.startswith('wcag'))}] {violation['helpUrl']}")
        for node in violation["nodes"]:
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            if summary:
                lines.append(f"      {summary[:400]}")
    return "\n".join(lines)


# Two findings of axe-core 4.14 come from NHS.UK frontend's own JavaScript (nhsuk-frontend 10.6, after GOV.UK
# Frontend) and are dropped, each only where the component is what it should be; every other finding stays.
#
# 1. The file upload replaces the file input with a <button> labelled by aria-labelledby="<label> <hidden comma>
#    <the button itself>", so its name is the label, then its own text. label-content-name-mismatch joins the
#    button's visible texts with no space between the status span and the next one ("No file chosenChoose file
#    or drop file") and so finds them absent from a name that holds them both ("Photo of your ID , No file
#    chosen , Choose file or drop file" in Chromium): a false positive. Dropped only when WCAG 2.5.3 (Label in
#    Name) holds on the accessible name Chromium itself computes: every visible text of the button is in it.
# 2. A radio that conditionally reveals more questions gets aria-expanded (nhsuk-frontend common/index.mjs),
#    which ARIA 1.2 does not list for the radio role (aria-allowed-attr). The design systems keep it on purpose:
#    screen readers announce it and no harm was found (alphagov/govuk-frontend#979, #2823; w3c/aria#1404 asks
#    for it to be allowed). Dropped only when aria-expanded is the one attribute refused, on an NHS.UK radio whose
#    aria-controls names a conditional block that is shown exactly when aria-expanded says so.
FILE_UPLOAD_BUTTON = "button.nhsuk-file-upload__drop-button"
EXPANDED_ONLY = re.compile(r'Fix all of the following:\s+ARIA attribute is not allowed: aria-expanded="(?:true|false)"')


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _label_in_chromium_name(page, selector: str) -> bool:
    element = page.locator(selector)
    if element.count() != 1 or not element.evaluate("(e, s) => e.matches(s)", FILE_UPLOAD_BUTTON):
        return False
    visible = element.evaluate("e => [...e.children].map(c => c.innerText).filter(t => t.trim())")
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        tree = cdp.send("Accessibility.getPartialAXTree", {"nodeId": node, "fetchRelatives": False})["nodes"]
    finally:
        cdp.detach()
    names = [n["name"]["value"] for n in tree if n.get("role", {}).get("value") == "button" and n.get("name")]
    return len(names) == 1 and bool(visible) and all(_words(text) in _words(names[0]) for text in visible)


def _conditional_reveal(page, selector: str) -> bool:
    return page.locator(selector).evaluate("""e => {
        const block = e.matches('input[type=radio].nhsuk-radios__input[aria-controls]')
          && document.getElementById(e.getAttribute('aria-controls'));
        return !!block && block.classList.contains('nhsuk-radios__conditional')
          && e.getAttribute('aria-expanded') === String(e.checked)
          && block.classList.contains('nhsuk-radios__conditional--hidden') === !e.checked;
    }""")


def _design_system_exception(page, violation: dict, node: dict) -> bool:
    if len(node["target"]) != 1 or page.locator(node["target"][0]).count() != 1:
        return False
    if violation["id"] == "label-content-name-mismatch":
        return _label_in_chromium_name(page, node["target"][0])
    if violation["id"] == "aria-allowed-attr":
        return (EXPANDED_ONLY.fullmatch((node.get("failureSummary") or "").strip()) is not None
                and _conditional_reveal(page, node["target"][0]))
    return False


def _without_design_system_exceptions(page, violations: list[dict]) -> list[dict]:
    kept = []
    for violation in violations:
        nodes = [node for node in violation["nodes"] if not _design_system_exception(page, violation, node)]
        if nodes:
            kept.append({**violation, "nodes": nodes})
    return kept


def check_accessibility(page) -> list[dict]:
    """Run axe-core on the page as it is; returns the violations (empty when it passes), less the two findings
    on NHS.UK frontend's components above, each once the component is checked to be as it should."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=axe_source())
    result = page.evaluate(
        """async (tags) => {
             const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
             return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
               tags: v.tags, nodes: v.nodes.map(n => ({target: n.target, html: n.html,
               failureSummary: n.failureSummary}))}));
           }""", AXE_TAGS)
    return _without_design_system_exceptions(page, result)
