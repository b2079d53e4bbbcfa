"""Run builders over canonical records streamed from DuckDB, and keep the resources in fhir_resources.

Records come out of DuckDB in Arrow batches and resources go back in Arrow batches, so memory
holds one batch at a time whatever the size of the load.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import duckdb
import orjson
import pyarrow as pa

from pipelines.conformance import default_validator
from pipelines.conformance.coverage import CoverageCollector, CoverageReport
from pipelines.fhir.ids import IdMaker
from pipelines.fhir.validation import validate
from serving.gc_pause import gc_paused

Record = dict[str, Any]
Resource = dict[str, Any]
Builder = Callable[[Record, IdMaker, str], Resource]
T = TypeVar("T")
BuiltRow = tuple[str, str, str, str, str, list[str]]

BATCH_ROWS = 2_000

FHIR_DDL = """
CREATE TABLE IF NOT EXISTS fhir_resources (
    load_id VARCHAR NOT NULL,
    domain VARCHAR NOT NULL,
    resource_type VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    profile VARCHAR NOT NULL,
    business_key VARCHAR NOT NULL,
    resource VARCHAR NOT NULL,
    refs VARCHAR[] NOT NULL,
    valid BOOLEAN,
    issues VARCHAR
)
"""


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        # A raw JSON number fragment keeps the exact digits of money ("12.50"), which float would not.
        return orjson.Fragment(str(value))
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def dumps(resource: Resource) -> str:
    return orjson.dumps(resource, default=_json_default).decode()


# orjson writes compact JSON, so every literal reference appears exactly in this form.
_REFERENCE = re.compile(r'"reference":"([^"]+)"')


def references(document: str) -> list[str]:
    """Every literal reference ('Type/id') inside a serialized resource, sorted and distinct."""
    return sorted(set(_REFERENCE.findall(document)))


@dataclass
class BuildJob:
    """One SQL query of records, one builder, and the business key of each record."""

    sql: str
    builder: Builder
    business_key: Callable[[Record], str]
    chunks: str | None = None  # SQL listing chunk numbers; `sql` then runs once per $chunk


def _resource_table(
    rows: list[tuple[str, str, str, str, str, list[str]]], load_id: str, domain: str
) -> pa.Table:
    types, ids, profiles, keys, documents, refs = (list(c) for c in zip(*rows, strict=True))
    size = len(rows)
    return pa.table(
        {
            "load_id": pa.array([load_id] * size, pa.string()),
            "domain": pa.array([domain] * size, pa.string()),
            "resource_type": types,
            "id": ids,
            "profile": profiles,
            "business_key": keys,
            "resource": documents,
            "refs": pa.array(refs, pa.list_(pa.string())),
        }
    )


def build_batch(
    job: BuildJob, batch: pa.RecordBatch, ids: IdMaker, last_updated: str
) -> list[BuiltRow]:
    """Build every record of one Arrow batch: (type, id, profile, business key, JSON, references)."""
    rows = []
    with gc_paused():
        for record in batch.to_pylist():
            resource = job.builder(record, ids, last_updated)
            document = dumps(resource)
            rows.append(
                (
                    resource["resourceType"],
                    resource["id"],
                    resource["meta"]["profile"][0],
                    job.business_key(record),
                    document,
                    references(document),
                )
            )
    return rows


def ordered_map(
    executor: Executor | None,
    function: Callable[..., T],
    argument_tuples: Iterator[tuple],
    window: int = 4,
) -> Iterator[T]:
    """function(*arguments) for each tuple, in order; in worker processes with a bounded backlog."""
    if executor is None:
        for arguments in argument_tuples:
            yield function(*arguments)
        return
    pending: deque[Future[T]] = deque()
    for arguments in argument_tuples:
        pending.append(executor.submit(function, *arguments))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _record_batches(con: duckdb.DuckDBPyConnection, job: BuildJob) -> Iterator[pa.RecordBatch]:
    if job.chunks is None:
        yield from con.sql(job.sql).to_arrow_reader(BATCH_ROWS)
        return
    for (chunk,) in con.execute(job.chunks).fetchall():
        yield from con.sql(job.sql, params={"chunk": chunk}).to_arrow_reader(BATCH_ROWS)


def build_resources(
    con: duckdb.DuckDBPyConnection,
    jobs: list[BuildJob],
    *,
    ids: IdMaker,
    last_updated: str,
    load_id: str,
    domain: str,
    setup: tuple[str, ...] = (),
    executor: Executor | None = None,
) -> Counter[str]:
    """Replace the domain's rows in fhir_resources with what the jobs build; counts per profile."""
    con.execute(FHIR_DDL)
    for statement in setup:
        con.execute(statement)
    con.execute("DELETE FROM fhir_resources WHERE domain = ?", [domain])
    counts: Counter[str] = Counter()
    reader_con = con.cursor()
    for job in jobs:
        tasks = ((job, batch, ids, last_updated) for batch in _record_batches(reader_con, job))
        for rows in ordered_map(executor, build_batch, tasks):
            if not rows:
                continue
            counts.update(row[2] for row in rows)
            con.register("built_batch", _resource_table(rows, load_id, domain))
            con.execute("INSERT INTO fhir_resources BY NAME SELECT * FROM built_batch")
            con.unregister("built_batch")
    return counts


