"""FHIR Bulk Data export of the serving store: one NDJSON file per resource type and a
manifest, streamed from the database so memory stays flat."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from serving.store import json_bytes, resources_table

EXPORT_REQUEST = "interop export"
MANIFEST_FILE = "manifest.json"
STREAM_ROWS = 1_000


def export_ndjson(
    engine: sa.Engine, out_dir: Path, *, transaction_time: datetime | None = None
) -> dict[str, Any]:
    """Write `<ResourceType>.ndjson` for current, non-deleted resources and `manifest.json`.

    transaction_time defaults to the store's latest change, so the output depends only on the
    store content (lines are key-sorted JSON, ordered by type and id on every backend).
    """
    if transaction_time is not None and transaction_time.tzinfo is None:
        raise ValueError("transaction_time must be timezone-aware")
    out_dir.mkdir(parents=True, exist_ok=True)
    with _read_snapshot(engine) as conn:
        counts = _write_type_files(conn, out_dir)
        when = transaction_time or _latest_change(conn) or datetime.now(UTC)
    _remove_stale_files(out_dir, keep=counts.keys())
    manifest = _manifest(counts, when)
    _replace(out_dir / MANIFEST_FILE, [orjson.dumps(manifest, option=orjson.OPT_INDENT_2)])
    return manifest


@contextmanager
def _read_snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    # One snapshot for every file, so a load committing meanwhile cannot mix into the export.
    # SQLite in WAL mode gives that to any transaction; PostgreSQL needs REPEATABLE READ.
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _write_type_files(conn: sa.Connection, out_dir: Path) -> dict[str, int]:
    r = resources_table
    query = (
        sa.select(r.c.resource_type, r.c.resource)
        .where(sa.not_(r.c.deleted))
        .order_by(r.c.resource_type, r.c.id)
        .execution_options(yield_per=STREAM_ROWS)
    )
    counts: dict[str, int] = {}
    for rtype, rows in itertools.groupby(conn.execute(query), key=lambda row: row.resource_type):
        lines = (json_bytes(row.resource, sort_keys=True) + b"\n" for row in rows)
        counts[rtype] = _replace(out_dir / f"{rtype}.ndjson", lines)
    return counts


def _replace(path: Path, chunks: Iterable[bytes]) -> int:
    """Write chunks to a side file, then swap it in whole; returns the number of chunks."""
    part = path.with_name(path.name + ".part")
    count = 0
    with part.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
            count += 1
    os.replace(part, path)
    return count


def _latest_change(conn: sa.Connection) -> datetime | None:
    return conn.execute(sa.select(sa.func.max(resources_table.c.last_updated))).scalar()


def _remove_stale_files(out_dir: Path, keep: Iterable[str]) -> None:
    kept = set(keep)
    for path in out_dir.glob("*.ndjson"):
        if path.stem not in kept:
            path.unlink()


def _manifest(counts: dict[str, int], transaction_time: datetime) -> dict[str, Any]:
    return {
        "transactionTime": transaction_time.astimezone(UTC).isoformat(),
        "request": EXPORT_REQUEST,
        "requiresAccessToken": False,
        "output": [
            {"type": rtype, "url": f"{rtype}.ndjson", "count": count}
            for rtype, count in sorted(counts.items())
        ],
        "error": [],
    }
