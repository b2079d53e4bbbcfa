"""Small valid resources built in code, so these tests run without the IG folder."""

from __future__ import annotations

C4BB = "http://hl7.org/fhir/us/carin-bb"
PLANNET = "http://hl7.org/fhir/us/davinci-pdex-plan-net"
USDF = "http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition"


def c4bb_organization() -> dict:
    return {
        "resourceType": "Organization",
        "id": "payer-1",
        "meta": {
            "lastUpdated": "2024-01-01T00:00:00Z",
            "profile": [f"{C4BB}/StructureDefinition/C4BB-Organization|2.0.0"],
        },
        "identifier": [
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NPI"}
                    ]
                },
                "system": "http://hl7.org/fhir/sid/us-npi",
                "value": "1234567893",
            }
        ],
        "active": True,
        "name": "Example Health Plan",
        "address": [
            {"line": ["1 Main St"], "city": "Hartford", "state": "CT", "postalCode": "06101"}
        ],
    }


def c4bb_practitioner() -> dict:
    return {
        "resourceType": "Practitioner",
        "id": "pr-1",
        "meta": {
            "lastUpdated": "2024-01-01T00:00:00Z",
            "profile": [f"{C4BB}/StructureDefinition/C4BB-Practitioner|2.0.0"],
        },
        "identifier": [
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NPI"}
                    ]
                },
                "system": "http://hl7.org/fhir/sid/us-npi",
                "value": "9941339108",
            }
        ],
        "name": [{"family": "Smith", "given": ["Jo"]}],
    }
