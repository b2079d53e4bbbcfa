"""Versioned diff-load into the serving store, in one transaction: unchanged content keeps its
version, changed content gets a new one, and what a full snapshot no longer holds is tombstoned."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
import sqlalchemy as sa

from serving.gc_pause import gc_paused
from serving.search.definitions import index_spec
from serving.search.extract import IndexRows
from serving.store import (
    SEARCH_TABLES,
    FhirKey,
    UtcDateTime,
    create_search_indexes,
    history_table,
    json_bytes,
    loads_table,
    refresh_statistics,
    resources_table,
    search_date_table,
    search_indexes_exist,
    search_profile_table,
    search_reference_table,
    search_string_table,
    search_token_table,
    write_transaction,
)

# A load writing this many versions refreshes the planner statistics before it commits.
ANALYZE_AFTER_ROWS = 50_000
# Parameters per IN (...) lookup; stays under SQLite's 32766 and PostgreSQL's 65535 limits.
MAX_IDS_PER_QUERY = 10_000
# psycopg binary COPY writes new versions faster than batched INSERT; see bench/bench_load.py.
USE_POSTGRES_COPY = True
# SQLite page cache of the load's connection, in KiB (SQLite's default is 2 MB): ids arrive in
# no particular order, so the inserts of each batch touch pages all over the primary-key indexes.
SQLITE_LOAD_CACHE_KIB = 65_536

_VOLATILE_META = ("versionId", "lastUpdated")
# Stands in for the value of meta while a resource is serialized. orjson escapes every control
# character inside JSON strings, so a raw NUL byte appears nowhere else in the output.
_META_MARK = b"\x00"
_COLUMNS = [column.name for column in resources_table.columns]
_ON_CONFLICT_SET_CURRENT = "ON CONFLICT (resource_type, id) DO UPDATE SET " + ", ".join(
    f"{name} = excluded.{name}" for name in _COLUMNS if name not in ("resource_type", "id")
)
# jsonb's binary input is a format version byte then the JSON text: COPY sends the text made
# here as raw bytes, where psycopg's jsonb dumper would serialize a dict a second time.
_JSONB_VERSION = b"\x01"
_COPY_TYPES = {
    "resource_type": "varchar",
    "id": "varchar",
    "version_id": "int4",
    "last_updated": "timestamptz",
    "content_hash": "varchar",
    "deleted": "bool",
    "resource": "bytea",
    "domain": "varchar",
    "param": "varchar",
    "system": "varchar",
    "code": "varchar",
    "value": "varchar",
    "exact": "text",
    "target_type": "varchar",
    "target_id": "varchar",
    "target_url": "text",
    "low": "timestamptz",
    "high": "timestamptz",
    "profile": "varchar",
}
# IndexRows attribute -> the search table its rows go to.
_INDEX_TABLES = {
    "token": search_token_table,
    "string": search_string_table,
    "reference": search_reference_table,
    "date": search_date_table,
    "profile": search_profile_table,
}
# Resources re-indexed per batch by reindex().
REINDEX_BATCH = 1_000

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


def _probe_postgres(table: sa.Table, columns: Sequence[str], key: Sequence[str]) -> str:
    """Rows of table found by one primary-key probe per element of the key arrays (the first
    parameters), for the resource type given as the last parameter.

    OFFSET 0 keeps PostgreSQL from flattening the probes into a join that, with statistics
    older than the rows this load has added, it would answer by scanning the whole type."""
    arrays = ", ".join(f"%s::{_COPY_TYPES[name]}[]" for name in key)
    match = " AND ".join(f"{name} = wanted.{name}" for name in key)
    return (
        f"SELECT {', '.join(f'found.{name}' for name in columns)} "
        f"FROM unnest({arrays}) AS wanted ({', '.join(key)}), "
        f"LATERAL (SELECT {', '.join(columns)} FROM {table.name} "
        f"WHERE resource_type = %s AND {match} OFFSET 0) AS found"
    )


# The current rows become the versions just copied into history: the server copies stored
# values rather than parsing the same JSON a second time.
_CURRENT_FROM_HISTORY = (
    f"INSERT INTO {resources_table.name} ({', '.join(_COLUMNS)}) "
    f"{_probe_postgres(history_table, _COLUMNS, ('id', 'version_id'))} "
    f"{_ON_CONFLICT_SET_CURRENT}"
)
_CURRENT_COLUMNS = ("id", "version_id", "content_hash", "deleted")
_CURRENT_POSTGRES = _probe_postgres(resources_table, _CURRENT_COLUMNS, ["id"])
_REGISTER_KEYS_POSTGRES = (
    f"INSERT INTO {_load_keys.name} (resource_type, id) SELECT %s, unnest(%s::varchar[]) "
    "ON CONFLICT DO NOTHING RETURNING id"
)


class DomainBatch(NamedTuple):
    """Resources of one pipeline domain; a plain sequence of resources is domain ""."""

    domain: str
    resources: Sequence[dict[str, Any]]


Batch = DomainBatch | Sequence[dict[str, Any]]


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


def content_hash(resource: dict[str, Any]) -> str:
    """sha256 of the canonical JSON without meta.versionId and meta.lastUpdated, so a rebuild of
    the same content at a later time hashes the same."""
    return _Canonical.of(resource).content_hash()


@dataclass(frozen=True, slots=True)
class _Canonical:
    """A resource serialized once as key-sorted JSON, split where the value of its meta goes:
    its hashed text and the stored text of a new version differ only in that meta."""

    resource: dict[str, Any]
    before_meta: bytes
    after_meta: bytes

    @classmethod
    def of(cls, resource: dict[str, Any]) -> _Canonical:
        marked = {**resource, "meta": orjson.Fragment(_META_MARK)}
        before, _, after = json_bytes(marked, sort_keys=True).partition(_META_MARK)
        return cls(resource, before, after)

    def content_hash(self) -> str:
        meta = self.resource.get("meta", {})
        kept = {key: value for key, value in meta.items() if key not in _VOLATILE_META}
        if not kept:
            # An empty meta is left out of the hashed JSON altogether.
            body = {key: value for key, value in self.resource.items() if key != "meta"}
            return hashlib.sha256(json_bytes(body, sort_keys=True)).hexdigest()
        digest = hashlib.sha256(self.before_meta)
        digest.update(json_bytes(kept, sort_keys=True))
        digest.update(self.after_meta)
        return digest.hexdigest()

    def stamped(self, version: int, last_updated: str) -> bytes:
        """The JSON stored for a version: meta gets its versionId and lastUpdated."""
        meta = {
            **self.resource.get("meta", {}),
            "versionId": str(version),
            "lastUpdated": last_updated,
        }
        return self.before_meta + json_bytes(meta, sort_keys=True) + self.after_meta


def load_resources(
    engine: sa.Engine,
    batches: Iterable[Batch],
    *,
    load_time: datetime,
    snapshot_types: Collection[str] = (),
    snapshot_domains: Collection[str] = (),
) -> LoadSummary:
    """Load every batch in one transaction and record the load.

    For each type in snapshot_types, and each domain in snapshot_domains, the batches are the
    whole current set: a current resource of that type, or of that domain, missing from them is
    tombstoned (listing one with no resources deletes it all).
    """
    for name, given in (("snapshot_types", snapshot_types), ("snapshot_domains", snapshot_domains)):
        if isinstance(given, str):
            raise TypeError(f"{name} must be a collection of names, not one string")
    if load_time.tzinfo is None:
        raise ValueError("load_time must be timezone-aware")
    load_time = load_time.astimezone(UTC)
    started_at = datetime.now(UTC)
    counts: dict[str, TypeCounts] = defaultdict(TypeCounts)
    with gc_paused(), write_transaction(engine) as conn, _sqlite_load_cache(conn):
        _load_keys.create(conn)
        bulk_index = _claim_bulk_index(conn)
        driver = _Driver(conn, load_time)
        for batch in batches:
            domain, resources = batch if isinstance(batch, DomainBatch) else ("", batch)
            for rtype, typed in _group_by_type(resources).items():
                _load_type_batch(driver, rtype, typed, counts[rtype], domain)
        absent = [resources_table.c.resource_type == rtype for rtype in sorted(snapshot_types)]
        absent += [resources_table.c.domain == name for name in sorted(snapshot_domains)]
        for rtype, deleted in _tombstone_absent(driver, absent, load_time).items():
            counts[rtype].deleted += deleted
        _load_keys.drop(conn)
        if bulk_index:
            create_search_indexes(conn)
        if sum(c.added + c.changed + c.deleted for c in counts.values()) >= ANALYZE_AFTER_ROWS:
            refresh_statistics(conn)
        summary = LoadSummary(load_id=str(uuid.uuid4()), counts=dict(sorted(counts.items())))
        _record_load(conn, summary, started_at)
    return summary


def _claim_bulk_index(conn: sa.Connection) -> bool:
    """Whether this load writes into a store without search indexes, to build them at its end.

    On PostgreSQL a concurrent load would see the same and deadlock with this one on building
    them: the first to lock the search tables against writers goes first, the other waits and
    then finds the indexes built. SQLite's write transactions are serialized already."""
    if search_indexes_exist(conn):
        return False
    if conn.dialect.name == "postgresql":
        names = ", ".join(table.name for table in SEARCH_TABLES)
        conn.exec_driver_sql(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
    return not search_indexes_exist(conn)


@contextmanager
def _sqlite_load_cache(conn: sa.Connection) -> Iterator[None]:
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_LOAD_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {previous}")


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


def _load_type_batch(
    driver: _Driver,
    rtype: str,
    resources: dict[str, dict[str, Any]],
    counts: TypeCounts,
    domain: str,
) -> None:
    driver.register_keys(rtype, list(resources))
    current = driver.current_versions(rtype, list(resources))
    spec = index_spec(rtype)
    index = IndexRows()
    replaced: list[str] = []

    def new_versions() -> Iterator[tuple[Any, ...]]:
        # Made one at a time as the driver takes them: PostgreSQL parses a COPY row while
        # Python serializes the next, and indexes it.
        for rid, resource in resources.items():
            canonical = _Canonical.of(resource)
            digest = canonical.content_hash()
            previous = current.get(rid)
            version = _new_version(previous, digest, counts)
            if version is not None:
                text = driver.json_param(canonical.stamped(version, driver.meta_last_updated))
                yield (rtype, rid, version, driver.last_updated, digest, False, text, domain)
                index.add(rtype, rid, resource, spec)
                if previous is not None:
                    replaced.append(rid)

    driver.add_versions(rtype, new_versions())
    driver.delete_index(rtype, replaced)
    driver.add_index(index)


def _new_version(
    current: tuple[int, str, bool] | None, digest: str, counts: TypeCounts
) -> int | None:
    """The version to write for content with this digest; None when it is unchanged."""
    if current is None:
        counts.added += 1
        return 1
    version, stored_digest, deleted = current
    if stored_digest == digest and not deleted:
        counts.unchanged += 1
        return None
    # A tombstoned resource that comes back is a change of an existing id.
    counts.changed += 1
    return version + 1


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), MAX_IDS_PER_QUERY):
        yield ids[start : start + MAX_IDS_PER_QUERY]


