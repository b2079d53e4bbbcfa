"""Builders for the US Drug Formulary: STU2 (2.0.1) and the STU1 shape (1.1.0) the public API serves.

Both versions name their MedicationKnowledge profile with one canonical; `meta.profile` carries
the version, and the two are separate resources (STU2 one per drug, STU1 one per drug and plan).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pipelines.fhir.ids import IdMaker
from pipelines.fhir.members import coding, concept, meta
from pipelines.fhir.systems import IDENTIFIER_BASE

Record = dict[str, Any]
Resource = dict[str, Any]

STU2, STU1 = "2.0.1", "1.1.0"
_USDF = "http://hl7.org/fhir/us/davinci-drug-formulary"
_SD = f"{_USDF}/StructureDefinition"
_CS = f"{_USDF}/CodeSystem"


def usdf_profile(name: str, version: str) -> str:
    return f"{_SD}/usdf-{name}|{version}"


def _ext(name: str) -> str:
    return f"{_SD}/usdf-{name}-extension"


PAYER_PLAN_PROFILE = usdf_profile("PayerInsurancePlan", STU2)
FORMULARY_PROFILE = usdf_profile("Formulary", STU2)
FORMULARY_ITEM_PROFILE = usdf_profile("FormularyItem", STU2)
FORMULARY_DRUG_PROFILE = usdf_profile("FormularyDrug", STU2)
LOCATION_PROFILE = usdf_profile("InsurancePlanLocation", STU2)
COVERAGE_PLAN_PROFILE = usdf_profile("CoveragePlan", STU1)
STU1_FORMULARY_DRUG_PROFILE = usdf_profile("FormularyDrug", STU1)

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PLAN_TYPE = "http://terminology.hl7.org/CodeSystem/insurance-plan-type"
PRODUCT_TYPE = "http://hl7.org/fhir/us/davinci-pdex-plan-net/CodeSystem/InsuranceProductTypeCS"
UCUM = "http://unitsofmeasure.org"
DRUG_TIER_STU2 = f"{_CS}/usdf-DrugTierCS-TEMPORARY-TRIAL-USE"
PHARMACY_TYPE_STU2 = f"{_CS}/usdf-PharmacyBenefitTypeCS-TEMPORARY-TRIAL-USE"
COST_TYPE = f"{_CS}/usdf-BenefitCostTypeCS-TEMPORARY-TRIAL-USE"
COST_OPTION = f"{_CS}/usdf-CostShareOptionCS-TEMPORARY-TRIAL-USE"
CONTACT_TYPE = f"{_CS}/usdf-PlanContactTypeCS-TEMPORARY-TRIAL-USE"
DRUG_TIER_STU1 = f"{_CS}/usdf-DrugTierCS"
PHARMACY_TYPE_STU1 = f"{_CS}/usdf-PharmacyTypeCS"
COPAY_OPTION_STU1 = f"{_CS}/usdf-CopayOptionCS"
COINSURANCE_OPTION_STU1 = f"{_CS}/usdf-CoinsuranceOptionCS"
PLAN_ID_SYSTEM = f"{IDENTIFIER_BASE}/drug-plan-id"
FORMULARY_ID_SYSTEM = f"{IDENTIFIER_BASE}/formulary-id"

_PRODUCT_DISPLAY = {"mediadv": "Medicare Advantage", "medid": "Medicare Part D", "qhp": "Qualified Health Plan"}  # fmt: skip
_PHARMACY_DISPLAY = {
    f"{months}-month-{network}-{channel}": (
        f"{months} month {'in network' if network == 'in' else 'out of network'} "
        f"{'retail' if channel == 'retail' else 'mail order'}"
    )
    for months in ("1", "3")
    for network in ("in", "out")
    for channel in ("retail", "mail")
}
# The RxNorm dose form closes an SCD or SBD name (before any [Brand]); packs are packs.
_DOSE_FORMS = (
    "Extended Release Oral Tablet", "Extended Release Oral Capsule", "Delayed Release Oral Capsule",
    "Chewable Tablet", "Oral Tablet", "Oral Capsule", "Oral Solution", "Oral Suspension",
    "Injectable Solution", "Injectable Suspension", "Injection", "Prefilled Syringe",
    "Pen Injector", "Auto-Injector", "Topical Cream", "Metered Dose Inhaler", "Dry Powder Inhaler",
    "Inhalation Solution", "Inhalant Solution", "Mucosal Spray", "Transdermal System",
    "Drug Implant", "Intrauterine System", "Vaginal Ring", "Pack",
)  # fmt: skip


# Business keys, prefixed so they never meet another domain's.
def payer_plan_key(source: str, plan_key: str) -> str:
    return f"formulary-plan|{source}|{plan_key}"


def formulary_key(key: str) -> str:
    return f"formulary|{key}"


def item_key(formulary: str, rxcui: str) -> str:
    return f"formulary-item|{formulary}|{rxcui}"


def drug_key(rxcui: str) -> str:
    return f"formulary-drug|{rxcui}"


def location_key(state: str) -> str:
    return f"formulary-area|{state}"


def stu1_plan_key(source: str, plan_key: str) -> str:
    return f"formulary-stu1-plan|{source}|{plan_key}"


def stu1_drug_key(source: str, plan_key: str, rxcui: str) -> str:
    return f"formulary-stu1|{source}|{plan_key}|{rxcui}"


def dose_form(name: str | None) -> str | None:
    """The RxNorm dose form a drug name ends in, e.g. 'Oral Tablet'."""
    base = (name or "").split(" [")[0]
    return next((form for form in _DOSE_FORMS if base.endswith(form)), None)


def _year_period(year: int | None) -> dict[str, str] | None:
    return {"start": f"{year}-01-01", "end": f"{year}-12-31"} if year else None


def _rxnorm_code(drug: Record) -> dict[str, Any]:
    return {"coding": [coding(RXNORM, drug["rxcui"], drug.get("name"))]}


def _boolean_ext(name: str, value: bool | None) -> list[dict[str, Any]]:
    return [] if value is None else [{"url": _ext(name), "valueBoolean": value}]


# ---- STU2 (2.0.1) ----------------------------------------------------------------------------


def _contacts(plan: Record) -> list[dict[str, Any]]:
    contacts = [
        {
            "purpose": concept(CONTACT_TYPE, purpose),
            "name": {"text": f"{plan['name']} {label}"},
            "telecom": [{"system": "url", "value": plan[field]}],
        }
        for field, purpose, label in (
            ("marketing_url", "MARKETING", "marketing information"),
            ("summary_url", "SUMMARY", "benefit summary"),
            ("formulary_url", "FORMULARY", "formulary"),
        )
        if plan.get(field)
    ]
    if plan.get("plan_contact"):
        contacts.append(
            {
                "purpose": concept(
                    "http://terminology.hl7.org/CodeSystem/contactentity-type", "PATINF"
                ),
                "name": {"text": f"{plan['name']} member contact"},
                "telecom": [{"system": "email", "value": plan["plan_contact"]}],
            }
        )
    return contacts


def _stu2_option(option: str, cost_type: str) -> str:
    """STU2 splits STU1's 'not-applicable' into one code per cost type."""
    return f"{cost_type}-not-applicable" if option == "not-applicable" else option


