"""Resource validation for the pipeline: R4 structure (fhir.resources R4B) plus the CARIN BB rules.

The CARIN rules here are the ones the builders could get wrong; the compiled profile engine
(pipelines.conformance) takes over once it checks every profile rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

Resource = dict[str, Any]


@dataclass(frozen=True)
class ProfileRule:
    """`holds(resource)` must be true for resources whose meta.profile contains `profile_part`."""

    profile_part: str
    path: str
    message: str
    holds: Callable[[Resource], bool]


def _codes(concept: dict | None) -> set[str]:
    return {coding.get("code") for coding in (concept or {}).get("coding", [])}


def _has_info(resource: Resource, category: str) -> bool:
    return any(category in _codes(i.get("category")) for i in resource.get("supportingInfo", []))


def _adjudication_codes(entries: list[dict]) -> set[str]:
    return set().union(*(_codes(entry.get("category")) for entry in entries)) if entries else set()


_AMOUNT_CODES = {
    "submitted", "copay", "eligible", "deductible", "benefit", "coinsurance", "noncovered",
    "priorpayerpaid", "paidbypatient", "paidtoprovider", "paidtopatient", "memberliability",
    "discount", "drugcost",
}  # fmt: skip


def _items_have(resource: Resource, code: str) -> bool:
    return all(
        code in _adjudication_codes(i.get("adjudication", [])) for i in resource.get("item", [])
    )


def _items_have_amounts(resource: Resource) -> bool:
    return all(
        _adjudication_codes(i.get("adjudication", [])) & _AMOUNT_CODES
        for i in resource.get("item", [])
    )


def _care_team_types(resource: Resource, roles: set[str], resource_type: str) -> bool:
    return all(
        member["provider"]["reference"].startswith(f"{resource_type}/")
        for member in resource.get("careTeam", [])
        if _codes(member.get("role")) & roles
    )


EOB = "C4BB-ExplanationOfBenefit"
PROFILE_RULES: tuple[ProfileRule, ...] = (
    ProfileRule("C4BB-", "meta.lastUpdated", "meta.lastUpdated is required",
                lambda r: bool(r.get("meta", {}).get("lastUpdated"))),
    ProfileRule("C4BB-", "meta.profile", "meta.profile must carry the CARIN version (|2.0.x)",
                lambda r: any("|2.0." in p for p in r.get("meta", {}).get("profile", []))),
    ProfileRule(EOB, "ExplanationOfBenefit.identifier", "a unique claim identifier (type uc) is required",
                lambda r: any("uc" in _codes(i.get("type")) for i in r.get("identifier", []))),
    ProfileRule(EOB, "ExplanationOfBenefit.insurance", "exactly one insurance must be focal",
                lambda r: sum(1 for i in r.get("insurance", []) if i.get("focal") is True) == 1),
    ProfileRule(EOB, "ExplanationOfBenefit.total", "at least one total with an amount category",
                lambda r: bool(_adjudication_codes(r.get("total", [])) & _AMOUNT_CODES)),
    ProfileRule(EOB, "ExplanationOfBenefit.item", "at least one item is required",
                lambda r: bool(r.get("item"))),
    ProfileRule(EOB, "ExplanationOfBenefit.supportingInfo.sequence", "sequences must be unique",
                lambda r: len({i["sequence"] for i in r.get("supportingInfo", [])})
                == len(r.get("supportingInfo", []))),
    ProfileRule("Inpatient", "ExplanationOfBenefit.supportingInfo:admissionperiod",
                "the admission period is required", lambda r: _has_info(r, "admissionperiod")),
    ProfileRule("Institutional", "ExplanationOfBenefit.diagnosis", "at least one diagnosis",
                lambda r: bool(r.get("diagnosis"))),
    ProfileRule("Institutional", "ExplanationOfBenefit.adjudication:benefitpaymentstatus",
                "benefit payment status is required",
                lambda r: "benefitpaymentstatus" in _adjudication_codes(r.get("adjudication", []))),
    ProfileRule("Inpatient", "ExplanationOfBenefit.item.revenue", "every item needs a revenue code",
                lambda r: all(i.get("revenue") for i in r.get("item", []))),
    ProfileRule("Institutional", "ExplanationOfBenefit.careTeam",
                "attending and referring care team members must be Practitioners",
                lambda r: _care_team_types(r, {"attending", "referring"}, "Practitioner")),
    ProfileRule("Professional", "ExplanationOfBenefit.diagnosis", "at least one diagnosis",
                lambda r: bool(r.get("diagnosis"))),
    ProfileRule("Professional", "ExplanationOfBenefit.careTeam",
                "rendering and referring care team members must be Practitioners",
                lambda r: _care_team_types(r, {"rendering", "referring"}, "Practitioner")),
    ProfileRule("Professional", "ExplanationOfBenefit.item.adjudication:benefitpaymentstatus",
                "every item needs a benefit payment status",
                lambda r: _items_have(r, "benefitpaymentstatus")),
    ProfileRule("Oral", "ExplanationOfBenefit.item.adjudication:benefitpaymentstatus",
                "every item needs a benefit payment status",
                lambda r: _items_have(r, "benefitpaymentstatus")),
    ProfileRule("Oral", "ExplanationOfBenefit.adjudication:renderingnetworkstatus",
                "rendering network status is required",
                lambda r: "renderingnetworkstatus" in _adjudication_codes(r.get("adjudication", []))),
    ProfileRule("Professional", "ExplanationOfBenefit.item.locationCodeableConcept",
                "every item needs a place of service",
                lambda r: all(i.get("locationCodeableConcept") for i in r.get("item", []))),
    ProfileRule("Oral", "ExplanationOfBenefit.item.locationCodeableConcept",
                "every item needs a place of service",
                lambda r: all(i.get("locationCodeableConcept") for i in r.get("item", []))),
    ProfileRule("Pharmacy", "ExplanationOfBenefit.supportingInfo:dayssupply", "days supply is required",
                lambda r: _has_info(r, "dayssupply")),
    ProfileRule("Pharmacy", "ExplanationOfBenefit.supportingInfo:dawcode", "DAW code is required",
                lambda r: _has_info(r, "dawcode")),
    ProfileRule("Pharmacy", "ExplanationOfBenefit.item.adjudication", "every item needs amounts",
                _items_have_amounts),
    ProfileRule("C4BB-Patient", "Patient.identifier:memberid", "a member identifier (type MB) is required",
                lambda r: any("MB" in _codes(i.get("type")) for i in r.get("identifier", []))),
    ProfileRule("C4BB-Coverage", "Coverage.payor", "exactly one payor is required",
                lambda r: len(r.get("payor", [])) == 1),
    ProfileRule("C4BB-Practitioner", "Practitioner.identifier", "an NPI or TAX identifier is required",
                lambda r: any(_codes(i.get("type")) & {"NPI", "TAX"} for i in r.get("identifier", []))),
    ProfileRule("C4BB-Practitioner", "Practitioner.name.family", "a family name is required",
                lambda r: all(n.get("family") for n in r.get("name", [])) and bool(r.get("name"))),
    ProfileRule("C4BB-Organization", "Organization.name", "name and active are required",
                lambda r: bool(r.get("name")) and r.get("active") is not None),
    ProfileRule("C4BB-RelatedPerson", "RelatedPerson", "a name or a relationship is required",
                lambda r: bool(r.get("name") or r.get("relationship"))),
)  # fmt: skip


def _structural_issues(resource: Resource) -> list[str]:
    try:
        model = get_fhir_model_class(resource["resourceType"])
        model.model_validate(resource)
    except (KeyError, ValueError) as error:
        errors = error.errors() if isinstance(error, ValidationError) else None
        if not errors:
            return [f"{resource.get('resourceType', 'resource')}: {error}"]
        return [
            f"{resource['resourceType']}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in errors[:10]
        ]
    return []


def validate(resource: Resource) -> list[str]:
    """Every problem found, as 'path: message (profile)'; empty means valid."""
    issues = _structural_issues(resource)
    profiles = resource.get("meta", {}).get("profile", [])
    for rule in PROFILE_RULES:
        profile = next((p for p in profiles if rule.profile_part in p), None)
        if profile and not rule.holds(resource):
            issues.append(f"{rule.path}: {rule.message} ({profile.split('/')[-1]})")
    return issues
