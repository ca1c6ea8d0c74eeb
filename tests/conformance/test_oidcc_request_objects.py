"""The basic plan's request-object modules (static clients); the dynamic plan's are in test_oidcc_dynamic.py.

The suite sends these objects unsigned (alg ``none``). This provider verifies every request
object with the client's registered key and does not offer ``none``, so the unsigned module is
skipped as the suite skips it, and the redirect-URI precedence module runs with the same
object signed RS256 by the private_key_jwt client.
"""
import pytest

from oidf import checks, request_objects
from oidf.plans import BASIC
from oidf.request_objects import redirect_uri_from_request_object, unsigned_refused

pytestmark = pytest.mark.conformance


@pytest.mark.oidf_module("oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported", BASIC)
def test_oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported(conformance):
    algs = conformance.provider.metadata.get("request_object_signing_alg_values_supported", [])
    if "none" in algs:
        rp = conformance.rp()
        request = rp.request()
        url = request_objects.by_value(rp, request, request_objects.request_object(rp, request, signed=False))
        visit = conformance.browser().open(url)
        params = rp.callback(visit, request)
        if params.get("error") == "request_not_supported":
            pytest.skip("the provider answered request_not_supported, which the suite accepts")
        checks.check_authorization_success(params, request.state, rp.provider.issuer)
        return
    error = unsigned_refused(conformance, conformance.rp())
    pytest.skip(f"the suite skips this module: alg none is not in request_object_signing_alg_values_supported; "
                f"an unsigned request object is refused with {error}")


@pytest.mark.oidf_module("oidcc-ensure-request-object-with-redirect-uri", BASIC, variant="RS256-signed")
def test_oidcc_ensure_request_object_with_redirect_uri(conformance):
    assert conformance.provider.metadata.get("request_parameter_supported") is True, "request objects not offered"
    redirect_uri_from_request_object(conformance, conformance.rp("client-pkj"))
    error = unsigned_refused(conformance, conformance.rp())
    conformance.note(f"signed RS256 by client-pkj, as alg none is not offered; the suite's unsigned object is refused with {error}")
