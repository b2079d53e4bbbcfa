"""Patient Access as a SMART protected resource server: bearer JWTs from the plan's
authorization server, verified against its JWKS, with scopes that gate resource types and
interactions and a patient claim that confines every answer to one member's compartment."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import orjson

from serving.api.errors import FhirError

ENV_ISSUER = "PATIENT_ACCESS_ISSUER"
ENV_AUDIENCE = "PATIENT_ACCESS_AUDIENCE"
ENV_JWKS = "PATIENT_ACCESS_JWKS"
ENV_AUTHORIZE_URL = "PATIENT_ACCESS_AUTHORIZE_URL"
ENV_TOKEN_URL = "PATIENT_ACCESS_TOKEN_URL"
REQUIRED_ENV = (ENV_ISSUER, ENV_AUDIENCE, ENV_JWKS, ENV_AUTHORIZE_URL, ENV_TOKEN_URL)

# Asymmetric only: an HMAC or "none" token could be forged from the public JWKS itself.
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
CLOCK_SKEW_S = 30
JWKS_PATH = "/.well-known/jwks.json"
JWKS_CACHE_S = 300

# CARIN BB 2.0.0 @60-67 and SMART 2.x (CONFORMANCE.md §A.2, §2.1 D8).
SMART_CAPABILITIES = [
    "launch-standalone",
    "client-public",
    "client-confidential-symmetric",
    "sso-openid-connect",
    "context-standalone-patient",
    "permission-offline",
    "permission-patient",
    "permission-user",
]

# What each interaction needs: SMART v1 ".read" grants both, v2 splits read (r) from search (s).
READ, SEARCH = "r", "s"
_V1_PERMISSIONS = {"read": {READ, SEARCH}, "*": {READ, SEARCH}, "write": set()}
_V2_PERMISSIONS = re.compile(r"c?r?u?d?s?")
_SCOPE = re.compile(r"(patient|user)/([A-Za-z]+|\*)\.([a-z*]+)")


@dataclass(frozen=True)
class AuthSettings:
    """Where tokens come from and what they must say; None fields mean "not configured"."""

    issuer: str | None = None
    audience: str | None = None
    jwks: str | None = None  # an https URL, or a path to a JWKS JSON file
    authorize_url: str | None = None
    token_url: str | None = None

    @classmethod
    def from_env(cls) -> AuthSettings:
        return cls(
            issuer=os.environ.get(ENV_ISSUER) or None,
            audience=os.environ.get(ENV_AUDIENCE) or None,
            jwks=os.environ.get(ENV_JWKS) or None,
            authorize_url=os.environ.get(ENV_AUTHORIZE_URL) or None,
            token_url=os.environ.get(ENV_TOKEN_URL) or None,
        )

    @property
    def missing(self) -> list[str]:
        values = (self.issuer, self.audience, self.jwks, self.authorize_url, self.token_url)
        return [name for name, value in zip(REQUIRED_ENV, values, strict=True) if not value]

    def jwks_uri(self, base_url: str) -> str | None:
        """The JWKS as a URL clients can fetch: the configured URL, or this API's copy of the
        configured file (public keys only, served at JWKS_PATH)."""
        if self.jwks is None or _is_url(self.jwks):
            return self.jwks
        return base_url + JWKS_PATH


@dataclass(frozen=True)
class Grant:
    """What a verified token allows: per resource type, the interactions; and whose data."""

    patient: str
    permissions: dict[str, set[str]] = field(default_factory=dict)  # type or "*" -> {r, s}

    def allows(self, resource_type: str, interaction: str) -> bool:
        return any(interaction in self.permissions.get(key, ()) for key in (resource_type, "*"))


def _is_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))


def parse_scopes(scope: str | list[str]) -> dict[str, set[str]]:
    """patient/ and user/ resource scopes, SMART v1 and v2, as type -> interactions.

    A scope this server does not understand (v2 query-restricted scopes among them) grants
    nothing, so the server answers 403 rather than more than was meant."""
    words = scope.split() if isinstance(scope, str) else scope
    permissions: dict[str, set[str]] = {}
    for word in words:
        match = _SCOPE.fullmatch(word)
        if not match:
            continue
        _, resource_type, action = match.groups()
        granted = _V1_PERMISSIONS.get(action)
        if granted is None and action and _V2_PERMISSIONS.fullmatch(action):
            granted = set(action) & {READ, SEARCH}
        permissions.setdefault(resource_type, set()).update(granted or ())
    return permissions


class TokenVerifier:
    """Verifies bearer tokens for one Patient Access API; keys are cached, not fetched per call."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._keys: jwt.PyJWKClient | jwt.PyJWKSet | None = None

    def grant(self, authorization: str | None) -> Grant:
        """The grant of the request's bearer token, or the 401/503 error to answer with."""
        if self.settings.missing:
            raise FhirError(
                503,
                "Patient Access authorization is not configured on this server (set "
                + ", ".join(self.settings.missing)
                + "); protected requests are refused until it is",
            )
        token = _bearer_token(authorization)
        claims = self._verified_claims(token)
        return Grant(patient=_patient_of(claims), permissions=parse_scopes(_scope_of(claims)))

    def _verified_claims(self, token: str) -> dict[str, Any]:
        try:
            key = self._signing_key(token)
            return jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=CLOCK_SKEW_S,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise FhirError(503, "the authorization server's keys cannot be fetched") from exc
        except jwt.PyJWTError as exc:
            raise invalid_token(_reason(exc)) from exc

    def _signing_key(self, token: str) -> Any:
        if self._keys is None:
            self._keys = _load_keys(self.settings.jwks or "")
        if isinstance(self._keys, jwt.PyJWKClient):
            return self._keys.get_signing_key_from_jwt(token).key
        kid = jwt.get_unverified_header(token).get("kid")
        keys = [k for k in self._keys.keys if kid is None or k.key_id == kid]
        if len(keys) != 1:
            raise jwt.InvalidKeyError("no single signing key matches the token's kid")
        return keys[0].key


