"""Small rules every JWT we accept from outside must pass before anything else looks at it."""
from __future__ import annotations

import math

MAX_NUMERIC_DATE = 2**40  # far beyond any real date; larger values only serve to overflow date code


def numeric_dates_ok(claims: dict, names=("exp", "iat", "nbf")) -> bool:
    """RFC 7519 2: NumericDate is a JSON number; refuse booleans, NaN, infinities and absurd magnitudes."""
    for name in names:
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_NUMERIC_DATE:
            return False
    return True


def reject_constant(name: str):
    """json.loads parse_constant: NaN and Infinity are not JSON (RFC 8259 6)."""
    raise ValueError(f"{name} is not valid JSON")
