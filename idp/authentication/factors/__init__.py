"""The authentication components this provider can verify today.

Each factor module registers here as it is added (device codes ``Cd``, TOTP
``Ck``, passkeys ``Cm``); discovery and the trust mark read the list.
"""
from ..levels import AuthenticationComponent

_AVAILABLE = [AuthenticationComponent.PASSWORD.value]


def available_components() -> list[str]:
    return list(_AVAILABLE)


def available_vectors() -> list[str]:
    """Every vector this provider can assert today: a first factor, optionally with a second."""
    from ..levels import InvalidVectorError, ProofingLevel, VectorOfTrust

    first = [c for c in _AVAILABLE if c in ("Cp", "Cm")]
    second = [c for c in _AVAILABLE if c in ("Cd", "Ck")]
    combos = [[f] for f in first] + [[f, s] for f in first if f == "Cp" for s in second]
    vectors = []
    for level in ProofingLevel:
        for combo in combos:
            try:
                vectors.append(str(VectorOfTrust.parse(".".join([level.name, *combo]))))
            except InvalidVectorError:
                continue
    return vectors
