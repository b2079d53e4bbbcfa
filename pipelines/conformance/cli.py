"""`interop compile-profiles` and `interop validate` subcommands (wired into pipelines.cli)."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import orjson

from pipelines.conformance.compiler import COMPILED_DIR, render, write_rules
from pipelines.conformance.coverage import CoverageCollector
from pipelines.conformance.packages import default_ig_dir
from pipelines.conformance.validator import Issue, Validator

RESOURCE_SUFFIXES = (".json", ".ndjson", ".jsonl")
INDEX = re.compile(r"\[\d+\]")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    compile_cmd = subparsers.add_parser(
        "compile-profiles", help="compile the IG StructureDefinitions into the project's rule set"
    )
    compile_cmd.add_argument(
        "--ig",
        type=Path,
        default=None,
        help="IG folder (default: $INTEROP_IG_DIR or ../shared/fhir-ig)",
    )
    compile_cmd.add_argument("--out", type=Path, default=COMPILED_DIR, help="output folder")
    compile_cmd.add_argument(
        "--check", action="store_true", help="exit 1 if the committed rules differ from the IGs"
    )
    compile_cmd.set_defaults(func=run_compile)

    validate_cmd = subparsers.add_parser(
        "validate", help="validate FHIR JSON / NDJSON files or folders against their profiles"
    )
    validate_cmd.add_argument("paths", nargs="+", type=Path, help="files or folders")
    validate_cmd.add_argument("--profile", help="validate against this canonical, not meta.profile")
    validate_cmd.add_argument(
        "--outcomes", type=Path, help="write one JSON line per resource with its OperationOutcome"
    )
    validate_cmd.add_argument(
        "--coverage",
        nargs="?",
        const="-",
        default=None,
        metavar="FILE",
        help="report must-support coverage (to FILE as JSON, or to stdout)",
    )
    validate_cmd.set_defaults(func=run_validate)


def run_compile(args: argparse.Namespace) -> int:
    ig_dir = args.ig or default_ig_dir()
    if not ig_dir.is_dir():
        print(f"IG folder not found: {ig_dir} (use --ig or INTEROP_IG_DIR)", file=sys.stderr)
        return 2
    if args.check:
        from pipelines.conformance.compiler import compile_rules

        stale = [
            name
            for name, text in render(compile_rules(ig_dir)).items()
            if not (args.out / name).exists() or (args.out / name).read_text("utf-8") != text
        ]
        for name in stale:
            print(
                f"{args.out / name} is out of date; run `interop compile-profiles`", file=sys.stderr
            )
        return 1 if stale else 0
    sizes = write_rules(ig_dir, args.out)
    for name, size in sizes.items():
        print(f"wrote {args.out / name} ({size:,} bytes)")
    return 0


@dataclass
class Source:
    file: str
    line: int | None
    resource: dict | None
    error: str = ""


def iter_sources(paths: list[Path]) -> Iterator[Source]:
    """Every resource in files, folders (recursive) and NDJSON, with its file and line."""
    for path in paths:
        files = (
            sorted(p for p in path.rglob("*") if p.suffix in RESOURCE_SUFFIXES)
            if path.is_dir()
            else [path]
        )
        for file in files:
            if file.suffix in (".ndjson", ".jsonl"):
                with file.open("rb") as fh:
                    for n, raw in enumerate(fh, start=1):
                        if raw.strip():
                            yield _parse(raw, str(file), n)
            else:
                source = _parse(file.read_bytes(), str(file), None)
                if not (path.is_dir() and _is_bulk_manifest(source.resource)):
                    yield source


def _is_bulk_manifest(data: dict | None) -> bool:
    """A Bulk Data export manifest found while walking a folder (interop export writes one)."""
    return bool(data) and "resourceType" not in data and {"transactionTime", "output"} <= set(data)


def _parse(raw: bytes, file: str, line: int | None) -> Source:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Source(file, line, None, f"invalid JSON: {exc}")
    if not isinstance(data, dict):
        return Source(file, line, None, "not a JSON object")
    return Source(file, line, data)


@dataclass
class ProfileSummary:
    resources: int = 0
    invalid: int = 0
    errors: int = 0
    warnings: int = 0
    top: dict[str, int] = field(default_factory=dict)


def run_validate(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    validator = Validator()
    coverage = CoverageCollector(validator) if args.coverage is not None else None
    summaries: dict[str, ProfileSummary] = {}
    outcomes = args.outcomes.open("wb") if args.outcomes else None
    failed = False
    try:
        for src in iter_sources(args.paths):
            issues, profiles = _validate_source(validator, src, args.profile)
            failed |= any(i.severity == "error" for i in issues)
            _summarise(summaries, profiles, issues)
            if coverage is not None and src.resource is not None:
                coverage.add(src.resource)
            if outcomes is not None:
                outcomes.write(orjson.dumps(_outcome_line(src, profiles, issues)) + b"\n")
    finally:
        if outcomes is not None:
            outcomes.close()
    _print_summary(summaries, out)
    manifest = validator.rules.manifest
    out.write(
        f"not checked locally: {len(manifest['required_bindings_not_checked'])} required value sets "
        f"(external terminology), {len(manifest['invariants_not_evaluated'])} invariants not evaluated "
        f"exactly; see {validator.rules_dir / 'manifest.json'}\n"
    )
    if coverage is not None:
        report = orjson.dumps(coverage.report.to_dict(), option=orjson.OPT_INDENT_2)
        if args.coverage == "-":
            out.write(report.decode() + "\n")
        else:
            Path(args.coverage).write_bytes(report + b"\n")
    return 1 if failed else 0


def _validate_source(
    validator: Validator, src: Source, profile: str | None
) -> tuple[list[Issue], list[str]]:
    if src.resource is None:
        where = f"{src.file}:{src.line}" if src.line else src.file
        return [Issue("error", "structure", "$", f"{where}: {src.error}", "")], ["(unreadable)"]
    profiles = [st.label for st in validator.profiles_for(src.resource, profile)] or ["(unknown)"]
    return validator.validate(src.resource, profile), profiles


def _summarise(
    summaries: dict[str, ProfileSummary], profiles: list[str], issues: list[Issue]
) -> None:
    for label in profiles:
        s = summaries.setdefault(label, ProfileSummary())
        mine = [i for i in issues if i.profile in (label, "")]
        errors = [i for i in mine if i.severity == "error"]
        s.resources += 1
        s.invalid += bool(errors)
        s.errors += len(errors)
        s.warnings += sum(1 for i in mine if i.severity == "warning")
        for i in errors:
            message = i.diagnostics.split(": ", 1)[-1].rsplit(" (profile ", 1)[0]
            rule = f"{INDEX.sub('', i.expression)}: {message}"[:140]
            s.top[rule] = s.top.get(rule, 0) + 1


def _print_summary(summaries: dict[str, ProfileSummary], out: TextIO) -> None:
    width = max([len(label) for label in summaries] + [7])
    out.write(
        f"{'profile':<{width}} {'resources':>9} {'invalid':>7} {'errors':>6} {'warnings':>8}\n"
    )
    for label in sorted(summaries):
        s = summaries[label]
        out.write(
            f"{label:<{width}} {s.resources:>9} {s.invalid:>7} {s.errors:>6} {s.warnings:>8}\n"
        )
        for rule, n in sorted(s.top.items(), key=lambda kv: -kv[1])[:3]:
            out.write(f"    {n:>6} x {rule}\n")


def _outcome_line(src: Source, profiles: list[str], issues: list[Issue]) -> dict:
    res = src.resource or {}
    outcome_issues = [i.to_outcome_issue() for i in issues] or [
        {"severity": "information", "code": "informational", "diagnostics": "no issues"}
    ]
    return {
        "source": src.file,
        "line": src.line,
        "resourceType": res.get("resourceType"),
        "id": res.get("id"),
        "profiles": profiles,
        "outcome": {"resourceType": "OperationOutcome", "issue": outcome_issues},
    }


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (python -m pipelines.conformance.cli) until pipelines.cli wires it."""
    parser = argparse.ArgumentParser(prog="interop")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
