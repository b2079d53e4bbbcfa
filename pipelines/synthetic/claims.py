"""Synthetic claims, streamed one at a time to the claim extract files.

A claim is drawn from an encounter template (codes.py) for a member whose coverage span holds
its dates, priced and adjudicated in integer cents (exact, and cheap enough for volume runs),
written, and forgotten. Scenario claims (denials, adjustments, reversals, out-of-network,
compounds) are scripted into every drop so a small sample shows each one.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from operator import add

from pipelines.canonical.schema import AMOUNT_FIELDS
from pipelines.synthetic.codes import (
    CARC,
    COMPOUNDS,
    DRUGS,
    ENCOUNTERS,
    ENCOUNTERS_BY_TYPE,
    NCPDP_REJECT,
    SURFACES,
    TEETH,
    Drug,
    Encounter,
    procedure_code_type,
)
from pipelines.synthetic.people import Roster
from pipelines.synthetic.providers import ProviderPool
from pipelines.synthetic.timeline import DAY_TEXT, LAST_DAY
from pipelines.synthetic.writer import DropWriter

MEDICAL_TYPES = ("PROF", "OP", "IP", "DENT")
TYPE_MIX = (("PROF", 0.52), ("RX", 0.82), ("OP", 0.91), ("DENT", 0.97), ("IP", 1.0))
CLAIM_DENIALS = ("16", "50", "96", "197", "204")
LINE_DENIALS = {"PROF": ("97", "96", "50"), "OP": ("97", "50", "204"), "DENT": ("119", "96")}
PHARMACY_DENIALS = tuple(NCPDP_REJECT)
MAX_LINES = 8
# Share of inpatient (DRG) and outpatient (case-rate) claims the payer prices at the header.
HEADER_PRICED_SHARE = {"IP": 0.5, "OP": 0.1}
# Places of service inside a hospital: the professional claim names the hospital as facility.
HOSPITAL_PLACES = ("21", "22", "23")
OUT_OF_NETWORK_NOTE = (
    "Processed under your plan's out-of-network benefits; the provider may bill you for the "
    "amount above the allowed amount."
)

# Copays (cents) by line benefit; the first qualifying line of a claim carries it.
COPAYS = {"office": 2500, "emergency": 25000}
# Coinsurance percent by (benefit, in network).
COINSURANCE = {
    ("basic", True): 20,
    ("basic", False): 40,
    ("major", True): 50,
    ("major", False): 60,
    ("emergency", False): 20,  # emergency care is cost-shared at the in-network level
}


@dataclass(frozen=True)
class ClaimPlan:
    """What one claim must be: its type, encounter, and the scenario it stands for."""

    claim_type: str  # PROF, OP, IP, DENT or RX
    encounter: str = ""  # a name in codes.ENCOUNTERS; empty: drawn for the member's age
    status: str = "P"  # P, D, R, or A (the paid original, then its adjustment)
    network: str = "I"
    denial: str = ""
    denied_line: str = ""
    compound: bool = False
    member: str = ""  # "", dependent, child, other_dependent, two_span_first, two_span_second
    # Institutional claims paid at the header (DRG or case rate), lines unpriced; None: drawn.
    header_priced: bool | None = None


# Scripted into every drop (when scenarios are on), spread evenly over its claims.
SCENARIO_PLANS = (
    ClaimPlan("PROF", "annual_physical_40_64"),
    ClaimPlan("PROF", "lumbar_mri", status="D", denial="197"),
    ClaimPlan("PROF", "upper_respiratory_infection", status="D", denial="16"),
    ClaimPlan("OP", "outpatient_labs", status="D", denial="50"),
    ClaimPlan("DENT", "crown", status="D", denial="96"),
    ClaimPlan("RX", status="D", denial="75"),
    ClaimPlan("IP", "knee_replacement_right", status="D", denial="197"),
    ClaimPlan("PROF", "diabetes_follow_up", denied_line="97"),
    ClaimPlan("DENT", "recall_visit_adult", denied_line="119"),
    ClaimPlan("OP", "emergency_chest_pain", denied_line="50"),
    ClaimPlan("PROF", "hypertension_follow_up", status="A"),
    ClaimPlan("OP", "emergency_ankle_sprain", status="A"),
    ClaimPlan("DENT", "posterior_filling", status="A"),
    ClaimPlan("RX", status="A"),
    ClaimPlan("PROF", "low_back_pain", status="R"),
    ClaimPlan("RX", status="R"),
    ClaimPlan("IP", "appendectomy", network="O"),
    ClaimPlan("OP", "emergency_gastroenteritis", network="O"),
    ClaimPlan("PROF", "knee_injection_left", network="O"),
    ClaimPlan("DENT", "anterior_filling", network="O"),
    ClaimPlan("RX", network="O"),
    ClaimPlan("RX", compound=True, member="child"),
    ClaimPlan("RX", compound=True),
    ClaimPlan("RX", compound=True),
    ClaimPlan("PROF", "upper_respiratory_infection", member="two_span_first"),
    ClaimPlan("PROF", "pharyngitis", member="two_span_second"),
    ClaimPlan("RX", member="two_span_second"),
    ClaimPlan("PROF", "well_child_5_11", member="child"),
    ClaimPlan("PROF", "otitis_media", member="other_dependent"),
    ClaimPlan("PROF", "anxiety", member="dependent"),
    ClaimPlan("IP", "knee_replacement_left", header_priced=False),
    ClaimPlan("IP", "sepsis", header_priced=True),
    ClaimPlan("IP", "appendectomy", status="A", header_priced=True),
    ClaimPlan("OP", "screening_colonoscopy", header_priced=True),
    ClaimPlan("PROF", "ambulance_emergency"),
    ClaimPlan("PROF", "ambulance_round_trip"),
    ClaimPlan("DENT", "crown"),
    ClaimPlan("DENT", "scaling_root_planing"),
    ClaimPlan("DENT", "orthodontic_visit"),
    ClaimPlan("PROF", "flu_shot_at_pharmacy"),
    ClaimPlan("PROF", "b12_injection"),
    ClaimPlan("PROF", "knee_injection_right"),
    ClaimPlan("PROF", "physical_therapy"),
    ClaimPlan("PROF", "chest_xray_reading"),
    ClaimPlan("PROF", "hospital_rounds"),
    ClaimPlan("PROF", "emergency_chest_pain_physician"),
    ClaimPlan("DENT", "recall_visit_child"),
    ClaimPlan("DENT", "extraction"),
)


def money(cents: int) -> str:
    # Exact: cents / 100 is the double nearest to the 2-decimal value, and .2f rounds back to it.
    return f"{cents / 100:.2f}"


class LineDraft:
    """A service line: its row fields, charge (cents), benefit class and denial."""

    __slots__ = ("benefit", "denial", "row", "submitted")

    def __init__(self, row: dict[str, str], submitted: int, benefit: str, denial: str = "") -> None:
        self.row = row
        self.submitted = submitted
        self.benefit = benefit
        self.denial = denial


@dataclass(frozen=True)
class Pricing:
    """Per-claim adjudication terms: allowed share of charges, deductible still to meet, and
    the coinsurance left before the member reaches the out-of-pocket maximum."""

    allowed_pct: int
    deductible: int
    coinsurance_cap: int
    in_network: bool


@dataclass
class CostShare:
    """What is left of the member's cost sharing while a claim's lines are adjudicated."""

    deductible: int
    coinsurance: int
    copay_due: bool = True


class ClaimGenerator:
    """Draws claims and streams them to the drop's claim files."""

    def __init__(
        self,
        rng: random.Random,
        roster: Roster,
        providers: ProviderPool,
        out: DropWriter,
        scenarios: bool,
    ) -> None:
        self.rng = rng
        self.roster = roster
        self.providers = providers
        self.scenarios = scenarios
        self.medical_claims = 0
        self.pharmacy_claims = 0
        self._next_id = 0
        self._compounds = 0
        self._header = out["claim_header"]
        self._line = out["claim_line"]
        self._code = out["claim_code"]
        self._rx = out["pharmacy_claim"]
        self._ingredient = out["pharmacy_ingredient"]
        self._note = out["claim_note"]
        self._pools = {
            "": None,
            "dental": roster.dental_members,
            "dependent": roster.dependents,
            "child": roster.children,
            "other_dependent": roster.other_dependents,
            "two_span_first": roster.two_span_members,
            "two_span_second": roster.two_span_members,
        }
        self._by_age = {kind: _encounters_by_age(kind) for kind in MEDICAL_TYPES}

    def generate(self, total: int) -> None:
        """Write exactly `total` claims, scenario claims spread evenly among them."""
        scripted = SCENARIO_PLANS if self.scenarios else ()
        # (the claim count at which each scripted plan is due, the plan)
        due = deque((n * total // len(scripted), plan) for n, plan in enumerate(scripted))
        written = 0
        while written < total:
            plan = due.popleft()[1] if due and written >= due[0][0] else self._random_plan()
            if plan.status == "A" and total - written < 2:
                plan = replace(plan, status="P")
            written += self._emit(plan)

    # -- drawing -------------------------------------------------------------------------

    def _random_plan(self) -> ClaimPlan:
        rng = self.rng
        r = rng.random()
        kind = next(k for k, limit in TYPE_MIX if r < limit)
        if not self.scenarios:
            return ClaimPlan(kind)
        r = rng.random()
        status = "D" if r < 0.04 else "A" if r < 0.055 else "R" if r < 0.063 else "P"
        denials = PHARMACY_DENIALS if kind == "RX" else CLAIM_DENIALS
        denied_line = ""
        if status == "P" and kind in LINE_DENIALS and rng.random() < 0.03:
            denied_line = rng.choice(LINE_DENIALS[kind])
        return ClaimPlan(
            kind,
            status=status,
            network="O" if rng.random() < 0.07 else "I",
            denial=rng.choice(denials) if status == "D" else "",
            denied_line=denied_line,
            compound=kind == "RX" and rng.random() < 0.01,
        )

    def _draw(self, selector: str) -> int | None:
        pool = self._pools[selector]
        if pool is None:
            return self.rng.randrange(len(self.roster))
        return pool[self.rng.randrange(len(pool))] if pool else None

    def _spans(self, member: int, kind: str, selector: str) -> list[tuple[int, int]]:
        if kind == "DENT":
            span = self.roster.dental_span(member)
            return [span] if span else []
        spans = self.roster.medical_spans(member)
        if selector == "two_span_first":
            return spans[:1]
        if selector == "two_span_second":
            return spans[1:]
        return spans

    def _place(self, member: int, kind: str, selector: str, length: int, tail: int) -> int | None:
        """A first service day inside one of the member's spans, leaving `tail` days to adjudicate."""
        spans = self._spans(member, kind, selector)
        if len(spans) > 1 and self.rng.random() < 0.5:
            spans.reverse()
        for lo, hi in spans:
            hi = min(hi - length, LAST_DAY - tail - length)
            if hi >= lo:
                return self.rng.randint(lo, hi)
        return None

    def _medical_draw(self, plan: ClaimPlan, tail: int) -> tuple[int, Encounter, int, int]:
        """Member, encounter, first day and length of stay that fit together."""
        fixed = ENCOUNTERS.get(plan.encounter)
        selector = plan.member or ("dental" if plan.claim_type == "DENT" else "")
        for _ in range(60):
            member = self._draw(selector)
            if member is None:
                break
            age = self.roster.age(member)
            encounter = fixed or self._encounter_for(plan.claim_type, age)
            if encounter is None or not encounter.ages[0] <= age <= encounter.ages[1]:
                continue
            length = self.rng.randint(*encounter.stay)
            start = self._place(member, plan.claim_type, selector, length, tail)
            if start is not None:
                return member, encounter, start, length
        if plan.claim_type == "PROF" and not plan.encounter and not plan.member:
            raise RuntimeError("no member has coverage that can hold a claim")
        # The scripted member or encounter does not exist in this drop: use a plain visit.
        return self._medical_draw(ClaimPlan("PROF"), tail)

    def _encounter_for(self, kind: str, age: int) -> Encounter | None:
        choices, weights = self._by_age[kind][min(age, 120)]
        return self.rng.choices(choices, cum_weights=weights)[0] if choices else None

    def _claim_id(self, prefix: str) -> str:
        self._next_id += 1
        return f"{prefix}{26_000_000 + self._next_id}"

    def _emit(self, plan: ClaimPlan) -> int:
        if plan.claim_type == "RX":
            return self._pharmacy(plan)
        return self._medical(plan)

    # -- medical and dental -------------------------------------------------------------------

    def _medical(self, plan: ClaimPlan) -> int:
        rng = self.rng
        tail = 80 if plan.status == "A" else 45
        member, encounter, start, length = self._medical_draw(plan, tail)
        end = start + length
        kind = encounter.claim_type
        received = end + rng.randint(1, 30)
        adjudicated = received + rng.randint(0, 14)
        claim_id = self._claim_id("C")
        status = "P" if plan.status == "A" else plan.status
        header = {
            "claim_id": claim_id,
            "claim_type_code": kind,
            "member_id": self.roster.member_id(member),
            "status_code": status,
            "received_date": DAY_TEXT[received],
            "adjudicated_date": DAY_TEXT[adjudicated],
            "paid_date": "" if status == "D" else DAY_TEXT[adjudicated],
            "statement_from_date": DAY_TEXT[start],
            "statement_to_date": DAY_TEXT[end],
            "network_status_code": plan.network,
            "payee_type_code": self._payee(plan, member, kind),
            "patient_account_number": f"{rng.randint(10**9, 10**10 - 1)}",
            "denial_reason_code": plan.denial,
        }
        header |= self._medical_providers(encounter)
        header["medical_record_number"] = f"{header['billing_provider_npi'][-4:]}{member:07d}"
        if kind in ("IP", "OP"):
            header |= self._institutional(encounter, start, end)
        else:
            header["place_of_service_code"] = encounter.place_of_service
            header |= self._professional(encounter, plan, header)
        trip = self._trip(encounter) if encounter.practice == "ambulance" else None
        lines = self._lines(claim_id, encounter, start, end, trip)
        if plan.denied_line and len(lines) > 1:
            lines[-1].denial = plan.denied_line
        pricing = self._pricing(plan.network, kind)
        codes = self._codes(claim_id, encounter, start, end, lines)
        header_priced = plan.header_priced
        if header_priced is None:
            header_priced = rng.random() < HEADER_PRICED_SHARE.get(kind, 0)
        self._write_medical(header, lines, codes, pricing, header_priced)
        self.medical_claims += 1
        if plan.status != "A":
            return 1
        # The payer reprocesses the claim with a corrected fee schedule: same charges, new pricing.
        repriced = replace(pricing, allowed_pct=min(100, pricing.allowed_pct + rng.randint(2, 8)))
        self._write_medical(
            *self._adjustment(header, lines, codes, adjudicated), repriced, header_priced
        )
        self.medical_claims += 1
        return 2

    def _professional(
        self, encounter: Encounter, plan: ClaimPlan, header: dict[str, str]
    ) -> dict[str, str]:
        """Professional and dental header fields: facility, rendering network, ADA items 40-44."""
        rng = self.rng
        row: dict[str, str] = {}
        if header.get("rendering_provider_npi"):
            # The rendering clinician practises in the billing group, so shares its network.
            row["rendering_network_status_code"] = plan.network
        if encounter.claim_type == "DENT":
            row["service_facility_npi"] = header["billing_provider_npi"]  # the treating office
        elif encounter.place_of_service in HOSPITAL_PLACES:
            providers = self.providers
            row["service_facility_npi"] = providers.use(providers.practice("hospital").org)
        if encounter.prosthesis:
            row["prosthesis_replacement_code"] = "Y" if rng.random() < 0.2 else "N"
        if encounter.orthodontic:
            row["orthodontic_months_remaining"] = str(rng.randint(1, 22))
        return row

    def _trip(self, encounter: Encounter) -> dict[str, str]:
        """One ambulance trip (837P CR1 and the pick-up and drop-off loops) to a hospital."""
        rng = self.rng
        hospital = self.providers.rows[self.providers.practice("hospital").org]
        destination = (
            f"{hospital['organization_name']}, {hospital['address_line1']}, "
            f"{hospital['city']}, {hospital['state']} {hospital['postal_code']}"
        )
        return {
            "patient_weight": str(rng.randint(110, 280)),
            "ambulance_transport_reason_code": rng.choices("ABD", cum_weights=(80, 90, 100))[0],
            "transport_distance": str(rng.randint(3, 25)),
            "round_trip_purpose": encounter.round_trip,
            "stretcher_purpose": encounter.stretcher,
            "destination": destination,
        }

    def _payee(self, plan: ClaimPlan, member: int, kind: str) -> str:
        if plan.network == "I" or kind in ("IP", "OP"):
            return "P"
        # Out-of-network professional and dental claims reimburse the subscriber or patient.
        return self.rng.choice("SB") if self.roster.is_subscriber(member) else "S"

    def _medical_providers(self, encounter: Encounter) -> dict[str, str]:
        providers = self.providers
        row: dict[str, str] = {}
        if encounter.claim_type in ("IP", "OP"):
            row["billing_provider_npi"] = providers.use(providers.practice("hospital").org)
            row["attending_provider_npi"] = providers.use(providers.clinician(encounter.attending))
        else:
            practice = providers.practice(encounter.practice)
            row["billing_provider_npi"] = providers.use(practice.org)
            if practice.clinicians:  # an ambulance service bills without a rendering clinician
                row["rendering_provider_npi"] = providers.use(self.rng.choice(practice.clinicians))
        if encounter.referred:
            row["referring_provider_npi"] = providers.use(providers.clinician("primary_care"))
        return row

    def _institutional(self, encounter: Encounter, start: int, end: int) -> dict[str, str]:
        inpatient = encounter.claim_type == "IP"
        row = {
            "type_of_bill": "0111" if inpatient else "0131",
            "admission_type_code": encounter.admission_type,
            "admission_source_code": self.rng.choice(encounter.admission_sources),
            "discharge_status_code": self.rng.choice(encounter.discharge_statuses or ("01",)),
        }
        if inpatient:
            row |= {
                "drg_code": encounter.drg,
                "admission_date": DAY_TEXT[start],
                "discharge_date": DAY_TEXT[end],
            }
        return row

    def _lines(
        self,
        claim_id: str,
        encounter: Encounter,
        start: int,
        end: int,
        trip: dict[str, str] | None = None,
    ) -> list[LineDraft]:
        rng = self.rng
        extras = (t for t in encounter.extra_lines if rng.random() < 0.5)
        templates = [*encounter.lines, *extras][:MAX_LINES]
        markup = rng.randint(90, 120)
        inpatient = encounter.claim_type == "IP"
        place = encounter.place_of_service
        teeth_used: list[int] = []
        lines = []
        for number, template in enumerate(templates, start=1):
            first, last = _line_days(inpatient, number, len(templates), start, end)
            # Per-day units: nights of an inpatient stay, or the days a visit line spans.
            days = last - first + (0 if inpatient else 1)
            units = days if template.per_day else rng.randint(*template.units)
            if template.mileage and trip:
                units = int(trip["transport_distance"])
            row = {
                "claim_id": claim_id,
                "line_number": str(number),
                "service_from_date": DAY_TEXT[first],
                "service_to_date": DAY_TEXT[last],
                "revenue_code": template.revenue,
                "procedure_code_type": procedure_code_type(template.code),
                "procedure_code": template.code,
                "units": str(units),
                "place_of_service_code": place,
            }
            for n, modifier in enumerate(template.modifiers, start=1):
                row[f"modifier_{n}"] = modifier
            if template.teeth:
                tooth = self._tooth(template.teeth, teeth_used, encounter.same_tooth)
                row["tooth_number"] = str(tooth)
                if template.surface:
                    row["tooth_surface"] = rng.choice(SURFACES[template.teeth])
                if template.additional_teeth:
                    row["additional_tooth_numbers"] = _neighbours(tooth, template.additional_teeth)
            if trip:
                row |= _transport_fields(trip, row, lines)
            lines.append(LineDraft(row, template.charge * markup // 100 * units, template.benefit))
        return lines

    def _tooth(self, kind: str, used: list[int], same_tooth: bool) -> int:
        if same_tooth and used:
            return used[0]
        choices = [t for t in TEETH[kind] if t not in used] or list(TEETH[kind])
        tooth = self.rng.choice(choices)
        used.append(tooth)
        return tooth

    def _codes(
        self,
        claim_id: str,
        encounter: Encounter,
        start: int,
        end: int,
        lines: list[LineDraft],
    ) -> list[dict[str, str]]:
        inpatient = encounter.claim_type == "IP"
        rows = []
        for sequence, (code, dx_type) in enumerate(encounter.diagnoses, start=1):
            rows.append(
                {
                    "claim_id": claim_id,
                    "code_category": "DX",
                    "sequence": str(sequence),
                    "code": code,
                    "diagnosis_type_code": dx_type,
                    "present_on_admission_code": self._poa(dx_type) if inpatient else "",
                }
            )
        for sequence, code in enumerate(encounter.procedures, start=1):
            day = min(start + self.rng.randint(0, 1), end)
            rows.append(
                {
                    "claim_id": claim_id,
                    "code_category": "PX",
                    "sequence": str(sequence),
                    "code": code,
                    "procedure_date": DAY_TEXT[day],
                }
            )
        if encounter.missing_teeth:
            rows.extend(self._missing_teeth(claim_id, lines))
        return rows

    def _missing_teeth(self, claim_id: str, lines: list[LineDraft]) -> list[dict[str, str]]:
        """One to three teeth the member has lost, none of them treated on this claim."""
        treated = {
            int(t)
            for line in lines
            for t in (
                line.row.get("tooth_number", ""),
                *line.row.get("additional_tooth_numbers", "").split(","),
            )
            if t
        }
        candidates = [t for t in (1, 16, 17, 32, 2, 15, 18, 31) if t not in treated]
        missing = sorted(self.rng.sample(candidates, self.rng.randint(1, 3)))
        return [
            {"claim_id": claim_id, "code_category": "MT", "sequence": str(n), "code": str(tooth)}
            for n, tooth in enumerate(missing, start=1)
        ]

    def _poa(self, dx_type: str) -> str:
        if dx_type == "A":
            return ""  # the admitting diagnosis carries no present-on-admission indicator
        if dx_type == "P":
            return "Y"
        r = self.rng.random()
        return "Y" if r < 0.82 else "N" if r < 0.92 else "U" if r < 0.96 else "W"

    def _pricing(self, network: str, kind: str) -> Pricing:
        rng = self.rng
        in_network = network == "I"
        low, high = (60, 85) if kind == "DENT" else (45, 75)
        if not in_network:
            low, high = low - 15, high - 20
        deductible = 0
        if rng.random() < (0.35 if in_network else 0.6):
            deductible = rng.randint(5, 150) * 1000 if kind != "DENT" else 5000
        cap = rng.randint(100, 400) * 1000 * (1 if in_network else 2)
        return Pricing(rng.randint(low, high), deductible, cap, in_network)

    def _adjustment(
        self,
        header: dict[str, str],
        lines: list[LineDraft],
        codes: list[dict[str, str]],
        adjudicated: int,
    ) -> tuple[dict[str, str], list[LineDraft], list[dict[str, str]]]:
        """The claim that replaces a paid one, received after the original was adjudicated."""
        rng = self.rng
        claim_id = self._claim_id("C")
        received = adjudicated + rng.randint(3, 20)
        readjudicated = received + rng.randint(0, 10)
        new_header = header | {
            "claim_id": claim_id,
            "status_code": "A",
            "original_claim_id": header["claim_id"],
            "received_date": DAY_TEXT[received],
            "adjudicated_date": DAY_TEXT[readjudicated],
            "paid_date": DAY_TEXT[readjudicated],
        }
        if header.get("type_of_bill"):
            # Frequency code 7: replacement of a prior claim.
            new_header["type_of_bill"] = header["type_of_bill"][:3] + "7"
        new_lines = [
            LineDraft(line.row | {"claim_id": claim_id}, line.submitted, line.benefit, line.denial)
            for line in lines
        ]
        return new_header, new_lines, [row | {"claim_id": claim_id} for row in codes]

    def _write_medical(
        self,
        header: dict[str, str],
        lines: list[LineDraft],
        codes: list[dict[str, str]],
        pricing: Pricing,
        header_priced: bool = False,
    ) -> None:
        """Adjudicate and write a claim; a header-priced claim keeps its amounts off the lines."""
        totals: Iterable[int] = (0,) * len(AMOUNT_FIELDS)
        share = CostShare(pricing.deductible, pricing.coinsurance_cap)
        claim_denial = header["denial_reason_code"]
        for line in lines:
            denial = claim_denial or line.denial
            amounts = _adjudicate_line(line, pricing, denial, share)
            line.row["denial_reason_code"] = denial
            line.row["allowed_units"] = "0" if denial else line.row["units"]
            priced = ("",) * len(AMOUNT_FIELDS) if header_priced else map(money, amounts)
            line.row.update(zip(AMOUNT_FIELDS, priced, strict=True))
            self._line.write(line.row)
            totals = tuple(map(add, totals, amounts))
        header.update(zip(AMOUNT_FIELDS, map(money, totals), strict=True))
        self._header.write(header)
        for row in codes:
            self._code.write(row)
        self._write_notes(header["claim_id"], _medical_notes(header, lines, header_priced))

    def _write_notes(self, claim_id: str, notes: list[tuple[str, str]]) -> None:
        for number, (line_number, text) in enumerate(notes, start=1):
            self._note.write(
                {
                    "claim_id": claim_id,
                    "note_number": str(number),
                    "line_number": line_number,
                    "note_text": text,
                }
            )

    # -- pharmacy ---------------------------------------------------------------------------------

    def _pharmacy(self, plan: ClaimPlan) -> int:
        rng = self.rng
        member, fill = self._pharmacy_draw(plan)
        age = self.roster.age(member)
        claim_id = self._claim_id("RX")
        status = "P" if plan.status == "A" else plan.status
        received = fill
        if plan.network == "O":
            received = fill + rng.randint(5, 30)  # a member-submitted paper claim
        adjudicated = received + (rng.randint(1, 10) if plan.network == "O" else 0)
        row = {
            "claim_id": claim_id,
            "member_id": self.roster.member_id(member),
            "status_code": status,
            "fill_date": DAY_TEXT[fill],
            "received_date": DAY_TEXT[received],
            "adjudicated_date": DAY_TEXT[adjudicated],
            "paid_date": "" if status == "D" else DAY_TEXT[adjudicated],
            "rx_number": str(rng.randint(1_000_000, 9_999_999)),
            "rx_origin_code": rng.choices("1234", cum_weights=(12, 16, 96, 100))[0],
            "prescriber_npi": self.providers.use(self.providers.clinician("primary_care")),
            "pharmacy_npi": self.providers.use(self.providers.practice("pharmacy").org),
            "network_status_code": plan.network,
            "denial_reason_code": plan.denial,
        }
        ingredients: list[dict[str, str]] = []
        if plan.compound:
            ingredient_cost = self._compound(row, claim_id, ingredients)
        else:
            ingredient_cost = self._dispense(row, self._drug_for(age))
        fee = rng.randint(1500, 2500) if plan.compound else rng.randint(100, 300)
        # The pharmacy bills its usual and customary price, above the plan's ingredient + fee.
        submitted = (ingredient_cost + fee) * rng.randint(105, 160) // 100
        self._write_pharmacy(row, ingredients, ingredient_cost, fee, submitted)
        self.pharmacy_claims += 1
        if plan.status != "A":
            return 1
        # A rebill a few days later that corrects the dispensing fee.
        rebill = self._rx_adjustment(row, ingredients, adjudicated)
        self._write_pharmacy(*rebill, ingredient_cost, fee + 50, submitted + 50)
        self.pharmacy_claims += 1
        return 2

    def _pharmacy_draw(self, plan: ClaimPlan) -> tuple[int, int]:
        tail = 45 if plan.network == "O" or plan.status == "A" else 5
        for _ in range(60):
            member = self._draw(plan.member)
            if member is None:
                break
            if self.roster.age(member) < 2:
                continue
            fill = self._place(member, "RX", plan.member, 0, tail)
            if fill is not None:
                return member, fill
        if not plan.member:
            raise RuntimeError("no member has coverage that can hold a pharmacy claim")
        return self._pharmacy_draw(replace(plan, member=""))

    def _drug_for(self, age: int) -> Drug:
        candidates = [d for d in DRUGS if d.ages[0] <= age <= d.ages[1]]
        return self.rng.choices(candidates, weights=[d.weight for d in candidates])[0]

    def _dispense(self, row: dict[str, str], drug: Drug) -> int:
        rng = self.rng
        days = drug.acute_days or rng.choice((30, 30, 90))
        quantity = int(drug.quantity_30) * (days // 30 if drug.maintenance else 1)
        refills = (3 if days == 90 else rng.choice((5, 11))) if drug.maintenance else 0
        daw = "0"
        if drug.brand and drug.has_generic:
            daw = rng.choice("12")  # brand dispensed although a generic exists
        row |= {
            "ndc": drug.ndc,
            "quantity": str(quantity),
            "days_supply": str(days),
            "daw_code": daw,
            "compound_code": "1",
            "brand_generic_code": "1" if drug.brand else "2",
            "fill_number": str(rng.randint(0, min(refills, 5))),
            "refills_authorized": str(refills),
        }
        return drug.unit_cost * quantity

    def _compound(
        self, row: dict[str, str], claim_id: str, ingredients: list[dict[str, str]]
    ) -> int:
        # Recipes take turns, so even a small drop shows each of them.
        _, recipe, total_ml = COMPOUNDS[self._compounds % len(COMPOUNDS)]
        self._compounds += 1
        cost = 0
        for number, (drug, quantity) in enumerate(recipe, start=1):
            ingredient_cost = drug.unit_cost * int(quantity)
            cost += ingredient_cost
            ingredients.append(
                {
                    "claim_id": claim_id,
                    "ingredient_number": str(number),
                    "ndc": drug.ndc,
                    "quantity": quantity,
                    "ingredient_cost_amount": money(ingredient_cost),
                }
            )
        row |= {
            "ndc": "",
            "quantity": total_ml,
            "days_supply": "30",
            "daw_code": "0",
            "compound_code": "2",
            "fill_number": str(self.rng.randint(0, 2)),
            "refills_authorized": "2",
        }
        return cost

    def _rx_adjustment(
        self, row: dict[str, str], ingredients: list[dict[str, str]], adjudicated: int
    ) -> tuple[dict[str, str], list[dict[str, str]]]:
        """The claim that replaces a paid fill, adjudicated days after the original."""
        claim_id = self._claim_id("RX")
        rebilled = adjudicated + self.rng.randint(1, 5)
        new_row = row | {
            "claim_id": claim_id,
            "status_code": "A",
            "original_claim_id": row["claim_id"],
            "received_date": DAY_TEXT[rebilled],
            "adjudicated_date": DAY_TEXT[rebilled],
            "paid_date": DAY_TEXT[rebilled],
        }
        return new_row, [r | {"claim_id": claim_id} for r in ingredients]

    def _write_pharmacy(
        self,
        row: dict[str, str],
        ingredients: list[dict[str, str]],
        ingredient_cost: int,
        fee: int,
        submitted: int,
    ) -> None:
        cost = ingredient_cost + fee
        if row["denial_reason_code"]:
            allowed = copay = coinsurance = 0
        elif row["network_status_code"] == "I":
            allowed, coinsurance = cost, 0
            copay = min(_rx_copay(row), allowed)
        else:
            allowed, copay = cost * 85 // 100, 0
            coinsurance = allowed * 30 // 100
        in_network = row["network_status_code"] == "I"
        if row["denial_reason_code"]:
            noncovered, discount = submitted, 0
        else:
            noncovered, discount = _reductions(submitted, allowed, in_network)
        owed_beyond_cost_sharing = 0 if in_network else noncovered
        amounts = (
            submitted,
            allowed,
            allowed - copay - coinsurance,
            0,
            coinsurance,
            copay,
            noncovered,
            discount,
            copay + coinsurance + owed_beyond_cost_sharing,
        )
        row["ingredient_cost_amount"] = money(ingredient_cost)
        row["dispensing_fee_amount"] = money(fee)
        row.update(zip(AMOUNT_FIELDS, map(money, amounts), strict=True))
        self._rx.write(row)
        for ingredient in ingredients:
            self._ingredient.write(ingredient)
        self._write_notes(row["claim_id"], _pharmacy_notes(row))


def _neighbours(tooth: int, count: int) -> str:
    """Up to `count` teeth next to `tooth` in its quadrant (1-8, 9-16, 17-24, 25-32)."""
    quadrant = (tooth - 1) // 8
    near = [t for t in (tooth + 1, tooth - 1, tooth + 2, tooth - 2) if (t - 1) // 8 == quadrant]
    return ",".join(str(t) for t in sorted(near[:count]))


def _transport_fields(
    trip: dict[str, str], row: dict[str, str], earlier: list[LineDraft]
) -> dict[str, str]:
    """The CR1 data of an ambulance line: RH legs go home → hospital, HR legs come back; a
    mileage line belongs to the leg before it."""
    leg = row.get("modifier_1") or (earlier[-1].row.get("modifier_1") if earlier else "RH")
    home, hospital = "Patient residence", trip["destination"]
    pickup, dropoff = (home, hospital) if leg == "RH" else (hospital, home)
    fields = {k: v for k, v in trip.items() if k != "destination"}
    return fields | {"pickup_location": pickup, "dropoff_location": dropoff}


def _medical_notes(
    header: dict[str, str], lines: list[LineDraft], header_priced: bool
) -> list[tuple[str, str]]:
    """The remarks the payer prints on the EOB: (line number or "", text)."""
    notes: list[tuple[str, str]] = []
    denial = header["denial_reason_code"]
    if denial:
        notes.append(("", f"Claim denied: {CARC[denial]} (CARC {denial})."))
    if header.get("original_claim_id"):
        notes.append(
            (
                "",
                f"Replaces claim {header['original_claim_id']}, reprocessed with corrected pricing.",
            )
        )
    if header["network_status_code"] == "O":
        notes.append(("", OUT_OF_NETWORK_NOTE))
    if header_priced and header.get("drg_code"):
        notes.append(("", f"Paid at the MS-DRG {header['drg_code']} rate; lines are not priced."))
    elif header_priced:
        notes.append(("", "Paid at the facility's case rate; lines are not priced."))
    for line in lines:
        number = line.row["line_number"]
        if line.denial and not denial:
            notes.append((number, f"Line denied: {CARC[line.denial]} (CARC {line.denial})."))
        if header["claim_type_code"] == "IP" and line.row["revenue_code"] in ("0120", "0200"):
            days = line.row["units"]
            notes.append((number, f"{days} inpatient day(s) approved by concurrent review."))
    return notes


def _pharmacy_notes(row: dict[str, str]) -> list[tuple[str, str]]:
    notes: list[tuple[str, str]] = []
    reject = row["denial_reason_code"]
    if reject:
        text = f"Rejected at the pharmacy: {NCPDP_REJECT[reject]} (NCPDP reject {reject})."
        notes.append(("1", text))
    if row.get("original_claim_id"):
        notes.append(
            ("", f"Replaces claim {row['original_claim_id']} with a corrected dispensing fee.")
        )
    if row["network_status_code"] == "O":
        notes.append(("", OUT_OF_NETWORK_NOTE))
    return notes


def _adjudicate_line(
    line: LineDraft, pricing: Pricing, denial: str, share: CostShare
) -> tuple[int, ...]:
    """Amounts of one line in AMOUNT_FIELDS order; draws down the claim's cost sharing."""
    submitted = line.submitted
    if denial:
        # A network provider writes a denied line off; an out-of-network one may bill the member.
        liability = 0 if pricing.in_network else submitted
        return (submitted, 0, 0, 0, 0, 0, submitted, 0, liability)
    allowed = submitted * pricing.allowed_pct // 100
    deductible = coinsurance = copay = 0
    if not (line.benefit == "preventive" and pricing.in_network):
        copay_applies = pricing.in_network or line.benefit == "emergency"
        if share.copay_due and copay_applies and line.benefit in COPAYS:
            copay, share.copay_due = min(COPAYS[line.benefit], allowed), False
        deductible = min(share.deductible, allowed - copay)
        share.deductible -= deductible
        default = 20 if pricing.in_network else 40
        percent = COINSURANCE.get((line.benefit, pricing.in_network), default)
        coinsurance = min((allowed - copay - deductible) * percent // 100, share.coinsurance)
        share.coinsurance -= coinsurance
    noncovered, discount = _reductions(submitted, allowed, pricing.in_network)
    paid = allowed - deductible - coinsurance - copay
    liability = deductible + coinsurance + copay + noncovered
    return (
        submitted,
        allowed,
        paid,
        deductible,
        coinsurance,
        copay,
        noncovered,
        discount,
        liability,
    )


def _reductions(submitted: int, allowed: int, in_network: bool) -> tuple[int, int]:
    """(noncovered, discount): in network the gap to the allowed amount is the contractual
    discount the provider writes off; out of network it is not covered and the member may owe it."""
    gap = submitted - allowed
    return (0, gap) if in_network else (gap, 0)


def _rx_copay(row: dict[str, str]) -> int:
    ninety = row["days_supply"] == "90"
    if row.get("brand_generic_code") == "2" or row["compound_code"] == "2":
        return 2500 if ninety else 1000
    return 11000 if ninety else 4500


def _line_days(inpatient: bool, number: int, count: int, start: int, end: int) -> tuple[int, int]:
    """Service days of a line: the whole stay on inpatient claims; otherwise first line on the
    first day, last line on the last day, and lines between over the days between."""
    if inpatient or start == end:
        return start, end
    if number == 1:
        return start, start
    if number == count:
        return end, end
    return start + 1, end - 1


def _encounters_by_age(kind: str) -> list[tuple[tuple[Encounter, ...], list[int]]]:
    """For each age 0..120, the encounters of a claim type that fit it and their weights."""
    table = []
    for age in range(121):
        fits = tuple(e for e in ENCOUNTERS_BY_TYPE[kind] if e.ages[0] <= age <= e.ages[1])
        cumulative, total = [], 0
        for encounter in fits:
            total += encounter.weight
            cumulative.append(total)
        table.append((fits, cumulative))
    return table
