"""Extract reading: header mismatches fail whole, bad lines become rejections with line numbers."""

from pathlib import Path

import pytest

from pipelines.ingest.layouts import SOURCES_DIR, Layout, load_layout
from pipelines.ingest.reader import ExtractReader, HeaderMismatchError

LAYOUT = load_layout(SOURCES_DIR / "claims" / "claim_code.yaml")
HEADER = "|".join(LAYOUT.columns)


def _reader(tmp_path: Path, content: bytes) -> ExtractReader:
    path = tmp_path / "claim_code.txt"
    path.write_bytes(content)
    return ExtractReader(path, LAYOUT, source_name="claims/claim_code.txt")


def test_rows_keep_their_line_numbers_and_canonical_names(tmp_path: Path) -> None:
    body = f"{HEADER}\nC1|DX|1|E11.9|P||\n\nC1|DX|2|I10|S||\n".encode()
    reader = _reader(tmp_path, body)
    rows = [row for table in reader.batches() for row in table.to_pylist()]
    assert [row["row_number"] for row in rows] == [2, 4]
    assert rows[1]["code"] == "I10"
    assert reader.rows_in == 2 and not reader.rejections


def test_header_mismatch_names_missing_and_unexpected_columns(tmp_path: Path) -> None:
    header = HEADER.replace("SEQUENCE", "SEQ_NO")
    with pytest.raises(HeaderMismatchError) as raised:
        _reader(tmp_path, f"{header}\n".encode()).check_header()
    message = str(raised.value)
    assert "claims/claim_code.txt" in message
    assert "missing columns ['SEQUENCE']" in message
    assert "unexpected columns ['SEQ_NO']" in message


def test_bad_encoding_and_wrong_field_count_are_rejected_not_dropped(tmp_path: Path) -> None:
    body = f"{HEADER}\nC1|DX|1|E11.9|P||\nC1|DX|2|\xff\xfe|S||\n".encode("latin-1")
    body += b"C1|DX|3|I10\n"
    reader = _reader(tmp_path, body)
    rows = [row for table in reader.batches() for row in table.to_pylist()]
    assert len(rows) == 1
    assert reader.rows_in == 3
    reasons = {(r.row_number, r.reason) for r in reader.rejections}
    assert reasons == {(3, "bad_encoding"), (4, "wrong_field_count")}
    assert all("E11.9" not in r.message for r in reader.rejections)


def _nppes_like_layout(tmp_path: Path) -> Layout:
    path = tmp_path / "codes.yaml"
    path.write_text(
        """kind: claim_code
file_pattern: "claims/codes*.csv"
extra_columns: ignore
columns:
  ID: {field: claim_id, type: string, required: true}
  CAT: {field: code_category, type: code, required: true}
  SEQ: {field: sequence, type: integer, required: true, zero_pad: 3}
  "Code_{n}":
    field: code
    type: code
    required: true
    pick: {first: 1, last: 3, where: "Primary_{n}", equals: "Y"}
""",
        encoding="utf-8",
    )
    return load_layout(path)


def test_repeating_group_pick_padding_and_ignored_columns(tmp_path: Path) -> None:
    layout = _nppes_like_layout(tmp_path)
    header = "ID,Unused,CAT,SEQ,Code_1,Primary_1,Code_2,Primary_2,Code_3,Primary_3"
    rows = ["C1,x,DX,7,A01,N,B02,Y,C03,Y", "C2,x,DX,12,A01,N,,,,", "C3,x,DX,,A01,Y,,N,,N"]
    path = tmp_path / "codes.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    reader = ExtractReader(path, layout, source_name="claims/codes.csv")
    got = [
        (row["claim_id"], row["sequence"], row["code"])
        for table in reader.batches()
        for row in table.to_pylist()
    ]
    # The first member flagged Y wins; none flagged gives an empty value (a required-field
    # quarantine later, never a guess); digits are padded, empties stay empty.
    assert got == [("C1", "007", "B02"), ("C2", "012", ""), ("C3", "", "A01")]


def test_ignored_columns_still_require_the_mapped_ones(tmp_path: Path) -> None:
    layout = _nppes_like_layout(tmp_path)
    path = tmp_path / "codes.csv"
    path.write_text("ID,CAT,SEQ,Code_1,Primary_1,Code_2,Primary_2\n", encoding="utf-8")
    with pytest.raises(HeaderMismatchError, match=r"missing columns \['Code_3', 'Primary_3'\]"):
        ExtractReader(path, layout, source_name="claims/codes.csv").check_header()
