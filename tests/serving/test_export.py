"""FHIR Bulk Data NDJSON export of the serving store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from serving.export import MANIFEST_FILE, export_ndjson
from serving.load import load_resources

T0 = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)


def resource(rtype: str, rid: str) -> dict:
    return {"resourceType": rtype, "id": rid, "meta": {"profile": [f"urn:{rtype}"]}}


def ndjson_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_export_writes_type_files_and_manifest(engine: sa.Engine, tmp_path: Path) -> None:
    providers = [resource("Practitioner", rid) for rid in ("c", "a", "b")]
    load_resources(engine, [providers, [resource("Coverage", "cov1")]], load_time=T0)
    load_resources(engine, [providers[:2]], load_time=T1, snapshot_types=["Practitioner"])
    out = tmp_path / "export"

    manifest = export_ndjson(engine, out)

    assert manifest == {
        "transactionTime": T1.isoformat(),
        "request": "interop export",
        "requiresAccessToken": False,
        "output": [
            {"type": "Coverage", "url": "Coverage.ndjson", "count": 1},
            {"type": "Practitioner", "url": "Practitioner.ndjson", "count": 2},
        ],
        "error": [],
    }
    assert json.loads((out / MANIFEST_FILE).read_text()) == manifest
    lines = ndjson_lines(out / "Practitioner.ndjson")
    assert [json.loads(line)["id"] for line in lines] == ["a", "c"]
    assert all(" " not in line for line in lines)
    first = json.loads(lines[0])
    assert first["meta"] == {
        "profile": ["urn:Practitioner"],
        "versionId": "1",
        "lastUpdated": T0.isoformat(),
    }
    assert sorted(path.name for path in out.iterdir()) == [
        "Coverage.ndjson",
        "Practitioner.ndjson",
        MANIFEST_FILE,
    ]


def test_export_is_deterministic(engine: sa.Engine, tmp_path: Path) -> None:
    load_resources(engine, [[resource("Patient", str(n)) for n in range(30)]], load_time=T0)

    first = export_ndjson(engine, tmp_path / "one")
    second = export_ndjson(engine, tmp_path / "two")

    assert first == second
    for name in ("Patient.ndjson", MANIFEST_FILE):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_export_removes_stale_type_files(engine: sa.Engine, tmp_path: Path) -> None:
    load_resources(
        engine, [[resource("Location", "l1")]], load_time=T0, snapshot_types=["Location"]
    )
    out = tmp_path / "export"
    export_ndjson(engine, out)
    load_resources(engine, [[resource("Patient", "p1")]], load_time=T1, snapshot_types=["Location"])

    manifest = export_ndjson(engine, out, transaction_time=T1 + timedelta(hours=1))

    assert manifest["output"] == [{"type": "Patient", "url": "Patient.ndjson", "count": 1}]
    assert manifest["transactionTime"] == "2026-12-05T03:00:00+00:00"
    assert not (out / "Location.ndjson").exists()
    assert sorted(path.name for path in out.iterdir()) == ["Patient.ndjson", MANIFEST_FILE]


def test_export_of_empty_store(engine: sa.Engine, tmp_path: Path) -> None:
    out = tmp_path / "export"
    manifest = export_ndjson(engine, out, transaction_time=T0)
    assert manifest["output"] == []
    assert [path.name for path in out.iterdir()] == [MANIFEST_FILE]
