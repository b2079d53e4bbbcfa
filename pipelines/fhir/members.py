"""Builders for the member side of CARIN BB: Patient, Coverage, RelatedPerson and the payer.

Each builder is a pure function from canonical records (dicts of typed values) to a resource dict.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pipelines.fhir import systems as sy
from pipelines.fhir.ids import IdMaker

Record = dict[str, Any]
Resource = dict[str, Any]


def meta(profile: str, last_updated: str) -> dict[str, Any]:
    return {"lastUpdated": last_updated, "profile": [profile]}


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    entry = {"system": system, "code": code}
    if display:
        entry["display"] = display
    return entry


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"coding": [coding(system, code, display)]}


def patient_key(member_id: str) -> str:
    return member_id


def coverage_key(member_id: str, plan_id: str, start: date) -> str:
    return f"{member_id}|{plan_id}|{start.isoformat()}"


def payer_key(payer_id: str) -> str:
    return f"payer|{payer_id}"


def related_person_key(member_id: str, subscriber_id: str) -> str:
    return f"{member_id}|{subscriber_id}"


def _human_name(record: Record) -> dict[str, Any]:
    given = [part for part in (record.get("first_name"), record.get("middle_name")) if part]
    name: dict[str, Any] = {"use": "usual", "family": record["last_name"]}
    if given:
        name["given"] = given
    return name


def _address(record: Record) -> list[dict[str, Any]]:
    lines = [part for part in (record.get("address_line1"), record.get("address_line2")) if part]
    address = {
        key: value
        for key, value in (
            ("city", record.get("city")),
            ("state", record.get("state")),
            ("postalCode", record.get("postal_code")),
        )
        if value
    }
    if not (lines or address):
        return []
    if lines:
        address["line"] = lines
    return [{"use": "home", "type": "physical", **address, "country": "US"}]


def build_patient(member: Record, ids: IdMaker, last_updated: str) -> Resource:
    """C4BB Patient from the member's most recent eligibility row."""
    patient: Resource = {
        "resourceType": "Patient",
        "id": ids("Patient", patient_key(member["member_id"])),
        "meta": meta(sy.PATIENT_PROFILE, last_updated),
        "identifier": [
            {
                "type": concept(sy.V2_0203, "MB", "Member Number"),
                "system": sy.MEMBER_ID_SYSTEM,
                "value": member["member_id"],
            }
        ],
        "active": True,
        "name": [_human_name(member)],
        "gender": member["gender"],
        "birthDate": member["birth_date"].isoformat(),
    }
    if member.get("phone"):
        patient["telecom"] = [{"system": "phone", "value": member["phone"], "use": "home"}]
    if address := _address(member):
        patient["address"] = address
    if member.get("language_code"):
        patient["communication"] = [
            {"language": concept(sy.LANGUAGE, member["language_code"]), "preferred": True}
        ]
    return patient


def build_coverage(span: Record, ids: IdMaker, last_updated: str) -> Resource:
    """C4BB Coverage for one eligibility span, with plan and group classes."""
    member_id = span["member_id"]
    is_self = span["relationship"] == "self"
    subscriber = (
        ids.reference("Patient", patient_key(member_id))
        if is_self
        else ids.reference("RelatedPerson", related_person_key(member_id, span["subscriber_id"]))
    )
    period = {"start": span["coverage_start_date"].isoformat()}
    if span.get("coverage_end_date"):
        period["end"] = span["coverage_end_date"].isoformat()
    classes = [
        {"type": concept(sy.COVERAGE_CLASS, "group"), "value": span["group_id"]},
        {
            "type": concept(sy.COVERAGE_CLASS, "plan"),
            "value": span["plan_id"],
            "name": span["plan_name"],
        },
    ]
    if span.get("group_name"):
        classes[0]["name"] = span["group_name"]
    coverage: Resource = {
        "resourceType": "Coverage",
        "id": ids(
            "Coverage", coverage_key(member_id, span["plan_id"], span["coverage_start_date"])
        ),
        "meta": meta(sy.COVERAGE_PROFILE, last_updated),
        "identifier": [
            {
                "type": concept(sy.V2_0203, "MB", "Member Number"),
                "system": sy.MEMBER_ID_SYSTEM,
                "value": member_id,
            }
        ],
        "status": "active",
        "subscriber": subscriber,
        "subscriberId": span["subscriber_id"],
        "beneficiary": ids.reference("Patient", patient_key(member_id)),
        "relationship": concept(
            span["relationship_system"], span["relationship"], span["relationship_display"]
        ),
        "period": period,
        "payor": [ids.reference("Organization", payer_key(span["payer_id"]))],
        "class": classes,
    }
    if span.get("product_type_code"):
        coverage["type"] = concept(
            span["product_type_system"], span["product_type"], span["product_type_display"]
        )
    return coverage


# How the subscriber relates to the dependent whose coverage it holds.
_SUBSCRIBER_ROLE = {
    "spouse": concept("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "SPS", "spouse"),
    "child": concept("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "PRN", "parent"),
    "other": concept("http://terminology.hl7.org/CodeSystem/v2-0131", "O", "Other"),
}


def build_related_person(span: Record, ids: IdMaker, last_updated: str) -> Resource:
    """C4BB RelatedPerson: the subscriber of a dependent's coverage, seen from the dependent."""
    person: Resource = {
        "resourceType": "RelatedPerson",
        "id": ids("RelatedPerson", related_person_key(span["member_id"], span["subscriber_id"])),
        "meta": meta(sy.RELATED_PERSON_PROFILE, last_updated),
        "active": True,
        "patient": ids.reference("Patient", patient_key(span["member_id"])),
        "relationship": [_SUBSCRIBER_ROLE[span["relationship"]]],
    }
    if span.get("subscriber_last_name"):
        person["name"] = [
            {"family": span["subscriber_last_name"], "given": [span["subscriber_first_name"]]}
        ]
    return person


def build_payer(payer: Record, ids: IdMaker, last_updated: str) -> Resource:
    """C4BB Organization for the payer that insures the coverages and adjudicates the claims."""
    return {
        "resourceType": "Organization",
        "id": ids("Organization", payer_key(payer["payer_id"])),
        "meta": meta(sy.ORGANIZATION_PROFILE, last_updated),
        "identifier": [
            {
                "type": concept(sy.C4BB_IDENTIFIER_TYPE, "payerid", "Payer ID"),
                "system": sy.PAYER_ID_SYSTEM,
                "value": payer["payer_id"],
            }
        ],
        "active": True,
        "type": [
            concept("http://terminology.hl7.org/CodeSystem/organization-type", "pay", "Payer")
        ],
        "name": payer["payer_name"],
    }
