"""Formulary domain: CMS Part D files and QHP JSON to US Drug Formulary STU2 (2.0.1) and STU1 (1.1.0)."""

from __future__ import annotations

from pipelines.assets.stages import DomainPlan, coverage_check, domain_definitions
from pipelines.canonical.formulary import DOMAIN, stage_formulary
from pipelines.canonical.formulary_records import SETUP
from pipelines.fhir.formulary_jobs import FORMULARY_JOBS

PLAN = DomainPlan(
    domain=DOMAIN,
    stage=stage_formulary,
    jobs=FORMULARY_JOBS,
    build_setup=SETUP,
    description="Formulary",
    # A formulary file is the whole formulary: a drug it no longer lists is tombstoned.
    snapshot=True,
)
assets, checks = domain_definitions(PLAN)
coverage_checks = [coverage_check(PLAN)]
