"""The compiled search parameters (compiled/search_params.json), as the load and the query
engine read them."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from serving.search.compile import COMPILED_FILE


@lru_cache(maxsize=1)
def compiled() -> dict[str, Any]:
    return orjson.loads(COMPILED_FILE.read_bytes())


def index_spec(resource_type: str) -> dict[str, Any]:
    """Index name -> {type, paths} for every indexed parameter of the type, across the APIs."""
    return compiled()["index"].get(resource_type, {})


def indexed_types() -> frozenset[str]:
    return frozenset(compiled()["index"])


def api_resource(api_name: str, resource_type: str) -> dict[str, Any] | None:
    """{params, include, revinclude} of a type in an API; None when the API does not serve it."""
    return compiled()["apis"].get(api_name, {}).get(resource_type)
