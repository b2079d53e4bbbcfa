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

    def merge(self, other: CoverageReport) -> None:
        """Fold in a report over other instances (e.g. from a worker process)."""
        for label, theirs in other.profiles.items():
            ours = self.profiles.setdefault(
                label,
                ProfileCoverage(theirs.profile, theirs.title, must_support=theirs.must_support),
            )
            ours.instances += theirs.instances
            ours.populated |= theirs.populated

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
        # Must-support ids under each node (by identity), so covered subtrees are skipped: over a
        # night's load most instances add nothing new, and walking them all would cost as much
        # as validating them again.
        self._subtree_ms: dict[int, frozenset[str]] = {}
        self._missing: dict[str, set[str]] = {}

    def add(self, resource: dict) -> None:
        for st in self.validator.profiles_for(resource):
            if st.derivation != "constraint" or st.root is None:
                continue
            cov = self.report.profiles.get(st.label)
            if cov is None:
                cov = ProfileCoverage(st.label, st.title, must_support=self._ms_ids(st))
                self.report.profiles[st.label] = cov
                self._missing[st.label] = set(cov.must_support)
            cov.instances += 1
            missing = self._missing[st.label]
            if missing:
                self._walk(st.root, [resource], cov.populated, missing)

    def _ms_ids(self, st: Structure) -> list[str]:
        # A must-support element the profile also prohibits (max 0, as Plan-Net Network does
        # with telecom) is supported by never sending it: nothing to populate.
        return [n.id for n in st.nodes.values() if n.ms and n is not st.root and n.max != 0]

    def _subtree(self, node: Node) -> frozenset[str]:
        found = self._subtree_ms.get(id(node))
        if found is None:
            ids = {node.id} if node.ms else set()
            for child in (*node.children.values(), *node.slices):
                ids |= self._subtree(child)
            found = self._subtree_ms[id(node)] = frozenset(ids)
        return found

    def _matchers(self, base: Node) -> list:
        if base.matchers is None:
            base.matchers = self.validator._build_matchers(base)
        return base.matchers

    def _mark(self, node_id: str, populated: set[str], missing: set[str]) -> None:
        populated.add(node_id)
        missing.discard(node_id)

    def _walk(self, node: Node, values: list, populated: set[str], missing: set[str]) -> None:
        for child in node.children.values():
            if self._subtree(child).isdisjoint(missing):
                continue
            vals = _child_values(values, child)
            if not vals:
                continue
            if child.ms and _real(vals):
                self._mark(child.id, populated, missing)
            if child.slices:
                self._walk_slices(child, vals, populated, missing)
            self._walk(child, vals, populated, missing)

    def _walk_slices(self, base: Node, vals: list, populated: set[str], missing: set[str]) -> None:
        for snode, ms in self._matchers(base):
            if ms is None or self._subtree(snode).isdisjoint(missing):
                continue
            tcode = snode.types[0][0] if snode.types else ""
            svals = [v for v in vals if all(m(v, tcode) for m in ms)]
            if not svals:
                continue
            if snode.ms and _real(svals):
                self._mark(snode.id, populated, missing)
            self._walk(snode, svals, populated, missing)


def must_support_coverage(
    resources: Iterable[dict], validator: Validator | None = None
) -> CoverageReport:
    """Per profile in the instances' meta.profile: populated and missing must-support items."""
    collector = CoverageCollector(validator)
    for resource in resources:
        collector.add(resource)
    return collector.report
