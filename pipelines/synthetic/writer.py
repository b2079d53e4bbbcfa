"""Streaming writers for the canonical extract layouts declared in mappings/sources/.

Column order, delimiter, encoding and file name come from the same layout files the ingest side
reads (loaded and checked by pipelines.ingest.layouts), so both ends keep one contract. Rows are
dicts keyed by canonical field name.
"""

from __future__ import annotations

import csv
from pathlib import Path
from types import TracebackType
from typing import IO

from pipelines.ingest.layouts import SOURCES_DIR, Layout, LayoutError, load_layout

# The canonical layout of each extract the generator writes, under mappings/sources.
LAYOUT_FILES = {
    "eligibility": "members/eligibility.yaml",
    "claim_header": "claims/claim_header.yaml",
    "claim_line": "claims/claim_line.yaml",
    "claim_code": "claims/claim_code.yaml",
    "pharmacy_claim": "claims/pharmacy_claim.yaml",
    "pharmacy_ingredient": "claims/pharmacy_ingredient.yaml",
    "claim_note": "claims/claim_note.yaml",
    "provider": "claims/provider.yaml",
}


def extract_layout(kind: str, sources_dir: Path = SOURCES_DIR) -> Layout:
    return load_layout(sources_dir / LAYOUT_FILES[kind])


def output_path(layout: Layout) -> str:
    """Where the extract goes in the drop folder: its file pattern without the wildcard."""
    return layout.file_pattern.replace("*", "")


class ExtractWriter:
    """Writes one extract file row by row: a header, then one line per row dict."""

    def __init__(self, layout: Layout, out_dir: Path) -> None:
        self.path = output_path(layout)
        self.rows = 0
        # Canonical field of each column, in column order, each defaulting to absent ("").
        self._blank = {spec.field: "" for spec in layout.columns.values()}
        target = out_dir / self.path
        target.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = target.open("w", encoding=layout.encoding, newline="")
        self._csv = csv.writer(self._file, delimiter=layout.delimiter, lineterminator="\n")
        self._csv.writerow(layout.columns)

    def write(self, row: dict[str, str]) -> None:
        full = self._blank.copy()
        full.update(row)
        if len(full) != len(self._blank):  # a key outside the layout grew the dict
            unknown = sorted(full.keys() - self._blank.keys())
            raise LayoutError(f"{self.path}: fields not in the layout: {unknown}")
        self._csv.writerow(full.values())
        self.rows += 1

    def close(self) -> None:
        self._file.close()


class DropWriter:
    """All the extract files of one drop folder, open together so rows stream to each."""

    def __init__(self, out_dir: Path, sources_dir: Path = SOURCES_DIR) -> None:
        self.files: dict[str, ExtractWriter] = {}
        try:
            for kind in LAYOUT_FILES:
                self.files[kind] = ExtractWriter(extract_layout(kind, sources_dir), out_dir)
        except BaseException:
            self.close()
            raise

    def __getitem__(self, kind: str) -> ExtractWriter:
        return self.files[kind]

    def rows_by_file(self) -> dict[str, int]:
        return {writer.path: writer.rows for writer in self.files.values()}

    def close(self) -> None:
        for writer in self.files.values():
            writer.close()

    def __enter__(self) -> DropWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
