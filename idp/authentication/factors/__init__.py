"""The authentication factors this provider can verify, each in its own module, registered here.

A factor module defines ``FACTOR = Factor(...)``; the factors listed in ``MODULES`` (those whose
pages are built) are registered on first use. Discovery, the trust mark, ``available_vectors()`` and
the step-up journey read the registry, so they follow what a person can really use. Components follow interface.md "Levels": ``Cp`` password, ``Cd`` registered device (a
one-time code by SMS or voice, or a remembered browser), ``Ck`` authenticator app (TOTP),
``Cm`` passkey (WebAuthn).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ...levels import AuthenticationComponent, InvalidVectorError, ProofingLevel, VectorOfTrust


@dataclass(frozen=True)
class Factor:
    """One way of proving an authentication component."""

    component: str  # an AuthenticationComponent value
    name: str  # short domain name, e.g. "password", "security_code", "authenticator_app", "passkey"
    # Whether a person has this factor set up; a factor nobody can have is never offered.
    is_set_up: Callable[[object], bool]
    order: int = 100  # among factors of one component, the one offered first


_REGISTRY: dict[str, list[Factor]] = {}


def _register(factor: Factor) -> Factor:
    AuthenticationComponent(factor.component)  # refuse unknown components at import time
    entries = [f for f in _REGISTRY.get(factor.component, []) if f.name != factor.name]
    _REGISTRY[factor.component] = sorted([*entries, factor], key=lambda f: f.order)
    return factor


def factors_for(component: str) -> list[Factor]:
    _load()
    return list(_REGISTRY.get(component, []))


def available_components() -> list[str]:
    _load()
    return [c.value for c in AuthenticationComponent if _REGISTRY.get(c.value)]


def components_set_up(person) -> set[str]:
    """The components this person could prove now (without setting anything up)."""
    _load()
    return {c for c, factors in _REGISTRY.items() if any(f.is_set_up(person) for f in factors)}


def available_vectors() -> list[str]:
    """Every vector this provider can assert: a first factor (Cp or Cm), Cp optionally with a second."""
    built = available_components()
    first = [c for c in built if c in ("Cp", "Cm")]
    second = [c for c in built if c in ("Cd", "Ck")]
    combos = [[f] for f in first] + [[f, s] for f in first if f == "Cp" for s in second]
    vectors = []
    for level in ProofingLevel:
        for combo in combos:
            try:
                vectors.append(str(VectorOfTrust.parse(".".join([level.name, *combo]))))
            except InvalidVectorError:
                continue
    return vectors


_loaded = False


def _load() -> None:
    # Importing a factor module registers it; done lazily so the modules may import models freely.
    global _loaded
    if not _loaded:
        _loaded = True
        from importlib import import_module

        for module in MODULES:
            _register(import_module(f"{__name__}.{module}").FACTOR)


# The factors a person can use end to end (domain module and pages: idp/accounts/login.py).
MODULES: list[str] = ["password", "security_code", "totp", "passkey"]
