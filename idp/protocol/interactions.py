"""Parked authorization requests: the one contract between the protocol and the pages.

The pipeline raises ``Interact(kind, needs=...)`` when the person must do something; the request is
parked as an ``Interaction`` and the browser goes to the page registered for that kind
(``register_kind``). The pages keep their journey's state in the interaction (a half-finished login,
a code sent, a challenge), never in a login, and end with ``finish_login`` or a consent decision;
the browser then goes to ``next_url``, which runs the pipeline again. Adding a factor or a proofing
route is one more kind and its pages: the grant code never changes.

Interactions live in the server-side browser session, so they survive the session renewal at login.
"""
from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, fields

from flask import session, url_for

from ..authentication import establish_login
from ..clock import now

LIFETIME = 30 * 60
MAX_OPEN = 5
_PAGES: dict[str, str] = {}  # interaction kind -> the endpoint of its first page


def register_kind(kind: str, endpoint: str) -> None:
    """A page blueprint says which endpoint starts the journey of ``kind`` (login, consent, step_up...)."""
    _PAGES[kind] = endpoint


def has_kind(kind: str) -> bool:
    return kind in _PAGES


@dataclass
class Interaction:
    id: str
    kind: str
    params: dict  # the request as the client sent it: untrusted
    client_id: str | None
    created_at: int
    needs: dict = field(default_factory=dict)  # what the pipeline asked for: {"vectors": [...], "components": [...]}
    lang: str | None = None
    # Set by the protocol or by finish_login only: trusted.
    asserted_login: dict | None = None  # the login an accepted asserted_login_identity stands for
    logged_in_as: str | None = None  # the person who logged in inside this request
    consent: str | None = None  # "allow" | "deny"
    # The pages' own state: a half-finished login, codes sent, challenges, enrolments.
    pending: dict | None = None  # {"person_id": ..., "proven": {"Cp": time}} until the login is complete
    steps: dict = field(default_factory=dict)
    return_to: str | None = None  # a login outside an authorization request (the account pages) goes here

    @property
    def is_authorization(self) -> bool:
        return self.client_id is not None

    @property
    def vectors(self) -> list[str]:
        return list(self.needs.get("vectors") or [])


_FIELDS = {f.name for f in fields(Interaction)}


def _all() -> dict:
    return dict(session.get("interactions") or {})


def _live(record: dict | None) -> bool:
    return isinstance(record, dict) and record.get("created_at", 0) + LIFETIME > now()


def start(kind: str, *, params: dict, client_id: str | None, needs: dict | None = None,
          asserted_login: dict | None = None, return_to: str | None = None) -> Interaction:
    """Park a request (or, with ``client_id=None``, a login for our own pages)."""
    open_ = {k: v for k, v in _all().items() if _live(v)}
    # Bound the session's size: a browser rarely has more than a couple of logins in flight.
    for old in sorted(open_, key=lambda k: open_[k]["created_at"])[: max(0, len(open_) - MAX_OPEN + 1)]:
        open_.pop(old)
    interaction = Interaction(id=secrets.token_urlsafe(16), kind=kind, params=params, client_id=client_id,
                              created_at=now(), needs=needs or {}, asserted_login=asserted_login, return_to=return_to)
    open_[interaction.id] = asdict(interaction)
    session["interactions"] = open_
    return interaction


def load(interaction_id: str | None) -> Interaction | None:
    if not interaction_id or not isinstance(interaction_id, str) or len(interaction_id) > 64:
        return None
    record = _all().get(interaction_id)
    if not _live(record):
        return None
    return Interaction(**{k: v for k, v in record.items() if k in _FIELDS})


def save(interaction: Interaction) -> None:
    records = _all()
    if interaction.id in records:
        records[interaction.id] = asdict(interaction)
        session["interactions"] = records


def ask(interaction: Interaction, kind: str, needs: dict | None) -> None:
    """The pipeline asks again, for something else (a step-up after a login)."""
    interaction.kind, interaction.needs = kind, needs or {}
    save(interaction)


def finish_login(interaction: Interaction, person_id: str, proven: dict[str, int]) -> str:
    """The person proved ``proven`` (component -> time) inside this interaction: log them in, return where next.

    This is the only way the pages log anyone in; it satisfies prompt=login, max_age and id_token_hint
    for this request (check_login), and the half-finished state is dropped.
    """
    establish_login(person_id, proven)
    interaction.logged_in_as, interaction.pending = person_id, None
    interaction.steps = {}
    save(interaction)
    return next_url(interaction)


def decide_consent(interaction: Interaction, allowed: bool) -> str:
    interaction.consent = "allow" if allowed else "deny"
    save(interaction)
    return next_url(interaction)


def finish(interaction_id: str) -> None:
    records = _all()
    if records.pop(interaction_id, None) is not None:
        session["interactions"] = records


def next_url(interaction: Interaction) -> str:
    """Back into the pipeline for an authorization request; else where the login was for."""
    if interaction.is_authorization:
        return url_for("protocol.resume", interaction_id=interaction.id)
    finish(interaction.id)
    return interaction.return_to or url_for("accounts.account")


def page_url(interaction: Interaction) -> str:
    return url_for(_PAGES[interaction.kind], interaction=interaction.id)
