"""Prove who you are: the start page, the details (P5), GP online details and fast-track (P9) pages.

Each view parses the form, calls the route's check and follows ``onward``; the protocol parked the
request (interaction kind ``prove``) and decides the ``vot`` when the person comes back.
"""
from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext, ngettext

from ...authentication import current_login
from ...extensions import db
from ...i18n import N_
from ...levels import ProofingLevel
from ...models import Client, Person
from ...protocol import interactions
from ...web import allow_form_target, error_page
from .. import journey
from ..routes import Outcome, demographics, fast_track, gp_online, named
from . import forms
from .blueprint import bp

interactions.register_kind("prove", "proofing.start")
NOT_MATCHED = N_("We could not find your details. Check what you entered and try again.")
NOT_MATCHED_GP = N_("We could not check your GP online services details. Check what you entered and try again.")


def _settings():
    return current_app.extensions["idp"].settings


def _source() -> str:
    return request.remote_addr or "unknown"


class Journey:
    """This page's interaction, its person (the one logged in when it started) and the level asked."""

    def __init__(self, interaction, person):
        self.interaction, self.person = interaction, person
        self.target = ProofingLevel.parse(interaction.needs.get("level") or "P9")

    @property
    def client_name(self) -> str | None:
        client = db.session.get(Client, self.interaction.client_id) if self.interaction.client_id else None
        return client.name if client else None

    def url(self, endpoint: str, **values) -> str:
        return url_for(endpoint, interaction=self.interaction.id, **values)


def _journey() -> Journey | None:
    interaction = interactions.load(request.args.get("interaction"))
    login = current_login()
    if interaction is None or interaction.kind != "prove" or login is None:
        return None
    state = interaction.steps.setdefault("proofing", {})
    if "person_id" not in state:  # bound to whoever is logged in when the journey's first page opens
        state["person_id"] = login.person_id
        interactions.save(interaction)
    if state["person_id"] != login.person_id:
        return None  # someone else logged in in this browser since: start again from the service
    person = db.session.get(Person, login.person_id)
    if person is None:
        return None
    allow_form_target(interaction.params.get("redirect_uri"))
    return Journey(interaction, person)


def _timed_out():
    return error_page(N_("Your session has timed out"), N_("Go back to the service you were using and try again."), 400)


def onward(j: Journey):
    """After a level was raised: on to the next step, or back to the service (or the account page)."""
    if journey.next_level(j.person, j.target) is not None:
        return redirect(j.url("proofing.start"))
    if j.interaction.is_authorization:
        return redirect(interactions.next_url(j.interaction))
    session["settings_done"] = gettext("You have proved who you are.")  # shown once on the account page
    return redirect(interactions.next_url(j.interaction))


