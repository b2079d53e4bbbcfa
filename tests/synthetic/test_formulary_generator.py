"""The synthetic formulary: real RxNorm drugs, the variety the issue asks for, and reproducible."""

import csv
import json
from pathlib import Path

from pipelines.synthetic.formulary import VOLUME_RXCUI_START, drug_list, write_sample_formulary
from tests.conftest import REPO_ROOT

COMMITTED = REPO_ROOT / "sample_inputs" / "formulary"


def _pipe_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(), delimiter="|"))


def test_committed_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    write_sample_formulary(tmp_path)
    for path in sorted(COMMITTED.iterdir()):
        assert (tmp_path / "formulary" / path.name).read_bytes() == path.read_bytes(), path.name


def test_sample_holds_the_variety_the_formulary_needs() -> None:
    drugs = _pipe_rows(COMMITTED / "basic_drugs_formulary_file.txt")
    names = _pipe_rows(COMMITTED / "rxnorm_names.txt")
    plans = _pipe_rows(COMMITTED / "plan_information.txt")
    costs = _pipe_rows(COMMITTED / "beneficiary_cost_file.txt")
    assert len({d["RXCUI"] for d in drugs}) >= 200
    assert {n["TTY"] for n in names} >= {"SCD", "SBD", "BPCK"}
    assert {d["TIER_LEVEL_VALUE"] for d in drugs} == {"1", "2", "3", "4", "5"}
    assert len({(p["CONTRACT_ID"], p["PLAN_ID"]) for p in plans}) >= 3
    assert len({p["FORMULARY_ID"] for p in plans}) == 2
    for flag in ("PRIOR_AUTHORIZATION_YN", "STEP_THERAPY_YN", "QUANTITY_LIMIT_YN"):
        assert {d[flag] for d in drugs} == {"Y", "N"}, flag
    assert {c["COST_TYPE_PREF"] for c in costs} == {"1", "2"}
    assert {c["DED_APPLIES_YN"] for c in costs} == {"Y", "N"}
    assert {c["TIER_SPECIALTY_YN"] for c in costs} == {"Y", "N"}
    assert any(c["COST_TYPE_MAIL_PREF"] in ("1", "2") for c in costs)
    qhp = json.loads((COMMITTED / "drugs.json").read_text())
    assert {p["drug_tier"] for d in qhp for p in d["plans"]} >= {"GENERIC", "SPECIALTY"}


def test_volume_drugs_past_the_real_table_use_rxcuis_rxnorm_never_assigns() -> None:
    drugs = drug_list(300)
    assert len({d.rxcui for d in drugs}) == 300
    assert all(int(d.rxcui) >= VOLUME_RXCUI_START for d in drugs[205:])
    assert all(int(d.rxcui) < VOLUME_RXCUI_START for d in drugs[:205])
