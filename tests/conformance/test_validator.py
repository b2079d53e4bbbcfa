"""Validator rules on small hand-made resources (no IG folder needed: only the committed rules)."""

from __future__ import annotations

import pickle

import pytest

from pipelines.conformance import Issue, Validator, validate_resource

from .fixtures import C4BB, USDF, c4bb_organization, c4bb_practitioner


def errors(resource: dict, profile: str | None = None) -> list[Issue]:
    return [i for i in validate_resource(resource, profile) if i.severity == "error"]


def paths(resource: dict, profile: str | None = None) -> set[str]:
    return {i.expression for i in errors(resource, profile)}


def test_valid_resources_have_no_errors() -> None:
    assert errors(c4bb_organization()) == []
    assert errors(c4bb_practitioner()) == []


def test_issue_is_an_operation_outcome_issue_naming_path_and_profile() -> None:
    org = c4bb_organization()
    org["active"] = "true"
    (issue,) = errors(org)
    assert issue.to_outcome_issue() == {
        "severity": "error",
        "code": "structure",
        "expression": ["Organization.active"],
        "diagnostics": issue.diagnostics,
    }
    assert "Organization.active" in issue.diagnostics
    assert f"{C4BB}/StructureDefinition/C4BB-Organization|2.0.0" in issue.diagnostics


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("active", "true", "Organization.active"),  # booleans are JSON booleans
        ("id", "bad id!", "Organization.id"),  # the R4 id regex
        ("name", "", "Organization.name"),  # strings are not empty
        ("unknownThing", 1, "Organization.unknownThing"),
        ("name", ["a", "b"], "Organization.name"),  # max 1
    ],
)
def test_structure_and_primitive_rules(field: str, value: object, path: str) -> None:
    org = c4bb_organization()
    org[field] = value
    assert path in paths(org)


@pytest.mark.parametrize(
    "value", ["2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "2024-01-01", "yesterday"]
)
def test_instant_format(value: str) -> None:
    org = c4bb_organization()
    org["meta"]["lastUpdated"] = value
    assert "Organization.meta.lastUpdated" in paths(org)


def test_numbers_must_be_json_numbers() -> None:
    org = c4bb_organization()
    org["address"][0]["period"] = {"start": "2020-01-01"}
    org["contact"] = [
        {"name": {"text": "x"}, "telecom": [{"system": "phone", "value": "1", "rank": "1"}]}
    ]
    assert "Organization.contact[0].telecom[0].rank" in paths(org)


def test_required_binding_on_a_code() -> None:
    org = c4bb_organization()
    org["address"][0]["use"] = "bogus"
    assert "Organization.address[0].use" in paths(org)


def test_nested_cardinality_only_when_the_parent_is_present() -> None:
    pr = c4bb_practitioner()
    assert errors(pr) == []  # qualification.code is 1..1, but qualification is absent
    pr["qualification"] = [{"period": {"start": "2020-01-01"}}]
    assert "Practitioner.qualification[0].code" in paths(pr)


def test_meta_lastupdated_and_profile_version_invariant() -> None:
    org = c4bb_organization()
    profile = org["meta"]["profile"][0]
    org["meta"]["profile"] = [profile.replace("|2.0.0", "|1.0.0")]
    found = errors(org, profile)
    assert any("C4BB-Organization|2.0." in i.diagnostics and i.code == "invariant" for i in found)
    org = c4bb_organization()
    del org["meta"]["lastUpdated"]
    assert any("uncontained-requires-lastUpdated" in i.diagnostics for i in errors(org))


def test_practitioner_identifier_invariant() -> None:
    pr = c4bb_practitioner()
    pr["identifier"][0]["type"]["coding"][0]["code"] = "MR"
    assert any(i.code == "invariant" and i.expression == "Practitioner" for i in errors(pr))


def test_unknown_profile_is_reported() -> None:
    org = c4bb_organization()
    org["meta"]["profile"] = ["http://example.org/StructureDefinition/nope"]
    issues = validate_resource(org)
    assert any(i.code == "not-supported" for i in issues)
    assert any(
        i.code == "not-supported" and i.severity == "error"
        for i in validate_resource(org, "http://example.org/StructureDefinition/nope")
    )


def test_versioned_canonicals_select_the_version() -> None:
    v = Validator()
    drug = f"{USDF}/usdf-FormularyDrug"
    assert v.rules.structure(f"{drug}|1.1.0").version == "1.1.0"
    assert v.rules.structure(f"{drug}|2.0.1").version == "2.0.1"
    assert v.rules.structure(drug).version == "2.0.1"  # unversioned: the latest
    mk = {
        "resourceType": "MedicationKnowledge",
        "meta": {"profile": [f"{drug}|1.1.0"]},
        "code": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1"}]
        },
    }
    found = v.validate(mk)
    assert {i.profile for i in found} == {f"{drug}|1.1.0"}
    assert any("usdf-PlanID-extension" in i.diagnostics for i in found)


def test_validator_pickles_and_batch_path() -> None:
    v = pickle.loads(pickle.dumps(Validator()))
    out = list(v.validate_many([c4bb_organization(), {"resourceType": "Nope"}]))
    assert [i for i in out[0][1] if i.severity == "error"] == []
    assert out[1][1] and out[1][1][0].severity == "error"


def test_not_a_resource() -> None:
    assert errors({"id": "x"})[0].expression == "$"


def test_contained_resources_are_validated() -> None:
    org = c4bb_organization()
    org["contained"] = [{"resourceType": "Endpoint", "id": "e1", "status": "bogus"}]
    org["endpoint"] = [{"reference": "#e1"}]
    found = paths(org)
    assert "Organization.contained[0].status" in found
    org["endpoint"] = [{"reference": "#missing"}]
    assert "Organization.endpoint[0]" in paths(org)


def test_type_profiles_apply_simple_quantity() -> None:
    mk = {"resourceType": "MedicationKnowledge", "amount": {"value": 1, "comparator": "<"}}
    assert "MedicationKnowledge.amount.comparator" in paths(mk)


def test_unknown_modifier_extension_is_an_error_unknown_extension_is_not() -> None:
    org = c4bb_organization()
    org["extension"] = [{"url": "http://example.org/ext", "valueString": "x"}]
    assert errors(org) == []
    org["modifierExtension"] = [{"url": "http://example.org/ext", "valueString": "x"}]
    assert "Organization.modifierExtension[0]" in paths(org)


def test_reference_target_type() -> None:
    pr = c4bb_practitioner()
    pr["qualification"] = [
        {"code": {"text": "MD"}, "issuer": {"reference": "Patient/p1"}},
    ]
    assert "Practitioner.qualification[0].issuer" in paths(pr)
    pr["qualification"][0]["issuer"] = {"reference": "Organization/o1"}
    assert errors(pr) == []
