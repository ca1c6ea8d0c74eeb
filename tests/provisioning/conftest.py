"""A staff system registered as a provisioning client, and a way to call the provisioning API as it would."""
from __future__ import annotations

import json

import pytest

from support import RelyingParty, public_pem

API = "/provisioning/v1/provision-account"


class StaffSystem(RelyingParty):
    """A provisioning client: gets a token with client_credentials, then calls the API with it."""

    def token_for_api(self) -> str:
        form, headers = self.auth()
        response = self.http.post("/token", data={"grant_type": "client_credentials", **form}, headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    def call(self, method: str, path: str = API, body=None, *, token: str | None = None, headers=None, raw=None,
             content_type="application/json"):
        token = token or self.token_for_api()
        sent = {"Authorization": f"Bearer {token}", **(headers or {})}
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        if data is not None:
            sent["Content-Type"] = content_type
        return self.http.open(path, method=method, data=data, headers=sent)

    def provision(self, body, **kw):
        return self.call("POST", API, body, **kw)


@pytest.fixture
def staff_system(app, client, rp_key):
    from idp.protocol.registration import register_client

    def _system(ods_codes=("A12345",), name="Practice system") -> StaffSystem:
        with app.app_context():
            registered, _ = register_client({"name": name, "kind": "provisioning", "ods_codes": list(ods_codes)},
                                            development=True, key={"public_key_pem": public_pem(rp_key)})
            client_id = registered.client_id
        return StaffSystem(client, app, client_id, key=rp_key)

    return _system


@pytest.fixture
def system(staff_system):
    return staff_system()


def body_for(case: dict, **overrides) -> dict:
    """A valid request for a person of the synthetic PDS (hard-cases.json)."""
    body = {"nhs_number": case["nhs_number"], "email_address": f"{case['nhs_number']}@example.com",
            "date_of_birth": case["birthdate"], "phone_number": case["mobile"], "ods_code": "A12345"}
    body.update(overrides)
    return body
