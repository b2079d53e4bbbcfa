"""The committed rule set is what the compiler makes from the IG packages, byte for byte."""

from __future__ import annotations

import json

import pytest

from pipelines.conformance.compiler import COMPILED_DIR, FILES, compile_rules, render

from .igdata import IG_DIR, requires_ig


@pytest.mark.ig
@requires_ig
def test_committed_rules_match_a_fresh_compile() -> None:
    fresh = render(compile_rules(IG_DIR))
    for name in FILES:
        committed = (COMPILED_DIR / name).read_text("utf-8")
        assert committed == fresh[name], f"{name} is stale: run `interop compile-profiles`"


@pytest.mark.ig
@requires_ig
def test_compile_is_deterministic() -> None:
    assert render(compile_rules(IG_DIR)) == render(compile_rules(IG_DIR))


def test_manifest_lists_what_is_not_checked() -> None:
    manifest = json.loads((COMPILED_DIR / "manifest.json").read_text("utf-8"))
    not_checked = manifest["required_bindings_not_checked"]
    icd = "http://hl7.org/fhir/us/carin-bb/ValueSet/CDCICD910CMDiagnosisCodes|2.0.0"
    assert "external" in not_checked[icd]["reason"]
    assert any("C4BB-ExplanationOfBenefit" in u for u in not_checked[icd]["used_by"])
    assert "EOB-careteam-qualification" in manifest["invariants_not_evaluated"]
    profiles = manifest["profiles"]
    usdf = "http://hl7.org/fhir/us/davinci-drug-formulary/StructureDefinition/usdf-FormularyDrug"
    assert f"{usdf}|1.1.0" in profiles and f"{usdf}|2.0.1" in profiles


def test_rule_set_is_reasonably_sized() -> None:
    total = sum((COMPILED_DIR / name).stat().st_size for name in FILES)
    assert total < 3_000_000
