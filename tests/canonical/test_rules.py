"""Row rules: NPI check digit, NDC normalisation, typed parsing and the violations they produce."""

import duckdb
import pytest

from pipelines.canonical.rules import create_typed_table
from pipelines.canonical.store import prepare_staging_db
from pipelines.ingest.layouts import SOURCES_DIR, load_layout


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    prepare_staging_db(connection)
    return connection


@pytest.mark.parametrize(
    ("npi", "valid"),
    [
        ("1234567893", True),
        ("1245319599", True),
        ("1234567890", False),
        ("123456789", False),
        ("12345678AB", False),
        (None, False),
    ],
)
def test_npi_check_digit(con: duckdb.DuckDBPyConnection, npi: str | None, valid: bool) -> None:
    assert con.execute("SELECT npi_is_valid(?)", [npi]).fetchone()[0] is valid


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("00093742456", "00093742456"),
        ("00093-7424-56", "00093742456"),
        ("0093-7424-56", "00093742456"),
        ("00093-424-56", "00093042456"),
        ("00093-7424-6", "00093742406"),
        ("0093742456", None),
        ("abc", None),
    ],
)
def test_ndc_normalised_to_eleven_digits(
    con: duckdb.DuckDBPyConnection, raw: str, expected: str | None
) -> None:
    assert con.execute("SELECT ndc11(?)", [raw]).fetchone()[0] == expected


def _stage_lines(con: duckdb.DuckDBPyConnection, rows: list[dict[str, str]]) -> list[tuple]:
    layout = load_layout(SOURCES_DIR / "claims" / "claim_line.yaml")
    fields = [spec.field for spec in layout.columns.values()]
    con.execute(
        "CREATE TABLE raw_claim_line (load_id VARCHAR, source_file VARCHAR, row_number BIGINT, "
        "layout VARCHAR, " + ", ".join(f'"{f}" VARCHAR' for f in fields) + ")"
    )
    for number, row in enumerate(rows, start=2):
        con.execute(
            f"INSERT INTO raw_claim_line VALUES (?, ?, ?, ?, {', '.join('?' for _ in fields)})",
            ["L1", "claims/claim_line.txt", number, layout.name, *[row.get(f, "") for f in fields]],
        )
    create_typed_table(con, [layout], "raw_claim_line", "typed_claim_line")
    return con.execute(
        "SELECT row_number, units, service_from_date, list_transform(violations, lambda v: v.reason), "
        "list_transform(violations, lambda v: v.col) FROM typed_claim_line ORDER BY row_number"
    ).fetchall()


def test_field_rules_name_the_column_and_rule(con: duckdb.DuckDBPyConnection) -> None:
    good = {"claim_id": "C1", "line_number": "1", "service_from_date": "2026-03-01", "units": "2"}
    rows = _stage_lines(
        con,
        [
            good,
            {**good, "service_from_date": "2026-02-30"},
            {**good, "units": "two"},
            {**good, "claim_id": "  "},
            {**good, "paid_amount": "-5.00"},
        ],
    )
    assert rows[0][3] == []
    assert rows[0][1] == 2
    assert (rows[1][3], rows[1][4]) == (["bad_date"], ["SERVICE_FROM_DATE"])
    assert (rows[2][3], rows[2][4]) == (["bad_decimal"], ["UNITS"])
    assert (rows[3][3], rows[3][4]) == (["missing_required"], ["CLAIM_ID"])
    assert (rows[4][3], rows[4][4]) == (["negative_amount"], ["PAID_AMOUNT"])
