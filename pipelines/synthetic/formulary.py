"""A synthetic formulary drop: the CMS Part D files, the RxNorm names and the CMS QHP JSON.

Drugs are real RxNorm concepts (mappings/reference/rxnorm_sample.csv). The volume mode used by
the benchmark needs more drugs than that table holds: past it, drugs take RxCUIs from 90,000,000
up, outside the range RxNorm assigns, with the name of a real concept, so they can never be
mistaken for a real drug. The same arguments always write byte-identical files.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipelines.ingest.layouts import MAPPINGS_DIR, SOURCES_DIR, load_layout
from pipelines.synthetic.writer import ExtractWriter

RXNORM_SAMPLE = MAPPINGS_DIR / "reference" / "rxnorm_sample.csv"
VOLUME_RXCUI_START = 90_000_000
DEFAULT_SEED = 20261204
CONTRACT_YEAR = 2026


@dataclass(frozen=True)
class Drug:
    rxcui: str
    name: str
    tty: str


@dataclass(frozen=True)
class PartDPlan:
    contract_id: str
    plan_id: str
    name: str
    formulary_id: str
    states: tuple[str, ...]


def real_drugs() -> list[Drug]:
    """The curated real RxNorm concepts, in file order."""
    with RXNORM_SAMPLE.open(encoding="utf-8") as handle:
        lines = (line for line in handle if not line.startswith("#"))
        return [Drug(r["rxcui"], r["name"], r["tty"]) for r in csv.DictReader(lines)]


def drug_list(count: int | None) -> list[Drug]:
    """`count` drugs: the real ones first, then volume copies with out-of-range RxCUIs."""
    real = real_drugs()
    if count is None or count <= len(real):
        return real[: count or len(real)]
    copies = [
        Drug(str(VOLUME_RXCUI_START + n), real[n % len(real)].name, real[n % len(real)].tty)
        for n in range(count - len(real))
    ]
    return real + copies


def partd_plans(count: int) -> list[PartDPlan]:
    """MA-PD plans (H contracts) on formulary 1, stand-alone PDPs (S) on formulary 2, and so on:
    every fourth plan starts a new formulary, so plans share formularies as they do in the PUF."""
    states = ("CT", "MA", "NY", "NJ", "RI", "VT", "NH", "ME", "PA", "DE")
    plans = []
    for n in range(count):
        contract = "S5810" if n % 3 == 2 else "H3312"
        plans.append(
            PartDPlan(
                contract_id=contract,
                plan_id=f"{n + 1:03d}",
                name=f"Synthetic {'PDP' if contract.startswith('S') else 'Medicare Advantage'} Plan {n + 1}",
                formulary_id=f"{26001 + (0 if n % 3 != 2 else 1) + 2 * (n // 6):08d}",
                states=tuple(states[(n + k) % len(states)] for k in range(1 + n % 2)),
            )
        )
    return plans


def _tier(rng: random.Random, drug: Drug) -> str:
    """Part D tier 1-5: generics low, brands and packs preferred or not, injectables specialty."""
    if "Injection" in drug.name and rng.random() < 0.5:
        return "5"
    if drug.tty in ("SBD", "BPCK"):
        return rng.choice(("3", "4"))
    return rng.choice(("1", "1", "2", "2", "4"))


def _limits(rng: random.Random) -> dict[str, str]:
    quantity = rng.random() < 0.2
    amount, days = rng.choice((("30", "30"), ("60", "30"), ("90", "90"), ("4", "28")))
    return {
        "quantity_limit_flag": "Y" if quantity else "N",
        "quantity_limit_amount": amount if quantity else "",
        "quantity_limit_days": days if quantity else "",
        "prior_authorization_flag": "Y" if rng.random() < 0.15 else "N",
        "step_therapy_flag": "Y" if rng.random() < 0.1 else "N",
        "selected_drug_flag": "N",
    }


def _partd_drug_rows(rng: random.Random, drugs: list[Drug], formularies: list[str]) -> Iterator[dict[str, str]]:  # fmt: skip
    for index, formulary in enumerate(formularies):
        for drug in drugs:
            # Later formularies leave out some drugs, so formularies differ.
            if index and rng.random() < 0.25:
                continue
            yield {
                "formulary_id": formulary,
                "formulary_version": "3",
                "contract_year": str(CONTRACT_YEAR),
                "rxcui": drug.rxcui,
                "tier_level": _tier(rng, drug),
                **_limits(rng),
            }


# Per tier: cost type (1 copay, 2 coinsurance), preferred retail amount, deductible applies,
# specialty; mail order is offered below the specialty tier.
_PARTD_COSTS = {
    "1": ("1", "0.00", "N", "N"),
    "2": ("1", "10.00", "N", "N"),
    "3": ("1", "47.00", "Y", "N"),
    "4": ("2", "0.40", "Y", "N"),
    "5": ("2", "0.25", "Y", "Y"),
}


def _partd_cost_rows(plan: PartDPlan) -> Iterator[dict[str, str]]:
    for tier, (cost_type, amount, deductible, specialty) in _PARTD_COSTS.items():
        for days_supply, factor in (("1", 1), ("2", 3)):
            if tier == "5" and days_supply == "2":
                continue  # specialty drugs are one month at a time
            scaled = f"{float(amount) * factor:.2f}" if cost_type == "1" else amount
            nonpref = f"{float(scaled) + 5:.2f}" if cost_type == "1" else "0.45"
            mail = tier != "5"
            yield {
                "contract_id": plan.contract_id, "plan_id": plan.plan_id, "segment_id": "000",
                "coverage_level": "1", "tier": tier, "days_supply": days_supply,
                "cost_type_pref": cost_type, "cost_amount_pref": scaled,
                "cost_type_nonpref": cost_type, "cost_amount_nonpref": nonpref,
                "cost_type_mail_pref": cost_type if mail else "0",
                "cost_amount_mail_pref": scaled if mail else "",
                "cost_type_mail_nonpref": "0",
                "tier_specialty_flag": specialty, "deductible_applies_flag": deductible,
            }  # fmt: skip


def _write_partd(out_dir: Path, rng: random.Random, drugs: list[Drug], plans: list[PartDPlan]) -> None:  # fmt: skip
    def writer(name: str) -> ExtractWriter:
        return ExtractWriter(load_layout(SOURCES_DIR / "formulary" / f"{name}.yaml"), out_dir)

    plan_file, cost_file, drug_file, name_file = (
        writer(n) for n in ("partd_plan", "partd_cost", "partd_drug", "rxnorm_name")
    )
    for plan in plans:
        for county, state in enumerate(plan.states, start=1):
            plan_file.write(
                {
                    "contract_id": plan.contract_id, "plan_id": plan.plan_id, "segment_id": "000",
                    "contract_name": "Synthetic Health Plan Inc", "plan_name": plan.name,
                    "formulary_id": plan.formulary_id, "premium": "32.50", "deductible": "250.00",
                    "state": state, "county_code": f"{county:03d}", "snp": "0",
                    "plan_suppressed_flag": "N",
                }
            )  # fmt: skip
        for row in _partd_cost_rows(plan):
            cost_file.write(row)
    formularies = sorted({plan.formulary_id for plan in plans})
    for row in _partd_drug_rows(rng, drugs, formularies):
        drug_file.write(row)
    for drug in drugs:
        name_file.write({"rxcui": drug.rxcui, "name": drug.name, "tty": drug.tty})
    for handle in (plan_file, cost_file, drug_file, name_file):
        handle.close()


# QHP plans price five tiers; opts are the QHP schema's upper-case codes.
_QHP_TIERS = {
    "GENERIC": [("1-MONTH-IN-RETAIL", 10, "BEFORE-DEDUCTIBLE", None, "NOT-APPLICABLE"),
                ("3-MONTH-IN-MAIL", 25, "BEFORE-DEDUCTIBLE", None, "NOT-APPLICABLE")],
    "PREFERRED-BRAND": [("1-MONTH-IN-RETAIL", 40, "AFTER-DEDUCTIBLE", None, "NOT-APPLICABLE"),
                        ("3-MONTH-IN-MAIL", 100, "AFTER-DEDUCTIBLE", None, "NOT-APPLICABLE")],
    "NON-PREFERRED-BRAND": [("1-MONTH-IN-RETAIL", None, "NOT-APPLICABLE", "0.5", "AFTER-DEDUCTIBLE"),
                            ("1-MONTH-OUT-RETAIL", None, "NOT-APPLICABLE", "0.6", "AFTER-DEDUCTIBLE")],
    "SPECIALTY": [("1-MONTH-IN-RETAIL", None, "NOT-APPLICABLE", "0.3", "AFTER-DEDUCTIBLE")],
    "ZERO-COST-SHARE-PREVENTATIVE": [("1-MONTH-IN-RETAIL", 0, "NO-CHARGE", None, "NO-CHARGE")],
}  # fmt: skip
QHP_PLAN_IDS = ("21989CT0030001", "21989CT0030002")


def _qhp_plans() -> list[dict]:
    return [
        {
            "plan_id_type": "HIOS-PLAN-ID",
            "plan_id": plan_id,
            "marketing_name": f"Synthetic Exchange {metal} Plan",
            "summary_url": f"https://payer-interop.example.org/plans/{plan_id}/summary",
            "marketing_url": f"https://payer-interop.example.org/plans/{plan_id}",
            "formulary_url": f"https://payer-interop.example.org/plans/{plan_id}/formulary",
            "plan_contact": "formulary@payer-interop.example.org",
            "network": [{"network_tier": "PREFERRED"}],
            "formulary": [
                {
                    "drug_tier": tier,
                    "mail_order": any(p.endswith("MAIL") for p, *_ in shares),
                    "cost_sharing": [
                        {
                            "pharmacy_type": p,
                            "copay_amount": copay,
                            "copay_opt": copay_opt,
                            "coinsurance_rate": None if rate is None else float(rate),
                            "coinsurance_opt": rate_opt,
                        }
                        for p, copay, copay_opt, rate, rate_opt in shares
                    ],
                }
                for tier, shares in _QHP_TIERS.items()
            ],
            "last_updated_on": f"{CONTRACT_YEAR}-01-01",
        }
        for plan_id, metal in zip(QHP_PLAN_IDS, ("Silver", "Gold"), strict=True)
    ]


def _qhp_tier(rng: random.Random, drug: Drug) -> str:
    if "Injection" in drug.name and rng.random() < 0.5:
        return "SPECIALTY"
    if drug.tty in ("SBD", "BPCK"):
        return rng.choice(("PREFERRED-BRAND", "NON-PREFERRED-BRAND"))
    return rng.choice(("GENERIC", "GENERIC", "ZERO-COST-SHARE-PREVENTATIVE"))


def _qhp_drugs(rng: random.Random, drugs: list[Drug]) -> Iterator[dict]:
    for drug in drugs:
        if rng.random() < 0.4:
            continue  # the exchange formulary is narrower than Part D's
        yield {
            "rxnorm_id": drug.rxcui,
            "drug_name": drug.name,
            "plans": [
                {
                    "plan_id_type": "HIOS-PLAN-ID",
                    "plan_id": plan_id,
                    "drug_tier": _qhp_tier(rng, drug),
                    "prior_authorization": rng.random() < 0.15,
                    "step_therapy": rng.random() < 0.1,
                    "quantity_limit": rng.random() < 0.2,
                }
                for plan_id in QHP_PLAN_IDS
            ],
        }


def _write_json_array(path: Path, records: Iterator[dict] | list[dict]) -> None:
    """One record per line inside the array, so a large file streams out and diffs well."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[")
        for index, record in enumerate(records):
            handle.write(("\n" if index == 0 else ",\n") + json.dumps(record, sort_keys=True))
        handle.write("\n]\n")


def generate_formulary(
    out_dir: Path,
    *,
    drugs: int | None = None,
    plans: int = 3,
    seed: int = DEFAULT_SEED,
    qhp: bool = True,
) -> dict[str, int]:
    """Write the formulary files under out_dir/formulary; returns the drug and plan counts."""
    rng = random.Random(seed)
    folder = Path(out_dir) / "formulary"
    folder.mkdir(parents=True, exist_ok=True)
    drug_rows = drug_list(drugs)
    _write_partd(Path(out_dir), rng, drug_rows, partd_plans(plans))
    if qhp:
        _write_json_array(folder / "plans.json", _qhp_plans())
        _write_json_array(folder / "drugs.json", _qhp_drugs(rng, drug_rows))
    return {
        "drugs": len(drug_rows),
        "partd_plans": plans,
        "qhp_plans": len(QHP_PLAN_IDS) if qhp else 0,
    }


def write_sample_formulary(out_dir: Path) -> dict[str, int]:
    """Write exactly what sample_inputs/formulary holds."""
    return generate_formulary(out_dir)
