"""The authorization endpoint as a pipeline of small steps (OIDC Core 3.1.2, interface.md).

``STEPS`` is the documentation of the endpoint: each step validates, loads or
decides one thing and either returns normally or raises. Until the client and
redirect URI are verified, errors render a page (RFC 6749 4.1.2.1: never redirect
to an unverified URI); after that they go back to the client with ``state`` and
``iss``. A step that needs the person (login, consent) parks the request as an
*interaction* and the login surface resumes it; the pipeline then runs again.
"""
from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Callable

from authlib.common.urls import add_params_to_uri
from sqlalchemy import insert

from ..authentication import current_login
from ..clock import now
from ..events import emit
from ..extensions import db
from ..i18n import N_
from ..levels import (
    InvalidVectorError,
    ProofingLevel,
    VectorOfTrust,
    choose_vot,
    parse_vector_list,
    parse_vtr_parameter,
)
from ..models import AuthorizationCode, Client, Consent, Grant, Person
from ..proofing import journey as proofing_journey
from ..models.grants import token_hash
from . import interactions
from .interactions import Interaction
from .asserted_login import login_from_assertion
from .claims import (
    ClaimsRequestError,
    claims_allowed_by_client,
    claims_for_scopes,
    conflicting_scopes,
    known_scopes,
    parse_claims_request,
    prune_claims_request,
    requested_acr_values,
)
from .errors import describe
from .registration import serves
from .request_objects import load_request_object

MAX_PARAM_LENGTH = 2048
ID_TOKEN_TYPES = ("JWT", None)  # our ID tokens say typ JWT; access and logout tokens have their own typ
SINGLE_VALUED = (
    "client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge",
    "code_challenge_method", "prompt", "max_age", "vtr", "claims", "id_token_hint", "login_hint",
    "ui_locales", "acr_values", "response_mode", "request", "request_uri",
)
PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
KNOWN_PROMPTS = {"none", "login", "consent", "select_account"}


# What a person reads when the request cannot go back to the service (translated on the page).
LINK_DOES_NOT_WORK = N_("The service you were using sent you here with a link that does not work.")
SERVICE_NOT_REGISTERED = N_("The service that sent you here is not registered with us.")
CANNOT_SEND_YOU_BACK = N_("We cannot send you back to the service you were using, because its link to us "
                          "is not set up correctly.")


class ErrorPage(Exception):
    """An error shown to the person because there is no verified redirect URI to send it to.

    ``message`` is for the person; ``error`` (the OAuth code) and ``description`` are for the service's
    developers, on the page's details and in /par's JSON answer (RFC 9126 2.3).
    """

    def __init__(self, description: str, status: int = 400, error: str = "invalid_request",
                 message: str = LINK_DOES_NOT_WORK):
        super().__init__(description)
        self.description = description
        self.status = status
        self.error = error
        self.message = message


