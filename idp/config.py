"""Configuration from IDP_* environment variables, with safe defaults.

Development runs with generated keys and a well-known secret; every other
environment refuses to start with either (see ``check_production_safety``).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

ENVIRONMENTS = ("development", "sandpit", "integration", "live")
DEV_SECRET_KEY = "dev-only-secret-key-change-me"


class ConfigurationError(RuntimeError):
    """The provider must not start with this configuration."""


def _int(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number of seconds, got {raw!r}") from exc


def _port(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigurationError(f"{name} must be a TCP port number, got {raw!r}")
    return int(raw)


def _json_object(env: dict, name: str) -> dict:
    raw = env.get(name)
    if raw in (None, ""):
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a JSON object") from exc
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigurationError(f"{name} must be a JSON object of strings")
    return value


def _bool(env: dict, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def _https_or_loopback(url: str) -> bool:
    """https anywhere; plain http only to this machine (a local PDS for development), host compared exactly."""
    from urllib.parse import urlsplit

    parts = urlsplit(url or "")
    return bool(parts.hostname) and (parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")))


def _message_default(env: dict) -> str:
    return "outbox" if env.get("IDP_ENV", "development") == "development" else "none"


@dataclass
class Settings:
    env: str = "development"
    issuer: str = "http://127.0.0.1:5000"
    service_name: str = "NHS login"  # in page headers, authenticator apps and passkey prompts
    secret_key: str = DEV_SECRET_KEY
    database_url: str = ""
    code_ttl: int = 60
    access_token_ttl: int = 300
    id_token_ttl: int = 3600
    refresh_token_ttl: int = 30 * 24 * 3600
    session_ttl: int = 12 * 3600
    client_assertion_max_age: int = 300
    key_promote_after: int = 3600
    access_token_alg: str = "RS512"
    login_attempts_per_account: int = 5
    login_attempts_per_source: int = 30
    login_lockout_seconds: int = 900
    jwks_uri_cache_seconds: int = 300
    outbound_timeout_seconds: int = 5
    jobs_worker: bool = True
    jobs_poll_seconds: int = 5
    password_hash_profile: str = "standard"
    # Messages (idp/notifications): the adapter per channel, and what the adapters need.
    email_adapter: str = "outbox"
    sms_adapter: str = "outbox"
    voice_adapter: str = "outbox"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_ca_file: str = ""
    mail_from: str = ""
    notify_api_key: str = field(default="", repr=False)
    notify_template_ids: dict = field(default_factory=dict)
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    # Identity proofing (idp/proofing): the national services' adapters and the guess limits.
    pds_adapter: str = "synthetic"
    pds_base_url: str = ""
    pds_access_token: str = field(default="", repr=False)
    pds_timeout_seconds: int = 5
    gp_system_adapter: str = "simulator"
    proofing_attempts_per_account: int = 5
    proofing_attempts_per_source: int = 20
    proofing_lockout_seconds: int = 3600
    # Photo ID (idp/proofing/photo_id): the face-check vendor, upload limits and how long media may wait.
    face_check_adapter: str = "simulator"
    face_check_callback_secret: str = field(default="", repr=False)  # shared with the vendor; derived if empty
    photo_id_video_route: bool = True
    photo_id_max_image_bytes: int = 10 * 1024 * 1024
    photo_id_max_video_bytes: int = 40 * 1024 * 1024
    photo_id_review_seconds: int = 2 * 3600  # the ID checking team's target (journeys.md: "normally within 2 hours")
    photo_id_expiry_seconds: int = 7 * 24 * 3600  # unreviewed media are deleted after this
    # The staff area (idp/staff): its own session, ended after 15 idle minutes and at most 8 hours after login.
    staff_idle_seconds: int = 900
    staff_session_max_seconds: int = 8 * 3600
    developer_idle_seconds: int = 1800
    metrics_token: str = ""  # IDP_METRICS_TOKEN: /metrics needs it as a bearer token (outside development, always)
    developer_session_max_seconds: int = 12 * 3600
    # The account provisioning API (idp/provisioning): calls per ODS code per window, across every process.
    provisioning_requests_per_ods_code: int = 60
    provisioning_rate_window_seconds: int = 60
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict | None = None, instance_path: str = "instance") -> "Settings":
        env = dict(os.environ if env is None else env)
        port = env.get("PORT", "5000")
        settings = cls(
            env=env.get("IDP_ENV", "development"),
            issuer=env.get("IDP_ISSUER", f"http://127.0.0.1:{port}").rstrip("/"),
            secret_key=env.get("IDP_SECRET_KEY", DEV_SECRET_KEY),
            service_name=env.get("IDP_SERVICE_NAME") or "NHS login",
            database_url=env.get("IDP_DATABASE_URL")
            or "sqlite:///" + os.path.join(os.path.abspath(instance_path), "idp.sqlite3"),
            code_ttl=_int(env, "IDP_CODE_TTL", 60),
            access_token_ttl=_int(env, "IDP_ACCESS_TOKEN_TTL", 300),
            id_token_ttl=_int(env, "IDP_ID_TOKEN_TTL", 3600),
            refresh_token_ttl=_int(env, "IDP_REFRESH_TOKEN_TTL", 30 * 24 * 3600),
            session_ttl=_int(env, "IDP_SESSION_TTL", 12 * 3600),
            client_assertion_max_age=_int(env, "IDP_CLIENT_ASSERTION_MAX_AGE", 300),
            key_promote_after=_int(env, "IDP_KEY_PROMOTE_AFTER", 3600),
            access_token_alg=env.get("IDP_ACCESS_TOKEN_ALG", "RS512"),
            login_attempts_per_account=_int(env, "IDP_LOGIN_ATTEMPTS_PER_ACCOUNT", 5),
            login_attempts_per_source=_int(env, "IDP_LOGIN_ATTEMPTS_PER_SOURCE", 30),
            login_lockout_seconds=_int(env, "IDP_LOGIN_LOCKOUT_SECONDS", 900),
            jwks_uri_cache_seconds=_int(env, "IDP_JWKS_URI_CACHE_SECONDS", 300),
            outbound_timeout_seconds=_int(env, "IDP_OUTBOUND_TIMEOUT_SECONDS", 5),
            jobs_worker=_bool(env, "IDP_JOBS_WORKER", True),
            jobs_poll_seconds=_int(env, "IDP_JOBS_POLL_SECONDS", 5),
            password_hash_profile=env.get("IDP_PASSWORD_HASH_PROFILE", "standard"),
            # The outbox only keeps messages, so it is the default in development alone; elsewhere a
            # channel sends nothing (``none``) until a real adapter is chosen.
            email_adapter=env.get("IDP_EMAIL_ADAPTER") or _message_default(env),
            sms_adapter=env.get("IDP_SMS_ADAPTER") or _message_default(env),
            voice_adapter=env.get("IDP_VOICE_ADAPTER") or _message_default(env),
            smtp_host=env.get("IDP_SMTP_HOST", ""),
            smtp_port=_port(env, "IDP_SMTP_PORT", 587),
            smtp_username=env.get("IDP_SMTP_USERNAME", ""),
            smtp_password=env.get("IDP_SMTP_PASSWORD", ""),
            smtp_ca_file=env.get("IDP_SMTP_CA_FILE", ""),
            mail_from=env.get("IDP_MAIL_FROM", ""),
            notify_api_key=env.get("IDP_NOTIFY_API_KEY", ""),
            notify_template_ids=_json_object(env, "IDP_NOTIFY_TEMPLATE_IDS"),
            notify_base_url=env.get("IDP_NOTIFY_BASE_URL") or "https://api.notifications.service.gov.uk",
            pds_adapter=env.get("IDP_PDS_ADAPTER") or "synthetic",
            pds_base_url=(env.get("IDP_PDS_BASE_URL") or "").rstrip("/"),
            pds_access_token=env.get("IDP_PDS_ACCESS_TOKEN", ""),
            pds_timeout_seconds=_int(env, "IDP_PDS_TIMEOUT_SECONDS", 5),
            # No GP supplier is plugged in yet: live offers no GP-details route rather than a simulator.
            gp_system_adapter=env.get("IDP_GP_SYSTEM_ADAPTER") or ("none" if env.get("IDP_ENV") == "live" else "simulator"),
            proofing_attempts_per_account=_int(env, "IDP_PROOFING_ATTEMPTS_PER_ACCOUNT", 5),
            proofing_attempts_per_source=_int(env, "IDP_PROOFING_ATTEMPTS_PER_SOURCE", 20),
            proofing_lockout_seconds=_int(env, "IDP_PROOFING_LOCKOUT_SECONDS", 3600),
            # No ID-check vendor is contracted yet: live offers no face scan rather than the simulator.
            face_check_adapter=env.get("IDP_FACE_CHECK_ADAPTER") or ("none" if env.get("IDP_ENV") == "live" else "simulator"),
            face_check_callback_secret=env.get("IDP_FACE_CHECK_CALLBACK_SECRET", ""),
            photo_id_video_route=_bool(env, "IDP_PHOTO_ID_VIDEO_ROUTE", True),
            photo_id_max_image_bytes=_int(env, "IDP_PHOTO_ID_MAX_IMAGE_BYTES", 10 * 1024 * 1024),
            photo_id_max_video_bytes=_int(env, "IDP_PHOTO_ID_MAX_VIDEO_BYTES", 40 * 1024 * 1024),
            photo_id_review_seconds=_int(env, "IDP_PHOTO_ID_REVIEW_SECONDS", 2 * 3600),
            photo_id_expiry_seconds=_int(env, "IDP_PHOTO_ID_EXPIRY_SECONDS", 7 * 24 * 3600),
            staff_idle_seconds=_int(env, "IDP_STAFF_IDLE_SECONDS", 900),
            staff_session_max_seconds=_int(env, "IDP_STAFF_SESSION_MAX_SECONDS", 8 * 3600),
            developer_idle_seconds=_int(env, "IDP_DEVELOPER_IDLE_SECONDS", 1800),
            metrics_token=env.get("IDP_METRICS_TOKEN", ""),
            developer_session_max_seconds=_int(env, "IDP_DEVELOPER_SESSION_MAX_SECONDS", 12 * 3600),
            provisioning_requests_per_ods_code=_int(env, "IDP_PROVISIONING_REQUESTS_PER_ODS_CODE", 60),
            provisioning_rate_window_seconds=_int(env, "IDP_PROVISIONING_RATE_WINDOW_SECONDS", 60),
        )
        settings.validate()
        return settings

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def longest_jwt_lifetime(self) -> int:
        """Keys must stay published at least this long after they stop signing."""
        return max(self.id_token_ttl, self.access_token_ttl)

    def validate(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ConfigurationError(f"IDP_ENV must be one of {', '.join(ENVIRONMENTS)}, got {self.env!r}")
        for name in ("code_ttl", "access_token_ttl", "id_token_ttl", "refresh_token_ttl", "session_ttl",
                     "outbound_timeout_seconds", "jobs_poll_seconds"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{name} must be positive")
        if self.password_hash_profile not in ("standard", "fast"):
            raise ConfigurationError("IDP_PASSWORD_HASH_PROFILE must be standard or fast")
        if self.code_ttl > 600:
            raise ConfigurationError("IDP_CODE_TTL must be at most 600 seconds (RFC 6749 4.1.2)")
        if self.pds_adapter not in ("synthetic", "fhir"):
            raise ConfigurationError("IDP_PDS_ADAPTER must be synthetic or fhir")
        if self.pds_adapter == "fhir" and not _https_or_loopback(self.pds_base_url):
            raise ConfigurationError("IDP_PDS_ADAPTER=fhir needs IDP_PDS_BASE_URL, an https URL")
        if self.gp_system_adapter not in ("simulator", "none"):
            raise ConfigurationError("IDP_GP_SYSTEM_ADAPTER must be simulator or none (a supplier's adapter plugs in here)")
        for name in ("pds_timeout_seconds", "proofing_attempts_per_account", "proofing_attempts_per_source",
                     "proofing_lockout_seconds", "photo_id_max_image_bytes", "photo_id_max_video_bytes",
                     "photo_id_review_seconds", "photo_id_expiry_seconds"):
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{name} must be positive")
        if self.face_check_adapter not in ("simulator", "none"):
            raise ConfigurationError("IDP_FACE_CHECK_ADAPTER must be simulator or none (a vendor's adapter plugs in here)")
        if self.photo_id_expiry_seconds < self.photo_id_review_seconds:
            raise ConfigurationError("IDP_PHOTO_ID_EXPIRY_SECONDS must not be shorter than IDP_PHOTO_ID_REVIEW_SECONDS")
        if self.provisioning_requests_per_ods_code <= 0 or self.provisioning_rate_window_seconds <= 0:
            raise ConfigurationError("IDP_PROVISIONING_REQUESTS_PER_ODS_CODE and _RATE_WINDOW_SECONDS must be positive")
        if self.staff_idle_seconds <= 0 or self.staff_session_max_seconds <= 0:
            raise ConfigurationError("IDP_STAFF_IDLE_SECONDS and IDP_STAFF_SESSION_MAX_SECONDS must be positive")
        if self.developer_idle_seconds <= 0 or self.developer_session_max_seconds <= 0:
            raise ConfigurationError("IDP_DEVELOPER_IDLE_SECONDS and IDP_DEVELOPER_SESSION_MAX_SECONDS must be positive")
        from .notifications.adapters import configuration_problems  # each adapter knows what it needs

        problems = configuration_problems(self)
        if problems:
            raise ConfigurationError("messages cannot be sent as configured: " + "; ".join(problems))

    def check_production_safety(self, development_keys_in_use: bool) -> None:
        """Outside development: no dev secret, no dev keys, an https issuer."""
        if self.is_development:
            return
        problems = []
        if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
            problems.append("IDP_SECRET_KEY is the development default or shorter than 32 characters")
        if not self.issuer.startswith("https://"):
            problems.append("IDP_ISSUER must be an https URL")
        if self.password_hash_profile != "standard":
            problems.append("IDP_PASSWORD_HASH_PROFILE=fast is for the test suite only")
        for channel in ("email", "sms", "voice"):
            if getattr(self, f"{channel}_adapter") == "outbox":
                problems.append(f"IDP_{channel.upper()}_ADAPTER=outbox keeps messages instead of sending them "
                                "(development only): choose smtp, govuk_notify or none")
        if self.env == "live" and self.pds_adapter == "synthetic":
            problems.append("IDP_PDS_ADAPTER=synthetic is synthetic data (interface.md Environments: none in live): "
                            "set IDP_PDS_ADAPTER=fhir and IDP_PDS_BASE_URL")
        if self.env == "live" and self.gp_system_adapter == "simulator":
            problems.append("IDP_GP_SYSTEM_ADAPTER=simulator is synthetic data and cannot run in live")
        if self.env == "live" and self.face_check_adapter == "simulator":
            problems.append("IDP_FACE_CHECK_ADAPTER=simulator decides by picture colour and cannot run in live")
        if development_keys_in_use:
            problems.append("development signing keys are in use: run `idp keys rotate --retire-now` to replace them (tokens they signed stop verifying)")
        if problems:
            raise ConfigurationError(f"refusing to start in {self.env}: " + "; ".join(problems))

    def flask_config(self) -> dict:
        secure = self.issuer.startswith("https://")
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True} if not self.database_url.startswith("sqlite") else {},
            "SESSION_COOKIE_NAME": "__Host-idp_session" if secure else "idp_session",
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": secure,
            # The staff area's own cookie (idp/areas/sessions.py): never the patients' session.
            "STAFF_SESSION_COOKIE_NAME": "__Host-idp_staff" if secure else "idp_staff",
            "DEVELOPER_SESSION_COOKIE_NAME": "__Host-idp_developer" if secure else "idp_developer",  # the portal's
            "PERMANENT_SESSION_LIFETIME": self.session_ttl,
            "MAX_CONTENT_LENGTH": 64 * 1024,
            "WTF_CSRF_TIME_LIMIT": None,  # bound to the server-side session instead
            "PREFERRED_URL_SCHEME": "https" if secure else "http",
        }
