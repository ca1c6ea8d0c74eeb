"""Organisations and their members: signing up (an organisation and its first member), inviting members by
email, and disabling a member. Every answer is the same whether an email is known or not (no enumeration):
a known address is told by email that it already has an account.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .. import notifications
from ..areas import accounts, factors
from ..authentication import throttle
from ..authentication.email_address import is_valid_email, normalise_email
from ..extensions import db
from ..models import Integrator, Organisation
from ..organisations import is_ods_code
from . import audit
from .area import DEVELOPER

COMPANY_NUMBER = re.compile(r"^(?:[0-9]{8}|(?:SC|NI|OC|SO|NC|R0|IP|SP|RC|SR|NR|NL|FC|SF|NF|GE|LP|SL|NP)[0-9]{6})$")
IDENTIFIER_KINDS = {"ods_code": "ODS code", "company_number": "Company number"}
SIGN_UPS_PER_SOURCE, SIGN_UP_WINDOW = 10, 3600  # a form that sends email: not a way to mail-bomb strangers
INVITES_PER_ORGANISATION = 20  # an hour, for the same reason


class PortalError(ValueError):
    """What the person must fix: ``field`` names the form field, the message says what to do."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class SignUp:
    organisation_name: str
    identifier_kind: str
    identifier: str
    contact_name: str
    email: str


def text_field(value, field: str, label: str, limit: int = 200, lines: bool = False) -> str:
    value = (value or "").strip().replace("\r\n", "\n")
    if not value:
        raise PortalError(field, f"Enter {label}")
    allowed = "\n" if lines else ""
    if len(value) > limit or any(ord(c) < 32 and c not in allowed for c in value):
        where = "" if lines else ", on one line"
        raise PortalError(field, f"{label[0].upper()}{label[1:]} must be {limit} characters or fewer{where}")
    return value


def email_address(value, field: str = "email") -> str:
    address = normalise_email((value or "").strip())
    if not address:
        raise PortalError(field, "Enter an email address")
    if not is_valid_email(address):
        raise PortalError(field, "Enter an email address in the correct format, like name@example.com")
    return address


def check_sign_up(form) -> SignUp:
    """The sign-up form, checked; ``PortalError`` names the first field to fix."""
    name = text_field(form.get("organisation_name"), "organisation_name", "the name of your organisation")
    kind = form.get("identifier_kind")
    if kind not in IDENTIFIER_KINDS:
        raise PortalError("identifier_kind", "Select whether your organisation has an ODS code or a company number")
    identifier = (form.get("identifier") or "").strip().upper().replace(" ", "")
    if kind == "ods_code" and not is_ods_code(identifier):
        raise PortalError("identifier", "Enter an ODS code of 3 to 8 letters and numbers, like A12345")
    if kind == "company_number" and not COMPANY_NUMBER.match(identifier):
        raise PortalError("identifier", "Enter a company number of 8 characters, like 01234567 or SC123456")
    contact = text_field(form.get("contact_name"), "contact_name", "your full name")
    return SignUp(name, kind, identifier, contact, email_address(form.get("email")))


def sign_up(details: SignUp, settings, source: str) -> None:
    """Make the organisation and its first member, and email the set-up link; an address that already has an
    account is emailed that instead. The caller shows the same page either way, and commits nothing: done here."""
    key = throttle.subject("developer-sign-up", source)
    if throttle.count_attempt(key, SIGN_UPS_PER_SOURCE, SIGN_UP_WINDOW) > SIGN_UPS_PER_SOURCE:
        raise PortalError(None, "There have been too many sign-ups from your network. Try again in an hour.")
    existing = Integrator.query.filter_by(email=details.email).first()
    if existing is not None and existing.status == "active":
        notifications.send("developer_account_exists", details.email, "email",
                           {"link": f"{settings.issuer}/developer/login"})
        db.session.commit()
        return
    _release(existing)
    organisation = Organisation(name=details.organisation_name, identifier_kind=details.identifier_kind,
                                identifier=details.identifier, contact_name=details.contact_name,
                                contact_email=details.email)
    db.session.add(organisation)
    db.session.flush()
    member = Integrator(organisation_id=organisation.id, email=details.email, status="invited")
    db.session.add(member)
    db.session.flush()
    link = accounts.new_link(DEVELOPER, member, settings)
    notifications.send("developer_set_up", details.email, "email", {"link": link, "organisation": organisation.name})
    audit.record("organisation.signed_up", member=None, organisation_id=organisation.id, actor=details.email,
                 subject=member.id)
    db.session.commit()


