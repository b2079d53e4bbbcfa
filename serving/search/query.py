"""FHIR search over the serving store's search index: parameters to SQLAlchemy Core conditions
on the current resources, keyset paging by id, includes, and the Patient Access compartment."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa

from serving.apis import Api
from serving.search.definitions import api_resource
from serving.search.extract import normalize, parse_date, parse_reference
from serving.store import (
    StoredResource,
    _stored,
    resources_table,
    search_date_table,
    search_profile_table,
    search_reference_table,
    search_string_table,
    search_token_table,
)

DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
MODIFIERS = {
    "token": {"not", "missing"},
    "string": {"exact", "contains", "missing"},
    "reference": {"missing"},  # plus :Type, checked against the parameter's targets
    "date": {"missing"},
}
# _include:iterate rounds before giving up on a reference cycle.
MAX_INCLUDE_ROUNDS = 4
_ESCAPED_COMMA = "\x00"
_TYPE_NAME = re.compile(r"^[A-Z][A-Za-z]+$")
_TABLES = {
    "token": search_token_table,
    "string": search_string_table,
    "reference": search_reference_table,
    "date": search_date_table,
}


class SearchError(ValueError):
    """A search the server cannot answer as asked: the API answers 400 naming the parameter."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass
class SearchResult:
    total: int | None
    matches: list[StoredResource]
    included: list[StoredResource]
    next_cursor: str | None


def _entry(api: Api, resource_type: str, parameter: str = "_type") -> dict[str, Any]:
    entry = api_resource(api.name, resource_type)
    if entry is None or resource_type not in api.profiles:
        raise SearchError(parameter, f"the {api.name} API does not serve {resource_type}")
    return entry


def _param(api: Api, rtype: str, code: str, name: str) -> dict[str, Any]:
    param = _entry(api, rtype, name)["params"].get(code)
    if param is None or code.startswith("@"):
        raise SearchError(name, f"unknown search parameter {code!r} for {rtype} ({api.name})")
    return param


# ---- which rows are live and served ----------------------------------------------------------


def _served(api: Api, rtype: str, r: sa.Table) -> sa.ColumnElement[bool]:
    """Current, not deleted, of a domain the API publishes and a first profile it serves."""
    p = search_profile_table
    return sa.and_(
        r.c.resource_type == rtype,
        sa.not_(r.c.deleted),
        r.c.domain.in_(sorted(api.domains)),
        sa.exists().where(
            p.c.resource_type == rtype,
            p.c.id == r.c.id,
            p.c.profile.in_(api.profiles[rtype]),
        ),
    )


def _ids(
    api: Api, rtype: str, condition: Callable[[sa.Table], sa.ColumnElement[bool]]
) -> sa.Select:
    """Ids of the served resources of a type that meet a condition (for chains and _has)."""
    r = resources_table.alias()
    return sa.select(r.c.id).where(_served(api, rtype, r), condition(r))


def _compartment(rtype: str, r: sa.Table, patient: str) -> sa.ColumnElement[bool]:
    """The Patient Access compartment of one member: the Patient, their EOBs and Coverages, and
    the Organizations, Practitioners and RelatedPersons those reference."""
    ref = search_reference_table
    eobs = sa.select(ref.c.id).where(
        ref.c.resource_type == "ExplanationOfBenefit",
        ref.c.param == "patient",
        ref.c.target_type == "Patient",
        ref.c.target_id == patient,
    )
    coverages = sa.select(ref.c.id).where(
        ref.c.resource_type == "Coverage",
        ref.c.param.in_(("beneficiary", "subscriber")),
        ref.c.target_type == "Patient",
        ref.c.target_id == patient,
    )
    if rtype == "Patient":
        return r.c.id == patient
    if rtype == "ExplanationOfBenefit":
        return r.c.id.in_(eobs)
    if rtype == "Coverage":
        return r.c.id.in_(coverages)
    if rtype in ("Organization", "Practitioner", "RelatedPerson"):
        referenced = sa.select(ref.c.target_id).where(
            ref.c.target_type == rtype,
            sa.or_(
                sa.and_(ref.c.resource_type == "ExplanationOfBenefit", ref.c.id.in_(eobs)),
                sa.and_(ref.c.resource_type == "Coverage", ref.c.id.in_(coverages)),
            ),
        )
        return r.c.id.in_(referenced)
    return sa.false()


