"""Every example instance shipped in the IG packages validates clean against its declared profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.conformance import Validator

from .igdata import example_files, load, requires_ig

# Examples that carry a real defect of the IG itself; each must still fail with exactly this path.
KNOWN_DEFECTS: dict[str, tuple[str, str]] = {
    "DiagnosticReport-cardiology-report.json": (
        "DiagnosticReport.presentedForm[0].hash",
        "US Core 3.1.1 example: hash 'EQH/..AgME' is not base64 ('.' is not a base64 character)",
    ),
    "Observation-satO2-fiO2.json": (
        "Observation.component[0].valueQuantity",
        "US Core 3.1.1 example: component unit L/min is outside the required ucum-vitals-common "
        "binding that vitalsigns puts on Observation.component.value[x]",
    ),
}

pytestmark = [pytest.mark.ig, requires_ig]


@pytest.mark.parametrize(
    ("path", "profile"),
    [pytest.param(p, o, id=i) for i, p, o in example_files()],
)
def test_example_validates_clean(validator: Validator, path: Path, profile: str | None) -> None:
    errors = [i for i in validator.validate(load(path), profile) if i.severity == "error"]
    if path.name in KNOWN_DEFECTS:
        expected, _reason = KNOWN_DEFECTS[path.name]
        assert [e.expression for e in errors] == [expected], [e.diagnostics for e in errors]
        return
    assert errors == [], "\n".join(e.diagnostics for e in errors)


def test_no_invariant_left_unevaluated_on_examples(validator: Validator) -> None:
    for _, path, profile in example_files():
        validator.validate(load(path), profile)
    # only the careTeam qualification check needs VSAC (listed in the manifest)
    assert validator.not_evaluable <= {"EOB-careteam-qualification"}
