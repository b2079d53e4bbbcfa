"""Serving-store schema (SQLAlchemy Core) and engine creation: the contract between the
pipeline, which writes versions, and the FHIR API, which reads them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

DEFAULT_SQLITE_FILE = "serving.db"
SQLITE_BUSY_TIMEOUT_S = 30.0
# Page size of a new SQLite file (an existing one keeps its own). The largest page holds ten
# ~6 KB resources without overflow chains, and a load writes 16x fewer pages to the WAL and
# then the database; with 4 KB pages those page writes took half a first load's time.
SQLITE_PAGE_SIZE = 65_536
# Execution option that makes a SQLite transaction take the write lock up front (BEGIN
# IMMEDIATE), so concurrent loads queue on the busy timeout instead of failing on upgrade.
SQLITE_WRITE_OPTION = "serving_write"


def _json_default(value: object) -> Any:
    # Money stays Decimal up to here; a raw fragment keeps its exact digits ("1.50").
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_bytes(value: object, *, sort_keys: bool = False) -> bytes:
    """Compact JSON with orjson, accepting Decimal; the one serializer of the store."""
    option = orjson.OPT_SORT_KEYS if sort_keys else 0
    return orjson.dumps(value, default=_json_default, option=option)


def _json_text(value: object) -> str:
    return json_bytes(value).decode()


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite keeps no offset of its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; use a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (SQLAlchemy binds plain text as VARCHAR, which jsonb refuses);
# none_as_null so a tombstone's missing content is SQL NULL, not the JSON text 'null'.
ResourceJSON = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

# FHIR ids are ASCII, at most 64 characters. Byte order ("C") on PostgreSQL makes the primary
# key index sort like SQLite, so exports are identical on both and ordered scans use the index.
FhirKey = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")

metadata = sa.MetaData()


def _version_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("resource_type", FhirKey, nullable=False),
        sa.Column("id", FhirKey, nullable=False),
        sa.Column("version_id", sa.Integer, nullable=False),
        sa.Column("last_updated", UtcDateTime, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, default=False),
        sa.Column("resource", ResourceJSON, nullable=True),
        # The pipeline domain that produced the resource (members, claims, providers, ...): a
        # full snapshot replaces one domain, and each API serves the domains it publishes.
        sa.Column("domain", sa.String(32), nullable=False, default=""),
    ]


resources_table = sa.Table(
    "resources",
    metadata,
    *_version_columns(),
    sa.PrimaryKeyConstraint("resource_type", "id"),
    sa.Index("resources_by_domain", "domain", "resource_type"),
)

history_table = sa.Table(
    "resource_history",
    metadata,
    *_version_columns(),
    sa.PrimaryKeyConstraint("resource_type", "id", "version_id"),
)

loads_table = sa.Table(
    "resource_loads",
    metadata,
    sa.Column("load_id", sa.String(36), primary_key=True),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime, nullable=False),
    sa.Column("counts", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
)


# Search index: rows extracted from the current version of each resource by the compiled search
# parameters (serving/search), replaced with every new version and removed by a tombstone. Each
# table is read by (resource_type, param, value..., id) for searches and by (resource_type, id)
# to replace a resource's rows, follow its references (_include) or confine a compartment.
SearchValue = sa.String(512).with_variant(sa.String(512, collation="C"), "postgresql")
# Index name -> (table, columns). Not declared on the tables: create_schema leaves them to the
# first load, which builds them in bulk once its rows are in (see create_search_indexes).
SEARCH_INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {}


def _search_table(name: str, *columns: sa.Column[Any], by_value: tuple[str, ...]) -> sa.Table:
    SEARCH_INDEXES[f"{name}_by_value"] = (name, ("resource_type", "param", *by_value, "id"))
    SEARCH_INDEXES[f"{name}_by_resource"] = (name, ("resource_type", "id"))
    return sa.Table(
        name,
        metadata,
        sa.Column("resource_type", FhirKey, nullable=False),
        sa.Column("id", FhirKey, nullable=False),
        sa.Column("param", FhirKey, nullable=False),
        *columns,
    )


search_token_table = _search_table(
    "search_token",
    sa.Column("system", sa.String(256), nullable=True),
    sa.Column("code", SearchValue, nullable=False),  # lower-cased: token codes match any case
    by_value=("code",),
)
search_string_table = _search_table(
    "search_string",
    sa.Column("value", SearchValue, nullable=False),  # lower-cased, accent-folded
    sa.Column("exact", sa.Text, nullable=False),  # as written, for :exact
    by_value=("value",),
)
search_reference_table = _search_table(
    "search_reference",
    sa.Column("target_type", FhirKey, nullable=True),
    sa.Column("target_id", FhirKey, nullable=True),
    sa.Column("target_url", sa.Text, nullable=False),
    by_value=("target_id",),
)
search_date_table = _search_table(
    "search_date",
    sa.Column("low", UtcDateTime, nullable=False),  # the range [low, high) the value covers
    sa.Column("high", UtcDateTime, nullable=False),
    by_value=("low",),
)
# The first meta.profile of each current resource: with the domain, what tells the APIs apart.
search_profile_table = sa.Table(
    "search_profile",
    metadata,
    sa.Column("resource_type", FhirKey, nullable=False),
    sa.Column("id", FhirKey, nullable=False),
    sa.Column("profile", sa.String(256), nullable=False),
    sa.PrimaryKeyConstraint("resource_type", "id"),
)
SEARCH_TABLES = (
    search_token_table,
    search_string_table,
    search_reference_table,
    search_date_table,
    search_profile_table,
)


def _supports_lz4(ddl: sa.DDLElement, target: sa.Table, bind: sa.Connection, **kw: Any) -> bool:
    found = bind.exec_driver_sql(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    ).scalar()
    return bool(found)


# lz4 TOAST compression nearly doubles PostgreSQL load throughput on ~4 KB documents.
for _table in (resources_table, history_table):
    sa.event.listen(
        _table,
        "after_create",
        sa.DDL("ALTER TABLE %(table)s ALTER COLUMN resource SET COMPRESSION lz4").execute_if(
            dialect="postgresql", callable_=_supports_lz4
        ),
    )


@dataclass(frozen=True)
class StoredResource:
    resource_type: str
    id: str
    version_id: int
    last_updated: datetime
    content_hash: str
    deleted: bool
    resource: dict[str, Any] | None
    domain: str = ""


def serving_database_url(home: Path | None = None) -> str:
    """SERVING_DATABASE_URL if set, else a SQLite file under home, INTEROP_HOME or .data."""
    url = os.environ.get("SERVING_DATABASE_URL")
    if url:
        return url
    folder = home or Path(os.environ.get("INTEROP_HOME") or ".data")
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / DEFAULT_SQLITE_FILE}"


def make_engine(url: str | None = None) -> sa.Engine:
    """An engine for the serving store: psycopg 3 on PostgreSQL, WAL-mode SQLite otherwise."""
    parsed = sa.make_url(url or serving_database_url())
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(parsed)
    return sa.create_engine(
        parsed, json_serializer=_json_text, json_deserializer=orjson.loads, pool_pre_ping=True
    )


def _make_sqlite_engine(url: sa.URL) -> sa.Engine:
    engine = sa.create_engine(
        url,
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # pysqlite's own implicit BEGIN starts transactions late and skips reads; take
        # transaction control (SQLAlchemy's documented recipe) so a load is truly atomic.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Before WAL mode, which fixes the page size of a new file.
        cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        writing = conn.get_execution_options().get(SQLITE_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    return engine


@contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One transaction that will write: committed on success, rolled back on any error."""
    with engine.connect() as conn:
        conn.execution_options(**{SQLITE_WRITE_OPTION: True})
        with conn.begin():
            yield conn


