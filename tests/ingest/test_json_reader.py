"""JSON extracts: records exploded over their nested arrays, row numbers are record numbers."""

import json
from pathlib import Path

import pytest

from pipelines.ingest.json_reader import JsonExtractError, JsonExtractReader, column_paths
from pipelines.ingest.layouts import SOURCES_DIR, load_layout
from pipelines.ingest.reader import HeaderMismatchError

PLANS = load_layout(SOURCES_DIR / "formulary" / "qhp_plan.yaml")
DRUGS = load_layout(SOURCES_DIR / "formulary" / "qhp_drug.yaml")


def _rows(tmp_path: Path, layout, document: str) -> tuple[JsonExtractReader, list[dict]]:
    path = tmp_path / "extract.json"
    path.write_text(document)
    reader = JsonExtractReader(path, layout, source_name="formulary/extract.json")
    return reader, [row for table in reader.batches() for row in table.to_pylist()]


def test_plans_explode_to_one_row_per_tier_and_cost_sharing(tmp_path: Path) -> None:
    plan = {
        "plan_id_type": "HIOS-PLAN-ID", "plan_id": "21989CT0030001", "marketing_name": "Silver",
        "summary_url": "https://example.org/s", "network": [{"network_tier": "PREFERRED"}],
        "formulary": [
            {"drug_tier": "GENERIC", "mail_order": True, "cost_sharing": [
                {"pharmacy_type": "1-MONTH-IN-RETAIL", "copay_amount": 10, "copay_opt": None},
                {"pharmacy_type": "3-MONTH-IN-MAIL", "copay_amount": 25.5, "copay_opt": "AFTER-DEDUCTIBLE"}]},
            {"drug_tier": "SPECIALTY", "mail_order": False, "cost_sharing": [
                {"pharmacy_type": "1-MONTH-IN-RETAIL", "coinsurance_rate": 0.3}]},
        ],
    }  # fmt: skip
    reader, rows = _rows(tmp_path, PLANS, json.dumps([plan, plan]))
    assert reader.rows_in == 6 and not reader.rejections
    assert [r["row_number"] for r in rows] == [1, 1, 1, 2, 2, 2]
    first, second, third = rows[:3]
    assert (first["plan_id"], first["drug_tier"], first["pharmacy_type"]) == (
        "21989CT0030001", "GENERIC", "1-MONTH-IN-RETAIL",
    )  # fmt: skip
    assert (first["copay_amount"], first["copay_option"], first["mail_order"]) == ("10", "", "true")
    assert second["copay_amount"] == "25.5" and second["network_tier"] == "PREFERRED"
    assert (third["drug_tier"], third["coinsurance_rate"], third["mail_order"]) == (
        "SPECIALTY", "0.3", "false",
    )  # fmt: skip


def test_a_record_without_its_array_still_gives_a_row(tmp_path: Path) -> None:
    reader, rows = _rows(tmp_path, DRUGS, '[{"rxnorm_id": "313782", "drug_name": "x"}, 7]')
    assert [r["rxnorm_id"] for r in rows] == ["313782"] and rows[0]["plan_id"] == ""
    assert reader.rows_in == 2
    assert [(r.row_number, r.reason) for r in reader.rejections] == [(2, "not_a_record")]


def test_a_file_that_is_not_an_array_fails_whole(tmp_path: Path) -> None:
    path = tmp_path / "drugs.json"
    path.write_text('{"rxnorm_id": "1"}')
    with pytest.raises(HeaderMismatchError, match="JSON array"):
        JsonExtractReader(path, DRUGS, source_name="formulary/drugs.json").check_header()


def test_malformed_json_fails_naming_the_last_good_record(tmp_path: Path) -> None:
    with pytest.raises(JsonExtractError, match="after record 1"):
        _rows(tmp_path, DRUGS, '[{"rxnorm_id": "1", "drug_name": "a"}, {"rxnorm_id": ')


def test_column_paths_split_at_the_deepest_exploded_array() -> None:
    paths = column_paths(
        ["plan_id", "formulary.drug_tier", "formulary.cost_sharing.copay_amount"],
        ("formulary", "formulary.cost_sharing"),
    )
    assert [(p.scope, p.keys) for p in paths] == [
        (0, ("plan_id",)), (1, ("drug_tier",)), (2, ("copay_amount",)),
    ]  # fmt: skip
