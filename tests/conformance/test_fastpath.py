"""The fast path and the full walk give the same issues on every example and mutation."""

from __future__ import annotations

import pytest

from pipelines.conformance import Validator

from .fixtures import c4bb_organization, c4bb_practitioner
from .igdata import example_files, load, requires_ig
from .mutations import generate


def _same(fast: Validator, full: Validator, resource: dict, profile: str | None) -> None:
    assert fast.validate(resource, profile) == full.validate(resource, profile)


def test_fast_path_agrees_on_small_resources() -> None:
    fast, full = Validator(), Validator(fast=False)
    for res in (c4bb_organization(), c4bb_practitioner()):
        _same(fast, full, res, None)
        res["name"] = 5
        _same(fast, full, res, None)
        res["extension"] = [{"url": "http://example.org/x", "valueString": "a"}]
        res["modifierExtension"] = [{"url": "http://example.org/x", "valueString": "a"}]
        _same(fast, full, res, None)


@pytest.mark.ig
@requires_ig
def test_fast_path_agrees_on_examples_and_mutations() -> None:
    fast, full = Validator(), Validator(fast=False)
    compared = 0
    for test_id, path, profile in example_files():
        resource = load(path)
        _same(fast, full, resource, profile)
        if resource.get("resourceType") == "Bundle":
            continue
        for m in generate(full, test_id, resource, profile)[::2]:
            _same(fast, full, m.mutated(resource), m.profile)
            compared += 1
    assert compared > 500
