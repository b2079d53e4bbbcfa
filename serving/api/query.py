"""The search request's own parameters (_count, _summary, _total, _elements, _format and the
paging cursor), split from the ones the search layer answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from serving.api.errors import FhirError

DEFAULT_COUNT = 50
MAX_COUNT = 1000
CURSOR = "_cursor"
JSON_FORMATS = frozenset(
    {"json", "application/json", "application/fhir+json", "application/json+fhir"}
)
_TOTALS = {"accurate": True, "estimate": True, "none": False}
# _summary=true and text need each type's summary elements; not served rather than faked.
_SUMMARIES = {"false", "data", "count"}
CONTROLS = frozenset({"_count", "_summary", "_total", "_format", "_elements", CURSOR})


@dataclass(frozen=True)
class Controls:
    count: int
    want_total: bool
    cursor: str | None
    elements: tuple[str, ...] | None
    drop_text: bool
    # The controls to repeat on a next link, so every page is asked the same way.
    carried: tuple[tuple[str, str], ...]


def split_controls(
    pairs: Sequence[tuple[str, str]],
) -> tuple[list[tuple[str, str]], Controls]:
    """(the search layer's parameters, this layer's controls); a bad control is a 400."""
    params = [(k, v) for k, v in pairs if k not in CONTROLS]
    given: dict[str, str] = {}
    for key, value in pairs:
        if key in CONTROLS:
            if key in given:
                raise bad(key, f"{key} may be given only once")
            given[key] = value
    check_format(given.get("_format"))
    summary = given.get("_summary", "false")
    if summary not in _SUMMARIES:
        raise bad("_summary", "_summary supports count, data and false only")
    count = _count(given.get("_count"))
    total = given.get("_total")
    if total is not None and total not in _TOTALS:
        raise bad("_total", "_total must be accurate, estimate or none")
    want_total = summary == "count" or count == 0 or _TOTALS.get(total or "none", False)
    carried = tuple(
        (key, given[key]) for key in ("_summary", "_total", "_elements") if key in given
    )
    return params, Controls(
        count=0 if summary == "count" else count,
        want_total=want_total,
        cursor=given.get(CURSOR) or None,
        elements=_elements(given.get("_elements")),
        drop_text=summary == "data",
        carried=carried,
    )


def _count(value: str | None) -> int:
    if value is None:
        return DEFAULT_COUNT
    if not value.isdigit():
        raise bad("_count", "_count must be a whole number from 0")
    return min(int(value), MAX_COUNT)


def _elements(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    if not names or not all(name.isidentifier() for name in names):
        raise bad("_elements", "_elements must list top-level element names, comma-separated")
    return names


def check_format(value: str | None) -> None:
    if value is not None and value.split(";")[0].strip() not in JSON_FORMATS:
        raise FhirError(406, "this server answers in JSON only (_format=json)")


def bad(parameter: str, message: str) -> FhirError:
    return FhirError(400, message, expression=parameter)
