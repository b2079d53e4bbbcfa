"""Pipeline validation: CARIN's own examples pass, mutated copies fail with the right path.

The profile engine has its own exhaustive mutation suite (tests/conformance); these cases pin the
pipeline's use of it and the CARIN rules it adds.
"""

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipelines.fhir.validation import validate

# Examples of CARIN BB 2.0.0 that break its own profiles; the IG's defect, not ours.
KNOWN_EXAMPLE_DEFECTS = {
    # Its rendering care team member is an Organization (the ambulance company), which the
    # Professional profile's invariant EOB-prof-careTeam-practitioner forbids.
    "ExplanationOfBenefit-EOBProfessionalTransportation1",
}


def _examples(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.json") if p.stem not in KNOWN_EXAMPLE_DEFECTS)


def test_every_carin_example_passes(carin_examples: Path) -> None:
    failures = {}
    for path in _examples(carin_examples):
        issues = validate(json.loads(path.read_text()))
        if issues:
            failures[path.name] = issues
    assert failures == {}


def _drop_focal(eob: dict) -> None:
    eob["insurance"][0]["focal"] = False


def _unversion_profile(resource: dict) -> None:
    resource["meta"]["profile"] = [p.split("|")[0] for p in resource["meta"]["profile"]]


def _bad_status(resource: dict) -> None:
    resource["status"] = 7


def _bad_date(resource: dict) -> None:
    resource["created"] = "2019-13-45"


MUTATIONS: list[tuple[str, Callable[[dict], None], str]] = [
    ("ExplanationOfBenefit-EOBProfessional1.json", _drop_focal, "ExplanationOfBenefit.insurance"),
    ("ExplanationOfBenefit-EOBPharmacy1.json", _unversion_profile, "meta.profile"),
    ("ExplanationOfBenefit-EOBOral1.json", _bad_status, "ExplanationOfBenefit.status"),
    ("ExplanationOfBenefit-EOBInpatient1.json", _bad_date, "ExplanationOfBenefit.created"),
    (
        "ExplanationOfBenefit-EOBInpatient1.json",
        lambda r: r.update(supportingInfo=[i for i in r["supportingInfo"] if i["sequence"] != 2]),
        "slice 'admissionperiod'",
    ),
    (
        "ExplanationOfBenefit-EOBPharmacy1.json",
        lambda r: r.pop("total"),
        "ExplanationOfBenefit.total",
    ),
    ("Patient-Patient1.json", lambda r: r.pop("identifier"), "Patient.identifier"),
    (
        "Practitioner-Practitioner1.json",
        lambda r: r["name"][0].pop("family"),
        "Practitioner.name[0].family",
    ),
    ("Coverage-Coverage1.json", lambda r: r.pop("payor"), "Coverage.payor"),
    (
        "ExplanationOfBenefit-EOBProfessional1.json",
        lambda r: r.update(insurance=[*r["insurance"], {**r["insurance"][0]}]),
        "exactly one insurance must be focal",
    ),
]


@pytest.mark.parametrize(
    ("example", "mutate", "path"), MUTATIONS, ids=lambda v: getattr(v, "__name__", str(v))
)
def test_mutated_example_fails_naming_the_path(
    carin_examples: Path, example: str, mutate: Callable[[dict], None], path: str
) -> None:
    resource = copy.deepcopy(json.loads((carin_examples / example).read_text()))
    assert validate(resource) == []
    mutate(resource)
    issues = validate(resource)
    assert any(path in issue for issue in issues), issues


def test_pipeline_messages_name_the_path_and_rule_but_not_the_value(carin_examples: Path) -> None:
    patient = json.loads((carin_examples / "Patient-Patient1.json").read_text())
    patient["birthDate"] = "1987-13-45"
    issues = validate(patient)
    assert any(i.startswith("Patient.birthDate: the value is not a valid date") for i in issues)
    assert not any("1987" in issue for issue in issues)
