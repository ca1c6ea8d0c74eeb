"""The OpenID Foundation conformance suite against this provider: ``idp conformance setup``.

For one suite (its base URL) and this issuer it registers the static clients each plan needs
with the options the plan's variant requires, creates the suite's test person, issues an
initial access token for the dynamic plan, and fills in the plan configurations kept in
``conformance/plans/``. Re-running converges on the same clients, person and files; secrets,
the password and keys written by an earlier run are reused while they still work.

The clients' looser options (a client secret, PKCE and nonce optional, RS256 ID tokens) are
what the suite's modules send (OIDC Core 3.1.2.1 makes ``nonce`` optional in the code flow and
PKCE is not part of OIDC Core); they apply to these clients only, never to anyone else's.
"""
from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field

from joserfc.jwk import RSAKey

from . import ROOT
from .authentication.passwords import hash_password, verify_password
from .clock import now
from .extensions import db
from .models import Client, InitialAccessToken, Person
from .people import TestPersonError, add_test_person, set_test_level
from .protocol.registration import (
    RegistrationError,
    check_uri,
    register_client,
    update_client,
)
from .protocol.secrets import verify_client_secret

PLANS_DIR = os.path.join(ROOT, "conformance", "plans")
DEFAULT_OUT_DIR = os.path.join(ROOT, "conformance", "out")
DEFAULT_EMAIL = "conformance-tester@example.com"
SOURCE = "conformance-suite"  # marks the clients this set-up owns, so it never rewrites anyone else's
# The suite asks "openid email profile address phone" (OIDCCScopeAll); address is not ours and is ignored.
SCOPE = "openid profile email phone"
VECTORS = ["P0.Cp", "P5.Cp", "P9.Cp"]
ALIAS = re.compile(r"^[a-z0-9][a-z0-9-]{0,29}$")
PLACEHOLDER = re.compile(r"\{\{([a-z0-9_]+)\}\}")
TEST_PERSON = {"level": "P9", "phone": "+447700900123", "nhs_number": "9990000034", "given_name": "Conformance",
               "family_name": "Tester", "birthdate": "1980-01-01", "postcode": "LS1 4AP", "gp_ods_code": "B86001"}


class ConformanceSetupError(ValueError):
    """The set-up cannot go ahead; the message says why."""


@dataclass(frozen=True)
class SuiteClient:
    """A static client a plan uses: its slot in the plan configuration and the options its variant needs."""

    slot: str  # "client", "client2" or "client_secret_post" (OIDCCServerTestClientSecretPost)
    suffix: str
    auth_method: str
    logout: bool = False  # registers {base}/post_logout_redirect (OIDC RP-Initiated Logout 1.0 section 3.1)
    backchannel: bool = False  # registers {base}/backchannel_logout (OIDC Back-Channel Logout 1.0 section 2.2)


@dataclass(frozen=True)
class Plan:
    """A suite test plan: its name, the variant to create it with, its configuration template, its clients."""

    name: str
    template: str
    suffix: str  # the plan's alias is {alias}-{suffix}; the suite calls back under /test/a/{plan alias}/
    variant: dict
    clients: tuple[SuiteClient, ...] = ()
    dynamic: bool = False