def in_compartment(
    engine: sa.Engine, api: Api, resource_type: str, resource_id: str, patient: str
) -> bool:
    """Whether the served resource is in the member's Patient Access compartment."""
    if resource_type not in api.profiles:
        return False
    r = resources_table
    query = sa.select(r.c.id).where(
        r.c.id == resource_id,
        _served(api, resource_type, r),
        _compartment(resource_type, r, patient),
    )
    with engine.connect() as conn:
        return conn.execute(query).first() is not None


# ---- one parameter to a condition ------------------------------------------------------------


def _split_values(value: str) -> list[str]:
    """Comma-separated alternatives (OR); `\\,` is a literal comma."""
    parts = value.replace("\\,", _ESCAPED_COMMA).split(",")
    return [part.replace(_ESCAPED_COMMA, ",") for part in parts]


def _condition(
    api: Api, rtype: str, r: sa.Table, name: str, value: str, *, nested: bool = False
) -> sa.ColumnElement[bool]:
    """The condition one (name, value) pair puts on the resources alias r of type rtype."""
    if name.startswith("_has:"):
        if nested:
            raise SearchError(name, "_has inside a chain or _has is not supported")
        return _reverse_chain(api, rtype, r, name, value)
    head, dot, chained = name.partition(".")
    if dot:
        if nested:
            raise SearchError(name, "chains of more than one level are not supported")
        return _forward_chain(api, rtype, r, name, head, chained, value)
    code, _, modifier = head.partition(":")
    param = _param(api, rtype, code, name)
    if code == "_id":
        return _id_condition(r, name, modifier, value)
    if code == "_lastUpdated":
        return _last_updated_condition(r, name, modifier, value)
    return _indexed_condition(rtype, r, name, param, modifier, value)


def _id_condition(r: sa.Table, name: str, modifier: str, value: str) -> sa.ColumnElement[bool]:
    if modifier:
        raise SearchError(name, f"modifier :{modifier} is not supported on _id")
    ids = [v for v in _split_values(value) if v]
    if not ids:
        raise SearchError(name, "_id needs a value")
    return r.c.id.in_(ids)


def _last_updated_condition(
    r: sa.Table, name: str, modifier: str, value: str
) -> sa.ColumnElement[bool]:
    if modifier:
        raise SearchError(name, f"modifier :{modifier} is not supported on _lastUpdated")
    # An instant is a point: "ends after x" is "at or after x", "ends by x" is "before x".
    bounds = _Bounds(
        lo_ge=lambda x: r.c.last_updated >= x,
        lo_lt=lambda x: r.c.last_updated < x,
        hi_gt=lambda x: r.c.last_updated >= x,
        hi_le=lambda x: r.c.last_updated < x,
    )
    return sa.or_(*(_date_value(name, v, bounds) for v in _split_values(value)))


def _indexed_condition(
    rtype: str, r: sa.Table, name: str, param: dict[str, Any], modifier: str, value: str
) -> sa.ColumnElement[bool]:
    kind = param["type"]
    t = _TABLES[kind]
    rows = sa.select(t.c.id).where(t.c.resource_type == rtype, t.c.param == param["index"])
    if modifier == "missing":
        if value not in ("true", "false"):
            raise SearchError(name, ":missing takes true or false")
        return ~r.c.id.in_(rows) if value == "true" else r.c.id.in_(rows)
    target = None
    if kind == "reference" and _TYPE_NAME.match(modifier or "-"):
        if param["targets"] and modifier not in param["targets"]:
            raise SearchError(name, f"{modifier} is not a target of {name.partition(':')[0]}")
        target, modifier = modifier, ""
    if (modifier and modifier not in MODIFIERS[kind]) or (modifier == "not" and kind != "token"):
        raise SearchError(name, f"modifier :{modifier} is not supported on {kind} parameters")
    build = {
        "token": _token_value,
        "string": _string_value,
        "reference": _reference_value,
        "date": _date_row_value,
    }[kind]
    values = _split_values(value)
    alternatives = [build(t, name, v, modifier if kind == "string" else target) for v in values]
    matching = r.c.id.in_(rows.where(sa.or_(*alternatives)))
    return ~matching if modifier == "not" else matching


