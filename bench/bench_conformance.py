"""Benchmark: full profile validation throughput (resources/s on one core).

Run: .venv/bin/python bench/bench_conformance.py [--seconds 3] [--structural]
Profiles: a realistic 5-line professional CARIN EOB and a Plan-Net PractitionerRole.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from pipelines.conformance import Validator

C4BB = "http://hl7.org/fhir/us/carin-bb"
ADJ = "http://terminology.hl7.org/CodeSystem/adjudication"
C4BB_ADJ = f"{C4BB}/CodeSystem/C4BBAdjudication"
DISC = f"{C4BB}/CodeSystem/C4BBAdjudicationDiscriminator"
STATUS = f"{C4BB}/CodeSystem/C4BBPayerAdjudicationStatus"
SUPP = f"{C4BB}/CodeSystem/C4BBSupportingInfoType"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
CPT = "http://www.ama-assn.org/go/cpt"
PLANNET = "http://hl7.org/fhir/us/davinci-pdex-plan-net"
N_DISTINCT = 5000


def _cc(system: str, code: str, display: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _money(value: float) -> dict:
    return {"value": value, "currency": "USD"}


def professional_eob(lines: int = 5, seed: int = 0) -> dict:
    """A 5-line professional claim as a payer would publish it; `seed` varies ids, dates, amounts."""
    rng = random.Random(seed)
    day = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    items = []
    for n in range(1, lines + 1):
        billed = round(rng.uniform(40, 900), 2)
        amounts = [
            (ADJ, "submitted", billed),
            (ADJ, "eligible", round(billed * 0.7, 2)),
            (ADJ, "deductible", float(rng.choice([0, 20, 50]))),
            (C4BB_ADJ, "coinsurance", round(billed * 0.1, 2)),
            (ADJ, "copay", float(rng.choice([0, 25]))),
            (C4BB_ADJ, "paidtoprovider", round(billed * 0.5, 2)),
            (C4BB_ADJ, "memberliability", round(billed * 0.2, 2)),
            (C4BB_ADJ, "noncovered", round(billed * 0.3, 2)),
        ]
        items.append(
            {
                "sequence": n,
                "careTeamSequence": [1],
                "diagnosisSequence": [1, 2],
                "productOrService": _cc(CPT, ["99213", "97110", "97140", "36415", "80053"][n - 1]),
                "modifier": [_cc(CPT, "25")] if n == 1 else [],
                "servicedPeriod": {"start": day, "end": day},
                "locationCodeableConcept": _cc(POS, "11", "Office"),
                "quantity": {"value": 1},
                "adjudication": [
                    {
                        "category": _cc(DISC, "benefitpaymentstatus"),
                        "reason": _cc(STATUS, "innetwork"),
                    },
                    *({"category": _cc(s, c), "amount": _money(v)} for s, c, v in amounts),
                ],
            }
        )
        if not items[-1]["modifier"]:
            del items[-1]["modifier"]
    return {
        "resourceType": "ExplanationOfBenefit",
        "id": f"eob-prof-{seed:08d}",
        "meta": {
            "lastUpdated": "2024-03-20T10:15:00+00:00",
            "profile": [
                f"{C4BB}/StructureDefinition/C4BB-ExplanationOfBenefit-Professional-NonClinician|2.0.0"
            ],
        },
        "identifier": [
            {
                "type": _cc(f"{C4BB}/CodeSystem/C4BBIdentifierType", "uc"),
                "system": "https://plan.example.org/fhir/claim-id",
                "value": f"CLM-2024-{seed:09d}",
            }
        ],
        "status": "active",
        "type": _cc("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
        "use": "claim",
        "patient": {"reference": f"Patient/p-{rng.getrandbits(48):012x}"},
        "billablePeriod": {"start": day, "end": day},
        "created": "2024-03-18T00:00:00+00:00",
        "insurer": {"reference": "Organization/payer-1"},
        "provider": {"reference": f"Organization/prov-{rng.randint(1, 5000)}"},
        "payee": {
            "type": _cc("http://terminology.hl7.org/CodeSystem/payeetype", "provider"),
            "party": {"reference": "Organization/prov-org-1"},
        },
        "outcome": "complete",
        "careTeam": [
            {
                "sequence": 1,
                "provider": {"reference": f"Practitioner/pr-{rng.randint(1, 20000)}"},
                "role": _cc(f"{C4BB}/CodeSystem/C4BBClaimCareTeamRole", "rendering"),
            },
            {
                "sequence": 2,
                "provider": {"reference": "Practitioner/pr-2"},
                "role": _cc(f"{C4BB}/CodeSystem/C4BBClaimCareTeamRole", "referring"),
            },
        ],
        "supportingInfo": [
            {"sequence": 1, "category": _cc(SUPP, "clmrecvddate"), "timingDate": day},
            {
                "sequence": 2,
                "category": _cc(SUPP, "servicefacility"),
                "valueReference": {"reference": "Organization/prov-org-1"},
            },
            {
                "sequence": 3,
                "category": _cc(SUPP, "patientaccountnumber"),
                "valueString": f"PA-{rng.randint(1, 10**8)}",
            },
        ],
        "diagnosis": [
            {
                "sequence": 1,
                "diagnosisCodeableConcept": _cc("http://hl7.org/fhir/sid/icd-10-cm", "M54.50"),
                "type": [
                    _cc("http://terminology.hl7.org/CodeSystem/ex-diagnosistype", "principal")
                ],
            },
            {
                "sequence": 2,
                "diagnosisCodeableConcept": _cc("http://hl7.org/fhir/sid/icd-10-cm", "E11.9"),
                "type": [_cc(f"{C4BB}/CodeSystem/C4BBClaimDiagnosisType", "secondary")],
            },
        ],
        "insurance": [
            {"focal": True, "coverage": {"reference": f"Coverage/cov-{rng.getrandbits(40):x}"}}
        ],
        "item": items,
        "adjudication": [
            {"category": _cc(DISC, "billingnetworkstatus"), "reason": _cc(STATUS, "innetwork")},
            {"category": _cc(DISC, "renderingnetworkstatus"), "reason": _cc(STATUS, "innetwork")},
        ],
        "total": [
            {"category": _cc(ADJ, "submitted"), "amount": _money(3750.0)},
            {"category": _cc(ADJ, "eligible"), "amount": _money(2700.0)},
            {"category": _cc(C4BB_ADJ, "paidtoprovider"), "amount": _money(2160.0)},
            {"category": _cc(C4BB_ADJ, "memberliability"), "amount": _money(540.0)},
        ],
        "payment": {
            "type": _cc(f"{C4BB}/CodeSystem/C4BBPayerAdjudicationStatus", "paid"),
            "date": "2024-03-20",
            "amount": _money(2160.0),
        },
    }


def practitioner_role(seed: int = 0) -> dict:
    rng = random.Random(seed)
    return {
        "resourceType": "PractitionerRole",
        "id": f"pr-role-{seed}",
        "meta": {
            "lastUpdated": "2024-03-01T00:00:00Z",
            "profile": [f"{PLANNET}/StructureDefinition/plannet-PractitionerRole"],
        },
        "extension": [
            {
                "url": f"{PLANNET}/StructureDefinition/network-reference",
                "valueReference": {"reference": "Organization/net-1"},
            },
            {
                "url": f"{PLANNET}/StructureDefinition/newpatients",
                "extension": [
                    {
                        "url": "acceptingPatients",
                        "valueCodeableConcept": _cc(
                            f"{PLANNET}/CodeSystem/AcceptingPatientsCS", "newpt"
                        ),
                    }
                ],
            },
        ],
        "active": True,
        "period": {"start": "2023-01-01"},
        "practitioner": {"reference": f"Practitioner/pract-{rng.randint(1, 10**6)}"},
        "organization": {"reference": f"Organization/org-{rng.randint(1, 10**4)}"},
        "code": [_cc(f"{PLANNET}/CodeSystem/ProviderRoleCS", "ph")],
        "specialty": [_cc("http://nucc.org/provider-taxonomy", "207Q00000X")],
        "location": [{"reference": f"Location/loc-{rng.randint(1, 10**5)}"}],
        "telecom": [
            {"system": "phone", "value": f"(555) 555-{rng.randint(0, 9999):04d}", "use": "work"}
        ],
    }


def measure(fn: Callable[[dict], object], resources: list[dict], seconds: float) -> float:
    """Resources per CPU-second of this process (one core), cycling over distinct resources.

    CPU time rather than wall time, so other work on a shared machine does not count against us;
    distinct resources, so per-value memoization is not flattered by repeats.
    """
    fn(resources[0])
    n, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for r in resources[n % len(resources) : n % len(resources) + 50]:
            fn(r)
            n += 1
    return n / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--structural", action="store_true", help="also time fhir.resources R4B")
    args = parser.parse_args()
    validator = Validator()
    cases = {
        "5-line professional EOB": [professional_eob(seed=i) for i in range(N_DISTINCT)],
        "Plan-Net PractitionerRole": [practitioner_role(seed=i) for i in range(N_DISTINCT)],
    }
    for name, resources in cases.items():
        errors = [i.diagnostics for i in validator.validate(resources[0]) if i.severity == "error"]
        if errors:
            raise SystemExit(f"{name} is not valid:\n" + "\n".join(errors))
        rate = measure(validator.validate, resources, args.seconds)
        print(f"{name:<28} full profile validation: {rate:>8,.0f} resources/s per core")
    if args.structural:
        from fhir.resources.R4B.explanationofbenefit import ExplanationOfBenefit

        eobs = cases["5-line professional EOB"]
        rate = measure(ExplanationOfBenefit.model_validate, eobs, args.seconds)
        print(
            f"{'fhir.resources R4B EOB':<28} structural validation:  {rate:>8,.0f} resources/s per core"
        )


if __name__ == "__main__":
    main()
