"""The FHIR APIs the store serves: which resources each base URL publishes, under which IG.

One store holds every domain; an API is a view of it. A resource belongs to an API when its
domain is one the API publishes and its first `meta.profile` is one of the API's profiles for
its type: the Formulary STU1 and STU2 MedicationKnowledge share a type and a domain and are told
apart by their versioned profile, and Plan-Net's Organization is not CARIN's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_CARIN = "http://hl7.org/fhir/us/carin-bb/StructureDefinition"
_PLAN_NET = "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition"
_USDF = "http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition"


@dataclass(frozen=True)
class Api:
    """One FHIR base: its path, its IG and the profiles it serves per resource type."""

    name: str
    path: str
    title: str
    ig_package: str  # folder under the IG directory (INTEROP_IG_DIR), e.g. hl7.fhir.us.carin-bb
    ig_version: str
    instantiates: str  # the IG CapabilityStatement canonical, exactly as suites compare it
    domains: frozenset[str]
    profiles: dict[str, tuple[str, ...]] = field(default_factory=dict)  # type -> versioned URLs
    protected: bool = False

    @property
    def resource_types(self) -> list[str]:
        return sorted(self.profiles)

    def serves(self, resource: dict[str, Any], domain: str) -> bool:
        """Whether a stored resource of `domain` is part of this API."""
        if domain not in self.domains:
            return False
        profiles = (resource.get("meta") or {}).get("profile") or []
        return bool(profiles) and profiles[0] in self.profiles.get(resource["resourceType"], ())

    def unversioned_profiles(self, resource_type: str) -> list[str]:
        return [p.partition("|")[0] for p in self.profiles.get(resource_type, ())]


def _versioned(base: str, version: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{base}/{name}|{version}" for name in names)


_EOB = _versioned(
    _CARIN,
    "2.0.0",
    "C4BB-ExplanationOfBenefit-Inpatient-Institutional",
    "C4BB-ExplanationOfBenefit-Outpatient-Institutional",
    "C4BB-ExplanationOfBenefit-Professional-NonClinician",
    "C4BB-ExplanationOfBenefit-Oral",
    "C4BB-ExplanationOfBenefit-Pharmacy",
)

PATIENT_ACCESS = Api(
    name="patient-access",
    path="/patient-access",
    title="Patient Access API (CARIN Blue Button 2.0.0)",
    ig_package="hl7.fhir.us.carin-bb",
    ig_version="2.0.0",
    instantiates="http://hl7.org/fhir/us/carin-bb/CapabilityStatement/c4bb",
    domains=frozenset({"members", "claims"}),
    profiles={
        "ExplanationOfBenefit": _EOB,
        "Coverage": _versioned(_CARIN, "2.0.0", "C4BB-Coverage"),
        "Patient": _versioned(_CARIN, "2.0.0", "C4BB-Patient"),
        "Organization": _versioned(_CARIN, "2.0.0", "C4BB-Organization"),
        "Practitioner": _versioned(_CARIN, "2.0.0", "C4BB-Practitioner"),
        "RelatedPerson": _versioned(_CARIN, "2.0.0", "C4BB-RelatedPerson"),
    },
    protected=True,
)

PROVIDER_DIRECTORY = Api(
    name="provider-directory",
    path="/provider-directory",
    title="Provider Directory API (Da Vinci PDex Plan-Net 1.1.0)",
    ig_package="hl7.fhir.us.davinci-pdex-plan-net",
    ig_version="1.1.0",
    instantiates="http://hl7.org/fhir/us/davinci-pdex-plan-net/CapabilityStatement/plan-net",
    domains=frozenset({"directory"}),
    profiles={
        "Endpoint": _versioned(_PLAN_NET, "1.1.0", "plannet-Endpoint"),
        "HealthcareService": _versioned(_PLAN_NET, "1.1.0", "plannet-HealthcareService"),
        "InsurancePlan": _versioned(_PLAN_NET, "1.1.0", "plannet-InsurancePlan"),
        "Location": _versioned(_PLAN_NET, "1.1.0", "plannet-Location"),
        "Organization": _versioned(_PLAN_NET, "1.1.0", "plannet-Organization", "plannet-Network"),
        "OrganizationAffiliation": _versioned(
            _PLAN_NET, "1.1.0", "plannet-OrganizationAffiliation"
        ),
        "Practitioner": _versioned(_PLAN_NET, "1.1.0", "plannet-Practitioner"),
        "PractitionerRole": _versioned(_PLAN_NET, "1.1.0", "plannet-PractitionerRole"),
    },
)

FORMULARY = Api(
    name="formulary",
    path="/formulary",
    title="Formulary API (Da Vinci US Drug Formulary 2.0.1)",
    ig_package="hl7.fhir.us.davinci-drug-formulary",
    ig_version="2.0.1",
    instantiates="http://hl7.org/fhir/us/davinci-drug-formulary/CapabilityStatement/usdf-server",
    domains=frozenset({"formulary"}),
    profiles={
        "Basic": _versioned(_USDF, "2.0.1", "usdf-FormularyItem"),
        "InsurancePlan": _versioned(_USDF, "2.0.1", "usdf-PayerInsurancePlan", "usdf-Formulary"),
        "Location": _versioned(_USDF, "2.0.1", "usdf-InsurancePlanLocation"),
        "MedicationKnowledge": _versioned(_USDF, "2.0.1", "usdf-FormularyDrug"),
    },
)

FORMULARY_STU1 = Api(
    name="formulary-stu1",
    path="/formulary-stu1",
    title="Formulary API, STU1 shape (Da Vinci US Drug Formulary 1.1.0)",
    ig_package="hl7.fhir.us.davinci-drug-formulary",
    ig_version="1.1.0",
    instantiates="http://hl7.org/fhir/us/davinci-drug-formulary/CapabilityStatement/usdf-server",
    domains=frozenset({"formulary"}),
    profiles={
        "List": _versioned(_USDF, "1.1.0", "usdf-CoveragePlan"),
        "MedicationKnowledge": _versioned(_USDF, "1.1.0", "usdf-FormularyDrug"),
    },
)

APIS: tuple[Api, ...] = (PATIENT_ACCESS, PROVIDER_DIRECTORY, FORMULARY, FORMULARY_STU1)
APIS_BY_NAME = {api.name: api for api in APIS}
