"""Raw → staged for one record kind: parse, run the rules, split into staged rows and quarantine.

Staged rows of a load are also merged into canonical_<kind>, the accumulated current state that
later loads resolve members, providers and replaced claims against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from pipelines.canonical.rules import (
    SQL_TYPES,
    RowRule,
    apply_rules,
    concept_map_rule,
    create_typed_table,
    sql_literal,
)
from pipelines.canonical.schema import CANONICAL_KINDS
from pipelines.ingest.landing import raw_table
from pipelines.ingest.layouts import Layout


@dataclass(frozen=True)
class KindSpec:
    """How one record kind is keyed and which concept maps its code fields go through."""

    kind: str
    key: tuple[str, ...]
    concept_maps: tuple[tuple[str, str], ...] = ()
    merge_key: str | None = None  # canonical rows replaced when a load brings this key again
    # Rows may repeat a key when they agree in every field (a roster repeats an organization
    # on each of its roles); rows that disagree are all held back as conflicting.
    identical_repeats: bool = False


def typed_table(kind: str) -> str:
    return f"typed_{kind}"


def staged_table(kind: str) -> str:
    return f"staged_{kind}"


def canonical_table(kind: str) -> str:
    return f"canonical_{kind}"


def _as_layouts(layouts: Layout | Sequence[Layout]) -> tuple[Layout, ...]:
    return (layouts,) if isinstance(layouts, Layout) else tuple(layouts)


def _in_layout(layout: Layout, rule: RowRule) -> RowRule:
    """The rule for rows of this layout only: its column names are that format's."""
    guarded = f"t.layout = {sql_literal(layout.name)} AND ({rule.violated})"
    return RowRule(rule.reason, rule.column, guarded, rule.message)


def _key_rule(layout: Layout, spec: KindSpec) -> RowRule:
    key = ", ".join(f't."{name}"' for name in spec.key)
    key_columns = " / ".join(
        name for name, column in layout.field_specs() if column.field in spec.key
    )
    if spec.identical_repeats:
        fields = ", ".join(f't."{name}"' for name in CANONICAL_KINDS[spec.kind])
        return RowRule(
            "conflicting_rows",
            key_columns,
            f"count(DISTINCT ({fields})) OVER (PARTITION BY {key}) > 1",
            f"another row with the same {key_columns} says something different; "
            "conflicting rows are all held back",
        )
    return RowRule(
        "duplicate_key",
        key_columns,
        f"count(*) OVER (PARTITION BY {key}) > 1",
        f"another row of this file has the same {key_columns}; conflicting rows are all held back",
    )


def check_kind(
    con: duckdb.DuckDBPyConnection, layouts: Layout | Sequence[Layout], spec: KindSpec
) -> None:
    """Create typed_<kind> with the field, concept-map and duplicate-key violations of each row."""
    layouts = _as_layouts(layouts)
    typed = typed_table(spec.kind)
    create_typed_table(con, layouts, raw_table(spec.kind), typed)
    rules = [
        _in_layout(layout, rule)
        for layout in layouts
        for field, map_name in spec.concept_maps
        if (rule := concept_map_rule(layout, field, map_name)) is not None
    ]
    rules.extend(_in_layout(layout, _key_rule(layout, spec)) for layout in layouts)
    apply_rules(con, typed, rules)
    fields = ", ".join(f'"{name}"' for name in CANONICAL_KINDS[spec.kind])
    canonical = canonical_table(spec.kind)
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {canonical} AS "
        f"SELECT load_id, source_file, row_number, {fields} FROM {typed} LIMIT 0"
    )
    for name, field in CANONICAL_KINDS[spec.kind].items():
        # A canonical table made before the kind gained a field gets the field, empty.
        sql_type = SQL_TYPES.get(field.type, "VARCHAR")
        con.execute(f'ALTER TABLE {canonical} ADD COLUMN IF NOT EXISTS "{name}" {sql_type}')


def finalize_kind(
    con: duckdb.DuckDBPyConnection,
    layouts: Layout | Sequence[Layout],
    spec: KindSpec,
    load_id: str,
    domain: str,
) -> None:
    """Split typed_<kind> into staged_<kind> and quarantine, and count staged rows per file."""
    typed, staged = typed_table(spec.kind), staged_table(spec.kind)
    fields = ", ".join(f'"{name}"' for name in CANONICAL_KINDS[spec.kind])
    con.execute(
        f"CREATE OR REPLACE TABLE {staged} AS SELECT load_id, source_file, row_number, {fields} "
        f"FROM {typed} WHERE len(violations) = 0"
    )
    con.execute(
        f"""
        INSERT INTO quarantine
        SELECT load_id, ?, source_file, row_number, 'staged', violations[1].reason,
               violations[1].col, array_to_string(list_transform(violations, lambda v: v.message), '; ')
        FROM {typed} WHERE len(violations) > 0
        """,
        [domain],
    )
    con.execute(
        f"INSERT INTO staged_counts SELECT ?, ?, source_file, count(*) FROM {staged} "
        "GROUP BY source_file",
        [load_id, domain],
    )


def merge_into_canonical(con: duckdb.DuckDBPyConnection, spec: KindSpec) -> None:
    """Replace, in canonical_<kind>, every row whose merge key this load brings again."""
    staged, canonical = staged_table(spec.kind), canonical_table(spec.kind)
    merge_key = spec.merge_key or spec.key[0]
    con.execute(
        f'DELETE FROM {canonical} WHERE "{merge_key}" IN (SELECT "{merge_key}" FROM {staged})'
    )
    con.execute(f"INSERT INTO {canonical} BY NAME SELECT * FROM {staged}")


def file_arrived(con: duckdb.DuckDBPyConnection, load_id: str, kind: str) -> bool:
    """Whether this load landed at least one file of the kind."""
    return bool(
        con.execute(
            "SELECT count(*) FROM landing_counts WHERE load_id = ? AND kind = ?", [load_id, kind]
        ).fetchone()[0]
    )


def replace_canonical(con: duckdb.DuckDBPyConnection, spec: KindSpec, load_id: str) -> None:
    """A full-snapshot kind (roster, formulary): when this load brought a file of the kind, its
    staged rows become the whole canonical_<kind>; a night without one keeps the last snapshot."""
    staged, canonical = staged_table(spec.kind), canonical_table(spec.kind)
    if file_arrived(con, load_id, spec.kind):
        con.execute(f"DELETE FROM {canonical}")
        con.execute(f"INSERT INTO {canonical} BY NAME SELECT * FROM {staged}")


def add_rules(con: duckdb.DuckDBPyConnection, kind: str, rules: list[RowRule]) -> None:
    apply_rules(con, typed_table(kind), rules)
