"""Serving: load every valid, fully resolved resource of the night into the versioned store, then export."""

from collections.abc import Iterator

import dagster as dg
import duckdb
import orjson

from pipelines.assets import claims, directory, formulary, members
from pipelines.assets.stages import DomainPlan
from pipelines.fhir.references import select_servable, served_keys
from pipelines.resources import PipelineSettings, ServingStore, StagingDatabase
from serving.export import export_ndjson
from serving.gc_pause import gc_paused
from serving.load import DomainBatch, load_resources

PLANS: tuple[DomainPlan, ...] = (members.PLAN, claims.PLAN, formulary.PLAN, directory.PLAN)
DOMAINS = tuple(plan.domain for plan in PLANS)
SNAPSHOT_DOMAINS = tuple(plan.domain for plan in PLANS if plan.snapshot)
LOAD_BATCH = 1_000


def _servable_batches(con: duckdb.DuckDBPyConnection) -> Iterator[DomainBatch]:
    for domain in DOMAINS:
        reader = con.cursor().sql(
            "SELECT resource FROM fhir_resources WHERE served AND domain = $domain",
            params={"domain": domain},
        )
        for batch in reader.to_arrow_reader(LOAD_BATCH):
            with gc_paused():
                documents = batch.column("resource").to_pylist()
                resources = [orjson.loads(document) for document in documents]
            yield DomainBatch(domain, resources)


def _quarantine_unresolved(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "DELETE FROM resource_quarantine WHERE reason_code = 'unresolved_reference' "
        "AND load_id IN (SELECT DISTINCT load_id FROM fhir_resources)"
    )
    con.execute(
        """
        INSERT INTO resource_quarantine
        SELECT load_id, domain, resource_type, profile, id, business_key, 'unresolved_reference',
               'a referenced resource is neither served nor valid in this load: '
               || array_to_string(refs, ', ')
        FROM fhir_resources WHERE valid AND NOT served
        """
    )


@dg.asset(
    group_name="serving",
    deps=[f"{domain}_validated" for domain in DOMAINS],
    description="The night's valid resources loaded into the serving store: one transaction, versioned.",
)
def served_resources(staging: StagingDatabase, serving: ServingStore) -> dg.MaterializeResult:
    engine = serving.engine()
    with staging.connect() as con:
        held_back = select_servable(con, engine)
        _quarantine_unresolved(con)
        load_time = con.execute("SELECT max(load_time) FROM current_load").fetchone()[0]
        summary = load_resources(
            engine,
            _servable_batches(con),
            load_time=load_time,
            snapshot_domains=SNAPSHOT_DOMAINS,
        )
    return dg.MaterializeResult(
        metadata={
            "held_back_unresolved": held_back,
            "load_id": summary.load_id,
            **summary.to_metadata(),
        }
    )


@dg.asset_check(
    asset=served_resources,
    name="served_references_resolve",
    description="Every reference inside a served resource names a current resource of the store.",
    blocking=True,
)
def served_references_resolve(
    staging: StagingDatabase, serving: ServingStore
) -> dg.AssetCheckResult:
    with staging.connect() as con:
        targets = [
            row[0]
            for row in con.execute(
                "SELECT DISTINCT unnest(refs) FROM fhir_resources WHERE served"
            ).fetchall()
        ]
    dangling = set(targets) - served_keys(serving.engine(), targets)
    return dg.AssetCheckResult(
        passed=not dangling,
        metadata={"references": len(targets), "dangling": len(dangling)},
    )


@dg.asset_check(
    asset=served_resources,
    name="only_valid_resources_served",
    description="No resource that failed validation is in the served set.",
    blocking=True,
)
def only_valid_resources_served(staging: StagingDatabase) -> dg.AssetCheckResult:
    with staging.connect() as con:
        served_invalid = con.execute(
            "SELECT count(*) FROM fhir_resources WHERE served AND NOT coalesce(valid, false)"
        ).fetchone()[0]
    return dg.AssetCheckResult(
        passed=served_invalid == 0, metadata={"served_invalid": served_invalid}
    )


@dg.asset_check(
    asset=served_resources,
    name="every_resource_served_or_quarantined",
    description="Per profile: resources built = resources served + resources quarantined.",
    blocking=True,
)
def every_resource_served_or_quarantined(staging: StagingDatabase) -> dg.AssetCheckResult:
    with staging.connect() as con:
        rows = con.execute(
            """
            SELECT f.profile, count(*) AS built, count(*) FILTER (WHERE served) AS served,
                   (SELECT count(*) FROM resource_quarantine q
                    WHERE q.load_id = any_value(f.load_id) AND q.profile = f.profile
                      AND q.domain = any_value(f.domain)) AS quarantined
            FROM fhir_resources f GROUP BY f.profile ORDER BY f.profile
            """
        ).fetchall()
    unbalanced = [r for r in rows if r[1] != r[2] + r[3]]
    return dg.AssetCheckResult(
        passed=not unbalanced,
        metadata={
            **{
                f"{p.split('/')[-1]}": f"{b} built, {s} served, {q} quarantined"
                for p, b, s, q in rows
            },
        },
    )


@dg.asset(
    group_name="serving",
    deps=[served_resources],
    description="The serving store as FHIR Bulk Data NDJSON, one file per resource type, with a manifest.",
)
def bulk_export(serving: ServingStore, settings: PipelineSettings) -> dg.MaterializeResult:
    manifest = export_ndjson(serving.engine(), settings.export_dir)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.export_dir)),
            **{f"count/{entry['type']}": entry["count"] for entry in manifest["output"]},
        }
    )
