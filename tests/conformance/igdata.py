"""The IG folder and its example instances (tests needing them skip when the folder is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.conformance.packages import IG_PACKAGES, default_ig_dir

IG_DIR = default_ig_dir()
HAVE_IG = (IG_DIR / "hl7.fhir.us.carin-bb").is_dir()
requires_ig = pytest.mark.skipif(not HAVE_IG, reason=f"IG packages not found at {IG_DIR}")


def example_files() -> list[tuple[str, Path, str | None]]:
    """(test id, path, profile override) for every example instance shipped in the IG packages."""
    out = []
    if not HAVE_IG:
        return out
    for name, folder in IG_PACKAGES:
        example_dir = IG_DIR / name / folder / "package" / "example"
        for path in sorted(example_dir.glob("*.json")) if example_dir.is_dir() else []:
            override = None
            if folder == "1.1.0-differential":
                # STU1 examples carry the unversioned canonical that STU2 reuses; pin 1.1.0.
                profile = json.loads(path.read_text("utf-8"))["meta"]["profile"][0]
                override = f"{profile}|1.1.0"
            out.append((f"{name}#{folder}/{path.name}", path, override))
    return out


def load(path: Path) -> dict:
    return json.loads(path.read_text("utf-8"))
