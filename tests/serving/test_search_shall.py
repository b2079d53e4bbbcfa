"""Inferno-style search on the whole pipeline's output for sample_inputs/, on both backends: for
every parameter an API advertises (its IG CapabilityStatement's SHALL ones and our extras), values
taken from served resources the way Inferno takes them find those resources, and every match
really has the value (re-extracted from its JSON with fhirpathpy, not with the engine's index);
and every listed _include, _revinclude and Plan-Net chain answers with the right resources."""

from __future__ import annotations

import json
import shutil
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from typing import Any, TypeVar

import fhirpathpy
import pytest
import sqlalchemy as sa
from fhirpathpy.models import models

from serving.apis import APIS, APIS_BY_NAME, Api
from serving.search import capabilities, search
from serving.search.compile import PACKAGES, STU1_SEARCH_PARAMETERS, default_ig_dir
from serving.search.extract import parse_date
from serving.store import resources_table
from tests.serving.conftest import BACKENDS, serving_engine
from tests.test_end_to_end import SAMPLE_INPUTS, Pipeline

IG_DIR = default_ig_dir()
pytestmark = pytest.mark.skipif(not IG_DIR.is_dir(), reason=f"IG packages not found at {IG_DIR}")

EXPECTATION_URL = "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation"
CAPABILITY_FILES = {
    "patient-access": "hl7.fhir.us.carin-bb/2.0.0/package/CapabilityStatement-c4bb.json",
    "provider-directory": "hl7.fhir.us.davinci-pdex-plan-net/1.1.0/package/"
    "CapabilityStatement-plan-net.json",
    "formulary": "hl7.fhir.us.davinci-drug-formulary/2.0.1/package/"
    "CapabilityStatement-usdf-server.json",
}
# Formulary STU1.1 ships no CapabilityStatement in its package (CONFORMANCE.md §6.2).
STU1_SHALL = {
    "List": ("_id", "identifier", "item", "status"),
    "MedicationKnowledge": ("DrugName", "DrugTier", "DrugPlan", "code", "_id"),
}
# Parameters no served sample resource has a value for: a search Inferno would skip.
SAMPLE_GAPS: dict[tuple[str, str, str], str] = {
    ("formulary", "Location", "address-city"): "SHALL; coverage areas are whole states",
    ("formulary", "Location", "address-postalcode"): "SHALL; coverage areas are whole states",
    ("formulary", "MedicationKnowledge", "doseform"): "SHOULD; doseForm is text only",
    ("patient-access", "Coverage", "policy-holder"): "extra; no Coverage has a policyHolder",
    # Chains: the sample's parent organizations are not the ones plans and roles name.
    ("provider-directory", "InsurancePlan", "administered-by.partof"): "no payer has a parent",
    ("provider-directory", "InsurancePlan", "owned-by.partof"): "no payer has a parent",
    ("provider-directory", "OrganizationAffiliation", "primary-organization.partof"): (
        "no affiliation's primary organization has a parent"
    ),
    ("provider-directory", "PractitionerRole", "organization.partof"): (
        "no role's organization has a parent"
    ),
}
PAGE_SIZE = 200
MAX_PAGES = 25
SAMPLES_PER_CASE = 3  # resources a value is taken from: the first, middle and last by id
CHECKED_PER_SEARCH = 60  # matches re-extracted per search, spread over the result
R4 = models["r4"]
T = TypeVar("T")


# ---- what each API declares ------------------------------------------------------------------


@cache
def _statement(api_name: str) -> dict[str, dict[str, Any]]:
    """Per resource type: SHALL parameter codes, includes and revincludes of the IG CS."""
    if api_name not in CAPABILITY_FILES:
        api = APIS_BY_NAME[api_name]
        return {
            rtype: {
                "shall": STU1_SHALL[rtype],
                "include": capabilities(api, rtype).includes,
                "revinclude": capabilities(api, rtype).revincludes,
            }
            for rtype in api.resource_types
        }
    cs = json.loads((IG_DIR / CAPABILITY_FILES[api_name]).read_text("utf-8"))
    found = {}
    for resource in cs["rest"][0]["resource"]:
        rtype = resource["type"]
        found[rtype] = {
            "shall": tuple(
                p["name"] for p in resource.get("searchParam", []) if _expectation(p) == "SHALL"
            ),
            # USDF 2.0.1 lists includes as bare parameter names.
            "include": [
                i if ":" in i else f"{rtype}:{i}" for i in resource.get("searchInclude", [])
            ],
            "revinclude": list(resource.get("searchRevInclude", [])),
        }
    return found


