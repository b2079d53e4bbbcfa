"""Code systems, identifier systems and profile canonicals used by the builders."""

from __future__ import annotations

import os

CARIN_VERSION = "2.0.0"
_C4BB = "http://hl7.org/fhir/us/carin-bb"


def c4bb_profile(name: str) -> str:
    """The versioned canonical CARIN's meta-profile-version invariants ask for."""
    return f"{_C4BB}/StructureDefinition/C4BB-{name}|{CARIN_VERSION}"


EOB_PROFILES = {
    "inpatient-institutional": c4bb_profile("ExplanationOfBenefit-Inpatient-Institutional"),
    "outpatient-institutional": c4bb_profile("ExplanationOfBenefit-Outpatient-Institutional"),
    "professional-nonclinician": c4bb_profile("ExplanationOfBenefit-Professional-NonClinician"),
    "oral": c4bb_profile("ExplanationOfBenefit-Oral"),
    "pharmacy": c4bb_profile("ExplanationOfBenefit-Pharmacy"),
}
PATIENT_PROFILE = c4bb_profile("Patient")
COVERAGE_PROFILE = c4bb_profile("Coverage")
ORGANIZATION_PROFILE = c4bb_profile("Organization")
PRACTITIONER_PROFILE = c4bb_profile("Practitioner")
RELATED_PERSON_PROFILE = c4bb_profile("RelatedPerson")

C4BB_IDENTIFIER_TYPE = f"{_C4BB}/CodeSystem/C4BBIdentifierType"
C4BB_ADJUDICATION = f"{_C4BB}/CodeSystem/C4BBAdjudication"
C4BB_ADJUDICATION_DISCRIMINATOR = f"{_C4BB}/CodeSystem/C4BBAdjudicationDiscriminator"
C4BB_PAYER_ADJUDICATION_STATUS = f"{_C4BB}/CodeSystem/C4BBPayerAdjudicationStatus"
C4BB_SUPPORTING_INFO_TYPE = f"{_C4BB}/CodeSystem/C4BBSupportingInfoType"
C4BB_CARE_TEAM_ROLE = f"{_C4BB}/CodeSystem/C4BBClaimCareTeamRole"
C4BB_INSTITUTIONAL_SUBTYPE = f"{_C4BB}/CodeSystem/C4BBInstitutionalClaimSubType"
C4BB_DIAGNOSIS_TYPE = f"{_C4BB}/CodeSystem/C4BBClaimDiagnosisType"
C4BB_PROCEDURE_TYPE = f"{_C4BB}/CodeSystem/C4BBClaimProcedureType"
C4BB_RELATED_CLAIM = f"{_C4BB}/CodeSystem/C4BBRelatedClaimRelationshipCodes"
C4BB_COMPOUND_LITERAL = f"{_C4BB}/CodeSystem/C4BBCompoundLiteral"
C4BB_SURFACE = f"{_C4BB}/CodeSystem/C4BBSurfaceCodes"

ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
CARE_TEAM_ROLE = "http://terminology.hl7.org/CodeSystem/claimcareteamrole"
RELATED_CLAIM = "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
NDC = "http://hl7.org/fhir/sid/ndc"
NPI = "http://hl7.org/fhir/sid/us-npi"
TAX_ID = "urn:oid:2.16.840.1.113883.4.4"
NUCC = "http://nucc.org/provider-taxonomy"
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
MS_DRG = (
    "https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/AcuteInpatientPPS/"
    "MS-DRG-Classifications-and-Software"
)
NUBC = "https://www.nubc.org/CodeSystem"
NCPDP = "http://terminology.hl7.org/CodeSystem"
TOOTH = "http://terminology.hl7.org/CodeSystem/ADAUniversalToothDesignationSystem"
LANGUAGE = "urn:ietf:bcp:47"
CDC_RACE_ETHNICITY = "urn:oid:2.16.840.1.113883.6.238"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
NAIC = "urn:oid:2.16.840.1.113883.6.300"
UCUM = "http://unitsofmeasure.org"
AREA_ORAL_CAVITY = "http://terminology.hl7.org/CodeSystem/ADAAreaOralCavitySystem"
_US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition"
US_CORE_RACE = f"{_US_CORE}/us-core-race"
US_CORE_ETHNICITY = f"{_US_CORE}/us-core-ethnicity"
US_CORE_BIRTH_SEX = f"{_US_CORE}/us-core-birthsex"

# Identifier systems are the plan's own namespaces: set INTEROP_IDENTIFIER_BASE to a URL the plan
# controls (the default names this product, so that development data never claims a real plan).
IDENTIFIER_BASE = os.environ.get("INTEROP_IDENTIFIER_BASE", "https://payer-interop.example.org/sid")
CLAIM_ID_SYSTEM = f"{IDENTIFIER_BASE}/claim-id"
MEMBER_ID_SYSTEM = f"{IDENTIFIER_BASE}/member-id"
UNIQUE_MEMBER_ID_SYSTEM = f"{IDENTIFIER_BASE}/unique-member-id"
PAYER_ID_SYSTEM = f"{IDENTIFIER_BASE}/payer-id"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V3_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
SERVICE_TYPE = "http://terminology.hl7.org/CodeSystem/service-type"
