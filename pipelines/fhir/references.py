"""Reference integrity of a load: only resources whose every reference resolves are served.

A reference resolves to a valid resource of this load or to a current resource of the serving
store; a resource that depends on one held back is held back too, until nothing dangles.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import duckdb
import sqlalchemy as sa

from serving.store import resources_table

LOOKUP_CHUNK = 5_000


def _chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def served_keys(engine: sa.Engine, references: Iterable[str]) -> set[str]:
    """The references ('Type/id') that name a current, non-deleted resource of the store."""
    by_type: dict[str, list[str]] = {}
    for reference in references:
        resource_type, _, resource_id = reference.partition("/")
        by_type.setdefault(resource_type, []).append(resource_id)
    found: set[str] = set()
    table = resources_table
    with engine.connect() as conn:
        for resource_type, ids in by_type.items():
            for chunk in _chunks(ids, LOOKUP_CHUNK):
                rows = conn.execute(
                    sa.select(table.c.id).where(
                        table.c.resource_type == resource_type,
                        table.c.id.in_(chunk),
                        table.c.deleted.is_(False),
                    )
                )
                found.update(f"{resource_type}/{row.id}" for row in rows)
    return found


def select_servable(con: duckdb.DuckDBPyConnection, engine: sa.Engine) -> int:
    """Mark fhir_resources.served; returns how many valid resources were held back as dangling."""
    con.execute("ALTER TABLE fhir_resources ADD COLUMN IF NOT EXISTS served BOOLEAN")
    con.execute("UPDATE fhir_resources SET served = coalesce(valid, false)")
    outside = [
        row[0]
        for row in con.execute(
            """
            SELECT DISTINCT target FROM (SELECT unnest(refs) AS target FROM fhir_resources WHERE served)
            WHERE target NOT IN (SELECT resource_type || '/' || id FROM fhir_resources WHERE served)
            """
        ).fetchall()
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE known_elsewhere (target VARCHAR)")
    known = sorted(served_keys(engine, outside)) if outside else []
    if known:
        con.executemany("INSERT INTO known_elsewhere VALUES (?)", [[k] for k in known])
    held_back = 0
    while True:
        changed = con.execute(
            """
            UPDATE fhir_resources f SET served = false
            WHERE served AND EXISTS (
                SELECT 1 FROM (SELECT unnest(f.refs) AS target) r
                WHERE r.target NOT IN (SELECT resource_type || '/' || id FROM fhir_resources WHERE served)
                  AND r.target NOT IN (SELECT target FROM known_elsewhere))
            """
        ).fetchone()[0]
        if not changed:
            return held_back
        held_back += changed
