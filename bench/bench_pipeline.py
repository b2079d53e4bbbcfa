"""End-to-end pipeline benchmark: N synthetic claims through every stage into the serving store.

    python bench/bench_pipeline.py --claims 100000 [--workers N] [--database-url URL]

Prints claims/s end to end (landing to committed load and NDJSON export) and peak RSS of this
process and its validation workers. Not run by the tests.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from pipelines.fhir.ids import DEVELOPMENT_ID_KEY
from pipelines.resources import DEFAULT_WORKERS, PipelineSettings, ServingStore, StagingDatabase
from pipelines.run import RunOutcome, run_pipeline
from pipelines.synthetic import generate_drop


def _rss_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((x for x in status.splitlines() if x.startswith("VmRSS:")), "VmRSS: 0 kB")
    return int(line.split()[1])


def _descendants(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = [int(c) for c in task.read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


class MemorySampler(threading.Thread):
    """Samples the resident memory of this process and all its workers, twice a second.

    ru_maxrss of children is no use here: a spawned worker is forked first, and its peak then
    counts every page of the parent it briefly shared."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_main = self.peak_total = 0
        self.stop = threading.Event()

    def run(self) -> None:
        pid = os.getpid()
        while not self.stop.wait(0.5):
            main = _rss_kib(pid)
            total = main + sum(_rss_kib(child) for child in _descendants(pid))
            self.peak_main = max(self.peak_main, main)
            self.peak_total = max(self.peak_total, total)


@dataclass(frozen=True)
class Measurement:
    outcome: RunOutcome
    elapsed: float
    rss_before_mib: float
    peak_main_mib: float
    peak_total_mib: float

    def count(self, asset: str, key: str) -> int:
        return int(self.outcome.metadata.get(asset, {}).get(key, 0))

    def domain_report(self, domain: str, workers: int) -> str:
        """Rows/s and resources/s of one domain end to end, memory, and each stage's totals."""
        rows, built = (
            self.count(f"{domain}_staged", "rows_in"),
            self.count(f"{domain}_fhir", "resources"),
        )
        lines = [
            self.outcome.report().splitlines()[-1],
            f"{rows} source rows, {built} resources in {self.elapsed:.1f}s: "
            f"{rows / self.elapsed:,.0f} rows/s, {built / self.elapsed:,.0f} resources/s "
            f"(workers={workers})",
            self.memory_line(),
        ]
        for stage in ("raw", "staged", "fhir", "validated"):
            totals = self.outcome.metadata.get(f"{domain}_{stage}", {})
            lines.append(
                f"{domain}_{stage} { ({k: v for k, v in totals.items() if '/' not in k}) }"
            )
        return "\n".join(lines)

    def memory_line(self) -> str:
        return (
            f"peak RSS: main process {self.peak_main_mib:,.0f} MiB (before run "
            f"{self.rss_before_mib:,.0f} MiB), main + workers {self.peak_total_mib:,.0f} MiB"
        )


def measured_run(
    inbox: Path, work: Path, workers: int, database_url: str | None = None
) -> Measurement:
    """The whole pipeline on one inbox, timed, with the peak memory of the process tree."""
    resources = {
        "staging": StagingDatabase(path=str(work / "staging.duckdb")),
        "serving": ServingStore(url=database_url or f"sqlite:///{work / 'serving.db'}"),
        "settings": PipelineSettings(
            inbox=str(inbox), home=str(work), id_key=DEVELOPMENT_ID_KEY, workers=workers
        ),
    }
    before = _rss_kib(os.getpid()) / 1024
    sampler = MemorySampler()
    sampler.start()
    started = time.perf_counter()
    outcome = run_pipeline(resources=resources, instance=dg.DagsterInstance.ephemeral())
    elapsed = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    return Measurement(
        outcome, elapsed, before, sampler.peak_main / 1024, sampler.peak_total / 1024
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
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
        run = measured_run(inbox, work, args.workers, args.database_url)
        outcome, elapsed = run.outcome, run.elapsed
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
        print(run.memory_line())


if __name__ == "__main__":
    main()
