"""Welsh pages: ``ui_locales=cy`` at /authorize (OIDC Core 3.1.2.1), the language link, and a complete catalog."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from freezegun import freeze_time

from support import ISSUER, PASSWORD, callback_params, csrf_from, follow_to_rp

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "translations" / "cy" / "LC_MESSAGES" / "messages.po"
# The integrator portal and the staff pages that approve its clients are for organisations' developers and
# NHS login's own admins, in English (as NHS login's own portal is); patients' and staff's journeys are bilingual.
ENGLISH_ONLY = ("idp/developer/", "templates/developer/", "idp/staff/client_requests.py",
                "templates/staff/client_request")


def html_lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def heading(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1))).strip()


def text(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def page(http, response):
    """The page a redirect inside the provider leads to: (path with query, html)."""
    location = response.headers["Location"]
    path = location[len(ISSUER):] if location.startswith(ISSUER) else location
    return path, http.get(path).get_data(as_text=True)


# --- ui_locales -------------------------------------------------------------------------------
def test_ui_locales_cy_makes_the_login_page_welsh(rp, client):
    path, html = page(client, rp.authorize(ui_locales="cy"))
    assert path.startswith("/login")
    assert html_lang(html) == "cy"
    assert heading(html) == "Mewngofnodi"
    words = text(html)
    for welsh in ("Cyfeiriad e-bost", "Cyfrinair", "Parhau", "Neidio i'r prif gynnwys",
                  "Rhowch eich cyfeiriad e-bost a'ch cyfrinair NHS login i barhau i Test service."):
        assert welsh in words
    for english in ("Email address", "Password", "Continue", "Skip to main content", "Log in"):
        assert english not in words
    assert "<title>Mewngofnodi – NHS login</title>" in html
    assert 'data-i18n.show-password="Dangos"' in html  # the show/hide button speaks Welsh too


@pytest.mark.parametrize("ui_locales, lang", [
    ("cy", "cy"), ("cy-GB", "cy"), ("CY-gb", "cy"), ("fr-CA cy-GB en", "cy"), ("fr en-GB cy", "en"),
    ("fr de", "en"), ("", "en"),
])
def test_the_first_supported_ui_locale_wins(rp, client, ui_locales, lang):
    _, html = page(client, rp.authorize(ui_locales=ui_locales))
    assert html_lang(html) == lang


def test_accept_language_alone_does_not_change_the_language(rp, client):
    response = client.get(rp.authorize(ui_locales=None).headers["Location"], headers={"Accept-Language": "cy"})
    assert html_lang(response.get_data(as_text=True)) == "en"


def test_login_errors_are_welsh(rp, client, person):
    email = person("P0")
    path, html = page(client, rp.authorize(ui_locales="cy"))
    response = client.post(path, data={"email": email, "password": "wrong", "csrf_token": csrf_from(html)})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<title>Gwall: Mewngofnodi – NHS login</title>" in html
    words = text(html)
    assert "Mae problem wedi codi" in words
    assert "Rhowch gyfeiriad e-bost a chyfrinair cywir" in words

    response = client.post(path, data={"email": "", "password": "", "csrf_token": csrf_from(html)})
    words = text(response.get_data(as_text=True))
    assert "Gwall: Rhowch eich cyfeiriad e-bost" in words  # the field error, with its hidden prefix
    assert "Rhowch eich cyfrinair" in words


def test_consent_page_is_welsh_and_the_journey_completes(rp, client, person):
    email = person("P9")
    path, html = page(client, rp.authorize(ui_locales="cy", scope="openid profile"))
    response = client.post(path, data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(html)})
    response = client.get(response.headers["Location"])  # resume: consent is needed
    path, html = page(client, response)
    assert path.startswith("/consent")
    assert html_lang(html) == "cy"
    assert heading(html) == "Rhannu eich gwybodaeth â Test service?"
    words = text(html)
    for welsh in ("Eich rhif GIG", "Eich cyfenw", "Eich dyddiad geni", "Rhannu a pharhau", "Peidio â rhannu"):
        assert welsh in words
    response = client.post(path, data={"decision": "allow", "csrf_token": csrf_from(html)})
    result = callback_params(follow_to_rp(client, response, redirect_uri=rp.redirect_uri))
    assert "code" in result


def test_error_pages_of_the_request_are_welsh(client):
    response = client.get("/authorize?client_id=unknown&redirect_uri=https://x.example/cb&ui_locales=cy")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert html_lang(html) == "cy"
    assert heading(html) == "Mae'n ddrwg gennym, mae problem gyda'r gwasanaeth"
    assert "Nid yw'r gwasanaeth a'ch anfonodd yma wedi'i gofrestru gyda ni." in text(html)
    assert "Cod gwall: 400" in text(html)


def test_logout_pages_follow_ui_locales(client):
    html = client.get("/logout?ui_locales=cy").get_data(as_text=True)
    assert html_lang(html) == "cy"
    assert heading(html) == "Rydych wedi allgofnodi"
    html = client.get("/logout?ui_locales=cy&client_id=nobody").get_data(as_text=True)
    assert heading(html) == "Mae'n ddrwg gennym, nid oedd modd eich allgofnodi"
    assert "Nid yw'r gwasanaeth sy'n gofyn am eich allgofnodi wedi'i gofrestru gyda ni." in text(html)


# --- the language link ------------------------------------------------------------------------
def toggle(html: str) -> tuple[str, str]:
    match = re.search(r'<a href="([^"]+)" lang="(en|cy)" hreflang="\2">([^<]+)</a>', html)
    return unescape(match.group(1)), match.group(3)


def test_the_language_link_switches_the_journey_and_is_remembered(rp, client, person):
    path, html = page(client, rp.authorize(ui_locales="cy"))
    href, label = toggle(html)
    assert label == "English"
    assert urlsplit(href).path == "/login" and "lang=en" in href and "interaction=" in href

    html = client.get(href).get_data(as_text=True)
    assert html_lang(html) == "en" and heading(html) == "Log in"  # the person's choice beats ui_locales
    response = client.post(path, data={"email": "x@example.com", "password": "wrong", "csrf_token": csrf_from(html)})
    assert html_lang(response.get_data(as_text=True)) == "en"  # and lasts for the journey
    href, label = toggle(response.get_data(as_text=True))
    assert label == "Cymraeg"

    # Outside a journey with ui_locales, the choice made in this browser applies.
    assert html_lang(client.get("/").get_data(as_text=True)) == "en"
    client.get("/?lang=cy")
    _, html = page(client, rp.authorize())
    assert html_lang(html) == "cy"


def test_the_home_page_in_welsh(client):
    html = client.get("/?lang=cy").get_data(as_text=True)
    assert html_lang(html) == "cy"
    words = text(html)
    assert "Mae NHS login yn gadael i chi ddefnyddio un cyfrif" in words
    assert "Meddalwedd ffynhonnell agored yw NHS login" in words  # the footer
    assert toggle(html) == ("/?lang=en", "English")


def test_no_language_link_where_reloading_is_not_harmless(rp, client):
    html = client.get("/authorize?client_id=unknown&redirect_uri=https://x.example/cb").get_data(as_text=True)
    assert 'hreflang="cy"' not in html


def test_account_page_in_welsh(rp, client, person):
    email = person("P9")
    with freeze_time(datetime(2025, 3, 3, 12, tzinfo=timezone.utc)):
        rp.login_flow(email, scope="openid profile")
        html = client.get("/account?lang=cy").get_data(as_text=True)
    assert heading(html) == "Eich cyfrif"
    words = text(html)
    for welsh in ("Rydych wedi profi pwy ydych chi i lefel uchel", "Gwnaethoch gytuno i rannu ar 3 Mawrth 2025.",
                  "Eich rhif GIG", "Tynnu'n ôl y rhannu â Test service", "Allgofnodi"):
        assert welsh in words


def test_discovery_advertises_welsh(client):
    assert client.get("/.well-known/openid-configuration").get_json()["ui_locales_supported"] == ["en-GB", "cy"]


# --- the catalog ------------------------------------------------------------------------------
def extracted() -> dict[str, str]:
    """Every message the code and templates mark for translation, with where it is."""
    method_map = [("idp/**.py", "python"), ("templates/**.html", "jinja2")]
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(str(REPO), method_map):
        if filename.startswith(ENGLISH_ONLY):
            continue
        if isinstance(message, str):
            found.setdefault(message, filename)
    return found


def welsh_catalog():
    with CATALOG.open("rb") as fh:
        return read_po(fh, locale="cy")


def test_every_marked_message_has_a_welsh_translation():
    catalog = welsh_catalog()
    missing = {m: where for m, where in extracted().items()
               if catalog.get(m) is None or not catalog.get(m).string or catalog.get(m).fuzzy}
    assert not missing, f"translate these in {CATALOG.relative_to(REPO)}: {missing}"


def test_translations_keep_placeholders_and_markup():
    placeholder, tag = re.compile(r"%\(\w+\)[sd]"), re.compile(r"</?\w+[^>]*>")
    for message in welsh_catalog():
        if not message.id:
            continue
        # A plural message has a tuple of ids (singular, plural) and one string per Welsh plural form.
        english = message.id[-1] if isinstance(message.id, tuple) else message.id
        for welsh in (message.string if isinstance(message.string, tuple) else (message.string,)):
            assert sorted(placeholder.findall(welsh)) == sorted(placeholder.findall(english)), message.id
            assert tag.findall(welsh) == tag.findall(english), message.id


@pytest.mark.parametrize("template", sorted(str(p.relative_to(REPO / "templates")) for p in (REPO / "templates").rglob("*.html")))
def test_templates_show_no_text_outside_gettext(template):
    """Everything a person reads goes through _(): strip comments, Jinja and tags, and nothing is left."""
    source = (REPO / "templates" / template).read_text()
    for pattern in (r"\{#.*?#\}", r"\{\{.*?\}\}", r"\{%.*?%\}", r"<script.*?</script>", r"<[^>]+>"):
        source = re.sub(pattern, " ", source, flags=re.S)
    leftover = [word for word in source.split() if re.search(r"[A-Za-z]", word)]  # punctuation such as "–" is fine
    assert not leftover, leftover


def test_the_language_chosen_stays_after_logging_out(client, person):
    from support import log_in

    client.get("/?lang=cy")
    log_in(client, person("P0"))
    confirm = client.get("/logout")
    client.post("/logout", data={"confirm": "yes", "csrf_token": csrf_from(confirm.get_data(as_text=True))})
    assert html_lang(client.get("/login").get_data(as_text=True)) == "cy"
