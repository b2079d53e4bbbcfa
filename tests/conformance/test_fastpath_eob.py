"""The generated fast path on the benchmark's professional EOB: each break is still found, and the
fast path and the full walk report the same issues (also once the memos and string sets are warm).
"""

from __future__ import annotations

import copy
import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from pipelines.conformance import Validator
from pipelines.conformance.validator import reference_type

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_conformance.py"
TRANSPORT = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType"


def _bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_conformance", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench_module()


def _adj(eob: dict, n: int = 1) -> dict:
    return eob["item"][0]["adjudication"][n]


def _set(path: Callable[[dict], dict], key: str, value: object) -> Callable[[dict], None]:
    def mutate(eob: dict) -> None:
        path(eob)[key] = value

    return mutate


def _drop(path: Callable[[dict], dict], key: str) -> Callable[[dict], None]:
    def mutate(eob: dict) -> None:
        del path(eob)[key]

    return mutate


# (name, mutation, an element path among the errors)
BREAKS: list[tuple[str, Callable[[dict], None], str]] = [
    ("currency-spaces", _set(lambda e: _adj(e)["amount"], "currency", "U SD "), "amount.currency"),
    ("currency-number", _set(lambda e: _adj(e)["amount"], "currency", 840), "amount.currency"),
    ("amount-string", _set(lambda e: _adj(e)["amount"], "value", "12.50"), "amount.value"),
    ("amount-boolean", _set(lambda e: _adj(e)["amount"], "value", True), "amount.value"),
    ("amount-unknown-key", _set(lambda e: _adj(e)["amount"], "valu", 1.0), "amount.valu"),
    ("amount-empty", _set(_adj, "amount", {}), "adjudication[1].amount"),
    ("amount-only-id", _set(_adj, "amount", {"id": "a"}), "adjudication[1].amount"),
    ("amount-a-list", _set(_adj, "amount", [{"value": 1.0}]), "adjudication[1].amount"),
    ("adjudication-extra-key", _set(_adj, "bogus", 1), "adjudication[1].bogus"),
    ("sequence-zero", _set(lambda e: e["item"][0], "sequence", 0), "item[0].sequence"),
    ("sequence-array-string", _set(lambda e: e["item"][0], "careTeamSequence", ["1"]), "item[0]"),
    ("sequence-array-empty", _set(lambda e: e["item"][0], "diagnosisSequence", []), "item[0]"),
    (
        "status-not-in-value-set",
        _set(lambda e: e, "status", "activ"),
        "ExplanationOfBenefit.status",
    ),
    ("status-with-space", _set(lambda e: e, "status", "active "), "ExplanationOfBenefit.status"),
    ("date-no-such-day", _set(lambda e: e["payment"], "date", "2024-02-30"), "payment.date"),
    (
        "patient-wrong-target",
        _set(lambda e: e["patient"], "reference", "Practitioner/x"),
        "patient",
    ),
    ("patient-missing-contained", _set(lambda e: e["patient"], "reference", "#p1"), "patient"),
    ("patient-empty", _set(lambda e: e, "patient", {}), "ExplanationOfBenefit.patient"),
    ("location-as-reference", _drop(lambda e: e["item"][0], "locationCodeableConcept"), ""),
    ("no-payment-status", _drop(lambda e: e["item"][0]["adjudication"][0], "category"), "item[0]"),
    ("care-team-role-list-code", lambda e: _role_codes(e, ["rendering", "x"]), "careTeam[0].role"),
]


def _role_codes(eob: dict, code: object) -> None:
    eob["careTeam"][0]["role"]["coding"][0]["code"] = code


def _errors(validator: Validator, resource: dict) -> list[str]:
    return [i.expression for i in validator.validate(resource) if i.severity == "error"]


@pytest.fixture(scope="module")
def warm() -> tuple[Validator, Validator]:
    """A fast and a full validator that have already validated many valid EOBs."""
    fast, full = Validator(), Validator(fast=False)
    for seed in range(50):
        eob = bench.professional_eob(seed=seed)
        assert _errors(fast, eob) == [] == _errors(full, eob)
    return fast, full


def test_valid_eob_agrees(warm: tuple[Validator, Validator]) -> None:
    fast, full = warm
    for seed in range(50, 60):
        eob = bench.professional_eob(seed=seed)
        assert fast.validate(eob) == full.validate(eob)


@pytest.mark.parametrize(("name", "mutate", "where"), BREAKS, ids=[b[0] for b in BREAKS])
def test_break_is_found_by_both_paths(
    warm: tuple[Validator, Validator], name: str, mutate: Callable[[dict], None], where: str
) -> None:
    fast, full = warm
    eob = copy.deepcopy(bench.professional_eob(seed=7))
    mutate(eob)
    assert fast.validate(eob) == full.validate(eob)
    errors = _errors(fast, eob)
    assert errors, name
    assert any(where in e for e in errors), errors


def test_break_after_the_same_values_were_valid(warm: tuple[Validator, Validator]) -> None:
    """The memos key on whole values: a valid value seen before does not vouch for a new one."""
    fast, _full = warm
    eob = bench.professional_eob(seed=3)
    _adj(eob)["amount"]["currency"] = "USD\n"
    assert any("amount.currency" in e for e in _errors(fast, eob))


def test_transport_info_must_be_linked_to_a_line(warm: tuple[Validator, Validator]) -> None:
    fast, full = warm
    eob = bench.professional_eob(seed=4)
    eob["supportingInfo"].append(
        {"sequence": 4, "category": bench._cc(TRANSPORT, "transportationdistance")}
    )
    assert fast.validate(eob) == full.validate(eob)
    assert any(
        "EOB-prof-all-transportation" in i.diagnostics
        for i in fast.validate(eob)
        if i.severity == "error"
    )


def _reference_type_by_splitting(reference: str) -> str | None:
    """reference_type as it was before its shortcut for the Type/id form (non-local references)."""
    parts = reference.split("/_history/")[0].split("?")[0].rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2][:1].isupper() and parts[-2].isalpha():
        return parts[-2]
    return None


@pytest.mark.parametrize(
    "reference",
    [
        "Patient/1",
        "patient/1",
        "Patient/",
        "/1",
        "Pat1ent/1",
        "Ünïcode/1",
        "Patient//1",
        "Patient/1/",
        "Patient?x=1",
        "Patient/1?x=2",
        "Patient/1/_history/2",
        "http://example.org/fhir/Patient/1",
        "urn:uuid:1234",
        "Patient/a#b",
    ],
)
def test_reference_type_shortcut_agrees(reference: str) -> None:
    assert reference_type(reference, {}) == _reference_type_by_splitting(reference)
