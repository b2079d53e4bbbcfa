"""Load bookkeeping shared by the domain assets: the current load, quarantine tallies, reconciliation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import yaml

from pipelines.conformance.coverage import CoverageReport
from pipelines.ingest.layouts import MAPPINGS_DIR

CURRENT_LOAD_DDL = """
CREATE TABLE IF NOT EXISTS current_load (
    domain VARCHAR PRIMARY KEY, load_id VARCHAR NOT NULL, load_time TIMESTAMPTZ NOT NULL
)
"""


@dataclass(frozen=True)
class Load:
    load_id: str
    load_time: datetime

    @property
    def last_updated(self) -> str:
        return self.load_time.isoformat(timespec="seconds")


def start_load(con: duckdb.DuckDBPyConnection, domain: str, load_id: str) -> Load:
    """Record that `domain` is now on load `load_id`; downstream assets read it back."""
    con.execute(CURRENT_LOAD_DDL)
    load = Load(load_id, datetime.now(UTC).replace(microsecond=0))
    con.execute(
        "INSERT OR REPLACE INTO current_load VALUES (?, ?, ?)", [domain, load_id, load.load_time]
    )
    return load


def current_load(con: duckdb.DuckDBPyConnection, domain: str) -> Load:
    con.execute(CURRENT_LOAD_DDL)
    row = con.execute(
        "SELECT load_id, load_time FROM current_load WHERE domain = ?", [domain]
    ).fetchone()
    if row is None:
        raise RuntimeError(
            f"no load of domain {domain!r} has been landed yet; materialize its raw asset"
        )
    return Load(row[0], row[1].astimezone(UTC))


def quarantine_counts(con: duckdb.DuckDBPyConnection, load_id: str, domain: str) -> dict[str, int]:
    """Quarantined source rows of the load, by reason code."""
    rows = con.execute(
        "SELECT reason_code, count(*) FROM quarantine WHERE load_id = ? AND domain = ? "
        "GROUP BY reason_code ORDER BY reason_code",
        [load_id, domain],
    ).fetchall()
    return {reason: count for reason, count in rows}


@dataclass(frozen=True)
class FileReconciliation:
    source_file: str
    rows_in: int
    staged: int
    quarantined: int

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.staged + self.quarantined


def reconcile_files(
    con: duckdb.DuckDBPyConnection, load_id: str, domain: str
) -> list[FileReconciliation]:
    """Per source file of the load: rows in, rows staged, rows quarantined."""
    rows = con.execute(
        """
        SELECT l.source_file, l.rows_in,
               coalesce((SELECT sum(rows_staged) FROM staged_counts s
                         WHERE s.load_id = l.load_id AND s.source_file = l.source_file), 0),
               (SELECT count(*) FROM quarantine q
                WHERE q.load_id = l.load_id AND q.source_file = l.source_file)
        FROM landing_counts l WHERE l.load_id = ? AND l.domain = ? ORDER BY l.source_file
        """,
        [load_id, domain],
    ).fetchall()
    return [FileReconciliation(*row) for row in rows]


COVERAGE_DDL = """
CREATE TABLE IF NOT EXISTS must_support_coverage (
    domain VARCHAR NOT NULL, profile VARCHAR NOT NULL, instances BIGINT NOT NULL,
    must_support BIGINT NOT NULL, missing VARCHAR[] NOT NULL
)
"""


def record_coverage(con: duckdb.DuckDBPyConnection, domain: str, report: CoverageReport) -> None:
    """Keep the domain's must-support coverage of this load for its asset check."""
    con.execute(COVERAGE_DDL)
    con.execute("DELETE FROM must_support_coverage WHERE domain = ?", [domain])
    rows = [
        (domain, p.profile, p.instances, len(p.must_support), p.missing)
        for p in report.profiles.values()
    ]
    if rows:
        con.executemany("INSERT INTO must_support_coverage VALUES (?, ?, ?, ?, ?)", rows)


def coverage_gaps(con: duckdb.DuckDBPyConnection, domain: str) -> dict[str, list[str]]:
    """Per profile the domain emitted: the must-support items no instance populated.

    A profile several domains emit (a payer Organization from members, provider Organizations
    from claims) is judged on all of them together, as the served set is.
    """
    con.execute(COVERAGE_DDL)
    rows = con.execute(
        """
        SELECT profile, missing FROM must_support_coverage
        WHERE profile IN (SELECT profile FROM must_support_coverage WHERE domain = ?)
        ORDER BY profile
        """,
        [domain],
    ).fetchall()
    gaps: dict[str, list[str]] = {}
    for profile, missing in rows:
        kept = gaps.get(profile, missing)
        gaps[profile] = [item for item in kept if item in missing]
    return gaps


MUST_SUPPORT_GAPS_FILE = MAPPINGS_DIR / "must_support_gaps.yaml"


def explained_gaps(path: Path = MUST_SUPPORT_GAPS_FILE) -> dict[str, dict[str, str]]:
    """Versioned profile label → must-support element → why the plan's data leaves it empty."""
    if not path.exists():
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict) or not all(isinstance(v, dict) for v in document.values()):
        raise ValueError(f"{path}: expected profile → {{element: reason}} mappings")
    return {
        str(label): {str(k): str(v) for k, v in items.items()} for label, items in document.items()
    }
