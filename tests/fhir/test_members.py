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


def test_patient_carries_us_core_demographics_unique_id_death_and_address_period() -> None:
    cdc = "urn:oid:2.16.840.1.113883.6.238"
    member = _span(
        unique_member_id="E000012345",
        race="2054-5",
        race_system=cdc,
        race_display="Black or African American",
        ethnicity="ASKU",
        ethnicity_system="http://terminology.hl7.org/CodeSystem/v3-NullFlavor",
        ethnicity_display="Asked but no answer",
        birth_sex="F",
        deceased_date=date(2026, 5, 2),
        address_line1="12 Oak St",
        city="Columbus",
        address_start_date=date(2019, 6, 1),
    )
    patient = _valid(build_patient(member, IDS, NOW))
    race, ethnicity, birth_sex = patient["extension"]
    assert race["extension"][0]["valueCoding"]["code"] == "2054-5"
    # US Core's ethnicity categories have no null flavor: an unanswered ethnicity is text only.
    assert ethnicity["extension"] == [{"url": "text", "valueString": "Asked but no answer"}]
    assert birth_sex["valueCode"] == "F"
    assert patient["identifier"][1]["type"]["coding"][0]["code"] == "um"
    assert patient["deceasedDateTime"] == "2026-05-02"
    assert patient["address"][0]["period"] == {"start": "2019-06-01"}


def test_related_person_has_the_subscribers_phone_and_address_and_payer_its_naic_code() -> None:
    span = _span(subscriber_phone="614-555-0101", subscriber_address_line1="12 Oak St",
                 subscriber_city="Columbus", subscriber_state="OH", subscriber_postal_code="43215")  # fmt: skip
    person = _valid(build_related_person(span, IDS, NOW))
    assert person["telecom"][0]["value"] == "614-555-0101"
    assert person["address"][0]["line"] == ["12 Oak St"]
    payer = _valid(build_payer(span | {"payer_naic_code": "95813"}, IDS, NOW))
    assert payer["identifier"][1]["system"] == "urn:oid:2.16.840.1.113883.6.300"
