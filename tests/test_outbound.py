"""Outside development the provider never fetches client-chosen URLs on its own network (SSRF)."""
import pytest

from support import make_app


@pytest.fixture
def sandpit_app(tmp_path):
    return make_app(f"sqlite:///{tmp_path / 'idp.sqlite3'}", str(tmp_path), IDP_ENV="sandpit",
                    IDP_SECRET_KEY="s" * 40, IDP_ISSUER="https://idp.example", IDP_PASSWORD_HASH_PROFILE="standard")


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/jwks.json", "https://localhost:8443/jwks.json", "https://10.0.0.1/jwks.json",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/jwks.json", "https://192.168.1.1/",
    "http://example.com/jwks.json",
])
def test_private_and_plain_http_destinations_are_refused(sandpit_app, url):
    from idp.outbound import DestinationRefused, check_destination

    with sandpit_app.app_context(), pytest.raises(DestinationRefused):
        check_destination(url)


def test_a_failed_jwks_fetch_says_nothing_about_why(sandpit_app):
    from idp.protocol.client_keys import FETCH_FAILED, ClientKeyError, fetch_jwks

    with sandpit_app.app_context(), pytest.raises(ClientKeyError) as refused:
        fetch_jwks("https://127.0.0.1:1/jwks.json", timeout=1, max_age=0)
    assert str(refused.value) == FETCH_FAILED


def test_development_may_use_loopback(app):
    from idp.outbound import check_destination

    with app.app_context():
        check_destination("http://127.0.0.1:8080/jwks.json")  # no exception
