"""Member eligibility: raw → staged rules, and the merge into the accumulated canonical members."""

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
from pipelines.ingest.layouts import load_domain_layouts

DOMAIN = "members"

ELIGIBILITY = KindSpec(
    kind="eligibility",
    key=("member_id", "plan_id", "coverage_start_date"),
    concept_maps=(
        ("relationship_code", "relationship"),
        ("gender_code", "gender"),
        ("product_type_code", "product_type"),
        ("race_code", "race"),
        ("ethnicity_code", "ethnicity"),
        ("birth_sex_code", "birth_sex"),
    ),
    merge_key="member_id",
)

ELIGIBILITY_RULES = [
    RowRule(
        "bad_coverage_span",
        "COVERAGE_END_DATE",
        "t.coverage_end_date < t.coverage_start_date",
        "COVERAGE_END_DATE is before COVERAGE_START_DATE",
    ),
    RowRule(
        "birth_date_in_future",
        "BIRTH_DATE",
        "t.birth_date > current_date",
        "BIRTH_DATE is in the future",
    ),
    RowRule(
        "deceased_before_birth",
        "DECEASED_DATE",
        "t.deceased_date < t.birth_date",
        "DECEASED_DATE is before BIRTH_DATE",
    ),
    RowRule(
        "subscriber_not_self",
        "RELATIONSHIP_CODE",
        """t.relationship_code <> '18' AND EXISTS (SELECT 1 FROM typed_eligibility o
            WHERE o.member_id = t.member_id AND o.relationship_code = '18')""",
        "the member is the subscriber (18) on another row; one member has one relationship",
    ),
    RowRule(
        "overlapping_coverage",
        "COVERAGE_START_DATE",
        """EXISTS (SELECT 1 FROM typed_eligibility o
            WHERE o.member_id = t.member_id AND o.row_number <> t.row_number
              AND coalesce(o.product_type_code = 'DEN', false) = coalesce(t.product_type_code = 'DEN', false)
              AND o.coverage_start_date <= coalesce(t.coverage_end_date, DATE '9999-12-31')
              AND t.coverage_start_date <= coalesce(o.coverage_end_date, DATE '9999-12-31'))""",
        "two coverage spans of the same kind (medical or dental) overlap for this member; "
        "a claim could not be matched to one coverage",
    ),
]


def stage_members(con: duckdb.DuckDBPyConnection, load_id: str) -> None:
    """Type and check this load's eligibility rows; merge the good ones into canonical_eligibility."""
    for layout in load_domain_layouts(DOMAIN):
        check_kind(con, layout, ELIGIBILITY)
        add_rules(con, ELIGIBILITY.kind, ELIGIBILITY_RULES)
        finalize_kind(con, layout, ELIGIBILITY, load_id, DOMAIN)
        merge_into_canonical(con, ELIGIBILITY)