def _token_value(t: sa.Table, name: str, value: str, _: Any) -> sa.ColumnElement[bool]:
    system, bar, code = value.partition("|")
    if not bar:
        system, code = None, value
    if not code and not system:
        raise SearchError(name, "a token needs a code, system|code, |code or system|")
    conditions = []
    if code:
        conditions.append(t.c.code == code.lower())
    if bar:
        conditions.append(t.c.system == system if system else t.c.system.is_(None))
    return sa.and_(*conditions)


def _string_value(t: sa.Table, name: str, value: str, modifier: str) -> sa.ColumnElement[bool]:
    folded = normalize(value)
    if not folded:
        raise SearchError(name, "a string search needs a value")
    if modifier == "exact":
        return sa.and_(t.c.value == folded, t.c.exact == value)
    if modifier == "contains":
        escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return t.c.value.like(f"%{escaped}%", escape="\\")
    # A prefix as a range, which both backends answer from the (binary-ordered) index.
    upper = folded[:-1] + chr(ord(folded[-1]) + 1)
    return sa.and_(t.c.value >= folded, t.c.value < upper)


def _reference_value(
    t: sa.Table, name: str, value: str, target: str | None
) -> sa.ColumnElement[bool]:
    if not value:
        raise SearchError(name, "a reference search needs an id, Type/id or URL")
    ref_type, ref_id = parse_reference(value)
    if ref_id is None:
        if "/" in value or ":" in value:  # a URL we cannot split: compare the text
            return t.c.target_url == value
        ref_id = value
    conditions = [t.c.target_id == ref_id]
    for wanted in {ref_type, target} - {None}:
        conditions.append(t.c.target_type == wanted)
    if ref_type and target and ref_type != target:
        raise SearchError(name, f"{value} is not a {target}")
    return sa.and_(*conditions)


@dataclass(frozen=True)
class _Bounds:
    """Comparisons on a stored range [lo, hi)."""

    lo_ge: Callable[[datetime], sa.ColumnElement[bool]]
    lo_lt: Callable[[datetime], sa.ColumnElement[bool]]
    hi_gt: Callable[[datetime], sa.ColumnElement[bool]]
    hi_le: Callable[[datetime], sa.ColumnElement[bool]]


def _date_row_value(t: sa.Table, name: str, value: str, _: Any) -> sa.ColumnElement[bool]:
    bounds = _Bounds(
        lo_ge=lambda x: t.c.low >= x,
        lo_lt=lambda x: t.c.low < x,
        hi_gt=lambda x: t.c.high > x,
        hi_le=lambda x: t.c.high <= x,
    )
    return _date_value(name, value, bounds)


def _date_value(name: str, value: str, b: _Bounds) -> sa.ColumnElement[bool]:
    """FHIR date comparison of the stored range with the range the value's precision covers."""
    prefix = value[:2] if value[:2].isalpha() else "eq"
    text = value[2:] if value[:2].isalpha() else value
    if prefix not in DATE_PREFIXES:
        raise SearchError(name, f"unknown date prefix {prefix!r}")
    try:
        low, high = parse_date(text)
    except ValueError as error:
        raise SearchError(name, str(error)) from None
    if prefix == "ap":
        # "Approximately": 10% of the distance from now, at least a day, either side.
        slack = max(abs(datetime.now(UTC) - low) / 10, timedelta(days=1))
        return sa.and_(b.hi_gt(low - slack), b.lo_lt(high + slack))
    equal = sa.and_(b.lo_ge(low), b.hi_le(high))
    return {
        "eq": equal,
        "ne": sa.not_(equal),
        "gt": b.hi_gt(high),
        "lt": b.lo_lt(low),
        "ge": b.hi_gt(low),
        "le": b.lo_lt(high),
        "sa": b.lo_ge(high),
        "eb": b.hi_le(low),
    }[prefix]


# ---- chains ------------------------------------------------------------------------------------


