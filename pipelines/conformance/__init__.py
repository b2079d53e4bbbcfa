"""Profile conformance: compiled IG rules, a fast validator and must-support coverage."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from pipelines.conformance.coverage import CoverageReport, ProfileCoverage
from pipelines.conformance.coverage import must_support_coverage as _coverage
from pipelines.conformance.validator import Issue, Validator


@lru_cache(maxsize=1)
def default_validator() -> Validator:
    """The process-wide validator over the committed rule set."""
    return Validator()


def validate_resource(resource: dict, profile: str | None = None) -> list[Issue]:
    """Issues for one resource against `profile`, else the profiles in its meta.profile."""
    return default_validator().validate(resource, profile)


def must_support_coverage(resources: Iterable[dict]) -> CoverageReport:
    """Per profile: the must-support elements, slices and extensions populated and missing."""
    return _coverage(resources, default_validator())


__all__ = [
    "CoverageReport",
    "Issue",
    "ProfileCoverage",
    "Validator",
    "default_validator",
    "must_support_coverage",
    "validate_resource",
]
