"""The staging database's bookkeeping tables: quarantine, per-file landing counts, concept maps.

These tables are shared by every domain; each row carries the load it belongs to so that the
accounting checks can reconcile one run at a time.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from pipelines.ingest.layouts import MAPPINGS_DIR
from pipelines.ingest.reader import Rejection

CONCEPT_MAPS_DIR = MAPPINGS_DIR / "concept_maps"

BOOKKEEPING_DDL = """
CREATE TABLE IF NOT EXISTS quarantine (
    load_id VARCHAR NOT NULL,
    domain VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    stage VARCHAR NOT NULL,
    reason_code VARCHAR NOT NULL,
    source_column VARCHAR NOT NULL,
    message VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS landing_counts (
    load_id VARCHAR NOT NULL,
    domain VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    rows_in BIGINT NOT NULL,
    rows_landed BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS staged_counts (
    load_id VARCHAR NOT NULL,
    domain VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    rows_staged BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS resource_quarantine (
    load_id VARCHAR NOT NULL,
    domain VARCHAR NOT NULL,
    resource_type VARCHAR NOT NULL,
    profile VARCHAR NOT NULL,
    resource_id VARCHAR NOT NULL,
    business_key VARCHAR NOT NULL,
    reason_code VARCHAR NOT NULL,
    message VARCHAR NOT NULL
);
"""

# Luhn over "80840" + the first nine digits, the NPI check-digit rule (the prefix contributes 24).
NPI_MACRO = """
CREATE OR REPLACE MACRO npi_is_valid(npi) AS (
    regexp_full_match(coalesce(npi, ''), '[0-9]{10}')
    AND (
        24
        + list_sum(list_transform(range(9), lambda i:
            CASE WHEN i % 2 = 0
                 THEN (2 * TRY_CAST(substr(npi, i + 1, 1) AS INTEGER)) // 10
                      + (2 * TRY_CAST(substr(npi, i + 1, 1) AS INTEGER)) % 10
                 ELSE TRY_CAST(substr(npi, i + 1, 1) AS INTEGER) END))
        + TRY_CAST(substr(npi, 10, 1) AS INTEGER)
    ) % 10 = 0
);
"""

# NDC in any of the labeler-product-package forms, normalised to the 11-digit 5-4-2 form.
NDC_MACRO = r"""
CREATE OR REPLACE MACRO ndc11(raw) AS (
    CASE
        WHEN regexp_full_match(raw, '[0-9]{11}') THEN raw
        WHEN regexp_full_match(raw, '[0-9]{5}-[0-9]{4}-[0-9]{2}') THEN replace(raw, '-', '')
        WHEN regexp_full_match(raw, '[0-9]{4}-[0-9]{4}-[0-9]{2}') THEN '0' || replace(raw, '-', '')
        WHEN regexp_full_match(raw, '[0-9]{5}-[0-9]{3}-[0-9]{2}')
            THEN substr(raw, 1, 5) || '0' || substr(raw, 7, 3) || substr(raw, 11, 2)
        WHEN regexp_full_match(raw, '[0-9]{5}-[0-9]{4}-[0-9]{1}')
            THEN substr(raw, 1, 5) || substr(raw, 7, 4) || '0' || substr(raw, 12, 1)
        ELSE NULL
    END
);
"""


def prepare_staging_db(con: duckdb.DuckDBPyConnection) -> None:
    """Create the bookkeeping tables and SQL macros (idempotent) and load the concept maps."""
    con.execute(BOOKKEEPING_DDL)
    con.execute(NPI_MACRO)
    con.execute(NDC_MACRO)
    load_concept_maps(con)


def load_concept_maps(con: duckdb.DuckDBPyConnection, folder: Path = CONCEPT_MAPS_DIR) -> None:
    """Replace the concept_map table with the CSV files of mappings/concept_maps."""
    rows: list[tuple[str, str, str, str, str]] = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for line_number, record in enumerate(csv.DictReader(handle), start=2):
                try:
                    rows.append(
                        (
                            path.stem,
                            record["source_code"].strip(),
                            record["target_system"].strip(),
                            record["target_code"].strip(),
                            record["target_display"].strip(),
                        )
                    )
                except (KeyError, AttributeError) as error:
                    raise ValueError(
                        f"{path}: line {line_number}: expected columns source_code, target_system, "
                        "target_code, target_display"
                    ) from error
    con.execute(
        "CREATE OR REPLACE TABLE concept_map (map_name VARCHAR, source_code VARCHAR, "
        "target_system VARCHAR, target_code VARCHAR, target_display VARCHAR, "
        "PRIMARY KEY (map_name, source_code))"
    )
    if rows:
        con.executemany("INSERT INTO concept_map VALUES (?, ?, ?, ?, ?)", rows)


def record_rejections(
    con: duckdb.DuckDBPyConnection, load_id: str, domain: str, rejections: list[Rejection]
) -> None:
    if not rejections:
        return
    con.executemany(
        "INSERT INTO quarantine VALUES (?, ?, ?, ?, 'raw', ?, ?, ?)",
        [
            (load_id, domain, r.source_file, r.row_number, r.reason, r.column, r.message)
            for r in rejections
        ],
    )
