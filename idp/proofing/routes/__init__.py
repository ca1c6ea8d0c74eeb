"""The ways of proving who you are, one module each, all the same shape (journeys.md "Prove who they are").

A route declares the level it reaches, the level a person must already hold to take it, the page it
starts on, and whether it is offered to this person now. Routes started by staff rather than chosen
by the person (``in_person``, and provisioning) are modules of the same kind that are not registered.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Callable

from ...levels import ProofingLevel
from ..level import NhsNumberTaken, ProofingError, raise_level


@dataclass(frozen=True)
class Route:
    name: str
    reaches: ProofingLevel
    needs: ProofingLevel  # held before this route's own check (P9 routes need P5 first)
    endpoint: str  # the page that starts it
    title: str  # msgid, as the choice page lists it
    hint: str  # msgid
    offered: Callable  # (person, settings) -> bool: may this person take it now
    may_be_offered: Callable  # (settings) -> bool: could anyone, once at ``needs`` (the adapter is connected)


_ROUTES: list[Route] = []


def register(route: Route) -> Route:
    _ROUTES.append(route)
    return route


def all_routes() -> list[Route]:
    return list(_ROUTES)


def named(name: str) -> Route | None:
    return next((r for r in _ROUTES if r.name == name), None)


class Outcome(enum.Enum):
    """What a route's check did, as the pages show it."""

    RAISED = "raised"
    NOT_MATCHED = "not_matched"  # the same for every refusal: never says which detail or how many records
    LOCKED = "locked"  # too many attempts: try again later
    UNAVAILABLE = "unavailable"  # a national service could not answer: nothing recorded
    ALREADY_LINKED = "already_linked"  # the record belongs to another account
    NOT_OFFERED = "not_offered"  # the route is not (or no longer) for this person: back to the choice
    PENDING = "pending"  # a vendor or the ID checking team will decide later
    POOR_IMAGE = "poor_image"  # the photos could not be checked: take them again


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    level: str | None = None


def raised(person, level: str, proof, record) -> Result:
    """``raise_level`` as a route's outcome: the record is another account's, or the person's level
    moved while the check ran (another tab) and the choice page shows what is next."""
    try:
        raise_level(person, level, proof, record=record)
    except NhsNumberTaken:
        return Result(Outcome.ALREADY_LINKED)
    except ProofingError:
        return Result(Outcome.NOT_OFFERED)
    return Result(Outcome.RAISED, level)


from . import demographics, fast_track, gp_online, photo_id_face_scan, photo_id_video  # noqa: E402,F401 - register the routes in the order offered
