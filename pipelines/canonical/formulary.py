"""Formulary: raw → staged rules for the CMS Part D files, the RxNorm names and the CMS QHP JSON.

Every kind is a full snapshot: when its file arrives, its staged rows replace the canonical table,
so a drug missing from tonight's formulary file is gone from the build (and tombstoned on load).
"""

from __future__ import annotations

import duckdb

from pipelines.canonical.rules import RowRule
from pipelines.canonical.schema import PARTD_PHARMACIES
from pipelines.canonical.staging import (
    KindSpec,
    add_rules,
    check_kind,
    finalize_kind,
    replace_canonical,
)
from pipelines.ingest.layouts import Layout, load_domain_layouts

DOMAIN = "formulary"

# The plan information file has one row per county a plan serves (MA plans), or per state.
PARTD_PLAN = KindSpec(
    "partd_plan", key=("contract_id", "plan_id", "segment_id", "state", "county_code")
)
PARTD_COST = KindSpec(
    "partd_cost",
    key=("contract_id", "plan_id", "segment_id", "coverage_level", "tier", "days_supply"),
    concept_maps=(("tier", "drug_tier"),),
)
# Several NDCs of one RxCUI are several rows; the drug is the RxCUI, so they must agree.
PARTD_DRUG = KindSpec("partd_drug", key=("formulary_id", "rxcui", "ndc"))
RXNORM_NAME = KindSpec("rxnorm_name", key=("rxcui",))
QHP_PLAN = KindSpec(
    "qhp_plan",
    key=("plan_id", "drug_tier", "pharmacy_type"),
    concept_maps=(("drug_tier", "drug_tier"), ("pharmacy_type", "pharmacy_type")),
)
QHP_DRUG = KindSpec(
    "qhp_drug",
    key=(
        "rxnorm_id",
        "plan_id",
        "drug_tier",
        "prior_authorization",
        "step_therapy",
        "quantity_limit",
    ),
    concept_maps=(("drug_tier", "drug_tier"),),
)

# Staged in this order: drugs are checked against the plans and tiers staged before them.
KINDS = (PARTD_PLAN, PARTD_COST, PARTD_DRUG, RXNORM_NAME, QHP_PLAN, QHP_DRUG)

RXCUI_PATTERN = "[0-9]{1,8}"
FLAGS = ("Y", "N")
BOOLEANS = ("true", "false")


def _current(kind: str, columns: str) -> str:
    """The kind's good rows of this load, or its canonical snapshot when no file came tonight."""
    return (
        f"(SELECT {columns} FROM typed_{kind} WHERE len(violations) = 0 "
        f"UNION ALL SELECT {columns} FROM canonical_{kind} "
        f"WHERE NOT EXISTS (SELECT 1 FROM typed_{kind}))"
    )


def _invalid_rxcui(column: str, field: str) -> RowRule:
    return RowRule(
        "invalid_rxcui",
        column,
        f"NOT regexp_full_match(t.{field}, '{RXCUI_PATTERN}')",
        f"{column} is not an RxCUI (1 to 8 digits)",
    )


def _allowed(column: str, field: str, values: tuple[str, ...]) -> RowRule:
    listed = ", ".join(f"'{v}'" for v in values)
    return RowRule(
        "invalid_flag",
        column,
        f"t.{field} IS NOT NULL AND t.{field} NOT IN ({listed})",
        f"{column} must be one of {', '.join(values)}",
    )


def _conflicting(column: str, key: str, fields: str, what: str) -> RowRule:
    return RowRule(
        "conflicting_rows",
        column,
        f"count(DISTINCT ({fields})) OVER (PARTITION BY {key}) > 1",
        f"another row for the same {what} gives a different tier or limits; "
        "conflicting rows are all held back",
    )


PARTD_COST_RULES = [
    _allowed(f"COST_TYPE_{pharmacy.upper()}", f"cost_type_{pharmacy}", ("0", "1", "2"))
    for pharmacy in PARTD_PHARMACIES
] + [_allowed("DED_APPLIES_YN", "deductible_applies_flag", FLAGS)]

_PARTD_PLAN_FORMULARIES = _current("partd_plan", "formulary_id")
_PARTD_TIERS = f"""(SELECT p.formulary_id, c.tier
    FROM {_current("partd_plan", "contract_id, plan_id, segment_id, formulary_id")} p
    JOIN {_current("partd_cost", "contract_id, plan_id, segment_id, tier")} c
      USING (contract_id, plan_id, segment_id))"""

