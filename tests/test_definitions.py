"""The Dagster code location loads, and its asset keys only change on purpose."""

import dagster as dg

from pipelines import definitions

EXPECTED_ASSETS = [
    "bulk_export",
    "claims_fhir",
    "claims_raw",
    "claims_staged",
    "claims_validated",
    "directory_fhir",
    "directory_raw",
    "directory_staged",
    "directory_validated",
    "formulary_fhir",
    "formulary_raw",
    "formulary_staged",
    "formulary_validated",
    "members_fhir",
    "members_raw",
    "members_staged",
    "members_validated",
    "served_resources",
]


def test_asset_keys_snapshot() -> None:
    keys = sorted(key.to_user_string() for key in definitions.defs.resolve_all_asset_keys())
    assert keys == EXPECTED_ASSETS


def test_every_asset_has_a_description_and_checks_have_rule_names() -> None:
    for asset in definitions.all_assets:
        for key in asset.keys:
            assert asset.descriptions_by_key.get(key), key
    check_names = sorted(
        spec.name for checks in definitions.all_checks for spec in checks.check_specs
    )
    assert check_names == [
        "claims_must_support_elements_populated",
        "directory_must_support_elements_populated",
        "every_resource_served_or_quarantined",
        "every_source_row_staged_or_quarantined",
        "every_source_row_staged_or_quarantined",
        "every_source_row_staged_or_quarantined",
        "every_source_row_staged_or_quarantined",
        "formulary_must_support_elements_populated",
        "members_must_support_elements_populated",
        "only_valid_resources_served",
        "served_references_resolve",
    ]


def test_nightly_schedule_runs_at_two_eastern() -> None:
    schedule = definitions.defs.resolve_schedule_def("nightly_load_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "America/New_York"
    assert isinstance(schedule, dg.ScheduleDefinition)
