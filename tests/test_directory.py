"""The provider directory end to end: sample roster, snapshot diffs, bad input, NPPES format."""

import csv
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.assets.accounting import coverage_gaps
from pipelines.fhir.directory import directory_key, role_key
from pipelines.fhir.ids import DEVELOPMENT_ID_KEY, IdMaker
from serving.store import read_current, read_history
from tests.conftest import REPO_ROOT, SHARED
from tests.serving.conftest import BACKENDS, serving_engine
from tests.test_end_to_end import Pipeline

SAMPLE_DIRECTORY = REPO_ROOT / "sample_inputs" / "directory"
NPPES_SAMPLES = SHARED / "source-samples" / "nppes-plan-net"
PLAN_NET_PROFILES = {
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Network",
    "Location",
    "HealthcareService",
    "Endpoint",
    "OrganizationAffiliation",
    "InsurancePlan",
}
IDS = IdMaker.from_secret(DEVELOPMENT_ID_KEY)


def _directory_inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE_DIRECTORY, inbox / "directory")
    return inbox


@pytest.fixture(params=BACKENDS)
def directory_pipeline(request: pytest.FixtureRequest, tmp_path: Path) -> Pipeline:
    with serving_engine(request.param, tmp_path) as engine:
        url = engine.url.render_as_string(hide_password=False)
        yield Pipeline(_directory_inbox(tmp_path), tmp_path / "home", url)


@pytest.fixture
def sqlite_directory(tmp_path: Path) -> Pipeline:
    url = f"sqlite:///{tmp_path / 'serving.db'}"
    return Pipeline(_directory_inbox(tmp_path), tmp_path / "home", url)


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    header, *rows = path.read_text().splitlines()
    return header.split("|"), [row.split("|") for row in rows]


def _write_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.write_text("\n".join("|".join(row) for row in [header, *rows]) + "\n")


def _record(header: list[str], row: list[str]) -> dict[str, str]:
    return {name.lower(): value for name, value in zip(header, row, strict=True)}


def test_sample_roster_builds_all_nine_profiles_valid_and_served(
    sqlite_directory: Pipeline,
) -> None:
    outcome = sqlite_directory.run()
    assert outcome.success, outcome.report()
    built = {
        key.removeprefix("built/plannet-").removesuffix("|1.1.0"): count
        for key, count in outcome.metadata["directory_fhir"].items()
        if key.startswith("built/")
    }
    assert set(built) == PLAN_NET_PROFILES
    assert outcome.metadata["directory_validated"]["invalid"] == 0
    assert built["Practitioner"] >= 150 and built["Location"] >= 60 and built["Network"] == 3
    served = outcome.metadata["served_resources"]
    assert served["added"] == sum(built.values())
    with sqlite_directory.staging() as con:
        gaps = coverage_gaps(con, "directory")
    assert len(gaps) == 9
    assert all(missing == [] for missing in gaps.values())
    assert outcome.warnings["served_resources:directory_must_support_elements_populated"]


def test_the_plans_example_calls_have_their_rows(
    sqlite_directory: Pipeline, tmp_path: Path
) -> None:
    assert sqlite_directory.run().success
    exported = sqlite_directory.export(tmp_path / "export")
    ortho = [
        loc
        for loc in exported["Location"]
        if "ortho" in loc["name"].lower() and loc.get("address", {}).get("postalCode") == "14618"
    ]
    assert ortho
    assert any(
        address.get("postalCode") == "10533"
        for org in exported["Organization"]
        for address in org.get("address", [])
    )
    route_9 = {
        f"Location/{loc['id']}"
        for loc in exported["Location"]
        if "1783 Route 9" in loc.get("address", {}).get("line", [])
    }
    assert any(
        ref["reference"] in route_9
        for role in exported["PractitionerRole"]
        for ref in role.get("location", [])
    )


