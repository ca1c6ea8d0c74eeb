"""``conformance/report.md``: one row per module run, then how the run differs from the real suite."""
from __future__ import annotations

import datetime
import platform
from dataclasses import dataclass, field

from .plans import PLANS, order


@dataclass
class Row:
    plan: str
    module: str
    variant: str | None
    result: str  # PASSED, FAILED or SKIPPED
    reason: str = ""
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unsupported: str | None = None

    @property
    def name(self) -> str:
        return f"`{self.module}`" + (f" ({self.variant})" if self.variant else "")

    def explanation(self) -> str:
        parts = [self.reason] if self.reason else []
        parts += [f"warning: {w}" for w in self.warnings]
        parts += self.notes
        return "; ".join(parts).replace("|", "\\|").replace("\n", " ")


UNSUPPORTED = """\
The provider leaves these out on purpose, and its discovery document does not advertise them:

- **Implicit and hybrid flows** (any `response_type` but `code`, the `implicit` grant): OIDC Core lets an
  OP offer the code flow only, but the dynamic certification profile demands `id_token` and
  `id_token token` (OIDC Core 15.2), so the dynamic variant of `oidcc-discovery-endpoint-verification`
  fails in the suite; the implicit, hybrid and form-post plans do not apply.
- **Unsigned JWTs** (`alg` `none`): never for ID tokens, never accepted in request objects.
- **Signed or encrypted UserInfo responses** (`userinfo_signed_response_alg`): refused at registration.
- **`request_uri` pointing at the client's own server** (OIDC Core 6.2): the only `request_uri` accepted
  is one issued by the pushed authorization request endpoint (RFC 9126), so the provider never
  fetches a URL a client names at authorization time.
- **Redirect URIs with a query component**: refused at registration (exact match, no query string).
- **The `address` scope and the `name` claim**: the provider holds no such data; the suite skips
  `oidcc-scope-address` and `oidcc-scope-all` (not in `scopes_supported`) and warns in
  `oidcc-claims-essential`.
"""

DIFFERENCES = """\
- **Transport.** The provider is served over plain http on 127.0.0.1 (gunicorn, 2 workers), so the
  https checks (`CheckDiscEndpointAllEndpointsAreHttps`, `CheckDiscEndpointIssuerIsValidUrl`,
  `CheckJwksUri`) accept loopback http and nothing else. The real suite needs https: see
  [the tester README](README.md) for the development TLS option.
- **Browser.** A `requests.Session` plays the suite's `browser` steps: it logs the test person in,
  agrees on the consent page and presses "Log out" on a logout confirmation page. Where the suite
  asks for a screenshot (error pages, the second login page), the run checks the page instead: an
  HTML page, no redirect, and for `prompt=login` / `max_age` that a login page was shown again.
- **Waiting.** Modules that need time between two steps do the first step when the run starts and
  the second at its end, so the suite's waits pass while the other modules run (each row gives the
  seconds): `oidcc-codereuse-30seconds` (30 s, as in the suite), `oidcc-max-age-1` and
  `oidcc-prompt-login` (a later `auth_time`), `oidcc-server-rotate-keys` (the operator's
  `idp keys rotate` at the start; each worker caches keys for up to 30 s, so the run looks for the
  new key until 32 s after it) and `oidcc-refresh-token-rp-key-rotation` (the suite waits 60 s before
  using the new key; here at least the provider's 10 s between fetches of one `jwks_uri`).
- **Dynamic clients** register with the suite's metadata and an initial access token made by
  `idp clients initial-access-token --pkce optional --nonce optional`, as the operator would make
  one for a tester: the suite's registration request says nothing of PKCE and its modules send none.
- **Client side.** Requests are built with `requests` and tokens checked with PyJWT, written from
  the specifications the suite's conditions cite; nothing on the client side uses the provider's
  libraries (Authlib, joserfc).
"""


def render(rows: list[Row], info: dict) -> str:
    rows = sorted(rows, key=lambda r: (*order(r.plan, r.module), r.variant or ""))
    counts = {result: sum(1 for r in rows if r.result == result) for result in ("PASSED", "FAILED", "SKIPPED")}
    lines = [
        "# Conformance run report",
        "",
        "Written by the executable conformance run in `tests/conformance/` (pytest marker `conformance`), which",
        "serves the provider and reproduces, module by module, what these OpenID Foundation plans check:",
        "",
        *[f"- `{plan}`" for plan in PLANS],
        "",
        "This run:",
        "",
        f"- Date: {info['date']}",
        f"- Database: {info['database']}; Python {platform.python_version()}; {info['duration']:.1f} s",
        "- Run with `.venv/bin/python -m pytest -m conformance`, or by `make test` (on SQLite, then on PostgreSQL;",
        "  each complete run rewrites this file, so it shows the last one)",
        f"- Result: {len(rows)} module runs: {counts['PASSED']} passed, {counts['FAILED']} failed, {counts['SKIPPED']} skipped",
        "",
        "| module | plan | result | reason |",
        "|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row.name} | `{row.plan}` | {row.result} | {row.explanation()} |")
    unsupported = [r for r in rows if r.unsupported]
    lines += ["", "## Deliberately unsupported", "", UNSUPPORTED.rstrip(), ""]
    if unsupported:
        lines += ["Modules skipped here for these reasons (the real suite skips or fails them, as each row says):", "",
                  "| module | plan | why |", "|---|---|---|"]
        lines += [f"| {r.name} | `{r.plan}` | {r.unsupported} |" for r in unsupported]
    lines += ["", "## How this run differs from the OpenID Foundation suite", "", DIFFERENCES.rstrip()]
    return "\n".join(lines)


def today() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