def _stu2_cost(share: Record) -> list[dict[str, Any]]:
    costs = []
    if share.get("copay_amount") is not None:
        costs.append(
            {
                "type": concept(COST_TYPE, "copay", "Copay"),
                "qualifiers": [concept(COST_OPTION, _stu2_option(share["copay_option"], "copay"))],
                "value": {"value": share["copay_amount"], "unit": "$",
                          "system": "urn:iso:std:iso:4217", "code": "USD"},
            }
        )  # fmt: skip
    if share.get("coinsurance_rate") is not None:
        costs.append(
            {
                "type": concept(COST_TYPE, "coinsurance", "Coinsurance"),
                "qualifiers": [concept(COST_OPTION, _stu2_option(share["coinsurance_option"], "coinsurance"))],
                "value": {"value": share["coinsurance_rate"] * 100, "unit": "%",
                          "system": UCUM, "code": "%"},
            }
        )  # fmt: skip
    return costs


def _specific_costs(tiers: list[Record]) -> list[dict[str, Any]]:
    """The plan's cost sharing grouped the IG's way: per pharmacy type, then per drug tier."""
    by_pharmacy: dict[str, list[dict[str, Any]]] = {}
    for tier in tiers:
        for share in tier["cost_sharing"]:
            by_pharmacy.setdefault(share["pharmacy_type"], []).append(
                {
                    "type": concept(DRUG_TIER_STU2, tier["tier_code"], tier["tier_display"]),
                    "cost": _stu2_cost(share),
                }
            )
    return [
        {
            "category": concept(PHARMACY_TYPE_STU2, pharmacy, _PHARMACY_DISPLAY.get(pharmacy)),
            "benefit": benefits,
        }
        for pharmacy, benefits in sorted(by_pharmacy.items())
    ]


