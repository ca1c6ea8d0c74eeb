"""Vectors of trust: parse them, decide whether a login satisfies one, and pick the ``vot``."""
from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Iterable, Sequence


class InvalidVectorError(ValueError):
    """A ``vtr`` value that is not a JSON array of well-formed vectors."""


class ProofingLevel(enum.Enum):
    """How sure we are who the person is; ordered, so P9 satisfies a request for P5."""

    P0 = 0
    P5 = 5
    P9 = 9

    @classmethod
    def parse(cls, value: str) -> "ProofingLevel":
        try:
            return cls[value]
        except KeyError:
            raise InvalidVectorError(f"unknown identity proofing level {value!r}") from None

    def satisfies(self, required: "ProofingLevel") -> bool:
        return self.value >= required.value


class AuthenticationComponent(str, enum.Enum):
    """One thing the person used to log in. Cp password, Cd registered device, Ck TOTP key, Cm asymmetric key."""

    PASSWORD = "Cp"
    DEVICE = "Cd"
    SHARED_KEY = "Ck"
    ASYMMETRIC_KEY = "Cm"


_COMPONENT_ORDER = [c.value for c in AuthenticationComponent]
# Components that cannot stand alone in a vector: a device or TOTP code is a second factor.
_SECOND_FACTORS_ONLY = {"Cd", "Ck"}


@dataclass(frozen=True)
class VectorOfTrust:
    proofing: ProofingLevel
    components: frozenset[str]

    @classmethod
    def parse(cls, text: str) -> "VectorOfTrust":
        if not isinstance(text, str) or not text or len(text) > 32:
            raise InvalidVectorError("a vector must be a short string such as 'P9.Cp.Cd'")
        parts = text.split(".")
        proofing = ProofingLevel.parse(parts[0])
        components = parts[1:]
        if not components:
            raise InvalidVectorError(f"vector {text!r} names no authentication component")
        for component in components:
            if component not in _COMPONENT_ORDER:
                raise InvalidVectorError(f"unknown authentication component {component!r} in {text!r}")
        if len(set(components)) != len(components):
            raise InvalidVectorError(f"vector {text!r} repeats a component")
        if set(components) <= _SECOND_FACTORS_ONLY:
            raise InvalidVectorError(f"vector {text!r} has no first factor (Cp or Cm)")
        return cls(proofing, frozenset(components))

    def __str__(self) -> str:
        ordered = sorted(self.components, key=_COMPONENT_ORDER.index)
        return ".".join([self.proofing.name, *ordered])

    def is_satisfied_by(self, proofing_level: ProofingLevel, components: Iterable[str]) -> bool:
        """All components used, and the person proofed at least to the level."""
        return proofing_level.satisfies(self.proofing) and self.components <= set(components)

    def strength(self) -> tuple[int, int]:
        return (self.proofing.value, len(self.components))


def parse_vector_list(values: Iterable[str]) -> list[VectorOfTrust]:
    vectors: list[VectorOfTrust] = []
    for value in values:
        vector = VectorOfTrust.parse(value)
        if vector not in vectors:
            vectors.append(vector)
    return vectors


def parse_vtr_parameter(raw: str) -> list[VectorOfTrust]:
    """The ``vtr`` request parameter: a JSON array of vector strings (e.g. '["P9.Cp.Cd","P9.Cm"]')."""
    if len(raw) > 1024:
        raise InvalidVectorError("vtr is too long")
    try:
        values = json.loads(raw)
    except ValueError:
        raise InvalidVectorError("vtr must be a JSON array of strings, each a vector such as P9.Cp.Cd") from None
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise InvalidVectorError("vtr must be a non-empty JSON array of strings, each a vector such as P9.Cp.Cd")
    return parse_vector_list(values)


def choose_vot(
    requested: Sequence[VectorOfTrust], proofing_level: ProofingLevel, components: Iterable[str]
) -> VectorOfTrust | None:
    """The single vector to assert: the strongest requested one the login satisfies, else None.

    Never weaker than asked: a login that satisfies none of the vectors gets no ``vot``.
    """
    used = set(components)
    satisfied = [v for v in requested if v.is_satisfied_by(proofing_level, used)]
    if not satisfied:
        return None
    return max(satisfied, key=lambda v: v.strength())


def missing_for(requested: Sequence[VectorOfTrust], proofing_level: ProofingLevel, components: Iterable[str]):
    """What stands between this login and the easiest requested vector: (proofing needed, components needed)."""
    used = set(components)
    best = None
    for vector in requested:
        need_p = None if proofing_level.satisfies(vector.proofing) else vector.proofing
        need_c = vector.components - used
        cost = (need_p is not None, len(need_c))
        if best is None or cost < best[0]:
            best = (cost, need_p, need_c)
    return (best[1], best[2]) if best else (None, frozenset())
