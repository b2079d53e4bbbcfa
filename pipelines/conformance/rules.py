"""Load the compiled rule set and turn each structure into a tree of element nodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import orjson

from pipelines.conformance.compiler import COMPILED_DIR


class Node:
    """One element definition (a snapshot element, possibly a slice)."""

    __slots__ = (
        "arr",
        "children",
        "codes",
        "content_ref",
        "fixed",
        "id",
        "invs",
        "matchers",
        "max",
        "min",
        "ms",
        "name",
        "path",
        "pattern",
        "plans",
        "slice_name",
        "slices",
        "slicing",
        "structure",
        "target_profiles",
        "types",
        "vs",
    )

    def __init__(self, e: dict, structure: Structure) -> None:
        self.id: str = e["id"]
        last = self.id.rsplit(".", 1)[-1]
        self.name: str = last.split(":", 1)[0]
        self.path: str = ".".join(seg.split(":", 1)[0] for seg in self.id.split("."))
        self.min: int = e["min"]
        self.max: int = e["max"]
        self.arr: bool = bool(e.get("arr"))
        self.types: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
            (t["c"], tuple(t.get("p", ()))) for t in e.get("t", ())
        )
        self.target_profiles: tuple[str, ...] = tuple(
            p for t in e.get("t", ()) if t["c"] == "Reference" for p in t.get("tp", ())
        )
        self.fixed = e.get("fx")
        self.pattern = e.get("pt")
        self.vs: str | None = e.get("vs")
        self.codes: tuple[frozenset, frozenset] | None = None
        self.slicing: dict | None = e.get("sl")
        self.slice_name: str | None = e.get("sn")
        self.slices: list[Node] = []
        self.invs: tuple[str, ...] = tuple(e.get("inv", ()))
        self.ms: bool = bool(e.get("ms"))
        self.content_ref: str | None = e.get("cr")
        self.children: dict[str, Node] = {}
        self.structure = structure
        self.plans: dict[str, object] = {}
        self.matchers: list | None = None

    @property
    def is_choice(self) -> bool:
        return self.name.endswith("[x]")


@dataclass
class Structure:
    key: str
    url: str
    version: str
    type: str
    kind: str
    derivation: str
    title: str
    base: str
    abstract: bool
    regex: str = ""
    root: Node | None = None
    nodes: dict[str, Node] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.url}|{self.version}"


def _build(key: str, data: dict) -> Structure:
    st = Structure(
        key=key,
        url=data["url"],
        version=data["version"],
        type=data["type"],
        kind=data["kind"],
        derivation=data["derivation"],
        title=data["title"],
        base=data["base"],
        abstract=data["abstract"],
        regex=data.get("regex", ""),
    )
    for e in data["elements"]:
        node = Node(e, st)
        st.nodes[node.id] = node
        if st.root is None:
            st.root = node
            continue
        parent_id, _, last = node.id.rpartition(".")
        parent = st.nodes.get(parent_id)
        if parent is None:
            continue
        name, _, slice_name = last.partition(":")
        if slice_name:
            base = parent.children.get(name)
            if base is None:  # a type slice such as value[x]:valueQuantity without its base
                continue
            base.slices.append(node)
        else:
            parent.children[name] = node
    return st


class RuleSet:
    """The compiled structures, value sets and invariants, loaded once."""

    def __init__(self, folder: Path = COMPILED_DIR) -> None:
        self.folder = folder
        raw = orjson.loads((folder / "structures.json").read_bytes())
        self._raw_structures: dict[str, dict] = raw
        self.valuesets: dict[str, dict[str, list[str]]] = orjson.loads(
            (folder / "valuesets.json").read_bytes()
        )
        self.invariants: dict[str, dict] = orjson.loads((folder / "invariants.json").read_bytes())
        self.manifest: dict = orjson.loads((folder / "manifest.json").read_bytes())
        self._structures: dict[str, Structure] = {}
        self.versions: dict[str, list[str]] = {}
        for k in raw:
            url, _, version = k.partition("|")
            self.versions.setdefault(url, []).append(version)
        for versions in self.versions.values():
            versions.sort(key=_version_key)
        self._codes: dict[str, tuple[frozenset, frozenset]] = {}
        self._by_canonical: dict[str, Structure | None] = {}

    def structure(self, canonical: str) -> Structure | None:
        """A structure by canonical; unversioned picks the latest version."""
        hit = self._by_canonical.get(canonical, _ABSENT)
        if hit is _ABSENT:
            hit = self._structure(canonical)
            if len(self._by_canonical) < 10_000:  # canonicals come from input data: stay bounded
                self._by_canonical[canonical] = hit
        return hit

    def _structure(self, canonical: str) -> Structure | None:
        url, _, version = canonical.partition("|")
        versions = self.versions.get(url)
        if not versions:
            return None
        if version and version not in versions:
            matches = [v for v in versions if v.startswith(version)]
            if not matches:
                return None
            version = matches[-1]
        key = f"{url}|{version or versions[-1]}"
        st = self._structures.get(key)
        if st is None:
            st = _build(key, self._raw_structures[key])
            self._structures[key] = st
        return st

    def base_type(self, code: str) -> Structure | None:
        return self.structure(f"http://hl7.org/fhir/StructureDefinition/{code}")

    def codes(self, vs: str) -> tuple[frozenset, frozenset] | None:
        """(frozenset of 'system|code', frozenset of codes) for a locally expanded value set."""
        hit = self._codes.get(vs)
        if hit is None:
            expansion = self.valuesets.get(vs)
            if expansion is None and "|" not in vs:
                keys = sorted(k for k in self.valuesets if k.split("|", 1)[0] == vs)
                expansion = self.valuesets[keys[-1]] if keys else None
            if expansion is None:
                return None
            pairs = frozenset(f"{s}|{c}" for s, cs in expansion.items() for c in cs)
            codes = frozenset(c for cs in expansion.values() for c in cs)
            hit = (pairs, codes)
            self._codes[vs] = hit
        return hit

    def profiles(self) -> list[str]:
        return list(self.manifest["profiles"])


_ABSENT = Structure("", "", "", "", "", "", "", "", False)


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else -1 for p in version.replace("-", ".").split("."))
