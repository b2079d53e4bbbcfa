"""Evaluate profile invariants (FHIRPath constraints).

Hot invariants have a native Python twin (`native_invariants.NATIVE`, checked against fhirpathpy in the
tests); the rest run through fhirpathpy, parsed once per expression, with the functions it lacks added
here: hasValue, memberOf (local expansions), resolve (contained, bundle, or typed stub from a literal
reference), conformsTo (compiled profiles), htmlChecks (approximate: well-formed, no script).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import fhirpathpy
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models

R4_MODEL = models["r4"]
UNSUPPORTED = {
    "htmlChecks": "htmlChecks() approximated (XHTML well-formedness not checked)",
    "resolve": "resolve() approximated: a literal reference resolves to a stub of its type",
}
_SCRIPT = re.compile(r"<script|\son\w+\s*=", re.IGNORECASE)


def unsupported_reason(expression: str) -> str:
    """Why an invariant is not evaluated exactly ('' when it is)."""
    try:
        fhirpathpy.compile(expression, R4_MODEL)
    except Exception as exc:  # the parser raises bare Exceptions
        return f"FHIRPath parse error: {exc}"
    reasons = [text for fn, text in UNSUPPORTED.items() if f"{fn}(" in expression]
    return "; ".join(reasons)


class InvariantEngine:
    """Parses each expression once; evaluates it on an element with %resource / %rootResource."""

    def __init__(
        self,
        member_of: Callable[[Any, str], bool],
        conforms_to: Callable[[dict, str], bool],
    ) -> None:
        self._member_of = member_of
        self._conforms_to = conforms_to
        self._compiled: dict[str, Callable[..., list]] = {}
        self._root: dict | None = None
        self.options = {
            "userInvocationTable": {
                "hasValue": {"fn": _has_value, "arity": {0: []}},
                "memberOf": {"fn": self._fn_member_of, "arity": {1: ["String"]}},
                "resolve": {"fn": self._fn_resolve, "arity": {0: []}},
                "conformsTo": {"fn": self._fn_conforms_to, "arity": {1: ["String"]}},
                "htmlChecks": {"fn": _html_checks, "arity": {0: []}},
            },
            "traceFn": _no_trace,
        }

    def evaluate(
        self, expression: str, data: Any, type_path: str, resource: dict, root: dict
    ) -> bool | None:
        """True/False, or None when evaluation raised (reported as not evaluable)."""
        fn = self._compiled.get(expression)
        if fn is None:
            fn = fhirpathpy.compile(expression, R4_MODEL, self.options)
            self._compiled[expression] = fn
        self._root = root
        try:
            result = fn(
                ResourceNode.create_node(data, type_path),
                {"resource": resource, "rootResource": root},
            )
        except Exception:  # fhirpathpy raises bare Exceptions for type and arity errors
            return None
        if not result:
            return True  # an empty result does not fail the constraint
        return all(r is True for r in result)

    def _fn_member_of(self, inputs: list, url: str) -> list:
        return [all(self._member_of(i, url) for i in inputs)] if inputs else []

    def _fn_conforms_to(self, inputs: list, url: str) -> list:
        return [all(isinstance(i, dict) and self._conforms_to(i, url) for i in inputs)]

    def _fn_resolve(self, inputs: list) -> list:
        out = []
        root = self._root or {}
        for ref in inputs:
            target = ref.get("reference") if isinstance(ref, dict) else ref
            if not isinstance(target, str):
                continue
            found = _resolve(target, root)
            if found is not None:
                out.append(ResourceNode.create_node(found, found.get("resourceType")))
        return out


def _resolve(target: str, root: dict) -> dict | None:
    if target.startswith("#"):
        return next((c for c in root.get("contained", []) if c.get("id") == target[1:]), None)
    for entry in root.get("entry", []) if root.get("resourceType") == "Bundle" else []:
        res = entry.get("resource") or {}
        if entry.get("fullUrl") == target or (
            f"{res.get('resourceType')}/{res.get('id')}" == target
        ):
            return res
    parts = target.split("/_history/")[0].rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return {"resourceType": parts[-2], "id": parts[-1]}
    return None


def _has_value(inputs: list) -> list:
    return [len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], dict | list)]


def _html_checks(inputs: list) -> list:
    return [all(isinstance(i, str) and not _SCRIPT.search(i) for i in inputs)]


def _no_trace(label: str, value: object) -> None:
    """trace() calls inside IG invariants must not print during validation."""
