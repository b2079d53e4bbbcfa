"""Claims: raw → staged rules for headers, lines, codes, pharmacy claims and providers.

A claim is served whole or not at all: a quarantined line or code holds back its claim, and a
quarantined claim holds back its lines and codes, each with its own row reference.
"""

from __future__ import annotations

import duckdb

from pipelines.canonical.rules import RowRule
from pipelines.canonical.staging import (
    KindSpec,
    add_rules,
    check_kind,
    finalize_kind,
    merge_into_canonical,
)
from pipelines.ingest.layouts import Layout, load_domain_layouts

DOMAIN = "claims"

PROVIDER = KindSpec("provider", key=("npi",))
CLAIM_HEADER = KindSpec(
    "claim_header",
    key=("claim_id",),
    concept_maps=(
        ("claim_type_code", "claim_type"),
        ("status_code", "claim_status"),
        ("network_status_code", "network_status"),
        ("rendering_network_status_code", "network_status"),
        ("payee_type_code", "payee_type"),
    ),
)
CLAIM_LINE = KindSpec(
    "claim_line",
    key=("claim_id", "line_number"),
    concept_maps=(
        ("procedure_code_type", "procedure_code_type"),
        ("ambulance_transport_reason_code", "ambulance_transport_reason"),
    ),
)
CLAIM_CODE = KindSpec(
    "claim_code",
    key=("claim_id", "code_category", "sequence"),
    concept_maps=(("diagnosis_type_code", "diagnosis_type"),),
)
PHARMACY_CLAIM = KindSpec(
    "pharmacy_claim",
    key=("claim_id",),
    concept_maps=(("status_code", "claim_status"), ("network_status_code", "network_status")),
)
PHARMACY_INGREDIENT = KindSpec("pharmacy_ingredient", key=("claim_id", "ingredient_number"))
# Notes belong to a medical or a pharmacy claim; the claim id says which.
CLAIM_NOTE = KindSpec("claim_note", key=("claim_id", "note_number"))

KINDS = (
    PROVIDER,
    CLAIM_HEADER,
    CLAIM_LINE,
    CLAIM_CODE,
    PHARMACY_CLAIM,
    PHARMACY_INGREDIENT,
    CLAIM_NOTE,
)
HEADER_KINDS = (CLAIM_HEADER, PHARMACY_CLAIM)
CHILDREN = {
    CLAIM_HEADER.kind: (CLAIM_LINE, CLAIM_CODE),
    PHARMACY_CLAIM.kind: (PHARMACY_INGREDIENT,),
}

_KNOWN_NPI = (
    "(SELECT npi FROM typed_provider WHERE len(violations) = 0 "
    "UNION SELECT npi FROM canonical_provider)"
)


def _provider_rule(column: str, field: str) -> RowRule:
    return RowRule(
        "unknown_provider",
        column,
        f"t.{field} IS NOT NULL AND t.{field} NOT IN {_KNOWN_NPI}",
        f"{column} is not in the provider file nor in earlier loads",
    )


def _member_rules(service_date: str) -> list[RowRule]:
    return [
        RowRule(
            "unknown_member",
            "MEMBER_ID",
            "t.member_id NOT IN (SELECT member_id FROM canonical_eligibility)",
            "MEMBER_ID is not in the eligibility file nor in earlier loads",
        ),
        RowRule(
            "no_coverage_on_service_date",
            "MEMBER_ID",
            f"""t.member_id IN (SELECT member_id FROM canonical_eligibility) AND NOT EXISTS (
                SELECT 1 FROM canonical_eligibility e WHERE e.member_id = t.member_id
                AND t.{service_date} BETWEEN e.coverage_start_date
                    AND coalesce(e.coverage_end_date, DATE '9999-12-31'))""",
            "the member has no coverage span that contains the claim's first service date",
        ),
    ]


def _original_claim_rules(header: str) -> list[RowRule]:
    return [
        RowRule(
            "missing_original_claim",
            "ORIGINAL_CLAIM_ID",
            "t.status_code = 'A' AND t.original_claim_id IS NULL",
            "an adjusted claim (STATUS_CODE A) needs ORIGINAL_CLAIM_ID",
        ),
        RowRule(
            "unknown_original_claim",
            "ORIGINAL_CLAIM_ID",
            f"""t.original_claim_id IS NOT NULL AND t.original_claim_id NOT IN (
                SELECT claim_id FROM typed_{header} UNION SELECT claim_id FROM canonical_{header})""",
            "ORIGINAL_CLAIM_ID names a claim that is in neither this load nor an earlier one",
        ),
    ]


