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


def _address(record: Record, prefix: str = "") -> list[dict[str, Any]]:
    """The home address of the record's member, or of its subscriber with prefix 'subscriber_'."""
    lines = [
        part
        for part in (record.get(f"{prefix}address_line1"), record.get(f"{prefix}address_line2"))
        if part
    ]
    address: dict[str, Any] = {
        key: value
        for key, value in (
            ("city", record.get(f"{prefix}city")),
            ("state", record.get(f"{prefix}state")),
            ("postalCode", record.get(f"{prefix}postal_code")),
        )
        if value
    }
    if not (lines or address):
        return []
    if lines:
        address["line"] = lines
    return [{"use": "home", "type": "physical", **address, "country": "US"}]


def _home_phone(phone: str | None) -> list[dict[str, str]]:
    return [{"system": "phone", "value": phone, "use": "home"}] if phone else []


def _category_extension(
    url: str, member: Record, field: str, null_flavors_allowed: bool
) -> dict[str, Any] | None:
    """A US Core race or ethnicity extension: the OMB category and its text (text is required).

    US Core's ethnicity categories have no null flavor, so an unknown ethnicity is text only.
    """
    if not member.get(field):
        return None
    system, display = member[f"{field}_system"], member[f"{field}_display"]
    parts: list[dict[str, Any]] = []
    if system == sy.CDC_RACE_ETHNICITY or null_flavors_allowed:
        parts.append({"url": "ombCategory", "valueCoding": coding(system, member[field], display)})
    parts.append({"url": "text", "valueString": display})
    return {"extension": parts, "url": url}


def _patient_extensions(member: Record) -> list[dict[str, Any]]:
    extensions = [
        _category_extension(sy.US_CORE_RACE, member, "race", null_flavors_allowed=True),
        _category_extension(sy.US_CORE_ETHNICITY, member, "ethnicity", null_flavors_allowed=False),
    ]
    if member.get("birth_sex"):
        extensions.append({"url": sy.US_CORE_BIRTH_SEX, "valueCode": member["birth_sex"]})
    return [extension for extension in extensions if extension]


def _patient_identifiers(member: Record) -> list[dict[str, Any]]:
    identifiers = [
        {
            "type": concept(sy.V2_0203, "MB", "Member Number"),
            "system": sy.MEMBER_ID_SYSTEM,
            "value": member["member_id"],
        }
    ]
    if member.get("unique_member_id"):
        identifiers.append(
            {
                "type": concept(sy.C4BB_IDENTIFIER_TYPE, "um", "Unique Member ID"),
                "system": sy.UNIQUE_MEMBER_ID_SYSTEM,
                "value": member["unique_member_id"],
            }
        )
    return identifiers


def build_patient(member: Record, ids: IdMaker, last_updated: str) -> Resource:
    """C4BB Patient from the member's most recent eligibility row."""
    patient: Resource = {
        "resourceType": "Patient",
        "id": ids("Patient", patient_key(member["member_id"])),
        "meta": meta(sy.PATIENT_PROFILE, last_updated),
    }
    if extensions := _patient_extensions(member):
        patient["extension"] = extensions
    patient |= {
        "identifier": _patient_identifiers(member),
        "active": True,
        "name": [_human_name(member)],
        "gender": member["gender"],
        "birthDate": member["birth_date"].isoformat(),
    }
    if member.get("deceased_date"):
        patient["deceasedDateTime"] = member["deceased_date"].isoformat()
    if telecom := _home_phone(member.get("phone")):
        patient["telecom"] = telecom
    if address := _address(member):
        if member.get("address_start_date"):
            address[0]["period"] = {"start": member["address_start_date"].isoformat()}
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
    if telecom := _home_phone(span.get("subscriber_phone")):
        person["telecom"] = telecom
    if address := _address(span, prefix="subscriber_"):
        person["address"] = address
    return person


def build_payer(payer: Record, ids: IdMaker, last_updated: str) -> Resource:
    """C4BB Organization for the payer that insures the coverages and adjudicates the claims."""
    identifiers = [
        {
            "type": concept(sy.C4BB_IDENTIFIER_TYPE, "payerid", "Payer ID"),
            "system": sy.PAYER_ID_SYSTEM,
            "value": payer["payer_id"],
        }
    ]
    if payer.get("payer_naic_code"):
        identifiers.append(
            {
                "type": concept(sy.C4BB_IDENTIFIER_TYPE, "naiccode", "NAIC Code"),
                "system": sy.NAIC,
                "value": payer["payer_naic_code"],
            }
        )
    return {
        "resourceType": "Organization",
        "id": ids("Organization", payer_key(payer["payer_id"])),
        "meta": meta(sy.ORGANIZATION_PROFILE, last_updated),
        "identifier": identifiers,
        "active": True,
        "type": [
            concept("http://terminology.hl7.org/CodeSystem/organization-type", "pay", "Payer")
        ],
        "name": payer["payer_name"],
    }
