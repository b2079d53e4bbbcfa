"""Compile the IG SearchParameters each API serves into `compiled/search_params.json`: per API and
resource type the parameters (with FHIRPath compiled to simple extractor paths), the includes,
revincludes and chains its IG CapabilityStatement lists; and what could not be compiled, why."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from serving.apis import APIS, Api

COMPILED_FILE = Path(__file__).parent / "compiled" / "search_params.json"
IG_ENV_VAR = "INTEROP_IG_DIR"
CORE = ("hl7.fhir.r4.core", "4.0.1")
# IG packages whose SearchParameters may define an API's parameters (later ones win a clash).
PACKAGES = (
    CORE,
    ("hl7.fhir.us.carin-bb", "2.0.0"),
    ("hl7.fhir.us.davinci-pdex-plan-net", "1.1.0"),
    ("hl7.fhir.us.davinci-drug-formulary", "2.0.1"),
)
SPECIAL = {"_id": "token", "_lastUpdated": "date"}  # answered from the resources table itself
SUPPORTED_TYPES = ("token", "string", "reference", "date")
_USDF = "http://hl7.org/fhir/us/davinci-drug-formulary"

# Parameters the plan's API answers beyond its IG CapabilityStatement: (api, type, code), found
# in the IG packages or the R4 core. Coverage's member references confine the Patient Access
# compartment.
EXTRAS: tuple[tuple[str, str, str], ...] = (
    ("patient-access", "Coverage", "beneficiary"),
    ("patient-access", "Coverage", "subscriber"),
    ("patient-access", "Coverage", "patient"),
    ("patient-access", "Coverage", "policy-holder"),
    ("provider-directory", "Location", "name"),
    ("provider-directory", "Organization", "address-postalcode"),
)
# Extras that match a prefix of any word, as the plan's directory answers `Location?name=ortho`
# today ("Brighton Ortho Surgery Center"); IG parameters keep FHIR's prefix of the whole value.
WORD_PREFIX = frozenset({("provider-directory", "Location", "name")})

# Internal parameters (never offered to clients, names start with "@"): references the Patient
# Access compartment follows besides the searchable ones.
INTERNAL: tuple[dict[str, Any], ...] = (
    {
        "code": "@supporting-info",
        "base": ["ExplanationOfBenefit"],
        "type": "reference",
        "expression": "ExplanationOfBenefit.supportingInfo.value.ofType(Reference)",
    },
)

# US Drug Formulary 1.1.0 ships no CapabilityStatement or SearchParameters in its package; these
# are the STU1.1 ones (CONFORMANCE.md §6.2). Its `List:entry` revinclude is the core `List:item`.
STU1_SEARCH_PARAMETERS: tuple[dict[str, Any], ...] = (
    {
        "url": f"{_USDF}/SearchParameter/DrugName",
        "code": "DrugName",
        "base": ["MedicationKnowledge"],
        "type": "string",
        "expression": "MedicationKnowledge.code.coding.display",
        "description": "Search by the drug's name (code.coding.display).",
    },
    {
        "url": f"{_USDF}/SearchParameter/DrugPlan",
        "code": "DrugPlan",
        "base": ["MedicationKnowledge"],
        "type": "string",
        "expression": "MedicationKnowledge.extension.where("
        f"url='{_USDF}/StructureDefinition/usdf-PlanID-extension').value",
        "description": "Search by the plan id (usdf-PlanID-extension).",
    },
    {
        "url": f"{_USDF}/SearchParameter/DrugTier",
        "code": "DrugTier",
        "base": ["MedicationKnowledge"],
        "type": "token",
        "expression": "MedicationKnowledge.extension.where("
        f"url='{_USDF}/StructureDefinition/usdf-DrugTierID-extension').value",
        "description": "Search by the drug tier (usdf-DrugTierID-extension).",
    },
)
_CORE_SP = "http://hl7.org/fhir/SearchParameter"
STU1_CAPABILITY: dict[str, dict[str, Any]] = {
    "List": {
        "params": {
            "_id": f"{_CORE_SP}/Resource-id",
            "identifier": f"{_CORE_SP}/clinical-identifier",
            "item": f"{_CORE_SP}/List-item",
            "status": f"{_CORE_SP}/List-status",
        },
        "include": [],
        "revinclude": [],
    },
    "MedicationKnowledge": {
        "params": {
            "DrugName": f"{_USDF}/SearchParameter/DrugName",
            "DrugPlan": f"{_USDF}/SearchParameter/DrugPlan",
            "DrugTier": f"{_USDF}/SearchParameter/DrugTier",
            "code": f"{_CORE_SP}/MedicationKnowledge-code",
            "_id": f"{_CORE_SP}/Resource-id",
        },
        "include": [],
        "revinclude": ["List:item"],
    },
}


class Unsupported(ValueError):
    """A FHIRPath expression outside the subset the extractor runs."""


def default_ig_dir() -> Path:
    env = os.environ.get(IG_ENV_VAR)
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "fhir-ig"


def _package_files(ig_dir: Path, package: tuple[str, str], prefix: str) -> Iterator[dict]:
    for path in sorted((ig_dir / package[0] / package[1] / "package").glob(f"{prefix}-*.json")):
        yield json.loads(path.read_text("utf-8"))


class Registry:
    """Every SearchParameter of the packages, by canonical and by (base, code)."""

    def __init__(self, ig_dir: Path) -> None:
        self.by_url: dict[str, dict] = {}
        self.by_code: dict[tuple[str, str], dict] = {}
        self.core_by_code: dict[tuple[str, str], dict] = {}
        for package in PACKAGES:
            for sp in _package_files(ig_dir, package, "SearchParameter"):
                self._add(sp, core=package == CORE)
        for sp in (*STU1_SEARCH_PARAMETERS, *INTERNAL):
            self._add(sp, core=False)
        self.choices = _core_choice_elements(ig_dir)

    def _add(self, sp: dict, *, core: bool) -> None:
        if sp.get("resourceType", "SearchParameter") != "SearchParameter":
            return
        if "url" in sp:
            self.by_url[sp["url"]] = sp
        for base in sp.get("base", []):
            self.by_code[(base, sp["code"])] = sp
            if core:
                self.core_by_code[(base, sp["code"])] = sp


def _core_choice_elements(ig_dir: Path) -> frozenset[str]:
    """Element paths of the core resources that are choices (`ExplanationOfBenefit.item.serviced`)."""
    found = {"Extension.value"}
    for sd in _package_files(ig_dir, CORE, "StructureDefinition"):
        if sd.get("kind") != "resource" or sd.get("derivation") != "specialization":
            continue
        for element in sd.get("snapshot", {}).get("element", []):
            if element["path"].endswith("[x]"):
                found.add(element["path"][:-3])
    return frozenset(found)


# ---- FHIRPath subset -------------------------------------------------------------------------


def _split_top(text: str, separator: str) -> list[str]:
    """Split on separator outside parentheses and quotes."""
    parts, depth, quoted, current = [], 0, False, []
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == separator and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts]


def _strip_parens(text: str) -> str:
    """`(a.b)` to `a.b`, only when the first parenthesis closes at the very end."""
    while text.startswith("(") and _closing(text) == len(text) - 1:
        text = text[1:-1].strip()
    return text


def _closing(text: str) -> int:
    depth = 0
    for position, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0:
            return position
    return -1


_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_WHERE_URL = re.compile(r"^where\(\s*url\s*=\s*'([^']+)'\s*\)$")
_EXTENSION = re.compile(r"^extension\(\s*'([^']+)'\s*\)$")
_RESOLVE_IS = re.compile(r"^where\(\s*resolve\(\)\s+is\s+([A-Za-z]+)\s*\)$")
_TYPE_FILTER = re.compile(r"^(?:as|ofType)\(\s*([A-Za-z]+)\s*\)$")
_INFIX_AS = re.compile(r"^(.*)\s+(?:as|is)\s+([A-Za-z]+)$")


def compile_expression(expression: str, base: str, choices: frozenset[str]) -> list[list[Any]]:
    """FHIRPath (the subset SearchParameters use) to extractor paths: a list of alternatives,
    each a list of steps (element name, `name[x]` for a choice, {"url"}, {"resolve"})."""
    paths = []
    for alternative in _split_top(expression, "|"):
        path = _compile_path(_strip_parens(alternative), base, choices)
        if path is not None:
            paths.append(path)
    if not paths:
        raise Unsupported(f"no alternative of {expression!r} applies to {base}")
    return paths


def _compile_path(text: str, base: str, choices: frozenset[str]) -> list[Any] | None:
    infix = _INFIX_AS.match(text)
    if infix:  # `(X.serviced as Date)` is `X.serviced.as(Date)`
        text = f"{_strip_parens(infix.group(1))}.as({infix.group(2)})"
    tokens = _split_top(text, ".")
    if tokens[0] in (base, "Resource", "DomainResource"):
        tokens = tokens[1:]
    elif tokens[0][:1].isupper():
        return None  # an alternative for another resource type of a multi-base parameter
    steps: list[Any] = []
    context = base
    for token in tokens:
        context = _compile_step(token, steps, context, choices, text)
    return steps


def _compile_step(
    token: str, steps: list[Any], context: str, choices: frozenset[str], text: str
) -> str:
    if _NAME.match(token):
        context = "Extension" if token == "extension" else f"{context}.{token}"
        choice = context in choices or (token == "value" and context == "Extension.value")
        steps.append(f"{token}[x]" if choice else token)
        return context
    if match := _WHERE_URL.match(token):
        steps.append({"url": match.group(1)})
        return "Extension"
    if match := _EXTENSION.match(token):
        steps.extend(["extension", {"url": match.group(1)}])
        return "Extension"
    if match := _RESOLVE_IS.match(token):
        steps.append({"resolve": match.group(1)})
        return context
    if match := _TYPE_FILTER.match(token):
        if steps and isinstance(steps[-1], str) and steps[-1].endswith("[x]"):
            kind = match.group(1)
            steps[-1] = f"{steps[-1][:-3]}{kind[0].upper()}{kind[1:]}"
        return context
    raise Unsupported(f"{token!r} in {text!r} is outside the compiled FHIRPath subset")


# ---- per-API assembly ------------------------------------------------------------------------


def _capability_statement(ig_dir: Path, api: Api) -> dict[str, dict[str, Any]]:
    """Per resource type: params (code -> (definition, expectation)), include, revinclude."""
    if api.name == "formulary-stu1":
        return {
            rtype: {
                "params": {code: (url, "SHALL") for code, url in entry["params"].items()},
                "include": entry["include"],
                "revinclude": entry["revinclude"],
            }
            for rtype, entry in STU1_CAPABILITY.items()
        }
    folder = ig_dir / api.ig_package / api.ig_version / "package"
    statement = next(
        json.loads(path.read_text("utf-8"))
        for path in sorted(folder.glob("CapabilityStatement-*.json"))
        if json.loads(path.read_text("utf-8")).get("url") == api.instantiates
    )
    found = {}
    for resource in statement["rest"][0]["resource"]:
        params = {
            p["name"]: (p["definition"], _expectation(p)) for p in resource.get("searchParam", [])
        }
        found[resource["type"]] = {
            "params": params,
            "include": [_qualified(resource["type"], i) for i in resource.get("searchInclude", [])],
            "revinclude": list(resource.get("searchRevInclude", [])),
        }
    return found


def _expectation(element: dict) -> str | None:
    for extension in element.get("extension", []):
        if extension.get("url", "").endswith("capabilitystatement-expectation"):
            return extension.get("valueCode")
    return None


def _qualified(rtype: str, include: str) -> str:
    # USDF 2.0.1 lists includes as bare parameter names ("formulary-coverage").
    return include if ":" in include else f"{rtype}:{include}"


def compile_search(ig_dir: Path) -> dict[str, Any]:
    """The whole compiled form, deterministic for a given IG folder."""
    registry = Registry(ig_dir)
    apis: dict[str, Any] = {}
    unsupported: list[dict[str, str]] = []
    index: dict[str, dict[str, Any]] = {}
    for api in APIS:
        apis[api.name] = _compile_api(ig_dir, api, registry, index, unsupported)
    return {
        "generated_from": [f"{name}#{version}" for name, version in PACKAGES]
        + ["hl7.fhir.us.davinci-drug-formulary#1.1.0 (STU1.1, CONFORMANCE.md §6.2)"],
        "apis": apis,
        "index": {rtype: dict(sorted(params.items())) for rtype, params in sorted(index.items())},
        "unsupported": sorted(unsupported, key=lambda u: (u["api"], u["type"], u["param"])),
    }


def _compile_api(
    ig_dir: Path,
    api: Api,
    registry: Registry,
    index: dict[str, dict[str, Any]],
    unsupported: list[dict[str, str]],
) -> dict[str, Any]:
    statement = _capability_statement(ig_dir, api)
    wanted: dict[str, dict[str, tuple[dict, str | None]]] = {}
    for rtype in api.resource_types:
        entry = statement.get(rtype, {"params": {}, "include": [], "revinclude": []})
        wanted[rtype] = {
            code: (registry.by_url[url], expectation)
            for code, (url, expectation) in entry["params"].items()
        }
        for code in ("_id", "_lastUpdated"):
            wanted[rtype].setdefault(code, (registry.core_by_code[("Resource", code)], None))
    for name, rtype, code in EXTRAS:
        if name == api.name:
            wanted[rtype].setdefault(code, (registry.by_code[(rtype, code)], None))
    for sp in INTERNAL:
        for rtype in sp["base"]:
            if api.name == "patient-access" and rtype in wanted:
                wanted[rtype].setdefault(sp["code"], (sp, None))
    _add_include_params(api, statement, registry, wanted)
    resources = {}
    for rtype in api.resource_types:
        params = {}
        for code, (sp, expectation) in sorted(wanted[rtype].items()):
            compiled = _compile_param(api, rtype, code, sp, expectation, registry, index)
            if isinstance(compiled, str):
                unsupported.append(
                    {"api": api.name, "type": rtype, "param": code, "reason": compiled}
                )
            else:
                params[code] = compiled
        entry = statement.get(rtype, {"include": [], "revinclude": []})
        resources[rtype] = {
            "params": params,
            "include": entry["include"],
            "revinclude": entry["revinclude"],
        }
    _resolve_chains(api, resources, unsupported)
    return resources


def _add_include_params(
    api: Api,
    statement: dict[str, dict[str, Any]],
    registry: Registry,
    wanted: dict[str, dict[str, tuple[dict, str | None]]],
) -> None:
    """Reference parameters an include or revinclude names but the search list does not."""
    for entry in statement.values():
        for spec in [*entry["include"], *entry["revinclude"]]:
            rtype, _, code = spec.partition(":")
            if code == "*" or rtype not in wanted or code in wanted[rtype]:
                continue
            sp = registry.by_code.get((rtype, code))
            if sp is not None:
                wanted[rtype][code] = (sp, None)


def _compile_param(
    api: Api,
    rtype: str,
    code: str,
    sp: dict,
    expectation: str | None,
    registry: Registry,
    index: dict[str, dict[str, Any]],
) -> dict[str, Any] | str:
    kind = SPECIAL.get(code, sp["type"])
    compiled: dict[str, Any] = {
        "type": kind,
        "definition": sp.get("url", ""),
        "documentation": (sp.get("description") or "").strip(),
        "expectation": expectation,
        "expression": sp.get("expression", ""),
    }
    if code in SPECIAL:
        return compiled
    if kind not in SUPPORTED_TYPES:
        return f"{kind} parameters are not indexed"
    try:
        paths = compile_expression(sp.get("expression", ""), rtype, registry.choices)
    except Unsupported as error:
        return str(error)
    words = (api.name, rtype, code) in WORD_PREFIX
    compiled["index"] = _index_name(index, rtype, code, kind, paths, words=words)
    if kind == "reference":
        compiled["targets"] = sorted(sp.get("target", []))
        compiled["chain"] = list(sp.get("chain", []))
    return compiled


def _index_name(
    index: dict[str, dict[str, Any]],
    rtype: str,
    code: str,
    kind: str,
    paths: list[list[Any]],
    *,
    words: bool,
) -> str:
    """The index key of a parameter: its code, unless another API defines the same code on the
    same type differently (Plan-Net and USDF InsurancePlan `name`): then `code~N`."""
    entries = index.setdefault(rtype, {})
    spec: dict[str, Any] = {"type": kind, "paths": paths}
    if words:
        spec["words"] = True
    name, n = code, 1
    while name in entries and entries[name] != spec:
        n += 1
        name = f"{code}~{n}"
    entries[name] = spec
    return name


def _resolve_chains(api: Api, resources: dict[str, Any], unsupported: list[dict[str, str]]) -> None:
    """Keep the declared chains whose chained parameter the target type has in this API."""
    for rtype, entry in resources.items():
        for code, param in entry["params"].items():
            declared = param.pop("chain", None)
            if not declared:
                continue
            kept = []
            for chained in declared:
                targets = [t for t in param["targets"] if t in resources] or []
                if any(chained in resources[t]["params"] for t in targets):
                    kept.append(chained)
                else:
                    unsupported.append(
                        {
                            "api": api.name,
                            "type": rtype,
                            "param": f"{code}.{chained}",
                            "reason": f"no target of {code} has a {chained} parameter here",
                        }
                    )
            param["chains"] = kept


def render(compiled: dict[str, Any]) -> str:
    return json.dumps(compiled, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_compiled(ig_dir: Path, out: Path = COMPILED_FILE) -> int:
    text = render(compile_search(ig_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, "utf-8")
    return len(text)
