"""The provider's signing keys: what the JWKS publishes, rotation without breaking relying parties, storage."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

PROMOTE = 600
ID_TOKEN_TTL = 3600
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k", "oth")


def jwks(client) -> dict:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.is_json
    return response.get_json()


def published_kids(client) -> set[str]:
    return {k["kid"] for k in jwks(client)["keys"]}


def header_kid(token: str) -> str:
    return jws.extract_compact(token.encode()).headers()["kid"]


def verify_with_published_jwks(client, token: str, alg: str = "RS512") -> dict:
    return jwt.decode(token, KeySet.import_key_set(jwks(client)), algorithms=[alg]).claims


def rotate(app, alg="RS512", promote_after=PROMOTE):
    with app.app_context():
        return app.extensions["idp"].keystore.rotate(alg, promote_after=promote_after).kid


def invalidate(app):
    app.extensions["idp"].keystore.invalidate()


@pytest.fixture
def frozen():
    with freeze_time(datetime.now(timezone.utc)) as f:
        yield f


# --- what is published ---------------------------------------------------------------------------
def test_every_published_key_is_a_public_signing_key(client):
    keys = jwks(client)["keys"]
    assert keys
    for key in keys:
        assert key.get("kid"), key
        assert key.get("use") == "sig", key
        assert key.get("alg") in ("RS512", "RS256", "PS256", "ES256"), key
        leaked = [m for m in PRIVATE_MEMBERS if m in key]
        assert not leaked, (key["kid"], leaked)
    assert len({k["kid"] for k in keys}) == len(keys), "kids must be unique"


def test_jwks_has_a_key_for_every_advertised_id_token_alg(client):
    advertised = client.get("/.well-known/openid-configuration").get_json()["id_token_signing_alg_values_supported"]
    algs = {k["alg"] for k in jwks(client)["keys"]}
    assert set(advertised) <= algs


def test_id_token_kid_is_published(rp, person, client):
    tokens = rp.tokens_for(person("P0"), vtr='["P0.Cp"]')
    assert header_kid(tokens["id_token"]) in published_kids(client)
    assert header_kid(tokens["access_token"]) in published_kids(client)
    assert rp.verify_id_token(tokens["id_token"])["aud"] == rp.client_id


def test_rs256_client_gets_rs256_id_token_with_a_published_kid(register, person, client):
    rp = register(id_token_signed_response_alg="RS256")
    tokens = rp.tokens_for(person("P0"), vtr='["P0.Cp"]')
    header = jws.extract_compact(tokens["id_token"].encode()).headers()
    assert header["alg"] == "RS256"
    published = {k["kid"]: k for k in jwks(client)["keys"]}
    assert published[header["kid"]]["alg"] == "RS256"
    verify_with_published_jwks(client, tokens["id_token"], "RS256")


# --- rotation ------------------------------------------------------------------------------------
def test_rotation_publishes_first_then_signs_then_retires(app, client, rp, person, frozen):
    email = person("P0")
    before = rp.tokens_for(email, vtr='["P0.Cp"]')
    old_kid = header_kid(before["id_token"])
    assert old_kid in published_kids(client)

    new_kid = rotate(app)
    assert new_kid != old_kid

    # Published at once, so relying parties can fetch it before it is used ...
    assert {old_kid, new_kid} <= published_kids(client)
    # ... but the old key still signs until the promote delay has passed.
    during = rp.tokens_for(email, vtr='["P0.Cp"]')
    assert header_kid(during["id_token"]) == old_kid
    assert header_kid(during["access_token"]) == old_kid

    # After the promote delay: the new key signs, the old one stays published.
    frozen.tick(timedelta(seconds=PROMOTE + 1))
    invalidate(app)
    after = rp.tokens_for(email, vtr='["P0.Cp"]')
    assert header_kid(after["id_token"]) == new_kid
    assert header_kid(after["access_token"]) == new_kid
    assert {old_kid, new_kid} <= published_kids(client)
    # A token signed before the rotation (still within its lifetime) verifies with what is published now.
    assert verify_with_published_jwks(client, before["id_token"])["sub"]
    assert verify_with_published_jwks(client, during["id_token"])["sub"]
    assert verify_with_published_jwks(client, after["id_token"])["sub"]

    # Just before the longest token lifetime since it stopped signing, the old key is still there.
    frozen.tick(timedelta(seconds=ID_TOKEN_TTL - 10))
    invalidate(app)
    assert old_kid in published_kids(client)

    # After promote delay + the longest token lifetime the old key leaves the JWKS.
    frozen.tick(timedelta(seconds=20))
    invalidate(app)
    kids = published_kids(client)
    assert old_kid not in kids
    assert new_kid in kids


def test_rotation_is_seen_without_manual_cache_invalidation(app, client, rp, person, frozen):
    """The in-process key cache must not keep signing with the old key well past the promote moment."""
    email = person("P0")
    old_kid = header_kid(rp.tokens_for(email, vtr='["P0.Cp"]')["id_token"])
    new_kid = rotate(app)
    jwks(client)  # warm the cache
    frozen.tick(timedelta(seconds=PROMOTE + 120))
    assert header_kid(rp.tokens_for(email, vtr='["P0.Cp"]')["id_token"]) == new_kid
    frozen.tick(timedelta(seconds=ID_TOKEN_TTL + 120))
    assert old_kid not in published_kids(client)


def test_rotating_one_alg_leaves_the_others_alone(app, client, register, person, frozen):
    rs256 = register(id_token_signed_response_alg="RS256")
    email = person("P0")
    rs256_kid = header_kid(rs256.tokens_for(email, vtr='["P0.Cp"]')["id_token"])
    rotate(app, "RS512")
    frozen.tick(timedelta(seconds=PROMOTE + ID_TOKEN_TTL + 60))
    invalidate(app)
    assert header_kid(rs256.tokens_for(email, vtr='["P0.Cp"]')["id_token"]) == rs256_kid
    assert rs256_kid in published_kids(client)


def test_a_forged_kid_does_not_verify(app, client, rp, person):
    """A token that names a published kid but is signed by another key fails with the published JWKS."""
    from joserfc.jwk import RSAKey

    tokens = rp.tokens_for(person("P0"), vtr='["P0.Cp"]')
    claims = verify_with_published_jwks(client, tokens["id_token"])
    forged = jwt.encode({"alg": "RS512", "kid": header_kid(tokens["id_token"])}, claims,
                        RSAKey.generate_key(2048), algorithms=["RS512"])
    with pytest.raises(JoseError):
        verify_with_published_jwks(client, forged)


# --- the CLI -------------------------------------------------------------------------------------
def test_cli_rotate_publishes_new_key_and_promotes_later(app, client, rp, person, frozen):
    email = person("P0")
    old_kid = header_kid(rp.tokens_for(email, vtr='["P0.Cp"]')["id_token"])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "rotate", "--alg", "RS512", "--promote-after", str(PROMOTE)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output.strip().splitlines()[-1])
    assert printed["alg"] == "RS512"
    new_kid = printed["kid"]
    assert "d" not in printed and "private" not in result.output.lower()

    assert {old_kid, new_kid} <= published_kids(client)
    assert header_kid(rp.tokens_for(email, vtr='["P0.Cp"]')["id_token"]) == old_kid

    frozen.tick(timedelta(seconds=PROMOTE + 1))
    invalidate(app)
    assert header_kid(rp.tokens_for(email, vtr='["P0.Cp"]')["id_token"]) == new_kid
    assert old_kid in published_kids(client)

    listed = [json.loads(line) for line in runner.invoke(args=["keys", "list"]).output.strip().splitlines()]
    by_kid = {row["kid"]: row for row in listed}
    assert by_kid[new_kid]["alg"] == "RS512"
    assert by_kid[old_kid]["retire_at"] is not None


def test_cli_rotate_all_algs_and_unknown_alg(app, client):
    runner = app.test_cli_runner()
    before = published_kids(client)
    result = runner.invoke(args=["keys", "rotate", "--promote-after", "60"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.strip().splitlines()]
    assert {r["alg"] for r in rows} == {"RS512", "RS256", "PS256", "ES256"}
    assert {r["kid"] for r in rows} <= published_kids(client)
    assert before <= published_kids(client)

    bad = runner.invoke(args=["keys", "rotate", "--alg", "HS256"])
    assert bad.exit_code != 0
    assert "--alg must be one of" in bad.output


# --- storage -------------------------------------------------------------------------------------
def test_private_keys_are_encrypted_at_rest(app):
    from idp.extensions import db
    from idp.models import SigningKey

    with app.app_context():
        ks = app.extensions["idp"].keystore
        kid, key = ks.signing_key("RS512")
        private = key.as_dict(private=True)
        assert private.get("d")
        row = db.session.get(SigningKey, kid)
        stored = row.private_jwk_encrypted
        for member in ("d", "p", "q", "dp", "dq", "qi"):
            assert private[member] not in stored, member
        assert '"d"' not in stored
        # Nothing about the key is stored in clear in that column, not even its public modulus.
        assert private["n"] not in stored
        assert "d" not in row.public_jwk
        # And the raw database row agrees (no ORM magic).
        raw = db.session.execute(
            db.text("SELECT private_jwk_encrypted FROM signing_key WHERE kid = :kid"), {"kid": kid}
        ).scalar_one()
        assert private["d"] not in raw


def test_keys_made_under_another_secret_cannot_be_used(app, tmp_path):
    """A key store opened with a different IDP_SECRET_KEY cannot decrypt the stored keys."""
    from idp.config import Settings
    from idp.protocol.keys import KeyStore

    with app.app_context():
        settings = Settings.from_env({"IDP_ISSUER": "http://idp.test", "IDP_SECRET_KEY": "x" * 40,
                                      "IDP_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]},
                                     instance_path=str(tmp_path))
        with pytest.raises(RuntimeError, match="cannot be decrypted"):
            KeyStore(settings).signing_key("RS512")


def test_default_promote_delay_outlasts_the_jwks_cache(app, client, rp, person, frozen):
    """An RP that cached the JWKS just before a rotation refreshes it before the new key is first used."""
    response = client.get("/.well-known/jwks.json")
    max_age = response.cache_control.max_age
    assert max_age is not None
    email = person("P0")
    old_kid = header_kid(rp.tokens_for(email, vtr='["P0.Cp"]')["id_token"])
    with app.app_context():
        new_kid = app.extensions["idp"].keystore.rotate("RS512").kid  # the configured default delay
    frozen.tick(timedelta(seconds=max_age + 1))
    invalidate(app)
    assert header_kid(rp.tokens_for(email, vtr='["P0.Cp"]')["id_token"]) == old_kid
    assert new_kid in published_kids(client)
