"""Must-support coverage: which must-support elements, slices and extensions a set of instances fills.

Follows the Inferno rule: an element counts when at least one instance gives it a real value; a value
whose only content is extensions (e.g. data-absent-reason) does not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pipelines.conformance.rules import Node, Structure
from pipelines.conformance.validator import Validator


@dataclass
class ProfileCoverage:
    profile: str
    title: str
    instances: int = 0
    must_support: list[str] = field(default_factory=list)
    populated: set[str] = field(default_factory=set)

    @property
    def missing(self) -> list[str]:
        return [p for p in self.must_support if p not in self.populated]

    def to_dict(self) -> dict:
        return {
            "profile": self.profile,
            "title": self.title,
            "instances": self.instances,
            "must_support": len(self.must_support),
            "populated": [p for p in self.must_support if p in self.populated],
            "missing": self.missing,
        }


@dataclass
class CoverageReport:
    profiles: dict[str, ProfileCoverage] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return all(not p.missing for p in self.profiles.values())

    def to_dict(self) -> dict:
        return {
            "complete": self.complete,
            "profiles": [self.profiles[k].to_dict() for k in sorted(self.profiles)],
        }


def _real(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, dict):
        return any(k not in ("id", "extension", "modifierExtension") for k in value)
    if isinstance(value, list):
        return any(_real(v) for v in value)
    return True


def _child_values(values: list, node: Node) -> list:
    out: list = []
    prefix = node.name[:-3] if node.is_choice else None
    for v in values:
        if not isinstance(v, dict):
            continue
        if prefix is None:
            got = v.get(node.name)
            if got is not None:
                out.extend(got if isinstance(got, list) else [got])
            continue
        for key, got in v.items():
            if key.startswith(prefix) and key[len(prefix) : len(prefix) + 1].isupper():
                out.extend(got if isinstance(got, list) else [got])
    return out


class CoverageCollector:
    """Accumulates must-support coverage over instances, one profile at a time."""

    def __init__(self, validator: Validator | None = None) -> None:
        self.validator = validator or Validator()
        self.report = CoverageReport()

    def add(self, resource: dict) -> None:
        for st in self.validator.profiles_for(resource):
            if st.derivation != "constraint" or st.root is None:
                continue
            cov = self.report.profiles.get(st.label)
            if cov is None:
                cov = ProfileCoverage(st.label, st.title, must_support=self._ms_ids(st))
                self.report.profiles[st.label] = cov
            cov.instances += 1
            self._walk(st.root, [resource], cov.populated)

    def _ms_ids(self, st: Structure) -> list[str]:
        return [n.id for n in st.nodes.values() if n.ms and n is not st.root]

    def _walk(self, node: Node, values: list, populated: set[str]) -> None:
        for child in node.children.values():
            vals = _child_values(values, child)
            if not vals:
                continue
            if child.ms and _real(vals):
                populated.add(child.id)
            if child.slices:
                self._walk_slices(child, vals, populated)
            self._walk(child, vals, populated)

    def _walk_slices(self, base: Node, vals: list, populated: set[str]) -> None:
        matchers = base.matchers
        if matchers is None:
            matchers = base.matchers = self.validator._build_matchers(base)
        for snode, ms in matchers:
            if ms is None:
                continue
            tcode = snode.types[0][0] if snode.types else ""
            svals = [v for v in vals if all(m(v, tcode) for m in ms)]
            if not svals:
                continue
            if snode.ms and _real(svals):
                populated.add(snode.id)
            self._walk(snode, svals, populated)


def must_support_coverage(
    resources: Iterable[dict], validator: Validator | None = None
) -> CoverageReport:
    """Per profile in the instances' meta.profile: populated and missing must-support items."""
    collector = CoverageCollector(validator)
    for resource in resources:
        collector.add(resource)
    return collector.report
