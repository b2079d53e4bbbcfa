"""Builders for the providers claims refer to: C4BB Practitioner (NPI entity 1) and Organization (2)."""

from __future__ import annotations

from typing import Any

from pipelines.fhir import systems as sy
from pipelines.fhir.ids import IdMaker
from pipelines.fhir.members import concept, meta

Record = dict[str, Any]
Resource = dict[str, Any]

INDIVIDUAL = "1"


def provider_key(npi: str) -> str:
    return f"npi|{npi}"


def provider_type(entity_type_code: str | None) -> str:
    return "Practitioner" if entity_type_code == INDIVIDUAL else "Organization"


def _identifiers(provider: Record) -> list[dict[str, Any]]:
    """The NPI, and the federal tax id when the roster has one (an individual's own EIN)."""
    identifiers = [{"type": concept(sy.V2_0203, "NPI"), "system": sy.NPI, "value": provider["npi"]}]
    if provider.get("tax_id"):
        identifiers.append(
            {"type": concept(sy.V2_0203, "TAX"), "system": sy.TAX_ID, "value": provider["tax_id"]}
        )
    return identifiers


def _address(provider: Record) -> list[dict[str, Any]]:
    if not provider.get("address_line1"):
        return []
    address = {"use": "work", "line": [provider["address_line1"]]}
    for key, field in (("city", "city"), ("state", "state"), ("postalCode", "postal_code")):
        if provider.get(field):
            address[key] = provider[field]
    return [{**address, "country": "US"}]


def _contact(provider: Record) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if provider.get("phone"):
        extra["telecom"] = [{"system": "phone", "value": provider["phone"], "use": "work"}]
    if address := _address(provider):
        extra["address"] = address
    return extra


def build_practitioner(provider: Record, ids: IdMaker, last_updated: str) -> Resource:
    """C4BB Practitioner for an individual NPI, with its NUCC taxonomy as qualification."""
    name: dict[str, Any] = {"family": provider["last_name"]}
    if provider.get("first_name"):
        name["given"] = [provider["first_name"]]
    if provider.get("credential"):
        name["suffix"] = [provider["credential"]]
    practitioner: Resource = {
        "resourceType": "Practitioner",
        "id": ids("Practitioner", provider_key(provider["npi"])),
        "meta": meta(sy.PRACTITIONER_PROFILE, last_updated),
        "identifier": _identifiers(provider),
        "active": True,
        "name": [name],
        **_contact(provider),
    }
    if provider.get("taxonomy_code"):
        practitioner["qualification"] = [{"code": concept(sy.NUCC, provider["taxonomy_code"])}]
    return practitioner


def build_provider_organization(provider: Record, ids: IdMaker, last_updated: str) -> Resource:
    """C4BB Organization for an organizational NPI (facility, group, pharmacy), with its TIN."""
    return {
        "resourceType": "Organization",
        "id": ids("Organization", provider_key(provider["npi"])),
        "meta": meta(sy.ORGANIZATION_PROFILE, last_updated),
        "identifier": _identifiers(provider),
        "active": True,
        "type": [concept("http://terminology.hl7.org/CodeSystem/organization-type", "prov")],
        "name": provider.get("organization_name") or provider.get("last_name") or provider["npi"],
        **_contact(provider),
    }


def build_provider(provider: Record, ids: IdMaker, last_updated: str) -> Resource:
    if provider_type(provider.get("entity_type_code")) == "Practitioner":
        return build_practitioner(provider, ids, last_updated)
    return build_provider_organization(provider, ids, last_updated)
