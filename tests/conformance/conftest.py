"""Shared fixtures for the conformance tests."""

from __future__ import annotations

import pytest

from pipelines.conformance import Validator


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator()
