"""Builders for the five CARIN BB ExplanationOfBenefit profiles from canonical claim records.

A claim record is one header (typed canonical fields plus the codes already mapped in SQL) with its
lines, diagnoses and procedures as nested lists; builders are pure and never touch the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from pipelines.fhir import systems as sy
from pipelines.fhir.claim_providers import provider_key
from pipelines.fhir.ids import IdMaker
from pipelines.fhir.members import (
    coding,
    concept,
    coverage_key,
    meta,
    patient_key,
    payer_key,
)

Record = dict[str, Any]
Resource = dict[str, Any]

# Canonical amount field → (code system, adjudication category code).
AMOUNT_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("submitted_amount", sy.ADJUDICATION, "submitted"),
    ("allowed_amount", sy.ADJUDICATION, "eligible"),
    ("deductible_amount", sy.ADJUDICATION, "deductible"),
    ("copay_amount", sy.ADJUDICATION, "copay"),
    ("coinsurance_amount", sy.C4BB_ADJUDICATION, "coinsurance"),
    ("noncovered_amount", sy.C4BB_ADJUDICATION, "noncovered"),
    ("discount_amount", sy.C4BB_ADJUDICATION, "discount"),
    ("member_liability_amount", sy.C4BB_ADJUDICATION, "memberliability"),
    ("ingredient_cost_amount", sy.C4BB_ADJUDICATION, "drugcost"),
)

CLAIM_TYPES = {
    "inpatient-institutional": ("institutional", "inpatient"),
    "outpatient-institutional": ("institutional", "outpatient"),
    "professional-nonclinician": ("professional", None),
    "oral": ("oral", None),
    "pharmacy": ("pharmacy", None),
}


def money(value: Decimal) -> dict[str, Any]:
    return {"value": value, "currency": "USD"}


def _paid_category(record: Record) -> str:
    return (
        "paidtopatient"
        if record.get("payee_code") in ("subscriber", "beneficiary")
        else "paidtoprovider"
    )


def amount_adjudications(record: Record) -> list[dict[str, Any]]:
    """Adjudication (or total) entries for every amount the record carries."""
    entries = [
        {"category": concept(system, code), "amount": money(record[field])}
        for field, system, code in AMOUNT_CATEGORIES
        if record.get(field) is not None
    ]
    if record.get("paid_amount") is not None:
        entries.append(
            {
                "category": concept(sy.C4BB_ADJUDICATION, _paid_category(record)),
                "amount": money(record["paid_amount"]),
            }
        )
    return entries


def _status_adjudication(discriminator: str, status: str) -> dict[str, Any]:
    return {
        "category": concept(sy.C4BB_ADJUDICATION_DISCRIMINATOR, discriminator),
        "reason": concept(sy.C4BB_PAYER_ADJUDICATION_STATUS, status),
    }


def _denial_adjudication(code: str, pharmacy: bool) -> dict[str, Any]:
    if pharmacy:
        return {
            "category": concept(sy.C4BB_ADJUDICATION_DISCRIMINATOR, "rejectreason"),
            "reason": concept(f"{sy.NCPDP}/NCPDPRejectCode", code),
        }
    return {
        "category": concept(sy.C4BB_ADJUDICATION_DISCRIMINATOR, "adjustmentreason"),
        "reason": concept(sy.CARC, code),
    }


class _Sequence:
    """Hands out 1, 2, 3, ... for supportingInfo, careTeam and diagnosis entries."""

    def __init__(self) -> None:
        self.value = 0

    def __call__(self) -> int:
        self.value += 1
        return self.value


def _info(sequence: _Sequence, category: str, **value: Any) -> dict[str, Any]:
    return {
        "sequence": sequence(),
        "category": concept(sy.C4BB_SUPPORTING_INFO_TYPE, category),
        **value,
    }


def _code_info(sequence: _Sequence, category: str, system: str, code: str | None) -> Iterator[dict]:
    if code:
        yield _info(sequence, category, code=concept(system, code))


def institutional_info(record: Record, sequence: _Sequence) -> Iterator[dict[str, Any]]:
    if record.get("admission_date"):
        period = {"start": record["admission_date"].isoformat()}
        if record.get("discharge_date"):
            period["end"] = record["discharge_date"].isoformat()
        yield _info(sequence, "admissionperiod", timingPeriod=period)
    yield from _code_info(
        sequence, "typeofbill", f"{sy.NUBC}/TypeOfBill", record.get("type_of_bill")
    )
    yield from _code_info(
        sequence, "pointoforigin", f"{sy.NUBC}/PointOfOrigin", record.get("admission_source_code")
    )
    yield from _code_info(
        sequence,
        "admtype",
        f"{sy.NUBC}/PriorityTypeOfAdmitOrVisit",
        record.get("admission_type_code"),
    )
    yield from _code_info(
        sequence,
        "discharge-status",
        f"{sy.NUBC}/PatDischargeStatus",
        record.get("discharge_status_code"),
    )
    if record["profile_key"] == "inpatient-institutional":
        yield from _code_info(sequence, "drg", sy.MS_DRG, record.get("drg_code"))


def pharmacy_info(record: Record, sequence: _Sequence) -> Iterator[dict[str, Any]]:
    yield _info(sequence, "dayssupply", valueQuantity={"value": record["days_supply"]})
    yield _info(
        sequence,
        "dawcode",
        code=concept(
            f"{sy.NCPDP}/NCPDPDispensedAsWrittenOrProductSelectionCode", record["daw_code"]
        ),
    )
    yield _info(sequence, "refillnum", valueQuantity={"value": record["fill_number"]})
    if record.get("refills_authorized") is not None:
        yield _info(
            sequence, "refillsauthorized", valueQuantity={"value": record["refills_authorized"]}
        )
    yield from _code_info(
        sequence,
        "brandgenericindicator",
        f"{sy.NCPDP}/NCPDPBrandGenericIndicator",
        record.get("brand_generic_code"),
    )
    yield from _code_info(
        sequence,
        "rxorigincode",
        f"{sy.NCPDP}/NCPDPPrescriptionOriginCode",
        record.get("rx_origin_code"),
    )
    yield _info(
        sequence,
        "compoundcode",
        code=concept(f"{sy.NCPDP}/NCPDPCompoundCode", record["compound_code"]),
    )


def _quantity(value: Any, ucum: str) -> dict[str, Any]:
    return {"value": value, "unit": ucum, "system": sy.UCUM, "code": ucum}


def oral_info(record: Record, sequence: _Sequence) -> Iterator[dict[str, Any]]:
    """ADA claim form items 40-44 and the missing teeth of item 34 (837D DN1 and DN2)."""
    if record.get("orthodontic_months_remaining") is not None:
        months = _quantity(record["orthodontic_months_remaining"], "mo")
        yield _info(sequence, "orthodontics", valueQuantity=months)
    if record.get("prosthesis_replacement_code"):
        replacement = record["prosthesis_replacement_code"] == "Y"
        yield _info(sequence, "prosthesis", valueBoolean=replacement)
    for tooth in record.get("missing_teeth") or []:
        yield _info(sequence, "missingtoothnumber", code=concept(sy.TOOTH, tooth))


# Profiles with a servicefacility slice; it must reference an Organization.
SERVICE_FACILITY_PROFILES = ("professional-nonclinician", "oral")

# Line-level ambulance data (837P CR1 and the pick-up and drop-off loops): canonical field,
# supporting-info category, and the UCUM unit of a quantity (None: the value is text).
TRANSPORT_FIELDS: tuple[tuple[str, str, str | None], ...] = (
    ("patient_weight", "patientweight", "[lb_av]"),
    ("transport_distance", "transportationdistance", "[mi_i]"),
    ("round_trip_purpose", "roudtrippurpose", None),
    ("stretcher_purpose", "stretcherpurpose", None),
    ("pickup_location", "pickuplocation", None),
    ("dropoff_location", "dropofflocation", None),
)


def _line_info_values(line: Record, profile_key: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(category, value) of each supporting info a service line carries."""
    if profile_key == "professional-nonclinician":
        if line.get("ambulance_transport_reason_code"):
            reason = coding(
                line["transport_reason_system"],
                line["ambulance_transport_reason_code"],
                line["transport_reason_display"],
            )
            yield "ambulancetransportreason", {"reason": reason}
        for field, category, unit in TRANSPORT_FIELDS:
            if line.get(field) is not None:
                value = line[field]
                yield (
                    category,
                    {"valueQuantity": _quantity(value, unit)} if unit else {"valueString": value},
                )
    if profile_key == "oral" and line.get("additional_tooth_numbers"):
        for tooth in line["additional_tooth_numbers"].split(","):
            yield "additionalbodysite", {"code": concept(sy.TOOTH, tooth.strip())}


