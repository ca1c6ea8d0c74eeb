"""Fixtures: each test gets a fresh provider over a database made by the Alembic migrations.

The migrated database (with signing keys) is built once per run and copied
(SQLite) or emptied (PostgreSQL, when IDP_TEST_DATABASE_URL is set) per test.
Helpers that drive the real app over HTTP live in ``support.py``.
"""
from __future__ import annotations

import itertools
import shutil
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from support import PASSWORD, PG_URL, RelyingParty, make_app, public_pem


@pytest.fixture(scope="session")
def template_db(tmp_path_factory):
    """Migrate once (Alembic, as production does) and generate signing keys once."""
    from flask_migrate import upgrade

    base = tmp_path_factory.mktemp("template")
    url = PG_URL or f"sqlite:///{base / 'template.sqlite3'}"
    app = make_app(url, str(base))
    with app.app_context():
        from idp.extensions import db

        if PG_URL:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        upgrade()
        app.extensions["idp"].keystore.ensure_keys(development=True)
        load_synthetic_set()  # the shipped synthetic PDS and GP system, as `make run` loads them
        with db.engine.connect() as conn:
            keys = [dict(row._mapping) for row in conn.exec_driver_sql("SELECT * FROM signing_key")]
        db.session.remove()
        db.engine.dispose()
    return url, base, keys


SYNTHETIC_TABLES = ("synthetic_patient", "synthetic_gp_account")


def load_synthetic_set():
    from idp.proofing.pds.synthetic import DEFAULT_SET, load

    return load(DEFAULT_SET)


def _synthetic_fingerprint(conn):
    """PostgreSQL only: a digest of the whole synthetic set, so any change a test made is put back."""
    return conn.exec_driver_sql(
        "SELECT (SELECT md5(string_agg(resource::text, '' ORDER BY nhs_number)) FROM synthetic_patient),"
        " (SELECT md5(string_agg(ods_code || account_id || linkage_key, '' ORDER BY ods_code, account_id))"
        " FROM synthetic_gp_account)").one()


@pytest.fixture
def app(template_db, tmp_path):
    url, base, keys = template_db
    if PG_URL:
        test_url = url
    else:
        target = tmp_path / "idp.sqlite3"
        shutil.copy(base / "template.sqlite3", target)
        test_url = f"sqlite:///{target}"
    application = make_app(test_url, str(tmp_path))
    synthetic_fingerprint = None
    if PG_URL:
        with application.app_context():
            from idp.extensions import db

            with db.engine.connect() as conn:
                synthetic_fingerprint = _synthetic_fingerprint(conn)
    yield application
    from idp.jobs import stop_worker

    stop_worker(application)
    with application.app_context():
        from idp.extensions import db

        if PG_URL:
            # Empty every table, and put back the template's signing keys (a test may have rotated them).
            # The synthetic national services are data, not state: kept, unless a test loaded another set.
            tables = [t.name for t in db.metadata.sorted_tables if t.name not in SYNTHETIC_TABLES]
            with db.engine.begin() as conn:
                conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} CASCADE")
                conn.execute(db.metadata.tables["signing_key"].insert(), keys)
                changed = _synthetic_fingerprint(conn) != synthetic_fingerprint
            if changed:
                load_synthetic_set()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def sqlite_copy(template_db, tmp_path):
    """A private copy of the migrated SQLite template (with keys), for tests that build their own app;
    ``sqlite_copy(name)`` returns its URL. Skipped on PostgreSQL, which has one shared database."""
    url, base, _keys = template_db
    if not url.startswith("sqlite"):
        pytest.skip("needs the SQLite template")

    def _copy(name: str = "copy.sqlite3") -> str:
        target = tmp_path / name
        shutil.copy(base / "template.sqlite3", target)
        return f"sqlite:///{target}"

    return _copy


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def rp_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key


@pytest.fixture(scope="session")
def other_rp_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def register(app, client, rp_key):
    """Register a client: ``register(scope=..., vtr=[...], auth_method=...)`` returns a RelyingParty."""

    def _register(**fields) -> RelyingParty:
        from idp.protocol.registration import register_client

        key = fields.pop("key", rp_key)
        auth_method = fields.pop("auth_method", "private_key_jwt")
        defaults = {
            "name": "Test service", "redirect_uris": ["https://rp.example/callback"],
            "post_logout_redirect_uris": ["https://rp.example/logged-out"],
            "scope": "openid profile email phone basic_demographics profile_extended gp_registration_details client_metadata",
            "vtr": ["P0.Cp", "P5.Cp", "P9.Cp", "P9.Cp.Cd"], "token_endpoint_auth_method": auth_method,
        }
        defaults.update(fields)
        with app.app_context():
            key_fields = {"public_key_pem": public_pem(key)} if auth_method == "private_key_jwt" else {}
            registered, secret = register_client(defaults, development=True, client_id=fields.get("client_id"), key=key_fields)
            client_id = registered.client_id
            alg = registered.id_token_alg
        return RelyingParty(client, app, client_id, key=key, secret=secret, auth_method=auth_method,
                            redirect_uri=defaults["redirect_uris"][0], alg=alg)

    return _register


@pytest.fixture
def rp(register):
    return register()


def _next_phone() -> str:
    """A number of Ofcom's drama range, different for each test person (codes are capped per number an hour)."""
    return f"+447700900{next(_PHONES) % 1000:03d}"


_PHONES = itertools.count(int(uuid.uuid4().int % 1000))


def _nhs_numbers():
    """9990000018, then valid test-range numbers no synthetic PDS record uses (9990900000 up)."""
    from idp.people import nhs_number_is_valid

    yield "9990000018"
    for stem in range(999090000, 999099999):
        for check in range(10):
            if nhs_number_is_valid(f"{stem}{check}"):
                yield f"{stem}{check}"


@pytest.fixture
def person(app):
    """Create a person: ``person(level="P9", email=...)`` returns the email."""

    numbers = _nhs_numbers()

    def _person(level="P0", email=None, **extra):
        from idp.people import add_test_person

        email = email or f"{uuid.uuid4().hex[:10]}@example.com"
        details = {}
        if level in ("P5", "P9"):
            # One NHS number per account: the first proofed person of a test is 9990000018, then others.
            details = dict(nhs_number=next(numbers), given_name="Priya", family_name="Patel", birthdate="1985-04-12",
                           postcode="LS1 4AP", gp_ods_code="B86001")
        details.update(extra)
        with app.app_context():
            details.setdefault("phone", _next_phone())
            add_test_person(app.extensions["idp"].settings, email=email, password=PASSWORD, level=level, **details)
        return email

    return _person