_BASIC = "client_secret_basic"
PLANS = (
    # The basic certification plan fixes client_secret_basic, and client_secret_post for one module.
    Plan("oidcc-basic-certification-test-plan", "oidcc-basic-certification-test-plan.json", "basic",
         {"server_metadata": "discovery", "client_registration": "static_client"},
         (SuiteClient("client", "", _BASIC), SuiteClient("client2", "-2", _BASIC),
          SuiteClient("client_secret_post", "-post", "client_secret_post"))),
    # The same modules with private_key_jwt: only the comprehensive plan lets the variant be chosen.
    Plan("oidcc-test-plan", "oidcc-test-plan.private_key_jwt.json", "pkjwt",
         {"client_auth_type": "private_key_jwt", "response_type": "code", "response_mode": "default",
          "client_registration": "static_client"},
         (SuiteClient("client", "", "private_key_jwt"), SuiteClient("client2", "-2", "private_key_jwt"))),
    Plan("oidcc-config-certification-test-plan", "oidcc-config-certification-test-plan.json", "config", {}),
    Plan("oidcc-dynamic-certification-test-plan", "oidcc-dynamic-certification-test-plan.json", "dynamic",
         {"response_type": "code"}, dynamic=True),
    Plan("oidcc-rp-initiated-logout-certification-test-plan",
         "oidcc-rp-initiated-logout-certification-test-plan.json", "logout",
         {"response_type": "code", "client_registration": "static_client"},
         (SuiteClient("client", "", _BASIC, logout=True),)),
    Plan("oidcc-backchannel-rp-initiated-logout-certification-test-plan",
         "oidcc-backchannel-rp-initiated-logout-certification-test-plan.json", "backchannel",
         {"response_type": "code", "client_registration": "static_client"},
         (SuiteClient("client", "", _BASIC, logout=True, backchannel=True),)),
)


@dataclass
class SetupResult:
    out_dir: str
    configs: dict[str, str] = field(default_factory=dict)  # plan alias -> filled configuration file
    clients: dict[str, str] = field(default_factory=dict)  # client_id -> token endpoint auth method
    email: str = ""
    lines: list[str] = field(default_factory=list)


# --- inputs -----------------------------------------------------------------------------------
def check_suite_url(url: str, development: bool) -> str:
    """The suite's base URL (its ``fintechlabs.base_url``): https, or http on loopback in development."""
    url = (url or "").rstrip("/")
    try:
        return check_uri(url, "--suite-url", development)
    except RegistrationError as exc:
        raise ConformanceSetupError(str(exc)) from None


def check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not ALIAS.match(alias):
        raise ConformanceSetupError("--alias: lower-case letters, digits and '-', at most 30 characters")
    return alias


def suite_base(suite_url: str, plan_alias: str) -> str:
    """Where the suite receives a plan's callbacks: {suite}/test/a/{alias} (its CreateRedirectUri)."""
    return f"{suite_url}/test/a/{plan_alias}"


# --- the person -------------------------------------------------------------------------------
def ensure_person(settings, email: str, previous_password: str | None) -> str:
    """The suite's P9 test person with demographics (so profile claims exist); returns the password."""
    email = Person.normalise_email(email)
    person = Person.query.filter_by(email=email).first()
    if person is None:
        password = secrets.token_urlsafe(18)
        try:
            add_test_person(settings, email=email, password=password, **TEST_PERSON)
        except TestPersonError as exc:
            raise ConformanceSetupError(str(exc)) from None
        return password
    if not person.is_test_person:
        raise ConformanceSetupError(f"{email} is a real person's account; choose another --email")
    person.phone_number = TEST_PERSON["phone"]
    person.email_verified = person.phone_number_verified = True
    if person.proofing_level != TEST_PERSON["level"]:
        stated = {k: v for k, v in TEST_PERSON.items() if k not in ("level", "phone")}
        set_test_level(person, TEST_PERSON["level"], checked_by="operator:conformance", **stated)
    password = previous_password
    if not password or not verify_password(person.password_hash, password):
        password = secrets.token_urlsafe(18)
        person.password_hash = hash_password(password)
    db.session.commit()
    return password