def line_info(
    record: Record, sequence: _Sequence
) -> tuple[list[dict[str, Any]], dict[int, list[int]]]:
    """Supporting info that service lines carry, one entry per distinct value, and the entry
    sequences each line links to through item.informationSequence (CARIN requires the link)."""
    entries: list[dict[str, Any]] = []
    sequence_of: dict[str, int] = {}
    links: dict[int, list[int]] = {}
    for line in record.get("lines") or []:
        for category, value in _line_info_values(line, record["profile_key"]):
            key = f"{category}|{value!r}"
            if key not in sequence_of:
                entries.append(_info(sequence, category, **value))
                sequence_of[key] = entries[-1]["sequence"]
            links.setdefault(line["line_number"], []).append(sequence_of[key])
    return entries, links


def supporting_info(
    record: Record, ids: IdMaker
) -> tuple[list[dict[str, Any]], dict[int, list[int]]]:
    """The claim's supporting info, and the entries each line number links to."""
    sequence = _Sequence()
    profile_key = record["profile_key"]
    entries = [_info(sequence, "clmrecvddate", timingDate=record["received_date"].isoformat())]
    if profile_key == "pharmacy":
        entries.extend(pharmacy_info(record, sequence))
    elif profile_key.endswith("institutional"):
        entries.extend(institutional_info(record, sequence))
    elif profile_key == "oral":
        entries.extend(oral_info(record, sequence))
    if (
        profile_key in SERVICE_FACILITY_PROFILES
        and record.get("service_facility_type") == "Organization"
    ):
        facility = ids.reference("Organization", provider_key(record["service_facility_npi"]))
        entries.append(_info(sequence, "servicefacility", valueReference=facility))
    if record.get("patient_account_number"):
        entries.append(
            _info(sequence, "patientaccountnumber", valueString=record["patient_account_number"])
        )
    if record.get("medical_record_number"):
        entries.append(
            _info(sequence, "medicalrecordnumber", valueString=record["medical_record_number"])
        )
    line_entries, links = line_info(record, sequence)
    return entries + line_entries, links


