"""Read FHIR IG packages (StructureDefinitions, ValueSets, CodeSystems) from an unpacked folder.

Also builds a snapshot for profiles shipped as differentials only (US Drug Formulary 1.1.0).
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

IG_ENV_VAR = "INTEROP_IG_DIR"
REPO_ROOT = Path(__file__).resolve().parents[2]

# (package folder, version folder) in the order later entries win on a canonical clash.
IG_PACKAGES: tuple[tuple[str, str], ...] = (
    ("hl7.fhir.r4.core", "4.0.1"),
    ("hl7.fhir.us.core", "3.1.1"),
    ("hl7.fhir.us.carin-bb", "2.0.0"),
    ("hl7.fhir.us.davinci-pdex-plan-net", "1.1.0"),
    ("hl7.fhir.us.davinci-drug-formulary", "1.1.0-differential"),
    ("hl7.fhir.us.davinci-drug-formulary", "2.0.1"),
)
CORE_PACKAGE = "hl7.fhir.r4.core"
KNOWN_TYPES = ("StructureDefinition", "ValueSet", "CodeSystem")


def default_ig_dir() -> Path:
    """The IG folder: `$INTEROP_IG_DIR`, else `../shared/fhir-ig` beside the repository root."""
    env = os.environ.get(IG_ENV_VAR)
    return Path(env) if env else (REPO_ROOT.parent / "shared" / "fhir-ig").resolve()


@dataclass
class Package:
    name: str
    version: str
    folder: Path
    resources: list[dict] = field(default_factory=list)
    examples: list[tuple[Path, dict]] = field(default_factory=list)


def _read_json(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def load_package(ig_dir: Path, name: str, folder: str) -> Package:
    root = ig_dir / name / folder / "package"
    if not root.is_dir():
        raise FileNotFoundError(f"IG package folder not found: {root}")
    manifest = root / "package.json"
    version = _read_json(manifest)["version"] if manifest.exists() else folder.split("-")[0]
    pkg = Package(name=name, version=version, folder=root)
    for path in sorted(root.glob("*.json")):
        if path.name.split("-", 1)[0] not in KNOWN_TYPES:
            continue
        res = _read_json(path)
        if res.get("resourceType") in KNOWN_TYPES:
            res.setdefault("version", version)
            res["_package"] = f"{name}#{version}"
            pkg.resources.append(res)
    example_dir = root / "example"
    if example_dir.is_dir():
        for path in sorted(example_dir.glob("*.json")):
            pkg.examples.append((path, _read_json(path)))
    return pkg


class PackageSet:
    """All resources of the IG packages, indexed by canonical URL and version."""

    def __init__(self, packages: list[Package]) -> None:
        self.packages = packages
        self.by_url: dict[str, list[dict]] = {}
        for pkg in packages:
            for res in pkg.resources:
                self.by_url.setdefault(res["url"], []).append(res)
        self._snapshots: dict[int, list[dict]] = {}

    @classmethod
    def load(cls, ig_dir: Path) -> PackageSet:
        return cls([load_package(ig_dir, name, folder) for name, folder in IG_PACKAGES])

    def get(
        self, canonical: str, rtype: str | None = None, prefer: str | None = None
    ) -> dict | None:
        """By canonical (`url|version` honoured); unversioned prefers the `prefer` package."""
        url, _, version = canonical.partition("|")
        found = [r for r in self.by_url.get(url, []) if rtype is None or r["resourceType"] == rtype]
        if version:
            exact = [r for r in found if r.get("version") == version]
            found = exact or found
        elif prefer:
            same = [r for r in found if r["_package"] == prefer]
            found = same or found
        return found[-1] if found else None

    def core_type(self, type_code: str) -> dict | None:
        return self.get(
            f"http://hl7.org/fhir/StructureDefinition/{type_code}", "StructureDefinition"
        )

    def snapshot(self, sd: dict) -> list[dict]:
        """The snapshot elements, generated over the base snapshot when only a differential ships."""
        key = id(sd)
        if key in self._snapshots:
            return self._snapshots[key]
        if "snapshot" in sd:
            elements = sd["snapshot"]["element"]
        else:
            base = self.get(sd["baseDefinition"], "StructureDefinition")
            if base is None:
                raise KeyError(f"{sd['url']}: base {sd['baseDefinition']} not found")
            elements = self._apply_differential(self.snapshot(base), sd["differential"]["element"])
        self._snapshots[key] = elements
        return elements

    def _apply_differential(self, base: list[dict], diff: list[dict]) -> list[dict]:
        elements = [copy.deepcopy(e) for e in base]
        index = {e["id"]: e for e in elements}
        for d in diff:
            target = index.get(d["id"])
            if target is None:
                target = self._template_for(d, index)
                elements.append(target)
                index[target["id"]] = target
            for key, value in d.items():
                if key in ("fixed", "pattern") or key.startswith(("fixed", "pattern")):
                    for old in [k for k in target if k.startswith(("fixed", "pattern"))]:
                        del target[old]
                target[key] = copy.deepcopy(value)
        return elements

    def _template_for(self, d: dict, index: dict[str, dict]) -> dict:
        """A new element (a slice or a path inside a datatype) starts from the element it refines."""
        elem_id = d["id"]
        unsliced = ".".join(seg.split(":")[0] for seg in elem_id.split("."))
        if unsliced in index:
            tpl = copy.deepcopy(index[unsliced])
            tpl.pop("slicing", None)
        else:
            tpl = self._datatype_element(elem_id, index) or {"min": 0, "max": "*"}
        tpl["id"] = elem_id
        tpl["path"] = d.get("path", unsliced)
        return tpl

    def _datatype_element(self, elem_id: str, index: dict[str, dict]) -> dict | None:
        segs = elem_id.split(".")
        for cut in range(len(segs) - 1, 0, -1):
            parent = index.get(".".join(segs[:cut]))
            if parent is None or not parent.get("type"):
                continue
            dt = self.core_type(parent["type"][0]["code"])
            if dt is None:
                return None
            dt_id = ".".join([dt["type"]] + [s.split(":")[0] for s in segs[cut:]])
            for e in self.snapshot(dt):
                if e["id"] == dt_id:
                    return copy.deepcopy(e)
            return None
        return None
