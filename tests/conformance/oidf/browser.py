"""The person at the keyboard: a browser with cookies that fills in the provider's pages.

It plays what the suite's ``browser`` configuration steps do: follow redirects inside
the provider, log in with the test person's email and password, agree on the consent
page, press "Log out" on a logout confirmation page, and stop at the first redirect
that leaves the provider (back to the relying party), returning that URL unvisited.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests

TIMEOUT = 10
_CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"|value="([^"]+)"[^>]*?name="csrf_token"')
_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
_ATTR = re.compile(r'(name|value)="([^"]*)"')


class BrowserError(AssertionError):
    """The provider's pages did something a person could not get through."""


@dataclass
class Visit:
    """Where a navigation ended: a redirect out of the provider, or a page the provider showed."""

    location: str | None
    page: requests.Response | None
    pages: list[str] = field(default_factory=list)  # provider pages shown on the way ("login", "consent", ...)

    @property
    def left_provider(self) -> bool:
        return self.location is not None

    @property
    def logged_in(self) -> bool:
        return "login" in self.pages


def csrf_token(text: str) -> str:
    match = _CSRF.search(text)
    if not match:
        raise BrowserError("the page has no csrf_token field")
    return html.unescape(match.group(1) or match.group(2))


def hidden_fields(text: str) -> dict:
    fields = {}
    for tag in _HIDDEN.findall(text):
        attrs = dict(_ATTR.findall(tag))
        if "name" in attrs:
            fields[html.unescape(attrs["name"])] = html.unescape(attrs.get("value", ""))
    return fields


class Browser:
    def __init__(self, base_url: str, email: str, password: str):
        self.base_url = base_url
        self.email = email
        self.password = password
        self.session = requests.Session()

    def _inside(self, url: str) -> bool:
        return url == self.base_url or url.startswith(self.base_url + "/")

    def open(self, url: str, *, data: dict | None = None, consent: bool = True, log_in: bool = True,
             confirm_logout: bool = True, max_steps: int = 12) -> Visit:
        """GET ``url`` (POST ``data`` if given) and act as a person until the provider lets go."""
        if data is None:
            response = self.session.get(url, allow_redirects=False, timeout=TIMEOUT)
        else:
            response = self.session.post(url, data=data, allow_redirects=False, timeout=TIMEOUT)
        pages: list[str] = []
        for _ in range(max_steps):
            if response.is_redirect:
                location = urljoin(response.url, response.headers["Location"])
                if not self._inside(location):
                    return Visit(location, None, pages)
                response = self.session.get(location, allow_redirects=False, timeout=TIMEOUT)
                continue
            path = urlsplit(response.url).path
            if response.status_code == 200 and path.startswith("/login") and 'name="password"' in response.text:
                pages.append("login")
                if not log_in:
                    return Visit(None, response, pages)
                response = self._submit(response, 'name="password"', {"email": self.email, "password": self.password})
            elif response.status_code == 200 and path.startswith("/consent") and 'name="decision"' in response.text:
                pages.append("consent")
                if consent is None:
                    return Visit(None, response, pages)
                response = self._submit(response, 'name="decision"', {"decision": "allow" if consent else "deny"})
            elif response.status_code == 200 and 'name="confirm"' in response.text and path.startswith("/logout"):
                pages.append("logout-confirmation")
                if not confirm_logout:
                    return Visit(None, response, pages)
                form = _form_with(response.text, 'name="confirm"')
                response = self._submit(response, 'name="confirm"', {**hidden_fields(form), "confirm": "yes"})
            else:
                return Visit(None, response, pages)
        raise BrowserError("too many steps inside the provider")

    def _submit(self, page: requests.Response, marker: str, fields: dict) -> requests.Response:
        """Post the page's form that holds ``marker`` to its action, with that form's csrf_token."""
        form = _form_with(page.text, marker)
        match = re.search(r'<form[^>]*action="([^"]*)"', form)
        action = urljoin(page.url, html.unescape(match.group(1))) if match and match.group(1) else page.url
        return self.session.post(action, data={"csrf_token": csrf_token(form), **fields}, allow_redirects=False,
                                 timeout=TIMEOUT)


def _form_with(text: str, marker: str) -> str:
    for form in re.findall(r"<form\b.*?</form>", text, flags=re.S | re.I):
        if marker in form:
            return form
    raise BrowserError(f"no form with {marker} on the page")
