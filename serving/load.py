"""Versioned diff-load into the serving store, in one transaction: unchanged content keeps its
version, changed content gets a new one, and what a full snapshot no longer holds is tombstoned."""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from serving.store import (
    FhirKey,
    UtcDateTime,
    history_table,
    json_bytes,
    loads_table,
    resources_table,
    write_transaction,
)

# Parameters per IN (...) lookup; stays under SQLite's 32766 and PostgreSQL's 65535 limits.
MAX_IDS_PER_QUERY = 10_000
# psycopg binary COPY writes new versions faster than batched INSERT; see bench/bench_load.py.
USE_POSTGRES_COPY = True

_VOLATILE_META = ("versionId", "lastUpdated")
_UPDATED_COLUMNS = ("version_id", "last_updated", "content_hash", "deleted", "resource")
_COPY_TYPES = {
    "resource_type": "varchar",
    "id": "varchar",
    "version_id": "int4",
    "last_updated": "timestamptz",
    "content_hash": "varchar",
    "deleted": "bool",
    "resource": "jsonb",
}

# The (type, id) pairs seen so far in this load, kept in the database rather than in Python so
# memory stays flat however large the load; it also drives snapshot tombstoning in SQL.
_load_keys = sa.Table(
    "serving_load_keys",
    sa.MetaData(),
    sa.Column("resource_type", FhirKey, nullable=False),
    sa.Column("id", FhirKey, nullable=False),
    sa.PrimaryKeyConstraint("resource_type", "id"),
    prefixes=["TEMPORARY"],
)


@dataclass
class TypeCounts:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0


@dataclass
class LoadSummary:
    load_id: str
    counts: dict[str, TypeCounts]

    def to_metadata(self) -> dict[str, int]:
        """Flat plain ints for Dagster metadata: totals, then `<Type>.<count>` per type."""
        per_type = {
            f"{rtype}.{name}": value
            for rtype, counts in self.counts.items()
            for name, value in asdict(counts).items()
        }
        totals = {
            name: sum(getattr(counts, name) for counts in self.counts.values())
            for name in asdict(TypeCounts())
        }
        return totals | per_type


@dataclass
class _BatchWrites:
    history: list[dict[str, Any]] = field(default_factory=list)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)


def content_hash(resource: dict[str, Any]) -> str:
    """sha256 of the canonical JSON without meta.versionId and meta.lastUpdated, so a rebuild of
    the same content at a later time hashes the same."""
    body = {key: value for key, value in resource.items() if key != "meta"}
    meta = {k: v for k, v in resource.get("meta", {}).items() if k not in _VOLATILE_META}
    if meta:
        body["meta"] = meta
    return hashlib.sha256(json_bytes(body, sort_keys=True)).hexdigest()


def load_resources(
    engine: sa.Engine,
    batches: Iterable[Sequence[dict[str, Any]]],
    *,
    load_time: datetime,
    snapshot_types: Collection[str] = (),
) -> LoadSummary:
    """Load every batch in one transaction and record the load.

    For each type in snapshot_types the batches are the whole current set: a current resource of
    that type missing from them is tombstoned (listing a type with no resources deletes it all).
    """
    if isinstance(snapshot_types, str):
        raise TypeError("snapshot_types must be a collection of type names, not one string")
    if load_time.tzinfo is None:
        raise ValueError("load_time must be timezone-aware")
    load_time = load_time.astimezone(UTC)
    started_at = datetime.now(UTC)
    counts: dict[str, TypeCounts] = defaultdict(TypeCounts)
    with write_transaction(engine) as conn:
        _load_keys.create(conn)
        for batch in batches:
            _load_batch(conn, batch, load_time, counts)
        for rtype in sorted(snapshot_types):
            counts[rtype].deleted += _tombstone_absent(conn, rtype, load_time)
        _load_keys.drop(conn)
        summary = LoadSummary(load_id=str(uuid.uuid4()), counts=dict(sorted(counts.items())))
        _record_load(conn, summary, started_at)
    return summary


def _load_batch(
    conn: sa.Connection,
    batch: Sequence[dict[str, Any]],
    load_time: datetime,
    counts: dict[str, TypeCounts],
) -> None:
    writes = _BatchWrites()
    for rtype, resources in _group_by_type(batch).items():
        _reject_seen(conn, rtype, resources)
        current = _current_versions(conn, rtype, resources)
        _insert(conn, _load_keys, [{"resource_type": rtype, "id": i} for i in resources])
        for rid, resource in resources.items():
            _plan_resource(writes, counts[rtype], resource, current.get(rid), load_time)
    _write(conn, writes)


