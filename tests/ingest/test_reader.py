"""Extract reading: header mismatches fail whole, bad lines become rejections with line numbers."""

from pathlib import Path

import pytest

from pipelines.ingest.layouts import SOURCES_DIR, load_layout
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