def _forward_chain(
    api: Api, rtype: str, r: sa.Table, name: str, head: str, chained: str, value: str
) -> sa.ColumnElement[bool]:
    """`param[:Type].chained=value`: resources whose reference points at a match."""
    code, _, only = head.partition(":")
    param = _param(api, rtype, code, name)
    chained_code = chained.partition(":")[0]
    if param["type"] != "reference" or chained_code not in param.get("chains", []):
        raise SearchError(name, f"chaining {chained_code!r} through {code!r} is not supported")
    targets = [t for t in param["targets"] if not only or t == only]
    targets = [t for t in targets if chained_code in _entry(api, t, name)["params"]]
    if not targets:
        raise SearchError(name, f"no target of {code!r} has a {chained_code!r} parameter")
    ref = search_reference_table
    pointing = [
        sa.and_(
            ref.c.target_type == target,
            ref.c.target_id.in_(
                _ids(
                    api,
                    target,
                    lambda t2, tt=target: _condition(api, tt, t2, chained, value, nested=True),
                )
            ),
        )
        for target in targets
    ]
    sources = sa.select(ref.c.id).where(
        ref.c.resource_type == rtype, ref.c.param == param["index"], sa.or_(*pointing)
    )
    return r.c.id.in_(sources)


def _reverse_chain(
    api: Api, rtype: str, r: sa.Table, name: str, value: str
) -> sa.ColumnElement[bool]:
    """`_has:Type:refparam:param=value`: resources a matching Type points at through refparam."""
    parts = name.split(":", 3)
    if len(parts) != 4 or not all(parts[1:]):
        raise SearchError(name, "_has takes the form _has:Type:reference-parameter:parameter")
    _, source, ref_code, inner = parts
    ref_param = _param(api, source, ref_code, name)
    if ref_param["type"] != "reference" or (
        ref_param["targets"] and rtype not in ref_param["targets"]
    ):
        raise SearchError(name, f"{source}.{ref_code} does not refer to {rtype}")
    ref = search_reference_table
    matching = _ids(api, source, lambda s: _condition(api, source, s, inner, value, nested=True))
    targets = sa.select(ref.c.target_id).where(
        ref.c.resource_type == source,
        ref.c.param == ref_param["index"],
        ref.c.target_type == rtype,
        ref.c.id.in_(matching),
    )
    return r.c.id.in_(targets)


# ---- includes ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Include:
    source: str  # the type holding the reference
    indexes: tuple[str, ...]  # index names of its reference parameters
    target: str | None  # for _include: only this target type; for _revinclude: the base type
    reverse: bool
    iterate: bool


def _parse_include(api: Api, rtype: str, name: str, value: str) -> _Include:
    reverse = name.startswith("_revinclude")
    iterate = name.endswith(":iterate")
    if name.partition(":")[2] not in ("", "iterate"):
        raise SearchError(name, f"unknown modifier on {name.partition(':')[0]}")
    source, _, rest = value.partition(":")
    code, _, target = rest.partition(":")
    listed = _listed_includes(api, rtype, reverse, iterate)
    if f"{source}:{code}" not in listed:
        kind = "_revinclude" if reverse else "_include"
        raise SearchError(name, f"{kind}={value} is not supported for {rtype} ({api.name})")
    if not reverse and not iterate and source != rtype:
        raise SearchError(name, f"_include={value} does not start from {rtype}")
    params = _entry(api, source, name)["params"]
    codes = (
        [c for c, p in params.items() if p["type"] == "reference" and not c.startswith("@")]
        if code == "*"
        else [code]
    )
    indexes = tuple(params[c]["index"] for c in codes if c in params)
    return _Include(source, indexes, target or (rtype if reverse else None), reverse, iterate)


def _listed_includes(api: Api, rtype: str, reverse: bool, iterate: bool) -> set[str]:
    key = "revinclude" if reverse else "include"
    types = api.resource_types if iterate else [rtype]
    return {spec for t in types for spec in (api_resource(api.name, t) or {}).get(key, [])}


def _resolve_includes(
    conn: sa.Connection,
    api: Api,
    includes: list[_Include],
    matches: list[StoredResource],
    patient: str | None,
) -> list[StoredResource]:
    seen = {(m.resource_type, m.id) for m in matches}
    found: dict[tuple[str, str], StoredResource] = {}
    frontier = list(matches)
    for round_number in range(MAX_INCLUDE_ROUNDS):
        active = [i for i in includes if round_number == 0 or i.iterate]
        keys = {key for i in active for key in _include_keys(conn, i, frontier)} - seen
        if not keys:
            break
        frontier = _fetch(conn, api, keys, patient)
        seen |= keys
        found.update({(f.resource_type, f.id): f for f in frontier})
    return sorted(found.values(), key=lambda s: (s.resource_type, s.id))