def _group_by_type(batch: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    grouped: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for resource in batch:
        rtype, rid = resource.get("resourceType"), resource.get("id")
        if not isinstance(rtype, str) or not isinstance(rid, str) or not rtype or not rid:
            raise ValueError(f"resource without resourceType and id: {str(resource)[:120]}")
        if rid in grouped[rtype]:
            raise ValueError(f"duplicate {rtype}/{rid} in one load")
        grouped[rtype][rid] = resource
    return grouped


def _chunks(ids: Collection[str]) -> Iterator[list[str]]:
    ordered = list(ids)
    for start in range(0, len(ordered), MAX_IDS_PER_QUERY):
        yield ordered[start : start + MAX_IDS_PER_QUERY]


def _id_in(conn: sa.Connection, column: sa.Column[str], ids: list[str]) -> sa.ColumnElement[bool]:
    # One array parameter on PostgreSQL: psycopg parses a query with thousands of
    # placeholders noticeably slower than the server takes to answer it.
    if conn.dialect.name == "postgresql":
        return column == sa.any_(sa.literal(ids, postgresql.ARRAY(column.type)))
    return column.in_(ids)


def _reject_seen(conn: sa.Connection, rtype: str, ids: Collection[str]) -> None:
    k = _load_keys
    for chunk in _chunks(ids):
        in_chunk = _id_in(conn, k.c.id, chunk)
        query = sa.select(k.c.id).where(k.c.resource_type == rtype, in_chunk).limit(1)
        seen = conn.execute(query).scalar()
        if seen is not None:
            raise ValueError(f"duplicate {rtype}/{seen} in one load")


def _current_versions(conn: sa.Connection, rtype: str, ids: Collection[str]) -> dict[str, Any]:
    r = resources_table
    found: dict[str, Any] = {}
    for chunk in _chunks(ids):
        query = sa.select(r.c.id, r.c.version_id, r.c.content_hash, r.c.deleted).where(
            r.c.resource_type == rtype, _id_in(conn, r.c.id, chunk)
        )
        found.update((row.id, row) for row in conn.execute(query))
    return found


def _plan_resource(
    writes: _BatchWrites,
    counts: TypeCounts,
    resource: dict[str, Any],
    current: Any,
    load_time: datetime,
) -> None:
    digest = content_hash(resource)
    if current is not None and current.content_hash == digest and not current.deleted:
        counts.unchanged += 1
        return
    version = 1 if current is None else current.version_id + 1
    row = {
        "resource_type": resource["resourceType"],
        "id": resource["id"],
        "version_id": version,
        "last_updated": load_time,
        "content_hash": digest,
        "deleted": False,
        "resource": _stamp(resource, version, load_time),
    }
    writes.history.append(row)
    if current is None:
        counts.added += 1
        writes.inserts.append(row)
    else:
        # A tombstoned resource that comes back is a change of an existing id.
        counts.changed += 1
        writes.updates.append(row)


def _stamp(resource: dict[str, Any], version: int, load_time: datetime) -> dict[str, Any]:
    meta = {
        **resource.get("meta", {}),
        "versionId": str(version),
        "lastUpdated": load_time.isoformat(),
    }
    return {**resource, "meta": meta}


def _write(conn: sa.Connection, writes: _BatchWrites) -> None:
    _insert(conn, history_table, writes.history)
    _insert(conn, resources_table, writes.inserts)
    if writes.updates:
        conn.execute(_update_current, [_update_params(row) for row in writes.updates])


def _insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if USE_POSTGRES_COPY and conn.dialect.name == "postgresql":
        _copy(conn, table, rows)
    else:
        conn.execute(table.insert(), rows)


def _copy(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    # Same DBAPI connection, so COPY runs inside the load's transaction. Binary jsonb goes
    # through psycopg's jsonb dumper (set to orjson by the engine): a dict becomes an object.
    names = [column.name for column in table.columns]
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
    with conn.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types([_COPY_TYPES[name] for name in names])
        for row in rows:
            copy.write_row([row[name] for name in names])


# Key parameters are renamed (b_*) because SQLAlchemy reserves column names for SET values.
_update_current = (
    resources_table.update()
    .where(
        resources_table.c.resource_type == sa.bindparam("b_type"),
        resources_table.c.id == sa.bindparam("b_id"),
    )
    .values({name: sa.bindparam(name) for name in _UPDATED_COLUMNS})
)


def _update_params(row: dict[str, Any]) -> dict[str, Any]:
    params = {name: row[name] for name in _UPDATED_COLUMNS}
    return params | {"b_type": row["resource_type"], "b_id": row["id"]}


def _tombstone_absent(conn: sa.Connection, rtype: str, load_time: datetime) -> int:
    """Tombstone current resources of rtype that this load did not hold; returns how many."""
    r, k = resources_table, _load_keys
    absent = sa.and_(
        r.c.resource_type == rtype,
        sa.not_(r.c.deleted),
        ~sa.exists().where(k.c.resource_type == r.c.resource_type, k.c.id == r.c.id),
    )
    tombstones = sa.select(
        r.c.resource_type,
        r.c.id,
        r.c.version_id + 1,
        sa.literal(load_time, UtcDateTime()),
        r.c.content_hash,
        sa.true(),
        sa.null(),
    ).where(absent)
    conn.execute(history_table.insert().from_select(list(history_table.c.keys()), tombstones))
    flip = r.update().where(absent)
    flip = flip.values(
        version_id=r.c.version_id + 1, last_updated=load_time, deleted=True, resource=None
    )
    return conn.execute(flip).rowcount


def _record_load(conn: sa.Connection, summary: LoadSummary, started_at: datetime) -> None:
    counts = {rtype: asdict(type_counts) for rtype, type_counts in summary.counts.items()}
    conn.execute(
        loads_table.insert().values(
            load_id=summary.load_id,
            started_at=started_at,
            finished_at=datetime.now(UTC),
            counts=counts,
        )
    )