def create_schema(engine: sa.Engine) -> None:
    """Create the serving tables if missing, and bring older ones up to date; safe to call on
    every start."""
    with write_transaction(engine) as conn:
        metadata.create_all(conn, checkfirst=True)
        _add_domain_column(conn)
        # A store with search rows but no indexes would answer searches by full scans.
        if not search_indexes_exist(conn) and any(_has_rows(conn, t) for t in SEARCH_TABLES):
            create_search_indexes(conn)


def _has_rows(conn: sa.Connection, table: sa.Table) -> bool:
    return conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None


def search_indexes_exist(conn: sa.Connection) -> bool:
    """Whether the search tables have their indexes (a store no load has written to has not)."""
    found = {index["name"] for index in sa.inspect(conn).get_indexes(search_token_table.name)}
    return "search_token_by_value" in found


def create_search_indexes(conn: sa.Connection) -> None:
    """Create the search indexes that are missing. A new store has none until its first load
    ends: building an index from rows already in place sorts them once, where inserting ~12
    rows per resource into two random-order B-trees each made a first load 2-3x slower."""
    for name, (table, columns) in SEARCH_INDEXES.items():
        conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({', '.join(columns)})")
    if conn.dialect.name == "postgresql":
        # Fresh statistics, so the first searches plan on the indexes just built.
        conn.exec_driver_sql(f"ANALYZE {', '.join(t.name for t in SEARCH_TABLES)}")


def refresh_statistics(conn: sa.Connection) -> None:
    """PostgreSQL's planner statistics for the tables a load writes. Until autovacuum gets to
    them, searches right after a large load plan on the old row counts: a specialty search
    over 100,000 roles took 1 s on stale statistics and 0.1 s on fresh ones."""
    if conn.dialect.name == "postgresql":
        tables = [resources_table, *SEARCH_TABLES]
        conn.exec_driver_sql(f"ANALYZE {', '.join(t.name for t in tables)}")


def _add_domain_column(conn: sa.Connection) -> None:
    # Stores made before resources carried their domain: their rows belong to no snapshot.
    for table in (resources_table, history_table):
        columns = {column["name"] for column in sa.inspect(conn).get_columns(table.name)}
        if "domain" not in columns:
            conn.exec_driver_sql(
                f"ALTER TABLE {table.name} ADD COLUMN domain VARCHAR(32) NOT NULL DEFAULT ''"
            )
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS resources_by_domain ON resources (domain, resource_type)"
    )


def _stored(row: sa.Row[Any]) -> StoredResource:
    return StoredResource(
        resource_type=row.resource_type,
        id=row.id,
        version_id=row.version_id,
        last_updated=row.last_updated,
        content_hash=row.content_hash,
        deleted=row.deleted,
        resource=row.resource,
        domain=row.domain,
    )


def read_current(engine: sa.Engine, resource_type: str, resource_id: str) -> StoredResource | None:
    """The current version, tombstones included (the caller answers 410 for those)."""
    t = resources_table
    query = sa.select(t).where(t.c.resource_type == resource_type, t.c.id == resource_id)
    with engine.connect() as conn:
        row = conn.execute(query).one_or_none()
    return None if row is None else _stored(row)


def read_history(engine: sa.Engine, resource_type: str, resource_id: str) -> list[StoredResource]:
    """Every version of one resource, oldest first."""
    t = history_table
    query = (
        sa.select(t)
        .where(t.c.resource_type == resource_type, t.c.id == resource_id)
        .order_by(t.c.version_id)
    )
    with engine.connect() as conn:
        return [_stored(row) for row in conn.execute(query)]
