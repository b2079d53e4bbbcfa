"""interop validate on an export folder: the Bulk Data manifest beside the NDJSON is not a resource."""

import json
from pathlib import Path

from pipelines.cli import main


def test_validate_skips_the_bulk_manifest_of_an_export_folder(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps({"transactionTime": "2026-12-04T07:00:00+00:00", "output": [], "error": []})
    )
    (tmp_path / "Basic.ndjson").write_text(
        json.dumps({"resourceType": "Basic", "id": "b1", "code": {"text": "x"}}) + "\n"
    )
    assert main(["validate", str(tmp_path)]) == 0
    assert main(["validate", str(tmp_path / "manifest.json")]) == 1