ChunkOutcome = tuple[list[int], list[list[str]], CoverageReport]


def _validate_chunk(row_ids: list[int], documents: list[str]) -> ChunkOutcome:
    """Issues per resource, and the must-support coverage of the valid ones."""
    coverage = CoverageCollector(default_validator())
    issues_per_row = []
    with gc_paused():
        for document in documents:
            resource = orjson.loads(document)
            issues = validate(resource)
            if not issues:
                coverage.add(resource)
            issues_per_row.append(issues)
    return row_ids, issues_per_row, coverage.report


def _store_outcomes(
    con: duckdb.DuckDBPyConnection, row_ids: list[int], issues_per_row: list[list[str]]
) -> None:
    outcome = pa.table(
        {
            "row_id": pa.array(row_ids, pa.int64()),
            "valid": pa.array([not issues for issues in issues_per_row], pa.bool_()),
            "issues": pa.array(["; ".join(i) if i else None for i in issues_per_row], pa.string()),
        }
    )
    con.register("validation_batch", outcome)
    con.execute("INSERT INTO validation_outcome SELECT * FROM validation_batch")
    con.unregister("validation_batch")


def validate_resources(
    con: duckdb.DuckDBPyConnection, domain: str, executor: Executor | None = None
) -> tuple[Counter[str], CoverageReport]:
    """Validate the domain's built resources and record each one's issues; invalid counts per profile."""
    reader = con.cursor()
    batches = reader.sql(
        "SELECT rowid, resource FROM fhir_resources WHERE domain = $domain",
        params={"domain": domain},
    ).to_arrow_reader(BATCH_ROWS)
    chunks = (batch.to_pydict() for batch in batches)
    tasks = ((chunk["rowid"], chunk["resource"]) for chunk in chunks)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE validation_outcome (row_id BIGINT, valid BOOLEAN, issues VARCHAR)"
    )
    coverage = CoverageReport()
    for row_ids, issues_per_row, chunk_coverage in ordered_map(executor, _validate_chunk, tasks):
        _store_outcomes(con, row_ids, issues_per_row)
        coverage.merge(chunk_coverage)
    con.execute(
        "UPDATE fhir_resources f SET valid = o.valid, issues = o.issues "
        "FROM validation_outcome o WHERE f.rowid = o.row_id"
    )
    invalid = Counter(
        dict(
            con.execute(
                "SELECT profile, count(*) FILTER (WHERE NOT valid) FROM fhir_resources "
                "WHERE domain = ? GROUP BY profile",
                [domain],
            ).fetchall()
        )
    )
    return invalid, coverage
