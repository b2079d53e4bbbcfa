"""Patient Access as a protected resource server: tokens, scopes, the member's compartment,
SMART discovery, and failing closed when authorization is not configured."""

from __future__ import annotations

import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from serving.api.app import create_app
from serving.api.auth import SMART_CAPABILITIES, AuthSettings, parse_scopes
from tests.api.conftest import AUDIENCE, ISSUER, KID, Bearer, Signer, Store, member_with_eobs

PA = "/patient-access"


def _member() -> tuple[str, str]:
    patient, eobs = member_with_eobs()
    return patient, eobs[0]


def _other_member(patient: str) -> tuple[str, str]:
    from tests.api.conftest import golden

    eob = next(
        e for e in golden("ExplanationOfBenefit") if not e["patient"]["reference"].endswith(patient)
    )
    return eob["patient"]["reference"].split("/")[-1], eob["id"]


def _unauthorized(response, error: str | None) -> None:
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert (f'error="{error}"' in challenge) if error else ("error=" not in challenge)


def test_no_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    patient, _ = _member()
    _unauthorized(client.get(f"{PA}/Patient/{patient}"), None)
    _unauthorized(client.get(f"{PA}/ExplanationOfBenefit", params={"patient": patient}), None)
    _unauthorized(client.post(f"{PA}/ExplanationOfBenefit/_search"), None)
    _unauthorized(
        client.get(f"{PA}/Patient/{patient}", headers={"Authorization": "Basic eDp5"}),
        "invalid_token",
    )


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": int(time.time()) - 120}, id="expired"),
        pytest.param({"nbf": int(time.time()) + 600}, id="not-yet-valid"),
        pytest.param({"aud": "https://someone-else.example/fhir"}, id="wrong-audience"),
        pytest.param({"iss": "https://evil.example/oauth"}, id="wrong-issuer"),
        pytest.param({"exp": None}, id="no-expiry"),
    ],
)
def test_bad_claims_are_401(client: TestClient, bearer: Bearer, claims: dict) -> None:
    patient, _ = _member()
    _unauthorized(
        client.get(f"{PA}/Patient/{patient}", headers=bearer(patient, **claims)), "invalid_token"
    )


def test_bad_signature_and_unknown_key_are_401(client: TestClient) -> None:
    patient, _ = _member()
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now + 60,
        "patient": patient,
        "scope": "patient/*.read",
    }
    forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": KID})
    unknown = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": "other"})
    hmac = jwt.encode(
        claims, "a-shared-secret-of-enough-length!", algorithm="HS256", headers={"kid": KID}
    )
    for token in (forged, unknown, hmac, "not.a.jwt"):
        response = client.get(
            f"{PA}/Patient/{patient}", headers={"Authorization": f"Bearer {token}"}
        )
        _unauthorized(response, "invalid_token")


def test_own_resources_readable_with_patient_scope(client: TestClient, bearer: Bearer) -> None:
    patient, eob = _member()
    headers = bearer(patient)
    response = client.get(f"{PA}/Patient/{patient}", headers=headers)
    assert response.status_code == 200 and response.json()["id"] == patient
    assert client.get(f"{PA}/ExplanationOfBenefit/{eob}", headers=headers).status_code == 200
    assert (
        client.get(f"{PA}/ExplanationOfBenefit/{eob}/_history/1", headers=headers).status_code
        == 200
    )
    assert (
        client.get(f"{PA}/ExplanationOfBenefit/{eob}/_history", headers=headers).status_code == 200
    )


def test_another_members_resources_are_404_on_read_and_absent_from_search(
    client: TestClient, bearer: Bearer
) -> None:
    patient, _ = _member()
    other, other_eob = _other_member(patient)
    headers = bearer(patient)
    for url in (
        f"{PA}/Patient/{other}",
        f"{PA}/ExplanationOfBenefit/{other_eob}",
        f"{PA}/ExplanationOfBenefit/{other_eob}/_history/1",
        f"{PA}/ExplanationOfBenefit/{other_eob}/_history",
    ):
        response = client.get(url, headers=headers)
        assert response.status_code == 404, url
        assert response.json()["resourceType"] == "OperationOutcome"
    bundle = client.get(
        f"{PA}/ExplanationOfBenefit", params={"patient": other}, headers=headers
    ).json()
    assert bundle["resourceType"] == "Bundle" and bundle.get("entry", []) == []
    bundle = client.get(
        f"{PA}/ExplanationOfBenefit", params={"_id": other_eob}, headers=headers
    ).json()
    assert bundle.get("entry", []) == []


