"""What a login or step-up asks next: the rule that turns requested vectors and proven components into a step.

Pure: no Flask, no database. The pages call ``next_step`` after each factor; the protocol's
``check_vot`` decides the ``vot`` afterwards. Proofing levels are not considered here: a missing
``P`` is the proofing journey's (a later interaction of the same mechanism).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from ..levels import VectorOfTrust

# Components a person can set up inside a step-up, after proving what they already have.
SET_UP_IN_JOURNEY = ("Ck", "Cm")
# The order second factors are offered in when several would do.
PREFERENCE = ("Cm", "Ck", "Cd", "Cp")


@dataclass(frozen=True)
class NextStep:
    done: bool = False
    ask: tuple[str, ...] = ()  # components to ask for now, the preferred first; the others are alternatives
    set_up: tuple[str, ...] = ()  # components the person could set up here to finish
    possible: bool = True  # False: nothing the person has or can set up here reaches a requested vector

    @property
    def first(self) -> str | None:
        return self.ask[0] if self.ask else None


def next_step(vectors: Iterable[VectorOfTrust], proven: Iterable[str], set_up: Iterable[str]) -> NextStep:
    """The next component to ask for so that the login meets one of ``vectors`` (all components of one vector)."""
    vectors, proven, have = list(vectors), set(proven), set(set_up)
    if any(v.components <= proven for v in vectors):
        return NextStep(done=True)
    # Vectors the person can finish with what they have set up; the fewest steps first.
    reachable = sorted((v for v in vectors if v.components - proven <= have), key=lambda v: len(v.components - proven))
    if reachable:
        fewest = len(reachable[0].components - proven)
        ask = {c for v in reachable if len(v.components - proven) == fewest for c in v.components - proven}
        return NextStep(ask=tuple(sorted(ask, key=PREFERENCE.index)))
    # Else: a vector that lacks only components they may set up here, once they have logged in fully
    # with what they already have (a stranger with a password alone must not add a passkey).
    settable = {c for v in vectors if (v.components - proven) - have <= set(SET_UP_IN_JOURNEY)
                for c in (v.components - proven) - have}
    if not settable:
        return NextStep(possible=False)
    lacking = _full_login_lacks(proven, have)
    if lacking:
        return NextStep(ask=lacking)
    return NextStep(set_up=tuple(sorted(settable, key=PREFERENCE.index)))


def _full_login_lacks(proven: set[str], have: set[str]) -> tuple[str, ...]:
    """What a complete login with the person's own factors still needs: a passkey, or the password
    and (if they have one) a second factor."""
    if "Cm" in proven:
        return ()
    if "Cp" not in proven:
        return ("Cp",)
    second = have & {"Cd", "Ck"}
    if second and not proven & {"Cd", "Ck"}:
        return tuple(sorted(second, key=PREFERENCE.index))
    return ()


def full_login_vectors(set_up: Iterable[str]) -> list[VectorOfTrust]:
    """What a login for our own pages (no relying party) asks: a passkey, or the password with the person's
    own second factor if they have one (a person with only a password logs in with it)."""
    have = set(set_up)
    seconds = [c for c in ("Cd", "Ck") if c in have]
    shapes = [f"P0.Cp.{c}" for c in seconds] or ["P0.Cp"]
    if "Cm" in have:
        shapes.append("P0.Cm")
    return [VectorOfTrust.parse(shape) for shape in shapes]
