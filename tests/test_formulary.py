"""The formulary domain end to end on sample_inputs/formulary: both IG versions, snapshots, quarantine."""

import json
import shutil
from pathlib import Path

import pytest

from pipelines.fhir import formulary as usdf
from pipelines.fhir.ids import DEVELOPMENT_ID_KEY, IdMaker
from pipelines.fhir.validation import validate
from serving.store import read_current, read_history
from tests.conftest import REPO_ROOT
from tests.test_end_to_end import Pipeline

SAMPLE = REPO_ROOT / "sample_inputs" / "formulary"
IDS = IdMaker.from_secret(DEVELOPMENT_ID_KEY)
DRUGS_FILE = "basic_drugs_formulary_file.txt"


@pytest.fixture
def formulary(tmp_path: Path) -> Pipeline:
    """A drop of the formulary files alone, so each test runs one domain."""
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE, inbox / "formulary")
    return Pipeline(inbox, tmp_path / "home", f"sqlite:///{tmp_path / 'serving.db'}")


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    header, *rows = path.read_text().splitlines()
    return header.split("|"), [row.split("|") for row in rows]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.write_text("\n".join("|".join(r) for r in [header, *rows]) + "\n")


def _profiles(resources: list[dict]) -> set[str]:
    return {p for r in resources for p in r["meta"]["profile"]}


def test_both_versions_are_served_valid_and_versioned(formulary: Pipeline, tmp_path: Path) -> None:
    outcome = formulary.run()
    assert outcome.success, outcome.report()
    assert outcome.warnings["served_resources:formulary_must_support_elements_populated"]
    exported = formulary.export(tmp_path / "export")
    assert _profiles(exported["MedicationKnowledge"]) == {
        usdf.FORMULARY_DRUG_PROFILE, usdf.STU1_FORMULARY_DRUG_PROFILE,
    }  # fmt: skip
    # One canonical, two versions: STU2 once per drug, STU1 once per drug and plan.
    stu2 = [r for r in exported["MedicationKnowledge"] if r["meta"]["profile"][0].endswith("2.0.1")]
    stu1 = [r for r in exported["MedicationKnowledge"] if r["meta"]["profile"][0].endswith("1.1.0")]
    assert len({r["code"]["coding"][0]["code"] for r in stu2}) == len(stu2) == 205
    assert len(stu1) > len(stu2)
    assert _profiles(exported["List"]) == {usdf.COVERAGE_PLAN_PROFILE}
    assert _profiles(exported["InsurancePlan"]) == {usdf.PAYER_PLAN_PROFILE, usdf.FORMULARY_PROFILE}
    assert _profiles(exported["Basic"]) == {usdf.FORMULARY_ITEM_PROFILE}
    assert _profiles(exported["Location"]) == {usdf.LOCATION_PROFILE}
    # Both inputs feed both outputs: Part D contract-plan-segments and QHP HIOS plan ids.
    plan_ids = {r["identifier"][0]["value"] for r in exported["List"]}
    assert plan_ids == {"H3312-001-000", "H3312-002-000", "S5810-003-000", "21989CT0030001", "21989CT0030002"}  # fmt: skip
    invalid = {r["id"]: validate(r) for rs in exported.values() for r in rs if validate(r)}
    assert invalid == {}


def _basic_id(formulary_id: str, rxcui: str) -> str:
    return IDS("Basic", usdf.item_key(f"partd|{formulary_id}", rxcui))


