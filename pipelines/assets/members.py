"""Members domain: eligibility extracts to C4BB Patient, Coverage, RelatedPerson and the payer."""

from __future__ import annotations

from pipelines.assets.stages import DomainPlan, coverage_check, domain_definitions
from pipelines.canonical.members import DOMAIN, stage_members
from pipelines.fhir.jobs import MEMBER_JOBS

PLAN = DomainPlan(
    domain=DOMAIN, stage=stage_members, jobs=MEMBER_JOBS, description="Member eligibility"
)
assets, checks = domain_definitions(PLAN)
coverage_checks = [coverage_check(PLAN)]
