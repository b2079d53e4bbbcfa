"""The synthetic directory: reproducible, and made of real codes and places."""

from pathlib import Path

import zipcodes

from pipelines.canonical.reference import taxonomy
from pipelines.synthetic.directory import generate_directory, write_sample_directory
from pipelines.synthetic.providers import npi_is_valid
from tests.conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "sample_inputs" / "directory"


def _rows(path: Path) -> list[dict[str, str]]:
    header, *rows = path.read_text().splitlines()
    names = header.split("|")
    return [dict(zip(names, row.split("|"), strict=True)) for row in rows]


def test_sample_inputs_are_what_the_generator_writes(tmp_path: Path) -> None:
    write_sample_directory(tmp_path)
    written = sorted(p.name for p in (tmp_path / "directory").iterdir())
    assert written == sorted(p.name for p in SAMPLE.iterdir())
    for name in written:
        assert (tmp_path / "directory" / name).read_bytes() == (SAMPLE / name).read_bytes(), name


def test_codes_npis_and_zip_codes_are_real() -> None:
    known = taxonomy()
    roster = _rows(SAMPLE / "roster.txt")
    assert len({row["NPI"] for row in roster}) >= 150
    assert all(npi_is_valid(row["NPI"]) for row in roster)
    assert all(row["TAXONOMY_CODE"] in known for row in roster)
    for row in _rows(SAMPLE / "locations.txt"):
        if row["POSTAL_CODE"]:
            (place,) = zipcodes.matching(row["POSTAL_CODE"])
            assert (place["state"], place["city"]) == (row["STATE"], row["CITY"])


def test_a_larger_roster_scales_the_practitioners(tmp_path: Path) -> None:
    counts = generate_directory(tmp_path, practitioners=1_000)
    assert 1_000 <= counts["roster"] <= 2_000
    assert counts["organizations"] == 31
