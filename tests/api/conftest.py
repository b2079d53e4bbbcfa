"""API test fixtures: the golden resources loaded into a store on each backend, a test RSA key
published as a JWKS file, and tokens minted with it as the plan's authorization server would."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from serving.api.app import create_app
from serving.api.auth import AuthSettings
from serving.load import DomainBatch, load_resources
from tests.conftest import REPO_ROOT
from tests.serving.conftest import BACKENDS, serving_engine

GOLDEN = REPO_ROOT / "tests" / "golden"
ISSUER = "https://auth.plan.example/oauth"
AUDIENCE = "https://fhir.plan.example/patient-access"
KID = "test-key-1"
FIRST_LOAD = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
SECOND_LOAD = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
# The domain each profile family comes from in the pipeline.
_DOMAIN_BY_PROFILE = {
    "C4BB-Patient": "members",
    "C4BB-Coverage": "members",
    "C4BB-RelatedPerson": "members",
    "C4BB-": "claims",
    "plannet-": "directory",
    "usdf-": "formulary",
}


def golden(resource_type: str) -> list[dict[str, Any]]:
    path = GOLDEN / f"{resource_type}.ndjson"
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def domain_of(resource: dict[str, Any]) -> str:
    name = resource["meta"]["profile"][0].rsplit("/", 1)[1]
    return next(d for prefix, d in _DOMAIN_BY_PROFILE.items() if name.startswith(prefix))


def golden_batches() -> dict[str, list[dict[str, Any]]]:
    batches: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(GOLDEN.glob("*.ndjson")):
        for resource in golden(path.stem):
            batches.setdefault(domain_of(resource), []).append(resource)
    return batches


@dataclass(frozen=True)
class Store:
    """The golden resources, loaded twice: the second load changed one Location (version 2)
    and dropped another from the directory snapshot (a tombstone)."""

    engine: sa.Engine
    changed_location: str
    deleted_location: str


def load_golden_twice(engine: sa.Engine) -> Store:
    batches = golden_batches()
    load_resources(engine, [DomainBatch(d, r) for d, r in batches.items()], load_time=FIRST_LOAD)
    locations = [r for r in batches["directory"] if r["resourceType"] == "Location"]
    changed, deleted = locations[0], locations[1]
    directory = [
        {**r, "name": r["name"] + " (renamed)"} if r is changed else r
        for r in batches["directory"]
        if r is not deleted
    ]
    load_resources(
        engine,
        [DomainBatch("directory", directory)],
        load_time=SECOND_LOAD,
        snapshot_domains=["directory"],
    )
    return Store(engine, changed["id"], deleted["id"])


@pytest.fixture(scope="module", params=BACKENDS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    with serving_engine(request.param, tmp_path_factory.mktemp("store")) as engine:
        yield load_golden_twice(engine)


@dataclass(frozen=True)
class Signer:
    key: rsa.RSAPrivateKey
    jwks_path: Path

    def token(self, patient: str | None, scope: str = "patient/*.read", **claims: Any) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "member-login-1",
            "iat": now,
            "exp": now + 300,
            "scope": scope,
        }
        if patient is not None:
            payload["patient"] = patient
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, self.key, algorithm="RS256", headers={"kid": KID})


def _jwks(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    public = orjson.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**public, "kid": KID, "use": "sig", "alg": "RS256"}]}


@pytest.fixture(scope="session")
def signer(tmp_path_factory: pytest.TempPathFactory) -> Signer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_bytes(orjson.dumps(_jwks(key)))
    return Signer(key, path)


@pytest.fixture(scope="session")
def auth(signer: Signer) -> AuthSettings:
    return AuthSettings(
        issuer=ISSUER,
        audience=AUDIENCE,
        jwks=str(signer.jwks_path),
        authorize_url=f"{ISSUER}/authorize",
        token_url=f"{ISSUER}/token",
    )


@pytest.fixture(scope="module")
def client(store: Store, auth: AuthSettings) -> Iterator[TestClient]:
    with TestClient(create_app(store.engine, auth=auth), raise_server_exceptions=False) as c:
        yield c


Bearer = Callable[..., dict[str, str]]


@pytest.fixture
def bearer(signer: Signer) -> Bearer:
    def headers(
        patient: str | None, scope: str = "patient/*.read", **claims: Any
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {signer.token(patient, scope, **claims)}"}

    return headers


def member_with_eobs() -> tuple[str, list[str]]:
    """A member id and the ids of that member's EOBs in the golden set."""
    by_patient: dict[str, list[str]] = {}
    for eob in golden("ExplanationOfBenefit"):
        by_patient.setdefault(eob["patient"]["reference"].split("/")[-1], []).append(eob["id"])
    patient = max(sorted(by_patient), key=lambda p: len(by_patient[p]))
    return patient, sorted(by_patient[patient])
