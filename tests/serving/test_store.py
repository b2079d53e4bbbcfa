"""Serving-store configuration, schema and reads."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from serving.load import load_resources
from serving.store import (
    DEFAULT_SQLITE_FILE,
    SEARCH_INDEXES,
    SQLITE_PAGE_SIZE,
    create_schema,
    make_engine,
    read_current,
    read_history,
    serving_database_url,
)

LOAD_TIME = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def test_url_from_environment_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SERVING_DATABASE_URL", "postgresql://db/serving")
    assert serving_database_url(tmp_path) == "postgresql://db/serving"


def test_url_defaults_to_sqlite_under_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SERVING_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    assert serving_database_url(home) == f"sqlite:///{home / DEFAULT_SQLITE_FILE}"
    assert home.is_dir()


def test_url_uses_interop_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SERVING_DATABASE_URL", raising=False)
    monkeypatch.setenv("INTEROP_HOME", str(tmp_path / "interop"))
    assert serving_database_url() == f"sqlite:///{tmp_path / 'interop' / DEFAULT_SQLITE_FILE}"


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgresql+psycopg://u@h/db"])
def test_postgres_urls_use_psycopg3(url: str) -> None:
    assert make_engine(url).dialect.driver == "psycopg"


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == SQLITE_PAGE_SIZE


def test_sqlite_keeps_the_page_size_of_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute("PRAGMA page_size=4096")
        old.execute("CREATE TABLE t (x)")
    engine = make_engine(f"sqlite:///{path}")
    create_schema(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096
    load_resources(engine, [[{"resourceType": "Patient", "id": "p1"}]], load_time=LOAD_TIME)
    assert read_current(engine, "Patient", "p1") is not None


def test_load_restores_the_sqlite_page_cache(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_schema(engine)
    with engine.connect() as conn:
        default = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    load_resources(engine, [[{"resourceType": "Patient", "id": "p1"}]], load_time=LOAD_TIME)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == default


def test_create_schema_is_idempotent(engine: sa.Engine) -> None:
    create_schema(engine)
    create_schema(engine)
    tables = set(sa.inspect(engine).get_table_names())
    assert {"resources", "resource_history", "resource_loads"} <= tables


def test_create_schema_adds_the_domain_column_to_an_older_store(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX resources_by_domain")
        for table in ("resources", "resource_history"):
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN domain")
    create_schema(engine)
    load_resources(engine, [[{"resourceType": "Patient", "id": "p1"}]], load_time=LOAD_TIME)
    stored = read_current(engine, "Patient", "p1")
    assert stored is not None
    assert stored.domain == ""


def _search_indexes(engine: sa.Engine) -> set[str]:
    inspector = sa.inspect(engine)
    tables = {table for table, _ in SEARCH_INDEXES.values()}
    return {index["name"] for table in tables for index in inspector.get_indexes(table)}


def test_first_load_builds_the_search_indexes(engine: sa.Engine) -> None:
    assert _search_indexes(engine) == set()
    load_resources(engine, [[{"resourceType": "Patient", "id": "p1"}]], load_time=LOAD_TIME)
    assert _search_indexes(engine) == set(SEARCH_INDEXES)


def test_create_schema_indexes_search_rows_left_without_indexes(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO search_profile (resource_type, id, profile) VALUES ('Patient', 'p1', 'x')"
        )
    create_schema(engine)
    assert _search_indexes(engine) == set(SEARCH_INDEXES)


def test_reads_of_unknown_resource(engine: sa.Engine) -> None:
    assert read_current(engine, "Patient", "nobody") is None
    assert read_history(engine, "Patient", "nobody") == []


def test_read_returns_timezone_aware_utc(engine: sa.Engine) -> None:
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    load_resources(engine, [[patient]], load_time=LOAD_TIME)
    stored = read_current(engine, "Patient", "p1")
    assert stored is not None
    assert stored.last_updated == LOAD_TIME
    assert stored.last_updated.utcoffset() is not None
    assert [version.last_updated for version in read_history(engine, "Patient", "p1")] == [
        LOAD_TIME
    ]
