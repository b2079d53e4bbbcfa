"""Member builders: Patient, Coverage, RelatedPerson and the payer from eligibility records."""

from datetime import date

import orjson

from pipelines.fhir.build import dumps
from pipelines.fhir.ids import IdMaker
from pipelines.fhir.members import build_coverage, build_patient, build_payer, build_related_person
from pipelines.fhir.validation import validate

IDS = IdMaker.from_secret("test-key")
NOW = "2026-12-04T07:00:00+00:00"
REL = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"


def _span(**fields: object) -> dict:
    return {
        "member_id": "M2",
        "subscriber_id": "M1",
        "relationship": "child",
        "relationship_system": REL,
        "relationship_display": "Child",
        "last_name": "Rivera",
        "first_name": "Ana",
        "birth_date": date(2012, 4, 9),
        "gender": "female",
        "payer_id": "PAYER01",
        "payer_name": "Lakeside Health Plan",
        "plan_id": "PLAN-A",
        "plan_name": "Lakeside Gold HMO",
        "group_id": "GRP-1",
        "group_name": "Acme Tools",
        "product_type_code": "HMO",
        "product_type_system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
        "product_type": "HMO",
        "product_type_display": "health maintenance organization policy",
        "coverage_start_date": date(2026, 1, 1),
        "coverage_end_date": date(2026, 6, 30),
        "subscriber_last_name": "Rivera",
        "subscriber_first_name": "Luis",
        **fields,
    }


def _valid(resource: dict) -> dict:
    parsed = orjson.loads(dumps(resource))
    assert validate(parsed) == []
    return parsed


def test_dependent_coverage_points_at_subscriber_related_person() -> None:
    coverage = _valid(build_coverage(_span(), IDS, NOW))
    person = _valid(build_related_person(_span(), IDS, NOW))
    assert coverage["subscriber"] == {"reference": f"RelatedPerson/{person['id']}"}
    assert coverage["beneficiary"] == {"reference": f"Patient/{IDS('Patient', 'M2')}"}
    assert coverage["relationship"]["coding"][0]["code"] == "child"
    assert coverage["period"] == {"start": "2026-01-01", "end": "2026-06-30"}
    assert {c["type"]["coding"][0]["code"]: c["value"] for c in coverage["class"]} == {
        "group": "GRP-1",
        "plan": "PLAN-A",
    }
    assert person["relationship"][0]["coding"][0]["code"] == "PRN"
    assert person["name"][0]["family"] == "Rivera"


def test_subscriber_coverage_points_at_the_patient_itself() -> None:
    span = _span(member_id="M1", relationship="self", coverage_end_date=None)
    coverage = _valid(build_coverage(span, IDS, NOW))
    assert coverage["subscriber"] == coverage["beneficiary"]
    assert "end" not in coverage["period"]


def test_patient_and_payer() -> None:
    patient = _valid(
        build_patient(
            _span(phone="585-555-0100", postal_code="14618", city="Rochester", state="NY"), IDS, NOW
        )
    )
    assert patient["identifier"][0]["type"]["coding"][0]["code"] == "MB"
    assert patient["birthDate"] == "2012-04-09"
    assert patient["address"][0]["postalCode"] == "14618"
    payer = _valid(build_payer(_span(), IDS, NOW))
    assert payer["name"] == "Lakeside Health Plan"
    assert payer["identifier"][0]["type"]["coding"][0]["code"] == "payerid"


def test_ids_are_stable_keyed_and_opaque() -> None:
    other = IdMaker.from_secret("another-key")
    assert IDS("Patient", "M2") == IDS("Patient", "M2")
    assert IDS("Patient", "M2") != other("Patient", "M2")
    assert IDS("Patient", "M2") != IDS("Coverage", "M2")
    assert len(IDS("Patient", "M2")) == 32
