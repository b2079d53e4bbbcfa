"""Land a domain's extracts from the inbox into raw_<kind> tables, all text, with row references.

Every header is checked before anything is written, and the whole landing is one transaction, so a
bad file leaves nothing half-loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.canonical.schema import CANONICAL_KINDS
from pipelines.canonical.store import record_rejections
from pipelines.ingest.json_reader import JsonExtractReader
from pipelines.ingest.layouts import Layout, load_domain_layouts
from pipelines.ingest.reader import ExtractReader


@dataclass(frozen=True)
class LandedFile:
    kind: str
    source_file: str
    rows_in: int
    rows_landed: int
    rows_rejected: int


def raw_table(kind: str) -> str:
    return f"raw_{kind}"


class AmbiguousExtractError(ValueError):
    """One inbox file matches the file patterns of two layouts."""


def find_extracts(inbox: Path, layouts: tuple[Layout, ...]) -> list[tuple[Layout, Path]]:
    found: dict[Path, Layout] = {}
    for layout in layouts:
        for path in sorted(inbox.glob(layout.file_pattern)):
            if not path.is_file():
                continue
            if path in found:
                raise AmbiguousExtractError(
                    f"{path.relative_to(inbox)} matches layouts {found[path].path} and "
                    f"{layout.path}; make their file_pattern distinct"
                )
            found[path] = layout
    return [(layout, path) for path, layout in found.items()]


def _create_raw_table(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    # Every field of the kind, whichever layouts fill it; `layout` tells each row's format.
    columns = ", ".join(f'"{name}" VARCHAR' for name in CANONICAL_KINDS[kind])
    con.execute(
        f"CREATE OR REPLACE TABLE {raw_table(kind)} "
        f"(load_id VARCHAR, source_file VARCHAR, row_number BIGINT, layout VARCHAR, {columns})"
    )


def _land_file(
    con: duckdb.DuckDBPyConnection, reader: ExtractReader, load_id: str, domain: str
) -> LandedFile:
    landed = 0
    fields = ", ".join(f'"{name}"' for name in reader.fields)
    for batch in reader.batches():
        con.register("landing_batch", batch)
        con.execute(
            f"INSERT INTO {raw_table(reader.layout.kind)} "
            f"(load_id, source_file, row_number, layout, {fields}) "
            f"SELECT ?, ?, row_number, ?, {fields} FROM landing_batch",
            [load_id, reader.source_name, reader.layout.name],
        )
        con.unregister("landing_batch")
        landed += batch.num_rows
    record_rejections(con, load_id, domain, reader.rejections)
    con.execute(
        "INSERT INTO landing_counts VALUES (?, ?, ?, ?, ?, ?)",
        [load_id, domain, reader.layout.kind, reader.source_name, reader.rows_in, landed],
    )
    return LandedFile(
        reader.layout.kind, reader.source_name, reader.rows_in, landed, len(reader.rejections)
    )


def land_domain(
    con: duckdb.DuckDBPyConnection, inbox: Path, domain: str, load_id: str
) -> list[LandedFile]:
    """Land every extract of `domain` found in the inbox; returns what was read per file."""
    layouts = load_domain_layouts(domain)
    readers = [
        (JsonExtractReader if layout.format == "json" else ExtractReader)(
            path, layout, source_name=path.relative_to(inbox).as_posix()
        )
        for layout, path in find_extracts(inbox, layouts)
    ]
    for reader in readers:
        reader.check_header()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM quarantine WHERE load_id = ? AND domain = ?", [load_id, domain])
        con.execute(
            "DELETE FROM landing_counts WHERE load_id = ? AND domain = ?", [load_id, domain]
        )
        for kind in dict.fromkeys(layout.kind for layout in layouts):
            _create_raw_table(con, kind)
        landed = [_land_file(con, reader, load_id, domain) for reader in readers]
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    return landed
