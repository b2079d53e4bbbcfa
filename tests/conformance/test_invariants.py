"""Native invariant twins agree with fhirpathpy on the IG examples and their mutations."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.conformance import Validator
from pipelines.conformance.native_invariants import native_for

from .igdata import example_files, load, requires_ig
from .mutations import generate

pytestmark = [pytest.mark.ig, requires_ig]


def _collect(validator: Validator) -> list[tuple[str, Any, str, dict, dict]]:
    """Every (invariant, element, type path, resource) the validator evaluates on the examples."""
    seen: list = []
    original = validator._check_invariants

    def spy(obj: dict, keys: tuple[str, ...], type_path: str, path: str, ctx: Any) -> None:
        for key in keys:
            seen.append((key, obj, type_path, ctx.resource, ctx.root))
        original(obj, keys, type_path, path, ctx)

    validator._check_invariants = spy  # type: ignore[method-assign]
    for test_id, path, profile in example_files():
        resource = load(path)
        validator.validate(resource, profile)
        if resource.get("resourceType") == "Bundle":
            continue
        for m in generate(validator, test_id, resource, profile)[:40]:
            validator.validate(m.mutated(resource), m.profile)
    validator._check_invariants = original  # type: ignore[method-assign]
    return seen


def test_native_twins_match_fhirpathpy() -> None:
    validator = Validator()
    checked = 0
    for key, obj, type_path, resource, root in _collect(validator):
        expression = validator.rules.invariants[key]["expression"]
        native = native_for(expression)
        if native is None:
            continue

        class Env:
            pass

        env = Env()
        env.resource, env.root, env.member_of = resource, root, validator._member_of
        try:
            got = native(obj, env)
        except (AttributeError, TypeError):
            continue  # the validator falls back to fhirpathpy for malformed shapes
        if got is None:
            continue
        want = validator.engine.evaluate(expression, obj, type_path, resource, root)
        if want is None:
            continue
        assert got == want, f"{key} on {obj!r}"
        checked += 1
    assert checked > 1000
