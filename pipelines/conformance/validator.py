"""Validate FHIR R4 JSON resources against the compiled profiles.

The walk is driven by the instance (only present elements are visited); per element definition the
validator builds once a flat plan (JSON key -> definition and type, required children, invariants).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from pipelines.conformance.compiler import COMPILED_DIR
from pipelines.conformance.fastpath import FastPath
from pipelines.conformance.invariants import InvariantEngine
from pipelines.conformance.native_invariants import native_for
from pipelines.conformance.rules import Node, RuleSet, Structure

BACKBONE = frozenset({"BackboneElement", "Element"})
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "integer": (int,),
    "positiveInt": (int,),
    "unsignedInt": (int,),
    "decimal": (int, float),
}
INT_MIN = {"integer": -(2**31), "positiveInt": 1, "unsignedInt": 0}
DATE_TYPES = frozenset({"date", "dateTime", "instant"})
# The R4 base64Binary regex omits '/', which standard base64 uses.
REGEX_FIXES = {"base64Binary": r"(\s*([0-9a-zA-Z\+/=]){4}\s*)+"}
# Datatypes whose validation depends only on their own JSON (and the element definition): memoized.
MEMO_TYPES = frozenset(
    {
        "CodeableConcept",
        "Coding",
        "Money",
        "Quantity",
        "Period",
        "Identifier",
        "Reference",
        "HumanName",
        "Address",
        "ContactPoint",
    }
)
MEMO_LIMIT = 20_000
CODED = frozenset({"code", "Coding", "CodeableConcept", "Quantity", "string", "uri"})


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome issue, plus the profile that raised it."""

    severity: str
    code: str
    expression: str
    diagnostics: str
    profile: str

    def to_outcome_issue(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "expression": [self.expression],
            "diagnostics": self.diagnostics,
        }


class Plan:
    """How to validate one JSON object for an element definition and type."""

    __slots__ = ("invs", "keys", "primitive_keys", "required", "type_path")

    def __init__(self) -> None:
        self.keys: dict[str, tuple[Node, str, bool]] = {}
        self.primitive_keys: set[str] = set()
        self.required: list[tuple[Node, tuple[str, ...]]] = []
        self.invs: tuple[str, ...] = ()
        self.type_path = ""


class Ctx:
    """Per-resource state: where issues go and what %resource / %rootResource are."""

    __slots__ = ("issues", "member_of", "profile", "resource", "root")

    def __init__(
        self,
        profile: str,
        resource: dict,
        root: dict,
        issues: list[Issue],
        member_of: Callable[[Any, str], bool],
    ) -> None:
        self.member_of = member_of
        self.profile = profile
        self.resource = resource
        self.root = root
        self.issues = issues

    def add(self, severity: str, code: str, path: str, message: str) -> None:
        self.issues.append(
            Issue(severity, code, path, f"{path}: {message} (profile {self.profile})", self.profile)
        )


class RecordingCtx(Ctx):
    """Collects (severity, code, relative path, message) for the memo of context-free datatypes."""

    __slots__ = ("records",)

    def __init__(self, parent: Ctx) -> None:
        super().__init__(
            parent.profile, parent.resource, parent.root, parent.issues, parent.member_of
        )
        self.records: list[tuple[str, str, str, str]] = []

    def add(self, severity: str, code: str, path: str, message: str) -> None:
        self.records.append((severity, code, path, message))


def _type_key(base: str, tcode: str) -> str:
    return base[:-3] + tcode[0].upper() + tcode[1:]


