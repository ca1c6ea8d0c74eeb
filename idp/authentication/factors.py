"""The authentication components this provider can verify today.

Each factor module registers here as it is added (device codes ``Cd``, TOTP
``Ck``, passkeys ``Cm``); discovery and the trust mark read the list.
"""
from ..levels import AuthenticationComponent

_AVAILABLE = [AuthenticationComponent.PASSWORD.value]


def available_components() -> list[str]:
    return list(_AVAILABLE)
