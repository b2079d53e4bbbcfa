"""Layout files: the shipped ones load, malformed ones fail naming the file and the key."""

from pathlib import Path

import pytest

from pipelines.canonical.schema import CANONICAL_KINDS
from pipelines.ingest.layouts import SOURCES_DIR, LayoutError, load_domain_layouts, load_layout

SHIPPED = sorted(SOURCES_DIR.glob("*/*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_layout_loads(path: Path) -> None:
    assert load_layout(path).kind in CANONICAL_KINDS


def test_every_canonical_field_is_read_by_a_shipped_layout() -> None:
    # Our own canonical layouts map every field; other formats (NPPES) may map fewer.
    mapped = {
        (layout.kind, spec.field)
        for layout in map(load_layout, SHIPPED)
        for spec in layout.columns.values()
    }
    expected = {(kind, name) for kind, fields in CANONICAL_KINDS.items() for name in fields}
    assert expected - mapped == set()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "payer_claim_line.yaml"
    path.write_text(text, encoding="utf-8")
    return path


VALID_HEAD = """kind: claim_code
file_pattern: "claims/dx*.csv"
delimiter: ","
columns:
  CLM: {field: claim_id, type: string, required: true}
  CAT: {field: code_category, type: code, required: true}
  SEQ: {field: sequence, type: integer, required: true}
"""


def test_payer_layout_with_own_column_names_loads(tmp_path: Path) -> None:
    layout = load_layout(
        _write(tmp_path, VALID_HEAD + "  DX: {field: code, type: code, required: true}\n")
    )
    assert layout.field_for("DX") == "code"
    assert layout.delimiter == ","


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        (
            "  DX: {field: code, type: integer, required: true}\n",
            "columns.DX.type",
            "is code, not integer",
        ),
        ("  DX: {field: diagnosis, type: code}\n", "columns.DX.field", "not a claim_code field"),
        ("  DX: {field: code, type: code, colour: red}\n", "columns.DX.colour", "Extra inputs"),
        ("  DX: {field: code, type: texty}\n", "columns.DX.type", "Input should be"),
        ("  DX: {field: sequence, type: integer}\n", "columns.DX.field", "also mapped by SEQ"),
        ("", "columns", "required fields not mapped: code"),
    ],
)
def test_malformed_layout_names_file_and_key(
    tmp_path: Path, body: str, key: str, problem: str
) -> None:
    path = _write(tmp_path, VALID_HEAD + body)
    with pytest.raises(LayoutError) as raised:
        load_layout(path)
    message = str(raised.value)
    assert str(path) in message
    assert f"key '{key}'" in message
    assert problem in message


def test_date_column_needs_a_format(tmp_path: Path) -> None:
    text = VALID_HEAD.replace("kind: claim_code", "kind: claim_code") + (
        "  DX: {field: code, type: code}\n  PD: {field: procedure_date, type: date}\n"
    )
    with pytest.raises(LayoutError, match=r"columns\.PD.*needs a 'format'"):
        load_layout(_write(tmp_path, text))


def test_unknown_kind_and_bad_yaml_are_named(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="key 'kind': unknown kind 'claims'"):
        load_layout(_write(tmp_path, VALID_HEAD.replace("kind: claim_code", "kind: claims")))
    with pytest.raises(LayoutError, match="not valid YAML"):
        load_layout(_write(tmp_path, "kind: [unclosed\n"))


def test_two_layouts_of_one_file_pattern_are_refused(tmp_path: Path) -> None:
    domain = tmp_path / "claims"
    domain.mkdir()
    body = VALID_HEAD + "  DX: {field: code, type: code, required: true}\n"
    (domain / "a.yaml").write_text(body)
    (domain / "b.yaml").write_text(body)
    with pytest.raises(LayoutError, match=r"b\.yaml: key 'file_pattern': .* is already read by"):
        load_domain_layouts("claims", tmp_path)


def test_a_kind_may_arrive_in_two_formats(tmp_path: Path) -> None:
    domain = tmp_path / "claims"
    domain.mkdir()
    body = VALID_HEAD + "  DX: {field: code, type: code, required: true}\n"
    (domain / "a.yaml").write_text(body)
    (domain / "b.yaml").write_text(body.replace("claims/dx*.csv", "claims/other/dx*.csv"))
    assert [layout.name for layout in load_domain_layouts("claims", tmp_path)] == ["a", "b"]
