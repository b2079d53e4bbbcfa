"""Resource validation for the pipeline: the compiled profile engine plus CARIN's unenforceable rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.conformance import default_validator

Resource = dict[str, Any]


@dataclass(frozen=True)
class ProfileRule:
    """`holds(resource)` must be true for resources whose meta.profile contains `profile_part`."""

    profile_part: str
    path: str
    message: str
    holds: Callable[[Resource], bool]


def _codes(concept: dict | None) -> set[str]:
    return {coding.get("code") for coding in (concept or {}).get("coding", [])}


def _care_team_types(resource: Resource, roles: set[str], resource_type: str) -> bool:
    return all(
        member["provider"]["reference"].startswith(f"{resource_type}/")
        for member in resource.get("careTeam", [])
        if _codes(member.get("role")) & roles
    )


EOB = "C4BB-ExplanationOfBenefit"

# CARIN BB 2.0.0 states these rules, but its own invariants cannot enforce them: EOB-insurance-focal
# sits on the insurance element, the careTeam invariants navigate off a Boolean, and the pharmacy
# one demands an Organization as prescriber, who is a person.
PROFILE_RULES: tuple[ProfileRule, ...] = (
    ProfileRule(EOB, "ExplanationOfBenefit.insurance", "exactly one insurance must be focal",
                lambda r: sum(1 for i in r.get("insurance", []) if i.get("focal") is True) == 1),
    ProfileRule("Institutional", "ExplanationOfBenefit.careTeam",
                "attending and referring care team members must be Practitioners",
                lambda r: _care_team_types(r, {"attending", "referring"}, "Practitioner")),
    ProfileRule("Professional", "ExplanationOfBenefit.careTeam",
                "rendering and referring care team members must be Practitioners",
                lambda r: _care_team_types(r, {"rendering", "referring"}, "Practitioner")),
    ProfileRule("Pharmacy", "ExplanationOfBenefit.careTeam",
                "the prescribing care team member must be a Practitioner",
                lambda r: _care_team_types(r, {"prescribing"}, "Practitioner")),
)  # fmt: skip


# The engine quotes a malformed primitive (useful at a developer's desk); quarantine messages
# must not carry a member's birth date or name, so the pipeline keeps the path and the rule only.
_QUOTED_VALUE = re.compile(r": (?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s:]+) is not a valid ")


def _without_value(diagnostics: str) -> str:
    return _QUOTED_VALUE.sub(": the value is not a valid ", diagnostics)


def validate(resource: Resource) -> list[str]:
    """Every error found, as 'path: message (profile)'; empty means valid.

    The compiled profile engine checks R4 structure and every profile rule of meta.profile;
    the rules above add what CARIN 2.0.0 intends but cannot evaluate.
    """
    issues = [
        _without_value(issue.diagnostics)
        for issue in default_validator().validate(resource)
        if issue.severity in ("error", "fatal")
    ]
    profiles = resource.get("meta", {}).get("profile", [])
    for rule in PROFILE_RULES:
        profile = next((p for p in profiles if rule.profile_part in p), None)
        if profile and not rule.holds(resource):
            issues.append(f"{rule.path}: {rule.message} ({profile.split('/')[-1]})")
    return issues