def _care_team_member(
    ids: IdMaker, sequence: int, npi: str, resource_type: str, role_system: str, role: str
) -> dict[str, Any]:
    return {
        "sequence": sequence,
        "provider": ids.reference(resource_type, provider_key(npi)),
        "role": concept(role_system, role),
    }


# Per profile: (npi field, role system, role code, resource type the profile's invariant demands).
CARE_TEAM_ROLES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "inpatient-institutional": (
        ("attending_provider_npi", sy.C4BB_CARE_TEAM_ROLE, "attending", "Practitioner"),
        ("referring_provider_npi", sy.C4BB_CARE_TEAM_ROLE, "referring", "Practitioner"),
    ),
    "outpatient-institutional": (
        ("attending_provider_npi", sy.C4BB_CARE_TEAM_ROLE, "attending", "Practitioner"),
        ("referring_provider_npi", sy.C4BB_CARE_TEAM_ROLE, "referring", "Practitioner"),
    ),
    "professional-nonclinician": (
        ("rendering_provider_npi", sy.C4BB_CARE_TEAM_ROLE, "rendering", "Practitioner"),
        ("referring_provider_npi", sy.C4BB_CARE_TEAM_ROLE, "referring", "Practitioner"),
    ),
    "oral": (("rendering_provider_npi", sy.C4BB_CARE_TEAM_ROLE, "rendering", "Practitioner"),),
    "pharmacy": (("prescriber_npi", sy.C4BB_CARE_TEAM_ROLE, "prescribing", "Practitioner"),),
}