def _expectation(element: dict[str, Any]) -> str | None:
    return next(
        (e.get("valueCode") for e in element.get("extension", []) if e["url"] == EXPECTATION_URL),
        None,
    )


@lru_cache(maxsize=1)
def _search_parameters() -> dict[str, dict[str, Any]]:
    """Every SearchParameter of the IG packages (and the STU1.1 ones), by canonical."""
    found = {sp["url"]: sp for sp in STU1_SEARCH_PARAMETERS}
    for name, version in PACKAGES:
        for path in (IG_DIR / name / version / "package").glob("SearchParameter-*.json"):
            sp = json.loads(path.read_text("utf-8"))
            found.setdefault(sp["url"], sp)
    return found


@dataclass(frozen=True)
class Param:
    api: Api
    rtype: str
    code: str
    kind: str
    expression: str  # FHIRPath, from the SearchParameter the API names as the definition
    shall: bool
    word_prefix: bool = False  # an extra that matches a prefix of any word (Location?name=ortho)

    def __str__(self) -> str:
        return f"{self.api.name} {self.rtype}?{self.code}"


def _param(api: Api, rtype: str, code: str) -> Param:
    info = next((p for p in capabilities(api, rtype).search_params if p.name == code), None)
    assert info is not None, f"{api.name} does not advertise {rtype}?{code}"
    expressions = {"_id": f"{rtype}.id", "_lastUpdated": f"{rtype}.meta.lastUpdated"}
    expression = expressions.get(code) or _search_parameters()[info.definition]["expression"]
    return Param(
        api,
        rtype,
        code,
        info.type,
        expression,
        shall=code in _statement(api.name).get(rtype, {}).get("shall", ()),
        word_prefix=(api.name, rtype, code) == ("provider-directory", "Location", "name"),
    )


def _parameter_cases() -> list[Any]:
    if not IG_DIR.is_dir():
        return []
    cases = []
    for api in APIS:
        for rtype in api.resource_types:
            declared = _statement(api.name).get(rtype, {}).get("shall", ())
            advertised = [p.name for p in capabilities(api, rtype).search_params]
            for code in sorted({*declared, *advertised}):
                cases.append(pytest.param(api.name, rtype, code, id=f"{api.name}:{rtype}:{code}"))
    return cases


def _include_cases() -> list[Any]:
    if not IG_DIR.is_dir():
        return []
    cases = []
    for api in APIS:
        for rtype, entry in _statement(api.name).items():
            for kind in ("include", "revinclude"):
                for spec in entry[kind]:
                    cases.append(
                        pytest.param(
                            api.name,
                            rtype,
                            f"_{kind}",
                            spec,
                            id=f"{api.name}:{rtype}:_{kind}={spec}",
                        )
                    )
    return cases


def _chain_cases() -> list[Any]:
    if not IG_DIR.is_dir():
        return []
    return [
        pytest.param(api.name, rtype, code, chained, id=f"{api.name}:{rtype}:{code}.{chained}")
        for api in APIS
        for rtype in api.resource_types
        for code, chains in sorted(capabilities(api, rtype).chains.items())
        for chained in chains
    ]


# ---- the sample store --------------------------------------------------------------------------


@dataclass
class Served:
    """The store after one pipeline run, and what each API serves of it, by type and id."""

    engine: sa.Engine
    resources: dict[str, dict[str, dict[str, dict[str, Any]]]] = field(default_factory=dict)
    members: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (type, id) -> ids

    def of(self, api: Api, rtype: str) -> list[dict[str, Any]]:
        return list(self.resources[api.name].get(rtype, {}).values())

    def get(self, api: Api, rtype: str, rid: str) -> dict[str, Any] | None:
        return self.resources[api.name].get(rtype, {}).get(rid)


@pytest.fixture(scope="module", params=BACKENDS)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    home = tmp_path_factory.mktemp(f"shall-{request.param}")
    with serving_engine(request.param, home) as engine:
        inbox = home / "inbox"
        shutil.copytree(SAMPLE_INPUTS, inbox)
        outcome = Pipeline(inbox, home / "home", engine.url.render_as_string(False)).run()
        assert outcome.success, outcome.report()
        r = resources_table
        with engine.connect() as conn:
            rows = conn.execute(sa.select(r).where(~r.c.deleted).order_by(r.c.id)).all()
        store = Served(engine)
        for api in APIS:
            store.resources[api.name] = {}
            for row in rows:
                if api.serves(row.resource, row.domain):
                    store.resources[api.name].setdefault(row.resource_type, {})[row.id] = (
                        row.resource
                    )
        store.members = _members(store)
        yield store