HEADER_RULES = [
    *_member_rules("statement_from_date"),
    *_original_claim_rules("claim_header"),
    _provider_rule("BILLING_PROVIDER_NPI", "billing_provider_npi"),
    _provider_rule("RENDERING_PROVIDER_NPI", "rendering_provider_npi"),
    _provider_rule("REFERRING_PROVIDER_NPI", "referring_provider_npi"),
    _provider_rule("ATTENDING_PROVIDER_NPI", "attending_provider_npi"),
    _provider_rule("SERVICE_FACILITY_NPI", "service_facility_npi"),
    RowRule(
        "bad_indicator",
        "PROSTHESIS_REPLACEMENT_CODE",
        "t.prosthesis_replacement_code NOT IN ('Y', 'N')",
        "PROSTHESIS_REPLACEMENT_CODE must be Y (replacement) or N (initial placement)",
    ),
    RowRule(
        "negative_amount",
        "ORTHODONTIC_MONTHS_REMAINING",
        "t.orthodontic_months_remaining < 0",
        "ORTHODONTIC_MONTHS_REMAINING cannot be negative",
    ),
    RowRule(
        "bad_statement_period",
        "STATEMENT_TO_DATE",
        "t.statement_to_date < t.statement_from_date",
        "STATEMENT_TO_DATE is before STATEMENT_FROM_DATE",
    ),
    RowRule(
        "missing_institutional_field",
        "TYPE_OF_BILL",
        "t.claim_type_code IN ('IP', 'OP') AND t.type_of_bill IS NULL",
        "TYPE_OF_BILL is required on institutional claims (IP, OP)",
    ),
    RowRule(
        "missing_institutional_field",
        "ADMISSION_DATE",
        "t.claim_type_code = 'IP' AND t.admission_date IS NULL",
        "ADMISSION_DATE is required on inpatient claims (IP)",
    ),
]

LINE_RULES = [
    RowRule("nonpositive_units", "UNITS", "t.units <= 0", "UNITS must be greater than zero"),
    RowRule(
        "negative_amount",
        "ALLOWED_UNITS",
        "t.allowed_units < 0",
        "ALLOWED_UNITS cannot be negative",
    ),
    RowRule(
        "additional_tooth_without_tooth",
        "ADDITIONAL_TOOTH_NUMBERS",
        "t.additional_tooth_numbers IS NOT NULL AND t.tooth_number IS NULL",
        "ADDITIONAL_TOOTH_NUMBERS needs the line's own TOOTH_NUMBER",
    ),
    RowRule(
        "missing_procedure_code",
        "PROCEDURE_CODE",
        "t.procedure_code IS NOT NULL AND t.procedure_code_type IS NULL",
        "PROCEDURE_CODE needs PROCEDURE_CODE_TYPE (CPT, HCPCS, CDT or HIPPS)",
    ),
]

CODE_RULES = [
    RowRule(
        "unknown_code_category",
        "CODE_CATEGORY",
        "t.code_category NOT IN ('DX', 'PX', 'MT')",
        "CODE_CATEGORY must be DX (diagnosis), PX (procedure) or MT (missing tooth)",
    ),
    RowRule(
        "missing_diagnosis_type",
        "DIAGNOSIS_TYPE_CODE",
        "t.code_category = 'DX' AND t.diagnosis_type_code IS NULL",
        "DIAGNOSIS_TYPE_CODE is required for a diagnosis (DX)",
    ),
]

PHARMACY_RULES = [
    *_member_rules("fill_date"),
    *_original_claim_rules("pharmacy_claim"),
    _provider_rule("PRESCRIBER_NPI", "prescriber_npi"),
    _provider_rule("PHARMACY_NPI", "pharmacy_npi"),
    RowRule(
        "nonpositive_units", "QUANTITY", "t.quantity <= 0", "QUANTITY must be greater than zero"
    ),
    RowRule(
        "nonpositive_units",
        "DAYS_SUPPLY",
        "t.days_supply <= 0",
        "DAYS_SUPPLY must be greater than zero",
    ),
    RowRule(
        "missing_ndc",
        "NDC",
        "t.compound_code <> '2' AND t.ndc IS NULL",
        "NDC is required unless the claim is a compound (COMPOUND_CODE 2)",
    ),
    RowRule(
        "compound_without_ingredients",
        "COMPOUND_CODE",
        "t.compound_code = '2' AND t.claim_id NOT IN (SELECT claim_id FROM typed_pharmacy_ingredient)",
        "a compound claim (COMPOUND_CODE 2) needs its ingredients in the ingredient file",
    ),
]

INGREDIENT_RULES = [
    RowRule(
        "nonpositive_units", "QUANTITY", "t.quantity <= 0", "QUANTITY must be greater than zero"
    )
]