def care_team(record: Record, ids: IdMaker) -> list[dict[str, Any]]:
    """Care team entries whose provider is of the type the profile allows for that role."""
    team: list[dict[str, Any]] = []
    for field, role_system, role, resource_type in CARE_TEAM_ROLES[record["profile_key"]]:
        npi = record.get(field)
        if not npi or record.get(field.replace("_npi", "_type")) != resource_type:
            continue
        member = _care_team_member(ids, len(team) + 1, npi, resource_type, role_system, role)
        taxonomy = record.get(field.replace("_npi", "_taxonomy"))
        if role == "rendering" and taxonomy:
            member["qualification"] = concept(sy.NUCC, taxonomy)
        team.append(member)
    return team


_SECONDARY = (sy.C4BB_DIAGNOSIS_TYPE, "secondary")
_OTHER = (sy.C4BB_DIAGNOSIS_TYPE, "other")

# Each EOB profile binds its own diagnosis-type value set: a non-principal diagnosis is
# "secondary" on professional and oral claims but "other" on institutional ones, and admitting
# or external-cause types exist only where the profile allows them. Types outside a profile's
# set are carried as the nearest type it has.
DIAGNOSIS_TYPE_FOR_PROFILE: dict[str, dict[str, tuple[str, str]]] = {
    "inpatient-institutional": {"secondary": _OTHER, "patientreasonforvisit": _OTHER},
    "outpatient-institutional": {"secondary": _OTHER, "admitting": _OTHER},
    "professional-nonclinician": {
        "other": _SECONDARY,
        "admitting": _SECONDARY,
        "externalcauseofinjury": _SECONDARY,
        "patientreasonforvisit": _SECONDARY,
    },
    "oral": {
        "other": _SECONDARY,
        "admitting": _SECONDARY,
        "externalcauseofinjury": _SECONDARY,
        "patientreasonforvisit": _SECONDARY,
    },
}


def _diagnosis_type(profile_key: str, system: str, code: str) -> dict[str, Any]:
    system, code = DIAGNOSIS_TYPE_FOR_PROFILE.get(profile_key, {}).get(code, (system, code))
    return concept(system, code)


def diagnoses(record: Record) -> list[dict[str, Any]]:
    inpatient = record["profile_key"] == "inpatient-institutional"
    entries = []
    for code in record.get("diagnoses") or []:
        entry: dict[str, Any] = {
            "sequence": code["sequence"],
            "diagnosisCodeableConcept": concept(sy.ICD10CM, code["code"]),
            "type": [
                _diagnosis_type(record["profile_key"], code["type_system"], code["type_code"])
            ],
        }
        if inpatient and code.get("present_on_admission_code"):
            entry["onAdmission"] = concept(
                f"{sy.NUBC}/PresentOnAdmissionIndicator", code["present_on_admission_code"]
            )
        entries.append(entry)
    return entries