def build_payer_plan(plan: Record, ids: IdMaker, last_updated: str) -> Resource:
    """USDF PayerInsurancePlan: the plan, its coverage area, formulary and cost sharing."""
    resource: Resource = {
        "resourceType": "InsurancePlan",
        "id": ids("InsurancePlan", payer_plan_key(plan["source"], plan["plan_key"])),
        "meta": meta(PAYER_PLAN_PROFILE, last_updated),
        "identifier": [{"system": PLAN_ID_SYSTEM, "value": plan["plan_key"]}],
        "status": "active",
        "type": [
            concept(PRODUCT_TYPE, plan["product_type"], _PRODUCT_DISPLAY[plan["product_type"]])
        ],
        "name": plan["name"],
    }
    if period := _year_period(plan.get("plan_year")):
        resource["period"] = period
    if plan.get("states"):
        resource["coverageArea"] = [
            ids.reference("Location", location_key(state)) for state in plan["states"]
        ]
    if contacts := _contacts(plan):
        resource["contact"] = contacts
    resource["coverage"] = [
        {
            "extension": [
                {
                    "url": _ext("FormularyReference"),
                    "valueReference": ids.reference(
                        "InsurancePlan", formulary_key(plan["formulary_key"])
                    ),
                }
            ],
            "type": concept(ACT_CODE, "DRUGPOL"),
            "benefit": [{"type": concept(PLAN_TYPE, "drug", "Drug")}],
        }
    ]
    resource["plan"] = [
        {
            "type": concept(PLAN_TYPE, "drug", "Drug"),
            "specificCost": _specific_costs([t for t in plan["tiers"] if t.get("tier_code")]),
        }
    ]
    return resource


def build_formulary(formulary: Record, ids: IdMaker, last_updated: str) -> Resource:
    """USDF Formulary: the drug list plans point at."""
    resource: Resource = {
        "resourceType": "InsurancePlan",
        "id": ids("InsurancePlan", formulary_key(formulary["formulary_key"])),
        "meta": meta(FORMULARY_PROFILE, last_updated),
        "identifier": [{"system": FORMULARY_ID_SYSTEM, "value": formulary["formulary_identifier"]}],
        "status": "active",
        "type": [concept(ACT_CODE, "DRUGPOL")],
        "name": formulary["formulary_name"],
    }
    if period := _year_period(formulary.get("plan_year")):
        resource["period"] = period
    return resource


def _quantity_limit_detail(item: Record) -> list[dict[str, Any]]:
    """The plan's limit as USDF QuantityLimitDetail: so many units per so many days is a
    rolling limit (Timing count per period, as the IG's own example writes it); a fractional
    amount, which Timing cannot count, is said in words."""
    amount, days = item.get("quantity_limit_amount"), item.get("quantity_limit_days")
    if not item.get("quantity_limit") or amount is None or days is None:
        return []
    if amount == int(amount) and amount > 0:
        repeat = {"count": int(amount), "period": int(days), "periodUnit": "d"}
        detail = {"url": "Rolling", "valueTiming": {"repeat": repeat}}
    else:
        detail = {"url": "Description", "valueString": f"{amount} units per {days} days"}
    return [{"extension": [detail], "url": _ext("QuantityLimitDetail")}]


