"""Dagster resources: the staging DuckDB, the serving store and the run settings, declared once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from pathlib import Path

import dagster as dg
import duckdb
import sqlalchemy as sa

from pipelines.canonical.store import prepare_staging_db
from pipelines.fhir.ids import DEVELOPMENT_ID_KEY, IdMaker
from serving.store import create_schema, make_engine, serving_database_url

REPO_ROOT = Path(__file__).resolve().parents[1]
# One worker more than cores: the asset's own process spends much of the heavy stages in DuckDB
# and I/O, and at 100k claims on 2 cores 3 workers beat 2 by a fifth (bench/bench_pipeline.py).
DEFAULT_WORKERS = min((os.cpu_count() or 1) + 1, 5)


def default_home() -> str:
    return os.environ.get("INTEROP_HOME", str(REPO_ROOT / ".data"))


def default_inbox() -> str:
    return os.environ.get("INTEROP_INBOX", str(REPO_ROOT / "sample_inputs"))


class StagingDatabase(dg.ConfigurableResource):
    """The DuckDB file that holds raw, staged, canonical and FHIR tables, and the quarantine."""

    path: str
    # DuckDB would take 80% of RAM by default; past this limit it spills to disk instead.
    memory_limit: str = "512MB"

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Nothing downstream relies on scan order (ids are deterministic, exports sort by id), and
        # without it DuckDB can stream large results instead of buffering them.
        config = {"memory_limit": self.memory_limit, "preserve_insertion_order": False}
        con = duckdb.connect(self.path, config=config)
        try:
            prepare_staging_db(con)
            yield con
        finally:
            con.close()


class ServingStore(dg.ConfigurableResource):
    """The serving store: SQLite under INTEROP_HOME, or PostgreSQL when a URL is configured."""

    url: str | None = None

    def engine(self) -> sa.Engine:
        engine = make_engine(self.url or None)
        create_schema(engine)
        return engine


class PipelineSettings(dg.ConfigurableResource):
    """Where the nightly drop is read from and how resource ids are keyed."""

    inbox: str
    home: str
    id_key: str
    workers: int = 0  # worker processes for the build and validation stages; 0 = in process

    def ids(self) -> IdMaker:
        return IdMaker.from_secret(self.id_key)

    @contextmanager
    def worker_pool(self) -> Iterator[Executor | None]:
        """Worker processes for the CPU-bound stages, or None to work in this process."""
        if self.workers < 2:
            yield None
            return
        # spawn, not fork: the asset process holds DuckDB and Dagster threads a fork would copy.
        with ProcessPoolExecutor(self.workers, mp_context=get_context("spawn")) as pool:
            yield pool

    @property
    def export_dir(self) -> Path:
        return Path(self.home) / "export"


def default_resources() -> dict[str, dg.ConfigurableResource]:
    """Embedded defaults for a fresh clone; every setting can come from the environment."""
    home = default_home()
    id_key = dg.EnvVar("INTEROP_ID_KEY") if os.environ.get("INTEROP_ID_KEY") else DEVELOPMENT_ID_KEY
    serving_url = (
        dg.EnvVar("SERVING_DATABASE_URL") if os.environ.get("SERVING_DATABASE_URL") else None
    )
    return {
        "staging": StagingDatabase(path=str(Path(home) / "staging.duckdb")),
        "serving": ServingStore(url=serving_url or serving_database_url(Path(home))),
        "settings": PipelineSettings(
            inbox=default_inbox(),
            home=home,
            id_key=id_key,
            workers=int(os.environ.get("INTEROP_WORKERS", str(DEFAULT_WORKERS))),
        ),
    }
