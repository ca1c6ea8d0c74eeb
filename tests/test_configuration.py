"""Configuration from IDP_* variables: safe defaults, and refusal to start unsafely outside development."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from idp import ConfigurationError, check_ready, create_app
from idp.config import DEV_SECRET_KEY, Settings

GOOD_SECRET = "s3cure-" + "x" * 40
HTTPS_ISSUER = "https://login.example.nhs.uk"


@pytest.fixture(autouse=True)
def instance_dir(tmp_path, monkeypatch):
    """create_app makes its instance folder: keep it out of the repository."""
    path = tmp_path / "instance"
    monkeypatch.setenv("IDP_INSTANCE_PATH", str(path))
    return path


@pytest.fixture
def db_copy(sqlite_copy):
    """A migrated database holding the development signing keys (as made by the test template)."""
    return sqlite_copy()


# Live reads the real PDS (no synthetic data in live): every live configuration names one.
LIVE_PDS = {"IDP_PDS_ADAPTER": "fhir", "IDP_PDS_BASE_URL": "https://pds.example.nhs.uk/FHIR/R4"}


def settings(tmp_path, **env) -> Settings:
    return Settings.from_env({k: str(v) for k, v in env.items()}, instance_path=str(tmp_path))


def dispose(app):
    with app.app_context():
        from idp.extensions import db

        db.session.remove()
        db.engine.dispose()


# --- defaults ------------------------------------------------------------------------------------
def test_defaults_are_development_with_sqlite_under_the_instance_path(tmp_path):
    s = settings(tmp_path)
    assert s.env == "development"
    assert s.is_development
    expected = "sqlite:///" + os.path.join(os.path.abspath(str(tmp_path)), "idp.sqlite3")
    assert s.database_url == expected
    assert s.issuer == "http://127.0.0.1:5000"
    assert s.secret_key == DEV_SECRET_KEY
    assert s.code_ttl == 60
    assert s.id_token_ttl == 3600
    assert s.access_token_ttl == 300
    assert s.refresh_token_ttl == 30 * 24 * 3600


def test_issuer_follows_port_and_loses_trailing_slash(tmp_path):
    assert settings(tmp_path, PORT=5050).issuer == "http://127.0.0.1:5050"
    assert settings(tmp_path, IDP_ISSUER="https://idp.example/").issuer == "https://idp.example"


def test_database_url_can_be_set(tmp_path):
    assert settings(tmp_path, IDP_DATABASE_URL="postgresql://u@h/idp").database_url == "postgresql://u@h/idp"


def test_development_app_starts_with_the_default_secret(tmp_path, db_copy):
    app = create_app({"TESTING": True}, settings=settings(tmp_path, IDP_DATABASE_URL=db_copy))
    check_ready(app)  # development keys and secret are fine in development
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["MAX_CONTENT_LENGTH"] == 64 * 1024
    dispose(app)


# --- values refused when read --------------------------------------------------------------------
def test_unknown_environment_is_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="IDP_ENV"):
        settings(tmp_path, IDP_ENV="production")
    with pytest.raises(ConfigurationError):
        settings(tmp_path, IDP_ENV="LIVE")


@pytest.mark.parametrize("name", ["IDP_CODE_TTL", "IDP_ACCESS_TOKEN_TTL", "IDP_ID_TOKEN_TTL",
                                  "IDP_REFRESH_TOKEN_TTL", "IDP_SESSION_TTL"])
def test_non_integer_lifetime_is_refused_naming_the_variable(tmp_path, name):
    with pytest.raises(ConfigurationError, match=name):
        settings(tmp_path, **{name: "5m"})


@pytest.mark.parametrize("name", ["IDP_CODE_TTL", "IDP_ACCESS_TOKEN_TTL", "IDP_ID_TOKEN_TTL", "IDP_REFRESH_TOKEN_TTL"])
@pytest.mark.parametrize("value", ["0", "-60"])
def test_non_positive_lifetime_is_refused(tmp_path, name, value):
    with pytest.raises(ConfigurationError):
        settings(tmp_path, **{name: value})


def test_code_lifetime_is_at_most_ten_minutes(tmp_path):
    assert settings(tmp_path, IDP_CODE_TTL=600).code_ttl == 600
    with pytest.raises(ConfigurationError, match="IDP_CODE_TTL"):
        settings(tmp_path, IDP_CODE_TTL=601)


def test_lifetimes_are_read(tmp_path):
    s = settings(tmp_path, IDP_CODE_TTL=30, IDP_ID_TOKEN_TTL=1800, IDP_ACCESS_TOKEN_TTL=120)
    assert (s.code_ttl, s.id_token_ttl, s.access_token_ttl) == (30, 1800, 120)
    assert s.longest_jwt_lifetime == 1800


# --- refusing to start outside development -------------------------------------------------------
@pytest.mark.parametrize("env", ["live", "integration", "sandpit"])
def test_non_development_with_default_secret_refuses_to_start(tmp_path, db_copy, env):
    s = settings(tmp_path, IDP_ENV=env, IDP_ISSUER=HTTPS_ISSUER, IDP_DATABASE_URL=db_copy)
    with pytest.raises(ConfigurationError, match="IDP_SECRET_KEY"):
        create_app(settings=s)


def test_live_with_a_short_secret_refuses_to_start(tmp_path, db_copy):
    s = settings(tmp_path, IDP_ENV="live", IDP_ISSUER=HTTPS_ISSUER, IDP_SECRET_KEY="short-secret",
                 IDP_DATABASE_URL=db_copy)
    with pytest.raises(ConfigurationError, match="IDP_SECRET_KEY"):
        create_app(settings=s)


@pytest.mark.parametrize("issuer", ["http://login.example.nhs.uk", "http://127.0.0.1:5000"])
def test_live_with_non_https_issuer_refuses_to_start(tmp_path, db_copy, issuer):
    s = settings(tmp_path, IDP_ENV="live", IDP_ISSUER=issuer, IDP_SECRET_KEY=GOOD_SECRET, IDP_DATABASE_URL=db_copy)
    with pytest.raises(ConfigurationError, match="https"):
        create_app(settings=s)


def test_live_with_development_keys_is_not_ready(tmp_path, db_copy):
    s = settings(tmp_path, IDP_ENV="live", IDP_ISSUER=HTTPS_ISSUER, IDP_SECRET_KEY=GOOD_SECRET, **LIVE_PDS,
                 IDP_DATABASE_URL=db_copy)
    app = create_app(settings=s)  # secret and issuer are fine ...
    with pytest.raises(ConfigurationError, match="development signing keys"):
        check_ready(app)  # ... but the database holds development keys
    dispose(app)


def test_live_becomes_ready_once_development_keys_have_retired(tmp_path, db_copy):
    s = settings(tmp_path, IDP_ENV="live", IDP_ISSUER=HTTPS_ISSUER, IDP_SECRET_KEY=GOOD_SECRET, **LIVE_PDS,
                 IDP_DATABASE_URL=db_copy)
    app = create_app(settings=s)
    with freeze_time(datetime.now(timezone.utc)) as frozen:
        result = app.test_cli_runner().invoke(args=["keys", "rotate", "--promote-after", "0"])
        assert result.exit_code == 0, result.output
        # Still published (tokens they signed may be alive), so still "in use".
        with pytest.raises(ConfigurationError, match="development signing keys"):
            check_ready(app)
        frozen.tick(timedelta(seconds=s.longest_jwt_lifetime + 1))
        check_ready(app)
        keys = app.test_client().get("/.well-known/jwks.json", base_url=HTTPS_ISSUER).get_json()["keys"]
        assert keys and len(keys) == 4
    dispose(app)


def test_live_with_fresh_keys_is_ready(tmp_path, db_copy):
    s = settings(tmp_path, IDP_ENV="live", IDP_ISSUER=HTTPS_ISSUER, IDP_SECRET_KEY=GOOD_SECRET, **LIVE_PDS,
                 IDP_DATABASE_URL=db_copy)
    app = create_app(settings=s)
    with app.app_context():
        from idp.extensions import db
        from idp.models import SigningKey

        SigningKey.query.delete()
        db.session.commit()
        app.extensions["idp"].keystore.invalidate()
    result = app.test_cli_runner().invoke(args=["keys", "init"])
    assert result.exit_code == 0, result.output
    assert "created RS512 key" in result.output
    assert "(development)" not in result.output
    check_ready(app)
    discovery = app.test_client().get("/.well-known/openid-configuration", base_url=HTTPS_ISSUER).get_json()
    assert discovery["issuer"] == HTTPS_ISSUER
    dispose(app)


def test_sandpit_with_a_real_secret_and_https_starts(tmp_path, db_copy):
    s = settings(tmp_path, IDP_ENV="sandpit", IDP_ISSUER=HTTPS_ISSUER, IDP_SECRET_KEY=GOOD_SECRET,
                 IDP_DATABASE_URL=db_copy)
    app = create_app(settings=s)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    dispose(app)


def test_live_refuses_the_synthetic_pds_and_the_gp_simulator(tmp_path, db_copy):
    s = settings(tmp_path, IDP_ENV="live", IDP_ISSUER=HTTPS_ISSUER, IDP_SECRET_KEY=GOOD_SECRET,
                 IDP_DATABASE_URL=db_copy, IDP_GP_SYSTEM_ADAPTER="simulator")
    with pytest.raises(ConfigurationError) as refused:
        create_app(settings=s)
    assert "IDP_PDS_ADAPTER=synthetic" in str(refused.value)
    assert "IDP_GP_SYSTEM_ADAPTER=simulator" in str(refused.value)


def test_live_offers_no_gp_route_until_a_supplier_is_plugged_in(tmp_path):
    s = settings(tmp_path, IDP_ENV="live", IDP_ISSUER=HTTPS_ISSUER, IDP_SECRET_KEY=GOOD_SECRET, **LIVE_PDS)
    assert s.gp_system_adapter == "none"


@pytest.mark.parametrize("env, message", [
    ({"IDP_PDS_ADAPTER": "carrier-pigeon"}, "IDP_PDS_ADAPTER must be synthetic or fhir"),
    ({"IDP_PDS_ADAPTER": "fhir"}, "needs IDP_PDS_BASE_URL"),
    ({"IDP_GP_SYSTEM_ADAPTER": "emis"}, "IDP_GP_SYSTEM_ADAPTER must be simulator or none"),
    ({"IDP_PROOFING_ATTEMPTS_PER_ACCOUNT": "0"}, "proofing_attempts_per_account must be positive"),
])
def test_proofing_settings_are_checked(tmp_path, env, message):
    with pytest.raises(ConfigurationError, match=message):
        settings(tmp_path, **env)