def _members(store: Served) -> dict[tuple[str, str], list[str]]:
    """The members whose Patient Access compartment holds each resource: a Patient itself, its
    EOBs and Coverages, and whatever those refer to."""
    api = APIS_BY_NAME["patient-access"]
    found: dict[tuple[str, str], set[str]] = {}
    owners = {"ExplanationOfBenefit": "patient", "Coverage": "beneficiary"}
    for patient in store.of(api, "Patient"):
        found.setdefault(("Patient", patient["id"]), set()).add(patient["id"])
    for rtype, owner in owners.items():
        for resource in store.of(api, rtype):
            member = _type_id(resource[owner]["reference"])[1]
            for key in [(rtype, resource["id"]), *map(_type_id, _reference_texts(resource))]:
                found.setdefault(key, set()).add(member)
    return {key: sorted(members) for key, members in found.items()}


def _reference_texts(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node["reference"]
        for value in node.values():
            yield from _reference_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _reference_texts(value)


def _type_id(reference: str) -> tuple[str, str]:
    parts = reference.split("/_history/")[0].split("/")
    return (parts[-2], parts[-1]) if len(parts) >= 2 else ("", parts[-1])


def _search_all(
    store: Served, api: Api, rtype: str, params: list[tuple[str, str]], patient: str | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every match, following the page cursor, and every included resource."""
    matches, included, cursor = [], [], None
    for _ in range(MAX_PAGES):
        page = search(
            store.engine, api, rtype, params, count=PAGE_SIZE, cursor=cursor, patient=patient
        )
        matches += [m.resource for m in page.matches]
        included += [i.resource for i in page.included]
        cursor = page.next_cursor
        if cursor is None:
            return matches, included
    raise AssertionError(f"{rtype}?{params}: more than {MAX_PAGES} pages")


def _member(store: Served, param: Param, resource: dict[str, Any]) -> str | None:
    if param.api.name != "patient-access":
        return None
    members = store.members.get((param.rtype, resource["id"]))
    assert members, f"{param.rtype}/{resource['id']} is in no member's compartment"
    return members[0]


# ---- values, as Inferno picks them, and whether a resource has them ----------------------------


@cache
def _compiled(expression: str) -> Any:
    return fhirpathpy.compile(expression, R4)


def _nodes(param: Param, resource: dict[str, Any]) -> list[Any]:
    """The parameter's values in the resource, by its SearchParameter's FHIRPath."""
    return [_unwrap_extension(node) for node in _compiled(param.expression)(resource)]


def _unwrap_extension(node: Any) -> Any:
    # Plan-Net's coverage-area and network parameters end on the extension, not its value.
    if isinstance(node, dict) and "url" in node:
        return next((v for k, v in node.items() if k.startswith("value")), node)
    return node


def _tokens(node: Any) -> list[tuple[str | None, str]]:
    if isinstance(node, bool):
        return [(None, str(node).lower())]
    if isinstance(node, str):
        return [(None, node)]
    if "coding" in node:
        return [pair for coding in node["coding"] for pair in _tokens(coding)]
    code = node.get("code", node.get("value"))
    return [(node.get("system"), code)] if code is not None else []


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    address = ("city", "line", "district", "state", "postalCode", "country", "text")
    name = ("family", "given", "text", "prefix", "suffix")
    parts = address if set(address[:-1]) & set(node) else name
    found = []
    for part in parts:
        value = node.get(part)
        found += value if isinstance(value, list) else [value] if value else []
    return found


def _references(node: Any) -> list[tuple[str, str]]:
    text = node.get("reference") if isinstance(node, dict) else None
    return [_type_id(text)] if text else []


def _ranges(node: Any) -> list[tuple[Any, Any]]:
    if isinstance(node, str):
        return [parse_date(node)]
    low = parse_date(node["start"])[0] if node.get("start") else None
    high = parse_date(node["end"])[1] if node.get("end") else None
    return [(low, high)]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return " ".join(
        "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().split()
    )


def _day(text: str, days: int) -> str:
    return (date.fromisoformat(text[:10]) + timedelta(days=days)).isoformat()


def _values(param: Param, resource: dict[str, Any]) -> list[str]:
    """Search values for the parameter taken from the resource's first value (Inferno's way)."""
    nodes = _nodes(param, resource)
    if not nodes:
        return []
    node = nodes[0]
    if param.kind == "token":
        pairs = _tokens(node)
        if not pairs:
            return []
        system, code = pairs[0]
        return [code, f"{system}|{code}"] if system else [code]
    if param.kind == "reference":
        refs = _references(node)
        return [f"{refs[0][0]}/{refs[0][1]}", refs[0][1]] if refs else []
    if param.kind == "string":
        texts = [t for t in _strings(node) if t.strip()]
        if not texts:
            return []
        return list(dict.fromkeys([texts[0], texts[0][: max(1, len(texts[0]) // 2)].rstrip()]))
    if param.kind == "date":
        if isinstance(node, str):
            return [node]
        bounds = [f"gt{_day(node['start'], -1)}"] if node.get("start") else []
        return bounds + ([f"lt{_day(node['end'], 1)}"] if node.get("end") else [])
    raise AssertionError(f"{param}: {param.kind} parameters are not exercised here")


def _has(param: Param, resource: dict[str, Any], value: str) -> bool:
    """Whether the resource meets `param=value` by FHIR search rules, from its JSON."""
    nodes = _nodes(param, resource)
    if param.kind == "token":
        system, bar, code = value.rpartition("|")
        return any(
            str(c).lower() == code.lower() and (not bar or s == system)
            for node in nodes
            for s, c in _tokens(node)
        )
    if param.kind == "reference":
        wanted = _type_id(value) if "/" in value else (None, value)
        return any(wanted in (ref, (None, ref[1])) for node in nodes for ref in _references(node))
    if param.kind == "string":
        prefix = _fold(value)
        texts = [_fold(t) for node in nodes for t in _strings(node)]
        if param.word_prefix:
            texts = [" ".join(t.split()[i:]) for t in texts for i in range(len(t.split()))]
        return any(t.startswith(prefix) for t in texts)
    prefix, text = (value[:2], value[2:]) if value[:2].isalpha() else ("eq", value)
    low, high = parse_date(text)
    for node in nodes:
        for lo, hi in _ranges(node):
            if prefix == "eq" and lo is not None and hi is not None and low <= lo and hi <= high:
                return True
            if prefix == "gt" and (hi is None or hi > high):
                return True
            if prefix == "lt" and (lo is None or lo < low):
                return True
    return False


def _samples(items: list[T]) -> list[T]:
    picks = {0, len(items) // 2, len(items) - 1} if items else set()
    return [items[i] for i in sorted(picks)][:SAMPLES_PER_CASE]


def _checked(matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return matches[:: max(1, len(matches) // CHECKED_PER_SEARCH)]


# ---- the tests ---------------------------------------------------------------------------------


def test_every_shall_parameter_and_include_is_advertised() -> None:
    for api in APIS:
        for rtype, entry in _statement(api.name).items():
            if rtype not in api.profiles:
                continue
            capability = capabilities(api, rtype)
            assert "_id" in entry["shall"], (api.name, rtype)  # every type here has a SHALL _id
            assert set(entry["shall"]) <= {p.name for p in capability.search_params}, (
                api.name,
                rtype,
            )
            assert capability.includes == entry["include"], (api.name, rtype)
            assert capability.revincludes == entry["revinclude"], (api.name, rtype)


def test_sample_gaps_are_the_documented_ones(served: Served) -> None:
    gaps = {
        (api, rtype, code)
        for api, rtype, code in (case.values for case in _parameter_cases())
        if not any(
            _values(_param(APIS_BY_NAME[api], rtype, code), r)
            for r in served.of(APIS_BY_NAME[api], rtype)
        )
    }
    gaps |= {
        (api, rtype, f"{code}.{chained}")
        for api, rtype, code, chained in (case.values for case in _chain_cases())
        if not Chain.of(APIS_BY_NAME[api], rtype, code, chained).examples(served)
    }
    assert gaps == set(SAMPLE_GAPS)


@pytest.mark.parametrize(("api_name", "rtype", "code"), _parameter_cases())
def test_search_finds_the_resource_a_value_came_from(
    served: Served, api_name: str, rtype: str, code: str
) -> None:
    api = APIS_BY_NAME[api_name]
    param = _param(api, rtype, code)
    having = [r for r in served.of(api, rtype) if _values(param, r)]
    if not having:
        reason = SAMPLE_GAPS.get((api_name, rtype, code), "undocumented sample-data gap")
        pytest.skip(f"no served {rtype} has a value for {code} ({reason})")
    for resource in _samples(having):
        for value in _values(param, resource):
            patient = _member(served, param, resource)
            matches, _ = _search_all(served, api, rtype, [(code, value)], patient)
            ids = [m["id"] for m in matches]
            assert resource["id"] in ids, f"{param}={value} misses {rtype}/{resource['id']}"
            wrong = [m["id"] for m in _checked(matches) if not _has(param, m, value)]
            assert not wrong, f"{param}={value} matches {rtype} without that value: {wrong[:5]}"
            assert ids == sorted(set(ids)), f"{param}={value}: pages repeat or reorder matches"


def _spec_params(api: Api, source: str, code: str) -> list[Param]:
    if code != "*":
        return [_param(api, source, code)]
    return [
        _param(api, source, p.name)
        for p in capabilities(api, source).search_params
        if p.type == "reference"
    ]


def _referenced(
    store: Served, api: Api, params: list[Param], resource: dict[str, Any], target: str | None
) -> set[tuple[str, str]]:
    """The served resources the resource refers to through the parameters."""
    return {
        ref
        for param in params
        for node in _nodes(param, resource)
        for ref in _references(node)
        if (target is None or ref[0] == target) and store.get(api, *ref) is not None
    }


@pytest.mark.parametrize(("api_name", "rtype", "kind", "spec"), _include_cases())
def test_include_returns_the_referenced_resources(
    served: Served, api_name: str, rtype: str, kind: str, spec: str
) -> None:
    api = APIS_BY_NAME[api_name]
    source, _, rest = spec.partition(":")
    code, _, target = rest.partition(":")
    params = _spec_params(api, source, code)
    links = {
        r["id"]: _referenced(
            served, api, params, r, target or (rtype if kind == "_revinclude" else None)
        )
        for r in served.of(api, source)
    }
    if kind == "_include":
        expected = {rid: refs for rid, refs in links.items() if refs}
    else:  # the served resources of rtype each source refers to, turned round
        expected = {}
        for source_id, refs in links.items():
            for _, rid in refs:
                expected.setdefault(rid, set()).add((source, source_id))
    if not expected:
        pytest.skip(f"no served {source} refers to a served resource through {code}")
    for rid in _samples(sorted(expected)):
        member = _member(served, _param(api, rtype, "_id"), {"id": rid})
        matches, included = _search_all(served, api, rtype, [("_id", rid), (kind, spec)], member)
        assert [m["id"] for m in matches] == [rid]
        got = {(i["resourceType"], i["id"]) for i in included}
        assert got == expected[rid], f"{rtype}/{rid} {kind}={spec}"


@dataclass(frozen=True)
class Chain:
    """`code.chained` on rtype: the reference parameter and the chained one on each target."""

    param: Param
    chained: dict[str, Param]  # target type -> its chained parameter

    @classmethod
    def of(cls, api: Api, rtype: str, code: str, chained: str) -> Chain:
        return cls(
            _param(api, rtype, code),
            {
                target: _param(api, target, chained)
                for target in api.resource_types
                if chained in {p.name for p in capabilities(api, target).search_params}
            },
        )

    def targets(self, store: Served, resource: dict[str, Any]) -> list[tuple[Param, dict]]:
        refs = _referenced(store, self.param.api, [self.param], resource, None)
        return [
            (self.chained[t], store.get(self.param.api, t, i))  # type: ignore[misc]
            for t, i in sorted(refs)
            if t in self.chained
        ]

    def examples(self, store: Served) -> list[tuple[dict[str, Any], str]]:
        """(resource, value) pairs: a value of a target the resource refers to."""
        found = []
        for resource in store.of(self.param.api, self.param.rtype):
            values = [v for tp, t in self.targets(store, resource) for v in _values(tp, t)]
            found += [(resource, values[0])] if values else []
        return found


@pytest.mark.parametrize(("api_name", "rtype", "code", "chained"), _chain_cases())
def test_chain_finds_resources_through_their_references(
    served: Served, api_name: str, rtype: str, code: str, chained: str
) -> None:
    chain = Chain.of(APIS_BY_NAME[api_name], rtype, code, chained)
    name = f"{code}.{chained}"
    examples = chain.examples(served)
    if not examples:
        reason = SAMPLE_GAPS.get((api_name, rtype, name), "undocumented sample-data gap")
        pytest.skip(f"no served {rtype} refers through {code} to a {chained} ({reason})")
    for resource, value in _samples(examples):
        matches, _ = _search_all(served, chain.param.api, rtype, [(name, value)], None)
        assert resource["id"] in [m["id"] for m in matches], f"{chain.param}.{chained}={value}"
        wrong = [
            m["id"]
            for m in _checked(matches)
            if not any(_has(tp, t, value) for tp, t in chain.targets(served, m))
        ]
        assert not wrong, f"{chain.param}.{chained}={value} matches {rtype} without it: {wrong[:5]}"
