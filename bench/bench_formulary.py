"""Formulary benchmark: a generated formulary of N drugs on P Part D plans (plus the QHP JSON)
through every stage into the serving store.

    python bench/bench_formulary.py --drugs 50000 --plans 20 [--workers N] [--database-url URL]

Prints source rows/s and resources/s end to end (landing to committed load and NDJSON export) and
the peak RSS of this process and its workers. Not run by the tests.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import measured_run

from pipelines.resources import DEFAULT_WORKERS
from pipelines.synthetic.formulary import generate_formulary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--drugs", type=int, default=50_000)
    parser.add_argument("--plans", type=int, default=20)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="interop-bench-formulary-") as scratch:
        work = Path(scratch)
        inbox = work / "inbox"
        started = time.perf_counter()
        counts = generate_formulary(inbox, drugs=args.drugs, plans=args.plans)
        print(f"generated {counts} in {time.perf_counter() - started:.1f}s")
        run = measured_run(inbox, work, args.workers, args.database_url)
        print(run.domain_report("formulary", args.workers))


if __name__ == "__main__":
    main()
