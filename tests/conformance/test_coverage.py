"""Must-support coverage: real values count, data-absent-reason alone does not."""

from __future__ import annotations

import json
from pathlib import Path

from pipelines.conformance import must_support_coverage

from .fixtures import c4bb_organization

DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def _profile(report: dict) -> dict:
    (only,) = report["profiles"]
    return only


def test_populated_and_missing() -> None:
    report = must_support_coverage([c4bb_organization()]).to_dict()
    org = _profile(report)
    assert org["instances"] == 1
    assert {"Organization.identifier", "Organization.name", "Organization.address"} <= set(
        org["populated"]
    )
    assert "Organization.telecom" in org["missing"]
    assert report["complete"] is False


def test_data_absent_reason_alone_does_not_count() -> None:
    org = c4bb_organization()
    org["telecom"] = [{"extension": [{"url": DAR, "valueCode": "unknown"}]}]
    assert "Organization.telecom" in _profile(must_support_coverage([org]).to_dict())["missing"]
    org["telecom"] = [{"system": "phone", "value": "555-0100"}]
    assert "Organization.telecom" in _profile(must_support_coverage([org]).to_dict())["populated"]


def test_coverage_accumulates_over_instances() -> None:
    a, b = c4bb_organization(), c4bb_organization()
    b["telecom"] = [{"system": "phone", "value": "555-0100"}]
    org = _profile(must_support_coverage([a, b]).to_dict())
    assert org["instances"] == 2 and "Organization.telecom" in org["populated"]


def test_prohibited_must_support_element_is_not_asked_for(plan_net_examples: Path) -> None:
    # Plan-Net Network marks telecom must-support and also max 0: populating it is an error.
    example = plan_net_examples / "Organization-AcmeofCTStdNet.json"
    network = _profile(must_support_coverage([json.loads(example.read_text())]).to_dict())
    assert "Organization.telecom" not in network["populated"] + network["missing"]
    assert "Organization.partOf" in network["populated"]