class _Driver:
    """The load's per-batch reads and writes as driver-level SQL on the load's connection,
    skipping SQLAlchemy's per-row parameter and result processing: every row of a load shares
    one timestamp, bound once, and the JSON is serialized once for history and current rows.
    PostgreSQL writes with binary COPY (unless USE_POSTGRES_COPY is off), others executemany."""

    def __init__(self, conn: sa.Connection, load_time: datetime) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.copy = USE_POSTGRES_COPY and self.postgres
        self.last_updated = _bound(conn, history_table.c.last_updated, load_time)
        low = search_date_table.c.low
        self.date_param = low.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        self.meta_last_updated = load_time.isoformat()

    def json_param(self, text: bytes) -> str | bytes:
        # Text, not bytes, for executemany: sqlite3 would store bytes as a BLOB.
        return _JSONB_VERSION + text if self.copy else text.decode()

    def register_keys(self, rtype: str, ids: list[str]) -> None:
        """Add the ids to the load's keys; raises on one this load has already seen."""
        if self.postgres:
            # One statement checks and records: a key already there is not inserted again.
            inserted = {
                row.id for row in self.conn.exec_driver_sql(_REGISTER_KEYS_POSTGRES, (rtype, ids))
            }
            seen = [rid for rid in ids if rid not in inserted]
        else:
            found = (
                self._sqlite_lookup(_load_keys, ["id"], rtype, chunk) for chunk in _chunks(ids)
            )
            seen = [row.id for rows in found for row in rows]
        if seen:
            raise ValueError(f"duplicate {rtype}/{seen[0]} in one load")
        if not self.postgres:
            self._executemany(self._insert(_load_keys), [(rtype, rid) for rid in ids])

    def current_versions(self, rtype: str, ids: list[str]) -> dict[str, tuple[int, str, bool]]:
        """(version, content hash, deleted) of the current row of each id that has one."""
        found: dict[str, tuple[int, str, bool]] = {}
        for chunk in _chunks(ids):
            if self.postgres:
                rows = self.conn.exec_driver_sql(_CURRENT_POSTGRES, (chunk, rtype))
            else:
                rows = self._sqlite_lookup(resources_table, _CURRENT_COLUMNS, rtype, chunk)
            for rid, version, digest, deleted in rows:
                found[rid] = (version, digest, bool(deleted))
        return found

    def _sqlite_lookup(
        self, table: sa.Table, columns: Sequence[str], rtype: str, ids: list[str]
    ) -> sa.CursorResult[Any]:
        query = (
            f"SELECT {', '.join(columns)} FROM {table.name} "
            f"WHERE resource_type = ? AND id IN ({', '.join('?' * len(ids))})"
        )
        return self.conn.exec_driver_sql(query, (rtype, *ids))

    def add_versions(self, rtype: str, rows: Iterator[tuple[Any, ...]]) -> None:
        """New versions into history, then the same versions as the current rows."""
        if not self.copy:
            written = list(rows)
            self._executemany(self._insert(history_table), written)
            self._executemany(
                f"{self._insert(resources_table)} {_ON_CONFLICT_SET_CURRENT}", written
            )
            return
        first = next(rows, None)
        if first is None:
            return
        ids: list[str] = []
        versions: list[int] = []
        with self._copy_into(history_table) as copy:
            for row in itertools.chain([first], rows):
                copy.write_row(row)
                ids.append(row[1])
                versions.append(row[2])
        self.conn.exec_driver_sql(_CURRENT_FROM_HISTORY, (ids, versions, rtype))

    def delete_index(self, rtype: str, ids: list[str]) -> None:
        """Remove the search-index rows of these resources (their old version's values)."""
        for chunk in _chunks(ids):
            for table in SEARCH_TABLES:
                if self.postgres:
                    self.conn.exec_driver_sql(
                        f"DELETE FROM {table.name} WHERE resource_type = %s AND id = ANY(%s)",
                        (rtype, chunk),
                    )
                else:
                    self.conn.exec_driver_sql(
                        f"DELETE FROM {table.name} WHERE resource_type = ? "
                        f"AND id IN ({', '.join('?' * len(chunk))})",
                        (rtype, *chunk),
                    )

    def add_index(self, index: IndexRows) -> None:
        for name, table in _INDEX_TABLES.items():
            rows = getattr(index, name)
            if not rows:
                continue
            if self.copy:
                with self._copy_into(table) as copy:
                    for row in rows:
                        copy.write_row(row)
                continue
            if table is search_date_table and self.date_param is not None:
                rows = [
                    (*row[:3], self.date_param(row[3]), self.date_param(row[4])) for row in rows
                ]
            self._executemany(self._insert(table), rows)

    def _insert(self, table: sa.Table) -> str:
        names = [column.name for column in table.columns]
        values = ", ".join(["%s" if self.postgres else "?"] * len(names))
        return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({values})"

    def _executemany(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.conn.exec_driver_sql(statement, rows)

    @contextmanager
    def _copy_into(self, table: sa.Table) -> Iterator[Any]:
        names = [column.name for column in table.columns]
        statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)"
        dbapi = self.conn.connection.driver_connection
        with dbapi.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types([_COPY_TYPES[name] for name in names])
            yield copy


