"""Provider directory: roster and companion files → staged rules → the current directory snapshot.

Every file of the directory is a full snapshot: when it arrives, its staged rows replace the
kind's canonical table (a provider absent from tonight's roster leaves the directory); a night
without the file keeps the last one. Kinds are staged in dependency order, so each checks its
references against the current snapshot of the kinds it points at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import duckdb

from pipelines.canonical.reference import create_reference_tables
from pipelines.canonical.rules import RowRule, sql_literal
from pipelines.canonical.schema import CANONICAL_KINDS
from pipelines.canonical.staging import (
    KindSpec,
    add_rules,
    canonical_table,
    check_kind,
    file_arrived,
    finalize_kind,
    replace_canonical,
    typed_table,
)
from pipelines.ingest.layouts import Layout, layouts_of_kind

DOMAIN = "directory"


def _spec(kind: str, *key: str, concept_maps: tuple[tuple[str, str], ...] = ()) -> KindSpec:
    return KindSpec(kind=kind, key=key, concept_maps=concept_maps, identical_repeats=True)


ORGANIZATION = _spec(
    "directory_organization", "organization_id", concept_maps=(("type_code", "organization_type"),)
)
ENDPOINT = _spec("directory_endpoint", "endpoint_id")
LOCATION = _spec("directory_location", "location_id")
NETWORK = _spec("directory_network", "network_id")
PLAN = _spec("directory_plan", "plan_id")
SERVICE = _spec("directory_service", "service_id")
AFFILIATION = _spec("directory_affiliation", "affiliation_id")
ROSTER = _spec(
    "roster",
    "npi",
    "taxonomy_code",
    "organization_id",
    "location_id",
    concept_maps=(("gender_code", "gender"),),
)

# What a roster row says about the practitioner, as opposed to the role.
PRACTITIONER_FIELDS = tuple(
    name
    for name in CANONICAL_KINDS["roster"]
    if name
    in {
        "npi", "last_name", "first_name", "middle_name", "name_prefix", "name_suffix",
        "credential", "gender_code", "languages", "practitioner_phone", "license_number",
        "license_state", "license_issuer", "license_start_date", "license_end_date",
        "board_certification_code", "board_name", "deactivation_date", "reactivation_date",
    }
    or name.startswith("practitioner_")
)  # fmt: skip
# Reasons that hold back a roster row's role but not its practitioner.
ROLE_ONLY_REASONS = (
    "unknown_organization",
    "unknown_location",
    "unknown_service",
    "unknown_endpoint",
    "unknown_network",
    "unknown_taxonomy",
    "conflicting_rows",
    "role_ended",
)

# (field holding ids, reason, canonical kind and key the ids must exist in)
_REFERENCES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "directory_organization": (),
    "directory_endpoint": (
        ("managing_organization_id", "unknown_organization", "directory_organization", "organization_id"),
    ),
    "directory_location": (
        ("managing_organization_id", "unknown_organization", "directory_organization", "organization_id"),
        ("endpoint_id", "unknown_endpoint", "directory_endpoint", "endpoint_id"),
    ),
    "directory_network": (
        ("owner_organization_id", "unknown_organization", "directory_organization", "organization_id"),
        ("coverage_location_ids", "unknown_location", "directory_location", "location_id"),
        ("endpoint_id", "unknown_endpoint", "directory_endpoint", "endpoint_id"),
    ),
    "directory_plan": (
        ("owner_organization_id", "unknown_organization", "directory_organization", "organization_id"),
        ("administrator_organization_id", "unknown_organization", "directory_organization", "organization_id"),
        ("network_ids", "unknown_network", "directory_network", "network_id"),
        ("coverage_location_ids", "unknown_location", "directory_location", "location_id"),
        ("endpoint_id", "unknown_endpoint", "directory_endpoint", "endpoint_id"),
    ),
    "directory_service": (
        ("organization_id", "unknown_organization", "directory_organization", "organization_id"),
        ("location_ids", "unknown_location", "directory_location", "location_id"),
        ("coverage_location_ids", "unknown_location", "directory_location", "location_id"),
        ("new_patients_network_id", "unknown_network", "directory_network", "network_id"),
        ("endpoint_id", "unknown_endpoint", "directory_endpoint", "endpoint_id"),
    ),
    "directory_affiliation": (
        ("organization_id", "unknown_organization", "directory_organization", "organization_id"),
        ("participating_organization_id", "unknown_organization", "directory_organization", "organization_id"),
        ("network_ids", "unknown_network", "directory_network", "network_id"),
        ("location_ids", "unknown_location", "directory_location", "location_id"),
        ("service_ids", "unknown_service", "directory_service", "service_id"),
        ("endpoint_id", "unknown_endpoint", "directory_endpoint", "endpoint_id"),
    ),
    "roster": (
        ("organization_id", "unknown_organization", "directory_organization", "organization_id"),
        ("location_id", "unknown_location", "directory_location", "location_id"),
        ("service_id", "unknown_service", "directory_service", "service_id"),
        ("endpoint_id", "unknown_endpoint", "directory_endpoint", "endpoint_id"),
        ("network_ids", "unknown_network", "directory_network", "network_id"),
    ),
}  # fmt: skip

# Staging order: each kind after the kinds it points at.
STAGING_ORDER = (ORGANIZATION, ENDPOINT, LOCATION, NETWORK, PLAN, SERVICE, AFFILIATION, ROSTER)

RuleMaker = Callable[[str, str], RowRule]  # (field, source column) -> rule

_DAY = "(mon|tue|wed|thu|fri|sat|sun)"
_SPAN = f"{_DAY}(,{_DAY})*\\s+(all day|\\d\\d:\\d\\d-\\d\\d:\\d\\d)"
# What the builders read as hours: "mon,tue 08:00-17:00; sat all day".
HOURS_PATTERN = f"{_SPAN}(\\s*;\\s*{_SPAN})*"


def _ids(value: str) -> str:
    """The ids of a ';'-separated list field, as a SQL list."""
    return f"list_filter(list_transform(string_split({value}, ';'), lambda s: trim(s)), lambda s: s <> '')"


def _reference_rule(field: str, reason: str, kind: str, key: str) -> RuleMaker:
    target = canonical_table(kind)
    thing = reason.removeprefix("unknown_")

    def make(_: str, column: str) -> RowRule:
        return RowRule(
            reason,
            column,
            f"""EXISTS (SELECT 1 FROM unnest({_ids(f't."{field}"')}) AS named(i)
                WHERE named.i NOT IN (SELECT "{key}" FROM {target}))""",
            f"{column} names a {thing} that is not in the current directory",
        )

    return make


def _taxonomy_rule(field: str, column: str) -> RowRule:
    return RowRule(
        "unknown_taxonomy",
        column,
        f't."{field}" IS NOT NULL AND t."{field}" NOT IN (SELECT code FROM nucc_taxonomy)',
        f"{column} is not a NUCC provider taxonomy code",
    )


def _state_rule(field: str, column: str) -> RowRule:
    return RowRule(
        "invalid_state",
        column,
        f't."{field}" IS NOT NULL AND t."{field}" NOT IN (SELECT state FROM us_state)',
        f"{column} is not a US state or territory code",
    )


def _zip_rule(state_field: str) -> RuleMaker:
    def make(field: str, column: str) -> RowRule:
        return RowRule(
            "invalid_zip",
            column,
            f"""t."{field}" IS NOT NULL AND (
                NOT regexp_full_match(t."{field}", '\\d{{5}}(-?\\d{{4}})?')
                OR NOT EXISTS (SELECT 1 FROM us_zip z WHERE z.zip = left(t."{field}", 5)
                               AND (t."{state_field}" IS NULL OR z.state = t."{state_field}")))""",
            f"{column} is not a US ZIP code (of the row's state)",
        )

    return make


def _phone_rule(field: str, column: str) -> RowRule:
    return RowRule(
        "malformed_phone",
        column,
        f"""t."{field}" IS NOT NULL
            AND NOT regexp_full_match(regexp_replace(t."{field}", '[\\s().+-]', '', 'g'), '1?\\d{{10}}')""",
        f"{column} is not a 10-digit US phone number",
    )


def _hours_rule(field: str, column: str) -> RowRule:
    return RowRule(
        "malformed_hours",
        column,
        f"""t."{field}" IS NOT NULL AND NOT regexp_full_match(trim(t."{field}"), '{HOURS_PATTERN}')""",
        f"{column} is not hours such as 'mon,tue,wed 08:00-17:00; sat all day'",
    )


def _rules_for(layout: Layout, makers: Sequence[tuple[str, RuleMaker]]) -> list[RowRule]:
    """Each rule for the fields this layout maps, limited to the rows of this layout."""
    columns = {spec.field: column for column, spec in layout.field_specs()}
    rules = []
    for field, make in makers:
        if field in columns:
            rule = make(field, columns[field])
            guarded = f"t.layout = {sql_literal(layout.name)} AND ({rule.violated})"
            rules.append(RowRule(rule.reason, rule.column, guarded, rule.message))
    return rules


def _makers(kind: str) -> list[tuple[str, RuleMaker]]:
    fields = CANONICAL_KINDS[kind]
    makers: list[tuple[str, RuleMaker]] = []
    for name in fields:
        if name in ("taxonomy_code", "board_certification_code", "accreditation_code"):
            makers.append((name, _taxonomy_rule))
        elif name.endswith("state"):
            makers.append((name, _state_rule))
        elif name.endswith("postal_code"):
            makers.append((name, _zip_rule(name.removesuffix("postal_code") + "state")))
        elif name.endswith("phone"):
            makers.append((name, _phone_rule))
        elif name.endswith("hours"):
            makers.append((name, _hours_rule))
    makers.extend((field, _reference_rule(field, *target)) for field, *target in _REFERENCES[kind])
    return makers


def _conflicting_practitioner(layout: Layout) -> RowRule:
    fields = ", ".join(f't."{name}"' for name in PRACTITIONER_FIELDS)
    column = next(column for column, spec in layout.field_specs() if spec.field == "npi")
    return RowRule(
        "conflicting_practitioner",
        column,
        f"t.layout = {sql_literal(layout.name)} AND "
        f"count(DISTINCT ({fields})) OVER (PARTITION BY t.npi) > 1",
        f"rows with this {column} disagree about the practitioner (name, gender, license, ...); "
        "all of them are held back",
    )


def _deactivated(reactivation: bool) -> RuleMaker:
    """Plan-Net lists only active providers (its profiles fix active = true): an NPI that NPPES
    deactivated, and has not reactivated since where the kind records reactivations, leaves the
    directory."""

    def make(field: str, column: str) -> RowRule:
        violated = f't."{field}" <= current_date'
        if reactivation:
            violated += f' AND (t.reactivation_date IS NULL OR t.reactivation_date < t."{field}")'
        return RowRule(
            "deactivated_npi",
            column,
            violated,
            f"{column}: the NPI is deactivated; the directory lists active providers only",
        )

    return make


def _role_ended_rule(field: str, column: str) -> RowRule:
    return RowRule(
        "role_ended",
        column,
        f't."{field}" < current_date',
        f"{column} is past: the role has ended and is not listed",
    )


def _status_makers(kind: str) -> list[tuple[str, RuleMaker]]:
    if kind == "roster":
        return [("deactivation_date", _deactivated(True)), ("role_end_date", _role_ended_rule)]
    if kind == "directory_organization":
        return [("deactivation_date", _deactivated(False))]
    return []


def _stage_kind(con: duckdb.DuckDBPyConnection, spec: KindSpec, load_id: str) -> None:
    layouts = layouts_of_kind(DOMAIN, spec.kind)
    check_kind(con, layouts, spec)
    makers = [*_makers(spec.kind), *_status_makers(spec.kind)]
    rules = [rule for layout in layouts for rule in _rules_for(layout, makers)]
    if spec is ROSTER:
        rules.extend(_conflicting_practitioner(layout) for layout in layouts)
    add_rules(con, spec.kind, rules)
    if spec is ROSTER:
        _keep_practitioners(con, load_id)
    finalize_kind(con, layouts, spec, load_id, DOMAIN)
    replace_canonical(con, spec, load_id)


def _keep_practitioners(con: duckdb.DuckDBPyConnection, load_id: str) -> None:
    """The practitioners of the roster: from every row whose only faults are its role's, so a
    role pointing at an unknown location does not take its practitioner out of the directory."""
    fields = ", ".join(f'"{name}"' for name in PRACTITIONER_FIELDS)
    role_only = "[" + ", ".join(sql_literal(reason) for reason in ROLE_ONLY_REASONS) + "]"
    con.execute(
        "CREATE TABLE IF NOT EXISTS canonical_roster_practitioner AS "
        f"SELECT load_id, {fields} FROM {typed_table('roster')} LIMIT 0"
    )
    if not file_arrived(con, load_id, "roster"):
        return
    con.execute("DELETE FROM canonical_roster_practitioner")
    con.execute(
        f"""
        INSERT INTO canonical_roster_practitioner
        SELECT DISTINCT load_id, {fields} FROM {typed_table("roster")}
        WHERE list_bool_and(list_transform(violations, lambda v: list_contains({role_only}, v.reason)))
           OR len(violations) = 0
        """
    )


def stage_directory(con: duckdb.DuckDBPyConnection, load_id: str) -> None:
    """Type and check this load's directory files, kind by kind, and keep the current snapshot."""
    create_reference_tables(con)
    for spec in STAGING_ORDER:
        _stage_kind(con, spec, load_id)
