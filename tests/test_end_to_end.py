"""The whole asset graph on sample_inputs/: golden export, idempotency, change, bad input, PostgreSQL."""

import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import sqlalchemy as sa
from fhir.resources.R4B import get_fhir_model_class

from pipelines.assets.accounting import coverage_gaps, explained_gaps
from pipelines.fhir.ids import DEVELOPMENT_ID_KEY
from pipelines.fhir.systems import EOB_PROFILES
from pipelines.fhir.validation import validate
from pipelines.resources import PipelineSettings, ServingStore, StagingDatabase
from pipelines.run import RunOutcome, run_pipeline
from serving.export import export_ndjson
from serving.store import create_schema, history_table, make_engine, read_current, read_history
from tests.conftest import REPO_ROOT
from tests.serving.conftest import BACKENDS, serving_engine

SAMPLE_INPUTS = REPO_ROOT / "sample_inputs"
GOLDEN = REPO_ROOT / "tests" / "golden"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"


class Pipeline:
    """One installation: an inbox, a staging DuckDB and a serving store, run as many times as asked."""

    def __init__(self, inbox: Path, home: Path, serving_url: str) -> None:
        self.inbox, self.home, self.serving_url = inbox, home, serving_url

    def run(self) -> RunOutcome:
        resources = {
            "staging": StagingDatabase(path=str(self.home / "staging.duckdb")),
            "serving": ServingStore(url=self.serving_url),
            "settings": PipelineSettings(
                inbox=str(self.inbox), home=str(self.home), id_key=DEVELOPMENT_ID_KEY
            ),
        }
        return run_pipeline(resources=resources, instance=dg.DagsterInstance.ephemeral())

    @property
    def engine(self) -> sa.Engine:
        return make_engine(self.serving_url)

    def export(self, out: Path) -> dict[str, list[dict]]:
        export_ndjson(self.engine, out)
        return {
            path.stem: [json.loads(line) for line in path.read_text().splitlines()]
            for path in sorted(out.glob("*.ndjson"))
        }

    def staging(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.home / "staging.duckdb"))


def _copy_inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_INPUTS, inbox)
    return inbox


@pytest.fixture(params=BACKENDS)
def pipeline(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pipeline]:
    with serving_engine(request.param, tmp_path) as engine:
        url = engine.url.render_as_string(hide_password=False)
        yield Pipeline(_copy_inbox(tmp_path), tmp_path / "home", url)


@pytest.fixture
def sqlite_pipeline(tmp_path: Path) -> Pipeline:
    return Pipeline(
        _copy_inbox(tmp_path), tmp_path / "home", f"sqlite:///{tmp_path / 'serving.db'}"
    )


def _without_last_updated(resource: dict) -> dict:
    meta = {k: v for k, v in resource["meta"].items() if k != "lastUpdated"}
    return {**resource, "meta": meta}


def test_sample_drop_matches_golden_export(sqlite_pipeline: Pipeline, tmp_path: Path) -> None:
    outcome = sqlite_pipeline.run()
    assert outcome.success, outcome.report()
    exported = sqlite_pipeline.export(tmp_path / "export")
    if UPDATE_GOLDEN:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        GOLDEN.mkdir()
        for resource_type, resources in exported.items():
            lines = [json.dumps(_without_last_updated(r), sort_keys=True) for r in resources]
            (GOLDEN / f"{resource_type}.ndjson").write_text("\n".join(lines) + "\n")
    golden = {
        path.stem: [json.loads(line) for line in path.read_text().splitlines()]
        for path in sorted(GOLDEN.glob("*.ndjson"))
    }
    assert sorted(exported) == sorted(golden)
    for resource_type, resources in exported.items():
        assert [_without_last_updated(r) for r in resources] == golden[resource_type], resource_type


