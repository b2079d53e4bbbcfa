"""USDF builders: versioned profiles, cost sharing in each version's shape, and valid output."""

import json
from decimal import Decimal

from pipelines.fhir import formulary as usdf
from pipelines.fhir.build import dumps
from pipelines.fhir.ids import DEVELOPMENT_ID_KEY, IdMaker
from pipelines.fhir.validation import validate

IDS = IdMaker.from_secret(DEVELOPMENT_ID_KEY)
NOW = "2026-12-04T02:00:00Z"


def _issues(resource: dict) -> list[str]:
    """Validate the resource as the pipeline does: as the JSON it is stored as."""
    return validate(json.loads(dumps(resource)))


COPAY = {"pharmacy_type": "1-month-in-retail", "copay_amount": Decimal("10.00"),
         "copay_option": "before-deductible", "coinsurance_rate": None,
         "coinsurance_option": "not-applicable"}  # fmt: skip
PLAN = {
    "source": "qhp", "plan_key": "21989CT0030001", "plan_id_type": "HIOS-PLAN-ID",
    "name": "Synthetic Exchange Silver Plan", "formulary_key": "qhp|21989CT0030001",
    "product_type": "qhp", "plan_year": 2026, "states": ["CT"],
    "summary_url": "https://payer-interop.example.org/s", "marketing_url": None,
    "formulary_url": None, "plan_contact": "formulary@payer-interop.example.org",
    "network_tier": "PREFERRED",
    "tiers": [{"tier_code": "generic", "tier_display": "Generic", "mail_order": False,
               "cost_sharing": [COPAY]}],
}  # fmt: skip
DRUG = {"source": "qhp", "plan_key": "21989CT0030001", "rxcui": "313782",
        "name": "Acetaminophen 325 MG Oral Tablet", "tty": "SCD", "tier_code": "generic",
        "tier_display": "Generic", "prior_authorization": False, "step_therapy": True,
        "quantity_limit": False, "mail_order": False}  # fmt: skip


def test_dose_form_is_the_end_of_the_rxnorm_name() -> None:
    assert usdf.dose_form("Acetaminophen 325 MG Oral Tablet") == "Oral Tablet"
    assert usdf.dose_form("rosuvastatin calcium 5 MG Oral Tablet [Crestor]") == "Oral Tablet"
    assert usdf.dose_form("24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet") == (
        "Extended Release Oral Tablet"
    )
    assert usdf.dose_form("Yaz 28 Day Pack") == "Pack"
    assert usdf.dose_form(None) is None


def test_stu2_plan_carries_its_cost_sharing_per_pharmacy_type_and_tier() -> None:
    plan = usdf.build_payer_plan(PLAN, IDS, NOW)
    assert plan["meta"]["profile"] == [usdf.PAYER_PLAN_PROFILE]
    (specific,) = plan["plan"][0]["specificCost"]
    assert specific["category"]["coding"][0]["code"] == "1-month-in-retail"
    (cost,) = specific["benefit"][0]["cost"]
    assert cost["type"]["coding"][0]["code"] == "copay"
    assert cost["value"]["value"] == Decimal("10.00")
    assert _issues(plan) == []


def test_stu1_cost_sharing_has_all_five_parts_and_stu2_splits_not_applicable() -> None:
    coverage_plan = usdf.build_coverage_plan(PLAN, IDS, NOW)
    parts = coverage_plan["extension"][0]["extension"][2]["extension"]
    assert [p["url"] for p in parts] == [
        "pharmacyType", "copayAmount", "coinsuranceRate", "copayOption", "coinsuranceOption",
    ]  # fmt: skip
    assert _issues(coverage_plan) == []
    assert usdf._stu2_option("not-applicable", "copay") == "copay-not-applicable"


def test_the_two_formulary_drugs_share_a_canonical_not_a_resource() -> None:
    stu1 = usdf.build_stu1_formulary_drug(DRUG, IDS, NOW)
    stu2 = usdf.build_formulary_drug(DRUG, IDS, NOW)
    canonical = {p.split("|")[0] for p in (*stu1["meta"]["profile"], *stu2["meta"]["profile"])}
    assert len(canonical) == 1
    assert stu1["id"] != stu2["id"]
    assert {e["url"].rsplit("/", 1)[-1] for e in stu1["extension"]} >= {
        "usdf-DrugTierID-extension", "usdf-PlanID-extension", "usdf-StepTherapyLimit-extension",
    }  # fmt: skip
    assert _issues(stu1) == [] and _issues(stu2) == []


def _item(**changes: object) -> dict:
    base = {"formulary_key": "qhp|21989CT0030001", "rxcui": "313782", "plan_year": 2026,
            "pharmacy_types": ["1-month-in-retail"], "tier_code": "generic",
            "tier_display": "Generic", "prior_authorization": False, "step_therapy": False,
            "quantity_limit": True, "quantity_limit_amount": Decimal("60"),
            "quantity_limit_days": 30}  # fmt: skip
    return {**base, **changes}


def test_quantity_limit_amount_and_days_become_a_rolling_limit() -> None:
    item = usdf.build_formulary_item(_item(), IDS, NOW)
    (detail,) = [e for e in item["extension"] if e["url"].endswith("QuantityLimitDetail-extension")]
    assert detail["extension"] == [
        {
            "url": "Rolling",
            "valueTiming": {"repeat": {"count": 60, "period": 30, "periodUnit": "d"}},
        }
    ]
    assert _issues(item) == []
    fractional = usdf.build_formulary_item(_item(quantity_limit_amount=Decimal("0.5")), IDS, NOW)
    assert "Description" in str(fractional["extension"]) and _issues(fractional) == []
    unlimited = usdf.build_formulary_item(_item(quantity_limit=False), IDS, NOW)
    assert "QuantityLimitDetail" not in str(unlimited)


def test_stu1_coverage_plan_lists_its_plans_drugs() -> None:
    plan = usdf.build_coverage_plan({**PLAN, "rxcuis": ["313782", "197361"]}, IDS, NOW)
    expected = [
        IDS.reference("MedicationKnowledge", usdf.stu1_drug_key("qhp", "21989CT0030001", rx))
        for rx in ("313782", "197361")
    ]
    assert [entry["item"] for entry in plan["entry"]] == expected
    assert _issues(plan) == []
    drug = usdf.build_stu1_formulary_drug(DRUG, IDS, NOW)
    assert expected[0]["reference"] == f"MedicationKnowledge/{drug['id']}"
