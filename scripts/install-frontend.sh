#!/usr/bin/env bash
# Install the NHS.UK frontend (npm package `nhsuk-frontend`, pinned in
# package.json / package-lock.json) and copy its compiled CSS, JavaScript and
# assets into idp/static/nhsuk/, which Flask serves at /static/nhsuk/.
#
#   idp/static/nhsuk/nhsuk-frontend.min.css     styles (see "CSS fix-ups" below)
#   idp/static/nhsuk/nhsuk-frontend.min.js      ES module, exports initAll()
#   idp/static/nhsuk/nhsuk-frontend.min.js.map
#   idp/static/nhsuk/assets/images/...          favicons, icons, opengraph image
#   idp/static/nhsuk/assets/manifest.json       web app manifest (relative paths)
#   idp/static/nhsuk/VERSION                    installed nhsuk-frontend version
#
# The same npm ci also installs axe-core (a devDependency, pinned the same way), which the browser
# tests inject into the provider's pages from node_modules/axe-core/axe.min.js.
#
# Idempotent: a stamp file records the version, the lockfile hash and this
# script's hash; when it matches, the script exits straight away.
# Both node_modules/ and idp/static/nhsuk/ are git-ignored.
#
# Options (environment): FORCE=1 rebuilds even if the stamp matches.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PACKAGE=nhsuk-frontend
AXE=axe-core  # for the browser tests only; stays in node_modules
DEST="idp/static/nhsuk"
STAMP="$DEST/.install-stamp"

log() { printf 'install-frontend: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -f package.json && -f package-lock.json ]] || die "package.json and package-lock.json must exist at the repo root"

# The pinned versions, read without needing node so the fast path stays fast.
pinned_version() {
  local version
  version="$(sed -nE 's/^[[:space:]]*"'"$1"'"[[:space:]]*:[[:space:]]*"([0-9][^"]*)".*/\1/p' package.json | head -n1)"
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "could not read an exact $1 version from package.json (got '$version')"
  printf '%s\n' "$version"
}
VERSION="$(pinned_version "$PACKAGE")"
AXE_VERSION="$(pinned_version "$AXE")"

hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }
WANT="$PACKAGE@$VERSION lock=$(hash_of package-lock.json) script=$(hash_of "${BASH_SOURCE[0]}")"

if [[ "${FORCE:-0}" != 1 && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" \
      && -f "$DEST/nhsuk-frontend.min.css" && -f "$DEST/nhsuk-frontend.min.js" && -f "node_modules/$AXE/axe.min.js" ]]; then
  log "$PACKAGE $VERSION already installed in $DEST"
  exit 0
fi

command -v npm >/dev/null 2>&1 || die "npm is not installed (needed to fetch $PACKAGE $VERSION)"

PKG_DIR="node_modules/$PACKAGE"
installed_version() {
  [[ -f "node_modules/$1/package.json" ]] || return 0
  sed -nE 's/^[[:space:]]*"version"[[:space:]]*:[[:space:]]*"([^"]+)".*/\1/p' "node_modules/$1/package.json" | head -n1
}

if [[ "$(installed_version "$PACKAGE")" != "$VERSION" || "$(installed_version "$AXE")" != "$AXE_VERSION" ]]; then
  log "installing $PACKAGE $VERSION and $AXE $AXE_VERSION with npm ci"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
[[ "$(installed_version "$PACKAGE")" == "$VERSION" ]] || die "npm installed $PACKAGE $(installed_version "$PACKAGE"), expected $VERSION"
[[ "$(installed_version "$AXE")" == "$AXE_VERSION" && -f "node_modules/$AXE/axe.min.js" ]] \
  || die "npm installed $AXE $(installed_version "$AXE"), expected $AXE_VERSION with axe.min.js"

DIST="$PKG_DIR/dist/nhsuk"
for f in nhsuk-frontend.min.css nhsuk-frontend.min.js assets/manifest.json assets/images/favicon.ico; do
  [[ -f "$DIST/$f" ]] || die "$DIST/$f not found; has the package layout changed?"
done

# Build into a temporary sibling directory, then swap it in, so a failed run
# never leaves a half-populated idp/static/nhsuk/.
mkdir -p "$(dirname "$DEST")"
TMP="$(mktemp -d "$(dirname "$DEST")/.nhsuk.tmp.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

cp -R "$DIST/assets" "$TMP/assets"
cp "$DIST/nhsuk-frontend.min.js" "$DIST/nhsuk-frontend.min.js.map" "$TMP/"

# CSS fix-ups:
#  * The compiled CSS points at images with absolute /assets/images/... URLs;
#    make them relative to the stylesheet so they resolve to
#    /static/nhsuk/assets/images/... (or wherever static files are mounted).
#  * It loads the Frutiger web font from https://assets.nhs.uk/fonts/, which is
#    licensed for NHS.UK domains only, is blocked by our CSP (font-src 'self')
#    and is unreachable offline. Drop those @font-face rules; the font stack
#    falls back to Arial, as intended by the design system.
#  * The source map no longer matches after editing, so drop its reference.
sed -E \
  -e 's#@font-face\{[^}]*assets\.nhs\.uk[^}]*\}##g' \
  -e 's#url\((["'"'"']?)/assets/#url(\1assets/#g' \
  -e 's#/\*\# sourceMappingURL=[^*]*\*/##g' \
  "$DIST/nhsuk-frontend.min.css" > "$TMP/nhsuk-frontend.min.css"

if grep -qE 'url\(["'"'"']?(/|https?:)' "$TMP/nhsuk-frontend.min.css"; then
  die "nhsuk-frontend.min.css still has absolute or remote url(...) references: $(grep -oE 'url\(["'"'"']?(/|https?:)[^)]*\)' "$TMP/nhsuk-frontend.min.css" | sort -u | tr '\n' ' ')"
fi
# Every image the CSS refers to must exist in the copied assets.
while IFS= read -r ref; do
  [[ -f "$TMP/$ref" ]] || die "nhsuk-frontend.min.css refers to missing file $ref"
done < <(grep -oE 'url\(["'"'"']?assets/[^)"'"'"']+' "$TMP/nhsuk-frontend.min.css" | sed -E 's#^url\(["'"'"']?##' | sort -u)

printf '%s\n' "$VERSION" > "$TMP/VERSION"
printf '%s\n' "$WANT" > "$TMP/.install-stamp"
chmod -R u=rwX,go=rX "$TMP"

rm -rf "$DEST"
mv "$TMP" "$DEST"
trap - EXIT
log "installed $PACKAGE $VERSION into $DEST"
