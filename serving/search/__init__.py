"""FHIR search over the serving store: the parameters each API's IG declares (compiled from the
IG packages), indexed at load time, queried with SQLAlchemy Core on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass

from serving.apis import Api
from serving.search.query import SearchError, SearchResult, in_compartment, search

__all__ = [
    "Capability",
    "SearchError",
    "SearchParamInfo",
    "SearchResult",
    "capabilities",
    "in_compartment",
    "search",
]


@dataclass(frozen=True)
class SearchParamInfo:
    name: str
    type: str
    definition: str
    documentation: str


@dataclass(frozen=True)
class Capability:
    search_params: list[SearchParamInfo]
    includes: list[str]  # e.g. "PractitionerRole:location"
    revincludes: list[str]
    chains: dict[str, list[str]]  # reference param -> chained param names supported


def capabilities(api: Api, resource_type: str) -> Capability:
    """What a search on this type of this API supports, for its CapabilityStatement."""
    from serving.search.query import _entry

    entry = _entry(api, resource_type)
    params = {code: p for code, p in sorted(entry["params"].items()) if not code.startswith("@")}
    return Capability(
        search_params=[
            SearchParamInfo(code, p["type"], p["definition"], p["documentation"])
            for code, p in params.items()
        ],
        includes=list(entry["include"]),
        revincludes=list(entry["revinclude"]),
        chains={code: list(p["chains"]) for code, p in params.items() if p.get("chains")},
    )