def test_a_second_roster_tombstones_moves_and_versions(
    directory_pipeline: Pipeline, tmp_path: Path
) -> None:
    assert directory_pipeline.run().success
    roster = directory_pipeline.inbox / "directory" / "roster.txt"
    header, rows = _rows(roster)
    column = {name: index for index, name in enumerate(header)}
    by_npi: dict[str, list[list[str]]] = {}
    for row in rows:
        by_npi.setdefault(row[column["NPI"]], []).append(row)
    single = [
        npi for npi, its in by_npi.items() if len(its) == 1 and not its[0][column["ROLE_END_DATE"]]
    ]
    leaving, moving, rephoned = single[:3]
    moved_row = by_npi[moving][0]
    old_role = _record(header, moved_row)
    new_location = next(
        r[column["LOCATION_ID"]]
        for r in rows
        if r[column["ORGANIZATION_ID"]] == moved_row[column["ORGANIZATION_ID"]]
        and r[column["LOCATION_ID"]] != moved_row[column["LOCATION_ID"]]
    )
    kept = []
    for row in rows:
        if row[column["NPI"]] == leaving:
            continue
        if row is moved_row:
            row = [*row]
            row[column["LOCATION_ID"]] = new_location
        if row[column["NPI"]] == rephoned:
            row = [*row]
            row[column["PRACTITIONER_PHONE"]] = "518-555-0199"
        kept.append(row)
    _write_rows(roster, header, kept)

    second = directory_pipeline.run()
    assert second.success, second.report()
    engine = directory_pipeline.engine

    gone = read_current(
        engine, "Practitioner", IDS("Practitioner", directory_key("practitioner", leaving))
    )
    assert gone is not None and gone.deleted and gone.version_id == 2
    history = read_history(engine, "Practitioner", gone.id)
    assert [(v.version_id, v.deleted) for v in history] == [(1, False), (2, True)]

    networks = [n for n in old_role["network_ids"].split(";") if n]
    for network in networks:
        old = read_current(
            engine,
            "PractitionerRole",
            IDS("PractitionerRole", role_key({**old_role, "network_id": network})),
        )
        new = read_current(
            engine,
            "PractitionerRole",
            IDS(
                "PractitionerRole",
                role_key({**old_role, "location_id": new_location, "network_id": network}),
            ),
        )
        assert old is not None and old.deleted
        assert new is not None and not new.deleted and new.version_id == 1
        expected = IDS.reference("Location", directory_key("location", new_location))
        assert new.resource["location"] == [expected]

    changed = read_current(
        engine, "Practitioner", IDS("Practitioner", directory_key("practitioner", rephoned))
    )
    assert changed is not None and changed.version_id == 2
    assert changed.resource["telecom"][0]["value"] == "(518) 555-0199"
    unchanged = read_current(
        engine, "Practitioner", IDS("Practitioner", directory_key("practitioner", moving))
    )
    assert unchanged is not None and unchanged.version_id == 1

    served = second.metadata["served_resources"]
    assert served["Practitioner.deleted"] == 1 and served["Practitioner.changed"] == 1
    assert served["Practitioner.added"] == 0
    assert (
        served["Location.unchanged"]
        == second.metadata["directory_fhir"]["built/plannet-Location|1.1.0"]
    )
    assert served["PractitionerRole.deleted"] == len(
        by_npi[leaving][0][column["NETWORK_IDS"]].split(";")
    ) + len(networks)


def test_a_night_without_roster_files_keeps_the_directory(sqlite_directory: Pipeline) -> None:
    first = sqlite_directory.run()
    assert first.success
    shutil.rmtree(sqlite_directory.inbox / "directory")
    second = sqlite_directory.run()
    assert second.success, second.report()
    served = second.metadata["served_resources"]
    assert served["deleted"] == 0 and served["added"] == 0
    assert served["unchanged"] == first.metadata["served_resources"]["added"]


def _bad_roster(inbox: Path) -> dict[str, tuple[int, str, str]]:
    """Break one row per rule; returns reason -> (line, file, column) expected in quarantine."""
    folder = inbox / "directory"
    expected: dict[str, tuple[int, str, str]] = {}

    def corrupt(
        file: str, index: int, changes: dict[str, str], reason: str, column: str
    ) -> list[str]:
        header, rows = _rows(folder / file)
        for name, value in changes.items():
            rows[index][header.index(name)] = value
        _write_rows(folder / file, header, rows)
        expected[reason] = (index + 2, f"directory/{file}", column)
        return rows[index]

    corrupt("locations.txt", 10, {"POSTAL_CODE": "99999"}, "invalid_zip", "POSTAL_CODE")
    corrupt("locations.txt", 11, {"STATE": "XX"}, "invalid_state", "STATE")
    corrupt("locations.txt", 12, {"HOURS": "weekdays 9 to 5"}, "malformed_hours", "HOURS")
    corrupt("organizations.txt", 20, {"PHONE": "555-0100"}, "malformed_phone", "PHONE")
    corrupt("roster.txt", 0, {"NPI": "1234567890"}, "invalid_npi", "NPI")
    corrupt("roster.txt", 3, {"TAXONOMY_CODE": "999X00000X"}, "unknown_taxonomy", "TAXONOMY_CODE")
    corrupt("roster.txt", 5, {"LOCATION_ID": "LOC-NOWHERE"}, "unknown_location", "LOCATION_ID")
    corrupt(
        "roster.txt",
        7,
        {"ORGANIZATION_ID": "ORG-NOBODY"},
        "unknown_organization",
        "ORGANIZATION_ID",
    )
    header, rows = _rows(folder / "roster.txt")
    # Two rows that disagree about one practitioner: both held back.
    twin = [*rows[9]]
    twin[header.index("LAST_NAME")] += "-Other"
    twin[header.index("LOCATION_ID")] = rows[9][header.index("LOCATION_ID")]
    twin[header.index("TAXONOMY_CODE")] = (
        "207R00000X" if rows[9][header.index("TAXONOMY_CODE")] != "207R00000X" else "207Q00000X"
    )
    rows.append(twin)
    _write_rows(folder / "roster.txt", header, rows)
    expected["conflicting_practitioner"] = (len(rows) + 1, "directory/roster.txt", "NPI")
    return expected


