"""The docs keep up with the code: every command, canonical field and concept map is documented."""

from pipelines.canonical.schema import CANONICAL_KINDS
from pipelines.canonical.store import CONCEPT_MAPS_DIR
from pipelines.cli import build_parser
from tests.conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()
MAPPINGS_README = (REPO_ROOT / "mappings" / "README.md").read_text()


def test_readme_names_every_interop_command() -> None:
    commands = build_parser()._subparsers._group_actions[0].choices  # argparse keeps them here
    missing = [name for name in commands if f"interop {name}" not in README]
    assert missing == []


def test_mappings_readme_documents_every_canonical_field_and_concept_map() -> None:
    missing = [
        f"{kind}.{field}"
        for kind, fields in CANONICAL_KINDS.items()
        for field in fields
        if f"`{field}`" not in MAPPINGS_README or f"`{kind}`" not in MAPPINGS_README
    ]
    missing += [p.name for p in CONCEPT_MAPS_DIR.glob("*.csv") if p.name not in MAPPINGS_README]
    assert missing == []
