"""Outside development the provider never fetches client-chosen URLs on its own network (SSRF).

A listening socket on loopback stands for a service on the provider's own network: each refusal must
come from the destination check (its specific reason) and the socket must never see a connection.
"""
import socket

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


@pytest.fixture
def internal_service():
    """A TCP listener on 127.0.0.1: ``port``, and ``connected()`` says whether anyone connected to it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)

    def connected() -> bool:
        try:
            listener.accept()[0].close()
        except BlockingIOError:
            return False
        return True

    yield listener.getsockname()[1], connected
    listener.close()


@pytest.mark.parametrize("host, reason", [
    ("127.0.0.1", "the host is not a public internet address"),
    ("localhost", "the host is not a public internet address"),
])
def test_fetch_refuses_the_providers_own_network_without_connecting(sandpit_app, internal_service, host, reason):
    from idp.outbound import FetchFailed, fetch

    port, connected = internal_service
    with sandpit_app.app_context(), pytest.raises(FetchFailed) as refused:
        fetch("POST", f"https://{host}:{port}/backchannel", deadline=2, max_bytes=1024, data={"logout_token": "x"})
    assert str(refused.value) == reason
    assert not connected(), "the provider connected to its own network"


def test_fetch_refuses_plain_http(sandpit_app):
    from idp.outbound import FetchFailed, fetch

    with sandpit_app.app_context(), pytest.raises(FetchFailed) as refused:
        fetch("GET", "http://example.com/jwks.json", deadline=2, max_bytes=1024)
    assert str(refused.value) == "only https URLs are fetched"


def test_a_failed_jwks_fetch_says_nothing_about_why(sandpit_app, internal_service):
    from idp.protocol.client_keys import FETCH_FAILED, ClientKeyError, fetch_jwks

    port, connected = internal_service
    with sandpit_app.app_context(), pytest.raises(ClientKeyError) as refused:
        fetch_jwks(f"https://127.0.0.1:{port}/jwks.json", timeout=1, max_age=0)
    assert str(refused.value) == FETCH_FAILED
    assert not connected(), "the jwks_uri on the provider's own network was fetched"


def test_development_may_use_loopback(app, internal_service):
    from idp.outbound import FetchFailed, check_destination, fetch

    port, connected = internal_service
    with app.app_context():
        check_destination(f"http://127.0.0.1:{port}/jwks.json")  # no exception
        with pytest.raises(FetchFailed):  # the listener never answers
            fetch("GET", f"http://127.0.0.1:{port}/jwks.json", deadline=0.5, max_bytes=1024)
    assert connected(), "development did reach loopback (so the refusals above are the check's doing)"
