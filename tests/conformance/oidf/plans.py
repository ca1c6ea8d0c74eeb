"""The five OpenID Foundation plans this run reproduces, with their modules in the suite's order.

Module names are the suite's ``testName`` values (openid-certification/conformance-suite,
``src/main/java/net/openid/conformance/openid/*TestPlan.java``); the report follows this order.
"""
BASIC = "oidcc-basic-certification-test-plan"
CONFIG = "oidcc-config-certification-test-plan"
DYNAMIC = "oidcc-dynamic-certification-test-plan"
RP_LOGOUT = "oidcc-rp-initiated-logout-certification-test-plan"
BACKCHANNEL = "oidcc-backchannel-rp-initiated-logout-certification-test-plan"

PLANS = {
    BASIC: [
        "oidcc-server", "oidcc-response-type-missing", "oidcc-idtoken-signature", "oidcc-idtoken-unsigned",
        "oidcc-userinfo-get", "oidcc-userinfo-post-header", "oidcc-userinfo-post-body",
        "oidcc-ensure-request-without-nonce-succeeds-for-code-flow", "oidcc-scope-profile", "oidcc-scope-email",
        "oidcc-scope-address", "oidcc-scope-phone", "oidcc-scope-all", "oidcc-ensure-other-scope-order-succeeds",
        "oidcc-display-page", "oidcc-display-popup", "oidcc-prompt-login", "oidcc-prompt-none-not-logged-in",
        "oidcc-prompt-none-logged-in", "oidcc-max-age-1", "oidcc-max-age-10000",
        "oidcc-ensure-request-with-unknown-parameter-succeeds", "oidcc-id-token-hint", "oidcc-login-hint",
        "oidcc-ui-locales", "oidcc-claims-locales", "oidcc-ensure-request-with-acr-values-succeeds",
        "oidcc-codereuse", "oidcc-codereuse-30seconds", "oidcc-ensure-registered-redirect-uri",
        "oidcc-ensure-post-request-succeeds", "oidcc-server-client-secret-post",
        "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported",
        "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported", "oidcc-claims-essential",
        "oidcc-ensure-request-object-with-redirect-uri", "oidcc-refresh-token",
        "oidcc-ensure-request-with-valid-pkce-succeeds",
    ],
    CONFIG: ["oidcc-discovery-endpoint-verification"],
    DYNAMIC: [
        "oidcc-idtoken-rs256", "oidcc-idtoken-unsigned", "oidcc-userinfo-rs256",
        "oidcc-ensure-redirect-uri-in-authorization-request", "oidcc-redirect-uri-query-OK",
        "oidcc-redirect-uri-query-mismatch", "oidcc-redirect-uri-query-added", "oidcc-redirect-uri-regfrag",
        "oidcc-discovery-endpoint-verification", "oidcc-server", "oidcc-registration-logo-uri",
        "oidcc-registration-policy-uri", "oidcc-registration-tos-uri", "oidcc-registration-jwks-uri",
        "oidcc-registration-sector-uri", "oidcc-registration-sector-bad", "oidcc-server-rotate-keys",
        "oidcc-refresh-token-rp-key-rotation", "oidcc-request-uri-unsigned", "oidcc-request-uri-signed-rs256",
        "oidcc-ensure-request-object-with-redirect-uri", "oidcc-refresh-token",
        "oidcc-ensure-client-assertion-with-iss-aud-succeeds",
    ],
    RP_LOGOUT: [
        "oidcc-rp-initiated-logout-discovery-endpoint-verification", "oidcc-rp-initiated-logout",
        "oidcc-rp-initiated-logout-bad-post-logout-redirect-uri", "oidcc-rp-initiated-logout-modified-id-token-hint",
        "oidcc-rp-initiated-logout-no-id-token-hint", "oidcc-rp-initiated-logout-no-params",
        "oidcc-rp-initiated-logout-no-post-logout-redirect-uri", "oidcc-rp-initiated-logout-no-state",
        "oidcc-rp-initiated-logout-only-state", "oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri",
        "oidcc-rp-initiated-logout-bad-id-token-hint",
    ],
    BACKCHANNEL: ["oidcc-backchannel-logout-discovery-endpoint-verification", "oidcc-backchannel-rp-initiated-logout"],
}


def order(plan: str, module: str) -> tuple[int, int]:
    """Sort key: plans in the order above, modules in their plan's order (unknown ones last)."""
    plans = list(PLANS)
    modules = PLANS.get(plan, [])
    return (plans.index(plan) if plan in plans else len(plans),
            modules.index(module) if module in modules else len(modules))
