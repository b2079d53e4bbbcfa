"""Search over the serving store on both backends: every parameter type, modifier and prefix,
OR/AND, chains, _has, includes, paging, tombstones, the compartment and SearchError."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from serving.apis import FORMULARY, FORMULARY_STU1, PATIENT_ACCESS, PROVIDER_DIRECTORY, Api
from serving.load import DomainBatch, load_resources, reindex
from serving.search import SearchError, capabilities, in_compartment, search
from serving.search.extract import strings
from serving.store import search_token_table
from tests.serving.conftest import BACKENDS, serving_engine

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
PN = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition"
C4BB = "http://hl7.org/fhir/us/carin-bb/StructureDefinition"
USDF = "http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition"
TAXONOMY = "http://nucc.org/provider-taxonomy"


def _meta(profile: str) -> dict[str, Any]:
    return {"profile": [profile]}


def location(rid: str, name: str, postal: str, line: str = "1 Main St", org: str = "o1") -> dict:
    return {
        "resourceType": "Location",
        "id": rid,
        "meta": _meta(f"{PN}/plannet-Location|1.1.0"),
        "name": name,
        "address": {"line": [line], "city": "Rochester", "state": "NY", "postalCode": postal},
        "managingOrganization": {"reference": f"Organization/{org}"},
    }


def organization(rid: str, name: str, postal: str = "10533") -> dict:
    return {
        "resourceType": "Organization",
        "id": rid,
        "meta": _meta(f"{PN}/plannet-Organization|1.1.0"),
        "name": name,
        "address": [{"city": "Irvington", "postalCode": postal}],
    }


def practitioner(rid: str, family: str, given: str = "Ann") -> dict:
    return {
        "resourceType": "Practitioner",
        "id": rid,
        "meta": _meta(f"{PN}/plannet-Practitioner|1.1.0"),
        "name": [{"family": family, "given": [given]}],
    }


def role(rid: str, practitioner_id: str, location_id: str, specialty: str) -> dict:
    return {
        "resourceType": "PractitionerRole",
        "id": rid,
        "meta": _meta(f"{PN}/plannet-PractitionerRole|1.1.0"),
        "practitioner": {"reference": f"Practitioner/{practitioner_id}"},
        "location": [{"reference": f"http://example.org/fhir/Location/{location_id}"}],
        "specialty": [{"coding": [{"system": TAXONOMY, "code": specialty}]}],
        "period": {"start": "2020-01-01"},
    }


def directory() -> list[dict]:
    return [
        organization("o1", "Irvington Pediatrics"),
        organization("o2", "Hudson Valley Medical", postal="12590"),
        location("l1", "Brighton Ortho Surgery Center", "14618", line="1783 Route 9"),
        location("l2", "Poughkeepsie Orthopedic Center", "12590", org="o2"),
        location("l3", "Café Müller Clinic", "14618"),
        practitioner("p1", "Smith"),
        practitioner("p2", "Núñez", given="José"),
        role("r1", "p1", "l1", "207N00000X"),
        role("r2", "p2", "l2", "208D00000X"),
        role("r3", "p2", "l3", "207N00000X"),
    ]


def eob(rid: str, patient: str, kind: str, start: str, end: str, org: str = "org1") -> dict:
    profile = "Pharmacy" if kind == "pharmacy" else "Professional-NonClinician"
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": rid,
        "meta": _meta(f"{C4BB}/C4BB-ExplanationOfBenefit-{profile}|2.0.0"),
        "identifier": [{"system": "urn:claims", "value": f"CLM-{rid}"}],
        "type": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": kind}]
        },
        "patient": {"reference": f"Patient/{patient}"},
        "billablePeriod": {"start": start, "end": end},
        "insurer": {"reference": f"Organization/{org}"},
        "provider": {"reference": "Practitioner/doc1"},
        "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/cov-{patient}"}}],
        "item": [{"sequence": 1, "servicedDate": start}],
    }


def members() -> list[dict]:
    def carin(rtype: str, rid: str, **body: Any) -> dict:
        return {
            "resourceType": rtype,
            "id": rid,
            "meta": _meta(f"{C4BB}/C4BB-{rtype}|2.0.0"),
            **body,
        }

    return [
        carin("Patient", "pat1"),
        carin("Patient", "pat2"),
        carin(
            "Coverage",
            "cov-pat1",
            beneficiary={"reference": "Patient/pat1"},
            payor=[{"reference": "Organization/org1"}],
        ),
        carin("Coverage", "cov-pat2", beneficiary={"reference": "Patient/pat2"}),
        carin("Organization", "org1", name="Payer One"),
        carin("Organization", "org2", name="Payer Two"),
        carin("Practitioner", "doc1"),
    ]


def claims() -> list[dict]:
    return [
        eob("e1", "pat1", "pharmacy", "2026-11-02", "2026-11-02"),
        eob("e2", "pat1", "professional", "2026-10-01", "2026-10-15"),
        eob("e3", "pat2", "professional", "2025-01-10", "2025-01-10", org="org2"),
    ]


def formulary() -> list[dict]:
    tier = f"{USDF}/usdf-DrugTierID-extension"
    plan = f"{USDF}/usdf-PlanID-extension"
    return [
        {
            "resourceType": "MedicationKnowledge",
            "id": "mk1",
            "meta": _meta(f"{USDF}/usdf-FormularyDrug|1.1.0"),
            "status": "active",
            "code": {"coding": [{"system": "rxnorm", "code": "2284960", "display": "remdesivir"}]},
            "extension": [
                {"url": tier, "valueCodeableConcept": {"coding": [{"code": "specialty"}]}},
                {"url": plan, "valueString": "S5810-003"},
            ],
        },
        {
            "resourceType": "MedicationKnowledge",
            "id": "mk2",
            "meta": _meta(f"{USDF}/usdf-FormularyDrug|2.0.1"),
            "status": "active",
            "code": {"coding": [{"system": "rxnorm", "code": "2284960", "display": "remdesivir"}]},
        },
        {
            "resourceType": "List",
            "id": "list1",
            "meta": _meta(f"{USDF}/usdf-CoveragePlan|1.1.0"),
            "status": "current",
            "identifier": [{"value": "S5810-003"}],
            "entry": [{"item": {"reference": "MedicationKnowledge/mk1"}}],
        },
    ]


def load_all(engine: sa.Engine, load_time: datetime = T0) -> None:
    batches = [
        DomainBatch("directory", directory()),
        DomainBatch("members", members()),
        DomainBatch("claims", claims()),
        DomainBatch("formulary", formulary()),
    ]
    load_resources(engine, batches, load_time=load_time)


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    with serving_engine(request.param, tmp_path_factory.mktemp("search")) as engine:
        load_all(engine)
        yield engine


def ids(engine: sa.Engine, api: Api, rtype: str, *params: tuple[str, str], **kw: Any) -> list:
    result = search(engine, api, rtype, list(params), count=kw.pop("count", 100), **kw)
    return [m.id for m in result.matches]


PD, PA = PROVIDER_DIRECTORY, PATIENT_ACCESS


def test_the_plans_example_calls(store: sa.Engine) -> None:
    assert ids(store, PD, "Location", ("name", "ortho"), ("address-postalcode", "14618")) == ["l1"]
    assert ids(store, PD, "Organization", ("address-postalcode", "10533")) == ["o1"]
    assert ids(store, PD, "PractitionerRole", ("location.address", "1783 Route 9")) == ["r1"]
    assert ids(store, PA, "ExplanationOfBenefit", ("patient", "pat1"), ("type", "pharmacy")) == [
        "e1"
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ((("specialty", "207N00000X"),), ["r1", "r3"]),
        ((("specialty", f"{TAXONOMY}|207n00000x"),), ["r1", "r3"]),  # code case-insensitive
        ((("specialty", "|207N00000X"),), []),  # |code: no system
        ((("specialty", f"{TAXONOMY}|"),), ["r1", "r2", "r3"]),
        ((("specialty", "207N00000X,208D00000X"),), ["r1", "r2", "r3"]),  # OR
        ((("specialty:not", "207N00000X"),), ["r2"]),
        ((("specialty", "207N00000X"), ("practitioner", "p2")), ["r3"]),  # AND
        ((("practitioner", "Practitioner/p1"),), ["r1"]),
        ((("location", "http://other.example/fhir/Location/l2"),), ["r2"]),  # absolute URL
        ((("location:Location", "l3"),), ["r3"]),
        ((("practitioner.name", "nunez"),), ["r2", "r3"]),  # accent-folded chain
        ((("_id", "r1,r2"),), ["r1", "r2"]),
        ((("_lastUpdated", "2026-12-04T02:00:00+00:00"),), ["r1", "r2", "r3"]),  # CARIN's eq
        ((("_lastUpdated", "gt2026-12-04"),), []),
        ((("_lastUpdated", "ge2026-12-04"),), ["r1", "r2", "r3"]),
        ((("_lastUpdated", "lt2026-12-04T02:00:00Z"),), []),
    ],
)
def test_practitioner_role_parameters(store: sa.Engine, params: tuple, expected: list) -> None:
    assert ids(store, PD, "PractitionerRole", *params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ((("name", "Brighton"),), ["l1"]),
        ((("name", "CAFE"),), ["l3"]),  # case and accent folded
        ((("name", "orth"),), ["l1", "l2"]),  # the plan's word-prefix extra
        ((("name:exact", "Café Müller Clinic"),), ["l3"]),
        ((("name:exact", "cafe muller clinic"),), []),
        ((("address", "1783 route"),), ["l1"]),
        ((("address-city", "roch"),), ["l1", "l2", "l3"]),
        ((("address-postalcode:contains", "461"),), ["l1", "l3"]),
        ((("organization.name", "hudson"),), ["l2"]),
        ((("organization", "o1"),), ["l1", "l3"]),
        ((("_has:PractitionerRole:location:specialty", "208D00000X"),), ["l2"]),
        ((("name:missing", "false"),), ["l1", "l2", "l3"]),
    ],
)
def test_location_parameters(store: sa.Engine, params: tuple, expected: list) -> None:
    assert ids(store, PD, "Location", *params) == expected


def test_plan_net_string_search_is_a_prefix_of_the_whole_value(store: sa.Engine) -> None:
    assert ids(store, PD, "Organization", ("name", "pediatrics")) == []
    assert ids(store, PD, "Organization", ("name", "irvington ped")) == ["o1"]
    assert ids(store, PD, "Practitioner", ("family", "nun")) == ["p2"]
    assert ids(store, PD, "Practitioner", ("given", "jose")) == ["p2"]


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ({"state": "MA", "country": "US"}, ["MA", "US"]),  # a formulary coverage area
        ({"district": "Kings"}, ["Kings"]),
        (
            {"line": ["1 Main St"], "city": "Rye", "text": "1 Main St, Rye"},
            ["1 Main St", "Rye", "1 Main St, Rye"],
        ),
        (
            {"family": "Smith", "given": ["Ann", "B"], "text": "Ann B Smith"},
            ["Smith", "Ann", "B", "Ann B Smith"],
        ),
        ({"text": "Ann Smith"}, ["Ann Smith"]),
    ],
)
def test_string_search_values_are_each_part_of_an_address_or_name(
    node: dict, expected: list
) -> None:
    assert sorted(strings(node)) == sorted(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-02", ["e1"]),
        ("2026-11", ["e1"]),
        ("2026", ["e1", "e2"]),
        ("ne2026", ["e3"]),
        ("gt2026-10-31", ["e1"]),
        ("ge2026-10-15", ["e1", "e2"]),
        ("lt2026-01-01", ["e3"]),
        ("le2026-10-01", ["e2", "e3"]),
        ("sa2026-10-14", ["e1"]),
        ("eb2026-10-02", ["e2", "e3"]),  # e2's item date ends on 10-02
        ("ap2026-11-02", ["e1"]),
        ("2026-10-05", []),  # within e2's period but the period is not within the day
        ("gt2026-10-05", ["e1", "e2"]),
    ],
)
def test_service_date_prefixes_and_periods(store: sa.Engine, value: str, expected: list) -> None:
    assert ids(store, PA, "ExplanationOfBenefit", ("service-date", value)) == expected


def test_eob_token_reference_and_start_date_parameters(store: sa.Engine) -> None:
    eobs = "ExplanationOfBenefit"
    assert ids(store, PA, eobs, ("identifier", "urn:claims|CLM-e2")) == ["e2"]
    assert ids(store, PA, eobs, ("identifier", "clm-e3")) == ["e3"]
    assert ids(store, PA, eobs, ("patient", "Patient/pat2")) == ["e3"]
    assert ids(store, PA, eobs, ("service-start-date", "2026-10-01")) == ["e2"]
    assert ids(store, PA, eobs, ("billable-period-start", "ge2026-10-02")) == ["e1"]
    assert ids(store, PA, eobs, ("coverage", "cov-pat1"), ("insurer", "org1")) == ["e1", "e2"]


def test_formulary_apis_are_told_apart_by_profile(store: sa.Engine) -> None:
    mk = "MedicationKnowledge"
    assert ids(store, FORMULARY_STU1, mk, ("DrugName", "remdes")) == ["mk1"]
    assert ids(store, FORMULARY, mk, ("drug-name", "remdes")) == ["mk2"]
    assert ids(store, FORMULARY_STU1, mk, ("DrugTier", "specialty"), ("DrugPlan", "S5810")) == [
        "mk1"
    ]
    assert ids(store, FORMULARY_STU1, mk, ("code", "2284960")) == ["mk1"]
    assert ids(store, FORMULARY_STU1, "List", ("item", "MedicationKnowledge/mk1")) == ["list1"]
    assert ids(store, FORMULARY_STU1, "List", ("status", "current"), ("identifier", "S5810-003"))


def test_includes_revincludes_and_iterate(store: sa.Engine) -> None:
    result = search(
        store,
        PD,
        "PractitionerRole",
        [("specialty", "207N00000X"), ("_include", "PractitionerRole:location")],
        count=10,
    )
    assert [(i.resource_type, i.id) for i in result.included] == [
        ("Location", "l1"),
        ("Location", "l3"),
    ]
    result = search(
        store,
        PD,
        "Location",
        [("_id", "l2"), ("_revinclude", "PractitionerRole:location")],
        count=10,
    )
    assert [i.id for i in result.included] == ["r2"]
    result = search(
        store,
        PA,
        "ExplanationOfBenefit",
        [
            ("_id", "e1"),
            ("_include", "ExplanationOfBenefit:coverage"),
            ("_include:iterate", "Coverage:payor"),
        ],
        count=10,
    )
    assert [(i.resource_type, i.id) for i in result.included] == [
        ("Coverage", "cov-pat1"),
        ("Organization", "org1"),
    ]
    everything = search(
        store,
        PA,
        "ExplanationOfBenefit",
        [("_id", "e1"), ("_include", "ExplanationOfBenefit:*")],
        count=10,
    )
    assert {i.id for i in everything.included} == {"pat1", "org1", "doc1", "cov-pat1"}


def test_paging_walks_every_match_once(store: sa.Engine) -> None:
    seen, cursor, pages = [], None, 0
    while True:
        result = search(store, PD, "Location", [], count=1, cursor=cursor, want_total=True)
        assert result.total == 3
        seen += [m.id for m in result.matches]
        pages += 1
        cursor = result.next_cursor
        if cursor is None:
            break
    assert seen == ["l1", "l2", "l3"] and pages == 3
    counted = search(store, PD, "Location", [], count=0, want_total=True)
    assert counted.total == 3 and counted.matches == [] and counted.next_cursor is None
    with pytest.raises(SearchError):
        search(store, PD, "Practitioner", [], count=1, cursor=result.next_cursor or "bogus")


def test_patient_compartment_confines_every_type(store: sa.Engine) -> None:
    def mine(rtype: str, *params: tuple[str, str]) -> list[str]:
        return ids(store, PA, rtype, *params, patient="pat1")

    assert mine("ExplanationOfBenefit") == ["e1", "e2"]
    assert mine("ExplanationOfBenefit", ("patient", "pat2")) == []
    assert mine("Patient") == ["pat1"]
    assert mine("Coverage") == ["cov-pat1"]
    assert mine("Organization") == ["org1"]
    assert mine("Practitioner") == ["doc1"]
    included = search(
        store,
        PA,
        "ExplanationOfBenefit",
        [("_include", "ExplanationOfBenefit:insurer")],
        count=10,
        patient="pat2",
    ).included
    assert [i.id for i in included] == ["org2"]
    assert in_compartment(store, PA, "Organization", "org1", "pat1")
    assert not in_compartment(store, PA, "Organization", "org2", "pat1")
    assert not in_compartment(store, PA, "ExplanationOfBenefit", "e3", "pat1")


@pytest.mark.parametrize(
    ("rtype", "name", "value"),
    [
        ("Location", "bogus", "x"),
        ("Location", "name:text", "x"),
        ("Location", "type:text", "x"),
        ("Location", "_lastUpdated", "xx2026"),
        ("Location", "_lastUpdated", "2026-13-01"),
        ("Location", "_sort", "name"),
        ("Location", "organization.bogus", "x"),
        ("Location", "organization.partof.name", "x"),
        ("Location", "_include", "Location:bogus"),
        ("Location", "_revinclude", "Endpoint:organization"),
        ("Location", "_has:PractitionerRole:location", "x"),
        ("Location", "name", ""),
        ("PractitionerRole", "specialty", ""),
        ("PractitionerRole", "period", "2020"),  # defined by the IG, not in its CapabilityStatement
    ],
)
def test_unsupported_or_malformed_parameters_name_the_parameter(
    store: sa.Engine, rtype: str, name: str, value: str
) -> None:
    with pytest.raises(SearchError) as raised:
        search(store, PD, rtype, [(name, value)], count=10)
    assert raised.value.parameter == name


def test_types_an_api_does_not_serve_are_refused(store: sa.Engine) -> None:
    with pytest.raises(SearchError):
        search(store, FORMULARY, "Patient", [], count=10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_new_versions_replace_and_tombstones_remove_index_rows(
    backend: str, tmp_path: Path
) -> None:
    with serving_engine(backend, tmp_path) as engine:
        load_all(engine)
        renamed = [*directory()[:2], location("l1", "Renamed Place", "14618"), *directory()[3:]]
        load_resources(
            engine, [DomainBatch("directory", renamed)], load_time=T0 + timedelta(days=1)
        )
        assert ids(engine, PD, "Location", ("name", "brighton")) == []
        assert ids(engine, PD, "Location", ("name", "renamed")) == ["l1"]
        load_resources(
            engine,
            [DomainBatch("directory", [r for r in renamed if r["id"] != "l1"])],
            load_time=T0 + timedelta(days=2),
            snapshot_domains=["directory"],
        )
        assert ids(engine, PD, "Location", ("name", "renamed")) == []
        assert ids(engine, PD, "Location") == ["l2", "l3"]
        with engine.connect() as conn:
            left = conn.execute(
                sa.select(sa.func.count()).where(search_token_table.c.id == "l1")
            ).scalar_one()
        assert left == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_reindex_rebuilds_the_index(backend: str, tmp_path: Path) -> None:
    with serving_engine(backend, tmp_path) as engine:
        load_all(engine)
        with engine.begin() as conn:
            conn.execute(search_token_table.delete())
        assert ids(engine, PD, "PractitionerRole", ("specialty", "207N00000X")) == []
        assert reindex(engine) == len(directory() + members() + claims() + formulary())
        assert ids(engine, PD, "PractitionerRole", ("specialty", "207N00000X")) == ["r1", "r3"]


def test_capabilities_list_shall_parameters_includes_and_chains() -> None:
    roles = capabilities(PD, "PractitionerRole")
    assert {"specialty", "location", "practitioner", "_id", "_lastUpdated"} <= {
        p.name for p in roles.search_params
    }
    assert "PractitionerRole:location" in roles.includes
    assert roles.chains["location"] == [
        "address",
        "address-postalcode",
        "address-city",
        "address-state",
        "organization",
        "type",
    ]
    assert capabilities(PD, "Location").revincludes[-1] == "PractitionerRole:location"
    assert capabilities(FORMULARY, "InsurancePlan").includes == ["InsurancePlan:formulary-coverage"]
    assert not any(
        p.name.startswith("@") for p in capabilities(PA, "ExplanationOfBenefit").search_params
    )
