"""Medium level (P5): NHS number or name, with date of birth and postcode, matched to PDS."""
from __future__ import annotations

from ...levels import ProofingLevel
from .. import attempts, evidence
from ...i18n import N_
from ..matching import Details, match
from ..pds import PdsUnavailable, demographics_service
from . import Outcome, Result, Route, raised, register

ROUTE = register(Route(
    name="demographics", reaches=ProofingLevel.P5, needs=ProofingLevel.P0, endpoint="proofing.details",
    title=N_("Enter your NHS number or your name, date of birth and postcode"),
    hint=N_("We check them with your GP's records of you."),
    offered=lambda person, settings: ProofingLevel[person.proofing_level] == ProofingLevel.P0,
    may_be_offered=lambda settings: True,
))
THROTTLE = "proofing-details"


def attempt(person, details: Details, settings, source: str) -> Result:
    """One try at P5; counted against the account and the source before PDS is asked."""
    if not ROUTE.offered(person, settings):
        return Result(Outcome.NOT_OFFERED)  # checked here, not only by the page: the rule lives with the route
    if attempts.locked(THROTTLE, person.id, source, settings) or not attempts.take(THROTTLE, person.id, source, settings):
        return Result(Outcome.LOCKED)
    checked_by = f"pds:{settings.pds_adapter}"
    try:
        found = match(details, demographics_service(settings))
    except PdsUnavailable:
        attempts.give_back(THROTTLE, person.id, source, settings)
        return Result(Outcome.UNAVAILABLE)  # not the person's fault: neither counted nor recorded
    if not found.matched:
        evidence.append(person.id, evidence.new(route=ROUTE.name, outcome="not_matched", checked_by=checked_by,
                                                method=details.method, reason=found.reason))
        return Result(Outcome.NOT_MATCHED)
    proof = evidence.new(route=ROUTE.name, outcome="matched", checked_by=checked_by, level="P5",
                         record=found.record, method=details.method,
                         superseded=list(found.record.superseded) or None)
    result = raised(person, "P5", proof, found.record)
    if result.outcome is Outcome.ALREADY_LINKED:
        evidence.append(person.id, evidence.new(route=ROUTE.name, outcome="refused", checked_by=checked_by,
                                                method=details.method, reason="linked_to_another_account"))
    return result