def public_jwks(settings: AuthSettings) -> dict[str, Any]:
    """The configured JWKS file with private members dropped, for clients to fetch."""
    if not settings.jwks or _is_url(settings.jwks):
        raise FhirError(404, "this server publishes no JWKS of its own")
    try:
        document = orjson.loads(Path(settings.jwks).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise FhirError(503, f"the JWKS file named by {ENV_JWKS} cannot be read") from exc
    private = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
    return {
        "keys": [{k: v for k, v in key.items() if k not in private} for key in document["keys"]]
    }


def _load_keys(jwks: str) -> jwt.PyJWKClient | jwt.PyJWKSet:
    if _is_url(jwks):
        return jwt.PyJWKClient(jwks, cache_keys=True, lifespan=JWKS_CACHE_S)
    try:
        return jwt.PyJWKSet.from_dict(orjson.loads(Path(jwks).read_bytes()))
    except (OSError, orjson.JSONDecodeError, jwt.PyJWTError) as exc:
        raise FhirError(503, f"the JWKS file named by {ENV_JWKS} cannot be read") from exc


def _reason(exc: jwt.PyJWTError) -> str:
    # PyJWT's messages name the failed check (signature, audience, issuer, expiry), never claims.
    return str(exc) or type(exc).__name__


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise FhirError(
            401,
            "this API needs an Authorization: Bearer access token",
            headers={"WWW-Authenticate": 'Bearer realm="patient-access"'},
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise invalid_token("the Authorization header is not a Bearer token")
    return token.strip()


def invalid_token(reason: str) -> FhirError:
    return FhirError(
        401,
        f"invalid access token: {reason}",
        headers={
            "WWW-Authenticate": 'Bearer realm="patient-access", error="invalid_token", '
            f'error_description="{_quoted(reason)}"'
        },
    )


def insufficient_scope(resource_type: str, interaction: str) -> FhirError:
    needed = "read" if interaction == READ else "search"
    return FhirError(
        403,
        f"the token's scopes do not allow {needed} on {resource_type}",
        headers={
            "WWW-Authenticate": 'Bearer realm="patient-access", error="insufficient_scope", '
            f'scope="patient/{resource_type}.{interaction}"'
        },
    )


def _quoted(text: str) -> str:
    return text.replace("\\", "").replace('"', "'")


def _scope_of(claims: dict[str, Any]) -> str | list[str]:
    scope = claims.get("scope", claims.get("scp", ""))
    return scope if isinstance(scope, str | list) else ""


def _patient_of(claims: dict[str, Any]) -> str:
    """The member the token speaks for: the SMART `patient` launch context, or a Patient
    fhirUser; a token with neither could otherwise reach every member, so it is refused."""
    patient = claims.get("patient")
    if isinstance(patient, str) and patient:
        return patient
    fhir_user = claims.get("fhirUser")
    if isinstance(fhir_user, str) and "Patient/" in fhir_user:
        return fhir_user.rsplit("Patient/", 1)[1].split("/")[0]
    raise FhirError(403, "the access token carries no patient context (patient claim)")


def smart_configuration(settings: AuthSettings, base_url: str) -> dict[str, Any]:
    """The SMART discovery document; its URLs are the ones the CapabilityStatement lists."""
    if settings.missing:
        raise FhirError(
            503,
            "Patient Access authorization is not configured (set "
            + ", ".join(settings.missing)
            + ")",
        )
    return {
        "issuer": settings.issuer,
        "jwks_uri": settings.jwks_uri(base_url),
        "authorization_endpoint": settings.authorize_url,
        "token_endpoint": settings.token_url,
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": SCOPES_SUPPORTED,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": SMART_CAPABILITIES,
    }


_PATIENT_ACCESS_TYPES = (
    "ExplanationOfBenefit",
    "Coverage",
    "Patient",
    "Organization",
    "Practitioner",
    "RelatedPerson",
)
SCOPES_SUPPORTED = [
    "openid",
    "fhirUser",
    "launch/patient",
    "offline_access",
    "patient/*.read",
    "user/*.read",
    "patient/*.rs",
    "user/*.rs",
    *(f"{ctx}/{t}.read" for ctx in ("patient", "user") for t in _PATIENT_ACCESS_TYPES),
    *(f"{ctx}/{t}.rs" for ctx in ("patient", "user") for t in _PATIENT_ACCESS_TYPES),
]
