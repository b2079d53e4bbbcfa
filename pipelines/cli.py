"""The `interop` command: run the pipeline, generate synthetic drops, export and serve the store."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.conformance.cli import add_commands as add_conformance_commands


def _run(args: argparse.Namespace) -> int:
    """Materialize the whole asset graph in this process and report the checks."""
    if args.inbox:
        os.environ["INTEROP_INBOX"] = str(Path(args.inbox).resolve())
    if args.home:
        os.environ["INTEROP_HOME"] = str(Path(args.home).resolve())
    from pipelines.run import run_pipeline

    outcome = run_pipeline()
    print(outcome.report())
    return 0 if outcome.success else 1


def _generate(args: argparse.Namespace) -> int:
    from pipelines.synthetic import generate_drop

    summary = generate_drop(
        Path(args.out), claims=args.claims, members=args.members, seed=args.seed
    )
    print(
        f"wrote {summary.claims} claims ({summary.pharmacy_claims} pharmacy) for "
        f"{summary.members} members to {args.out}"
    )
    return 0


def _generate_formulary(args: argparse.Namespace) -> int:
    from pipelines.synthetic.formulary import generate_formulary

    counts = generate_formulary(Path(args.out), drugs=args.drugs, plans=args.plans, seed=args.seed)
    print(
        f"wrote {counts['drugs']} drugs on {counts['partd_plans']} Part D and "
        f"{counts['qhp_plans']} QHP plans to {Path(args.out) / 'formulary'}"
    )
    return 0


def _generate_directory(args: argparse.Namespace) -> int:
    from pipelines.synthetic.directory import generate_directory

    counts = generate_directory(Path(args.out), practitioners=args.practitioners, seed=args.seed)
    rows = ", ".join(f"{count} {name}" for name, count in counts.items())
    print(f"wrote {rows} to {Path(args.out) / 'directory'}")
    return 0


def _import_taxonomy(args: argparse.Namespace) -> int:
    from pipelines.canonical.reference import TAXONOMY_CSV, import_taxonomy

    count = import_taxonomy(Path(args.path))
    print(f"wrote {count} NUCC taxonomy codes to {TAXONOMY_CSV}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from serving.export import export_ndjson
    from serving.store import create_schema, make_engine

    engine = make_engine(args.database_url)
    create_schema(engine)
    manifest = export_ndjson(engine, Path(args.out))
    for entry in manifest["output"]:
        print(f"{entry['type']}: {entry['count']} -> {Path(args.out) / entry['url']}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    """Serve the four FHIR APIs over the serving store until interrupted."""
    import uvicorn

    from serving.api.app import create_app
    from serving.store import create_schema, make_engine

    engine = make_engine(args.database_url)
    create_schema(engine)
    uvicorn.run(create_app(engine), host=args.host, port=args.port, proxy_headers=True)
    return 0


def _compile_search(args: argparse.Namespace) -> int:
    from serving.search.compile import COMPILED_FILE, default_ig_dir, write_compiled

    ig_dir = Path(args.ig) if args.ig else default_ig_dir()
    if not ig_dir.is_dir():
        print(f"IG folder not found: {ig_dir} (use --ig or INTEROP_IG_DIR)", file=sys.stderr)
        return 2
    size = write_compiled(ig_dir)
    print(f"wrote {COMPILED_FILE} ({size:,} bytes)")
    return 0


def _reindex(args: argparse.Namespace) -> int:
    from serving.load import reindex
    from serving.store import create_schema, make_engine

    engine = make_engine(args.database_url)
    create_schema(engine)
    print(f"indexed {reindex(engine)} current resources for search")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="interop", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the whole pipeline on the inbox, in process")
    run.add_argument(
        "--inbox", help="folder holding the nightly drop (default: INTEROP_INBOX or sample_inputs/)"
    )
    run.add_argument(
        "--home",
        help="data folder for staging and the SQLite store (default: INTEROP_HOME or .data/)",
    )
    run.set_defaults(func=_run)

    generate = commands.add_parser(
        "generate", help="write a synthetic drop in the canonical layouts"
    )
    generate.add_argument("--claims", type=int, required=True, help="number of claims, all types")
    generate.add_argument(
        "--members", type=int, default=None, help="number of members (default: claims / 6)"
    )
    generate.add_argument("--seed", type=int, default=20261203)
    generate.add_argument("--out", required=True, help="folder to write the drop into")
    generate.set_defaults(func=_generate)

    formulary = commands.add_parser(
        "generate-formulary",
        help="write synthetic formulary files (CMS Part D, RxNorm names, QHP JSON)",
    )
    formulary.add_argument(
        "--drugs", type=int, default=None, help="number of drugs (default: the real sample, 205)"
    )
    formulary.add_argument("--plans", type=int, default=3, help="number of Part D plans")
    formulary.add_argument("--seed", type=int, default=20261204)
    formulary.add_argument("--out", required=True, help="folder to write formulary/ into")
    formulary.set_defaults(func=_generate_formulary)

    directory = commands.add_parser(
        "generate-directory",
        help="write a synthetic provider roster and its companion files (New York)",
    )
    directory.add_argument(
        "--practitioners", type=int, default=160, help="practitioners on the roster (default 160)"
    )
    directory.add_argument("--seed", type=int, default=20261204)
    directory.add_argument("--out", required=True, help="folder to write directory/ into")
    directory.set_defaults(func=_generate_directory)

    taxonomy = commands.add_parser(
        "import-taxonomy",
        help="rebuild mappings/reference/nucc_taxonomy.csv from NUCC's published CSV",
    )
    taxonomy.add_argument("path", help="the NUCC taxonomy CSV (nucc.org, CSV download)")
    taxonomy.set_defaults(func=_import_taxonomy)

    export = commands.add_parser("export", help="write the serving store as Bulk Data NDJSON")
    export.add_argument("--out", required=True, help="folder for <Type>.ndjson and manifest.json")
    export.add_argument(
        "--database-url",
        default=None,
        help="serving store URL (default: SERVING_DATABASE_URL or .data/serving.db)",
    )
    export.set_defaults(func=_export)

    serve = commands.add_parser(
        "serve",
        help="serve the FHIR APIs (Provider Directory, Formulary, Patient Access) over the store",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--database-url",
        default=None,
        help="serving store URL (default: SERVING_DATABASE_URL or .data/serving.db)",
    )
    serve.set_defaults(func=_serve)

    compile_search = commands.add_parser(
        "compile-search",
        help="compile the IG SearchParameters and CapabilityStatements into serving/search",
    )
    compile_search.add_argument(
        "--ig", default=None, help="IG folder (default: $INTEROP_IG_DIR or ../shared/fhir-ig)"
    )
    compile_search.set_defaults(func=_compile_search)

    reindex = commands.add_parser(
        "reindex", help="rebuild the serving store's search index from its current resources"
    )
    reindex.add_argument(
        "--database-url",
        default=None,
        help="serving store URL (default: SERVING_DATABASE_URL or .data/serving.db)",
    )
    reindex.set_defaults(func=_reindex)

    add_conformance_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
