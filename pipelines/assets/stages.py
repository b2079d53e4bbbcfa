"""The four per-domain stages (raw → staged → fhir → validated) as Dagster assets, made per domain.

Each domain module (members, claims, ...) names its staging function and build plan and gets the
same stage assets and reconciliation check, so every domain is accounted for the same way.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.assets.accounting import (
    coverage_gaps,
    current_load,
    explained_gaps,
    quarantine_counts,
    reconcile_files,
    record_coverage,
    start_load,
)
from pipelines.fhir.build import BuildJob, build_resources, validate_resources
from pipelines.ingest.landing import land_domain
from pipelines.resources import PipelineSettings, StagingDatabase

StageFunction = Callable[[duckdb.DuckDBPyConnection, str], None]


@dataclass(frozen=True)
class DomainPlan:
    domain: str
    stage: StageFunction
    jobs: list[BuildJob]
    staged_deps: tuple[str, ...] = ()
    build_setup: tuple[str, ...] = ()  # SQL run before the build jobs (e.g. which claims to build)
    description: str = ""
    # A snapshot domain's build is its whole current set (a provider roster, a formulary): what
    # the store holds of the domain and tonight's build lacks is tombstoned. Other domains
    # accumulate: a claim absent tonight is simply not re-sent.
    snapshot: bool = False


def _reasons_metadata(counts: dict[str, int]) -> dict[str, dg.MetadataValue]:
    return {f"quarantined/{reason}": dg.MetadataValue.int(n) for reason, n in counts.items()}


def _raw_asset(plan: DomainPlan) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"{plan.domain}_raw",
        group_name=plan.domain,
        description=f"{plan.description} extracts landed as text from the inbox, one row per source line.",
    )
    def raw(
        context: dg.AssetExecutionContext, staging: StagingDatabase, settings: PipelineSettings
    ) -> dg.MaterializeResult:
        with staging.connect() as con:
            load = start_load(con, plan.domain, context.run.run_id)
            landed = land_domain(con, Path(settings.inbox), plan.domain, load.load_id)
        return dg.MaterializeResult(
            metadata={
                "files": len(landed),
                "rows_in": sum(f.rows_in for f in landed),
                "rows_landed": sum(f.rows_landed for f in landed),
                "rows_rejected": sum(f.rows_rejected for f in landed),
                **{f"rows_in/{f.source_file}": f.rows_in for f in landed},
            }
        )

    return raw


def _staged_asset(plan: DomainPlan) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"{plan.domain}_staged",
        group_name=plan.domain,
        deps=[f"{plan.domain}_raw", *plan.staged_deps],
        description=f"{plan.description} rows typed and checked; rows breaking a rule are quarantined.",
    )
    def staged(staging: StagingDatabase) -> dg.MaterializeResult:
        with staging.connect() as con:
            load = current_load(con, plan.domain)
            con.execute(
                "DELETE FROM quarantine WHERE load_id = ? AND domain = ? AND stage = 'staged'",
                [load.load_id, plan.domain],
            )
            con.execute(
                "DELETE FROM staged_counts WHERE load_id = ? AND domain = ?",
                [load.load_id, plan.domain],
            )
            plan.stage(con, load.load_id)
            files = reconcile_files(con, load.load_id, plan.domain)
            reasons = quarantine_counts(con, load.load_id, plan.domain)
        return dg.MaterializeResult(
            metadata={
                "rows_in": sum(f.rows_in for f in files),
                "rows_staged": sum(f.staged for f in files),
                "rows_quarantined": sum(f.quarantined for f in files),
                **_reasons_metadata(reasons),
            }
        )

    return staged


def _reconcile_check(plan: DomainPlan) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=f"{plan.domain}_staged",
        name="every_source_row_staged_or_quarantined",
        description="Per source file: rows in = rows staged + rows quarantined.",
        blocking=True,
    )
    def check(staging: StagingDatabase) -> dg.AssetCheckResult:
        with staging.connect() as con:
            load = current_load(con, plan.domain)
            files = reconcile_files(con, load.load_id, plan.domain)
        unbalanced = [f for f in files if not f.balanced]
        return dg.AssetCheckResult(
            passed=not unbalanced,
            metadata={
                "files": len(files),
                "unbalanced": ", ".join(
                    f"{f.source_file}: {f.rows_in} in, {f.staged} staged, {f.quarantined} quarantined"
                    for f in unbalanced
                )
                or "none",
            },
        )

    return check


def _fhir_asset(plan: DomainPlan) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"{plan.domain}_fhir",
        group_name=plan.domain,
        deps=[f"{plan.domain}_staged"],
        description=f"FHIR resources built from the staged {plan.domain} records, one per profile instance.",
    )
    def fhir(staging: StagingDatabase, settings: PipelineSettings) -> dg.MaterializeResult:
        with staging.connect() as con, settings.worker_pool() as executor:
            load = current_load(con, plan.domain)
            counts = build_resources(
                con,
                plan.jobs,
                ids=settings.ids(),
                last_updated=load.last_updated,
                load_id=load.load_id,
                domain=plan.domain,
                setup=plan.build_setup,
                executor=executor,
            )
        return dg.MaterializeResult(
            metadata={
                "resources": sum(counts.values()),
                **{f"built/{p.split('/')[-1]}": n for p, n in sorted(counts.items())},
            }
        )

    return fhir


def _validated_asset(plan: DomainPlan) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"{plan.domain}_validated",
        group_name=plan.domain,
        deps=[f"{plan.domain}_fhir"],
        description=f"The {plan.domain} resources checked against their profiles; failures are quarantined.",
    )
    def validated(staging: StagingDatabase, settings: PipelineSettings) -> dg.MaterializeResult:
        with staging.connect() as con, settings.worker_pool() as executor:
            load = current_load(con, plan.domain)
            invalid, coverage = validate_resources(con, plan.domain, executor)
            record_coverage(con, plan.domain, coverage)
            con.execute(
                "DELETE FROM resource_quarantine WHERE load_id = ? AND domain = ?",
                [load.load_id, plan.domain],
            )
            con.execute(
                """
                INSERT INTO resource_quarantine
                SELECT load_id, domain, resource_type, profile, id, business_key,
                       'profile_validation', issues
                FROM fhir_resources WHERE domain = ? AND NOT valid
                """,
                [plan.domain],
            )
        return dg.MaterializeResult(
            metadata={
                "invalid": sum(invalid.values()),
                **{f"invalid/{p.split('/')[-1]}": n for p, n in sorted(invalid.items())},
                **{
                    f"must_support/{p.profile.split('/')[-1]}": (
                        f"{len(p.must_support) - len(p.missing)} of {len(p.must_support)} populated"
                    )
                    for p in coverage.profiles.values()
                },
            }
        )

    return validated


def coverage_check(plan: DomainPlan) -> dg.AssetChecksDefinition:
    """The domain's must-support check; it hangs on the served set, once every domain is validated,
    because a profile several domains emit (C4BB Organization) is judged on all of them."""

    @dg.asset_check(
        asset="served_resources",
        name=f"{plan.domain}_must_support_elements_populated",
        description=(
            f"Every must-support element, slice and extension of each profile the {plan.domain} "
            "domain emits is populated by at least one valid instance (how certification suites "
            "judge must-support), but for the gaps explained in mappings/must_support_gaps.yaml. "
            "A warning, not a failure: one night's data need not exercise every element."
        ),
    )
    def check(staging: StagingDatabase) -> dg.AssetCheckResult:
        with staging.connect() as con:
            gaps = coverage_gaps(con, plan.domain)
        explained = explained_gaps()
        unexplained, known = {}, {}
        for profile, items in gaps.items():
            label = profile.split("/")[-1]
            reasons = explained.get(label, {})
            if other := [item for item in items if item not in reasons]:
                unexplained[label] = other
            known.update({f"explained/{label}/{i}": reasons[i] for i in items if i in reasons})
        return dg.AssetCheckResult(
            passed=not unexplained,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "profiles": len(gaps),
                **{f"missing/{label}": ", ".join(items) for label, items in unexplained.items()},
                **known,
            },
        )

    return check


def domain_definitions(
    plan: DomainPlan,
) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    assets = [_raw_asset(plan), _staged_asset(plan), _fhir_asset(plan), _validated_asset(plan)]
    return assets, [_reconcile_check(plan)]