def _include_keys(
    conn: sa.Connection, include: _Include, sources: list[StoredResource]
) -> Iterable[tuple[str, str]]:
    ref = search_reference_table
    if include.reverse:
        ids = [s.id for s in sources if s.resource_type == include.target]
        query = sa.select(sa.literal(include.source), ref.c.id).where(
            ref.c.resource_type == include.source,
            ref.c.param.in_(include.indexes),
            ref.c.target_type == include.target,
            ref.c.target_id.in_(ids),
        )
    else:
        ids = [s.id for s in sources if s.resource_type == include.source]
        query = sa.select(ref.c.target_type, ref.c.target_id).where(
            ref.c.resource_type == include.source,
            ref.c.param.in_(include.indexes),
            ref.c.id.in_(ids),
            ref.c.target_id.is_not(None),
        )
        if include.target:
            query = query.where(ref.c.target_type == include.target)
    if not ids:
        return []
    return [(rtype, rid) for rtype, rid in conn.execute(query) if rtype]


def _fetch(
    conn: sa.Connection, api: Api, keys: set[tuple[str, str]], patient: str | None
) -> list[StoredResource]:
    """The served resources among keys (and in the member's compartment when patient is set)."""
    by_type: dict[str, list[str]] = {}
    for rtype, rid in keys:
        by_type.setdefault(rtype, []).append(rid)
    r = resources_table
    found = []
    for rtype, ids in sorted(by_type.items()):
        if rtype not in api.profiles:
            continue
        query = sa.select(r).where(r.c.id.in_(sorted(ids)), _served(api, rtype, r))
        if patient is not None:
            query = query.where(_compartment(rtype, r, patient))
        found += [_stored(row) for row in conn.execute(query)]
    return found


# ---- the search --------------------------------------------------------------------------------


def _cursor_key(api: Api, rtype: str, params: list[tuple[str, str]], patient: str | None) -> str:
    text = orjson.dumps([api.name, rtype, sorted(params), patient])
    return hashlib.sha256(text).hexdigest()[:16]


def _encode_cursor(key: str, after: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"q": key, "after": after})).decode()


def _decode_cursor(key: str, cursor: str) -> str:
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        after = decoded["after"]
    except (ValueError, KeyError, TypeError):
        raise SearchError("_cursor", "the page cursor is not one this server made") from None
    if decoded.get("q") != key or not isinstance(after, str):
        raise SearchError("_cursor", "the page cursor belongs to another search")
    return after


def search(
    engine: sa.Engine,
    api: Api,
    resource_type: str,
    params: list[tuple[str, str]],
    *,
    count: int,
    cursor: str | None = None,
    want_total: bool = False,
    patient: str | None = None,
) -> SearchResult:
    """One page of the served resources of a type that meet every parameter, ordered by id."""
    if count < 0:
        raise SearchError("_count", "_count must not be negative")
    _entry(api, resource_type)
    r = resources_table
    conditions = [_served(api, resource_type, r)]
    includes = []
    for name, value in params:
        if name.partition(":")[0] in ("_include", "_revinclude"):
            includes.append(_parse_include(api, resource_type, name, value))
        else:
            conditions.append(_condition(api, resource_type, r, name, value))
    if patient is not None:
        conditions.append(_compartment(resource_type, r, patient))
    key = _cursor_key(api, resource_type, params, patient)
    page = list(conditions)
    if cursor is not None:
        page.append(r.c.id > _decode_cursor(key, cursor))
    with engine.connect() as conn:
        total = None
        if want_total:
            total = conn.execute(sa.select(sa.func.count()).select_from(r).where(*conditions))
            total = total.scalar_one()
        rows = []
        if count > 0:
            query = sa.select(r).where(*page).order_by(r.c.id).limit(count + 1)
            rows = [_stored(row) for row in conn.execute(query)]
        matches = rows[:count]
        included = _resolve_includes(conn, api, includes, matches, patient) if matches else []
    more = len(rows) > count and count > 0
    next_cursor = _encode_cursor(key, matches[-1].id) if more else None
    return SearchResult(total, matches, included, next_cursor)
