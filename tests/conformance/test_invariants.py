"""Native invariant twins agree with fhirpathpy on the IG examples and their mutations."""

from __future__ import annotations

import copy
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


NUBC = "https://www.nubc.org/CodeSystem"
ADA = "http://terminology.hl7.org/CodeSystem/ADAUniversalToothDesignationSystem"
GEOJSON = "http://hl7.org/fhir/StructureDefinition/location-boundary-geojson"


def _info(seq: int, code: str = "other", system: str | None = None, value: str = "x") -> dict:
    out: dict = {"sequence": seq, "category": {"coding": [{"code": code}]}}
    if system is not None:
        out["code"] = {"coding": [{"system": system, "code": value}]}
    return out


def _add_info(*infos: dict) -> Any:
    return lambda o: o.setdefault("supportingInfo", []).extend(infos)


def _first_item(change: Any) -> Any:
    return lambda o: change(o["item"][0]) if o.get("item") else None


def _set(**values: Any) -> Any:
    return lambda o: o.update(values)


def _drop(*keys: str) -> Any:
    return lambda o: [o.pop(k, None) for k in keys]


def _tooth_surface_without_tooth(item: dict) -> None:
    item.pop("bodySite", None)
    item["subSite"] = [{"coding": [{"code": "O"}]}]
    item["informationSequence"] = [1]


# invariant key -> mutations of the elements it is checked on (IG examples); each list holds at
# least one that breaks the invariant where it can fail, plus FHIRPath edge cases (collection
# equality, `_x` siblings, nulls) that the twin must read exactly as fhirpathpy does.
TWIN_MUTATIONS: dict[str, list[Any]] = {
    "EOB-inst-pointoforigin": [
        _add_info(
            _info(90, system=f"{NUBC}/PriorityTypeOfAdmitOrVisit", value="4"),
            _info(91, system="AHANUBCPointOfOriginForAdmissionOrVisitNonnewborn"),
        ),
        _add_info(
            _info(90, system=f"{NUBC}/PriorityTypeOfAdmitOrVisit", value="1"),
            _info(91, system=f"{NUBC}/PointOfOriginNewborn"),
        ),
        _add_info(
            _info(90, system=f"{NUBC}/PriorityTypeOfAdmitOrVisit", value="4"),
            _info(91, system=f"{NUBC}/PointOfOriginNewborn"),
        ),
        _add_info(
            {
                "sequence": 90,
                "code": {
                    "coding": [
                        {"system": f"{NUBC}/PriorityTypeOfAdmitOrVisit", "code": "4"},
                        {"system": f"{NUBC}/PriorityTypeOfAdmitOrVisit", "code": "1"},
                    ]
                },
            },
            _info(91, system=f"{NUBC}/PointOfOriginNewborn"),
        ),
        _add_info(
            {
                "sequence": 90,
                "code": {
                    "coding": [
                        {"system": f"{NUBC}/PriorityTypeOfAdmitOrVisit", "_code": {"id": "c"}}
                    ]
                },
            },
            _info(91, system="AHANUBCPointOfOriginForAdmissionOrVisitNonnewborn"),
        ),
    ],
    "Oral-EOB-surface-subsite-requires-tooth-number": [
        _first_item(_tooth_surface_without_tooth),
        lambda o: (
            _first_item(_tooth_surface_without_tooth)(o),
            _add_info(_info(1, "additionalbodysite", ADA, "3"))(o),
        ),
        lambda o: (
            _first_item(_tooth_surface_without_tooth)(o),
            _add_info(_info(7, "additionalbodysite", ADA, "3"))(o),
        ),
        _first_item(
            lambda i: i.update(
                subSite=[{"text": "O"}], bodySite={"coding": [{"system": ADA, "code": "3"}]}
            )
        ),
        _first_item(lambda i: i.update(subSite=[{"text": "O"}], informationSequence=[2, 2])),
    ],
    "Oral-line-item-with-linked-additionalbody-site-requires-bodysite": [
        lambda o: (
            _add_info(_info(77, "additionalbodysite"))(o),
            _first_item(lambda i: (i.pop("bodySite", None), i.update(informationSequence=[77])))(o),
        ),
        lambda o: (
            _add_info(_info(77, "additionalbodysite"))(o),
            _first_item(lambda i: i.update(informationSequence=[77], bodySite={"text": "x"}))(o),
        ),
        lambda o: (
            _add_info(_info(77, "additionalbodysite"))(o),
            _first_item(lambda i: i.update(informationSequence=[77.0]))(o),
        ),
    ],
    "Oral-EOB-supportinginfo-additionalbodysite-requires-line-item": [
        _add_info(_info(77, "additionalbodysite")),
        lambda o: (
            _add_info(_info(77, "additionalbodysite"))(o),
            _first_item(lambda i: i.update(informationSequence=[77]))(o),
        ),
        _add_info(
            {"_sequence": {"id": "s"}, "category": {"coding": [{"code": "additionalbodysite"}]}}
        ),
    ],
    "EOB-pharm-careTeam-practitioner": [
        _set(provider={"reference": "Organization/x"}),
        _set(role={"coding": [{"code": "primary"}, {"code": "prescribing"}]}),
        _set(role={"coding": [{"code": "prescribing", "_code": {"id": "c"}}]}),
    ],
    "relatedperson-name-or-relationship": [
        _drop("name", "relationship"),
        lambda o: (_drop("name", "relationship")(o), o.update(_name=[{"id": "n"}])),
        lambda o: (_drop("name")(o), o.update(relationship=[None])),
    ],
    "Location-address-or-geolocation": [
        _drop("address", "extension"),
        lambda o: (_drop("address")(o), o.update(extension=[{"url": GEOJSON}])),
        lambda o: (_drop("address")(o), o.update(extension=[{"url": [GEOJSON, GEOJSON]}])),
    ],
    "network-or-plan-Network": [
        _drop("network"),
        lambda o: (
            _drop("network")(o),
            o.setdefault("plan", [{}])[0].update(network=[{"exists": False}]),
        ),
        lambda o: o.setdefault("plan", [{}])[0].update(network=[{"exists": True}]),
        lambda o: o.setdefault("plan", [{}])[0].update(network=[{"exists": "no"}]),
    ],
    "plan-type-is-distinct": [
        lambda o: o.update(plan=o.get("plan", []) * 2),
        lambda o: o.update(plan=[{"type": {"coding": [{"code": 1}, {"code": 1.0}]}}]),
        lambda o: o.update(plan=[{"type": {"coding": [{"code": "1", "_code": {"id": "c"}}]}}]),
    ],
    "mqty-1": [
        _drop("code"),
        _set(system="urn:iso:std:iso:4217", code="USD"),
        _set(system="http://unitsofmeasure.org"),
        lambda o: (o.pop("value", None), o.pop("code", None)),
    ],
    "lst-1": [
        _set(emptyReason={"text": "none"}),
        _set(emptyReason={"text": "none"}, entry=[{"item": {"reference": "Basic/b"}}]),
    ],
    "lst-2": [
        lambda o: o.setdefault("entry", [{}])[0].update(deleted=True),
        lambda o: (o.update(mode="changes"), o.setdefault("entry", [{}])[0].update(deleted=True)),
        lambda o: (o.pop("mode", None), o.setdefault("entry", [{}])[0].update(deleted=True)),
    ],
    "lst-3": [
        lambda o: o.setdefault("entry", [{}])[0].update(date="2021-01-01"),
        lambda o: (o.update(mode="working"), o.setdefault("entry", [{}])[0].update(date="2021")),
    ],
    "tim-1": [lambda o: (o.update(duration=2), o.pop("durationUnit", None))],
    "tim-2": [lambda o: (o.update(period=2), o.pop("periodUnit", None))],
    "tim-4": [_set(duration=-1, durationUnit="h"), _set(duration=0.5, durationUnit="h")],
    "tim-5": [_set(period=-1.5, periodUnit="d"), _set(period=3, periodUnit="d")],
    "tim-6": [lambda o: (o.pop("period", None), o.update(periodMax=2))],
    "tim-7": [lambda o: (o.pop("duration", None), o.update(durationMax=2))],
    "tim-8": [lambda o: (o.pop("count", None), o.update(countMax=2))],
    "tim-9": [
        _set(offset=30),
        lambda o: o.update(offset=30, when=["CM"]),
        lambda o: o.update(offset=30, when=["AC"]),
        lambda o: o.update(offset=30, when=["AC", "PC"]),
    ],
    "tim-10": [_set(timeOfDay=["08:00:00"], when=["MORN"])],
    "drt-1": [
        _set(system="http://example.org"),
        lambda o: (o.pop("system", None), o.pop("value", None)),
        lambda o: (o.pop("system", None), o.update(value=3, code="d")),
        lambda o: o.update(code="d", _system={"id": "s"}),
    ],
}


