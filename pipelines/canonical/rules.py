"""Row rules: typed parsing of raw text and the checks that send a row to quarantine.

Each rule is data (a reason code, the column it concerns, a SQL predicate and a message), so the
staged stage is a table of rules run as one DuckDB query per record kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from pipelines.canonical.schema import CANONICAL_KINDS, FieldType
from pipelines.ingest.layouts import ColumnSpec, Layout


@dataclass(frozen=True)
class RowRule:
    """A row breaks `reason` when `violated` (SQL over the typed row, alias t) is true."""

    reason: str
    column: str
    violated: str
    message: str


VIOLATION_TYPE = "STRUCT(reason VARCHAR, col VARCHAR, message VARCHAR)"


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _text(field: str) -> str:
    return f"NULLIF(trim(r.\"{field}\"), '')"


def typed_expression(spec: ColumnSpec) -> str:
    """SQL that turns the raw text of one column into its canonical type (NULL when unparseable)."""
    text = _text(spec.field)
    match spec.type:
        case FieldType.INTEGER:
            return f"TRY_CAST({text} AS BIGINT)"
        case FieldType.DECIMAL:
            return f"TRY_CAST({text} AS DECIMAL(18, 2))"
        case FieldType.DATE:
            return f"CAST(TRY_STRPTIME({text}, {sql_literal(spec.format or '')}) AS DATE)"
        case FieldType.NDC11:
            return f"ndc11({text})"
        case _:
            return text


_PARSE_FAILURES: dict[FieldType, tuple[str, str]] = {
    FieldType.INTEGER: ("bad_integer", "is not a whole number"),
    FieldType.DECIMAL: ("bad_decimal", "is not a decimal number"),
    FieldType.DATE: ("bad_date", "is not a valid date in format {format}"),
    FieldType.NDC11: ("invalid_ndc", "is not an NDC (11 digits, or 4-4-2, 5-3-2, 5-4-1, 5-4-2)"),
}


def field_rules(layout: Layout) -> list[RowRule]:
    """The rules every layout implies: required values, parseable types, valid NPI and amounts.

    They read the raw row (alias r), so an empty value and an unparseable one are told apart.
    """
    rules: list[RowRule] = []
    for column, spec in layout.columns.items():
        text, value = _text(spec.field), f"({typed_expression(spec)})"
        if spec.required:
            rules.append(
                RowRule("missing_required", column, f"{text} IS NULL", f"{column} is required")
            )
        if spec.type in _PARSE_FAILURES:
            reason, problem = _PARSE_FAILURES[spec.type]
            problem = problem.format(format=spec.format)
            rules.append(
                RowRule(
                    reason, column, f"{text} IS NOT NULL AND {value} IS NULL", f"{column} {problem}"
                )
            )
        if spec.type is FieldType.NPI:
            rules.append(
                RowRule(
                    "invalid_npi",
                    column,
                    f"{value} IS NOT NULL AND NOT npi_is_valid({value})",
                    f"{column} is not a valid NPI (10 digits with a Luhn check digit)",
                )
            )
        if spec.type is FieldType.DECIMAL and spec.field.endswith("_amount"):
            rules.append(
                RowRule("negative_amount", column, f"{value} < 0", f"{column} must not be negative")
            )
    return rules


def concept_map_rule(layout: Layout, field: str, map_name: str) -> RowRule | None:
    """A local code must be in its concept map; an unmapped code is quarantined, never defaulted."""
    column = next((name for name, spec in layout.field_specs() if spec.field == field), None)
    if column is None:
        return None
    value = f't."{field}"'
    return RowRule(
        "unmapped_code",
        column,
        f"{value} IS NOT NULL AND {value} NOT IN "
        f"(SELECT source_code FROM concept_map WHERE map_name = {sql_literal(map_name)})",
        f"{column} has a code not in concept map {map_name}.csv",
    )


def violations_expression(rules: list[RowRule]) -> str:
    """A SQL list of {reason, column, message} structs, one per rule the row breaks."""
    if not rules:
        return f"[]::{VIOLATION_TYPE}[]"
    items = ", ".join(
        f"CASE WHEN coalesce({rule.violated}, false) THEN {{'reason': {sql_literal(rule.reason)}, "
        f"'col': {sql_literal(rule.column)}, 'message': {sql_literal(rule.message)}}} END"
        for rule in rules
    )
    return f"CAST(list_filter([{items}], lambda v: v IS NOT NULL) AS {VIOLATION_TYPE}[])"


SQL_TYPES: dict[FieldType, str] = {
    FieldType.INTEGER: "BIGINT",
    FieldType.DECIMAL: "DECIMAL(18, 2)",
    FieldType.DATE: "DATE",
}


def _typed_select(layout: Layout, raw: str) -> str:
    """The rows one layout landed, parsed by its formats; fields it does not map are NULL."""
    mapped = {spec.field: spec for _, spec in layout.field_specs()}
    columns = ", ".join(
        f'{typed_expression(mapped[name])} AS "{name}"'
        if name in mapped
        else f'CAST(NULL AS {SQL_TYPES.get(field.type, "VARCHAR")}) AS "{name}"'
        for name, field in CANONICAL_KINDS[layout.kind].items()
    )
    return (
        f"SELECT r.load_id, r.source_file, r.row_number, r.layout, {columns}, "
        f"{violations_expression(field_rules(layout))} AS violations "
        f"FROM {raw} r WHERE r.layout = {sql_literal(layout.name)}"
    )


def create_typed_table(
    con: duckdb.DuckDBPyConnection, layouts: Sequence[Layout], raw: str, typed: str
) -> None:
    """typed = raw with every column parsed to its canonical type, and the field rules it breaks;
    each row by the layout (format) it arrived in."""
    selects = " UNION ALL ".join(_typed_select(layout, raw) for layout in layouts)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {typed} AS {selects}")


def apply_rules(
    con: duckdb.DuckDBPyConnection, typed: str, rules: list[RowRule], joins: str = ""
) -> None:
    """Append the violations of `rules` (SQL over the typed row, alias t) to typed.violations."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {typed} AS SELECT t.* REPLACE "
        f"(list_concat(t.violations, {violations_expression(rules)}) AS violations) "
        f"FROM {typed} t {joins}"
    )