@pytest.mark.parametrize(
    ("scope", "read_eob", "search_eob", "read_patient"),
    [
        ("patient/*.read", 200, 200, 200),
        ("user/*.read", 200, 200, 200),
        ("patient/ExplanationOfBenefit.read", 200, 200, 403),
        ("patient/ExplanationOfBenefit.rs", 200, 200, 403),
        ("patient/ExplanationOfBenefit.r", 200, 403, 403),
        ("patient/ExplanationOfBenefit.s", 403, 200, 403),
        ("patient/Patient.read openid fhirUser launch/patient", 403, 403, 200),
        ("patient/*.write", 403, 403, 403),
        ("patient/ExplanationOfBenefit.rs?type=pharmacy", 403, 403, 403),
        ("", 403, 403, 403),
    ],
)
def test_scopes_gate_types_and_interactions(
    client: TestClient,
    bearer: Bearer,
    scope: str,
    read_eob: int,
    search_eob: int,
    read_patient: int,
) -> None:
    patient, eob = _member()
    headers = bearer(patient, scope=scope)
    assert client.get(f"{PA}/ExplanationOfBenefit/{eob}", headers=headers).status_code == read_eob
    search = client.get(f"{PA}/ExplanationOfBenefit", params={"patient": patient}, headers=headers)
    assert search.status_code == search_eob
    forbidden = client.get(f"{PA}/Patient/{patient}", headers=headers)
    assert forbidden.status_code == read_patient
    if read_patient == 403:
        assert 'error="insufficient_scope"' in forbidden.headers["www-authenticate"]
        assert forbidden.json()["issue"][0]["code"] == "forbidden"


def test_token_without_patient_context_is_refused(client: TestClient, bearer: Bearer) -> None:
    patient, _ = _member()
    assert client.get(f"{PA}/Patient/{patient}", headers=bearer(None)).status_code == 403
    fhir_user = bearer(None, fhirUser=f"https://fhir.plan.example/patient-access/Patient/{patient}")
    assert client.get(f"{PA}/Patient/{patient}", headers=fhir_user).status_code == 200


def test_scope_parsing_v1_and_v2() -> None:
    assert parse_scopes("patient/*.read") == {"*": {"r", "s"}}
    assert parse_scopes(["user/Coverage.rs", "patient/Coverage.r"]) == {"Coverage": {"r", "s"}}
    assert parse_scopes("patient/Patient.cruds launch/patient openid") == {"Patient": {"r", "s"}}
    assert parse_scopes("patient/Patient.sr patient/Patient.write") == {"Patient": set()}


def test_metadata_and_well_known_are_public(client: TestClient) -> None:
    assert client.get(f"{PA}/metadata").status_code == 200
    response = client.get(f"{PA}/.well-known/smart-configuration")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")


def test_well_known_advertises_smart_and_agrees_with_the_capability_statement(
    client: TestClient,
) -> None:
    config = client.get(f"{PA}/.well-known/smart-configuration").json()
    assert set(SMART_CAPABILITIES) <= set(config["capabilities"])
    assert "authorization_code" in config["grant_types_supported"]
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert "client_secret_basic" in config["token_endpoint_auth_methods_supported"]
    assert {"patient/*.read", "user/*.read", "launch/patient", "openid"} <= set(
        config["scopes_supported"]
    )
    assert config["issuer"] == ISSUER
    assert config["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert config["token_endpoint"] == f"{ISSUER}/token"
    # A JWKS given as a file is republished, public members only, at the advertised URL.
    jwks = client.get(config["jwks_uri"].removeprefix("http://testserver")).json()
    assert jwks["keys"][0]["kid"] == KID and "d" not in jwks["keys"][0]

    security = client.get(f"{PA}/metadata").json()["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    (oauth,) = security["extension"]
    assert oauth["url"] == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    uris = {e["url"]: e["valueUri"] for e in oauth["extension"]}
    assert uris == {
        "authorize": config["authorization_endpoint"],
        "token": config["token_endpoint"],
    }


def test_unconfigured_server_fails_closed(store: Store, signer: Signer) -> None:
    patient, _ = _member()
    app = create_app(store.engine, auth=AuthSettings(jwks=str(signer.jwks_path)))
    with TestClient(app) as client:
        token = {"Authorization": f"Bearer {signer.token(patient)}"}
        for headers in ({}, token):
            response = client.get(f"{PA}/Patient/{patient}", headers=headers)
            assert response.status_code == 503
            assert "PATIENT_ACCESS_ISSUER" in response.json()["issue"][0]["diagnostics"]
        assert client.get(f"{PA}/metadata").status_code == 200
        assert client.get(f"{PA}/.well-known/smart-configuration").status_code == 503
        # The public bases do not depend on Patient Access configuration.
        assert client.get("/provider-directory/metadata").status_code == 200


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, signer: Signer
) -> None:
    for name, value in {
        "PATIENT_ACCESS_ISSUER": ISSUER,
        "PATIENT_ACCESS_AUDIENCE": AUDIENCE,
        "PATIENT_ACCESS_JWKS": str(signer.jwks_path),
        "PATIENT_ACCESS_AUTHORIZE_URL": f"{ISSUER}/authorize",
        "PATIENT_ACCESS_TOKEN_URL": f"{ISSUER}/token",
    }.items():
        monkeypatch.setenv(name, value)
    assert AuthSettings.from_env().missing == []
    monkeypatch.delenv("PATIENT_ACCESS_JWKS")
    assert AuthSettings.from_env().missing == ["PATIENT_ACCESS_JWKS"]