def _bound(conn: sa.Connection, column: sa.Column[Any], value: Any) -> Any:
    """value as the column's type hands it to this dialect's driver."""
    process = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return value if process is None else process(value)


def _tombstone_absent(
    driver: _Driver, scopes: list[sa.ColumnElement[bool]], load_time: datetime
) -> Counter[str]:
    """Tombstone the current resources within any scope that this load did not hold, and drop
    their search-index rows; returns how many per type."""
    if not scopes:
        return Counter()
    conn = driver.conn
    r, k = resources_table, _load_keys
    absent = sa.and_(
        sa.or_(*scopes),
        sa.not_(r.c.deleted),
        ~sa.exists().where(k.c.resource_type == r.c.resource_type, k.c.id == r.c.id),
    )
    deleted = Counter(
        dict(
            conn.execute(
                sa.select(r.c.resource_type, sa.func.count())
                .where(absent)
                .group_by(r.c.resource_type)
            ).all()
        )
    )
    tombstones = sa.select(
        r.c.resource_type,
        r.c.id,
        r.c.version_id + 1,
        sa.literal(load_time, UtcDateTime()),
        r.c.content_hash,
        sa.true(),
        sa.null(),
        r.c.domain,
    ).where(absent)
    conn.execute(history_table.insert().from_select(list(history_table.c.keys()), tombstones))
    gone: dict[str, list[str]] = defaultdict(list)
    for rtype, rid in conn.execute(sa.select(r.c.resource_type, r.c.id).where(absent)):
        gone[rtype].append(rid)
    for rtype, ids in gone.items():
        driver.delete_index(rtype, ids)
    flip = r.update().where(absent)
    flip = flip.values(
        version_id=r.c.version_id + 1, last_updated=load_time, deleted=True, resource=None
    )
    conn.execute(flip)
    return deleted


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


def reindex(engine: sa.Engine) -> int:
    """Rebuild the whole search index from the current resources, in one transaction (for stores
    loaded before the index existed, or after the compiled parameters change); returns how
    many resources were indexed."""
    r = resources_table
    indexed = 0
    with gc_paused(), write_transaction(engine) as conn:
        for table in SEARCH_TABLES:
            conn.execute(table.delete())
        driver = _Driver(conn, datetime.now(UTC))
        after = ("", "")
        while True:
            batch = conn.execute(
                sa.select(r.c.resource_type, r.c.id, r.c.resource)
                .where(sa.tuple_(r.c.resource_type, r.c.id) > after, sa.not_(r.c.deleted))
                .order_by(r.c.resource_type, r.c.id)
                .limit(REINDEX_BATCH)
            ).all()
            if not batch:
                create_search_indexes(conn)
                return indexed
            index = IndexRows()
            for rtype, rid, resource in batch:
                index.add(rtype, rid, resource, index_spec(rtype))
            driver.add_index(index)
            indexed += len(batch)
            after = (batch[-1].resource_type, batch[-1].id)
