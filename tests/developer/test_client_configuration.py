"""The ready configuration of a client (issue 11, part 4): the values to paste and library snippets that do
private_key_jwt with RS512 and PKCE. The Python snippet is run: it logs a person in against the provider and
gets an ID token with the vot asked for. The JavaScript one is parsed by Node."""
from __future__ import annotations

import json
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from joserfc import jwt
from joserfc.jwk import KeySet

from support import ISSUER, follow_to_rp


class ToTheProvider(requests.adapters.BaseAdapter):
    """requests' transport, answered by the provider's test client (the snippet's HTTP calls never leave)."""

    def __init__(self, app):
        super().__init__()
        self.http = app.test_client()

    def send(self, req, **kwargs):
        url = urlsplit(req.url)
        assert f"{url.scheme}://{url.netloc}" == ISSUER, req.url
        answer = self.http.open(url.path, method=req.method, query_string=url.query, data=req.body,
                                headers=dict(req.headers))
        response = requests.Response()
        response.status_code, response._content = answer.status_code, answer.get_data()
        response.headers.update(answer.headers)
        response.url, response.request = req.url, req
        return response

    def close(self):
        pass


def _configure(app, client_id, *args):
    result = app.test_cli_runner().invoke(args=["clients", "config", client_id, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_values_are_those_of_the_registration(app, register):
    rp = register(scope="openid profile", vtr=["P9.Cp.Cd", "P9.Cp.Ck"])
    values = json.loads(_configure(app, rp.client_id))
    assert values["issuer"] == ISSUER and values["discovery_url"] == f"{ISSUER}/.well-known/openid-configuration"
    assert values["client_id"] == rp.client_id and values["redirect_uris"] == ["https://rp.example/callback"]
    assert values["scope"] == "openid profile" and json.loads(values["vtr"]) == ["P9.Cp.Cd", "P9.Cp.Ck"]
    assert values["token_endpoint_auth_method"] == "private_key_jwt" and values["code_challenge_method"] == "S256"


def test_the_python_snippet_logs_a_person_in(app, register, person, rp_key, tmp_path, monkeypatch):
    rp = register(scope="openid profile", vtr=["P0.Cp.Cd"])
    code = _configure(app, rp.client_id, "--snippet", "python")
    (tmp_path / "private-key.pem").write_bytes(rp_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    monkeypatch.chdir(tmp_path)
    adapter = ToTheProvider(app)
    monkeypatch.setattr(requests.Session, "get_adapter", lambda self, url: adapter)
    snippet: dict = {}
    exec(compile(code, "snippet.py", "exec"), snippet)  # the code an integrator pastes, as printed

    url, saved = snippet["start_login"]()
    assert 'vtr=%5B%22P0.Cp.Cd%22%5D' in url and "code_challenge_method=S256" in url
    answer = follow_to_rp(rp.http, rp.http.get(url[len(ISSUER):]), email=person("P0"),
                          redirect_uri="https://rp.example/callback")
    callback = answer.headers["Location"]
    assert callback.startswith("https://rp.example/callback?code="), callback
    token = snippet["finish_login"](callback, saved)
    claims = jwt.decode(token["id_token"], KeySet.import_key_set(rp.http.get("/.well-known/jwks.json").get_json()),
                        algorithms=["RS512"]).claims
    assert claims["aud"] == rp.client_id and claims["nonce"] == saved["nonce"] and claims["vot"] == "P0.Cp.Cd"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
def test_the_javascript_snippet_is_valid_javascript(app, register, tmp_path):
    rp = register()
    path = tmp_path / "login.mjs"
    path.write_text(_configure(app, rp.client_id, "--snippet", "node"))
    checked = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("name, words", [
    ("dotnet", ["options.UsePkce = true", "SecurityAlgorithms.RsaSha512", 'SetParameter("vtr"', "ClientAssertion"]),
    ("java", ["client-authentication-method: private_key_jwt", "withPkce()", "SignatureAlgorithm.RS512",
              'put("vtr"']),
])
def test_the_dotnet_and_java_snippets_carry_the_client_and_its_vtr(app, register, name, words):
    rp = register(vtr=["P9.Cp.Cd"])
    code = _configure(app, rp.client_id, "--snippet", name)
    assert rp.client_id in code and ISSUER in code and "P9.Cp.Cd" in code
    for word in words:
        assert word in code


def test_a_provisioning_client_has_no_login_configuration(app, rp_key):
    from idp.protocol.registration import register_client
    from support import public_pem

    with app.app_context():
        system, _ = register_client({"name": "System", "kind": "provisioning", "ods_codes": ["A12345"]},
                                    development=True, key={"public_key_pem": public_pem(rp_key)})
        client_id = system.client_id
    result = app.test_cli_runner().invoke(args=["clients", "config", client_id])
    assert result.exit_code != 0 and "client_credentials" in result.output