PARTD_DRUG_RULES = [
    _invalid_rxcui("RXCUI", "rxcui"),
    RowRule(
        "formulary_without_plan",
        "FORMULARY_ID",
        f"t.formulary_id NOT IN (SELECT formulary_id FROM {_PARTD_PLAN_FORMULARIES})",
        "FORMULARY_ID is not the formulary of any plan in the plan information file",
    ),
    RowRule(
        "unknown_tier",
        "TIER_LEVEL_VALUE",
        f"""t.formulary_id IN (SELECT formulary_id FROM {_PARTD_PLAN_FORMULARIES})
            AND NOT EXISTS (SELECT 1 FROM {_PARTD_TIERS} k
                            WHERE k.formulary_id = t.formulary_id AND k.tier = t.tier_level)""",
        "TIER_LEVEL_VALUE is not a tier the beneficiary cost file prices for this formulary's plans",
    ),
    RowRule(
        "quantity_limit_incomplete",
        "QUANTITY_LIMIT_YN",
        "t.quantity_limit_flag = 'Y' AND (t.quantity_limit_amount IS NULL "
        "OR t.quantity_limit_days IS NULL)",
        "QUANTITY_LIMIT_YN is Y but QUANTITY_LIMIT_AMOUNT or QUANTITY_LIMIT_DAYS is empty",
    ),
    _conflicting(
        "RXCUI",
        "t.formulary_id, t.rxcui",
        "t.tier_level, t.quantity_limit_flag, t.quantity_limit_amount, t.quantity_limit_days, "
        "t.prior_authorization_flag, t.step_therapy_flag",
        "FORMULARY_ID and RXCUI",
    ),
    *(
        _allowed(column, field, FLAGS)
        for column, field in (
            ("QUANTITY_LIMIT_YN", "quantity_limit_flag"),
            ("PRIOR_AUTHORIZATION_YN", "prior_authorization_flag"),
            ("STEP_THERAPY_YN", "step_therapy_flag"),
        )
    ),
]

RXNORM_NAME_RULES = [
    _invalid_rxcui("RXCUI", "rxcui"),
    RowRule(
        "unsupported_term_type",
        "TTY",
        "t.tty NOT IN ('SCD', 'SBD', 'GPCK', 'BPCK')",
        "TTY must be SCD, SBD, GPCK or BPCK, the RxNorm term types a formulary drug is coded in",
    ),
]

QHP_PLAN_RULES = [_allowed("formulary.mail_order", "mail_order", BOOLEANS)]

_QHP_TIERS = _current("qhp_plan", "plan_id, drug_tier")
QHP_DRUG_RULES = [
    _invalid_rxcui("rxnorm_id", "rxnorm_id"),
    RowRule(
        "formulary_without_plan",
        "plans.plan_id",
        f"t.plan_id NOT IN (SELECT plan_id FROM {_QHP_TIERS})",
        "plans.plan_id is not a plan of plans.json, so the drug is on no plan's formulary",
    ),
    RowRule(
        "unknown_tier",
        "plans.drug_tier",
        f"""t.plan_id IN (SELECT plan_id FROM {_QHP_TIERS})
            AND (t.plan_id, t.drug_tier) NOT IN (SELECT (plan_id, drug_tier) FROM {_QHP_TIERS})""",
        "plans.drug_tier is not a tier of the plan's formulary in plans.json",
    ),
    _conflicting(
        "plans.plan_id",
        "t.rxnorm_id, t.plan_id",
        "t.drug_tier, t.prior_authorization, t.step_therapy, t.quantity_limit",
        "rxnorm_id and plans.plan_id",
    ),
    *(
        _allowed(f"plans.{field}", field, BOOLEANS)
        for field in ("prior_authorization", "step_therapy", "quantity_limit")
    ),
]

RULES: dict[str, list[RowRule]] = {
    PARTD_COST.kind: PARTD_COST_RULES,
    PARTD_DRUG.kind: PARTD_DRUG_RULES,
    RXNORM_NAME.kind: RXNORM_NAME_RULES,
    QHP_PLAN.kind: QHP_PLAN_RULES,
    QHP_DRUG.kind: QHP_DRUG_RULES,
}


def _layout(kind: str) -> Layout:
    return next(layout for layout in load_domain_layouts(DOMAIN) if layout.kind == kind)


def stage_formulary(con: duckdb.DuckDBPyConnection, load_id: str) -> None:
    """Type and check this load's formulary rows; each kind that arrived replaces its snapshot."""
    for spec in KINDS:
        layout = _layout(spec.kind)
        check_kind(con, layout, spec)
        add_rules(con, spec.kind, RULES.get(spec.kind, []))
    # Finalized after every kind is checked, since drug rules read the plans' typed rows.
    for spec in KINDS:
        finalize_kind(con, _layout(spec.kind), spec, load_id, DOMAIN)
        replace_canonical(con, spec, load_id)
