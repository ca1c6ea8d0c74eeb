"""The PDS FHIR R4 API over HTTP (read ``GET /Patient/{id}``, search ``GET /Patient?...``).

Every failure is ``PdsUnavailable`` with a message safe for the log: the URL (which carries the NHS
number or the search's names, birthdate and postcode) and the body never reach a message or a log line.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid

import httpx
import pybreaker

from . import PdsRecord, PdsUnavailable
from .fhir import NotAPatient, record_from_patient

log = logging.getLogger("idp.proofing.pds")

FHIR_JSON = "application/fhir+json"
MAX_HOPS = 3  # replaced-by links followed before giving up: PDS merges chain at most a step or two
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_clients: dict[tuple, FhirPds] = {}
_lock = threading.RLock()  # re-entrant: for_settings builds an adapter, which asks breaker_for


def breaker_for(base_url: str) -> pybreaker.CircuitBreaker:
    """One breaker per PDS base URL, shared by every ``FhirPds`` in the process, so all requests see one state."""
    with _lock:
        if base_url not in _breakers:
            # throw_new_error_on_trip=False: the failure that opens the circuit keeps its own message.
            _breakers[base_url] = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30, name=f"pds {base_url}",
                                                           throw_new_error_on_trip=False)
        return _breakers[base_url]


class _RedactPatientUrls(logging.Filter):
    """httpx logs each request's full URL at INFO; a Patient URL holds an NHS number or search terms."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) > 1 and "/Patient" in str(record.args[1]):
            url = httpx.URL(str(record.args[1]))
            record.args = (record.args[0], f"{url.scheme}://{url.netloc.decode()}/Patient/(redacted)", *record.args[2:])
        return True


if not any(isinstance(f, _RedactPatientUrls) for f in logging.getLogger("httpx").filters):
    logging.getLogger("httpx").addFilter(_RedactPatientUrls())


