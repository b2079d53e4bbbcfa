"""Claims domain: claim, pharmacy and provider extracts to the five C4BB EOB profiles and providers."""

from __future__ import annotations

from pipelines.assets.stages import DomainPlan, coverage_check, domain_definitions
from pipelines.canonical.claims import DOMAIN, stage_claims
from pipelines.canonical.records import BUILD_CLAIMS
from pipelines.fhir.jobs import CLAIM_JOBS

PLAN = DomainPlan(
    domain=DOMAIN,
    stage=stage_claims,
    jobs=CLAIM_JOBS,
    # Claims resolve members and coverage spans against the staged eligibility of the same night.
    staged_deps=("members_staged",),
    build_setup=(BUILD_CLAIMS,),
    description="Claim, pharmacy and provider",
)
assets, checks = domain_definitions(PLAN)
coverage_checks = [coverage_check(PLAN)]
