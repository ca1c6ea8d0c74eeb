"""The ready configuration of a client: the values to paste, and snippets for common relying-party libraries that
do ``private_key_jwt`` with RS512 and PKCE (S256), sending the client's ``vtr``.

One function of the client's registration, so the command line (``idp clients config``) and the integrator
portal show the same thing. The snippets are checked by the tests: the Python one logs a person in against the
provider, the JavaScript one is parsed by Node.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

SNIPPETS = ("python", "node", "dotnet", "java")
SNIPPET_NAMES = {"python": "Python (Authlib)", "node": "Node.js (openid-client 6)",
                 "dotnet": ".NET (Microsoft.AspNetCore.Authentication.OpenIdConnect)",
                 "java": "Java (Spring Security 6)"}


@dataclass(frozen=True)
class ClientConfiguration:
    issuer: str
    discovery_url: str
    client_id: str
    environment: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    scope: str
    vtr: str  # the JSON array to send as the vtr parameter
    token_endpoint_auth_method: str = "private_key_jwt"
    token_endpoint_auth_signing_alg: str = "RS512"
    id_token_signed_response_alg: str = "RS512"
    key_id: str | None = None  # the kid to name in assertions: the newest registered key's (OIDC Core 10.1)

    @property
    def redirect_uri(self) -> str:
        return self.redirect_uris[0] if self.redirect_uris else "https://your-service.example/callback"

    def values(self) -> dict:
        return {"issuer": self.issuer, "discovery_url": self.discovery_url, "client_id": self.client_id,
                "environment": self.environment, "redirect_uris": list(self.redirect_uris),
                "post_logout_redirect_uris": list(self.post_logout_redirect_uris), "scope": self.scope,
                "vtr": self.vtr, "token_endpoint_auth_method": self.token_endpoint_auth_method,
                "token_endpoint_auth_signing_alg": self.token_endpoint_auth_signing_alg,
                "id_token_signed_response_alg": self.id_token_signed_response_alg, "code_challenge_method": "S256",
                **({"kid": self.key_id} if self.key_id else {})}

    def snippet(self, name: str) -> str:
        return _RENDER[name](self)


def for_client(client, settings) -> ClientConfiguration:
    """The configuration of a relying party as registered here (a provisioning client logs nobody in)."""
    if client.is_provisioning:
        raise ValueError("a provisioning client has no login configuration: it uses client_credentials")
    return ClientConfiguration(
        issuer=settings.issuer, discovery_url=f"{settings.issuer}/.well-known/openid-configuration",
        client_id=client.client_id, environment=client.environment, redirect_uris=tuple(client.redirect_uris),
        post_logout_redirect_uris=tuple(client.post_logout_redirect_uris), scope=" ".join(client.scopes),
        vtr=json.dumps(list(client.vectors), separators=(",", ":")),
        token_endpoint_auth_method=client.auth_method, id_token_signed_response_alg=client.id_token_alg,
        key_id=_newest_kid(client),
    )


def _newest_kid(client) -> str | None:
    """Assertions name their key, so a second key can be added and the first removed without a failed login."""
    from ..protocol.client_keys import ClientKeyError
    from .clients import keys_of

    try:
        keys = keys_of(client)
    except ClientKeyError:  # an unreadable registered key: the snippet still shows, without a kid
        return None
    return keys[-1]["kid"] if keys else None


def _python(c: ClientConfiguration) -> str:
    return f'''"""{c.environment} login with Authlib (pip install Authlib requests): private_key_jwt (RS512) and PKCE (S256)."""
import time

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT

ISSUER = {c.issuer!r}
CLIENT_ID = {c.client_id!r}
REDIRECT_URI = {c.redirect_uri!r}
SCOPE = {c.scope!r}
VTR = {c.vtr!r}
PRIVATE_KEY_FILE = "private-key.pem"  # the private half of the public key you registered; keep it secret
KEY_ID = {c.key_id!r}  # its kid, named in every client assertion (needed while two keys are registered)

metadata = requests.get(ISSUER + "/.well-known/openid-configuration", timeout=10).json()


def oauth_client() -> OAuth2Session:
    with open(PRIVATE_KEY_FILE) as fh:
        private_key = fh.read()
    session = OAuth2Session(CLIENT_ID, client_secret=private_key, scope=SCOPE, redirect_uri=REDIRECT_URI,
                            token_endpoint_auth_method="private_key_jwt", code_challenge_method="S256")
    # A new assertion for each call, living 2 minutes (the provider refuses longer ones).
    session.register_client_auth_method(PrivateKeyJWT(metadata["token_endpoint"], alg="RS512",
                                                      claims={{"exp": int(time.time()) + 120}},
                                                      headers={{"kid": KEY_ID}} if KEY_ID else None))
    return session


def start_login() -> tuple[str, dict]:
    """The URL to send the person to, and what to keep in their session until they come back."""
    saved = {{"verifier": generate_token(48), "nonce": generate_token(24)}}
    url, saved["state"] = oauth_client().create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=saved["verifier"], nonce=saved["nonce"], vtr=VTR)
    return url, saved


def finish_login(callback_url: str, saved: dict) -> dict:
    """Exchange the code. Then verify the ID token: its signature with the keys at metadata["jwks_uri"], its
    iss, aud (CLIENT_ID), exp and nonce (saved["nonce"]), and read vot and identity_proofing_level."""
    return oauth_client().fetch_token(metadata["token_endpoint"], authorization_response=callback_url,
                                      state=saved["state"], code_verifier=saved["verifier"])
'''


def _node(c: ClientConfiguration) -> str:
    return f'''// {c.environment} login with openid-client 6 (npm install openid-client): private_key_jwt (RS512) and PKCE.
import {{ readFileSync }} from "node:fs";
import * as client from "openid-client";

const ISSUER = new URL({json.dumps(c.issuer)});
const CLIENT_ID = {json.dumps(c.client_id)};
const REDIRECT_URI = {json.dumps(c.redirect_uri)};
const SCOPE = {json.dumps(c.scope)};
const VTR = {json.dumps(c.vtr)};
const KEY_ID = {json.dumps(c.key_id)}; // its kid, named in every client assertion

// The private half of the public key you registered (PKCS #8 PEM); keep it secret.
const pem = readFileSync("private-key.pem", "utf8");
const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\\s+/g, ""), "base64");
const privateKey = await crypto.subtle.importKey(
  "pkcs8", der, {{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }}, false, ["sign"]);

const config = await client.discovery(ISSUER, CLIENT_ID, undefined, client.PrivateKeyJwt(KEY_ID ? {{ key: privateKey, kid: KEY_ID }} : privateKey));

export async function startLogin() {{
  // Keep these in the person's session until they come back.
  const saved = {{ verifier: client.randomPKCECodeVerifier(), nonce: client.randomNonce(), state: client.randomState() }};
  const url = client.buildAuthorizationUrl(config, {{
    redirect_uri: REDIRECT_URI, scope: SCOPE, vtr: VTR, nonce: saved.nonce, state: saved.state,
    code_challenge: await client.calculatePKCECodeChallenge(saved.verifier), code_challenge_method: "S256",
  }});
  return {{ url, saved }};
}}

export async function finishLogin(currentUrl, saved) {{
  // Checks the ID token's signature, iss, aud, exp and nonce; read vot and identity_proofing_level from it.
  const tokens = await client.authorizationCodeGrant(config, new URL(currentUrl), {{
    pkceCodeVerifier: saved.verifier, expectedNonce: saved.nonce, expectedState: saved.state,
  }});
  return {{ tokens, claims: tokens.claims() }};
}}
'''


def _dotnet(c: ClientConfiguration) -> str:
    vtr = json.dumps(c.vtr)  # a C# string literal
    scopes = "".join(f'\n        options.Scope.Add("{s}");' for s in c.scope.split())
    return f'''// {c.environment} login with Microsoft.AspNetCore.Authentication.OpenIdConnect: private_key_jwt (RS512) and PKCE.
// Program.cs (.NET 8); dotnet add package Microsoft.AspNetCore.Authentication.OpenIdConnect
using System.IdentityModel.Tokens.Jwt;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

const string ClientId = "{c.client_id}";
const string Vtr = {vtr};
var rsa = RSA.Create();
rsa.ImportFromPem(File.ReadAllText("private-key.pem")); // the private half of the key you registered
var signingKey = new SigningCredentials(new RsaSecurityKey(rsa) {{ KeyId = {json.dumps(c.key_id)} }}, SecurityAlgorithms.RsaSha512);

builder.Services.AddAuthentication(options =>
    {{
        options.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
        options.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
    }})
    .AddCookie()
    .AddOpenIdConnect(options =>
    {{
        options.Authority = "{c.issuer}";
        options.ClientId = ClientId;
        options.ResponseType = OpenIdConnectResponseType.Code;
        options.UsePkce = true; // S256
        options.CallbackPath = new Uri("{c.redirect_uri}").AbsolutePath;
        options.Scope.Clear();{scopes}
        options.Events.OnRedirectToIdentityProvider = context =>
        {{
            context.ProtocolMessage.SetParameter("vtr", Vtr);
            return Task.CompletedTask;
        }};
        options.Events.OnAuthorizationCodeReceived = context =>
        {{
            // RFC 7523 client assertion, living 2 minutes, audience the token endpoint.
            var now = DateTime.UtcNow;
            var assertion = new JwtSecurityToken(
                issuer: ClientId, audience: context.Options.Configuration!.TokenEndpoint,
                claims: new[] {{ new Claim("sub", ClientId), new Claim("jti", Guid.NewGuid().ToString()) }},
                notBefore: now, expires: now.AddMinutes(2), signingCredentials: signingKey);
            context.TokenEndpointRequest!.ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
            context.TokenEndpointRequest.ClientAssertion = new JwtSecurityTokenHandler().WriteToken(assertion);
            return Task.CompletedTask;
        }};
    }});
'''


def _java(c: ClientConfiguration) -> str:
    vtr = json.dumps(c.vtr)  # a Java string literal
    return f'''# {c.environment} login with Spring Security 6: private_key_jwt (RS512) and PKCE.
# application.yml
spring:
  security:
    oauth2:
      client:
        registration:
          nhs-login:
            client-id: {c.client_id}
            client-authentication-method: private_key_jwt
            authorization-grant-type: authorization_code
            redirect-uri: {c.redirect_uri}
            scope: {",".join(c.scope.split())}
        provider:
          nhs-login:
            issuer-uri: {c.issuer}

// SecurityConfig.java
@Bean
SecurityFilterChain security(HttpSecurity http, ClientRegistrationRepository registrations) throws Exception {{
    var resolver = new DefaultOAuth2AuthorizationRequestResolver(registrations, "/oauth2/authorization");
    resolver.setAuthorizationRequestCustomizer(OAuth2AuthorizationRequestCustomizers.withPkce()
        .andThen(request -> request.additionalParameters(p -> p.put("vtr", {vtr}))));
    // The private half of the key you registered, as an RSA JWK (keep it secret).
    RSAKey key = RSAKey.parse(Files.readString(Path.of("private-key.jwk.json")));
    var assertions = new NimbusJwtClientAuthenticationParametersConverter<OAuth2AuthorizationCodeGrantRequest>(
        registration -> key);
    assertions.setJwtClientAssertionCustomizer(context -> {{
        context.getHeaders().algorithm(SignatureAlgorithm.RS512){"" if not c.key_id else f'.keyId("{c.key_id}")'};
        context.getClaims().expiresAt(Instant.now().plusSeconds(120));
    }});
    var tokens = new RestClientAuthorizationCodeTokenResponseClient();
    tokens.addParametersConverter(assertions);
    http.authorizeHttpRequests(a -> a.anyRequest().authenticated())
        .oauth2Login(login -> login
            .authorizationEndpoint(a -> a.authorizationRequestResolver(resolver))
            .tokenEndpoint(t -> t.accessTokenResponseClient(tokens)));
    return http.build();
}}
'''


_RENDER = {"python": _python, "node": _node, "dotnet": _dotnet, "java": _java}
