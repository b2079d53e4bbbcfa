"""Mutation suite: broken copies of the IG examples must each fail with the right element path."""

from __future__ import annotations

import pytest

from pipelines.conformance import Validator

from .igdata import HAVE_IG, example_files, load, requires_ig
from .mutations import Mutation, generate
from .test_examples import KNOWN_DEFECTS

pytestmark = [pytest.mark.ig, requires_ig]
MAX_PER_KIND_AND_EXAMPLE = 3


def _mutations() -> list[tuple[Mutation, dict]]:
    if not HAVE_IG:
        return []
    validator = Validator()
    out = []
    for test_id, path, profile in example_files():
        resource = load(path)
        if path.name in KNOWN_DEFECTS or resource.get("resourceType") == "Bundle":
            continue
        per_kind: dict[str, int] = {}
        for m in generate(validator, test_id, resource, profile):
            kind = m.kind.split("-slice-")[0]
            if per_kind.get(kind, 0) < MAX_PER_KIND_AND_EXAMPLE:
                per_kind[kind] = per_kind.get(kind, 0) + 1
                out.append((m, resource))
    return out


MUTATIONS = _mutations()


def test_suite_is_large_and_covers_every_kind() -> None:
    assert len(MUTATIONS) >= 200
    kinds = {m.kind.split("-slice-")[0] for m, _ in MUTATIONS}
    assert {
        "remove-required",
        "break-required-code",
        "break-fixed-pattern",
        "exceed-max",
        "wrong-json-type",
        "malformed-date",
        "break",
        "invariant-per-1",
        "invariant-profile-version",
        "wrong-reference-target",
    } <= kinds | {"break"}


@pytest.mark.parametrize(("mutation", "resource"), MUTATIONS, ids=[m.name for m, _ in MUTATIONS])
def test_mutation_is_caught_at_its_path(
    validator: Validator, mutation: Mutation, resource: dict
) -> None:
    issues = validator.validate(mutation.mutated(resource), mutation.profile)
    errors = [i for i in issues if i.severity == "error"]
    assert any(e.expression == mutation.expected_path for e in errors), (
        f"{mutation.kind}: expected an error at {mutation.expected_path}; got "
        + "\n".join(e.diagnostics for e in errors)
    )
    assert all(mutation_profile_named(e.diagnostics) for e in errors)
    key = mutation.kind.removeprefix("invariant-")
    if key in validator.rules.invariants:
        assert any(
            e.expression == mutation.expected_path and e.diagnostics.split(": ")[1] == key
            for e in errors
        ), [e.diagnostics for e in errors]


def mutation_profile_named(diagnostics: str) -> bool:
    return "(profile http" in diagnostics
