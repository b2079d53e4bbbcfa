"""Stream a delimited extract by its layout into Arrow batches, keeping each row's line number.

Lines that cannot be decoded or split into the declared columns are returned as rejections with
their line number, never dropped; a header that does not match the layout fails the whole file.
"""

from __future__ import annotations

import csv
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from pipelines.ingest.layouts import ColumnSpec, Layout

DEFAULT_BATCH_ROWS = 50_000


class HeaderMismatchError(ValueError):
    """The extract's header row does not carry the columns its layout declares."""


@dataclass(frozen=True)
class Rejection:
    """A source line that never became a raw row, and why (no field values: they may be personal)."""

    source_file: str
    row_number: int
    reason: str
    column: str
    message: str


@dataclass
class _LineCursor:
    number: int = 0


@dataclass
class ExtractReader:
    """Reads one extract file; `batches()` yields Arrow tables, `rejections` fills as it goes."""

    path: Path
    layout: Layout
    source_name: str
    batch_rows: int = DEFAULT_BATCH_ROWS
    rejections: list[Rejection] = field(default_factory=list)
    rows_in: int = 0

    @property
    def fields(self) -> list[str]:
        return [spec.field for _, spec in self.layout.field_specs()]

    def check_header(self) -> None:
        """Fail, naming the missing and unexpected columns, when the header does not match."""
        with self.path.open("rb") as handle:
            first = handle.readline()
        try:
            text = first.decode(self.layout.encoding).lstrip("\ufeff")
        except UnicodeDecodeError as error:
            raise HeaderMismatchError(
                f"{self.source_name}: header row is not valid {self.layout.encoding}: {error.reason}"
            ) from error
        header = next(csv.reader([text], delimiter=self.layout.delimiter), [])
        header = [name.strip() for name in header]
        expected = self.layout.source_columns()
        missing = [name for name in expected if name not in header]
        unexpected = []
        if self.layout.extra_columns == "reject":
            unexpected = [name for name in header if name not in expected]
        if missing or unexpected:
            raise HeaderMismatchError(
                f"{self.source_name}: header does not match layout {self.layout.name} "
                f"({self.layout.path}): missing columns {missing or 'none'}, "
                f"unexpected columns {unexpected or 'none'}"
            )
        self._header = header

    def _decoded_lines(self, handle: BinaryIO, cursor: _LineCursor) -> Iterator[str]:
        for number, raw in enumerate(handle, start=1):
            cursor.number = number
            try:
                yield raw.decode(self.layout.encoding)
            except UnicodeDecodeError as error:
                self.rows_in += 1
                self._reject(
                    number,
                    "bad_encoding",
                    f"bytes {error.start}-{error.end} of the line are not valid {self.layout.encoding}",
                )

    def _reject(self, row_number: int, reason: str, message: str, column: str = "") -> None:
        self.rejections.append(Rejection(self.source_name, row_number, reason, column, message))

    def batches(self) -> Iterator[pa.Table]:
        """Yield the data rows as Arrow tables: row_number, then one text column per canonical field."""
        self.check_header()
        extractors = [self._extractor(column, spec) for column, spec in self.layout.field_specs()]
        width = len(self._header)
        cursor = _LineCursor()
        with self.path.open("rb") as handle:
            lines = self._decoded_lines(handle, cursor)
            next(lines, None)  # the header, already checked
            reader = csv.reader(
                lines, delimiter=self.layout.delimiter, quotechar=self.layout.quotechar
            )
            numbers: list[int] = []
            rows: list[list[str]] = []
            for values in reader:
                if not values or values == [""]:
                    continue
                self.rows_in += 1
                if len(values) != width:
                    self._reject(
                        cursor.number,
                        "wrong_field_count",
                        f"expected {width} fields separated by {self.layout.delimiter!r}, found {len(values)}",
                    )
                    continue
                numbers.append(cursor.number)
                rows.append([extract(values) for extract in extractors])
                if len(rows) >= self.batch_rows:
                    yield self._table(numbers, rows)
                    numbers, rows = [], []
            if rows:
                yield self._table(numbers, rows)

    def _extractor(self, column: str, spec: ColumnSpec) -> Callable[[list[str]], str]:
        """The function that takes this field's text out of one split line."""
        if spec.pick is None:
            index = self._header.index(column)
            take: Callable[[list[str]], str] = operator.itemgetter(index)
        else:
            members = [
                (self._header.index(value), self._header.index(condition))
                for value, condition in spec.pick.members(column)
            ]
            wanted = spec.pick.equals

            def take(values: list[str]) -> str:
                return next((values[v] for v, c in members if values[c].strip() == wanted), "")

        if spec.zero_pad is None:
            return take
        width = spec.zero_pad

        def padded(values: list[str]) -> str:
            text = take(values).strip()
            return text.rjust(width, "0") if text.isdigit() else text

        return padded

    def _table(self, numbers: list[int], rows: list[list[str]]) -> pa.Table:
        columns = list(zip(*rows, strict=True))
        arrays = {"row_number": pa.array(numbers, pa.int64())}
        for name, values in zip(self.fields, columns, strict=True):
            arrays[name] = pa.array(values, pa.string())
        return pa.table(arrays)
