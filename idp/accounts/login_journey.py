"""The login journey: what the person has proven so far inside one interaction, and which page comes next.

A login (kind ``login``) starts from nothing; a step-up (kind ``step_up``) starts from the browser's
login and asks only for what the request's vectors still lack. Either way the progress lives in the
interaction (``pending``), never in a login, until ``journey.next_step`` says a vector is met; then
``interactions.finish_login`` logs the person in with what they proved here. The pages call
``record`` after each factor and follow ``next_page``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from flask import request, url_for

from ..authentication import current_login, factors
from ..authentication.factors import remembered_device
from ..authentication.journey import NextStep, full_login_vectors, next_step
from ..events import emit
from ..extensions import db
from ..levels import parse_vector_list
from ..models import Person
from ..protocol import interactions
from ..protocol.interactions import Interaction

# The page that asks for each component, and the pages that set one up inside a step-up.
ASK_PAGES = {"Cp": "accounts.login", "Cd": "accounts.security_code", "Ck": "accounts.authenticator_app",
             "Cm": "accounts.passkey"}
SET_UP_PAGES = {"Ck": "accounts.set_up_authenticator_app", "Cm": "accounts.set_up_passkey"}


@dataclass
class Progress:
    person_id: str | None = None
    proven: dict = field(default_factory=dict)  # component -> time, proven inside this interaction
    had: dict = field(default_factory=dict)  # component -> time, the browser's login a step-up starts from

    @property
    def components(self) -> set[str]:
        return set(self.proven) | set(self.had)


def progress_of(interaction: Interaction) -> Progress:
    pending = interaction.pending or {}
    return Progress(pending.get("person_id"), dict(pending.get("proven") or {}), dict(pending.get("had") or {}))


def _store(interaction: Interaction, progress: Progress) -> None:
    interaction.pending = asdict(progress)
    interactions.save(interaction)


def begin(interaction: Interaction) -> Progress | None:
    """The journey's progress, set up on its first page; None if a step-up's login has gone (logged out elsewhere)."""
    if interaction.pending is not None:
        progress = progress_of(interaction)
        if interaction.kind != "step_up" and progress.had:
            # A step-up the protocol turned into a login (max_age ran out meanwhile): a login starts from
            # nothing, so the browser's old login no longer counts; what was proven here still does.
            progress.had = {}
            _store(interaction, progress)
    elif interaction.kind == "step_up":
        login = current_login()
        if login is None:
            return None
        progress = Progress(login.person_id, {}, dict(login.component_times))
        _store(interaction, progress)
    else:
        progress = Progress()
    if interaction.kind == "step_up" and (current_login() is None or current_login().person_id != progress.person_id):
        return None
    return progress


def person_of(progress: Progress) -> Person | None:
    return db.session.get(Person, progress.person_id) if progress.person_id else None


def record(interaction: Interaction, person: Person, component: str, at: int) -> bool:
    """The person proved ``component``. In a login, proving a first factor as someone else starts afresh;
    in a step-up only the logged-in person may continue (False otherwise)."""
    progress = progress_of(interaction)
    if progress.person_id not in (None, person.id):
        if interaction.kind == "step_up" or component not in ("Cp", "Cm"):
            return False
        progress, interaction.steps = Progress(), {}
    progress.person_id = person.id
    progress.proven[component] = at
    _store(interaction, progress)
    return True


def vectors_for(interaction: Interaction, person: Person):
    if interaction.is_authorization:
        return parse_vector_list(interaction.vectors)
    return full_login_vectors(factors.components_set_up(person))


def step_for(interaction: Interaction, person: Person, progress: Progress) -> NextStep:
    return next_step(vectors_for(interaction, person), progress.components, factors.components_set_up(person))


def may_ask(interaction: Interaction, component: str) -> tuple[Progress, Person] | None:
    """The progress and person if the journey may ask for ``component`` now (a page's guard)."""
    progress = begin(interaction)
    person = person_of(progress) if progress else None
    if person is None:
        return None
    return (progress, person) if component in step_for(interaction, person, progress).ask else None


def may_set_up(interaction: Interaction, component: str) -> tuple[Progress, Person] | None:
    """Only after a complete login with the person's own factors may they add one (journey.next_step)."""
    progress = begin(interaction)
    person = person_of(progress) if progress else None
    if person is None:
        return None
    return (progress, person) if component in step_for(interaction, person, progress).set_up else None


def next_page(interaction: Interaction) -> str:
    """Where the browser goes now: a factor's page, a set-up page, the cannot-continue page, or onward."""
    progress = begin(interaction)
    person = person_of(progress) if progress else None
    if progress is None:
        return url_for("accounts.timed_out")
    if person is None:
        return url_for("accounts.login", interaction=interaction.id)
    step = step_for(interaction, person, progress)
    if not step.done and "Cd" in step.ask and _remembered_browser(person, progress):
        # Stands for Cd with the password; dated as the password, so auth_time does not move for it.
        record(interaction, person, "Cd", progress.proven.get("Cp") or progress.had["Cp"])
        progress = progress_of(interaction)
        step = step_for(interaction, person, progress)
    if step.done:
        emit("login.succeeded", person_id=person.id, components=sorted(progress.proven), kind=interaction.kind)
        return interactions.finish_login(interaction, person.id, progress.proven)
    if step.ask:
        # Both needed (Cp and Cd): the password comes first. Else the preferred of the alternatives.
        first = "Cp" if "Cp" in step.ask else step.first
        return url_for(ASK_PAGES[first], interaction=interaction.id)
    if step.set_up:
        if len(step.set_up) == 1:
            return url_for(SET_UP_PAGES[step.set_up[0]], interaction=interaction.id)
        return url_for("accounts.set_up", interaction=interaction.id)
    return url_for("accounts.cannot_continue", interaction=interaction.id)


def alternatives(interaction: Interaction, person: Person, progress: Progress, current: str) -> list[dict]:
    """Other ways to prove what the journey needs now, for the "use another way" links."""
    step = step_for(interaction, person, progress)
    return [{"component": c, "url": url_for(ASK_PAGES[c], interaction=interaction.id)}
            for c in step.ask if c != current and c != "Cp"]


def _remembered_browser(person: Person, progress: Progress) -> bool:
    # journeys.md: a remembered browser counts as Cd only together with the password.
    return "Cp" in progress.components and remembered_device.recognise(
        person.id, request.cookies.get(remembered_device.COOKIE))
