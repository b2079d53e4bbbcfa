"""Compile IG StructureDefinition snapshots into the project's flat, deterministic rule set.

Output (under `compiled/`): structures.json (element tables per profile and base type), valuesets.json
(local expansions of every required binding), invariants.json (FHIRPath constraints) and
manifest.json (inputs, counts, required bindings not checked and invariants not evaluated).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pipelines.conformance.packages import CORE_PACKAGE, PackageSet
from pipelines.conformance.terminology import Expander

COMPILED_DIR = Path(__file__).resolve().parent / "compiled"
FILES = ("structures.json", "valuesets.json", "invariants.json", "manifest.json")
FHIR_TYPE = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
NATIVE_INVARIANTS = {"ele-1", "ext-1"}  # checked structurally by the validator itself
BACKBONE = {"BackboneElement", "Element"}
MEMBER_OF = re.compile(r"memberOf\('([^']+)'\)")


def _fixed_pattern(e: dict) -> tuple[str | None, object]:
    for key, value in e.items():
        if key.startswith("fixed"):
            return "fx", value
        if key.startswith("pattern"):
            return "pt", value
    return None, None


def _max(value: str | None) -> int:
    return -1 if value in (None, "*") else int(value)


def _types(e: dict) -> list[dict]:
    out = []
    for t in e.get("type", []):
        code = t["code"]
        if code.startswith("http://hl7.org/fhirpath/System."):
            # Resource.id is `id`, Extension.url is `uri`: the real type sits in an extension.
            fhir_type = [x["valueUrl"] for x in t.get("extension", []) if x["url"] == FHIR_TYPE]
            code = fhir_type[0] if fhir_type else "string"
        entry: dict = {"c": code}
        if t.get("profile"):
            entry["p"] = sorted(t["profile"])
        if t.get("targetProfile"):
            entry["tp"] = sorted(t["targetProfile"])
        out.append(entry)
    return out


class Compiler:
    def __init__(self, packages: PackageSet) -> None:
        self.packages = packages
        self.expander = Expander(packages)
        self.structures: dict[str, dict] = {}
        self.invariants: dict[str, dict] = {}
        self._inv_keys: dict[tuple[str, str], str] = {}
        self.valuesets: dict[str, dict] = {}
        self.not_checked: dict[str, dict] = {}
        self._package: str | None = None

    def run(self) -> dict[str, object]:
        todo = [sd for sd in self._roots()]
        seen: set[str] = set()
        while todo:
            sd = todo.pop()
            key = f"{sd['url']}|{sd['version']}"
            if key in seen:
                continue
            seen.add(key)
            self.structures[key] = self._compile_sd(sd)
            for ref in self._referenced_profiles(self.structures[key]):
                target = self.packages.get(ref, "StructureDefinition")
                if target is not None:
                    todo.append(target)
        manifest = {
            "inputs": sorted(
                f"{p.name}#{p.version} ({len(p.resources)} conformance resources)"
                for p in self.packages.packages
            ),
            "profiles": sorted(
                k for k, s in self.structures.items() if s["derivation"] == "constraint"
            ),
            "required_bindings_not_checked": {
                k: self.not_checked[k] for k in sorted(self.not_checked)
            },
            "invariants_not_evaluated": self._invariants_not_evaluated(),
        }
        return {
            "structures": {k: self.structures[k] for k in sorted(self.structures)},
            "valuesets": {k: self.valuesets[k] for k in sorted(self.valuesets)},
            "invariants": {k: self.invariants[k] for k in sorted(self.invariants)},
            "manifest": manifest,
        }

    def _roots(self) -> list[dict]:
        out = []
        for pkg in self.packages.packages:
            for res in pkg.resources:
                if res["resourceType"] != "StructureDefinition" or res.get("kind") == "logical":
                    continue
                if pkg.name == CORE_PACKAGE and res.get("derivation") == "constraint":
                    continue  # core profiles come in only when something references them
                out.append(res)
        return out

    def _referenced_profiles(self, compiled: dict) -> set[str]:
        refs = {compiled["base"]} if compiled.get("base") else set()
        for e in compiled["elements"]:
            for t in e.get("t", []):
                refs.update(t.get("p", []))
        return refs

    def _compile_sd(self, sd: dict) -> dict:
        snapshot = self.packages.snapshot(sd)
        profile = f"{sd['url']}|{sd['version']}"
        self._package = sd["_package"]
        kept = self._keep_elements(snapshot)
        elements = [self._compile_element(e, profile) for e in snapshot if e["id"] in kept]
        compiled = {
            "url": sd["url"],
            "version": sd["version"],
            "name": sd.get("name", ""),
            "title": sd.get("title", sd.get("name", "")),
            "type": sd["type"],
            "kind": sd["kind"],
            "abstract": bool(sd.get("abstract")),
            "derivation": sd.get("derivation", "specialization"),
            "base": sd.get("baseDefinition", ""),
            "package": sd["_package"],
            "elements": elements,
        }
        if sd["kind"] == "primitive-type":
            compiled["regex"] = self._primitive_regex(sd["type"], snapshot)
        return compiled

    @staticmethod
    def _primitive_regex(type_code: str, snapshot: list[dict]) -> str:
        for e in snapshot:
            if e["id"] != f"{type_code}.value":
                continue
            for t in e.get("type", []):
                for ext in t.get("extension", []):
                    if ext["url"].endswith("/regex"):
                        return ext["valueString"]
        return ""

    def _keep_elements(self, snapshot: list[dict]) -> set[str]:
        """Drop elements that only repeat their datatype's definition; the runtime adds those back."""
        by_id = {e["id"]: e for e in snapshot}
        kept: set[str] = set()
        for e in snapshot:
            parent_id = e["id"].rsplit(".", 1)[0] if "." in e["id"] else None
            parent = by_id.get(parent_id) if parent_id else None
            if parent is None or self._is_structural(e, parent):
                kept.add(e["id"])
        for elem_id in list(kept):
            parts = elem_id.split(".")
            for i in range(1, len(parts)):
                kept.add(".".join(parts[:i]))
        return kept

    def _is_structural(self, e: dict, parent: dict) -> bool:
        ptypes = [t["code"] for t in parent.get("type", [])]
        if not ptypes or ptypes[0] in BACKBONE or "." not in parent["id"]:
            return True
        if parent.get("contentReference") or len(ptypes) > 1:
            return True
        dt = self.packages.core_type(ptypes[0])
        if dt is None:
            return True
        name = e["id"].rsplit(".", 1)[1]
        base = next(
            (b for b in self.packages.snapshot(dt) if b["id"] == f"{dt['type']}.{name}"), None
        )
        if base is None or e.get("sliceName") or e.get("slicing") or e.get("mustSupport"):
            return True
        if (
            _fixed_pattern(e)[0]
            or e.get("min") != base.get("min")
            or e.get("max") != base.get("max")
        ):
            return True
        if _types(e) != _types(base):
            return True
        if self._required_vs(e) != self._required_vs(base):
            return True
        base_keys = {c["key"] for c in base.get("constraint", [])}
        return any(c["key"] not in base_keys for c in e.get("constraint", []))

    @staticmethod
    def _required_vs(e: dict) -> str | None:
        b = e.get("binding") or {}
        return b.get("valueSet") if b.get("strength") == "required" else None

    def _compile_element(self, e: dict, profile: str) -> dict:
        out: dict = {"id": e["id"], "min": int(e.get("min", 0)), "max": _max(e.get("max"))}
        base_max = (e.get("base") or {}).get("max", e.get("max"))
        if _max(base_max) != 1:
            out["arr"] = 1
        types = _types(e)
        if types:
            out["t"] = types
        kind, value = _fixed_pattern(e)
        if kind:
            out[kind] = value
        if e.get("sliceName"):
            out["sn"] = e["sliceName"]
        if e.get("slicing"):
            s = e["slicing"]
            out["sl"] = {
                "d": [[d["type"], d["path"]] for d in s.get("discriminator", [])],
                "r": s.get("rules", "open"),
                "o": bool(s.get("ordered")),
            }
        if e.get("mustSupport"):
            out["ms"] = 1
        if e.get("contentReference"):
            out["cr"] = e["contentReference"].split("#", 1)[1]
        vs = self._required_vs(e)
        if vs:
            out["vs"] = self._bind(vs, profile, e["id"], self._package)
        keys = []
        for c in e.get("constraint", []):
            if c["key"] in NATIVE_INVARIANTS or "expression" not in c:
                continue
            keys.append(self._invariant(c, profile))
        if keys:
            out["inv"] = keys
        return out

    def _bind(self, vs: str, profile: str, path: str, package: str | None = None) -> str:
        """Expand a required binding's value set; its key is `url|version` of the resolved set."""
        found = self.expander.resolve(vs, package)
        url = f"{found['url']}|{found['version']}" if found else vs
        if url not in self.valuesets and url not in self.not_checked:
            codes, reason = self.expander.expand(url, package)
            if codes is None:
                self.not_checked[url] = {"reason": reason, "used_by": []}
            else:
                self.valuesets[url] = codes
        if url in self.not_checked:
            used = self.not_checked[url]["used_by"]
            where = f"{profile} {path}"
            if where not in used:
                used.append(where)
                used.sort()
        return url

    def _vs_key(self, vs: str) -> str:
        found = self.expander.resolve(vs)
        return f"{found['url']}|{found['version']}" if found else vs

    def _invariant(self, c: dict, profile: str) -> str:
        sig = (c["key"], c["expression"])
        if sig in self._inv_keys:
            return self._inv_keys[sig]
        key = c["key"]
        if key in self.invariants:
            key = f"{key}@{hashlib.sha1(c['expression'].encode()).hexdigest()[:8]}"
        self._inv_keys[sig] = key
        for vs in MEMBER_OF.findall(c["expression"]):
            self._bind(vs, profile, f"{c['key']} memberOf", self._package)
        self.invariants[key] = {
            "key": c["key"],
            "severity": c.get("severity", "error"),
            "human": c.get("human", ""),
            "expression": c["expression"],
            "source": c.get("source", profile),
        }
        return key

    def _invariants_not_evaluated(self) -> dict[str, str]:
        from pipelines.conformance.invariants import unsupported_reason

        out = {}
        for key in sorted(self.invariants):
            expr = self.invariants[key]["expression"]
            reason = unsupported_reason(expr)
            external = [
                vs for vs in MEMBER_OF.findall(expr) if self._vs_key(vs) in self.not_checked
            ]
            if external:
                reason = "; ".join(
                    filter(None, [reason, f"memberOf external value set {external[0]}"])
                )
            if reason:
                out[key] = reason
        return out


def compile_rules(ig_dir: Path) -> dict[str, object]:
    return Compiler(PackageSet.load(ig_dir)).run()


def render(rules: dict[str, object]) -> dict[str, str]:
    """File name -> deterministic text: one top-level entry per line, keys sorted."""
    out = {}
    for name in FILES:
        data = rules[name.removesuffix(".json")]
        if name == "manifest.json":
            out[name] = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
            continue
        lines = [
            f"{json.dumps(k)}:{json.dumps(v, sort_keys=True, separators=(',', ':'), ensure_ascii=False)}"
            for k, v in data.items()
        ]
        out[name] = "{\n" + ",\n".join(lines) + "\n}\n"
    return out


def write_rules(ig_dir: Path, out_dir: Path = COMPILED_DIR) -> dict[str, int]:
    texts = render(compile_rules(ig_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for name, text in texts.items():
        (out_dir / name).write_text(text, encoding="utf-8")
        sizes[name] = len(text.encode())
    return sizes
