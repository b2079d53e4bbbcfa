"""Provider builders: an NPI entity 1 becomes a C4BB Practitioner, entity 2 a C4BB Organization."""

import orjson

from pipelines.fhir.build import dumps
from pipelines.fhir.claim_providers import build_provider
from pipelines.fhir.ids import IdMaker
from pipelines.fhir.validation import validate

IDS = IdMaker.from_secret("test-key")
NOW = "2026-12-04T07:00:00+00:00"
ADDRESS = {"address_line1": "12 Elm St", "city": "Rochester", "state": "NY", "postal_code": "14618"}


def _valid(resource: dict) -> dict:
    parsed = orjson.loads(dumps(resource))
    assert validate(parsed) == []
    return parsed


def test_individual_npi_is_a_practitioner_with_taxonomy_qualification() -> None:
    practitioner = _valid(
        build_provider(
            {"npi": "1234567893", "entity_type_code": "1", "last_name": "Okafor",
             "first_name": "Ada", "credential": "MD", "taxonomy_code": "207Q00000X", **ADDRESS},
            IDS, NOW,
        )
    )  # fmt: skip
    assert practitioner["resourceType"] == "Practitioner"
    assert practitioner["identifier"][0]["system"] == "http://hl7.org/fhir/sid/us-npi"
    assert practitioner["name"][0] == {"family": "Okafor", "given": ["Ada"], "suffix": ["MD"]}
    assert practitioner["qualification"][0]["code"]["coding"][0]["code"] == "207Q00000X"
    assert practitioner["id"] == IDS("Practitioner", "npi|1234567893")


def test_organization_npi_carries_its_tax_id() -> None:
    organization = _valid(
        build_provider(
            {"npi": "1245319599", "entity_type_code": "2", "organization_name": "Lakeside Hospital",
             "tax_id": "161234567", "phone": "585-555-0100", **ADDRESS},
            IDS, NOW,
        )
    )  # fmt: skip
    assert organization["resourceType"] == "Organization"
    assert organization["name"] == "Lakeside Hospital"
    types = [i["type"]["coding"][0]["code"] for i in organization["identifier"]]
    assert types == ["NPI", "TAX"]
    assert organization["telecom"][0]["value"] == "585-555-0100"
