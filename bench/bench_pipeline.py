"""End-to-end pipeline benchmark: N synthetic claims through every stage into the serving store.

    python bench/bench_pipeline.py --claims 100000 [--workers 2] [--database-url URL]

Prints claims/s end to end (landing to committed load and NDJSON export) and peak RSS of this
process and its validation workers. Not run by the tests.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import dagster as dg

from pipelines.fhir.ids import DEVELOPMENT_ID_KEY
from pipelines.resources import PipelineSettings, ServingStore, StagingDatabase
from pipelines.run import run_pipeline
from pipelines.synthetic import generate_drop


def _peak_rss_mib() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="worker processes for the build and validation stages",
    )
    parser.add_argument(
        "--database-url", default=None, help="serving store (default: SQLite in a temp dir)"
    )
    parser.add_argument("--inbox", default=None, help="an existing drop instead of generating one")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="interop-bench-") as scratch:
        work = Path(scratch)
        inbox = Path(args.inbox) if args.inbox else work / "inbox"
        if not args.inbox:
            started = time.perf_counter()
            summary = generate_drop(inbox, claims=args.claims)
            print(
                f"generated {summary.claims} claims, {summary.members} members "
                f"in {time.perf_counter() - started:.1f}s"
            )
        resources = {
            "staging": StagingDatabase(path=str(work / "staging.duckdb")),
            "serving": ServingStore(url=args.database_url or f"sqlite:///{work / 'serving.db'}"),
            "settings": PipelineSettings(
                inbox=str(inbox),
                home=str(work),
                id_key=DEVELOPMENT_ID_KEY,
                workers=args.workers,
            ),
        }
        before = _peak_rss_mib()
        started = time.perf_counter()
        outcome = run_pipeline(resources=resources, instance=dg.DagsterInstance.ephemeral())
        elapsed = time.perf_counter() - started
        own, children = _peak_rss_mib()
        claims_in = sum(
            int(value)
            for asset, values in outcome.metadata.items()
            if asset == "claims_staged"
            for key, value in values.items()
            if key == "rows_in"
        )
        print(outcome.report().splitlines()[-1])
        print(
            f"claims: {args.claims}  elapsed: {elapsed:.1f}s  claims/s: {args.claims / elapsed:,.0f}"
        )
        print(f"claim-domain source rows: {claims_in:,}")
        print(
            f"peak RSS: main process {own:,.0f} MiB (before run {before[0]:,.0f} MiB), "
            f"largest worker {children:,.0f} MiB"
        )


if __name__ == "__main__":
    main()