def test_second_drop_moves_a_tier_and_tombstones_a_dropped_drug(
    formulary: Pipeline, tmp_path: Path
) -> None:
    assert formulary.run().success
    first = formulary.export(tmp_path / "first")
    path = formulary.inbox / "formulary" / DRUGS_FILE
    header, rows = _rows(path)
    formulary_at, rxcui_at, tier_at = (
        header.index(c) for c in ("FORMULARY_ID", "RXCUI", "TIER_LEVEL_VALUE")
    )
    moved, dropped = rows[0], rows[1]
    moved[tier_at] = "3" if moved[tier_at] != "3" else "2"
    _write(path, header, [row for row in rows if row is not dropped])

    outcome = formulary.run()
    assert outcome.success, outcome.report()
    moved_id = _basic_id(moved[formulary_at], moved[rxcui_at])
    dropped_id = _basic_id(dropped[formulary_at], dropped[rxcui_at])
    assert [v.version_id for v in read_history(formulary.engine, "Basic", moved_id)] == [1, 2]
    tombstone = read_current(formulary.engine, "Basic", dropped_id)
    assert tombstone is not None and tombstone.deleted
    # Everything else keeps its version: exactly one item changed, one item gone.
    second = formulary.export(tmp_path / "second")
    before = {r["id"]: r["meta"]["versionId"] for r in first["Basic"]}
    after = {r["id"]: r["meta"]["versionId"] for r in second["Basic"]}
    assert set(before) - set(after) == {dropped_id}
    assert {i for i in after if after[i] != before[i]} == {moved_id}
    # The STU1 copies of the dropped drug go too, one per plan on that formulary.
    stu1_before = {r["id"] for r in first["MedicationKnowledge"] if r.get("extension")}
    stu1_after = {r["id"] for r in second["MedicationKnowledge"] if r.get("extension")}
    assert stu1_before - stu1_after and not stu1_after - stu1_before


def test_bad_rows_are_quarantined_with_each_formulary_reason(formulary: Pipeline) -> None:
    folder = formulary.inbox / "formulary"
    header, rows = _rows(folder / DRUGS_FILE)
    col = {name: header.index(name) for name in header}
    template = rows[0]

    def variant(**changes: str) -> list[str]:
        row = list(template)
        for name, value in changes.items():
            row[col[name]] = value
        return row

    bad = {
        "unknown_tier": variant(RXCUI="313782", FORMULARY_ID="00026002", TIER_LEVEL_VALUE="7"),
        "invalid_rxcui": variant(RXCUI="31A782"),
        "invalid_ndc": variant(RXCUI="197361", NDC="12345"),
        "formulary_without_plan": variant(FORMULARY_ID="00099999"),
        "quantity_limit_incomplete": variant(
            RXCUI="308136", QUANTITY_LIMIT_YN="Y", QUANTITY_LIMIT_AMOUNT="", QUANTITY_LIMIT_DAYS=""
        ),
    }
    # Two rows for one drug and formulary that disagree on the tier: both held back.
    conflicting = [variant(RXCUI="1000091", NDC="00093742456"), variant(RXCUI="1000091", NDC="00093742457", TIER_LEVEL_VALUE="5")]  # fmt: skip
    # The drugs the bad rows name appear nowhere else, so each row breaks only its own rule.
    kept = [r for r in rows if r[col["RXCUI"]] not in ("313782", "1000091", "197361", "308136")]
    _write(folder / DRUGS_FILE, header, [*kept, *bad.values(), *conflicting])
    first_bad_line = len(kept) + 2
    drugs = json.loads((folder / "drugs.json").read_text())
    drugs[0]["plans"][0]["drug_tier"] = "BRAND"  # not a tier of that plan's formulary
    drugs[1]["plans"][0]["plan_id"] = "99999ZZ9999999"  # no such plan
    (folder / "drugs.json").write_text(json.dumps(drugs))

    outcome = formulary.run()
    assert outcome.success, outcome.report()
    with formulary.staging() as con:
        quarantined = con.execute(
            "SELECT source_file, row_number, reason_code, source_column, message FROM quarantine "
            "WHERE domain = 'formulary'"
        ).fetchall()
    found = {(f, r): (reason, column) for f, r, reason, column, _ in quarantined}
    drug_file = f"formulary/{DRUGS_FILE}"
    for offset, reason in enumerate(bad):
        assert found[(drug_file, first_bad_line + offset)][0] == reason, (reason, found)
    conflict_lines = {first_bad_line + len(bad), first_bad_line + len(bad) + 1}
    assert {found[(drug_file, line)][0] for line in conflict_lines} == {"conflicting_rows"}
    assert found[("formulary/drugs.json", 1)] == ("unknown_tier", "plans.drug_tier")
    assert found[("formulary/drugs.json", 2)] == ("formulary_without_plan", "plans.plan_id")
    assert all("31A782" not in message and "99999ZZ" not in message for *_, message in quarantined)
    assert outcome.checks["formulary_staged:every_source_row_staged_or_quarantined"]
