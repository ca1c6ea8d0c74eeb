"""High level (P9) with GP online services registration details: linkage key, practice ODS code and
account ID, checked with the GP practice system together with name and date of birth."""
from __future__ import annotations

from dataclasses import dataclass

from ...levels import ProofingLevel
from ...i18n import N_
from .. import attempts, evidence, person_record
from ..gp_system import GpSystemUnavailable, gp_system
from ..matching import name_matches
from ..pds import PdsUnavailable, demographics_service
from . import Outcome, Result, Route, raised, register

ROUTE = register(Route(
    name="gp_online", reaches=ProofingLevel.P9, needs=ProofingLevel.P5, endpoint="proofing.gp_online",
    title=N_("Use your GP online services registration details"),
    hint=N_("The letter or email from your GP surgery with your linkage key, account ID and practice ID."),
    offered=lambda person, settings: (ProofingLevel[person.proofing_level] == ProofingLevel.P5
                                      and gp_system(settings) is not None),
    may_be_offered=lambda settings: gp_system(settings) is not None,
))
THROTTLE = "proofing-gp-online"


@dataclass(frozen=True)
class RegistrationDetails:
    linkage_key: str
    ods_code: str
    account_id: str
    given: str
    family: str
    birthdate: str  # YYYY-MM-DD


def attempt(person, details: RegistrationDetails, settings, source: str) -> Result:
    """One try at P9 for a person at P5; wrong details are throttled like every proofing guess."""
    if not ROUTE.offered(person, settings):
        return Result(Outcome.NOT_OFFERED)  # checked here, not only by the page: the rule lives with the route
    if attempts.locked(THROTTLE, person.id, source, settings) or not attempts.take(THROTTLE, person.id, source, settings):
        return Result(Outcome.LOCKED)
    gp = gp_system(settings)
    if gp is None:
        return Result(Outcome.UNAVAILABLE)
    checked_by = f"gp_system:{settings.gp_system_adapter}"
    try:
        account = gp.find_account(ods_code=details.ods_code, account_id=details.account_id,
                                  linkage_key=details.linkage_key)
        # Someone else's account is refused before PDS is asked: no extra call to time.
        mine = account is not None and account.nhs_number == person.nhs_number
        record = demographics_service(settings).get(account.nhs_number) if mine else None
    except (GpSystemUnavailable, PdsUnavailable):
        attempts.give_back(THROTTLE, person.id, source, settings)
        return Result(Outcome.UNAVAILABLE)
    reason = None
    if account is None:
        reason = "no_account"
    elif not mine:
        reason = "another_record"
    elif record is None or record.deceased or not record.active:
        reason = "no_usable_record"
    elif record.nhs_number != person.nhs_number:
        reason = "another_record"  # the account is someone else's, or this person matched another record
    elif record.birthdate != details.birthdate or not name_matches(record, details.given, details.family):
        reason = "details_differ"
    if reason:
        evidence.append(person.id, evidence.new(route=ROUTE.name, outcome="not_matched", checked_by=checked_by,
                                                reason=reason))
        return Result(Outcome.NOT_MATCHED)
    if not record.restricted:  # a restricted record's practice is never kept, even inside the credentials
        person_record.keep_gp_credentials(person, account)
    proof = evidence.new(route=ROUTE.name, outcome="verified", checked_by=checked_by, level="P9", record=record)
    return raised(person, "P9", proof, record)
