"""The Dagster code location: assets, checks, the nightly schedule and resources, assembled."""

from __future__ import annotations

import dagster as dg

from pipelines.assets import claims, directory, formulary, members, serving
from pipelines.ingest.layouts import check_all_layouts
from pipelines.resources import default_resources

# A malformed layout file fails here, when the code location loads, naming the file and key.
check_all_layouts()

all_assets = [
    *members.assets,
    *claims.assets,
    *formulary.assets,
    *directory.assets,
    serving.served_resources,
    serving.bulk_export,
]
all_checks = [
    *members.checks,
    *claims.checks,
    *formulary.checks,
    *directory.checks,
    *members.coverage_checks,
    *claims.coverage_checks,
    *formulary.coverage_checks,
    *directory.coverage_checks,
    serving.served_references_resolve,
    serving.only_valid_resources_served,
    serving.every_resource_served_or_quarantined,
]

nightly_job = dg.define_asset_job("nightly_load", selection=dg.AssetSelection.all())

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_load_schedule",
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="America/New_York",
    description="Every night at 02:00 Eastern: land the inbox and load the serving store.",
)

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[nightly_job],
    schedules=[nightly_schedule],
    resources=default_resources(),
    # The staging DuckDB file takes one writer process at a time, so the steps of a run share
    # one process; parallelism lives inside the heavy stages (worker pools) instead.
    executor=dg.in_process_executor,
)