def procedures(record: Record) -> list[dict[str, Any]]:
    entries = []
    for code in record.get("procedures") or []:
        entry: dict[str, Any] = {
            "sequence": code["sequence"],
            "type": [
                concept(sy.C4BB_PROCEDURE_TYPE, "principal" if code["sequence"] == 1 else "other")
            ],
            "procedureCodeableConcept": concept(sy.ICD10PCS, code["code"]),
        }
        if code.get("procedure_date"):
            entry["date"] = code["procedure_date"].isoformat()
        entries.append(entry)
    return entries


def _modifier(code: str) -> dict[str, Any]:
    # Numeric modifiers (25, 59, 26) are CPT's; alphanumeric ones (LT, RT, GT) are HCPCS Level II.
    system = sy.CPT if code.isdigit() else sy.HCPCS
    return concept(system, code)


def _serviced(line: Record) -> dict[str, Any]:
    start, end = line["service_from_date"], line.get("service_to_date")
    if end and end != start:
        return {"servicedPeriod": {"start": start.isoformat(), "end": end.isoformat()}}
    return {"servicedDate": start.isoformat()}


def _product(line: Record) -> dict[str, Any]:
    if line.get("procedure_code"):
        return concept(line["procedure_system"], line["procedure_code"])
    # Institutional room-and-board lines carry only a revenue code; CARIN asks for this marker.
    return concept(
        "http://terminology.hl7.org/CodeSystem/data-absent-reason",
        "not-applicable",
        "Not Applicable",
    )


def _line_adjudication(line: Record, record: Record) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    if record["profile_key"] in ("professional-nonclinician", "oral"):
        entries.append(_status_adjudication("benefitpaymentstatus", record["network_status"]))
    entries.extend(amount_adjudications({**line, "payee_code": record.get("payee_code")}))
    if line.get("allowed_units") is not None:
        entries.append(
            {
                "category": concept(sy.C4BB_ADJUDICATION_DISCRIMINATOR, "allowedunits"),
                "value": line["allowed_units"],
            }
        )
    if line.get("denial_reason_code"):
        entries.append(_denial_adjudication(line["denial_reason_code"], pharmacy=False))
    return entries


def _note_numbers(record: Record, line_number: int) -> list[int]:
    return [
        note["note_number"]
        for note in record.get("notes") or []
        if note.get("line_number") == line_number
    ]


def process_notes(record: Record) -> list[dict[str, Any]]:
    """The payer's remarks on the claim; line remarks are also linked from item.noteNumber."""
    return [
        {"number": note["note_number"], "text": note["note_text"]}
        for note in record.get("notes") or []
    ]


def medical_item(
    line: Record,
    record: Record,
    links: dict[int, list[int]] | None = None,
    at_header: bool = False,
) -> dict[str, Any]:
    """One service line; on a claim adjudicated at the header the line has no adjudication,
    since CARIN lets a line adjudication exist only beside an amount."""
    item: dict[str, Any] = {"sequence": line["line_number"]}
    if linked := (links or {}).get(line["line_number"]):
        item["informationSequence"] = linked
    if line.get("revenue_code"):
        item["revenue"] = concept(f"{sy.NUBC}/RevenueCodes", line["revenue_code"])
    item["productOrService"] = _product(line)
    modifiers = [line[f"modifier_{n}"] for n in range(1, 5) if line.get(f"modifier_{n}")]
    if modifiers:
        item["modifier"] = [_modifier(code) for code in modifiers]
    item.update(_serviced(line))
    place = line.get("place_of_service_code") or record.get("place_of_service_code")
    if place and record["profile_key"] in ("professional-nonclinician", "oral"):
        item["locationCodeableConcept"] = concept(sy.POS, place)
    item["quantity"] = {"value": line["units"]}
    if line.get("tooth_number"):
        item["bodySite"] = concept(sy.TOOTH, line["tooth_number"])
        if line.get("tooth_surface"):
            item["subSite"] = [concept(sy.C4BB_SURFACE, s) for s in line["tooth_surface"]]
    if notes := _note_numbers(record, line["line_number"]):
        item["noteNumber"] = notes
    if not at_header:
        item["adjudication"] = _line_adjudication(line, record)
    return item


