"""Fixtures for proofing tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def fhir_server():
    """A local PDS FHIR server (``tests/proofing/fhir_server.py``) on 127.0.0.1, stopped after the test."""
    from fhir_server import FhirServer

    server = FhirServer().start()
    yield server
    server.stop()
