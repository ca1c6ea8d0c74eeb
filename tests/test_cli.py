"""The ``idp`` command line: clients, test people and keys, as an operator uses them."""
from __future__ import annotations

import base64
import datetime
import json
import re
import shutil
import time
import uuid

import pyotp
import pytest
from cryptography.hazmat.primitives import serialization
from freezegun import freeze_time

from support import PASSWORD, RelyingParty, log_in, public_pem

GOOD_SECRET = "s3cure-" + "x" * 40
T0 = 1_800_000_000  # 2027-01-15 08:00 UTC
RS_CB = "https://a.example/cb"


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args):
        return runner.invoke(args=[str(a) for a in args])

    return run


@pytest.fixture
def pem_file(tmp_path, rp_key):
    path = tmp_path / "rp-public.pem"
    path.write_text(public_pem(rp_key))
    return str(path)


@pytest.fixture
def private_pem_file(tmp_path, rp_key):
    path = tmp_path / "rp-private.pem"
    path.write_bytes(rp_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return str(path)


def add_args(pem_file, *extra, name="X", redirect=(RS_CB,)):
    args = ["clients", "add", "--name", name]
    for uri in redirect:
        args += ["--redirect-uri", uri]
    if pem_file:
        args += ["--public-key", pem_file]
    return args + ["--scope", "openid profile", "--vtr", '["P9.Cp.Cd"]', *extra]


def added(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def token_with_secret(http, client_id, secret):
    """Authenticate at /token with client_secret_basic and a made-up code: invalid_grant means the secret worked."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = http.post("/token", data={"grant_type": "authorization_code", "code": "nope",
                                         "redirect_uri": RS_CB, "code_verifier": "v" * 43},
                         headers={"Authorization": f"Basic {basic}"})
    return response.status_code, response.get_json().get("error")


# --- clients add ---------------------------------------------------------------------------------
def test_add_prints_client_with_strict_defaults(cli, pem_file):
    client = added(cli(*add_args(pem_file)))
    assert client["client_id"]
    assert client["name"] == "X"
    assert client["redirect_uris"] == [RS_CB]
    assert client["token_endpoint_auth_method"] == "private_key_jwt"
    assert client["id_token_signed_response_alg"] == "RS512"
    assert client["pkce"] == "required"
    assert client["nonce"] == "required"
    assert client["refresh_tokens"] is False
    assert client["subject_type"] == "public"
    assert client["scope"].split() == ["openid", "profile"]
    assert client["vtr"] == ["P9.Cp.Cd"]
    assert client["key"] == "pem"
    assert "client_secret" not in client


def test_added_client_works_end_to_end(app, client, cli, pem_file, rp_key, person):
    registered = added(cli("clients", "add", "--name", "CLI RP", "--redirect-uri", RS_CB, "--public-key", pem_file,
                           "--scope", "openid profile", "--vtr", '["P9.Cp"]'))
    rp = RelyingParty(client, app, registered["client_id"], key=rp_key, redirect_uri=RS_CB)
    tokens = rp.tokens_for(person("P9"), scope="openid profile")
    claims = rp.verify_id_token(tokens["id_token"])
    assert claims["aud"] == registered["client_id"]
    assert claims["vot"] == "P9.Cp"
    assert claims["nhs_number"] == "9990000018"


def test_generated_client_ids_can_be_typed_as_command_arguments():
    """A random client_id must not start with "-", or `idp clients show <id>` reads it as an option."""
    from idp.models import Client

    ids = [Client.new_client_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert not [i for i in ids if i.startswith("-")]


def test_two_adds_get_different_client_ids_and_chosen_id_is_unique(cli, pem_file):
    first = added(cli(*add_args(pem_file)))
    second = added(cli(*add_args(pem_file)))
    assert first["client_id"] != second["client_id"]
    chosen = added(cli(*add_args(pem_file, "--client-id", "my-service")))
    assert chosen["client_id"] == "my-service"
    again = cli(*add_args(pem_file, "--client-id", "my-service"))
    assert again.exit_code != 0
    assert "already registered" in again.output


def test_secret_method_prints_secret_once_and_show_never_does(client, cli):
    result = cli(*add_args(None, "--auth-method", "client_secret_basic"))
    registered = added(result)
    secret = registered["client_secret"]
    assert len(secret) >= 32
    assert registered["token_endpoint_auth_method"] == "client_secret_basic"

    shown = cli("clients", "show", "--", registered["client_id"])
    assert shown.exit_code == 0, shown.output
    assert secret not in shown.output
    assert "client_secret" not in json.loads(shown.output)
    assert "secret_hash" not in shown.output
    listed = cli("clients", "list")
    assert secret not in listed.output

    # The printed secret is the one that works at /token, and a wrong one does not.
    assert token_with_secret(client, registered["client_id"], secret) == (400, "invalid_grant")
    assert token_with_secret(client, registered["client_id"], secret + "x")[1] == "invalid_client"


def test_update_new_secret_replaces_the_old_one(client, cli):
    registered = added(cli(*add_args(None, "--auth-method", "client_secret_basic")))
    old = registered["client_secret"]
    updated = added(cli("clients", "update", "--new-secret", "--", registered["client_id"]))
    new = updated["client_secret"]
    assert new != old
    assert token_with_secret(client, registered["client_id"], new) == (400, "invalid_grant")
    assert token_with_secret(client, registered["client_id"], old)[1] == "invalid_client"
    # An update without --new-secret prints no secret.
    plain = added(cli("clients", "update", "--name", "Renamed", "--", registered["client_id"]))
    assert "client_secret" not in plain


def test_private_key_jwt_without_a_key_is_refused(cli):
    result = cli(*add_args(None))
    assert result.exit_code != 0
    assert "private_key_jwt needs" in result.output


@pytest.mark.parametrize("uri, message", [
    ("http://a.example/cb", "must use https"),
    ("https://*.example.com/cb", "wildcard"),
    ("https://a.example/*", "wildcard"),
    ("https://a.example/cb#frag", "fragment"),
    ("https://a.example/cb?x=1", "query"),
    ("/relative/cb", "https"),
    ("javascript:alert(1)", "https"),
])
def test_bad_redirect_uris_are_refused_with_a_clear_message(cli, pem_file, uri, message):
    result = cli(*add_args(pem_file, redirect=(uri,)))
    assert result.exit_code != 0
    assert "redirect_uris" in result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert cli("clients", "list").output.strip() == ""


def test_more_than_ten_redirect_uris_are_refused(cli, pem_file):
    uris = [f"https://a.example/cb{i}" for i in range(11)]
    result = cli(*add_args(pem_file, redirect=uris))
    assert result.exit_code != 0
    assert "at most 10" in result.output
    assert len(added(cli(*add_args(pem_file, redirect=uris[:10])))["redirect_uris"]) == 10


@pytest.mark.parametrize("uri", ["http://127.0.0.1:8080/cb", "http://localhost:8080/cb", "http://[::1]/cb"])
def test_http_loopback_is_allowed_in_development(cli, pem_file, uri):
    assert added(cli(*add_args(pem_file, redirect=(uri,))))["redirect_uris"] == [uri]


def test_private_key_pem_is_refused(cli, private_pem_file):
    result = cli(*add_args(private_pem_file))
    assert result.exit_code != 0
    assert "private key" in result.output
    assert "BEGIN" not in result.output  # never echo key material
    assert cli("clients", "list").output.strip() == ""


def test_unreadable_public_key_is_refused(cli, tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    result = cli(*add_args(str(junk)))
    assert result.exit_code != 0
    assert "public key" in result.output


@pytest.mark.parametrize("args, message", [
    (["--vtr", '["P9.Cd"]'], "vtr"),
    (["--vtr", "P9.Cp"], "vtr"),
    (["--scope", "profile"], "openid"),
    (["--scope", "openid superpowers"], "superpowers"),
])
def test_bad_scope_or_vtr_is_refused(cli, pem_file, args, message):
    base = ["clients", "add", "--name", "X", "--redirect-uri", RS_CB, "--public-key", pem_file]
    result = cli(*base, *args)
    assert result.exit_code != 0
    assert message in result.output


# --- list / show / update / remove ---------------------------------------------------------------
def test_list_show_update_remove(cli, pem_file):
    a = added(cli(*add_args(pem_file, "--env", "integration", name="Alpha service")))
    b = added(cli(*add_args(pem_file, name="Beta service")))

    lines = cli("clients", "list").output.strip().splitlines()
    assert lines == [f"{a['client_id']}\tintegration\tAlpha service", f"{b['client_id']}\tsandpit\tBeta service"]

    shown = json.loads(cli("clients", "show", "--", a["client_id"]).output)
    assert shown == a

    updated = added(cli("clients", "update", "--name", "Alpha renamed", "--scope", "openid email",
                        "--refresh-tokens", "--", a["client_id"]))
    assert updated["name"] == "Alpha renamed"
    assert updated["scope"] == "openid email"
    assert updated["refresh_tokens"] is True
    assert updated["redirect_uris"] == a["redirect_uris"]  # untouched fields are kept
    assert updated["vtr"] == a["vtr"]
    assert json.loads(cli("clients", "show", "--", a["client_id"]).output)["name"] == "Alpha renamed"

    refused = cli("clients", "update", "--redirect-uri", "http://evil.example/cb", "--", a["client_id"])
    assert refused.exit_code != 0
    assert "must use https" in refused.output
    assert json.loads(cli("clients", "show", "--", a["client_id"]).output)["redirect_uris"] == [RS_CB]

    removed = cli("clients", "remove", "--", a["client_id"])
    assert removed.exit_code == 0
    assert f"removed {a['client_id']}" in removed.output
    gone = cli("clients", "show", "--", a["client_id"])
    assert gone.exit_code != 0
    assert f"no client {a['client_id']}" in gone.output
    assert [line.split("\t")[0] for line in cli("clients", "list").output.strip().splitlines()] == [b["client_id"]]


def test_removed_client_can_no_longer_authorize(client, cli, pem_file):
    a = added(cli(*add_args(pem_file)))
    assert cli("clients", "remove", "--", a["client_id"]).exit_code == 0
    response = client.get(f"/authorize?response_type=code&client_id={a['client_id']}&redirect_uri={RS_CB}"
                          "&scope=openid&state=s&nonce=n")
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_unknown_client_for_update_and_remove(cli):
    for command in ("update", "remove", "show"):
        result = cli("clients", command, "no-such-client")
        assert result.exit_code != 0
        assert "no client no-such-client" in result.output


# --- clients sync --------------------------------------------------------------------------------
def test_sync_creates_then_updates(cli, tmp_path, rp_key):
    folder = tmp_path / "clients"
    folder.mkdir()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "svc.pem").write_text(public_pem(rp_key))
    spec = {
        "client_id": "synced-service", "name": "Synced service", "environment": "integration",
        "redirect_uris": ["https://svc.example/callback"], "scope": "openid email",
        "vtr": ["P5.Cp"], "public_key_file": "../keys/svc.pem",
    }
    (folder / "svc.json").write_text(json.dumps(spec))

    first = cli("clients", "sync", "--dir", str(folder))
    assert first.exit_code == 0, first.output
    assert "created synced-service from svc.json" in first.output
    shown = json.loads(cli("clients", "show", "synced-service").output)
    assert shown["name"] == "Synced service"
    assert shown["environment"] == "integration"
    assert shown["vtr"] == ["P5.Cp"]
    assert shown["key"] == "pem"
    assert shown["pkce"] == "required"

    spec.update(name="Synced service v2", redirect_uris=["https://svc.example/callback", "https://svc.example/cb2"])
    (folder / "svc.json").write_text(json.dumps(spec))
    second = cli("clients", "sync", "--dir", str(folder))
    assert "updated synced-service from svc.json" in second.output
    shown = json.loads(cli("clients", "show", "synced-service").output)
    assert shown["name"] == "Synced service v2"
    assert shown["redirect_uris"] == ["https://svc.example/callback", "https://svc.example/cb2"]
    assert len(cli("clients", "list").output.strip().splitlines()) == 1


def test_sync_skips_bad_files_and_keeps_the_existing_registration(cli, tmp_path, rp_key):
    folder = tmp_path / "clients"
    folder.mkdir()
    (folder / "svc.pem").write_text(public_pem(rp_key))
    good = {"client_id": "svc", "name": "Svc", "redirect_uris": ["https://svc.example/cb"],
            "public_key_file": "svc.pem"}
    (folder / "svc.json").write_text(json.dumps(good))
    assert "created svc" in cli("clients", "sync", "--dir", str(folder)).output

    (folder / "svc.json").write_text(json.dumps({**good, "redirect_uris": ["http://svc.example/cb"]}))
    (folder / "broken.json").write_text("{not json")
    (folder / "noid.json").write_text(json.dumps({"name": "no id"}))
    result = cli("clients", "sync", "--dir", str(folder))
    out = result.output
    assert "skipped svc.json" in out and "must use https" in out
    assert "skipped broken.json" in out
    assert "skipped noid.json" in out
    assert json.loads(cli("clients", "show", "svc").output)["redirect_uris"] == ["https://svc.example/cb"]


def test_sync_refuses_private_key_file(cli, tmp_path, private_pem_file):
    folder = tmp_path / "clients"
    folder.mkdir()
    shutil.copy(private_pem_file, folder / "key.pem")
    (folder / "svc.json").write_text(json.dumps({"client_id": "svc", "name": "Svc", "public_key_file": "key.pem",
                                                 "redirect_uris": ["https://svc.example/cb"]}))
    out = cli("clients", "sync", "--dir", str(folder)).output
    assert "skipped svc.json" in out and "private key" in out
    assert cli("clients", "show", "svc").exit_code != 0


# --- demo ----------------------------------------------------------------------------------------
@pytest.fixture
def demo_root(tmp_path, monkeypatch):
    """`idp demo load` over a copy of clients/demo-rp.json, its key made under a temporary keys/."""
    from idp import ROOT

    (tmp_path / "clients").mkdir()
    shutil.copy(f"{ROOT}/clients/demo-rp.json", tmp_path / "clients" / "demo-rp.json")
    monkeypatch.setattr("idp.demo.ROOT", str(tmp_path))
    monkeypatch.delenv("DEMO_RP_BASE_URL", raising=False)
    monkeypatch.delenv("DEMO_RP_PORT", raising=False)
    return tmp_path


def demo_rp_uris(cli) -> tuple:
    shown = json.loads(cli("clients", "show", "demo-rp").output)
    return shown["redirect_uris"], shown["post_logout_redirect_uris"], shown["backchannel_logout_uri"]


def test_demo_load_registers_the_demo_rp_where_make_run_serves_it(cli, demo_root, monkeypatch):
    monkeypatch.setenv("DEMO_RP_PORT", "5077")
    first = cli("demo", "load")
    assert first.exit_code == 0, first.output
    assert "created demo-rp from demo-rp.json at http://localhost:5077" in first.output
    assert (demo_root / "keys" / "demo-rp-private.pem").exists()
    assert demo_rp_uris(cli) == (["http://localhost:5077/callback"], ["http://localhost:5077/"],
                                 "http://localhost:5077/backchannel-logout")

    monkeypatch.delenv("DEMO_RP_PORT")  # the next `make run` on the default port moves it back
    assert "updated demo-rp" in cli("demo", "load").output
    assert demo_rp_uris(cli) == (["http://localhost:5001/callback"], ["http://localhost:5001/"],
                                 "http://localhost:5001/backchannel-logout")

    monkeypatch.setenv("DEMO_RP_BASE_URL", "http://127.0.0.1:6000/")  # as scripts/serve.sh: it wins over the port
    monkeypatch.setenv("DEMO_RP_PORT", "5077")
    assert cli("demo", "load").exit_code == 0
    assert demo_rp_uris(cli)[0] == ["http://127.0.0.1:6000/callback"]


def test_demo_load_refuses_a_bad_demo_rp_port(cli, demo_root, monkeypatch):
    monkeypatch.setenv("DEMO_RP_PORT", "50x1")
    result = cli("demo", "load")
    assert result.exit_code != 0
    assert "skipped demo-rp.json: DEMO_RP_PORT must be a port number" in result.output
    assert cli("clients", "show", "demo-rp").exit_code != 0


def test_the_demo_rp_sends_the_redirect_uri_demo_load_registers(monkeypatch):
    from clients.demo_rp.app import create_app
    from idp.demo import demo_rp_base_url

    monkeypatch.delenv("DEMO_RP_BASE_URL", raising=False)
    monkeypatch.setenv("DEMO_RP_PORT", "5077")
    assert create_app().config["BASE_URL"] == demo_rp_base_url() == "http://localhost:5077"


# --- users ---------------------------------------------------------------------------------------
def test_users_add_creates_a_person_who_can_log_in(client, cli):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    result = cli("users", "add", "--email", email, "--password", PASSWORD, "--phone", "+447700900123",
                 "--level", "P9", "--nhs-number", "9990000018", "--family-name", "Patel", "--birthdate", "1985-04-12")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["email"] == email
    assert printed["level"] == "P9"
    assert printed["sub"]
    assert PASSWORD not in result.output

    response = log_in(client, email)  # with the security code sent to the verified phone
    assert response.headers["Location"].endswith("/account")

    again = cli("users", "add", "--email", email, "--password", PASSWORD)
    assert again.exit_code != 0
    assert "already has an account" in again.output


@pytest.mark.parametrize("nhs_number", ["9990000019", "999000001", "99900000188", "abcdefghij"])
def test_users_add_refuses_a_bad_nhs_number(cli, nhs_number):
    result = cli("users", "add", "--email", "bad@example.com", "--password", PASSWORD, "--level", "P9",
                 "--nhs-number", nhs_number, "--family-name", "Patel", "--birthdate", "1985-04-12")
    assert result.exit_code != 0
    assert "--nhs-number" in result.output


@pytest.mark.parametrize("args, message", [
    (["--password", "short"], "--password"),
    (["--password", PASSWORD, "--phone", "07700900123"], "E.164"),
    (["--password", PASSWORD, "--level", "P9"], "P5 and P9 people need"),
])
def test_users_add_refuses_bad_details(cli, args, message):
    result = cli("users", "add", "--email", "someone@example.com", *args)
    assert result.exit_code != 0
    assert message in result.output


def _utc(epoch: float):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)


def test_users_add_totp_prints_a_key_the_provider_then_accepts_codes_of(app, cli, person):
    email = person()
    result = cli("users", "add-totp", email.upper())  # found as any spelling of the email
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    key, uri = printed["key"], printed["otpauth_uri"]
    assert printed["email"] == email and re.fullmatch(r"[A-Z2-7]{32}", key)
    parsed = pyotp.parse_uri(uri)
    assert uri.startswith("otpauth://totp/") and parsed.secret == key and parsed.name == email
    assert "log in with the next one" in result.stderr

    with app.app_context():
        from idp.authentication.factors import totp
        from idp.models import Person

        someone = Person.query.filter_by(email=email).one()
        later = time.time() + totp.INTERVAL  # the current step confirmed the app; the next one logs in
        with freeze_time(_utc(later)):
            code = pyotp.TOTP(key).at(later)
            assert pyotp.TOTP(key).verify(code, for_time=later)
            assert totp.verify(someone, code)
            assert not totp.verify(someone, code), "and only once"

    again = cli("users", "add-totp", email)
    assert again.exit_code == 0 and json.loads(again.stdout)["key"] != key
    assert "replaced the earlier authenticator app" in again.stderr


def test_users_list_devices_shows_each_on_its_own_line(app, cli, person):
    email = person()
    with app.app_context():
        from idp.models import Person

        number = Person.query.filter_by(email=email).one().phone_number  # +4477009001nn
    phone = f"phone: {'•' * 10}{number[-3:]} (sms)"  # the last 3 digits, as the pages show it
    assert cli("users", "list-devices", email).output.splitlines() == [
        phone, "authenticator app: no", "passkeys: none", "remembered devices: none"]

    with freeze_time(_utc(T0)):
        assert cli("users", "add-totp", email).exit_code == 0
    with app.app_context():
        from idp.authentication.factors import remembered_device
        from idp.extensions import db
        from idp.models import Passkey, Person

        someone = Person.query.filter_by(email=email).one()
        with freeze_time(_utc(T0 + 60)):
            for minutes, name in ((1, "My phone"), (2, "Work laptop")):
                db.session.add(Passkey(id=uuid.uuid4().hex, person_id=someone.id, credential_id=uuid.uuid4().hex,
                                       public_key=b"cose", name=name, created_at=T0 + 60 * minutes))
            remembered_device.remember(someone.id, "Mozilla/5.0 (Windows NT 10.0) Firefox/128.0")
            db.session.commit()

    listed = cli("users", "list-devices", email)
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == [
        phone,
        "authenticator app: yes, added 2027-01-15 08:00 UTC, last used 2027-01-15 08:00 UTC",
        "passkey: My phone, added 2027-01-15 08:01 UTC, last used never",
        "passkey: Work laptop, added 2027-01-15 08:02 UTC, last used never",
        "remembered device: Firefox on Windows, added 2027-01-15 08:01 UTC, last used 2027-01-15 08:01 UTC",
    ]
    assert number not in listed.output and number[:-3] not in listed.output


def test_users_list_devices_of_someone_with_no_phone(cli):
    assert cli("users", "add", "--email", "nophone@example.com", "--password", PASSWORD).exit_code == 0
    assert cli("users", "list-devices", "nophone@example.com").output.splitlines()[0] == "phone: none"


@pytest.mark.parametrize("command", ["add-totp", "list-devices"])
def test_users_device_commands_refuse_an_unknown_email(cli, command):
    result = cli("users", command, "nobody@example.com")
    assert result.exit_code == 1
    assert "no person has the email nobody@example.com" in result.output


@pytest.fixture
def live_app(sqlite_copy, tmp_path, monkeypatch):
    from idp import create_app
    from idp.config import Settings

    database_url = sqlite_copy("live.sqlite3")
    monkeypatch.setenv("IDP_INSTANCE_PATH", str(tmp_path / "instance"))
    settings = Settings.from_env({"IDP_ENV": "live", "IDP_ISSUER": "https://login.example.nhs.uk",
                                  "IDP_SECRET_KEY": GOOD_SECRET, "IDP_DATABASE_URL": database_url,
                                  "IDP_PDS_ADAPTER": "fhir", "IDP_PDS_BASE_URL": "https://pds.example.nhs.uk/FHIR/R4"},
                                 instance_path=str(tmp_path))
    application = create_app({"TESTING": True}, settings=settings)
    yield application
    with application.app_context():
        from idp.extensions import db

        db.session.remove()
        db.engine.dispose()


def test_users_add_is_refused_in_live(live_app):
    result = live_app.test_cli_runner().invoke(args=[
        "users", "add", "--email", "live@example.com", "--password", PASSWORD])
    assert result.exit_code != 0
    assert "live" in result.output
    with live_app.app_context():
        from idp.models import Person

        assert Person.query.filter_by(email="live@example.com").first() is None


def test_users_add_totp_is_refused_in_live(live_app):
    result = live_app.test_cli_runner().invoke(args=["users", "add-totp", "someone@example.com"])
    assert result.exit_code != 0
    assert "IDP_ENV is live" in result.output


def test_live_provider_refuses_http_loopback_redirects(live_app, pem_file):
    result = live_app.test_cli_runner().invoke(args=[
        "clients", "add", "--name", "X", "--env", "live", "--redirect-uri", "http://127.0.0.1:8080/cb",
        "--public-key", pem_file])
    assert result.exit_code != 0
    assert "must use https" in result.output


# --- keys ----------------------------------------------------------------------------------------
def test_keys_init_is_idempotent_and_list_shows_no_private_material(app, cli):
    assert "signing keys present" in cli("keys", "init").output

    with app.app_context():
        from idp.extensions import db
        from idp.models import SigningKey

        SigningKey.query.delete()
        db.session.commit()
    created = cli("keys", "init")
    assert created.exit_code == 0, created.output
    lines = created.output.strip().splitlines()
    assert len(lines) == 4
    for alg in ("RS512", "RS256", "PS256", "ES256"):
        assert any(line.startswith(f"created {alg} key ") and line.endswith("(development)") for line in lines), alg

    listed = cli("keys", "list")
    assert listed.exit_code == 0
    rows = [json.loads(line) for line in listed.output.strip().splitlines()]
    assert {r["alg"] for r in rows} == {"RS512", "RS256", "PS256", "ES256"}
    assert all(r["development"] is True and r["kid"] for r in rows)
    for row in rows:
        assert set(row) <= {"kid", "alg", "development", "activates_at", "deactivated_at", "retire_at"}
    assert "private" not in listed.output and '"d"' not in listed.output
    assert "signing keys present" in cli("keys", "init").output

    jwks_kids = {k["kid"] for k in app.test_client().get("/.well-known/jwks.json").get_json()["keys"]}
    assert jwks_kids == {r["kid"] for r in rows}