# --- the clients ------------------------------------------------------------------------------
def client_fields(spec: SuiteClient, plan_alias: str, suite_url: str) -> dict:
    """Registration fields for one of the suite's static clients (see the module docstring for why)."""
    base = suite_base(suite_url, plan_alias)
    return {
        "name": f"Conformance suite: {plan_alias} {spec.slot}",
        "environment": "sandpit",
        "redirect_uris": [f"{base}/callback"],
        "post_logout_redirect_uris": [f"{base}/post_logout_redirect"] if spec.logout else [],
        "backchannel_logout_uri": f"{base}/backchannel_logout" if spec.backchannel else None,
        "scope": SCOPE,
        "vtr": VECTORS,
        "refresh_tokens": True,
        "token_endpoint_auth_method": spec.auth_method,
        "id_token_signed_response_alg": "RS256",  # OIDC Registration 2: the default when none is registered
        "pkce": "optional",
        "nonce": "optional",
        "subject_type": "public",
        "prompt_none_error": "login_required",
    }


def _write_private(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def client_key_set(keys_dir: str, client_id: str) -> dict:
    """The client's private JWKS (RS256, RFC 7638 thumbprint as kid), made once and kept beside the configs."""
    path = os.path.join(keys_dir, f"{client_id}.jwks.json")
    if os.path.exists(path):
        with open(path) as fh:
            return json.load(fh)
    key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"})
    jwks = {"keys": [{**key.as_dict(private=True), "kid": key.thumbprint()}]}
    os.makedirs(keys_dir, mode=0o700, exist_ok=True)
    _write_private(path, json.dumps(jwks, indent=2) + "\n")
    return jwks


def public_key_set(private_jwks: dict) -> dict:
    return {"keys": [RSAKey.import_key(k).as_dict(private=False) | {"kid": k["kid"], "alg": k["alg"], "use": "sig"}
                     for k in private_jwks["keys"]]}


def ensure_client(client_id: str, fields: dict, settings, *, private_jwks: dict | None,
                  previous_secret: str | None) -> str | None:
    """Create or update one client; returns its secret (the previous one while it still verifies)."""
    key = {"jwks": public_key_set(private_jwks)} if private_jwks else {}
    client = db.session.get(Client, client_id)
    try:
        if client is None:
            _, secret = register_client(fields, development=settings.is_development, client_id=client_id, key=key,
                                        source=SOURCE)
            return secret
        if client.source != SOURCE:
            raise ConformanceSetupError(f"client {client_id} exists and is not the conformance suite's; "
                                        "choose another --alias")
        keep = bool(previous_secret and client.secret_hash and verify_client_secret(client.secret_hash, previous_secret))
        secret = update_client(client, fields, development=settings.is_development, key=key,
                               new_secret=fields["token_endpoint_auth_method"] != "private_key_jwt" and not keep)
        return secret or (previous_secret if keep else None)
    except RegistrationError as exc:
        db.session.rollback()
        raise ConformanceSetupError(f"{client_id}: {exc}") from None


# --- the dynamic plan -------------------------------------------------------------------------
def ensure_initial_access_token(alias: str, previous: str | None) -> str:
    """An initial access token (RFC 7591 3) for the dynamic plan's registrations; earlier ones are revoked."""
    from .protocol.dynamic_registration import (
        initial_access_token,
        issue_initial_access_token,
    )

    if previous and initial_access_token(previous) is not None:
        return previous
    description = f"conformance suite ({alias})"
    InitialAccessToken.query.filter_by(description=description, revoked_at=None).update({"revoked_at": now()})
    db.session.commit()
    # The suite's dynamic plan registers plain RFC 7591 clients and sends neither PKCE nor a nonce.
    return issue_initial_access_token("sandpit", description, client_defaults={"pkce": "optional", "nonce": "optional"})


# --- the configurations -----------------------------------------------------------------------
def load_template(name: str) -> dict:
    with open(os.path.join(PLANS_DIR, name)) as fh:
        return json.load(fh)


def fill(value, values: dict):
    """Replace ``{{name}}`` placeholders; a string that is only a placeholder takes the value itself (a JWKS)."""
    if isinstance(value, dict):
        return {k: fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, values) for v in value]
    if not isinstance(value, str):
        return value
    whole = PLACEHOLDER.fullmatch(value)
    if whole and whole.group(1) in values:
        return values[whole.group(1)]
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), value)


