"""The plan's own example calls, on the real sample data: the pipeline runs once per backend on
sample_inputs/ into a fresh store, and each call answers at least one correct resource."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serving.api.app import create_app
from serving.api.auth import AuthSettings
from serving.store import resources_table
from tests.api.conftest import Bearer
from tests.serving.conftest import BACKENDS, serving_engine
from tests.test_end_to_end import SAMPLE_INPUTS, Pipeline

PD = "/provider-directory"
PA = "/patient-access"


@pytest.fixture(scope="module", params=BACKENDS)
def sample_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, auth: AuthSettings
) -> Iterator[TestClient]:
    tmp_path = tmp_path_factory.mktemp("examples")
    with serving_engine(request.param, tmp_path) as engine:
        inbox = tmp_path / "inbox"
        shutil.copytree(SAMPLE_INPUTS, inbox)
        url = engine.url.render_as_string(hide_password=False)
        assert Pipeline(inbox, tmp_path / "home", url).run().success
        yield TestClient(create_app(engine, auth=auth))


def _matches(client: TestClient, url: str, **kwargs: Any) -> list[dict[str, Any]]:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.text
    entries = response.json().get("entry", [])
    return [e["resource"] for e in entries if e["search"]["mode"] == "match"]


def _texts(address: dict[str, Any] | list[dict[str, Any]]) -> list[str]:
    addresses = address if isinstance(address, list) else [address]
    return [a.get("postalCode", "") for a in addresses]


def test_location_by_name_and_postal_code(sample_client: TestClient) -> None:
    found = _matches(sample_client, f"{PD}/Location?name=ortho&address-postalcode=14618")
    assert found
    for location in found:
        assert "ortho" in location["name"].lower()
        assert any(code.startswith("14618") for code in _texts(location["address"]))


def test_organization_by_postal_code(sample_client: TestClient) -> None:
    found = _matches(sample_client, f"{PD}/Organization?address-postalcode=10533")
    assert found
    assert all(any(c.startswith("10533") for c in _texts(o["address"])) for o in found)


def test_practitioner_role_by_location_address(sample_client: TestClient) -> None:
    bundle = sample_client.get(
        f"{PD}/PractitionerRole",
        params={"location.address": "1783 Route 9", "_include": "PractitionerRole:location"},
    ).json()
    roles = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    locations = {
        e["resource"]["id"]: e["resource"]
        for e in bundle["entry"]
        if e["search"]["mode"] == "include"
    }
    assert roles
    for role in roles:
        at = [locations.get(ref["reference"].split("/")[-1]) for ref in role["location"]]
        assert any(loc and "1783 Route 9" in loc["address"]["line"] for loc in at)


def _pharmacy_member(client: TestClient) -> str:
    # Tokens are per member, so the test picks its member from the store the pipeline filled.
    with client.app.state.engine.connect() as conn:
        rows = conn.execute(
            resources_table.select().where(
                resources_table.c.resource_type == "ExplanationOfBenefit"
            )
        )
        for row in rows:
            if row.resource and row.resource["type"]["coding"][0]["code"] == "pharmacy":
                return row.resource["patient"]["reference"].split("/")[-1]
    raise AssertionError("the sample data has no pharmacy claim")


def test_patient_read_and_pharmacy_claims_with_the_members_token(
    sample_client: TestClient, bearer: Bearer
) -> None:
    patient = _pharmacy_member(sample_client)
    headers = bearer(patient, scope="launch/patient openid fhirUser patient/*.read")
    response = sample_client.get(f"{PA}/Patient/{patient}", headers=headers)
    assert response.status_code == 200 and response.json()["id"] == patient
    eobs = _matches(
        sample_client, f"{PA}/ExplanationOfBenefit?patient={patient}&type=pharmacy", headers=headers
    )
    assert eobs
    for eob in eobs:
        assert eob["patient"]["reference"] == f"Patient/{patient}"
        assert eob["type"]["coding"][0]["code"] == "pharmacy"
