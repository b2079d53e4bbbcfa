"""Source layouts: the YAML files in mappings/sources that map a payer's extract to canonical fields.

Layouts are loaded and checked at start-up; a malformed file fails with the file and the key named.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipelines.canonical.schema import CANONICAL_KINDS, FieldType

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "mappings"
SOURCES_DIR = MAPPINGS_DIR / "sources"


class LayoutError(ValueError):
    """A layout file that cannot be used, with the file and key that are wrong."""


class PickSpec(BaseModel):
    """A repeating group (`Name_1` ... `Name_15`): the value is the first member whose `where`
    column equals `equals`, e.g. NPPES's primary taxonomy among fifteen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first: int = Field(ge=0)
    last: int = Field(ge=0)
    where: str
    equals: str

    def members(self, template: str) -> list[tuple[str, str]]:
        """(value column, condition column) of each member, in order."""
        return [
            (template.format(n=n), self.where.format(n=n)) for n in range(self.first, self.last + 1)
        ]


class ColumnSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    type: FieldType
    format: str | None = None
    required: bool = False
    # Left-pad digits-only values to this width: ZIP codes that a spreadsheet stored as numbers
    # arrive as "2101" for 02101.
    zero_pad: int | None = Field(default=None, ge=1)
    # The column name is then a template with {n}: see PickSpec.
    pick: PickSpec | None = None
    # Further canonical fields the same column feeds (NPPES's NPI is both the organization's
    # key and its NPI identifier).
    also: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _date_has_format(self) -> ColumnSpec:
        if self.type is FieldType.DATE and not self.format:
            raise ValueError("a date column needs a 'format' (strftime, e.g. '%Y-%m-%d')")
        return self


class Layout(BaseModel):
    """One extract format: how to read the file and which canonical field each column feeds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    file_pattern: str
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quotechar: str = Field(default='"', min_length=1, max_length=1)
    encoding: str = "utf-8"
    # "ignore": the file may carry columns the layout does not map (NPPES has 329, we read 30).
    extra_columns: Literal["reject", "ignore"] = "reject"
    # "json": a top-level array of records (CMS QHP plans.json, drugs.json); column names are
    # dotted paths into a record, and `explode` names its nested arrays, outermost first, so that
    # each combination of their elements is one row (see pipelines/ingest/json_reader.py).
    format: Literal["delimited", "json"] = "delimited"
    explode: tuple[str, ...] = ()
    columns: dict[str, ColumnSpec]
    path: Path | None = None

    def field_specs(self) -> list[tuple[str, ColumnSpec]]:
        """(source column, spec) per canonical field read, `also` fields included."""
        specs: list[tuple[str, ColumnSpec]] = []
        for column, spec in self.columns.items():
            specs.append((column, spec))
            canonical = CANONICAL_KINDS.get(self.kind, {})
            specs.extend(
                # Each further field is read as its own canonical type (an id that is an NPI).
                (column, spec.model_copy(update={"field": name, "also": (), "type": field.type}))
                for name in spec.also
                if (field := canonical.get(name)) is not None
            )
        return specs

    def source_columns(self) -> list[str]:
        """Every header column the layout reads, repeating-group members included."""
        names: list[str] = []
        for column, spec in self.columns.items():
            if spec.pick is None:
                names.append(column)
                continue
            for value_column, condition_column in spec.pick.members(column):
                names.extend((value_column, condition_column))
        return list(dict.fromkeys(names))

    @property
    def name(self) -> str:
        return self.path.stem if self.path else self.kind

    def field_for(self, column: str) -> str:
        return self.columns[column].field


def _key_path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _check_against_kind(layout: Layout, path: Path) -> None:
    if layout.kind not in CANONICAL_KINDS:
        known = ", ".join(sorted(CANONICAL_KINDS))
        raise LayoutError(f"{path}: key 'kind': unknown kind {layout.kind!r} (known: {known})")
    canonical = CANONICAL_KINDS[layout.kind]
    seen: dict[str, str] = {}
    for column, spec in layout.field_specs():
        key = f"columns.{column}"
        if spec.pick is not None and "{n}" not in column + spec.pick.where:
            raise LayoutError(f"{path}: key '{key}.pick': the column and 'where' need {{n}}")
        if spec.field not in canonical:
            raise LayoutError(
                f"{path}: key '{key}.field': {spec.field!r} is not a {layout.kind} field"
            )
        if spec.field in seen:
            raise LayoutError(
                f"{path}: key '{key}.field': {spec.field!r} is also mapped by {seen[spec.field]}"
            )
        seen[spec.field] = column
        expected = canonical[spec.field].type
        if spec.type is not expected:
            raise LayoutError(
                f"{path}: key '{key}.type': {spec.field} is {expected.value}, not {spec.type.value}"
            )
    missing = [f.name for f in canonical.values() if f.required and f.name not in seen]
    if missing:
        raise LayoutError(
            f"{path}: key 'columns': required fields not mapped: {', '.join(missing)}"
        )


def load_layout(path: Path) -> Layout:
    """Read and check one layout file."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise LayoutError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise LayoutError(f"{path}: expected a mapping at the top level")
    try:
        layout = Layout.model_validate({**document, "path": path})
    except ValidationError as error:
        first = error.errors()[0]
        raise LayoutError(f"{path}: key '{_key_path(first['loc'])}': {first['msg']}") from error
    _check_against_kind(layout, path)
    return layout


@cache
def load_domain_layouts(domain: str, sources_dir: Path = SOURCES_DIR) -> tuple[Layout, ...]:
    """All layouts of one domain folder (mappings/sources/<domain>/*.yaml), sorted by file name."""
    folder = sources_dir / domain
    layouts = tuple(load_layout(path) for path in sorted(folder.glob("*.yaml")))
    seen: dict[str, Path | None] = {}
    for layout in layouts:
        if layout.file_pattern in seen:
            raise LayoutError(
                f"{layout.path}: key 'file_pattern': {layout.file_pattern} is already read by "
                f"{seen[layout.file_pattern]}; each file has one layout"
            )
        seen[layout.file_pattern] = layout.path
    return layouts


def layouts_of_kind(domain: str, kind: str) -> tuple[Layout, ...]:
    """The domain's layouts that feed one record kind (a kind may arrive in several formats)."""
    return tuple(layout for layout in load_domain_layouts(domain) if layout.kind == kind)


def check_all_layouts(sources_dir: Path = SOURCES_DIR) -> None:
    """Load every layout so that a malformed one stops the code location from starting."""
    for folder in sorted(p for p in sources_dir.iterdir() if p.is_dir()):
        load_domain_layouts(folder.name, sources_dir)
