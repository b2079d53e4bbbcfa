"""Provider-directory benchmark: a generated roster of about N rows (with its companion files)
through every stage into the serving store.

    python bench/bench_directory.py --roster-rows 200000 [--workers N] [--database-url URL]

Prints roster rows/s and resources/s end to end (landing to committed load and NDJSON export)
and the peak RSS of this process and its workers. Not run by the tests.
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
from pipelines.synthetic.directory import generate_directory

# The generator gives 40% of practitioners a second role: 1.4 roster rows each.
ROWS_PER_PRACTITIONER = 1.4


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--roster-rows", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="interop-bench-directory-") as scratch:
        work = Path(scratch)
        inbox = work / "inbox"
        started = time.perf_counter()
        practitioners = round(args.roster_rows / ROWS_PER_PRACTITIONER)
        counts = generate_directory(inbox, practitioners=practitioners)
        print(f"generated {counts} in {time.perf_counter() - started:.1f}s")
        run = measured_run(inbox, work, args.workers, args.database_url)
        print(run.domain_report("directory", args.workers))


if __name__ == "__main__":
    main()
