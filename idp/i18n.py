"""The language of the pages: English, or Welsh (``cy``) when asked (OIDC Core 3.1.2.1 ``ui_locales``).

A page's language, first match wins:
1. the language the person picked with the language link (``?lang=``) during this login journey;
2. the ``ui_locales`` of this journey (OIDC Core 3.1.2.1; RP-Initiated Logout 1.0 section 2), the
   service's hint: space-separated tags in order of preference, the first one we have wins;
3. the language the person picked earlier in this browser;
4. English. Accept-Language is not used: a page changes language only when someone asks.

Catalogs are compiled from ``translations/<locale>/LC_MESSAGES/messages.po`` in memory when the app
starts, so there is no ``.mo`` file to build, commit or forget, and none can be stale.
"""
from __future__ import annotations

import functools
import glob
import io
import os

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import has_request_context, request, session, url_for
from flask_babel import Babel, Domain, get_locale
from werkzeug.exceptions import RequestEntityTooLarge

SUPPORTED = ("en", "cy")
DEFAULT = "en"
# The language link shows each language's own name, in that language.
NAMES = {"en": "English", "cy": "Cymraeg"}
# Pages that are safe to load again in the other language (the link is a GET of the same page).
TOGGLE_ENDPOINTS = ("accounts.home", "accounts.login", "accounts.consent", "accounts.account", "accounts.register",
                    "accounts.forgotten_password", "accounts.change_email", "accounts.change_phone",
                    "accounts.change_password", "accounts.delete_account")
MAX_TAGS = 10

babel = Babel()


def N_(message: str) -> str:
    """Mark a message for translation where it is defined; ``gettext`` translates it where it is shown."""
    return message


def first_supported(ui_locales) -> str | None:
    """OIDC Core 3.1.2.1: BCP 47 tags in order of preference; ``cy``, ``cy-GB``, ``en-GB``... by primary subtag."""
    if not isinstance(ui_locales, str):
        return None
    for tag in ui_locales.split()[:MAX_TAGS]:
        primary = tag.split("-")[0].lower()
        if primary in SUPPORTED:
            return primary
    return None


def _interaction_id() -> str | None:
    value = request.args.get("interaction") or (request.view_args or {}).get("interaction_id")
    return value if isinstance(value, str) else None


def _current_interaction() -> dict | None:
    from .protocol import interactions

    return interactions.load(_interaction_id())


def select_locale() -> str:
    """Flask-Babel's locale selector: the order in the module docstring."""
    if not has_request_context():
        return DEFAULT
    record = _current_interaction()
    if record is not None:
        chosen = record.lang if record.lang in SUPPORTED else None
        chosen = chosen or first_supported((record.params or {}).get("ui_locales"))
        if chosen:
            return _keep(chosen)
    elif request.endpoint in ("protocol.authorize", "protocol.logout"):
        chosen = first_supported(_request_value("ui_locales"))
        if chosen:
            return _keep(chosen)
    chosen = session.get("lang")
    return chosen if chosen in SUPPORTED else DEFAULT


def _keep(chosen: str) -> str:
    # A language the service asked for (ui_locales) stays for this browser, as the language link's does.
    if not getattr(session, "sessionless", True) and session.get("lang") is None:
        session["lang"] = chosen
    return chosen


def remember_choice() -> None:
    """``?lang=cy`` or ``?lang=en`` from the language link: kept for this journey and this browser."""
    chosen = request.args.get("lang")
    if chosen not in SUPPORTED or getattr(session, "sessionless", False):
        return
    from .protocol import interactions

    session["lang"] = chosen
    interaction_id = _interaction_id()
    interaction = interactions.load(interaction_id)
    if interaction is not None:
        interaction.lang = chosen
        interactions.save(interaction)


def current_language() -> str:
    """The language of this page, for ``<html lang>``."""
    locale = get_locale() if has_request_context() else None
    return locale.language if locale is not None and locale.language in SUPPORTED else DEFAULT


def language_toggle() -> dict | None:
    """The link to this page in the other language, on pages where loading it again is harmless."""
    if not has_request_context() or request.endpoint not in TOGGLE_ENDPOINTS:
        return None
    other = "en" if current_language() == "cy" else "cy"
    args = {"interaction": request.args["interaction"]} if request.args.get("interaction") else {}
    return {"href": url_for(request.endpoint, **args, lang=other), "lang": other, "text": NAMES[other]}


# --- catalogs -------------------------------------------------------------------------------
def _compile(path: str, locale: str) -> Translations:
    with open(path, "rb") as source:
        catalog = read_po(source, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as pybabel compile does
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


@functools.lru_cache(maxsize=8)
def _catalogs(directory: str, stamp: tuple) -> dict[str, Translations]:
    found = {}
    for path in sorted(glob.glob(os.path.join(directory, "*", "LC_MESSAGES", "messages.po"))):
        locale = path.split(os.sep)[-3]
        if locale in SUPPORTED:
            found[locale] = _compile(path, locale)
    return found


def load_catalogs(directory: str) -> dict[str, Translations]:
    """Compiled once per process (and again if a .po file changes)."""
    paths = sorted(glob.glob(os.path.join(directory, "*", "LC_MESSAGES", "messages.po")))
    return _catalogs(directory, tuple((p, os.stat(p).st_mtime_ns) for p in paths))


class SourceCatalogs(Domain):
    """Flask-Babel's message domain, with catalogs compiled from the .po sources instead of .mo files."""

    def __init__(self, directory: str):
        super().__init__(translation_directories=[directory])
        self.catalogs = load_catalogs(directory)

    def get_translations(self):
        locale = get_locale()
        return self.catalogs.get(locale.language if locale is not None else "") or NullTranslations()


def init_app(app, directory: str) -> None:
    babel.init_app(app, default_locale=DEFAULT, locale_selector=select_locale)
    babel.domain_instance = SourceCatalogs(directory)
    app.before_request(remember_choice)


def _request_value(name: str) -> str | None:
    """A query or form value; a form too large to read (413) counts as absent, so error pages still render."""
    value = request.args.get(name)
    if value is None and request.method == "POST":
        try:
            value = request.form.get(name)
        except RequestEntityTooLarge:
            return None
    return value
