"""Search-index values of a resource, by the compiled extractor paths: normalized strings,
lower-cased tokens, parsed references and dates as UTC ranges [low, high)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

# Open ends of a Period: far enough to compare with any real date on both backends.
DATE_MIN = datetime(1, 1, 1, tzinfo=UTC)
DATE_MAX = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)

_DATE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
_ADDRESS_PARTS = ("line", "city", "district", "state", "postalCode", "country", "text")
_NAME_PARTS = ("family", "given", "prefix", "suffix", "text")
_ADDRESS_ONLY = frozenset(_ADDRESS_PARTS) - frozenset(_NAME_PARTS)
# Absolute or relative reference: [base/]Type/id[/_history/version].
_REFERENCE = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")


@lru_cache(maxsize=65_536)
def normalize(text: str) -> str:
    """Lower-cased, accent-folded, whitespace-collapsed: how string search compares."""
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(folded.casefold().split())


def _word_suffixes(folded: str) -> list[str]:
    """The text from each later word on, so a prefix search matches the start of any word."""
    words = folded.split(" ")
    return [" ".join(words[start:]) for start in range(1, len(words))]


@lru_cache(maxsize=65_536)
def parse_date(text: str) -> tuple[datetime, datetime]:
    """The UTC range [low, high) a FHIR date, dateTime or instant covers at its precision;
    ValueError when it is not one. A time without offset is taken as UTC."""
    match = _DATE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a FHIR date, dateTime or instant")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    offset = _offset(zone)
    if month is None:
        return _utc(datetime(int(year), 1, 1), offset), _utc(datetime(int(year) + 1, 1, 1), offset)
    if day is None:
        low = datetime(int(year), int(month), 1)
        following = datetime(int(year) + int(month) // 12, int(month) % 12 + 1, 1)
        return _utc(low, offset), _utc(following, offset)
    low = datetime(int(year), int(month), int(day))
    if hour is None:
        return _utc(low, offset), _utc(low + timedelta(days=1), offset)
    low = low.replace(hour=int(hour), minute=int(minute))
    if second is None:
        return _utc(low, offset), _utc(low + timedelta(minutes=1), offset)
    low = low.replace(second=int(second))
    if fraction is None:
        return _utc(low, offset), _utc(low + timedelta(seconds=1), offset)
    digits = min(len(fraction), 6)
    low = low.replace(microsecond=int(fraction[:digits].ljust(6, "0")))
    return _utc(low, offset), _utc(low + timedelta(microseconds=10 ** (6 - digits)), offset)


def _offset(zone: str | None) -> timedelta:
    if zone is None or zone == "Z":
        return timedelta(0)
    sign = -1 if zone[0] == "-" else 1
    return sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))


def _utc(local: datetime, offset: timedelta) -> datetime:
    try:
        return (local - offset).replace(tzinfo=UTC)
    except OverflowError:
        return DATE_MIN if local.year < 2 else DATE_MAX


@lru_cache(maxsize=65_536)
def parse_reference(text: str) -> tuple[str | None, str | None]:
    """(type, id) of a relative or absolute reference; (None, None) when it has no Type/id."""
    match = _REFERENCE.search(text)
    return (match.group(1), match.group(2)) if match else (None, None)


def walk(resource: dict[str, Any], paths: list[list[Any]]) -> list[Any]:
    """The values each compiled path selects, lists flattened. Plain loops rather than
    generators: this runs for every parameter of every resource a load writes."""
    found: list[Any] = []
    for path in paths:
        nodes: list[Any] = [resource]
        for step in path:
            nodes = _step(nodes, step)
            if not nodes:
                break
        found += nodes
    return found


def _step(nodes: list[Any], step: Any) -> list[Any]:
    selected: list[Any] = []
    for node in nodes:
        if type(node) is not dict:
            continue
        if type(step) is str:
            if step.endswith("[x]"):
                _choice(node, step[:-3], selected)
                continue
            value = node.get(step)
            if value is None:
                continue
            if type(value) is list:
                selected += value
            else:
                selected.append(value)
        elif "url" in step:
            if node.get("url") == step["url"]:
                selected.append(node)
        elif parse_reference(node.get("reference") or "")[0] == step["resolve"]:
            selected.append(node)
    return selected


def _choice(node: dict[str, Any], prefix: str, selected: list[Any]) -> None:
    size = len(prefix)
    for key, value in node.items():
        if key.startswith(prefix) and len(key) > size and key[size].isupper():
            selected.extend(value if type(value) is list else [value])


def _flat(value: Any) -> Iterator[Any]:
    if value is None:
        return
    if isinstance(value, list):
        yield from value
    else:
        yield value


def _unwrap_extension(node: Any) -> Any:
    # A parameter whose path ends on the extension itself searches the extension's value.
    if isinstance(node, dict) and "url" in node and "reference" not in node:
        for key, value in node.items():
            if key.startswith("value"):
                return value
    return node


def tokens(node: Any) -> Iterator[tuple[str | None, str]]:
    """(system, lower-cased code) pairs of a code, Coding, CodeableConcept or Identifier."""
    node = _unwrap_extension(node)
    if isinstance(node, bool):
        yield None, "true" if node else "false"
    elif isinstance(node, str | int):
        yield None, str(node).lower()
    elif isinstance(node, dict):
        if "coding" in node:
            for coding in node["coding"]:
                yield from tokens(coding)
        elif "code" in node:
            yield node.get("system"), str(node["code"]).lower()
        elif "value" in node:
            yield node.get("system"), str(node["value"]).lower()


def strings(node: Any) -> Iterator[str]:
    """The texts a string parameter matches: the string, or each part of an Address or name."""
    node = _unwrap_extension(node)
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        # Any part only an Address has makes it one: a coverage area may be just a state.
        is_address = not _ADDRESS_ONLY.isdisjoint(node)
        for part in _ADDRESS_PARTS if is_address else _NAME_PARTS:
            for value in _flat(node.get(part)):
                if isinstance(value, str):
                    yield value


def references(node: Any) -> Iterator[tuple[str | None, str | None, str]]:
    """(target type, target id, reference text) of a Reference or canonical."""
    node = _unwrap_extension(node)
    text = node.get("reference") if isinstance(node, dict) else node
    if isinstance(text, str) and text:
        target_type, target_id = parse_reference(text)
        yield target_type, target_id, text


def dates(node: Any) -> Iterator[tuple[datetime, datetime]]:
    """[low, high) of a date, dateTime, instant or Period; values that do not parse are skipped
    (the validator has rejected them before the load)."""
    node = _unwrap_extension(node)
    try:
        if isinstance(node, str):
            yield parse_date(node)
        elif isinstance(node, dict) and ("start" in node or "end" in node):
            low = parse_date(node["start"])[0] if node.get("start") else DATE_MIN
            high = parse_date(node["end"])[1] if node.get("end") else DATE_MAX
            yield low, high
    except ValueError:
        return


@dataclass
class IndexRows:
    """Rows of the search tables for a set of resources, in the column order of each table."""

    token: list[tuple[Any, ...]] = field(default_factory=list)
    string: list[tuple[Any, ...]] = field(default_factory=list)
    reference: list[tuple[Any, ...]] = field(default_factory=list)
    date: list[tuple[Any, ...]] = field(default_factory=list)
    profile: list[tuple[Any, ...]] = field(default_factory=list)

    def add(self, rtype: str, rid: str, resource: dict[str, Any], spec: dict[str, Any]) -> None:
        """Append the rows of one resource; spec is the compiled index of its type."""
        profiles = (resource.get("meta") or {}).get("profile") or []
        if profiles:
            self.profile.append((rtype, rid, profiles[0]))
        for param, entry in spec.items():
            kind, values = entry["type"], walk(resource, entry["paths"])
            if kind == "token":
                found = {pair for value in values for pair in tokens(value)}
                self.token += [(rtype, rid, param, system, code) for system, code in found]
            elif kind == "string":
                texts = {text for value in values for text in strings(value)}
                rows = {(normalize(t), t) for t in texts}
                if entry.get("words"):
                    rows |= {(suffix, t) for folded, t in rows for suffix in _word_suffixes(folded)}
                self.string += [(rtype, rid, param, folded, t) for folded, t in rows]
            elif kind == "reference":
                refs = {ref for value in values for ref in references(value)}
                self.reference += [(rtype, rid, param, *ref) for ref in refs]
            elif kind == "date":
                ranges = {span for value in values for span in dates(value)}
                self.date += [(rtype, rid, param, low, high) for low, high in ranges]