def build_formulary_item(item: Record, ids: IdMaker, last_updated: str) -> Resource:
    """USDF FormularyItem: one drug on one formulary, with its tier and limits."""
    extensions: list[dict[str, Any]] = [
        {
            "url": _ext("FormularyReference"),
            "valueReference": ids.reference("InsurancePlan", formulary_key(item["formulary_key"])),
        },
        {"url": _ext("AvailabilityStatus"), "valueCode": "active"},
    ]
    if period := _year_period(item.get("plan_year")):
        extensions.append({"url": _ext("AvailabilityPeriod"), "valuePeriod": period})
    extensions += [
        {
            "url": _ext("PharmacyBenefitType"),
            "valueCodeableConcept": concept(
                PHARMACY_TYPE_STU2, pharmacy, _PHARMACY_DISPLAY.get(pharmacy)
            ),
        }
        for pharmacy in item.get("pharmacy_types") or []
    ]
    if item.get("tier_code"):
        extensions.append(
            {
                "url": _ext("DrugTierID"),
                "valueCodeableConcept": concept(
                    DRUG_TIER_STU2, item["tier_code"], item["tier_display"]
                ),
            }
        )
    extensions += _boolean_ext("PriorAuthorization", item["prior_authorization"])
    extensions += _boolean_ext("StepTherapyLimit", item["step_therapy"])
    extensions += _boolean_ext("QuantityLimit", item["quantity_limit"])
    extensions += _quantity_limit_detail(item)
    return {
        "resourceType": "Basic",
        "id": ids("Basic", item_key(item["formulary_key"], item["rxcui"])),
        "meta": meta(FORMULARY_ITEM_PROFILE, last_updated),
        "extension": extensions,
        "code": concept(f"{_CS}/usdf-InsuranceItemTypeCS", "formulary-item", "Formulary Item"),
        "subject": ids.reference("MedicationKnowledge", drug_key(item["rxcui"])),
    }


def build_formulary_drug(drug: Record, ids: IdMaker, last_updated: str) -> Resource:
    """USDF FormularyDrug (2.0.1): the drug once, coded in RxNorm, with its dose form."""
    resource: Resource = {
        "resourceType": "MedicationKnowledge",
        "id": ids("MedicationKnowledge", drug_key(drug["rxcui"])),
        "meta": meta(FORMULARY_DRUG_PROFILE, last_updated),
        "code": _rxnorm_code(drug),
        "status": "active",
    }
    if form := dose_form(drug.get("name")):
        resource["doseForm"] = {"text": form}
    return resource


def build_location(area: Record, ids: IdMaker, last_updated: str) -> Resource:
    """USDF InsurancePlanLocation: a state a plan covers."""
    return {
        "resourceType": "Location",
        "id": ids("Location", location_key(area["state"])),
        "meta": meta(LOCATION_PROFILE, last_updated),
        "name": f"State of {area['state']}",
        "address": {"state": area["state"], "country": "US"},
    }


# ---- STU1 (1.1.0) ----------------------------------------------------------------------------


def _or_zero(amount: Decimal | None) -> Decimal:
    return Decimal(0) if amount is None else amount


def _stu1_cost_sharing(share: Record) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {
            "url": "pharmacyType",
            "valueCodeableConcept": concept(
                PHARMACY_TYPE_STU1,
                share["pharmacy_type"],
                _PHARMACY_DISPLAY.get(share["pharmacy_type"]),
            ),
        }
    ]
    # STU1 requires all five parts; the option codes say which of the two amounts applies.
    parts += [
        {"url": "copayAmount", "valueMoney": {"value": _or_zero(share.get("copay_amount")), "currency": "USD"}},
        {"url": "coinsuranceRate", "valueDecimal": _or_zero(share.get("coinsurance_rate"))},
        {"url": "copayOption", "valueCodeableConcept": concept(COPAY_OPTION_STU1, share["copay_option"])},
        {"url": "coinsuranceOption", "valueCodeableConcept": concept(COINSURANCE_OPTION_STU1, share["coinsurance_option"])},
    ]  # fmt: skip
    return {"url": "costSharing", "extension": parts}