def test_export_holds_every_profile_and_every_resource_is_valid(
    sqlite_pipeline: Pipeline, tmp_path: Path
) -> None:
    assert sqlite_pipeline.run().success
    exported = sqlite_pipeline.export(tmp_path / "export")
    profiles = Counter(
        p.split("|")[0].rsplit("/", 1)[-1]
        for rs in exported.values()
        for r in rs
        for p in r["meta"]["profile"]
    )
    expected = {p.split("|")[0].rsplit("/", 1)[-1] for p in EOB_PROFILES.values()} | {
        "C4BB-Patient", "C4BB-Coverage", "C4BB-Organization", "C4BB-Practitioner", "C4BB-RelatedPerson",
    }  # fmt: skip
    assert expected <= set(profiles), profiles
    invalid = {r["id"]: validate(r) for rs in exported.values() for r in rs if validate(r)}
    assert invalid == {}
    # Independently of our engine, every resource parses as R4 structure in fhir.resources R4B.
    for resource_type, resources in exported.items():
        model = get_fhir_model_class(resource_type)
        for resource in resources:
            model.model_validate(resource)
    eobs = exported["ExplanationOfBenefit"]
    assert {e["status"] for e in eobs} == {"active", "cancelled"}
    assert any(
        rel["relationship"]["coding"][0]["code"] == "replacedby"
        for e in eobs
        for rel in e.get("related", [])
    )
    assert any(
        rel["relationship"]["coding"][0]["code"] == "prior"
        for e in eobs
        for rel in e.get("related", [])
    )


def test_sample_populates_every_must_support_element(sqlite_pipeline: Pipeline) -> None:
    outcome = sqlite_pipeline.run()
    assert outcome.success, outcome.report()
    with sqlite_pipeline.staging() as con:
        gaps = {
            profile.rsplit("/", 1)[-1]: sorted(missing)
            for domain in ("members", "claims", "formulary")
            for profile, missing in coverage_gaps(con, domain).items()
            if missing
        }
    # The only gaps are the ones mappings/must_support_gaps.yaml explains, so the checks pass.
    assert gaps == {label: sorted(items) for label, items in explained_gaps().items()}
    assert outcome.warnings and all(outcome.warnings.values()), outcome.report()


def _history_rows(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(history_table)).scalar_one()


def test_rerun_changes_nothing_and_an_edited_claim_gets_one_new_version(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    assert pipeline.run().success
    first = pipeline.export(tmp_path / "first")
    history = _history_rows(pipeline.engine)

    second_run = pipeline.run()
    assert second_run.success, second_run.report()
    assert pipeline.export(tmp_path / "second") == first
    assert _history_rows(pipeline.engine) == history

    claim_id, eob_id = _edit_first_paid_professional_claim(pipeline)
    third_run = pipeline.run()
    assert third_run.success, third_run.report()
    assert _history_rows(pipeline.engine) == history + 1
    versions = read_history(pipeline.engine, "ExplanationOfBenefit", eob_id)
    assert [v.version_id for v in versions] == [1, 2]
    current = read_current(pipeline.engine, "ExplanationOfBenefit", eob_id)
    assert current is not None and current.resource["meta"]["versionId"] == "2"
    assert current.resource["identifier"][0]["value"] == claim_id


def _edit_first_paid_professional_claim(pipeline: Pipeline) -> tuple[str, str]:
    """Change the submitted amount of one paid professional claim's header; returns its ids."""
    path = pipeline.inbox / "claims" / "claim_header.txt"
    lines = path.read_text().splitlines()
    header = lines[0].split("|")
    kind, status, amount = (
        header.index(c) for c in ("CLAIM_TYPE_CODE", "STATUS_CODE", "SUBMITTED_AMOUNT")
    )
    for number, line in enumerate(lines[1:], start=1):
        values = line.split("|")
        if values[kind] == "PROF" and values[status] == "P":
            values[amount] = f"{float(values[amount]) + 1:.2f}"
            lines[number] = "|".join(values)
            path.write_text("\n".join(lines) + "\n")
            from pipelines.fhir.ids import IdMaker

            return values[0], IdMaker.from_secret(DEVELOPMENT_ID_KEY)(
                "ExplanationOfBenefit", values[0]
            )
    raise AssertionError("the sample has no paid professional claim")


def _mutate_row(path: Path, match: dict[str, str], changes: dict[str, str], nth: int = 0) -> int:
    """Apply `changes` to the nth data row whose columns equal `match`; returns its line number."""
    lines = path.read_bytes().split(b"\n")
    header = lines[0].decode().split("|")
    seen = 0
    for number, raw in enumerate(lines[1:], start=2):
        values = raw.decode().split("|")
        if len(values) == len(header) and all(
            values[header.index(k)] == v for k, v in match.items()
        ):
            seen += 1
            if seen <= nth:
                continue
            for column, value in changes.items():
                values[header.index(column)] = value
            lines[number - 1] = "|".join(values).encode()
            path.write_bytes(b"\n".join(lines))
            return number
    raise AssertionError(f"no row of {path.name} matches {match}")


def _first_value(path: Path, column: str, where: dict[str, str] | None = None) -> str:
    header, *rows = path.read_text().splitlines()
    names = header.split("|")
    for row in rows:
        values = row.split("|")
        if all(values[names.index(k)] == v for k, v in (where or {}).items()):
            return values[names.index(column)]
    raise AssertionError(f"no row of {path.name} matches {where}")


def _row_number(path: Path, claim_id: str) -> int:
    lines = path.read_text(encoding="latin-1").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if line.startswith(f"{claim_id}|"))