PROVIDER_RULES = [
    RowRule(
        "unknown_entity_type",
        "ENTITY_TYPE_CODE",
        "t.entity_type_code NOT IN ('1', '2')",
        "ENTITY_TYPE_CODE must be 1 (individual) or 2 (organization), as in NPPES",
    ),
    RowRule(
        "missing_provider_name",
        "LAST_NAME",
        "t.entity_type_code = '1' AND t.last_name IS NULL",
        "LAST_NAME is required for an individual provider (ENTITY_TYPE_CODE 1)",
    ),
    RowRule(
        "missing_provider_name",
        "ORGANIZATION_NAME",
        "t.entity_type_code = '2' AND t.organization_name IS NULL",
        "ORGANIZATION_NAME is required for an organization (ENTITY_TYPE_CODE 2)",
    ),
]

NOTE_RULES = [
    RowRule(
        "unknown_claim",
        "CLAIM_ID",
        "t.claim_id NOT IN (SELECT claim_id FROM typed_claim_header "
        "UNION SELECT claim_id FROM typed_pharmacy_claim)",
        "CLAIM_ID has no row in the claim_header or pharmacy_claim file of this load",
    ),
    RowRule(
        "unknown_line",
        "LINE_NUMBER",
        """t.line_number IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM typed_claim_line l
            WHERE l.claim_id = t.claim_id AND l.line_number = t.line_number)
          AND NOT (t.line_number = 1 AND t.claim_id IN (SELECT claim_id FROM typed_pharmacy_claim))""",
        "LINE_NUMBER names no line of the claim (a pharmacy claim has line 1 only)",
    ),
]

KIND_RULES = {
    CLAIM_HEADER.kind: HEADER_RULES,
    CLAIM_LINE.kind: LINE_RULES,
    CLAIM_CODE.kind: CODE_RULES,
    PHARMACY_CLAIM.kind: PHARMACY_RULES,
    PHARMACY_INGREDIENT.kind: INGREDIENT_RULES,
    CLAIM_NOTE.kind: NOTE_RULES,
}


def _whole_claim_rules(con: duckdb.DuckDBPyConnection) -> None:
    """Children need their claim; a claim with a bad child row, or none at all, is held back."""
    for header, children in ((h, CHILDREN[h.kind]) for h in HEADER_KINDS):
        for child in children:
            add_rules(con, child.kind, [_unknown_claim_rule(header.kind)])
        bad_children = " UNION ".join(
            f"SELECT claim_id FROM typed_{c.kind} WHERE len(violations) > 0"
            for c in (*children, CLAIM_NOTE)
        )
        header_rules = [
            RowRule(
                "claim_row_quarantined",
                "CLAIM_ID",
                f"t.claim_id IN ({bad_children})",
                "a line, code, ingredient or note row of this claim is quarantined; the claim is held back whole",
            )
        ]
        if header.kind == CLAIM_HEADER.kind:
            header_rules.append(
                RowRule(
                    "claim_without_lines",
                    "CLAIM_ID",
                    "t.claim_id NOT IN (SELECT claim_id FROM typed_claim_line)",
                    "the claim has no rows in the claim line file",
                )
            )
        add_rules(con, header.kind, header_rules)
        for child in (*children, CLAIM_NOTE):
            add_rules(con, child.kind, [_parent_quarantined_rule(header.kind)])


def _unknown_claim_rule(header: str) -> RowRule:
    return RowRule(
        "unknown_claim",
        "CLAIM_ID",
        f"t.claim_id NOT IN (SELECT claim_id FROM typed_{header})",
        f"CLAIM_ID has no row in the {header} file of this load",
    )


def _parent_quarantined_rule(header: str) -> RowRule:
    return RowRule(
        "parent_claim_quarantined",
        "CLAIM_ID",
        f"t.claim_id IN (SELECT claim_id FROM typed_{header} WHERE len(violations) > 0)",
        f"the {header} row of this claim is quarantined",
    )


def _layouts_by_kind() -> dict[str, Layout]:
    return {layout.kind: layout for layout in load_domain_layouts(DOMAIN)}


def stage_claims(con: duckdb.DuckDBPyConnection, load_id: str) -> None:
    """Type and check this load's claim rows; merge whole good claims into the canonical tables."""
    layouts = _layouts_by_kind()
    check_kind(con, layouts[PROVIDER.kind], PROVIDER)
    add_rules(con, PROVIDER.kind, PROVIDER_RULES)
    finalize_kind(con, layouts[PROVIDER.kind], PROVIDER, load_id, DOMAIN)
    merge_into_canonical(con, PROVIDER)
    for spec in KINDS[1:]:
        check_kind(con, layouts[spec.kind], spec)
    for spec in KINDS[1:]:
        add_rules(con, spec.kind, KIND_RULES[spec.kind])
    _whole_claim_rules(con)
    for spec in KINDS[1:]:
        finalize_kind(con, layouts[spec.kind], spec, load_id, DOMAIN)
        merge_into_canonical(con, spec)
