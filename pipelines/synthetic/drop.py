"""One synthetic nightly drop: members, claims and providers written in the canonical layouts."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pipelines.synthetic.claims import ClaimGenerator
from pipelines.synthetic.people import write_members
from pipelines.synthetic.providers import ProviderPool
from pipelines.synthetic.writer import DropWriter

T = TypeVar("T")

DEFAULT_SEED = 20261203
SAMPLE_CLAIMS = 320
SAMPLE_MEMBERS = 60


class _FastRandom(random.Random):
    """random.Random with float-based integer draws.

    The stdlib's exact integer sampling costs about a microsecond a call and a claim takes a
    dozen; scaling random() instead is several times faster, and its bias (below 2**-50) does
    not matter for synthetic data. Still seeded, so drops stay reproducible.
    """

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))

    def choice(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]


@dataclass(frozen=True)
class GenerationSummary:
    members: int
    claims: int
    pharmacy_claims: int
    rows_by_file: dict[str, int]


def generate_drop(
    out_dir: Path,
    *,
    claims: int,
    members: int | None = None,
    seed: int = DEFAULT_SEED,
    scenarios: bool = True,
) -> GenerationSummary:
    """Write a drop of `claims` claims (medical, dental and pharmacy) under out_dir.

    Rows stream to the files as they are drawn, so memory stays flat at any volume. The same
    arguments always produce byte-identical files. `scenarios` adds denials, adjustments,
    reversals, out-of-network and compound claims; family coverage features are always there.
    """
    member_count = max(50, claims // 6) if members is None else members
    if claims < 0 or member_count < 1:
        raise ValueError(f"need claims >= 0 and at least one member, got {claims}, {member_count}")
    rng = _FastRandom(seed)
    out_dir = Path(out_dir)
    with DropWriter(out_dir) as out:
        roster = write_members(rng, member_count, out["eligibility"])
        providers = ProviderPool(rng, scale=claims // 5000)
        generator = ClaimGenerator(rng, roster, providers, out, scenarios)
        generator.generate(claims)
        providers.write_used(out["provider"])
        return GenerationSummary(
            members=len(roster),
            claims=generator.medical_claims + generator.pharmacy_claims,
            pharmacy_claims=generator.pharmacy_claims,
            rows_by_file=out.rows_by_file(),
        )


def write_sample_inputs(out_dir: Path) -> GenerationSummary:
    """Write exactly what sample_inputs/ holds: one realistic nightly drop."""
    return generate_drop(out_dir, claims=SAMPLE_CLAIMS, members=SAMPLE_MEMBERS)