def test_bad_rows_are_quarantined_with_file_row_column_and_rule(sqlite_pipeline: Pipeline) -> None:
    claims = sqlite_pipeline.inbox / "claims"
    members = sqlite_pipeline.inbox / "members"
    header_file, line_file = claims / "claim_header.txt", claims / "claim_line.txt"
    prof = _first_value(header_file, "CLAIM_ID", {"CLAIM_TYPE_CODE": "PROF", "STATUS_CODE": "P"})
    outpatient = _first_value(
        header_file, "CLAIM_ID", {"CLAIM_TYPE_CODE": "OP", "STATUS_CODE": "P"}
    )
    expected = {
        ("claims/claim_header.txt", _mutate_row(header_file, {"CLAIM_ID": prof}, {"RECEIVED_DATE": "2026-02-31"})): ("bad_date", "RECEIVED_DATE"),
        ("claims/claim_line.txt", _mutate_row(line_file, {"CLAIM_ID": outpatient, "LINE_NUMBER": "1"}, {"UNITS": "-2"})): ("nonpositive_units", "UNITS"),
        ("claims/pharmacy_claim.txt", _mutate_row(claims / "pharmacy_claim.txt", {"COMPOUND_CODE": "1", "STATUS_CODE": "P"}, {"PRESCRIBER_NPI": "1234567890"})): ("invalid_npi", "PRESCRIBER_NPI"),
        ("claims/pharmacy_claim.txt", _mutate_row(claims / "pharmacy_claim.txt", {"COMPOUND_CODE": "1", "STATUS_CODE": "P"}, {"MEMBER_ID": "NOBODY-1"}, nth=1)): ("unknown_member", "MEMBER_ID"),
        ("members/eligibility.txt", _mutate_row(members / "eligibility.txt", {"RELATIONSHIP_CODE": "19"}, {"BIRTH_DATE": ""})): ("missing_required", "BIRTH_DATE"),
    }  # fmt: skip
    encoding_line = len(header_file.read_text().splitlines()) + 1
    with header_file.open("ab") as handle:
        handle.write("C-BAD|PROF|M1|P||2026-01-0\xe9|".encode("latin-1") + b"\n")
    expected[("claims/claim_header.txt", encoding_line)] = ("bad_encoding", "")

    outcome = sqlite_pipeline.run()
    assert outcome.success, outcome.report()
    with sqlite_pipeline.staging() as con:
        quarantined = {
            (file, row): (reason, column, message)
            for file, row, reason, column, message in con.execute(
                "SELECT source_file, row_number, reason_code, source_column, message FROM quarantine"
            ).fetchall()
        }
        reconciliation = con.execute(
            "SELECT l.source_file, l.rows_in, s.rows_staged FROM landing_counts l "
            "LEFT JOIN staged_counts s USING (load_id, source_file)"
        ).fetchall()
    for key, (reason, column) in expected.items():
        assert key in quarantined, key
        assert quarantined[key][:2] == (reason, column), (key, quarantined[key])
    # The claim whose line broke a rule is held back whole, its header row named as such.
    outpatient_row = _row_number(header_file, outpatient)
    assert quarantined[("claims/claim_header.txt", outpatient_row)][0] == "claim_row_quarantined"
    for file, rows_in, staged in reconciliation:
        held = sum(1 for f, _ in quarantined if f == file)
        assert rows_in == (staged or 0) + held, file
    # Messages carry row references and rules only, never the values themselves.
    assert all("NOBODY-1" not in message for _, _, message in quarantined.values())


def test_header_mismatch_fails_the_raw_asset_and_loads_nothing(sqlite_pipeline: Pipeline) -> None:
    path = sqlite_pipeline.inbox / "claims" / "claim_line.txt"
    text = path.read_text()
    path.write_text(text.replace("UNITS", "UNIT_COUNT", 1))
    outcome = sqlite_pipeline.run()
    assert not outcome.success
    assert "claims_raw" not in outcome.metadata
    assert "UNIT_COUNT" in outcome.failure and "missing columns ['UNITS']" in outcome.failure
    create_schema(sqlite_pipeline.engine)
    assert _history_rows(sqlite_pipeline.engine) == 0