def placeholders_left(value) -> set[str]:
    text = json.dumps(value)
    return set(PLACEHOLDER.findall(text))


def dumps(value, indent: int = 0) -> str:
    """JSON with each browser command (a list of plain values) kept on one line, for people to read."""
    pad = " " * indent
    if isinstance(value, dict) and value:
        items = [f'{pad}  {json.dumps(k)}: {dumps(v, indent + 2).lstrip()}' for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(f"{pad}  {dumps(v, indent + 2).lstrip()}" for v in value) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def _read_json(path: str) -> dict:
    try:
        with open(path) as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def setup(settings, suite_url: str, *, alias: str = "idp", out_dir: str | None = None,
          email: str = DEFAULT_EMAIL) -> SetupResult:
    """Register the suite's clients and person, and write every plan's configuration to ``out_dir``."""
    if settings.env == "live":
        raise ConformanceSetupError("the conformance set-up makes test clients and a test person: never in live")
    suite_url = check_suite_url(suite_url, settings.is_development)
    alias = check_alias(alias)
    out_dir = os.path.abspath(out_dir or DEFAULT_OUT_DIR)
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
        os.chmod(out_dir, 0o700)  # the configurations carry secrets and private keys (each file is 0600 too)
    credentials_path = os.path.join(out_dir, "credentials.json")
    previous = _read_json(credentials_path)
    result = SetupResult(out_dir=out_dir, email=Person.normalise_email(email))
    password = ensure_person(settings, result.email, previous.get("password"))
    credentials = {"password": password, "clients": {}}
    index = []
    for plan in PLANS:
        plan_alias = f"{alias}-{plan.suffix}"
        values = {"alias": plan_alias, "issuer": settings.issuer, "suite_url": suite_url,
                  "email": result.email, "password": password}
        for spec in plan.clients:
            client_id = f"conformance-{plan_alias}{spec.suffix}"
            prefix = "client" if spec.slot == "client" else spec.slot
            private_jwks = (client_key_set(os.path.join(out_dir, "keys"), client_id)
                            if spec.auth_method == "private_key_jwt" else None)
            secret = ensure_client(client_id, client_fields(spec, plan_alias, suite_url), settings,
                                   private_jwks=private_jwks, previous_secret=previous.get("clients", {}).get(client_id))
            values[f"{prefix}_id"] = client_id
            if secret:
                values[f"{prefix}_secret"] = credentials["clients"][client_id] = secret
            if private_jwks:
                values[f"{prefix}_jwks"] = private_jwks
            result.clients[client_id] = spec.auth_method
        if plan.dynamic:
            values["initial_access_token"] = credentials["initial_access_token"] = ensure_initial_access_token(
                alias, previous.get("initial_access_token"))
        config = fill(load_template(plan.template), values)
        missing = placeholders_left(config)
        if missing:
            raise ConformanceSetupError(f"{plan.template}: no value for {', '.join(sorted(missing))}")
        path = os.path.join(out_dir, plan.template)
        _write_private(path, dumps(config) + "\n")
        result.configs[plan_alias] = path
        index.append({"plan": plan.name, "variant": plan.variant, "alias": plan_alias, "config": plan.template})
        result.lines.append(f"{plan.name} {json.dumps(plan.variant)} -> {path}")
    _write_private(credentials_path, json.dumps(credentials, indent=2) + "\n")
    _write_private(os.path.join(out_dir, "plans.json"), dumps(index) + "\n")
    result.lines.append(f"test person {result.email} (P9); {len(result.clients)} clients; "
                        f"secrets, keys and the password are only in {out_dir}")
    if not settings.issuer.startswith("https://"):
        result.lines.append(f"warning: the issuer {settings.issuer} is not https, and the suite needs https "
                            "(see conformance/README.md: idp serve --tls)")
    return result