def pharmacy_item(record: Record) -> dict[str, Any]:
    item: dict[str, Any] = {"sequence": 1}
    ingredients = record.get("ingredients") or []
    if record["compound_code"] == "2":
        item["productOrService"] = concept(sy.C4BB_COMPOUND_LITERAL, "compound", "Compound")
        item["detail"] = [
            {
                "sequence": ingredient["ingredient_number"],
                "productOrService": concept(sy.NDC, ingredient["ndc"]),
                "quantity": {"value": ingredient["quantity"]},
            }
            for ingredient in ingredients
        ]
    else:
        item["productOrService"] = concept(sy.NDC, record["ndc"])
    item["servicedDate"] = record["fill_date"].isoformat()
    item["quantity"] = {"value": record["quantity"]}
    if notes := _note_numbers(record, 1):
        item["noteNumber"] = notes
    adjudication = amount_adjudications(record)
    if record.get("denial_reason_code"):
        adjudication.append(_denial_adjudication(record["denial_reason_code"], pharmacy=True))
    item["adjudication"] = adjudication
    return item


def adjudicated_at_header(record: Record) -> bool:
    """An institutional claim whose lines carry no amounts (a DRG or case-rate payment).

    CARIN's institutional profiles put amounts on the header or on the lines, never both."""
    return record["profile_key"].endswith("institutional") and not any(
        amount_adjudications(line) for line in record.get("lines") or []
    )


def header_adjudication(record: Record) -> list[dict[str, Any]]:
    network = record["network_status"]
    rendering = record.get("rendering_network_status")
    entries = [_status_adjudication("billingnetworkstatus", network)]
    if record["profile_key"] == "oral" or (
        rendering and record["profile_key"] == "professional-nonclinician"
    ):
        entries.append(_status_adjudication("renderingnetworkstatus", rendering or network))
    if record["profile_key"] not in ("professional-nonclinician",):
        entries.append(_status_adjudication("benefitpaymentstatus", network))
    if record.get("denial_reason_code") and record["profile_key"] != "pharmacy":
        entries.append(_denial_adjudication(record["denial_reason_code"], pharmacy=False))
    if adjudicated_at_header(record):
        entries.extend(amount_adjudications(record))
    return entries


def payment(record: Record) -> dict[str, Any]:
    if record["status"] == "denied":
        status = "denied"
    elif record.get("has_denied_line"):
        status = "partiallypaid"
    else:
        status = "paid"
    entry: dict[str, Any] = {"type": concept(sy.C4BB_PAYER_ADJUDICATION_STATUS, status)}
    if record.get("paid_date"):
        entry["date"] = record["paid_date"].isoformat()
    if record.get("paid_amount") is not None:
        entry["amount"] = money(record["paid_amount"])
    return entry


def related(record: Record) -> list[dict[str, Any]]:
    """Links between an adjusted claim and the claim it replaces, by claim identifier."""
    links = []
    if record.get("original_claim_id") and record["status"] == "adjusted":
        links.append(
            {
                "relationship": concept(sy.RELATED_CLAIM, "prior"),
                "reference": _claim_identifier(record["original_claim_id"]),
            }
        )
    if record.get("replaced_by"):
        links.append(
            {
                "relationship": concept(sy.C4BB_RELATED_CLAIM, "replacedby"),
                "reference": _claim_identifier(record["replaced_by"]),
            }
        )
    return links


def _claim_identifier(claim_id: str) -> dict[str, Any]:
    return {
        "type": concept(sy.C4BB_IDENTIFIER_TYPE, "uc", "Unique Claim ID"),
        "system": sy.CLAIM_ID_SYSTEM,
        "value": claim_id,
    }


