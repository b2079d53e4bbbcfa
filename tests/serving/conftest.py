"""Serving-store engines for tests: a SQLite file per test, and a fresh PostgreSQL schema per
test when SERVING_TEST_DATABASE_URL is set. Other test folders can reuse `serving_engine`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from serving.store import create_schema, make_engine

POSTGRES_URL_ENV = "SERVING_TEST_DATABASE_URL"
BACKENDS = (
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
)


@contextmanager
def serving_engine(backend: str, tmp_path: Path) -> Iterator[sa.Engine]:
    """An engine on an empty serving store; skips the test when PostgreSQL is not configured."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'serving.db'}")
        try:
            create_schema(engine)
            yield engine
        finally:
            engine.dispose()
        return
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set (e.g. postgresql+psycopg://postgres@host/test)")
    with postgres_schema_engine(url) as engine:
        yield engine


@contextmanager
def postgres_schema_engine(url: str) -> Iterator[sa.Engine]:
    """An engine whose search_path is a new schema, dropped afterwards, so tests never share
    tables with each other or with concurrent runs on the same database."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    scoped_url = sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(scoped_url.render_as_string(hide_password=False))
    try:
        create_schema(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    with serving_engine(request.param, tmp_path) as serving:
        yield serving
