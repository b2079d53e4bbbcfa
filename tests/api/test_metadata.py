"""Each base's CapabilityStatement against its IG's own: every SHALL resource, interaction,
search parameter, include, revinclude (and Plan-Net chain) must be one the server lists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from serving.api.app import create_app
from serving.api.auth import AuthSettings
from serving.apis import APIS, FORMULARY, FORMULARY_STU1, PATIENT_ACCESS, PROVIDER_DIRECTORY, Api
from tests.conftest import IG_DIR
from tests.serving.conftest import serving_engine

EXPECTATION = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation"
IG_STATEMENTS = {
    PATIENT_ACCESS.name: "hl7.fhir.us.carin-bb/2.0.0/package/CapabilityStatement-c4bb.json",
    PROVIDER_DIRECTORY.name: "hl7.fhir.us.davinci-pdex-plan-net/1.1.0/package/CapabilityStatement-plan-net.json",
    FORMULARY.name: "hl7.fhir.us.davinci-drug-formulary/2.0.1/package/CapabilityStatement-usdf-server.json",
}
# USDF STU1.1 ships no CapabilityStatement in its package: its SHALLs as CONFORMANCE.md §6.2 lists.
STU1_SHALL = {
    "List": {
        "interactions": {"search-type", "read"},
        "params": {"_id", "identifier", "item", "status"},
    },
    "MedicationKnowledge": {
        "interactions": {"search-type", "read"},
        "params": {"DrugName", "DrugTier", "DrugPlan", "code", "_id"},
    },
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    auth = AuthSettings(
        issuer="https://auth.example/",
        audience="a",
        jwks="/dev/null",
        authorize_url="https://auth.example/authorize",
        token_url="https://auth.example/token",
    )
    with serving_engine("sqlite", tmp_path_factory.mktemp("meta")) as engine:
        yield TestClient(create_app(engine, auth=auth))


def _ig(path: str) -> dict[str, Any]:
    file = IG_DIR / path
    if not file.is_file():
        pytest.skip(f"IG CapabilityStatement not found at {file} (set INTEROP_IG_DIR)")
    return orjson.loads(file.read_bytes())


def _shall(element: dict[str, Any] | None, *, default: str = "SHALL") -> bool:
    # Includes and revincludes carry no expectation in CARIN and Plan-Net, whose requirement
    # text says a server SHALL support them (CONFORMANCE.md §3.1, §5.1).
    codes = [
        e["valueCode"] for e in (element or {}).get("extension", []) if e["url"] == EXPECTATION
    ]
    return (codes[0] if codes else default) == "SHALL"


def _listed(resource_type: str, values: list[str], meta: list[Any] | None) -> set[str]:
    meta = meta or [None] * len(values)
    # USDF writes its includes without the source type ("formulary-coverage").
    return {
        value if ":" in value else f"{resource_type}:{value}"
        for value, m in zip(values, meta, strict=True)
        if _shall(m)
    }


def missing_shalls(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    served = {r["type"]: r for r in ours["rest"][0]["resource"]}
    missing = []
    for wanted in theirs["rest"][0]["resource"]:
        rtype = wanted["type"]
        if rtype not in served:
            missing += [rtype] if _shall(wanted) else []
            continue
        have = served[rtype]
        missing += [
            f"{rtype} interaction {i['code']}"
            for i in wanted.get("interaction", [])
            if _shall(i) and i["code"] not in {x["code"] for x in have["interaction"]}
        ]
        missing += [
            f"{rtype} search {p['name']}"
            for p in wanted.get("searchParam", [])
            if _shall(p) and p["name"] not in {x["name"] for x in have.get("searchParam", [])}
        ]
        for key in ("searchInclude", "searchRevInclude"):
            want = _listed(rtype, wanted.get(key, []), wanted.get(f"_{key}"))
            missing += [f"{rtype} {key} {v}" for v in sorted(want - set(have.get(key, [])))]
    return missing


@pytest.mark.ig
@pytest.mark.parametrize("api", [a for a in APIS if a.name in IG_STATEMENTS], ids=lambda a: a.name)
def test_capability_statement_has_every_shall_of_the_ig(client: TestClient, api: Api) -> None:
    ours = client.get(f"{api.path}/metadata").json()
    assert missing_shalls(ours, _ig(IG_STATEMENTS[api.name])) == []


def test_formulary_stu1_has_every_shall_of_stu1_1(client: TestClient) -> None:
    ours = client.get(f"{FORMULARY_STU1.path}/metadata").json()
    served = {r["type"]: r for r in ours["rest"][0]["resource"]}
    for rtype, shall in STU1_SHALL.items():
        assert shall["interactions"] <= {i["code"] for i in served[rtype]["interaction"]}
        assert shall["params"] <= {p["name"] for p in served[rtype]["searchParam"]}


@pytest.mark.ig
def test_plan_net_lists_every_chain_of_its_search_parameters(client: TestClient) -> None:
    package = IG_DIR / "hl7.fhir.us.davinci-pdex-plan-net/1.1.0/package"
    definitions = {}
    for path in package.glob("SearchParameter-*.json"):
        sp = orjson.loads(path.read_bytes())
        definitions[sp["url"]] = sp
    ours = client.get(f"{PROVIDER_DIRECTORY.path}/metadata").json()
    missing = []
    for resource in _ig(IG_STATEMENTS[PROVIDER_DIRECTORY.name])["rest"][0]["resource"]:
        served = next(r for r in ours["rest"][0]["resource"] if r["type"] == resource["type"])
        docs = {p["name"]: p.get("documentation", "") for p in served["searchParam"]}
        for param in resource.get("searchParam", []):
            for chain in definitions.get(param["definition"], {}).get("chain", []):
                if f"{param['name']}.{chain}" not in docs.get(param["name"], ""):
                    missing.append(f"{resource['type']}?{param['name']}.{chain}")
    assert missing == []


@pytest.mark.parametrize("api", APIS, ids=lambda a: a.name)
def test_capability_statement_basics(client: TestClient, api: Api) -> None:
    response = client.get(f"{api.path}/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    cs = response.json()
    assert cs["resourceType"] == "CapabilityStatement" and cs["kind"] == "instance"
    assert cs["fhirVersion"] == "4.0.1"
    assert "application/fhir+json" in cs["format"] and "json" in cs["format"]
    assert cs["instantiates"] == [api.instantiates]
    assert "|" not in cs["instantiates"][0]
    assert cs["implementation"]["url"] == f"http://testserver{api.path}"
    served = {r["type"]: r for r in cs["rest"][0]["resource"]}
    assert sorted(served) == api.resource_types
    for rtype, resource in served.items():
        assert set(api.unversioned_profiles(rtype)) <= set(resource["supportedProfile"])
        assert {i["code"] for i in resource["interaction"]} == {
            "read",
            "vread",
            "search-type",
            "history-instance",
        }
    assert ("security" in cs["rest"][0]) == api.protected


def test_plan_net_lists_all_nine_unversioned_profiles(client: TestClient) -> None:
    cs = client.get(f"{PROVIDER_DIRECTORY.path}/metadata").json()
    listed = {p for r in cs["rest"][0]["resource"] for p in r["supportedProfile"]}
    names = [
        "Endpoint",
        "HealthcareService",
        "InsurancePlan",
        "Location",
        "Network",
        "Organization",
        "OrganizationAffiliation",
        "Practitioner",
        "PractitionerRole",
    ]
    base = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/plannet-"
    assert {base + name for name in names} <= listed


def test_the_comparison_catches_a_missing_shall() -> None:
    ig = {
        "rest": [
            {
                "resource": [
                    {
                        "type": "Basic",
                        "interaction": [{"code": "read"}],
                        "searchParam": [{"name": "code"}],
                        "searchInclude": ["subject"],
                        "_searchInclude": [
                            {"extension": [{"url": EXPECTATION, "valueCode": "SHALL"}]}
                        ],
                    }
                ]
            }
        ]
    }
    ours = {"rest": [{"resource": [{"type": "Basic", "interaction": [], "searchParam": []}]}]}
    assert missing_shalls(ours, ig) == [
        "Basic interaction read",
        "Basic search code",
        "Basic searchInclude Basic:subject",
    ]
    assert missing_shalls({"rest": [{"resource": []}]}, ig) == ["Basic"]


def test_ig_dir_holds_the_statements() -> None:
    assert isinstance(IG_DIR, Path)
