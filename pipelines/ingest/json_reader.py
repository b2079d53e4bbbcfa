"""Stream a JSON extract (a top-level array of records, as CMS QHP plans.json and drugs.json are)
into Arrow batches of text, one row per record and per combination of its exploded arrays.

Records are parsed one at a time with ijson, so memory holds one record whatever the file size.
A column path may pick an array element by number (`network.0.network_tier`).
A row's `row_number` is the 1-based index of its record in the top-level array: every row a
record explodes into carries its record's number, which is what a person opens the file at.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ijson
import pyarrow as pa

from pipelines.ingest.reader import ExtractReader, HeaderMismatchError

Record = dict[str, Any]


class JsonExtractError(ValueError):
    """A JSON extract that cannot be read to the end (malformed JSON, wrong top level)."""


def _text(value: Any) -> str:
    """A JSON scalar as the raw stage's text: absent and null are empty, booleans true/false."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _walk(value: Any, path: tuple[str, ...]) -> Any:
    """The value at a dotted path; a number picks an array element ("network.0.network_tier")."""
    for key in path:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


@dataclass(frozen=True)
class _ColumnPath:
    """Where a column's value is: `scope` exploded arrays deep, then `keys` inside that element."""

    scope: int
    keys: tuple[str, ...]


def column_paths(columns: list[str], explode: tuple[str, ...]) -> list[_ColumnPath]:
    """Split each dotted column name at the deepest exploded array it lies in."""
    explode_keys = [tuple(path.split(".")) for path in explode]
    paths = []
    for column in columns:
        keys = tuple(column.split("."))
        scope = max(
            (depth + 1 for depth, ex in enumerate(explode_keys) if keys[: len(ex)] == ex),
            default=0,
        )
        prefix = len(explode_keys[scope - 1]) if scope else 0
        paths.append(_ColumnPath(scope, keys[prefix:]))
    return paths


def explode_record(record: Record, explode: tuple[str, ...]) -> Iterator[list[Any]]:
    """Each combination of the record's exploded arrays, as [record, element, element, ...].

    An array that is absent or empty still gives one row (its element None), so that a record
    is never silently dropped: its missing values then fail their required rules in staging.
    """
    frames: list[list[Any]] = [[record]]
    explode_keys = [tuple(path.split(".")) for path in explode]
    for depth, keys in enumerate(explode_keys):
        parent_depth = max(
            (d + 1 for d, ex in enumerate(explode_keys[:depth]) if keys[: len(ex)] == ex),
            default=0,
        )
        relative = keys[len(explode_keys[parent_depth - 1]) :] if parent_depth else keys
        grown = []
        for frame in frames:
            elements = _walk(frame[parent_depth], relative)
            for element in elements if isinstance(elements, list) and elements else [None]:
                grown.append([*frame, element])
        frames = grown
    yield from frames


@dataclass
class JsonExtractReader(ExtractReader):
    """ExtractReader's interface for a JSON extract (layout `format: json`)."""

    def check_header(self) -> None:
        """Fail when the file is not a JSON array (the JSON counterpart of a header check)."""
        with self.path.open("rb") as handle:
            try:
                first = next(ijson.parse(handle), None)
            except ijson.JSONError as error:
                raise HeaderMismatchError(
                    f"{self.source_name}: not valid JSON ({error}); layout {self.layout.name} "
                    f"({self.layout.path}) reads a JSON array of records"
                ) from error
        if first is None or first[1] != "start_array":
            raise HeaderMismatchError(
                f"{self.source_name}: layout {self.layout.name} ({self.layout.path}) reads a "
                "JSON array of records at the top level; this file holds something else"
            )

    def batches(self) -> Iterator[pa.Table]:
        """Yield row_number and one text column per canonical field, batch_rows rows at a time."""
        self.check_header()
        paths = column_paths(list(self.layout.columns), self.layout.explode)
        numbers: list[int] = []
        rows: list[list[str]] = []
        for number, record in self._records():
            if not isinstance(record, dict):
                self.rows_in += 1
                self._reject(number, "not_a_record", "the array element is not a JSON object")
                continue
            for frame in explode_record(record, self.layout.explode):
                self.rows_in += 1
                numbers.append(number)
                rows.append([_text(_walk(frame[p.scope], p.keys)) for p in paths])
            if len(rows) >= self.batch_rows:
                yield self._json_table(numbers, rows)
                numbers, rows = [], []
        if rows:
            yield self._json_table(numbers, rows)

    def _records(self) -> Iterator[tuple[int, Any]]:
        number = 0
        with self.path.open("rb") as handle:
            try:
                for number, record in enumerate(ijson.items(handle, "item"), start=1):
                    yield number, record
            except ijson.JSONError as error:
                # The parser cannot resume inside a broken document: fail the file, loudly.
                raise JsonExtractError(
                    f"{self.source_name}: not valid JSON after record {number}: {error}"
                ) from error

    def _json_table(self, numbers: list[int], rows: list[list[str]]) -> pa.Table:
        arrays = {"row_number": pa.array(numbers, pa.int64())}
        for index, name in enumerate(self.fields):
            arrays[name] = pa.array([row[index] for row in rows], pa.string())
        return pa.table(arrays)
