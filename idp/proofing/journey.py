"""Which proofing step comes next for a level asked (issue 8 "Uplift inside a login").

P9 from P0 goes through P5 first; a route is offered only if it can reach the level asked from where
the person stands. Pure rules over the route registry: the pages ask, and never decide.
"""
from __future__ import annotations

from ..levels import ProofingLevel
from .routes import Route, all_routes


def next_level(person, target: ProofingLevel) -> ProofingLevel | None:
    """The level the next check should reach: P5 before anything higher; None when already there."""
    current = ProofingLevel[person.proofing_level]
    if current.satisfies(target):
        return None
    if not current.satisfies(ProofingLevel.P5):
        return ProofingLevel.P5
    return target


def _next_routes(person, target: ProofingLevel):
    """The registered routes for the next step towards ``target``, before asking whether each is offered."""
    step = next_level(person, target)
    current = ProofingLevel[person.proofing_level]
    return [r for r in all_routes() if step is not None and r.reaches == step and current.satisfies(r.needs)]


def routes_now(person, target: ProofingLevel, settings) -> list[Route]:
    """The routes offered for the next step towards ``target``, in the order the pages list them."""
    return [r for r in _next_routes(person, target) if r.offered(person, settings)]


def can_reach(person, target: ProofingLevel, settings) -> bool:
    """Could this person reach ``target`` inside this request, by some sequence of offered routes?"""
    current = ProofingLevel[person.proofing_level]
    if current.satisfies(target):
        return True
    if current.satisfies(ProofingLevel.P5):
        # Stops at the first route offered: an offer can cost a PDS and a GP system call (fast-track).
        return any(r.offered(person, settings) for r in _next_routes(person, target))
    first = [r for r in all_routes() if r.reaches == ProofingLevel.P5 and r.offered(person, settings)]
    if not first:
        return False
    return target == ProofingLevel.P5 or any(r.reaches.satisfies(target) and r.may_be_offered(settings)
                                             for r in all_routes() if r.needs == ProofingLevel.P5)


def reachable_vectors(person, vectors, settings) -> list:
    """The vectors whose level this person could reach; each level asked about once, however many vectors name it."""
    reachable = {level: can_reach(person, level, settings) for level in {v.proofing for v in vectors}}
    return [v for v in vectors if reachable[v.proofing]]


def lowest_level(vectors) -> ProofingLevel:
    return min((v.proofing for v in vectors), key=lambda lvl: lvl.value)