def _stopped(j: Journey, result):
    """The pages for a check that could not finish: locked, unavailable, or someone else's record."""
    if result.outcome is Outcome.NOT_OFFERED:
        return redirect(j.url("proofing.start"))  # the level moved on (another tab): show what is next
    if result.outcome is Outcome.LOCKED:
        minutes = max(1, -(-_settings().proofing_lockout_seconds // 60))
        message = ngettext("You have tried too many times. Wait %(num)d minute, then try again.",
                           "You have tried too many times. Wait %(num)d minutes, then try again.", minutes)
        return _stop_page(j, gettext("You cannot prove who you are right now"), message, 429)
    if result.outcome is Outcome.UNAVAILABLE:
        return _stop_page(j, gettext("Sorry, there is a problem with the service"),
                          gettext("We cannot check your details at the moment. Try again later."), 503,
                          retry_url=request.url)
    return render_template("proofing/already_linked.html", j=j, status=409,
                           forgotten_url=url_for("accounts.forgotten_password"),
                           stop_url=j.url("proofing.cannot_continue")), 409


def _stop_page(j: Journey, heading: str, message: str, status: int, retry_url: str | None = None):
    return render_template("proofing/stop.html", j=j, heading=heading, message=message, retry_url=retry_url,
                           stop_url=j.url("proofing.cannot_continue"), status=status), status


# --- start (and outside a login: from the account page) ---------------------------------------------
@bp.get("/")
def begin():
    """From the account page: prove who you are to P5 or P9, outside any service's request."""
    if current_login() is None:
        return redirect(url_for("accounts.login"))
    level = request.args.get("level") if request.args.get("level") in ("P5", "P9") else "P9"
    started = interactions.start("prove", params={}, client_id=None, needs={"level": level},
                                 return_to=url_for("accounts.account"))
    return redirect(url_for("proofing.start", interaction=started.id))


@bp.route("/start", methods=["GET", "POST"])
def start():
    j = _journey()
    if j is None:
        return _timed_out()
    step = journey.next_level(j.person, j.target)
    if step is None:
        return onward(j)
    routes = journey.routes_now(j.person, j.target, _settings())
    if not routes:
        return render_template("proofing/cannot_continue.html", j=j, possible=False,
                               action=j.url("proofing.cannot_continue")), 200
    errors = []
    if request.method == "POST":
        chosen = named(request.form.get("route") or "")
        if chosen in routes:
            return redirect(j.url(chosen.endpoint))
        errors = [{"field": "route-1", "message": gettext("Choose how you want to prove who you are")}]
    return render_template("proofing/start.html", j=j, step=step.name, routes=routes, errors=errors,
                           action=j.url("proofing.start"), stop_url=j.url("proofing.cannot_continue")), 400 if errors else 200


# --- medium level (P5) --------------------------------------------------------------------------------
@bp.route("/your-details", methods=["GET", "POST"], endpoint="details")
def details():
    j = _journey()
    if j is None:
        return _timed_out()
    if not demographics.ROUTE.offered(j.person, _settings()):
        return redirect(j.url("proofing.start"))
    method = "name" if request.args.get("method") == "name" else "nhs-number"
    errors = []
    if request.method == "POST":
        given, errors = forms.medium_details(request.form, method)
        if given is not None:
            result = demographics.attempt(j.person, given, _settings(), _source())
            if result.outcome is Outcome.RAISED:
                return onward(j)
            if result.outcome is not Outcome.NOT_MATCHED:
                return _stopped(j, result)
            first = "nhs_number" if method == "nhs-number" else "given_name"
            errors = [{"field": first, "message": gettext(NOT_MATCHED)}]
    return render_template("proofing/details.html", j=j, method=method, form=request.form, errors=errors,
                           action=j.url("proofing.details", method=method),
                           other_method_url=j.url("proofing.details", method="nhs-number" if method == "name" else "name"),
                           stop_url=j.url("proofing.cannot_continue")), 400 if errors else 200


# --- high level (P9) --------------------------------------------------------------------------------
@bp.route("/gp-online-details", methods=["GET", "POST"], endpoint="gp_online")
def gp_online_details():
    j = _journey()
    if j is None:
        return _timed_out()
    if not gp_online.ROUTE.offered(j.person, _settings()):
        return redirect(j.url("proofing.start"))
    errors = []
    if request.method == "POST":
        given, errors = forms.registration_details(request.form)
        if given is not None:
            result = gp_online.attempt(j.person, given, _settings(), _source())
            if result.outcome is Outcome.RAISED:
                return onward(j)
            if result.outcome is not Outcome.NOT_MATCHED:
                return _stopped(j, result)
            errors = [{"field": "linkage_key", "message": gettext(NOT_MATCHED_GP)}]
    return render_template("proofing/gp_online.html", j=j, form=request.form, errors=errors,
                           action=j.url("proofing.gp_online"), back_url=j.url("proofing.start"),
                           stop_url=j.url("proofing.cannot_continue")), 400 if errors else 200


@bp.route("/fast-track", methods=["GET", "POST"], endpoint="fast_track")
def fast_track_page():
    j = _journey()
    if j is None:
        return _timed_out()
    if request.method == "POST":
        result = fast_track.transfer(j.person, _settings())
        if result.outcome is Outcome.RAISED:
            return onward(j)
        if result.outcome is not Outcome.NOT_MATCHED:
            return _stopped(j, result)
        return redirect(j.url("proofing.start"))  # no longer eligible: the other routes are listed there
    if not fast_track.ROUTE.offered(j.person, _settings()):
        return redirect(j.url("proofing.start"))
    return render_template("proofing/fast_track.html", j=j, action=j.url("proofing.fast_track"),
                           back_url=j.url("proofing.start"), stop_url=j.url("proofing.cannot_continue"))


# --- leaving -------------------------------------------------------------------------------------------
@bp.route("/stop", methods=["GET", "POST"], endpoint="cannot_continue")
def cannot_continue():
    """interface.md Levels: a person who leaves the journey sends the relying party access_denied."""
    j = _journey()
    if j is None:
        return _timed_out()
    if request.method == "POST":
        if not j.interaction.is_authorization:
            interactions.finish(j.interaction.id)
            return redirect(j.interaction.return_to or url_for("accounts.account"))
        j.interaction.steps["abandoned"] = True
        interactions.save(j.interaction)
        return redirect(interactions.next_url(j.interaction))
    return render_template("proofing/cannot_continue.html", j=j, possible=True,
                           action=j.url("proofing.cannot_continue"), back_url=j.url("proofing.start"))
