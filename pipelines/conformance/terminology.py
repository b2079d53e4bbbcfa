"""Expand ValueSets locally from the ValueSets and CodeSystems shipped in the IG packages.

A value set that needs an external terminology (e.g. ICD-10-CM, CPT, RxNorm via NLM VSAC) cannot be
expanded here: `expand` then returns None and the reason, so the caller reports it as not checked.
"""

from __future__ import annotations

from collections.abc import Iterator

from pipelines.conformance.packages import PackageSet

MAX_EXPANSION = 5000


class NotExpandable(Exception):
    """A value set whose content is not fully available in the local packages."""


def _walk(concepts: list[dict], parent: str | None = None) -> Iterator[tuple[str, str | None]]:
    for c in concepts:
        yield c["code"], parent
        yield from _walk(c.get("concept", []), c["code"])


class Expander:
    def __init__(self, packages: PackageSet) -> None:
        self.packages = packages
        self._cache: dict[str, dict[str, set[str]]] = {}
        self._prefer: str | None = None

    def resolve(self, canonical: str, prefer: str | None = None) -> dict | None:
        return self.packages.get(canonical, "ValueSet", prefer)

    def expand(
        self, canonical: str, prefer: str | None = None
    ) -> tuple[dict[str, list[str]] | None, str]:
        """(system -> sorted codes, '') or (None, reason); `prefer` picks the profile's package."""
        self._prefer = prefer
        self._cache = {}
        try:
            codes = self._expand(canonical, ())
        except NotExpandable as exc:
            return None, str(exc)
        total = sum(len(v) for v in codes.values())
        if total > MAX_EXPANSION:
            return None, f"expansion too large ({total} codes)"
        return {s: sorted(c) for s, c in sorted(codes.items())}, ""

    def _expand(self, canonical: str, stack: tuple[str, ...]) -> dict[str, set[str]]:
        if canonical in self._cache:
            return self._cache[canonical]
        if canonical in stack:
            raise NotExpandable(f"cyclic value set {canonical}")
        vs = self.packages.get(canonical, "ValueSet", self._prefer)
        if vs is None:
            raise NotExpandable(f"value set {canonical} is not in the local packages")
        compose = vs.get("compose")
        if compose is None:
            contains = vs.get("expansion", {}).get("contains")
            if contains is None:
                raise NotExpandable(f"value set {canonical} has neither compose nor expansion")
            result = self._from_contains(contains)
        else:
            result: dict[str, set[str]] = {}
            for inc in compose.get("include", []):
                for system, codes in self._include(inc, (*stack, canonical)).items():
                    result.setdefault(system, set()).update(codes)
            for exc in compose.get("exclude", []):
                for system, codes in self._include(exc, (*stack, canonical)).items():
                    result.get(system, set()).difference_update(codes)
        self._cache[canonical] = result
        return result

    def _from_contains(self, contains: list[dict]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        stack = list(contains)
        while stack:
            c = stack.pop()
            if "code" in c and "system" in c:
                out.setdefault(c["system"], set()).add(c["code"])
            stack.extend(c.get("contains", []))
        return out

    def _include(self, inc: dict, stack: tuple[str, ...]) -> dict[str, set[str]]:
        system = inc.get("system")
        sets: list[dict[str, set[str]]] = []
        for vs_url in inc.get("valueSet", []):
            sets.append(self._expand(vs_url, stack))
        if system:
            if "concept" in inc:
                own = {system: {c["code"] for c in inc["concept"]}}
            else:
                own = {system: self._system_codes(system, inc.get("filter", []))}
            sets.append(own)
        if not sets:
            return {}
        result = sets[0]
        for other in sets[1:]:
            result = {s: c & other.get(s, set()) for s, c in result.items()}
        return result

    def _system_codes(self, system: str, filters: list[dict]) -> set[str]:
        cs = self.packages.get(system, "CodeSystem", self._prefer)
        if cs is None:
            raise NotExpandable(f"code system {system} is external (not in the local packages)")
        if cs.get("content") not in ("complete", None):
            raise NotExpandable(f"code system {system} content is {cs.get('content')}")
        pairs = list(_walk(cs.get("concept", [])))
        codes = {code for code, _ in pairs}
        for flt in filters:
            codes &= self._apply_filter(system, flt, pairs, cs)
        return codes

    def _apply_filter(
        self, system: str, flt: dict, pairs: list[tuple[str, str | None]], cs: dict
    ) -> set[str]:
        op, prop, value = flt.get("op"), flt.get("property"), flt.get("value")
        if prop == "concept" and op in ("is-a", "descendent-of"):
            children: dict[str | None, list[str]] = {}
            for code, parent in pairs:
                children.setdefault(parent, []).append(code)
            found: set[str] = set()
            todo = list(children.get(value, []))
            while todo:
                code = todo.pop()
                if code not in found:
                    found.add(code)
                    todo.extend(children.get(code, []))
            if op == "is-a":
                found.add(value)
            return found
        if op == "=" and prop:
            return {
                c["code"]
                for c in _flat(cs.get("concept", []))
                if any(
                    p.get("code") == prop and str(_prop_value(p)) == value
                    for p in c.get("property", [])
                )
            }
        raise NotExpandable(f"filter {prop} {op} {value} on {system} is not supported locally")


def _flat(concepts: list[dict]) -> Iterator[dict]:
    for c in concepts:
        yield c
        yield from _flat(c.get("concept", []))


def _prop_value(prop: dict) -> object:
    for key, value in prop.items():
        if key.startswith("value"):
            return value
    return None
