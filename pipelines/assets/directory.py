"""Directory domain: provider rosters (or NPPES files) to the nine Plan-Net profiles."""

from __future__ import annotations

from pipelines.assets.stages import DomainPlan, coverage_check, domain_definitions
from pipelines.canonical.directory import DOMAIN, stage_directory
from pipelines.fhir.directory_jobs import DIRECTORY_JOBS

PLAN = DomainPlan(
    domain=DOMAIN,
    stage=stage_directory,
    jobs=DIRECTORY_JOBS,
    description="Provider roster and directory",
    # A roster is the whole directory as of its date: who is missing from it has left.
    snapshot=True,
)
assets, checks = domain_definitions(PLAN)
coverage_checks = [coverage_check(PLAN)]
