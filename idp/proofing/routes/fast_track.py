"""High level (P9) by fast-track: an earlier GP online services ID check is transferred, when the
account's verified mobile is the one on the person's PDS record (journeys.md P9 route 1)."""
from __future__ import annotations

from ...levels import ProofingLevel
from ...i18n import N_
from .. import evidence
from ..gp_system import GpSystemUnavailable, gp_system
from ..pds import PdsUnavailable, demographics_service
from . import Outcome, Result, Route, raised, register


def _earlier_check(person, settings):
    """(record, account) when the person may have their earlier check transferred, else None."""
    gp = gp_system(settings)
    if gp is None or ProofingLevel[person.proofing_level] != ProofingLevel.P5 or not person.nhs_number:
        return None
    if not (person.phone_number and person.phone_number_verified):
        return None
    record = demographics_service(settings).get(person.nhs_number)
    if record is None or record.deceased or not record.active or record.mobile != person.phone_number:
        return None
    checked = [a for a in gp.accounts_of(record.nhs_number) if a.id_checked_on]
    return (record, checked[0]) if checked else None


def offered(person, settings) -> bool:
    try:
        return _earlier_check(person, settings) is not None
    except (GpSystemUnavailable, PdsUnavailable):
        return False  # offered again when the services answer; the other routes still are


ROUTE = register(Route(
    name="fast_track", reaches=ProofingLevel.P9, needs=ProofingLevel.P5, endpoint="proofing.fast_track",
    title=N_("Use the ID check you did for GP online services"),
    hint=N_("Your GP surgery has already checked your ID, and your mobile number is the one on your record."),
    offered=offered, may_be_offered=lambda settings: gp_system(settings) is not None,
))


def transfer(person, settings) -> Result:
    try:
        found = _earlier_check(person, settings)
    except (GpSystemUnavailable, PdsUnavailable):
        return Result(Outcome.UNAVAILABLE)
    if found is None:
        return Result(Outcome.NOT_MATCHED)
    record, account = found
    proof = evidence.new(route=ROUTE.name, outcome="transferred", checked_by=f"gp_system:{settings.gp_system_adapter}",
                         level="P9", record=record, id_checked_on=account.id_checked_on)
    return raised(person, "P9", proof, record)
