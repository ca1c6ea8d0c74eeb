"""A small local PDS FHIR R4 server for tests: read and search over in-memory Patients, with failure controls.

It speaks the parts of the PDS FHIR API the adapter uses (``GET /Patient/{id}``, ``GET /Patient?...``),
answers in ``application/fhir+json`` and errors as OperationOutcomes, on 127.0.0.1 and a free port.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

FHIR_JSON = "application/fhir+json"


def operation_outcome(code: str, diagnostics: str, issue_code: str = "processing") -> dict:
    """An OperationOutcome with the spine error code PDS puts in ``details.coding``."""
    return {"resourceType": "OperationOutcome", "issue": [{
        "severity": "error", "code": issue_code, "diagnostics": diagnostics,
        "details": {"coding": [{"system": "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode",
                                "code": code}]}}]}


def _mod11(number: str) -> bool:
    if not (len(number) == 10 and number.isdigit()):
        return False
    check = 11 - sum(int(d) * (10 - i) for i, d in enumerate(number[:9])) % 11
    return (0 if check == 11 else check) == int(number[9])


class FhirServer:
    """Patients keyed by NHS number, plus controls: ``fail_next``, ``delay``, ``respond_next_with``, ``requests``."""

    def __init__(self):
        self.patients: dict[str, dict] = {}
        self.successors: dict[str, str] = {}  # old number -> new: a read of the old number serves the new record
        self.requests: list[dict] = []  # {"path", "query", "headers"} for every request received
        self.delay = 0.0  # seconds before each answer (for timeouts)
        self._failures: list[int] = []
        self._bodies: list[tuple[int, bytes, str]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- test controls --------------------------------------------------------------------------------

    def add(self, *patients: dict) -> None:
        for patient in patients:
            self.patients[patient["id"]] = patient

    def supersede(self, old: str, new: str, *, link: bool = False) -> None:
        """``old`` was merged into ``new``. PDS serves the successor on a read of ``old``; with ``link`` this
        server instead serves ``old``'s own record carrying a ``replaced-by`` link (as some servers do)."""
        if not link:
            self.successors[old] = new
            return
        record = json.loads(json.dumps(self.patients[new]))
        record["id"] = old
        record["identifier"] = [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": old}]
        record["link"] = [{"type": "replaced-by", "other": {
            "reference": f"Patient/{new}",
            "identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": new}}}]
        self.patients[old] = record

    def fail_next(self, count: int, status: int = 503) -> None:
        """The next ``count`` requests get ``status`` with an OperationOutcome."""
        with self._lock:
            self._failures.extend([status] * count)

    def respond_next_with(self, body: bytes | str | dict, status: int = 200, content_type: str = FHIR_JSON) -> None:
        """The next request gets this body whatever it asked (a malformed body, a resource that is not a Patient)."""
        if isinstance(body, dict):
            body = json.dumps(body)
        with self._lock:
            self._bodies.append((status, body.encode() if isinstance(body, str) else body, content_type))

    # -- the API ---------------------------------------------------------------------------------------

    def _answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict]:
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return failure, operation_outcome("SERVICE_UNAVAILABLE" if failure >= 500 else "ERROR",
                                              f"made to fail with {failure}", "transient")
        parts = path.strip("/").split("/")
        if parts == ["Patient"]:
            return 200, self._search(query)
        if len(parts) == 2 and parts[0] == "Patient":
            number = parts[1]
            if not _mod11(number):
                return 400, operation_outcome("INVALID_RESOURCE_ID", "Invalid NHS number", "value")
            number = self.successors.get(number, number)
            if number in self.patients:
                return 200, self.patients[number]
            return 404, operation_outcome("RESOURCE_NOT_FOUND", "Patient not found", "not-found")
        return 404, operation_outcome("INVALID_METHOD", "Unsupported path", "not-supported")

    def _search(self, query: dict[str, list[str]]) -> dict:
        def first(name):
            return (query.get(name) or [None])[0]

        family, given, birthdate = first("family"), first("given"), first("birthdate")
        postcode = (first("address-postcode") or "").replace(" ", "").upper()
        matches = []
        for patient in self.patients.values():
            if patient.get("link"):
                continue  # PDS never returns a superseded record from a search
            names = patient.get("name") or []
            if family and not any((n.get("family") or "").lower() == family.lower() for n in names):
                continue
            if given and not any(given.lower() in (g.lower() for g in n.get("given") or []) for n in names):
                continue
            if birthdate and patient.get("birthDate") != birthdate.removeprefix("eq"):
                continue
            if postcode and not any((a.get("postalCode") or "").replace(" ", "").upper() == postcode
                                    for a in patient.get("address") or []):
                continue
            matches.append(patient)
        return {"resourceType": "Bundle", "type": "searchset", "total": len(matches),
                "entry": [{"fullUrl": f"{self.base_url}/Patient/{p['id']}", "search": {"score": 1}, "resource": p}
                          for p in matches]}

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (the http.server name)
                url = urlsplit(self.path)
                server.requests.append({"path": url.path, "query": parse_qs(url.query), "headers": dict(self.headers)})
                if server.delay:
                    time.sleep(server.delay)
                with server._lock:
                    canned = server._bodies.pop(0) if server._bodies else None
                if canned is not None:
                    status, body, content_type = canned
                else:
                    status, resource = server._answer(url.path, parse_qs(url.query))
                    body, content_type = json.dumps(resource).encode(), FHIR_JSON
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    if "X-Request-ID" in self.headers:
                        self.send_header("X-Request-ID", self.headers["X-Request-ID"])  # PDS mirrors it back
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, *args):
                pass  # request lines carry NHS numbers and search terms; tests read ``requests`` instead

        return Handler

    # -- lifecycle -------------------------------------------------------------------------------------

    def start(self) -> FhirServer:
        # A short poll interval: shutdown() waits up to one interval, and every test stops a server.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name="fhir-server",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
