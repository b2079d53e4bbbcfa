"""Shared test settings: where the read-only IG packages and source samples are."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("INTEROP_SHARED_DIR", REPO_ROOT.parent / "shared"))
IG_DIR = Path(os.environ.get("INTEROP_IG_DIR", SHARED / "fhir-ig"))
CARIN_EXAMPLES = IG_DIR / "hl7.fhir.us.carin-bb" / "2.0.0" / "package" / "example"


@pytest.fixture
def carin_examples() -> Path:
    if not CARIN_EXAMPLES.is_dir():
        pytest.skip(f"CARIN BB package not found at {CARIN_EXAMPLES} (set INTEROP_IG_DIR)")
    return CARIN_EXAMPLES


@pytest.fixture
def plan_net_examples() -> Path:
    folder = IG_DIR / "hl7.fhir.us.davinci-pdex-plan-net" / "1.1.0" / "package" / "example"
    if not folder.is_dir():
        pytest.skip(f"Plan-Net package not found at {folder} (set INTEROP_IG_DIR)")
    return folder
