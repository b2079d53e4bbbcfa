"""Benchmark the serving-store diff-load: N synthetic ~5.8 KB EOBs into SQLite and, when a URL is
given, PostgreSQL; prints rows/s for the first load and a no-change re-load (parsing and freeing
the input excluded), and peak RSS growth over a process that already holds the input batches.

    .venv/bin/python bench/bench_load.py --count 100000 [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

# Run as a script from a checkout, where the project is not necessarily installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from serving import load
from serving.store import create_schema, json_bytes, make_engine

LOAD_TIME = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
EOB_PROFILE = (
    "http://hl7.org/fhir/us/carin-bb/StructureDefinition/"
    "C4BB-ExplanationOfBenefit-Professional-NonClinician"
)
ADJUDICATION = ("submitted", "eligible", "benefit", "deductible", "coinsurance", "copay")
SUPPORTING = ("clmrecvddate", "billingnetworkcontractingstatus")
C4BB = "http://hl7.org/fhir/us/carin-bb/CodeSystem"


def eob_id(n: int) -> str:
    """An opaque id like pipelines/fhir/ids.py makes: a hash, so ids arrive in random order."""
    return hashlib.blake2b(f"ExplanationOfBenefit|{n}".encode(), digest_size=16).hexdigest()


def eob(n: int, lines: int = 3) -> dict[str, Any]:
    """A synthetic professional-claim EOB of about 5.8 KB of JSON, deterministic in n."""
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": eob_id(n),
        "meta": {"lastUpdated": "2026-11-20T00:00:00+00:00", "profile": [EOB_PROFILE]},
        "identifier": [{"type": {"coding": [{"code": "uc"}]}, "value": f"CLM{n:010d}"}],
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "claim",
        "patient": {"reference": f"Patient/pat-{n % 50_000:08d}"},
        "billablePeriod": {"start": "2026-11-02", "end": "2026-11-02"},
        "created": "2026-11-20T00:00:00+00:00",
        "insurer": {"reference": "Organization/payer-1"},
        "provider": {"reference": f"Practitioner/prac-{n % 5_000:06d}"},
        "outcome": "complete",
        "careTeam": [_care_team(n, seq) for seq in (1, 2)],
        "supportingInfo": [_supporting_info(seq, code) for seq, code in enumerate(SUPPORTING, 1)],
        "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/cov-{n % 50_000:08d}"}}],
        "diagnosis": [
            {
                "sequence": 1,
                "diagnosisCodeableConcept": {
                    "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "E11.9"}]
                },
            }
        ],
        "item": [_item(n, seq) for seq in range(1, lines + 1)],
        "total": [_amount(category, 100 + n % 900) for category in ADJUDICATION[:3]],
        "payment": {"amount": {"value": 80 + n % 700, "currency": "USD"}},
    }


def _item(n: int, seq: int) -> dict[str, Any]:
    return {
        "sequence": seq,
        "productOrService": {
            "coding": [
                {"system": "http://www.ama-assn.org/go/cpt", "code": f"99{(n + seq) % 1000:03d}"}
            ]
        },
        "servicedDate": "2026-11-02",
        "locationCodeableConcept": {
            "coding": [
                {
                    "system": "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set",
                    "code": "11",
                }
            ]
        },
        "quantity": {"value": 1},
        "adjudication": [_amount(category, (n * seq) % 500 + 1) for category in ADJUDICATION],
    }


def _care_team(n: int, seq: int) -> dict[str, Any]:
    return {
        "sequence": seq,
        "provider": {"reference": f"Practitioner/prac-{(n + seq) % 5_000:06d}"},
        "role": {"coding": [{"system": f"{C4BB}/C4BBClaimCareTeamRole", "code": "performing"}]},
    }


def _supporting_info(seq: int, code: str) -> dict[str, Any]:
    return {
        "sequence": seq,
        "category": {"coding": [{"system": f"{C4BB}/C4BBSupportingInfoType", "code": code}]},
        "timingDate": "2026-11-05",
    }


def _amount(category: str, value: int) -> dict[str, Any]:
    system = "http://terminology.hl7.org/CodeSystem/adjudication"
    return {
        "category": {"coding": [{"system": system, "code": category}]},
        "amount": {"value": value, "currency": "USD"},
    }


# Distinct EOB documents the batches cycle through, each given its own id.
DOCUMENT_POOL = 1_000


class TimedBatches:
    """Yields synthetic batches parsed from JSON text, as the serving asset reads them from
    DuckDB, and keeps the time spent making and freeing them: the source's cost, not the load's.

    Each batch is held until the load has moved past it, so that its memory is released here
    rather than wherever the load drops its last reference. At most two batches are alive: the
    one being loaded and the next one being parsed.
    """

    def __init__(self, count: int, size: int) -> None:
        self.count, self.size, self.seconds = count, size, 0.0
        self.documents = [json_bytes(eob(n)) for n in range(min(count, DOCUMENT_POOL))]

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        held: deque[list[dict[str, Any]]] = deque()
        for start in range(0, self.count, self.size):
            began = time.perf_counter()
            if len(held) == 2:
                held.popleft()  # the load has gone on to the batch after this one
            batch = [self._resource(n) for n in range(start, min(start + self.size, self.count))]
            held.append(batch)
            self.seconds += time.perf_counter() - began
            yield batch

    def _resource(self, n: int) -> dict[str, Any]:
        resource = orjson.loads(self.documents[n % len(self.documents)])
        resource["id"] = eob_id(n)
        return resource


@contextmanager
def bench_engine(url: str | None) -> Iterator[sa.Engine]:
    """A fresh store: a temporary SQLite file, or a throwaway PostgreSQL schema."""
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
            create_schema(engine)
            yield engine
            engine.dispose()
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    scoped = sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(scoped.render_as_string(hide_password=False))
    try:
        create_schema(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def timed_load(engine: sa.Engine, args: argparse.Namespace, load_time: datetime) -> float:
    """Rows/s of load_resources, excluding the time spent generating the input."""
    source = TimedBatches(args.count, args.batch)
    started = time.perf_counter()
    load.load_resources(engine, source, load_time=load_time)
    return args.count / (time.perf_counter() - started - source.seconds)


def rss_mb() -> float:
    """The resident set size now (ru_maxrss only ever gives the peak)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_backend(label: str, url: str | None, args: argparse.Namespace) -> None:
    load.USE_POSTGRES_COPY = not args.no_copy
    with bench_engine(url) as engine:
        # Measure growth above a process holding the input as during a load: two batches.
        batches = list(TimedBatches(2 * args.batch, args.batch))
        holding_input = rss_mb()
        del batches
        first = timed_load(engine, args, LOAD_TIME)
        again = timed_load(engine, args, LOAD_TIME + timedelta(days=1))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{label:<22} first load {first:>9,.0f} rows/s   no-change re-load {again:>9,.0f} rows/s"
        f"   peak RSS {peak_mb:,.0f} MB (+{peak_mb - holding_input:,.0f} MB over the input)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--url", default=os.environ.get("SERVING_DATABASE_URL"))
    parser.add_argument("--no-copy", action="store_true", help="PostgreSQL: INSERT, not COPY")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    size = len(json_bytes(eob(0)))
    print(f"{args.count:,} EOBs of {size:,} bytes, batches of {args.batch:,}", flush=True)
    runs = [] if args.skip_sqlite else [("sqlite", None)]
    if args.url:
        runs.append(("postgresql " + ("insert" if args.no_copy else "copy"), args.url))
    # One process per backend so each peak RSS is its own.
    context = multiprocessing.get_context("spawn")
    for label, url in runs:
        process = context.Process(target=run_backend, args=(label, url, args))
        process.start()
        process.join()
        if process.exitcode != 0:
            sys.exit(f"{label} benchmark failed (exit code {process.exitcode})")


if __name__ == "__main__":
    main()
