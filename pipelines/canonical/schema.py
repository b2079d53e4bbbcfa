"""The canonical record kinds: the fields every source layout must map onto, with their types.

A payer's layout file (mappings/sources) maps its own columns to these names; the code below
the raw stage only ever sees canonical field names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FieldType(StrEnum):
    """How a canonical field is parsed and checked in the staged stage."""

    STRING = "string"
    CODE = "code"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    NPI = "npi"
    NDC11 = "ndc11"


@dataclass(frozen=True)
class CanonicalField:
    name: str
    type: FieldType
    required: bool = False


def _fields(
    *specs: tuple[str, FieldType] | tuple[str, FieldType, bool],
) -> dict[str, CanonicalField]:
    return {spec[0]: CanonicalField(*spec) for spec in specs}


S, C, INT, D, DT, NPI, NDC = (
    FieldType.STRING,
    FieldType.CODE,
    FieldType.INTEGER,
    FieldType.DECIMAL,
    FieldType.DATE,
    FieldType.NPI,
    FieldType.NDC11,
)

# Amount columns shared by claim headers, claim lines and pharmacy claims (money, never float).
AMOUNT_FIELDS = (
    "submitted_amount",
    "allowed_amount",
    "paid_amount",
    "deductible_amount",
    "coinsurance_amount",
    "copay_amount",
    "noncovered_amount",
    "discount_amount",
    "member_liability_amount",
)

_amounts = tuple((name, D) for name in AMOUNT_FIELDS)

# The pharmacies a Part D beneficiary cost row prices: preferred and non-preferred retail and mail.
PARTD_PHARMACIES = ("pref", "nonpref", "mail_pref", "mail_nonpref")

CANONICAL_KINDS: dict[str, dict[str, CanonicalField]] = {
    "eligibility": _fields(
        ("member_id", S, True),
        ("subscriber_id", S, True),
        ("relationship_code", C, True),
        ("last_name", S, True),
        ("first_name", S, True),
        ("middle_name", S),
        ("birth_date", DT, True),
        ("gender_code", C, True),
        ("address_line1", S),
        ("address_line2", S),
        ("city", S),
        ("state", C),
        ("postal_code", C),
        ("phone", S),
        ("language_code", C),
        ("unique_member_id", S),
        ("race_code", C),
        ("ethnicity_code", C),
        ("birth_sex_code", C),
        ("deceased_date", DT),
        ("address_start_date", DT),
        ("payer_id", S, True),
        ("payer_name", S, True),
        ("payer_naic_code", C),
        ("plan_id", S, True),
        ("plan_name", S, True),
        ("group_id", S, True),
        ("group_name", S),
        ("product_type_code", C),
        ("coverage_start_date", DT, True),
        ("coverage_end_date", DT),
    ),
    "claim_header": _fields(
        ("claim_id", S, True),
        ("claim_type_code", C, True),
        ("member_id", S, True),
        ("status_code", C, True),
        ("original_claim_id", S),
        ("received_date", DT, True),
        ("adjudicated_date", DT, True),
        ("paid_date", DT),
        ("statement_from_date", DT, True),
        ("statement_to_date", DT),
        ("billing_provider_npi", NPI, True),
        ("rendering_provider_npi", NPI),
        ("referring_provider_npi", NPI),
        ("attending_provider_npi", NPI),
        ("network_status_code", C, True),
        ("rendering_network_status_code", C),
        ("payee_type_code", C),
        ("service_facility_npi", NPI),
        ("medical_record_number", S),
        ("type_of_bill", C),
        ("admission_type_code", C),
        ("admission_source_code", C),
        ("discharge_status_code", C),
        ("drg_code", C),
        ("admission_date", DT),
        ("discharge_date", DT),
        ("place_of_service_code", C),
        ("patient_account_number", S),
        ("orthodontic_months_remaining", INT),
        ("prosthesis_replacement_code", C),
        ("denial_reason_code", C),
        *_amounts,
    ),
    "claim_line": _fields(
        ("claim_id", S, True),
        ("line_number", INT, True),
        ("service_from_date", DT, True),
        ("service_to_date", DT),
        ("revenue_code", C),
        ("procedure_code_type", C),
        ("procedure_code", C),
        ("modifier_1", C),
        ("modifier_2", C),
        ("modifier_3", C),
        ("modifier_4", C),
        ("units", D, True),
        ("place_of_service_code", C),
        ("tooth_number", C),
        ("tooth_surface", C),
        ("additional_tooth_numbers", C),
        ("patient_weight", D),
        ("ambulance_transport_reason_code", C),
        ("transport_distance", D),
        ("round_trip_purpose", S),
        ("stretcher_purpose", S),
        ("pickup_location", S),
        ("dropoff_location", S),
        ("denial_reason_code", C),
        *_amounts,
        ("allowed_units", D),
    ),
    "claim_code": _fields(
        ("claim_id", S, True),
        ("code_category", C, True),
        ("sequence", INT, True),
        ("code", C, True),
        ("diagnosis_type_code", C),
        ("present_on_admission_code", C),
        ("procedure_date", DT),
    ),
    "claim_note": _fields(
        ("claim_id", S, True),
        ("note_number", INT, True),
        ("line_number", INT),
        ("note_text", S, True),
    ),
    "pharmacy_claim": _fields(
        ("claim_id", S, True),
        ("member_id", S, True),
        ("status_code", C, True),
        ("original_claim_id", S),
        ("fill_date", DT, True),
        ("received_date", DT, True),
        ("adjudicated_date", DT, True),
        ("paid_date", DT),
        ("rx_number", S, True),
        ("fill_number", INT, True),
        ("refills_authorized", INT),
        ("ndc", NDC),
        ("quantity", D, True),
        ("days_supply", INT, True),
        ("daw_code", C, True),
        ("compound_code", C, True),
        ("brand_generic_code", C),
        ("rx_origin_code", C),
        ("prescriber_npi", NPI, True),
        ("pharmacy_npi", NPI, True),
        ("network_status_code", C, True),
        ("ingredient_cost_amount", D),
        ("dispensing_fee_amount", D),
        ("denial_reason_code", C),
        *_amounts,
    ),
    "pharmacy_ingredient": _fields(
        ("claim_id", S, True),
        ("ingredient_number", INT, True),
        ("ndc", NDC, True),
        ("quantity", D, True),
        ("ingredient_cost_amount", D),
    ),
    "provider": _fields(
        ("npi", NPI, True),
        ("entity_type_code", C, True),
        ("organization_name", S),
        ("last_name", S),
        ("first_name", S),
        ("credential", S),
        ("taxonomy_code", C),
        ("tax_id", S),
        ("address_line1", S),
        ("city", S),
        ("state", C),
        ("postal_code", C),
        ("phone", S),
    ),
    # Formulary: the CMS Part D public-use files, the payer's RxNorm names, and CMS QHP JSON.
    "partd_drug": _fields(
        ("formulary_id", S, True),
        ("formulary_version", INT),
        ("contract_year", INT, True),
        ("rxcui", C, True),
        ("ndc", NDC),
        ("tier_level", C, True),
        ("quantity_limit_flag", C),
        ("quantity_limit_amount", D),
        ("quantity_limit_days", INT),
        ("prior_authorization_flag", C),
        ("step_therapy_flag", C),
        ("selected_drug_flag", C),
    ),
    "partd_plan": _fields(
        ("contract_id", S, True),
        ("plan_id", S, True),
        ("segment_id", S, True),
        ("contract_name", S),
        ("plan_name", S, True),
        ("formulary_id", S, True),
        ("premium", D),
        ("deductible", D),
        ("ma_region_code", C),
        ("pdp_region_code", C),
        ("state", C),
        ("county_code", C),
        ("snp", C),
        ("plan_suppressed_flag", C),
    ),
    "partd_cost": _fields(
        ("contract_id", S, True),
        ("plan_id", S, True),
        ("segment_id", S, True),
        ("coverage_level", C, True),
        ("tier", C, True),
        ("days_supply", C, True),
        *(
            spec
            for pharmacy in PARTD_PHARMACIES
            for spec in (
                (f"cost_type_{pharmacy}", C),
                (f"cost_amount_{pharmacy}", D),
                (f"cost_min_amount_{pharmacy}", D),
                (f"cost_max_amount_{pharmacy}", D),
            )
        ),
        ("tier_specialty_flag", C),
        ("deductible_applies_flag", C),
    ),
    "rxnorm_name": _fields(("rxcui", C, True), ("name", S, True), ("tty", C, True)),
    "qhp_plan": _fields(
        ("plan_id_type", C, True),
        ("plan_id", S, True),
        ("marketing_name", S, True),
        ("summary_url", S, True),
        ("marketing_url", S),
        ("formulary_url", S),
        ("plan_contact", S),
        ("network_tier", C),
        ("drug_tier", C, True),
        ("mail_order", C),
        ("pharmacy_type", C, True),
        ("copay_amount", D),
        ("copay_option", C),
        ("coinsurance_rate", D),
        ("coinsurance_option", C),
        ("last_updated_on", DT),
    ),
    "qhp_drug": _fields(
        ("rxnorm_id", C, True),
        ("drug_name", S, True),
        ("plan_id_type", C),
        ("plan_id", S, True),
        ("drug_tier", C, True),
        ("prior_authorization", C),
        ("step_therapy", C),
        ("quantity_limit", C),
    ),
}