def _tier_definition(tier: Record) -> dict[str, Any]:
    return {
        "url": _ext("DrugTierDefinition"),
        "extension": [
            {
                "url": "drugTierID",
                "valueCodeableConcept": concept(
                    DRUG_TIER_STU1, tier["tier_code"], tier["tier_display"]
                ),
            },
            {"url": "mailOrder", "valueBoolean": bool(tier["mail_order"])},
            *(_stu1_cost_sharing(share) for share in tier["cost_sharing"]),
        ],
    }


def build_coverage_plan(plan: Record, ids: IdMaker, last_updated: str) -> Resource:
    """USDF CoveragePlan (1.1.0): the plan as a List, with its tier definitions and costs."""
    extensions = [_tier_definition(t) for t in plan["tiers"] if t.get("tier_code")]
    extensions += [
        {"url": _ext(name), "valueUrl": plan[field]}
        for name, field in (
            ("MarketingURL", "marketing_url"),
            ("SummaryURL", "summary_url"),
            ("FormularyURL", "formulary_url"),
        )
        if plan.get(field)
    ]
    if plan.get("plan_contact"):
        extensions.append(
            {"url": _ext("EmailPlanContact"), "valueUrl": f"mailto:{plan['plan_contact']}"}
        )
    extensions.append({"url": _ext("Network"), "valueString": plan["network_tier"]})
    extensions.append({"url": _ext("PlanIDType"), "valueString": plan["plan_id_type"]})
    resource: Resource = {
        "resourceType": "List",
        "id": ids("List", stu1_plan_key(plan["source"], plan["plan_key"])),
        "meta": meta(COVERAGE_PLAN_PROFILE, last_updated),
        "extension": extensions,
        "identifier": [{"system": PLAN_ID_SYSTEM, "value": plan["plan_key"]}],
        "status": "current",
        "mode": "snapshot",
        "title": plan["name"],
        "code": concept(ACT_CODE, "DRUGPOL", "drug policy"),
    }
    if plan.get("plan_year"):
        resource["date"] = f"{plan['plan_year']}-01-01"
    if plan.get("rxcuis"):
        resource["entry"] = [
            {
                "item": ids.reference(
                    "MedicationKnowledge", stu1_drug_key(plan["source"], plan["plan_key"], rxcui)
                )
            }
            for rxcui in plan["rxcuis"]
        ]
    return resource


def build_stu1_formulary_drug(drug: Record, ids: IdMaker, last_updated: str) -> Resource:
    """USDF FormularyDrug (1.1.0): the drug as one plan covers it, tier and limits included."""
    extensions: list[dict[str, Any]] = []
    if drug.get("tier_code"):
        extensions.append(
            {
                "url": _ext("DrugTierID"),
                "valueCodeableConcept": concept(
                    DRUG_TIER_STU1, drug["tier_code"], drug["tier_display"]
                ),
            }
        )
    extensions += _boolean_ext("MailOrder", drug.get("mail_order"))
    extensions += _boolean_ext("PriorAuthorization", drug["prior_authorization"])
    extensions += _boolean_ext("StepTherapyLimit", drug["step_therapy"])
    extensions += _boolean_ext("QuantityLimit", drug["quantity_limit"])
    extensions.append({"url": _ext("PlanID"), "valueString": drug["plan_key"]})
    resource: Resource = {
        "resourceType": "MedicationKnowledge",
        "id": ids(
            "MedicationKnowledge", stu1_drug_key(drug["source"], drug["plan_key"], drug["rxcui"])
        ),
        "meta": meta(STU1_FORMULARY_DRUG_PROFILE, last_updated),
        "extension": extensions,
        "code": _rxnorm_code(drug),
        "status": "active",
    }
    if form := dose_form(drug.get("name")):
        resource["doseForm"] = {"text": form}
    return resource