class ErrorRedirect(Exception):
    """An OAuth error returned to the client's verified redirect URI (RFC 6749 4.1.2.1)."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


class Interact(Exception):
    """The person must do something (``login``, ``step_up``, ``consent``) before the request can finish.

    ``needs`` says what, for the pages: ``{"vectors": [...]}``, the vectors the journey must reach.
    """

    def __init__(self, kind: str, needs: dict | None = None):
        super().__init__(kind)
        self.kind = kind
        self.needs = needs or {}


@dataclass
class AuthorizationRequest:
    params: dict
    interaction: Interaction | None = None  # the parked request this run resumes, if any
    client: Client | None = None
    redirect_uri: str | None = None
    scopes: list[str] = field(default_factory=list)
    prompts: set[str] = field(default_factory=set)
    max_age: int | None = None
    claims_request: dict | None = None
    vectors: list[VectorOfTrust] = field(default_factory=list)
    acr_requested: bool = False
    hinted_subject: str | None = None
    pushed: bool = False  # the parameters came through /par (RFC 9126)
    login = None
    asserted_login = None  # the login an accepted asserted_login_identity stands for (parked with the request)
    person: Person | None = None
    vot: VectorOfTrust | None = None

    def get(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value not in (None, "") else None


# --- steps before the redirect URI is trusted ----------------------------------------------
def check_parameters(req: AuthorizationRequest, settings) -> None:
    for name, value in req.params.items():
        if isinstance(value, list):
            if name in SINGLE_VALUED and len(value) > 1:
                raise ErrorPage(f"The request repeats the '{name}' parameter; send it once.")
            req.params[name] = value[0] if value else ""
        if len(req.params[name]) > MAX_PARAM_LENGTH and name not in ("request", "claims", "id_token_hint"):
            # Name only parameters we know: the page must not show text of the requester's choosing.
            shown = f"The '{name}' parameter" if name in SINGLE_VALUED else "A parameter"
            raise ErrorPage(f"{shown} in the request is too long.")


def load_client(req: AuthorizationRequest, settings) -> None:
    client_id = req.get("client_id")
    if client_id is None:
        raise ErrorPage("client_id is missing.")
    client = Client.find(client_id)
    if client is None or not serves(settings, client):  # another environment's client is not registered here
        raise ErrorPage("client_id is not a client registered here.", message=SERVICE_NOT_REGISTERED)
    if client.is_provisioning:  # a staff system's registration logs nobody in (it has no redirect URIs)
        raise ErrorPage("client_id is a provisioning client, which cannot make authorization requests.",
                        message=SERVICE_NOT_REGISTERED)
    req.client = client


def check_redirect_uri(req: AuthorizationRequest, settings) -> None:
    redirect_uri = req.get("redirect_uri")
    if redirect_uri is None:
        raise ErrorPage("redirect_uri is missing.", message=CANNOT_SEND_YOU_BACK)
    # RFC 6749 4.1.2.1: if the redirect URI is invalid, do not redirect.
    if not req.client.check_redirect_uri(redirect_uri):
        raise ErrorPage("redirect_uri is not registered for this client.", message=CANNOT_SEND_YOU_BACK)
    req.redirect_uri = redirect_uri


# --- steps whose errors go back to the client -----------------------------------------------
def check_response_type(req: AuthorizationRequest, settings) -> None:
    response_type = req.get("response_type")
    if response_type is None:
        raise ErrorRedirect("invalid_request", "Missing 'response_type'.")
    if response_type != "code":
        raise ErrorRedirect("unsupported_response_type", "Only response_type=code is supported.")
    if req.get("response_mode") not in (None, "query"):
        raise ErrorRedirect("invalid_request", "Only response_mode=query is supported.")


def check_state(req: AuthorizationRequest, settings) -> None:
    if req.get("state") is None:
        raise ErrorRedirect("invalid_request", "Missing 'state': it is required.")


def check_scope(req: AuthorizationRequest, settings) -> None:
    requested = known_scopes(req.get("scope") or "")
    if "openid" not in requested:
        raise ErrorRedirect("invalid_scope", "The 'scope' must contain 'openid'.")
    not_approved = [s for s in requested if s not in req.client.scopes]
    if not_approved:
        raise ErrorRedirect("invalid_scope", f"This client is not approved for: {' '.join(not_approved)}.")
    conflict = conflicting_scopes(requested)
    if conflict:
        raise ErrorRedirect("invalid_scope", f"These scopes cannot be asked together: {' and '.join(sorted(conflict))}.")
    req.scopes = requested


def check_nonce(req: AuthorizationRequest, settings) -> None:
    if req.get("nonce") is None and req.client.nonce_required:
        raise ErrorRedirect("invalid_request", "Missing 'nonce': this client must send one.")


def check_pkce(req: AuthorizationRequest, settings) -> None:
    challenge, method = req.get("code_challenge"), req.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise ErrorRedirect("invalid_request", "Missing 'code_challenge'.")
        if req.client.pkce_required:
            raise ErrorRedirect("invalid_request", "Missing 'code_challenge': PKCE with S256 is required.")
        return
    if method != "S256":
        raise ErrorRedirect("invalid_request", "code_challenge_method must be S256.")
    if not PKCE_CHALLENGE.match(challenge):
        raise ErrorRedirect("invalid_request", "Invalid 'code_challenge'.")


def check_prompt(req: AuthorizationRequest, settings) -> None:
    prompts = set((req.get("prompt") or "").split())
    if "none" in prompts and len(prompts) > 1:
        raise ErrorRedirect("invalid_request", "prompt=none cannot be combined with other values.")
    req.prompts = prompts & KNOWN_PROMPTS


def check_max_age(req: AuthorizationRequest, settings) -> None:
    raw = req.get("max_age")
    if raw is None:
        return
    if not raw.isdigit() or len(raw) > 10:
        raise ErrorRedirect("invalid_request", "max_age must be a whole number of seconds.")
    req.max_age = int(raw)
    if req.max_age == 0:
        req.prompts.add("login")  # OIDC Core 3.1.2.1 (errata): max_age=0 is prompt=login


def check_claims(req: AuthorizationRequest, settings) -> None:
    try:
        req.claims_request = parse_claims_request(req.get("claims"))
    except ClaimsRequestError as exc:
        raise ErrorRedirect("invalid_request", str(exc)) from None


def check_vtr(req: AuthorizationRequest, settings) -> None:
    """``vtr`` must be a subset of the client's vectors; absent, ``acr_values`` or the client's own apply."""
    registered = parse_vector_list(req.client.vectors)
    raw = req.get("vtr")
    if raw is not None:
        try:
            asked = parse_vtr_parameter(raw)
        except InvalidVectorError as exc:
            raise ErrorRedirect("invalid_request", f"Invalid 'vtr': {exc}.") from None
        outside = [str(v) for v in asked if v not in registered]
        if outside:
            raise ErrorRedirect("invalid_request", f"This client may not ask for: {', '.join(outside)}.")
        req.vectors = asked
        return
    acr = (req.get("acr_values") or "").split() + requested_acr_values(req.claims_request)
    req.acr_requested = bool(acr) or "acr" in ((req.claims_request or {}).get("id_token") or {})
    mapped = []
    for value in acr:
        try:
            vector = VectorOfTrust.parse(value)
        except InvalidVectorError:
            continue  # acr_values are voluntary (OIDC Core 3.1.2.1); unknown ones are ignored
        if vector in registered and vector not in mapped:
            mapped.append(vector)
    req.vectors = mapped or registered
    if not req.vectors:
        raise ErrorRedirect("invalid_request", "This client has no vectors of trust registered.")


def check_id_token_hint(req: AuthorizationRequest, settings) -> None:
    hint = req.get("id_token_hint")
    if hint is None:
        return
    from flask import current_app

    keystore = current_app.extensions["idp"].keystore
    try:
        claims = keystore.read_own_jwt(hint, typ=ID_TOKEN_TYPES)  # expiry deliberately not checked
    except ValueError:
        raise ErrorRedirect("invalid_request", "id_token_hint is not an ID token we issued.") from None
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if claims.get("iss") != settings.issuer or req.client.client_id not in audiences:
        raise ErrorRedirect("invalid_request", "id_token_hint was not issued to this client.")
    req.hinted_subject = claims.get("sub")


# --- steps that need the person -------------------------------------------------------------
def load_login(req: AuthorizationRequest, settings) -> None:
    req.login = current_login()
    req.person = db.session.get(Person, req.login.person_id) if req.login else None
    if req.person is None:
        req.login = None


def load_asserted_login(req: AuthorizationRequest, settings) -> None:
    """interface.md asserted_login_identity: an approved partner's single-use assertion is this request's login."""
    login = login_from_assertion(req.params, req.interaction, req.client)
    person = db.session.get(Person, login.person_id) if login else None
    if person is not None:
        req.login, req.person, req.asserted_login = login, person, login


def check_login(req: AuthorizationRequest, settings) -> None:
    """OIDC Core 3.1.2.3: authenticate unless a session exists that meets prompt, max_age and id_token_hint."""
    from .subjects import subject_for

    # Only a login the person finished inside this request counts as fresh (set by the login surface).
    logged_in_here = (req.login is not None and req.interaction is not None
                      and req.interaction.logged_in_as == req.login.person_id)
    hinted_someone_else = req.hinted_subject is not None and req.login is not None and (
        req.hinted_subject != subject_for(req.person, req.client))
    reason = None
    if req.login is None:
        reason = "no session"
    elif logged_in_here:
        if hinted_someone_else:
            # 3.1.2.1: the hint names one person and another has logged in; their code would be a swap.
            emit("authorization.hint_mismatch", client_id=req.client.client_id, person_id=req.person.id)
            raise ErrorRedirect("login_required", "The person who logged in is not the one id_token_hint names.")
        return  # a login inside this request satisfies prompt=login and max_age
    elif "login" in req.prompts:
        reason = "prompt=login"
    elif req.max_age is not None and now() - req.login.auth_time > req.max_age:
        reason = "max_age"
    elif hinted_someone_else:
        reason = "id_token_hint names someone else"
    if reason is None:
        return
    if "none" in req.prompts:
        raise ErrorRedirect(req.client.prompt_none_error, "The person must log in.")
    raise Interact("login", needs={"vectors": [str(v) for v in req.vectors]})


def check_vot(req: AuthorizationRequest, settings) -> None:
    """Never assert less than asked (interface.md Levels): a missing component is an authentication
    step-up inside this request, a missing proofing level is the proofing journey; refused only when
    neither can reach any vector asked for."""
    level = ProofingLevel[req.person.proofing_level]
    req.vot = choose_vot(req.vectors, level, req.login.components)
    if req.vot is not None:
        return
    # Each journey's pages register their kind; a journey not installed reaches nothing.
    by_authenticating = ([v for v in req.vectors if level.satisfies(v.proofing)]
                         if interactions.has_kind("step_up") else [])
    by_proving = [] if by_authenticating or not interactions.has_kind("prove") else \
        proofing_journey.reachable_vectors(req.person, req.vectors, settings)
    if (by_authenticating or by_proving) and "none" in req.prompts:
        raise ErrorRedirect("interaction_required", "The person must do more to reach the level asked for.")
    if by_authenticating or by_proving:
        # An asserted login is not this browser's own: a step-up starts with a login of its own.
        kind = "login" if req.asserted_login else ("step_up" if by_authenticating else "prove")
        reachable = by_authenticating or by_proving
        needs = {"vectors": [str(v) for v in reachable]}
        if kind == "prove":
            needs["level"] = proofing_journey.lowest_level(reachable).name
        emit("authorization.stepped_up", kind=kind, client_id=req.client.client_id)
        raise Interact(kind, needs=needs)
    if "none" in req.prompts:
        raise ErrorRedirect("interaction_required", "The person must do more to reach the level asked for.")
    emit("authorization.level_not_met", client_id=req.client.client_id, asked=[str(v) for v in req.vectors])
    raise ErrorRedirect("access_denied", "The person has not reached any of the requested vectors of trust.")


def check_not_abandoned(req: AuthorizationRequest, settings) -> None:
    """interface.md Levels: a person who leaves the journey sends the relying party access_denied."""
    if req.interaction is not None and req.interaction.steps.get("abandoned"):
        emit("authorization.abandoned", client_id=req.client.client_id, kind=req.interaction.kind)
        if req.interaction.steps.get("waiting_for_review"):
            # journeys.md Step-up: a P9 route that needs hours ends the request; the person is emailed.
            raise ErrorRedirect("access_denied", "The person's identity check is waiting for review; they will be emailed.")
        raise ErrorRedirect("access_denied", "The person chose not to continue.")


def requested_claim_names(req: AuthorizationRequest) -> list[str]:
    names = claims_for_scopes(req.scopes)
    allowed = claims_allowed_by_client(list(req.client.scopes))
    for target in ("userinfo", "id_token"):
        for name in ((req.claims_request or {}).get(target) or {}):
            if name in allowed and name not in names:
                names.append(name)
    return [n for n in names if n != "sub"]


def check_consent(req: AuthorizationRequest, settings) -> None:
    decision = req.interaction.consent if req.interaction else None
    if decision == "deny":
        raise ErrorRedirect("access_denied", "The person chose not to share their information.")
    if decision == "allow":
        return
    consent = db.session.get(Consent, (req.person.id, req.client.client_id))
    wanted = requested_claim_names(req)
    covered = consent is not None and set(req.scopes) <= set(consent.scopes) and set(wanted) <= set(consent.claims)
    if covered and "consent" not in req.prompts:
        return
    if "none" in req.prompts:
        raise ErrorRedirect("consent_required", "The person must agree to share their information.")
    raise Interact("consent")


STEPS: list[Callable] = [
    check_parameters,
    load_client,
    load_request_object,
    check_redirect_uri,
    check_response_type,
    check_state,
    check_scope,
    check_nonce,
    check_pkce,
    check_prompt,
    check_max_age,
    check_claims,
    check_vtr,
    check_id_token_hint,
    check_not_abandoned,
    load_login,
    load_asserted_login,
    check_login,
    check_vot,
    check_consent,
]
# /par checks a pushed request before anyone is there to log in (RFC 9126 2.1): every step before load_login.
STEPS_WITHOUT_PERSON: list[Callable] = STEPS[: STEPS.index(check_not_abandoned)]


def run(req: AuthorizationRequest, settings) -> None:
    for step in STEPS:
        step(req, settings)


# --- responses ------------------------------------------------------------------------------
# Statements built once: executing them with a parameter dict reuses the compiled SQL.
_INSERT_GRANT = insert(Grant.__table__)
_INSERT_CODE = insert(AuthorizationCode.__table__)


def issue_code(req: AuthorizationRequest, settings) -> str:
    """Create the grant and its single-use code; returns the redirect location."""
    code = secrets.token_urlsafe(32)
    grant_id = str(uuid.uuid4())
    created = now()
    # Core inserts: this is the hot path of every login, and the ORM's unit of work buys nothing here.
    db.session.execute(_INSERT_GRANT, dict(
        id=grant_id, client_id=req.client.client_id, person_id=req.person.id, sid=req.login.sid, created_at=created,
        revoked_at=None, revoked_reason=None,
    ))
    db.session.execute(_INSERT_CODE, dict(
        code_hash=token_hash(code), grant_id=grant_id, client_id=req.client.client_id, person_id=req.person.id,
        redirect_uri=req.redirect_uri, scope=" ".join(req.scopes), nonce=req.get("nonce"),
        code_challenge=req.get("code_challenge"),
        code_challenge_method="S256" if req.get("code_challenge") else None,
        # What was consented is frozen here: the claims parameter as allowed at this moment (see claims.py).
        auth_time=req.login.auth_time, vot=str(req.vot),
        claims_request=prune_claims_request(req.claims_request, claims_allowed_by_client(list(req.client.scopes))),
        acr_requested=req.acr_requested, sid=req.login.sid, created_at=created, expires_at=created + settings.code_ttl,
        used_at=None,
    ))
    db.session.commit()
    if req.interaction is not None:
        interactions.finish(req.interaction.id)
    emit("authorization.granted", client_id=req.client.client_id, grant_id=grant_id, vot=str(req.vot))
    return success_location(req, settings, code)


def success_location(req: AuthorizationRequest, settings, code: str) -> str:
    # RFC 9207: iss in every authorization response.
    return add_params_to_uri(req.redirect_uri, [("code", code), ("state", req.get("state")), ("iss", settings.issuer)])


def error_location(req: AuthorizationRequest, settings, error: ErrorRedirect) -> str:
    params = [("error", error.error), ("error_description", describe(error.description))]
    if req.get("state") is not None:
        params.append(("state", req.get("state")))
    params.append(("iss", settings.issuer))
    if req.interaction is not None:
        interactions.finish(req.interaction.id)
    return add_params_to_uri(req.redirect_uri, params)


def requested_claim_names_for(params: dict, client: Client) -> list[str]:
    """The claims a parked request would release: what the consent page lists."""
    req = AuthorizationRequest(params=dict(params), client=client)
    req.scopes = [s for s in known_scopes(params.get("scope") or "") if s in client.scopes]
    try:
        req.claims_request = parse_claims_request(params.get("claims"))
    except ClaimsRequestError:
        req.claims_request = None
    return requested_claim_names(req)