def pattern_matches(pattern: Any, value: Any) -> bool:
    """FHIR pattern semantics: every element of the pattern is present with the same value."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(pattern_matches(p, value.get(k)) for k, p in pattern.items())
    if isinstance(pattern, list):
        if not isinstance(value, list):
            return False
        return all(any(pattern_matches(p, v) for v in value) for p in pattern)
    if isinstance(pattern, bool) or isinstance(value, bool):
        return pattern is value
    return pattern == value


def _values_at(item: Any, path: str) -> list:
    values = [item]
    if path == "$this":
        return values
    for seg in path.split("."):
        nxt: list = []
        url = None
        if seg.startswith("extension("):
            url = seg[len("extension(") : -1].strip("'\"")
            seg = "extension"
        for v in values:
            if not isinstance(v, dict):
                continue
            got = v.get(seg)
            if got is None:
                continue
            for g in got if isinstance(got, list) else [got]:
                if url is None or (isinstance(g, dict) and g.get("url") == url):
                    nxt.append(g)
        values = nxt
    return values


class Validator:
    """Validates resources against compiled profiles; loads the rules once, cheap to call."""

    def __init__(self, rules_dir: Path = COMPILED_DIR, fast: bool = True) -> None:
        self.rules_dir = rules_dir
        self.fast: FastPath | None = FastPath(self) if fast else None
        self.rules = RuleSet(rules_dir)
        self.engine = InvariantEngine(self._member_of, self._conforms_to)
        self._regex: dict[str, Callable[[str], Any] | None] = {}
        self.not_evaluable: set[str] = set()
        self._natives: dict[str, Any] = {}
        self._targets: dict[int, frozenset[str] | None] = {}
        self._memo: dict[tuple[int, str, bytes], tuple[tuple[str, str, str, str], ...]] = {}
        self._members: dict[tuple[str, bytes], bool] = {}

    def __reduce__(self) -> tuple:
        return (Validator, (self.rules_dir, self.fast is not None))

    # ----------------------------------------------------------------- public API
    def validate(self, resource: dict, profile: str | None = None) -> list[Issue]:
        issues: list[Issue] = []
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            issues.append(
                Issue("error", "structure", "$", "$: not a FHIR resource (no resourceType)", "")
            )
            return issues
        self._validate_resource(resource, resource, profile, resource["resourceType"], issues)
        return _dedupe(issues)

    def validate_many(self, resources: Iterable[dict]) -> Iterator[tuple[dict, list[Issue]]]:
        for resource in resources:
            yield resource, self.validate(resource)

    def profiles_for(self, resource: dict, profile: str | None = None) -> list[Structure]:
        """The structures a resource is checked against: the given profile, else meta.profile."""
        rtype = resource.get("resourceType", "")
        declared = [profile] if profile else _declared(resource)
        found = [
            st for st in (self.rules.structure(p) for p in declared if isinstance(p, str)) if st
        ]
        if not found:
            base = self.rules.base_type(rtype)
            return [base] if base else []
        return found

    # ---------------------------------------------------------------- resources
    def _validate_resource(
        self, resource: dict, root: dict, profile: str | None, path: str, issues: list[Issue]
    ) -> None:
        rtype = resource["resourceType"]
        declared = [profile] if profile else _declared(resource)
        structures = self.profiles_for(resource, profile)
        for p in declared:
            if isinstance(p, str) and self.rules.structure(p) is None:
                sev = "error" if profile else "warning"
                issues.append(
                    Issue(sev, "not-supported", path, f"{path}: profile {p} is not known", p)
                )
        if not structures:
            issues.append(
                Issue("error", "structure", path, f"{path}: unknown resource type {rtype}", "")
            )
            return
        for st in structures:
            ctx = Ctx(st.label, resource, root, issues, self._member_of)
            if st.type != rtype:
                ctx.add("error", "structure", path, f"profile is for {st.type}, not {rtype}")
                continue
            if self.fast is not None and resource is root:
                mark = len(issues)
                if self.fast.object_check(st.root, rtype, True)(resource, ctx):
                    continue
                del issues[mark:]  # the full walk reports everything again, with paths
            self._check_complex(resource, st.root, rtype, path, ctx, is_root=True)

    # ------------------------------------------------------------------ plans
    def _plan(self, node: Node, tcode: str, is_root: bool = False) -> Plan:
        plan = node.plans.get(tcode)
        if plan is not None:
            return plan
        plan = Plan()
        children, type_root = self._children(node, tcode, is_root)
        for child in children.values():
            tcodes = [t for t, _ in child.types] or ["BackboneElement"]
            keys = []
            for t in tcodes:
                key = _type_key(child.name, t) if child.is_choice else child.name
                plan.keys[key] = (child, t, t[0].islower())
                keys.append(key)
                if t[0].islower():
                    plan.primitive_keys.add(key)
                    keys.append("_" + key)
            if child.min > 0 or any(sl.min > 0 for sl in child.slices):
                plan.required.append((child, tuple(keys)))
        invs = list(node.invs)
        if type_root is not None and type_root is not node:
            invs.extend(k for k in type_root.invs if k not in invs)
        plan.invs = tuple(invs)
        if is_root or tcode not in BACKBONE:
            plan.type_path = tcode
        else:
            plan.type_path = node.path
        node.plans[tcode] = plan
        return plan

    def _children(
        self, node: Node, tcode: str, is_root: bool
    ) -> tuple[dict[str, Node], Node | None]:
        if node.content_ref:
            ref = node.structure.nodes.get(node.content_ref)
            if ref is None:
                base = self.rules.base_type(node.structure.type)
                ref = base.nodes.get(node.content_ref) if base else None
            return (ref.children if ref else {}), None
        if is_root or tcode in BACKBONE:
            return node.children, None
        base = self.type_structure(node, tcode)
        if base is None or base.root is None:
            return node.children, None
        if not node.children:
            return base.root.children, base.root
        merged = dict(base.root.children)
        merged.update(node.children)
        return merged, base.root

    def type_structure(self, node: Node, tcode: str) -> Structure | None:
        """The datatype definition for a value: a type profile (e.g. SimpleQuantity), else the base."""
        if tcode != "Extension":
            for code, profiles in node.types:
                if code == tcode and profiles:
                    st = self.rules.structure(profiles[0])
                    if st is not None and st.type == tcode and st.root is not None:
                        return st
        return self.rules.base_type(tcode)

    # -------------------------------------------------------------- the walk
    def _check_complex(
        self, obj: dict, node: Node, tcode: str, path: str, ctx: Ctx, is_root: bool = False
    ) -> None:
        plan = node.plans.get(tcode) or self._plan(node, tcode, is_root)
        keys = plan.keys
        check_value = self._check_value
        check_primitive = self._check_primitive
        for key, value in obj.items():
            entry = keys.get(key)
            if entry is None:
                if key[0] == "_" and key[1:] in plan.primitive_keys:
                    self._check_primitive_element(value, f"{path}.{key[1:]}", ctx)
                elif not (is_root and key == "resourceType") and key != "fhir_comments":
                    ctx.add("error", "structure", f"{path}.{key}", "unknown element")
                continue
            child, t, primitive = entry
            epath = f"{path}.{key}"
            if not child.arr and child.max != 0 and type(value) is not list and not child.slices:
                # the common case: one value, no slicing
                if primitive:
                    check_primitive(value, child, t, epath, ctx)
                else:
                    check_value(value, child, t, epath, ctx)
                continue
            self._check_element(child, t, value, epath, ctx, obj.get("_" + key))
        for child, ckeys in plan.required:
            for k in ckeys:
                if k in obj:
                    break
            else:
                where = f"{path}.{child.name.replace('[x]', '')}"
                if child.min > 0:
                    ctx.add(
                        "error",
                        "required",
                        where,
                        f"minimum required = {child.min}, but only found 0",
                    )
                for sl in child.slices:
                    if sl.min > 0:
                        ctx.add(
                            "error",
                            "required",
                            where,
                            f"slice '{sl.slice_name}': minimum required = {sl.min}, but only found 0",
                        )
        if plan.invs:
            self._check_invariants(obj, plan.invs, plan.type_path, path, ctx)

    def _check_element(
        self, node: Node, tcode: str, value: Any, path: str, ctx: Ctx, ext: Any = None
    ) -> None:
        if node.arr:
            if not isinstance(value, list):
                ctx.add("error", "structure", path, "must be a JSON array")
                items = [value]
            else:
                items = value
                if not items:
                    ctx.add("error", "structure", path, "arrays must not be empty")
        else:
            if isinstance(value, list):
                ctx.add("error", "structure", path, "must not be a JSON array")
                items = value
            else:
                items = [value]
        n = len(items)
        if n < node.min:
            ctx.add("error", "required", path, f"minimum required = {node.min}, but only found {n}")
        if 0 <= node.max < n:
            ctx.add("error", "structure", path, f"maximum allowed = {node.max}, but found {n}")
        exts = ext if isinstance(ext, list) else None
        if node.slicing is not None and node.slices:
            self._check_slices(node, tcode, items, path, ctx)
            return
        for i, item in enumerate(items):
            ipath = f"{path}[{i}]" if node.arr else path
            if item is None and exts is not None and i < len(exts) and exts[i] is not None:
                continue
            self._check_value(item, node, tcode, ipath, ctx)

    def _check_value(self, item: Any, node: Node, tcode: str, path: str, ctx: Ctx) -> None:
        if tcode[0].islower():
            self._check_primitive(item, node, tcode, path, ctx)
            return
        if tcode in MEMO_TYPES and isinstance(item, dict):
            try:
                raw = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
            except TypeError:
                raw = b'"#'
            if b'"#' not in raw:  # local references depend on the resource around them
                key = (id(node), tcode, raw)
                found = self._memo.get(key)
                if found is None:
                    rec = RecordingCtx(ctx)
                    self._check_complex_value(item, node, tcode, "", rec)
                    found = tuple(rec.records)
                    if len(self._memo) > MEMO_LIMIT:
                        self._memo.clear()
                    self._memo[key] = found
                for severity, code, rel, message in found:
                    ctx.add(severity, code, path + rel, message)
                return
        self._check_complex_value(item, node, tcode, path, ctx)

    def _check_complex_value(self, item: Any, node: Node, tcode: str, path: str, ctx: Ctx) -> None:
        if not isinstance(item, dict):
            ctx.add("error", "structure", path, f"must be a JSON object ({tcode})")
            return
        if tcode == "Resource" or (tcode[0].isupper() and "resourceType" in item):
            self._check_contained(item, path, ctx)
            return
        if len(item) == 0 or (len(item) == 1 and "id" in item):
            ctx.add(
                "error",
                "invariant",
                path,
                "ele-1: All FHIR elements must have a @value or children",
            )
        if tcode == "Extension":
            self._check_extension(item, node, path, ctx)
        else:
            self._check_complex(item, node, tcode, path, ctx)
        if node.fixed is not None and item != node.fixed:
            ctx.add("error", "value", path, f"value must be exactly {_short(node.fixed)}")
        if tcode == "Reference" and node.target_profiles:
            self._check_reference_target(item, node, path, ctx)
        if node.pattern is not None and not pattern_matches(node.pattern, item):
            ctx.add("error", "value", path, f"value must match pattern {_short(node.pattern)}")
        if node.vs is not None and tcode in CODED:
            self._check_binding(item, node, tcode, path, ctx)

    def reference_targets(self, node: Node) -> frozenset[str] | None:
        """Resource types a Reference element may point to (None: any)."""
        key = id(node)
        if key in self._targets:
            return self._targets[key]
        types: set[str] = set()
        for tp in node.target_profiles:
            st = self.rules.structure(tp)
            kind = st.type if st is not None else tp.rsplit("/", 1)[-1].split("|")[0]
            if kind == "Resource":
                types = set()
                break
            types.add(kind)
        found = frozenset(types) if types else None
        self._targets[key] = found
        return found

    def _check_reference_target(self, item: dict, node: Node, path: str, ctx: Ctx) -> None:
        allowed = self.reference_targets(node)
        if allowed is None:
            return
        kind = reference_type(item.get("reference"), ctx.root)
        if kind is not None and kind not in allowed:
            ctx.add(
                "error",
                "structure",
                path,
                f"reference to {kind} is not allowed here (must be one of {', '.join(sorted(allowed))})",
            )

    def _check_primitive(self, item: Any, node: Node, tcode: str, path: str, ctx: Ctx) -> None:
        jtypes = JSON_TYPES.get(tcode)
        if jtypes is not None:
            if isinstance(item, bool) != (tcode == "boolean") or not isinstance(item, jtypes):
                ctx.add("error", "structure", path, f"{tcode} must be a JSON {_json_name(tcode)}")
                return
            if tcode in INT_MIN and (not isinstance(item, int) or item < INT_MIN[tcode]):
                ctx.add("error", "value", path, f"{item!r} is not a valid {tcode}")
                return
        else:
            if not isinstance(item, str):
                ctx.add("error", "structure", path, f"{tcode} must be a JSON string")
                return
            check = self._regex.get(tcode, _MISSING)
            if check is _MISSING:
                check = self._make_regex(tcode)
            if check is not None and check(item) is None:
                ctx.add("error", "value", path, f"{item!r} is not a valid {tcode}")
                return
            if tcode in DATE_TYPES and len(item) >= 10 and not _real_date(item[:10]):
                ctx.add("error", "value", path, f"{item!r} is not a valid {tcode} (no such day)")
                return
        if node.fixed is not None and item != node.fixed:
            ctx.add("error", "value", path, f"value must be exactly {node.fixed!r}")
        if node.pattern is not None and item != node.pattern:
            ctx.add("error", "value", path, f"value must be {node.pattern!r}")
        if node.vs is not None and tcode in CODED:
            self._check_binding(item, node, tcode, path, ctx)

    def _make_regex(self, tcode: str) -> Callable[[str], Any] | None:
        st = self.rules.base_type(tcode)
        regex = REGEX_FIXES.get(tcode) or (st.regex if st is not None else "")
        check = re.compile(regex).fullmatch if regex else None
        if tcode in ("string", "markdown"):
            check = _non_empty
        self._regex[tcode] = check
        return check

    def _check_primitive_element(self, value: Any, path: str, ctx: Ctx) -> None:
        element = self.rules.base_type("Element")
        if element is None or element.root is None:
            return
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            if not isinstance(item, dict):
                ctx.add("error", "structure", path, "primitive extension must be a JSON object")
                continue
            self._check_complex(item, element.root, "Element", path, ctx)

    # ----------------------------------------------------------- terminology
    def _check_binding(self, item: Any, node: Node, tcode: str, path: str, ctx: Ctx) -> None:
        codes = node.codes
        if codes is None:
            codes = self.rules.codes(node.vs) if node.vs else None
            if codes is None:
                return  # listed under required_bindings_not_checked in the manifest
            node.codes = codes
        if _in_codes(item, tcode, codes):
            return
        if tcode == "CodeableConcept" and not item.get("coding"):
            ctx.add(
                "error", "code-invalid", path, f"no code provided; one is required from {node.vs}"
            )
            return
        ctx.add(
            "error",
            "code-invalid",
            path,
            f"{_describe(item)} is not in the required value set {node.vs}",
        )

    def _member_of(self, item: Any, url: str) -> bool:
        codes = self.rules.codes(url)
        if codes is None:
            raise LookupError(f"value set {url} is not expanded locally")
        if isinstance(item, str):
            return item in codes[1]
        if not isinstance(item, dict):
            return False
        kind = "CodeableConcept" if "coding" in item else "Coding"
        try:  # the same categories recur in every claim: memoize on their JSON
            key = (url, orjson.dumps(item))
        except TypeError:
            return _in_codes(item, kind, codes)
        hit = self._members.get(key)
        if hit is None:
            hit = _in_codes(item, kind, codes)
            if len(self._members) > MEMO_LIMIT:
                self._members.clear()
            self._members[key] = hit
        return hit

    def _conforms_to(self, resource: dict, url: str) -> bool:
        if "resourceType" not in resource:
            return False
        issues: list[Issue] = []
        self._validate_resource(resource, resource, url, resource["resourceType"], issues)
        return not any(i.severity == "error" for i in issues)

    # --------------------------------------------------------------- slicing
    def _check_slices(self, node: Node, tcode: str, items: list, path: str, ctx: Ctx) -> None:
        matchers = node.matchers
        if matchers is None:
            matchers = self._build_matchers(node)
            node.matchers = matchers
        index = self.slice_index(node, matchers)
        counts = [0] * len(matchers)
        closed = node.slicing.get("r") == "closed" and all(m is not None for _, m in matchers)
        for i, item in enumerate(items):
            ipath = f"{path}[{i}]" if node.arr else path
            hit = find_slice(matchers, index, item, tcode)
            if hit < 0:
                if closed:
                    ctx.add(
                        "error", "structure", ipath, "does not match any slice (closed slicing)"
                    )
                self._check_value(item, node, tcode, ipath, ctx)
                continue
            counts[hit] += 1
            snode = matchers[hit][0]
            stype = snode.types[0][0] if len(snode.types) == 1 else tcode
            self._check_value(item, snode, stype if not node.is_choice else tcode, ipath, ctx)
        for (snode, ms), count in zip(matchers, counts, strict=True):
            if ms is None:
                continue
            if count < snode.min:
                ctx.add(
                    "error",
                    "required",
                    path,
                    f"slice '{snode.slice_name}': minimum required = {snode.min}, but only found {count}",
                )
            if 0 <= snode.max < count:
                ctx.add(
                    "error",
                    "structure",
                    path,
                    f"slice '{snode.slice_name}': maximum allowed = {snode.max}, but found {count}",
                )

    def slice_index(self, node: Node, matchers: list) -> tuple[str, dict] | None:
        index = node.slicing.get("index", _MISSING)
        if index is _MISSING:
            index = node.slicing["index"] = self._slice_index(node, matchers)
        return index

    def _slice_index(self, node: Node, matchers: list) -> tuple[str, dict] | None:
        """A lookup table slice-key -> slice, when every slice is told apart by one fixed code/url."""
        disc = node.slicing["d"]
        if len(disc) != 1 or disc[0][0] not in ("value", "pattern"):
            return None
        dpath = disc[0][1]
        table: dict[tuple, int] = {}
        for si, (snode, ms) in enumerate(matchers):
            if ms is None:
                return None
            target = self._node_at(snode, dpath)
            expected = None
            if target is not None:
                expected = target.fixed if target.fixed is not None else target.pattern
            if expected is None and dpath == "url":
                urls = [p.split("|")[0] for _, ps in snode.types for p in ps]
                expected = urls[0] if urls else None
            key = _pattern_key(expected)
            if key is None or key in table:
                return None
            table[key] = si
        return dpath, table

    def _build_matchers(self, node: Node) -> list:
        out = []
        for snode in node.slices:
            ms: list | None = []
            for dtype, dpath in node.slicing["d"]:
                m = self._matcher(snode, dtype, dpath)
                if m is None:
                    ms = None
                    break
                ms.append(m)
            out.append((snode, ms))
        return out

    def _matcher(self, snode: Node, dtype: str, dpath: str) -> Callable[[Any, str], bool] | None:
        if dtype == "type":
            allowed = frozenset(t for t, _ in snode.types)
            return lambda item, tcode: (
                tcode in allowed or (isinstance(item, dict) and item.get("resourceType") in allowed)
            )
        if dtype == "exists":
            return None
        target = self._node_at(snode, dpath)
        if dpath == "url" and (target is None or target.fixed is None):
            urls = [p.split("|")[0] for _, ps in snode.types for p in ps]
            if urls:
                return lambda item, tcode, url=urls[0]: (
                    isinstance(item, dict)
                    and isinstance(item.get("url"), str)
                    and item["url"].split("|")[0] == url
                )
        if target is None:
            return None
        expected = target.fixed if target.fixed is not None else target.pattern
        if expected is not None:
            if dtype == "value" and target.fixed is not None:
                return lambda item, tcode: any(v == expected for v in _values_at(item, dpath))
            return lambda item, tcode: any(
                pattern_matches(expected, v) for v in _values_at(item, dpath)
            )
        if target.vs is not None:
            codes = self.rules.codes(target.vs)
            if codes is None:
                return None
            kind = target.types[0][0] if target.types else "CodeableConcept"
            return lambda item, tcode: any(
                _in_codes(v, kind, codes) for v in _values_at(item, dpath)
            )
        return None

    def _node_at(self, snode: Node, dpath: str) -> Node | None:
        if dpath == "$this":
            return snode
        node: Node | None = snode
        for seg in dpath.split("."):
            if node is None:
                return None
            nxt = node.children.get(seg)
            if nxt is None and node.types:
                base = self.rules.base_type(node.types[0][0])
                nxt = base.root.children.get(seg) if base and base.root else None
            node = nxt
        return node

    # ------------------------------------------------------------ extensions
    def _check_extension(self, item: dict, node: Node, path: str, ctx: Ctx) -> None:
        has_value = any(k.startswith("value") for k in item)
        if has_value == ("extension" in item):
            ctx.add(
                "error",
                "invariant",
                path,
                "ext-1: Must have either extensions or value[x], not both",
            )
        url = item.get("url")
        if not isinstance(url, str):
            ctx.add("error", "required", f"{path}.url", "minimum required = 1, but only found 0")
            return
        profiles = [p for _, ps in node.types for p in ps]
        ext_struct = None
        if profiles:
            ext_struct = self.rules.structure(profiles[0])
        elif node.path.endswith("xtension") and "://" in url:
            ext_struct = self.rules.structure(url)
        if ext_struct is None or ext_struct.root is None or ext_struct.type != "Extension":
            if node.name == "modifierExtension":
                ctx.add(
                    "error",
                    "structure",
                    path,
                    f"unknown modifier extension {url} cannot be ignored",
                )
            self._check_complex(item, node, "Extension", path, ctx)
            return
        self._check_complex(item, ext_struct.root, "Extension", path, ctx)

    def _check_contained(self, item: dict, path: str, ctx: Ctx) -> None:
        rtype = item.get("resourceType")
        if not isinstance(rtype, str):
            ctx.add("error", "structure", path, "resource has no resourceType")
            return
        in_bundle = ctx.resource.get("resourceType") == "Bundle"
        self._validate_resource(item, ctx.root if not in_bundle else item, None, path, ctx.issues)

    # ------------------------------------------------------------ invariants
    def _check_invariants(
        self, obj: dict, keys: tuple[str, ...], type_path: str, path: str, ctx: Ctx
    ) -> None:
        invariants = self.rules.invariants
        natives = self._natives
        for key in keys:
            inv = invariants[key]
            native = natives.get(key, _MISSING)
            if native is _MISSING:
                native = natives[key] = native_for(inv["expression"])
            ok: bool | None = None
            if native is not None:
                try:
                    ok = native(obj, ctx)
                except LookupError:
                    ok = None
                except (AttributeError, TypeError):  # malformed shapes: let FHIRPath decide
                    native = None
            if native is None:
                ok = self.engine.evaluate(inv["expression"], obj, type_path, ctx.resource, ctx.root)
            if ok is None:
                self.not_evaluable.add(key)
                continue
            if not ok:
                sev = "error" if inv["severity"] == "error" else "warning"
                ctx.add(
                    sev, "invariant", path, f"{inv['key']}: {inv['human']} [{inv['expression']}]"
                )


_MISSING: Any = object()


def _declared(resource: dict) -> list:
    meta = resource.get("meta")
    profiles = meta.get("profile") if isinstance(meta, dict) else None
    return list(profiles) if isinstance(profiles, list) else []


def reference_type(reference: Any, root: dict) -> str | None:
    """The resource type a literal reference names (contained ones resolved), or None if unknown."""
    if not isinstance(reference, str) or not reference:
        return None
    if reference.startswith("#"):
        for c in root.get("contained") or ():
            if isinstance(c, dict) and c.get("id") == reference[1:]:
                return c.get("resourceType")
        return None
    head, slash, tail = reference.partition("/")
    if slash and tail and "/" not in tail and "?" not in tail:  # `Type/id`, the common form
        return head if head[:1].isupper() and head.isalpha() else None
    parts = reference.split("/_history/")[0].split("?")[0].rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2][:1].isupper() and parts[-2].isalpha():
        return parts[-2]
    return None


def find_slice(matchers: list, index: tuple[str, dict] | None, item: Any, tcode: str) -> int:
    """The index of the first slice the item belongs to, or -1."""
    if index is not None:
        dpath, table = index
        for k in _index_keys(_values_at(item, dpath) if dpath != "$this" else [item]):
            hit = table.get(k, -1)
            if hit >= 0:
                return hit
        return -1
    for si, (_, ms) in enumerate(matchers):
        if ms is not None and all(m(item, tcode) for m in ms):
            return si
    return -1


def _pattern_key(expected: Any) -> tuple | None:
    """The slice key of a simple pattern: a bare code/url, one Coding, or a one-Coding concept."""
    if isinstance(expected, str):
        return ("v", expected)
    if isinstance(expected, dict):
        coding = expected
        if set(expected) == {"coding"} and len(expected["coding"]) == 1:
            coding = expected["coding"][0]
        if isinstance(coding, dict) and set(coding) == {"system", "code"}:
            return ("c", coding["system"], coding["code"])
    return None


def _index_keys(values: list) -> Iterator[tuple]:
    for v in values:
        if isinstance(v, str):
            yield ("v", v.split("|")[0] if "://" in v else v)
        elif isinstance(v, dict):
            codings = v.get("coding") or [v]
            for c in codings if isinstance(codings, list) else ():
                if isinstance(c, dict):
                    system, code = c.get("system"), c.get("code")
                    if isinstance(system, str | None) and isinstance(code, str | None):
                        yield ("c", system, code)


def _non_empty(value: str) -> Any:
    return value if value.strip() else None


def _real_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _json_name(tcode: str) -> str:
    return "boolean" if tcode == "boolean" else "number"


def _in_codes(item: Any, tcode: str, codes: tuple[frozenset, frozenset]) -> bool:
    pairs, bare = codes
    if isinstance(item, str):
        return item in bare
    if not isinstance(item, dict):
        return False
    if tcode == "CodeableConcept" or "coding" in item:
        return any(
            isinstance(c, dict) and f"{c.get('system')}|{c.get('code')}" in pairs
            for c in item.get("coding") or []
        )
    if "code" in item:
        return f"{item.get('system')}|{item.get('code')}" in pairs
    return False


def _describe(item: Any) -> str:
    if isinstance(item, dict):
        codings = item.get("coding") or [item]
        return ", ".join(
            f"{c.get('system')}#{c.get('code')}" for c in codings if isinstance(c, dict)
        )
    return repr(item)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 160 else text[:157] + "..."


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for issue in issues:
        core = issue.diagnostics.rsplit(" (profile ", 1)[0]
        sig = (issue.severity, issue.expression, core)
        if sig not in seen:
            seen.add(sig)
            out.append(issue)
    return out