def test_bad_directory_rows_are_quarantined_with_file_row_column_and_rule(
    sqlite_directory: Pipeline,
) -> None:
    expected = _bad_roster(sqlite_directory.inbox)
    outcome = sqlite_directory.run()
    assert outcome.success, outcome.report()
    assert outcome.checks["directory_staged:every_source_row_staged_or_quarantined"]
    with sqlite_directory.staging() as con:
        found = {
            (reason, (row, file, column))
            for row, file, column, reason in con.execute(
                "SELECT row_number, source_file, source_column, reason_code FROM quarantine "
                "WHERE domain = 'directory'"
            ).fetchall()
        }
        messages = [
            m
            for (m,) in con.execute(
                "SELECT message FROM quarantine WHERE domain = 'directory'"
            ).fetchall()
        ]
    for reason, where in expected.items():
        assert (reason, where) in found, reason
    assert all("LOC-NOWHERE" not in m and "-Other" not in m for m in messages)


def test_a_role_at_an_unknown_location_keeps_its_practitioner(sqlite_directory: Pipeline) -> None:
    folder = sqlite_directory.inbox / "directory"
    header, rows = _rows(folder / "roster.txt")
    npi_counts: dict[str, int] = {}
    for row in rows:
        npi_counts[row[header.index("NPI")]] = npi_counts.get(row[header.index("NPI")], 0) + 1
    index = next(
        i
        for i, row in enumerate(rows)
        if npi_counts[row[header.index("NPI")]] == 1
        and not row[header.index("ROLE_END_DATE")]
        and not row[header.index("DEACTIVATION_DATE")]
    )
    rows[index][header.index("LOCATION_ID")] = "LOC-NOWHERE"
    _write_rows(folder / "roster.txt", header, rows)
    assert sqlite_directory.run().success
    npi = rows[index][header.index("NPI")]
    practitioner = read_current(
        sqlite_directory.engine,
        "Practitioner",
        IDS("Practitioner", directory_key("practitioner", npi)),
    )
    assert practitioner is not None and not practitioner.deleted


def test_deactivated_npis_are_not_served(sqlite_directory: Pipeline) -> None:
    header, rows = _rows(sqlite_directory.inbox / "directory" / "roster.txt")
    deactivated = {r[header.index("NPI")] for r in rows if r[header.index("DEACTIVATION_DATE")]}
    assert deactivated
    assert sqlite_directory.run().success
    for npi in deactivated:
        assert (
            read_current(
                sqlite_directory.engine,
                "Practitioner",
                IDS("Practitioner", directory_key("practitioner", npi)),
            )
            is None
        )


def _us_date(text: str) -> date | None:
    return datetime.strptime(text, "%m/%d/%Y").date() if text else None


@pytest.mark.skipif(not NPPES_SAMPLES.is_dir(), reason=f"{NPPES_SAMPLES} not found")
def test_nppes_files_map_through_their_layouts(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox" / "directory" / "nppes"
    inbox.mkdir(parents=True)
    for name in (
        "sample-nppes-organization-data.csv",
        "sample-nppes-network_20181204-data.csv",
        "managing_orgs_data.csv",
    ):
        shutil.copy(NPPES_SAMPLES / name, inbox / name)
    practitioners = "sample-nppes-practitioner_20181204-data.csv"
    with (NPPES_SAMPLES / practitioners).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    # Every deactivation in the sample was reactivated; undo one reactivation, so the file also
    # holds an NPI that is deactivated today.
    reactivated = [r for r in rows if r["NPI Deactivation Date"] and r["NPI Reactivation Date"]]
    still_off = reactivated.pop()
    still_off["NPI Reactivation Date"] = ""
    with (inbox / practitioners).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)

    pipeline = Pipeline(tmp_path / "inbox", tmp_path / "home", f"sqlite:///{tmp_path / 's.db'}")
    outcome = pipeline.run()
    assert outcome.success, outcome.report()
    assert outcome.checks["directory_staged:every_source_row_staged_or_quarantined"]
    built = outcome.metadata["directory_fhir"]
    assert built["built/plannet-Practitioner|1.1.0"] > 1_900
    assert built["built/plannet-Network|1.1.0"] > 0
    assert built["built/plannet-Organization|1.1.0"] > 40
    assert outcome.metadata["directory_validated"]["invalid"] == 0

    def served(npi: str) -> bool:
        stored = read_current(
            pipeline.engine, "Practitioner", IDS("Practitioner", directory_key("practitioner", npi))
        )
        return stored is not None and not stored.deleted

    assert all(served(r["NPI"]) for r in reactivated)
    assert not served(still_off["NPI"])
    line = rows.index(still_off) + 2
    with pipeline.staging() as con:
        quarantined = con.execute(
            "SELECT reason_code, message FROM quarantine WHERE source_file = ? AND row_number = ?",
            [f"directory/nppes/{practitioners}", line],
        ).fetchall()
    assert quarantined and "deactivated" in quarantined[0][1]