# The pharmacy example has no careTeam: borrow the inpatient one (the same element).
SAME_ELEMENT = {"EOB-inst-careTeam-practitioner": "EOB-pharm-careTeam-practitioner"}


def test_twin_mutations_match_fhirpathpy_and_break_the_invariant() -> None:
    validator = Validator(fast=False)  # the full walk visits every element of valid examples too
    sites: dict[str, list] = {}
    for key, obj, type_path, resource, _root in _collect(validator):
        key = SAME_ELEMENT.get(key, key)
        if key in TWIN_MUTATIONS and len(sites.setdefault(key, [])) < 3:
            sites[key].append((obj, type_path, resource is obj))
    assert set(sites) == set(TWIN_MUTATIONS), set(TWIN_MUTATIONS) - set(sites)

    class Env:
        pass

    for key, mutations in TWIN_MUTATIONS.items():
        expression = validator.rules.invariants[key]["expression"]
        native = native_for(expression)
        assert native is not None, key
        outcomes = set()
        for obj, type_path, at_root in sites[key]:
            for i, mutate in enumerate(mutations):
                broken = copy.deepcopy(obj)
                mutate(broken)
                env = Env()
                env.resource = env.root = broken if at_root else {}
                env.member_of = validator._member_of
                want = validator.engine.evaluate(expression, broken, type_path, env.root, env.root)
                assert native(broken, env) == want, f"{key} mutation {i}: {broken!r}"
                outcomes.add(want)
        if key != "EOB-pharm-careTeam-practitioner":  # vacuous as written: it cannot fail
            assert False in outcomes, key
