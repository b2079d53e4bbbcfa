"""Generate broken copies of the IG examples, each with the element path the error must name.

The generator walks an example alongside its profile (through the validator's own element plans) and
proposes one mutation per rule kind and location: remove a required element, break a required code,
break a fixed or pattern value, exceed a max, wrong JSON type, malformed date, break a slice, violate
an invariant.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pipelines.conformance import Validator
from pipelines.conformance.rules import Node

Loc = tuple[Any, ...]  # keys and indexes from the resource root


@dataclass(frozen=True)
class Mutation:
    kind: str
    source: str
    expected_path: str
    apply: Callable[[dict], None]
    profile: str | None = None

    @property
    def name(self) -> str:
        return f"{self.source}:{self.kind}:{self.expected_path}"

    def mutated(self, resource: dict) -> dict:
        out = copy.deepcopy(resource)
        self.apply(out)
        return out


def _get(root: Any, loc: Loc) -> Any:
    for k in loc:
        root = root[k]
    return root


def _setter(loc: Loc, value: Any) -> Callable[[dict], None]:
    def apply(res: dict) -> None:
        _get(res, loc[:-1])[loc[-1]] = copy.deepcopy(value)

    return apply


def _deleter(loc: Loc) -> Callable[[dict], None]:
    def apply(res: dict) -> None:
        del _get(res, loc[:-1])[loc[-1]]

    return apply


def _transform(loc: Loc, fn: Callable[[Any], Any]) -> Callable[[dict], None]:
    def apply(res: dict) -> None:
        parent = _get(res, loc[:-1])
        parent[loc[-1]] = fn(copy.deepcopy(parent[loc[-1]]))

    return apply


@dataclass
class Site:
    """One element occurrence in an instance, with its definition."""

    node: Node
    tcode: str
    loc: Loc
    path: str
    value: Any
    slice_of: Node | None = None
    discriminates: tuple[Node, str] | None = None  # (slice, container path) this value selects


class Walker:
    def __init__(self, validator: Validator) -> None:
        self.v = validator

    def sites(self, resource: dict, profile: str | None) -> Iterator[Site]:
        for st in self.v.profiles_for(resource, profile):
            yield from self._walk(resource, st.root, st.type, (), st.type, is_root=True)
            return

    def _walk(
        self,
        obj: dict,
        node: Node,
        tcode: str,
        loc: Loc,
        path: str,
        is_root: bool = False,
        disc: tuple[list[str], Node, str] | None = None,
    ) -> Iterator[Site]:
        plan = self.v._plan(node, tcode, is_root)
        for key, value in obj.items():
            entry = plan.keys.get(key)
            if entry is None:
                continue
            child, t, primitive = entry
            rest = (
                [p[len(key) + 1 :] for p in disc[0] if p == key or p.startswith(key + ".")]
                if disc
                else []
            )
            discriminates = (
                (disc[1], disc[2])
                if disc and "" in [r for r in rest] + [p for p in disc[0] if p == key]
                else None
            )
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                iloc = (*loc, key, i) if isinstance(value, list) else (*loc, key)
                ipath = f"{path}.{key}[{i}]" if child.arr else f"{path}.{key}"
                snode = self._slice(child, item, t)
                target = snode or child
                yield Site(target, t, iloc, ipath, item, child if snode else None, discriminates)
                if primitive or not isinstance(item, dict) or "resourceType" in item:
                    continue
                sub = ([r for r in rest if r], disc[1], disc[2]) if disc and any(rest) else None
                if snode is not None and child.slicing is not None:
                    paths = [d[1] for d in child.slicing["d"] if d[1] != "$this"]
                    sub = (paths, snode, ipath.rsplit("[", 1)[0])
                if t == "Extension":
                    ext = self._extension_root(target, item)
                    if ext is not None:
                        yield from self._walk(item, ext, "Extension", iloc, ipath, disc=sub)
                    continue
                yield from self._walk(item, target, t, iloc, ipath, disc=sub)

    def _slice(self, node: Node, item: Any, tcode: str) -> Node | None:
        if not node.slices or node.slicing is None:
            return None
        if node.matchers is None:
            node.matchers = self.v._build_matchers(node)
        for snode, ms in node.matchers:
            if ms is not None and all(m(item, tcode) for m in ms):
                return snode
        return None

    def _extension_root(self, node: Node, item: dict) -> Node | None:
        profiles = [p for _, ps in node.types for p in ps]
        st = self.v.rules.structure(profiles[0]) if profiles else None
        if st is None and isinstance(item.get("url"), str):
            st = self.v.rules.structure(item["url"])
        return st.root if st is not None and st.type == "Extension" else None


PAYEE_OTHER = {
    "type": {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/payeetype", "code": "other"}]
    }
}
AMOUNT_TYPE = {
    "category": {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/adjudication", "code": "submitted"}
        ]
    },
    "amount": {"value": 1.0, "currency": "USD"},
}


def _payee_other(res: dict) -> bool:
    res["payee"] = copy.deepcopy(PAYEE_OTHER)
    return True


def _amounts_at_both_levels(res: dict) -> bool:
    """Institutional EOBs: amounts at header level and item level at once."""
    if "Institutional" not in str(res.get("meta")):
        return False
    res.setdefault("adjudication", []).append(copy.deepcopy(AMOUNT_TYPE))
    for item in res.get("item", []):
        item.setdefault("adjudication", []).append(copy.deepcopy(AMOUNT_TYPE))
    return True


def _identifiers_not_npi_or_tax(res: dict) -> bool:
    res["identifier"] = [{"system": "http://example.org/mrn", "value": "1"}]
    return True


def _no_name_or_relationship(res: dict) -> bool:
    res.pop("name", None)
    res.pop("relationship", None)
    return True


def _uncontained_without_last_updated(res: dict) -> bool:
    if "carin-bb" not in str(res.get("meta")):
        return False
    res["meta"].pop("lastUpdated", None)
    return True


# profile invariant key -> (expected path, in-place breaker that says whether it applies)
PROFILE_INVARIANT_BREAKERS: dict[str, list[tuple[str, str, Callable[[dict], bool]]]] = {
    "ExplanationOfBenefit": [
        ("EOB-payee-other-type-requires-party", "ExplanationOfBenefit.payee", _payee_other),
        (
            "EOB-institutional-item-or-header-adjudication",
            "ExplanationOfBenefit",
            _amounts_at_both_levels,
        ),
    ],
    "Practitioner": [("Practitioner-identifier", "Practitioner", _identifiers_not_npi_or_tax)],
    "RelatedPerson": [
        ("relatedperson-name-or-relationship", "RelatedPerson", _no_name_or_relationship)
    ],
    "Organization": [
        ("uncontained-requires-lastUpdated", "Organization", _uncontained_without_last_updated)
    ],
}

BAD_DATES = {"date": "2021-13-01", "dateTime": "2021-02-30T10:00:00Z", "instant": "2021-01-01"}
WRONG_JSON = {
    "boolean": "true",
    "integer": "7",
    "positiveInt": "1",
    "unsignedInt": "0",
    "decimal": "12.5",
    "string": 42,
    "code": 7,
    "uri": False,
    "id": 3,
}


def generate(
    validator: Validator, source: str, resource: dict, profile: str | None
) -> list[Mutation]:
    """All mutations of one example (deduplicated by kind and expected path)."""
    out: dict[tuple[str, str], Mutation] = {}

    declared = (resource.get("meta") or {}).get("profile") or [None]
    profile = profile or declared[0]

    def add(
        kind: str, path: str, apply: Callable[[dict], None], prof: str | None = profile
    ) -> None:
        out.setdefault((kind, path), Mutation(kind, source, path, apply, prof))

    sites = list(Walker(validator).sites(resource, profile))
    for site in sites:
        node, t, loc, path, value = site.node, site.tcode, site.loc, site.path, site.value
        container_path = path.rsplit("[", 1)[0] if path.endswith("]") else path
        # remove a required element (the whole JSON property)
        if node.min >= 1 and (site.slice_of is None) and not node.is_choice:
            prop_loc = loc[:-1] if isinstance(loc[-1], int) else loc
            add("remove-required", container_path, _deleter(prop_loc))
        # wrong JSON type / malformed date
        if t in WRONG_JSON and not isinstance(value, dict) and node.fixed is None:
            add("wrong-json-type", path, _setter(loc, WRONG_JSON[t]))
        if t in BAD_DATES and isinstance(value, str):
            add("malformed-date", path, _setter(loc, BAD_DATES[t]))
        # required binding with a local expansion
        if (
            node.vs is not None
            and validator.rules.codes(node.vs) is not None
            and site.slice_of is None
        ):
            if t == "code" and isinstance(value, str):
                add("break-required-code", path, _setter(loc, "not-a-real-code"))
            elif t == "CodeableConcept" and isinstance(value, dict) and value.get("coding"):
                add(
                    "break-required-code",
                    path,
                    _setter(
                        loc,
                        {
                            "coding": [
                                {"system": "http://example.org/bogus", "code": "not-a-real-code"}
                            ]
                        },
                    ),
                )
            elif t == "Coding" and isinstance(value, dict):
                add(
                    "break-required-code",
                    path,
                    _setter(loc, {"system": "http://example.org/bogus", "code": "not-a-real-code"}),
                )
        # fixed / pattern values; on a slice discriminator the error is the slice's cardinality
        extension_url = path.endswith(".url") and site.discriminates is None
        if site.slice_of is None and (node.fixed is not None or node.pattern is not None):
            kind, where = ("" if extension_url else "break-fixed-pattern"), path
            if site.discriminates is not None:
                snode, container = site.discriminates
                same = [
                    s for s in sites if s.node is snode and s.path.rsplit("[", 1)[0] == container
                ]
                kind, where = "break-slice-discriminator", container
                if snode.min < 1 or len(same) != 1:
                    kind = ""  # an open slice with room to spare: the item is simply unsliced
            if kind and isinstance(value, str):
                add(kind, where, _setter(loc, value + "-broken"))
            elif kind and isinstance(value, dict) and value.get("coding"):
                add(
                    kind,
                    where,
                    _setter(
                        loc, {"coding": [{"system": "http://example.org/bogus", "code": "broken"}]}
                    ),
                )
        # exceed a max
        if not node.arr and site.slice_of is None and not isinstance(loc[-1], int):
            add("exceed-max", path, _setter(loc, [value, value]))
        elif node.arr and node.max >= 0 and site.slice_of is None and isinstance(loc[-1], int):
            add(
                "exceed-max",
                container_path,
                _transform(loc[:-1], lambda xs, m=node.max: xs + xs * (m or 1)),
            )
        # invariants on datatypes
        if t == "Period" and isinstance(value, dict) and value.get("start"):
            add("invariant-per-1", path, _setter(loc, {"start": "2022-02-02", "end": "2021-01-01"}))
        if t == "Reference" and isinstance(value, dict) and "reference" in value:
            add("invariant-ref-1", path, _setter(loc, {"reference": "#not-contained"}))
            targets = validator.reference_targets(node)
            if targets is not None and "Basic" not in targets:
                add("wrong-reference-target", path, _setter(loc, {"reference": "Basic/wrong-type"}))
        if t == "Quantity" and isinstance(value, dict) and "code" in value and "system" in value:
            add(
                "invariant-qty-3",
                path,
                _transform(loc, lambda q: {k: v for k, v in q.items() if k != "system"}),
            )
    # break a slice: drop every item of a required slice
    for site in sites:
        base, snode = site.slice_of, site.node
        if base is None or snode.min < 1 or not isinstance(site.loc[-1], int):
            continue
        container_loc, container_path = site.loc[:-1], site.path.rsplit("[", 1)[0]
        slice_sites = [s for s in sites if s.node is snode and s.loc[:-1] == container_loc]
        drop = {s.loc[-1] for s in slice_sites}
        add(
            f"break-slice-{snode.slice_name}",
            container_path,
            _transform(
                container_loc,
                lambda xs, drop=drop: (
                    [x for i, x in enumerate(xs) if i not in drop] or [{"id": "dropped"}]
                ),
            ),
        )
    structures = validator.profiles_for(resource, profile)
    own_keys = {k for st in structures for n in st.nodes.values() for k in n.invs}
    for key, where, breaker in PROFILE_INVARIANT_BREAKERS.get(resource["resourceType"], ()):
        if key in own_keys and breaker(copy.deepcopy(resource)):
            add(f"invariant-{key}", where, breaker)
    # the CARIN meta.profile version invariant
    if declared[0] and "|2.0.0" in declared[0]:
        add(
            "invariant-profile-version",
            resource["resourceType"],
            _setter(("meta", "profile"), [declared[0].replace("|2.0.0", "|1.0.0")]),
            declared[0],
        )
    return list(out.values())
