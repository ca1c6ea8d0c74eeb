"""A relying party registration: what it may ask for and how it proves who it is."""
from __future__ import annotations

import secrets
import threading
import time

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy import JSON

from ..clock import now
from ..extensions import db

AUTH_METHODS = ("private_key_jwt", "client_secret_basic", "client_secret_post")
ID_TOKEN_ALGS = ("RS512", "RS256", "PS256", "ES256")
CLIENT_ENVIRONMENTS = ("sandpit", "integration", "live")
# A relying party logs people in (authorization code); a provisioning client is a staff system that calls the
# account provisioning API for its ODS codes (client_credentials, scope "provisioning") and logs nobody in.
RELYING_PARTY, PROVISIONING = "relying_party", "provisioning"
CLIENT_KINDS = (RELYING_PARTY, PROVISIONING)
# Registrations change rarely and are read on every protocol request; each process keeps them briefly.
CACHE_SECONDS = 5
_cache: dict[str, tuple[float, "Client"]] = {}
_cache_lock = threading.Lock()


class Client(db.Model, ClientMixin):
    __tablename__ = "client"

    client_id = db.Column(db.String(64), primary_key=True)
    name = db.Column(db.String(200), nullable=False)
    environment = db.Column(db.String(20), nullable=False, default="sandpit")
    kind = db.Column(db.String(20), nullable=False, default=RELYING_PARTY, server_default=RELYING_PARTY)
    ods_codes = db.Column(JSON, nullable=False, default=list, server_default="[]")  # provisioning: who it acts for
    redirect_uris = db.Column(JSON, nullable=False, default=list)
    post_logout_redirect_uris = db.Column(JSON, nullable=False, default=list)
    scopes = db.Column(JSON, nullable=False, default=list)
    vectors = db.Column(JSON, nullable=False, default=list)
    auth_method = db.Column(db.String(40), nullable=False, default="private_key_jwt")
    secret_hash = db.Column(db.String(200))
    public_key_pem = db.Column(db.Text)
    jwks = db.Column(JSON)
    jwks_uri = db.Column(db.String(500))
    id_token_alg = db.Column(db.String(10), nullable=False, default="RS512")
    pkce_required = db.Column(db.Boolean, nullable=False, default=True)
    nonce_required = db.Column(db.Boolean, nullable=False, default=True)
    refresh_tokens = db.Column(db.Boolean, nullable=False, default=False)
    backchannel_logout_uri = db.Column(db.String(500))
    subject_type = db.Column(db.String(20), nullable=False, default="public")
    prompt_none_error = db.Column(db.String(40), nullable=False, default="login_required")
    sector_identifier_uri = db.Column(db.String(500))  # pairwise subjects (OIDC Core 8.1)
    request_object_signing_alg = db.Column(db.String(10))  # JAR (RFC 9101): the alg its request objects use
    require_pushed_authorization_requests = db.Column(db.Boolean, nullable=False, default=False)  # RFC 9126
    sso_partners = db.Column(JSON, nullable=False, default=list)  # clients whose asserted_login_identity it accepts
    registration_access_token_hash = db.Column(db.String(100))  # RFC 7592 management of a dynamic registration
    registered_dynamically = db.Column(db.Boolean, nullable=False, default=False)
    extra_metadata = db.Column(JSON, nullable=False, default=dict)  # other RFC 7591 metadata (contacts, logo_uri...)
    source = db.Column(db.String(200))  # file it was synced from, if declarative
    service_id = db.Column(db.String(36), index=True)  # the integrator portal's service it belongs to, if any
    # What an admin approved (scopes, vectors, redirect and logout URIs) for an integration or live client made
    # in the portal: its integrator may change it only within this. None: no approval bounds it.
    approved = db.Column(JSON)
    created_at = db.Column(db.Integer, nullable=False, default=now)
    updated_at = db.Column(db.Integer, nullable=False, default=now, onupdate=now)

    @classmethod
    def find(cls, client_id) -> "Client | None":
        """A registration for reading (protocol hot paths); changes reach every process within CACHE_SECONDS."""
        if not isinstance(client_id, str) or not client_id or len(client_id) > 64 or "\x00" in client_id:
            return None
        loaded = db.session.identity_map.get(db.session.identity_key(cls, client_id))
        if loaded is not None:
            return loaded  # already part of this request's work (maybe being changed): never detach it
        hit = _cache.get(client_id)
        if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        client = db.session.get(cls, client_id)
        if client is not None:
            db.session.expunge(client)  # a read-only snapshot, safe to share between requests
            with _cache_lock:
                _cache[client_id] = (time.monotonic(), client)
        return client

    @staticmethod
    def forget_cached(client_id: str | None = None) -> None:
        with _cache_lock:
            if client_id is None:
                _cache.clear()
            else:
                _cache.pop(client_id, None)

    @staticmethod
    def new_client_id() -> str:
        return secrets.token_hex(16)  # hex: never starts with "-", safe as a CLI argument

    # --- Authlib ClientMixin -------------------------------------------------
    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        # Never guess: interface.md makes redirect_uri required.
        return None

    def get_allowed_scope(self, scope):
        if not scope:
            return ""
        allowed = set(self.scopes)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        """Exact string match, as interface.md and RFC 9700 2.1 require."""
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        from ..protocol.secrets import verify_client_secret

        return bool(self.secret_hash) and verify_client_secret(self.secret_hash, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == self.auth_method

    def check_response_type(self, response_type):
        return response_type == "code" and not self.is_provisioning

    def check_grant_type(self, grant_type):
        if self.is_provisioning:
            return grant_type == "client_credentials"
        if grant_type == "authorization_code":
            return True
        if grant_type == "refresh_token":
            return bool(self.refresh_tokens)
        return False

    # --- domain --------------------------------------------------------------
    @property
    def is_provisioning(self) -> bool:
        return self.kind == PROVISIONING

    @property
    def has_key(self) -> bool:
        return bool(self.public_key_pem or self.jwks or self.jwks_uri)

    def to_dict(self) -> dict:
        return {
            "client_id": self.client_id,
            "name": self.name,
            "environment": self.environment,
            "kind": self.kind or RELYING_PARTY,
            "ods_codes": list(self.ods_codes or []),
            "redirect_uris": list(self.redirect_uris),
            "post_logout_redirect_uris": list(self.post_logout_redirect_uris),
            "scope": " ".join(self.scopes),
            "vtr": list(self.vectors),
            "token_endpoint_auth_method": self.auth_method,
            "id_token_signed_response_alg": self.id_token_alg,
            "pkce": "required" if self.pkce_required else "optional",
            "nonce": "required" if self.nonce_required else "optional",
            "refresh_tokens": bool(self.refresh_tokens),
            "backchannel_logout_uri": self.backchannel_logout_uri,
            "subject_type": self.subject_type,
            "sector_identifier_uri": self.sector_identifier_uri,
            "registered_dynamically": bool(self.registered_dynamically),
            "extra_metadata": dict(self.extra_metadata or {}),
            "prompt_none_error": self.prompt_none_error,
            "sso_partners": list(self.sso_partners or []),
            "request_object_signing_alg": self.request_object_signing_alg,
            "require_pushed_authorization_requests": bool(self.require_pushed_authorization_requests),
            "key": "pem" if self.public_key_pem else "jwks" if self.jwks else "jwks_uri" if self.jwks_uri else None,
            "jwks_uri": self.jwks_uri,
        }
