"""Reference code sets the directory rules check against: the NUCC provider taxonomy and US ZIP
codes with their state and centroid.

The taxonomy table in mappings/reference is derived from NUCC's published CSV by
`interop import-taxonomy` (a payer refreshes it with each NUCC release); ZIP codes come from the
`zipcodes` package, which ships the USPS list with coordinates, so nothing is fetched at run time.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa
import zipcodes

from pipelines.ingest.layouts import MAPPINGS_DIR

TAXONOMY_CSV = MAPPINGS_DIR / "reference" / "nucc_taxonomy.csv"
TAXONOMY_COLUMNS = ("code", "display", "grouping", "classification", "specialization", "section")
_NUCC_COLUMNS = {
    "code": "Code",
    "display": "Display Name",
    "grouping": "Grouping",
    "classification": "Classification",
    "specialization": "Specialization",
    "section": "Section",
}


class TaxonomyImportError(ValueError):
    """A NUCC file without the columns the taxonomy table is made from."""


def import_taxonomy(source: Path, target: Path = TAXONOMY_CSV) -> int:
    """Write the taxonomy table from a NUCC CSV (nucc.org, "CSV" download); returns the codes."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in _NUCC_COLUMNS.values() if name not in (reader.fieldnames or [])]
        if missing:
            raise TaxonomyImportError(f"{source}: not a NUCC taxonomy CSV; missing {missing}")
        rows = sorted(
            {tuple(row[_NUCC_COLUMNS[name]].strip() for name in TAXONOMY_COLUMNS) for row in reader}
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TAXONOMY_COLUMNS)
        writer.writerows(rows)
    return len(rows)


@cache
def taxonomy() -> dict[str, dict[str, str]]:
    """The taxonomy table by code."""
    with TAXONOMY_CSV.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: row for row in csv.DictReader(handle)}


def _zip_table() -> pa.Table:
    rows = [z for z in zipcodes.list_all() if z["country"] == "US"]
    return pa.table(
        {
            "zip": [z["zip_code"] for z in rows],
            "state": [z["state"] for z in rows],
            "city": [z["city"] for z in rows],
            "latitude": pa.array([float(z["lat"]) for z in rows], pa.float64()),
            "longitude": pa.array([float(z["long"]) for z in rows], pa.float64()),
        }
    )


def create_reference_tables(con: duckdb.DuckDBPyConnection) -> None:
    """nucc_taxonomy, us_zip and us_state in the staging database, refreshed every run."""
    columns = ", ".join(f"{name}: 'VARCHAR'" for name in TAXONOMY_COLUMNS)
    con.execute(
        "CREATE OR REPLACE TABLE nucc_taxonomy AS SELECT * FROM read_csv(?, header = true, "
        f"columns = {{{columns}}})",
        [str(TAXONOMY_CSV)],
    )
    con.register("zip_source", _zip_table())
    con.execute("CREATE OR REPLACE TABLE us_zip AS SELECT * FROM zip_source")
    con.unregister("zip_source")
    con.execute("CREATE OR REPLACE TABLE us_state AS SELECT DISTINCT state FROM us_zip")