def _release(member: Integrator | None) -> None:
    """An address whose account was never set up, or was removed, is not reserved by it: the row goes (and the
    organisation it alone made, if nothing else is in it), so the address can be signed up or invited again.
    The audit keeps what they did."""
    if member is None or member.status == "active":
        return
    from ..models import Service

    organisation_id = member.organisation_id
    db.session.delete(member)
    db.session.flush()
    if (Integrator.query.filter_by(organisation_id=organisation_id).count() == 0
            and Service.query.filter_by(organisation_id=organisation_id).count() == 0):
        Organisation.query.filter_by(id=organisation_id).delete(synchronize_session=False)


def members_of(organisation_id: str) -> list[Integrator]:
    """Members who have set up their account (active or removed). Invitations are not listed: whether an address
    already has an account elsewhere must not show here (no enumeration)."""
    return (Integrator.query.filter(Integrator.organisation_id == organisation_id, Integrator.status != "invited")
            .order_by(Integrator.email).all())


def invite(inviter: Integrator, value, settings) -> str:
    """Invite someone to the inviter's organisation by email; returns the address. An address with an account
    elsewhere is emailed that it already has one (it is not moved between organisations)."""
    address = email_address(value)
    key = throttle.subject("developer-invite", inviter.organisation_id)
    if throttle.count_attempt(key, INVITES_PER_ORGANISATION, SIGN_UP_WINDOW) > INVITES_PER_ORGANISATION:
        raise PortalError("email", "Your organisation has sent too many invitations. Try again in an hour.")
    existing = Integrator.query.filter_by(email=address).first()
    organisation = db.session.get(Organisation, inviter.organisation_id)
    if existing is not None and existing.organisation_id == inviter.organisation_id:
        if existing.status == "active" and not factors.is_blocked(existing):
            raise PortalError("email", f"{address} is already a member of your organisation")
        # Removed, locked, or an invitation not taken up: start again with a new link.
        link = accounts.reset(DEVELOPER, existing, settings)
        existing.invited_by = inviter.id
        notifications.send("developer_invitation", address, "email", {"link": link, "organisation": organisation.name})
    elif existing is not None and existing.status == "active":
        notifications.send("developer_account_exists", address, "email",
                           {"link": f"{settings.issuer}/developer/login"})
    else:
        _release(existing)
        member = Integrator(organisation_id=organisation.id, email=address, status="invited", invited_by=inviter.id)
        db.session.add(member)
        db.session.flush()
        notifications.send("developer_invitation", address, "email",
                           {"link": accounts.new_link(DEVELOPER, member, settings), "organisation": organisation.name})
    # The same event whatever the address had: the audit, like the page, says nothing about other organisations.
    audit.record("member.invited", member=inviter)
    db.session.commit()
    return address


def disable(by: Integrator, member_id: str) -> Integrator:
    member = db.session.get(Integrator, member_id) if len(member_id or "") <= 36 else None
    if member is None or member.organisation_id != by.organisation_id:
        raise PortalError(None, "That person is not a member of your organisation")
    if member.id == by.id:
        raise PortalError(None, "You cannot remove yourself: ask another member of your organisation")
    accounts.disable(DEVELOPER, member)
    audit.record("member.disabled", member=by, subject=member.id)
    db.session.commit()
    return member
