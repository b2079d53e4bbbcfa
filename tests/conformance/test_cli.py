"""`interop validate` and `interop compile-profiles` through the argparse wiring."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest

from pipelines.conformance.cli import add_commands

from .fixtures import c4bb_organization, c4bb_practitioner
from .igdata import IG_DIR, requires_ig


def run(argv: list[str]) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="interop")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    out = io.StringIO()
    if args.func.__name__ == "run_validate":
        return args.func(args, out), out.getvalue()
    return args.func(args), out.getvalue()


def test_validate_files_folders_and_ndjson(tmp_path: Path) -> None:
    good = c4bb_organization()
    bad = c4bb_practitioner()
    bad["gender"] = "robot"
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "org.json").write_text(json.dumps(good))
    ndjson = tmp_path / "batch.ndjson"
    ndjson.write_text(json.dumps(good) + "\n\n" + json.dumps(bad) + "\n{not json\n")
    outcomes = tmp_path / "outcomes.ndjson"
    code, text = run(["validate", str(tmp_path / "dir"), str(ndjson), "--outcomes", str(outcomes)])
    assert code == 1
    assert "C4BB-Organization|2.0.0" in text and "C4BB-Practitioner|2.0.0" in text
    lines = [json.loads(x) for x in outcomes.read_text().splitlines()]
    assert [(x["source"].endswith(".ndjson"), x["line"]) for x in lines] == [
        (False, None),
        (True, 1),
        (True, 3),
        (True, 4),
    ]
    practitioner = lines[2]
    assert practitioner["resourceType"] == "Practitioner" and practitioner["id"] == "pr-1"
    assert practitioner["profiles"] == [
        "http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-Practitioner|2.0.0"
    ]
    issues = practitioner["outcome"]["issue"]
    assert any(
        i["expression"] == ["Practitioner.gender"] and i["severity"] == "error" for i in issues
    )
    assert lines[3]["outcome"]["issue"][0]["severity"] == "error"  # unreadable line


def test_validate_exit_zero_when_clean_and_coverage(tmp_path: Path) -> None:
    path = tmp_path / "org.json"
    path.write_text(json.dumps(c4bb_organization()))
    cov = tmp_path / "coverage.json"
    code, _ = run(["validate", str(path), "--coverage", str(cov)])
    assert code == 0
    report = json.loads(cov.read_text())
    (org,) = report["profiles"]
    assert org["instances"] == 1
    assert "Organization.name" in org["populated"]
    assert "Organization.telecom" in org["missing"]


@pytest.mark.ig
@requires_ig
def test_compile_profiles_check_and_write(tmp_path: Path) -> None:
    code, _ = run(["compile-profiles", "--ig", str(IG_DIR), "--check"])
    assert code == 0
    code, _ = run(["compile-profiles", "--ig", str(IG_DIR), "--out", str(tmp_path)])
    assert code == 0 and (tmp_path / "structures.json").exists()
    (tmp_path / "manifest.json").write_text("{}")
    assert run(["compile-profiles", "--ig", str(IG_DIR), "--out", str(tmp_path), "--check"])[0] == 1


def test_compile_profiles_missing_ig(tmp_path: Path) -> None:
    assert run(["compile-profiles", "--ig", str(tmp_path / "nope")])[0] == 2