def eob_status(record: Record) -> str:
    """Reversed claims and claims an adjustment replaced are withdrawn; the rest are active."""
    return "cancelled" if record["status"] == "reversed" or record.get("replaced_by") else "active"


def _billable_period(record: Record) -> dict[str, str]:
    start = record.get("statement_from_date") or record["fill_date"]
    period = {"start": start.isoformat()}
    end = record.get("statement_to_date")
    if end:
        period["end"] = end.isoformat()
    return period


def _payee(record: Record, ids: IdMaker) -> dict[str, Any] | None:
    if not record.get("payee_code"):
        return None
    payee: dict[str, Any] = {"type": concept(record["payee_system"], record["payee_code"])}
    if record["payee_code"] == "provider":
        payee["party"] = ids.reference(record["billing_type"], provider_key(record["billing_npi"]))
    else:
        payee["party"] = ids.reference("Patient", patient_key(record["member_id"]))
    return payee


def _claim_provider(record: Record, ids: IdMaker) -> dict[str, str]:
    """The billing provider; CARIN's Oral profile admits only a Practitioner there, so a dental
    group's claim names its rendering dentist instead."""
    if (
        record["profile_key"] == "oral"
        and record["billing_type"] != "Practitioner"
        and record.get("rendering_provider_type") == "Practitioner"
    ):
        return ids.reference("Practitioner", provider_key(record["rendering_provider_npi"]))
    return ids.reference(record["billing_type"], provider_key(record["billing_npi"]))


def build_eob(record: Record, ids: IdMaker, last_updated: str) -> Resource:
    """One CARIN BB ExplanationOfBenefit of the profile named by record['profile_key']."""
    profile_key = record["profile_key"]
    claim_type, sub_type = CLAIM_TYPES[profile_key]
    eob: Resource = {
        "resourceType": "ExplanationOfBenefit",
        "id": ids("ExplanationOfBenefit", record["claim_id"]),
        "meta": meta(sy.EOB_PROFILES[profile_key], last_updated),
        "identifier": [_claim_identifier(record["claim_id"])],
        "status": eob_status(record),
        "type": concept(sy.CLAIM_TYPE, claim_type),
    }
    if sub_type:
        eob["subType"] = concept(sy.C4BB_INSTITUTIONAL_SUBTYPE, sub_type)
    eob.update(
        {
            "use": "claim",
            "patient": ids.reference("Patient", patient_key(record["member_id"])),
            "billablePeriod": _billable_period(record),
            "created": record["adjudicated_date"].isoformat(),
            "insurer": ids.reference("Organization", payer_key(record["payer_id"])),
            "provider": _claim_provider(record, ids),
        }
    )
    _add_optional(eob, "related", related(record))
    _add_optional(eob, "payee", _payee(record, ids))
    eob["outcome"] = "complete"
    _add_optional(eob, "careTeam", care_team(record, ids))
    eob["supportingInfo"], links = supporting_info(record, ids)
    _add_optional(eob, "diagnosis", diagnoses(record))
    _add_optional(eob, "procedure", procedures(record))
    coverage = coverage_key(record["member_id"], record["plan_id"], record["coverage_start_date"])
    eob["insurance"] = [{"focal": True, "coverage": ids.reference("Coverage", coverage)}]
    eob["item"] = _items(record, links)
    eob["adjudication"] = header_adjudication(record)
    eob["total"] = amount_adjudications(record)
    eob["payment"] = payment(record)
    _add_optional(eob, "processNote", process_notes(record))
    return eob


def _items(record: Record, links: dict[int, list[int]]) -> list[dict[str, Any]]:
    if record["profile_key"] == "pharmacy":
        return [pharmacy_item(record)]
    at_header = adjudicated_at_header(record)
    return [medical_item(line, record, links, at_header) for line in record["lines"]]


def _add_optional(resource: Resource, key: str, value: Any) -> None:
    if value:
        resource[key] = value