class FhirPds:
    """``DemographicsService`` over the PDS FHIR API (NHS England, "Personal Demographics Service - FHIR")."""

    def __init__(self, base_url: str, access_token: str, timeout: float, retries: int = 2,
                 breaker: pybreaker.CircuitBreaker | None = None, transport: httpx.BaseTransport | None = None,
                 backoff: float = 0.1):
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff  # seconds × attempt number; tests pass 0
        self.breaker = breaker if breaker is not None else breaker_for(self.base_url)
        headers = {"Accept": FHIR_JSON}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        # follow_redirects=False: PDS does not redirect reads or searches, and a redirect would carry the token.
        self.http = httpx.Client(base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout),
                                 transport=transport, follow_redirects=False)

    @classmethod
    def for_settings(cls, settings) -> FhirPds:
        """One adapter (and connection pool) per configuration, reused across requests."""
        timeout = settings.pds_timeout_seconds or settings.outbound_timeout_seconds
        key = (settings.pds_base_url, settings.pds_access_token, timeout)
        with _lock:
            if key not in _clients:
                _clients[key] = cls(settings.pds_base_url, settings.pds_access_token, timeout)
            return _clients[key]

    def close(self) -> None:
        self.http.close()

    # -- the two questions ---------------------------------------------------------------------------

    def get(self, nhs_number: str) -> PdsRecord | None:
        """Read a Patient; a superseded number gives its successor with ``superseded`` naming the old numbers."""
        return self._guarded(lambda: self._read_following(nhs_number))

    def search(self, *, family: str, given: str | None, birthdate: str, postcode: str | None) -> list[PdsRecord]:
        """Search Patients (PDS "search for a patient": family, given, birthdate eq, address-postcode)."""
        params = {"family": family, "birthdate": f"eq{birthdate}"}
        if given:
            params["given"] = given
        if postcode:
            params["address-postcode"] = postcode
        return self._guarded(lambda: self._search(params))

    # -- the work -------------------------------------------------------------------------------------

    def _guarded(self, call):
        try:
            return self.breaker.call(call)
        except pybreaker.CircuitBreakerError:
            log.warning("PDS request not sent: circuit open")
            raise PdsUnavailable("PDS circuit open after repeated failures") from None

    def _read_following(self, asked: str) -> PdsRecord | None:
        followed: list[str] = []
        number = asked
        for _ in range(MAX_HOPS + 1):
            record = self._request(f"/Patient/{number}", lambda body: _record(body, "read"), read=True)
            if record is None:
                if followed:  # a replaced-by link to nothing is PDS contradicting itself, not "no record"
                    _broken_chain("a replaced-by link that led to no record")
                return None  # returned, not raised, so the breaker counts it as the answer it is
            if record.nhs_number != number:  # PDS serves the successor when asked for a superseded number
                followed.append(number)
            if not record.replaced_by or record.replaced_by == record.nhs_number:
                return dataclasses.replace(record, superseded=tuple(followed)) if followed else record
            followed.append(record.nhs_number)  # a server that answers with the old record and its link
            if record.replaced_by in followed:
                break
            number = record.replaced_by
        _broken_chain("replaced-by links that did not end in a current record")

    def _search(self, params: dict) -> list[PdsRecord]:
        return self._request("/Patient", _search_results, params=params)

    def _request(self, path: str, parse, *, params: dict | None = None, read: bool = False):
        """One request with retries: ``parse(json object)``, None for no record on a read, or ``PdsUnavailable``."""
        # The same X-Request-ID on every attempt: PDS uses it to de-duplicate repeated requests and asks
        # that a re-sent failed request keep it, and it ties the attempts together in PDS's logs and ours.
        request_id = str(uuid.uuid4())
        status: int | str = "none"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * attempt)
            try:
                response = self.http.get(path, params=params, headers={"X-Request-ID": request_id})
            except httpx.HTTPError as exc:  # timeouts, refused connections, broken streams, undecodable bodies
                status = type(exc).__name__  # the class only: an httpx message can name the URL
                continue
            status = response.status_code
            if status in RETRY_STATUSES:
                continue
            if read and (status == 404 or (status == 400 and _outcome_code(response) == "INVALID_RESOURCE_ID")):
                return None  # no such record, or not a valid NHS number; any other 400 is our request's fault
            if status != 200:  # 401/403 mean our credentials or onboarding are wrong: not an answer
                _fail(f"HTTP {status}", status, request_id)
            try:
                body = response.json()
            except ValueError:
                _fail("a body that is not JSON", status, request_id)
            try:
                return parse(body if isinstance(body, dict) else None)
            except PdsUnavailable as exc:
                _fail(str(exc), status, request_id)
        _fail(f"{status} after {self.retries + 1} attempts", status, request_id)


def _fail(what: str, status, request_id: str):
    log.warning("PDS request failed: status=%s x_request_id=%s", status, request_id)
    raise PdsUnavailable(f"PDS answered with {what} (X-Request-ID {request_id})") from None


def _broken_chain(what: str):
    log.warning("PDS request failed: status=200 x_request_id=none (replaced-by chain)")
    raise PdsUnavailable(f"PDS answered with {what}")


def _outcome_code(response: httpx.Response) -> str | None:
    """The spine error code of an OperationOutcome (``issue[0].details.coding[0].code``), if there is one."""
    try:
        return response.json()["issue"][0]["details"]["coding"][0]["code"]
    except (ValueError, LookupError, TypeError):
        return None


def _search_results(body: dict | None) -> list[PdsRecord]:
    if not body or body.get("resourceType") != "Bundle" or body.get("type") != "searchset":
        raise PdsUnavailable("a search answer that is not a FHIR searchset Bundle")
    entries = body.get("entry") or []
    if not isinstance(entries, list):
        raise PdsUnavailable("a searchset Bundle whose entries are not a list")
    resources = [e.get("resource") if isinstance(e, dict) else None for e in entries]
    # Other entries (an OperationOutcome with search.mode "outcome") carry no candidate.
    records = [_record(r, "search") for r in resources if isinstance(r, dict) and r.get("resourceType") == "Patient"]
    return [r for r in records if not r.replaced_by]  # a superseded number's own record is never a candidate


def _record(resource: dict | None, operation: str) -> PdsRecord:
    try:
        return record_from_patient(resource)
    except NotAPatient:
        # NotAPatient's message is about structure, but a validation message can quote a value: drop it.
        raise PdsUnavailable(f"a {operation} answer that is not a FHIR Patient of the PDS shape") from None
