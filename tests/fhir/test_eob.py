"""EOB builders: one canonical claim record in, one CARIN profile instance out."""

from datetime import date
from decimal import Decimal

import orjson
import pytest

from pipelines.fhir.build import dumps
from pipelines.fhir.eob import build_eob
from pipelines.fhir.ids import IdMaker
from pipelines.fhir.systems import EOB_PROFILES
from pipelines.fhir.validation import validate

IDS = IdMaker.from_secret("test-key")
NOW = "2026-12-04T07:00:00+00:00"
AMOUNTS = {
    "submitted_amount": Decimal("250.00"),
    "allowed_amount": Decimal("180.50"),
    "paid_amount": Decimal("140.50"),
    "deductible_amount": Decimal("20.00"),
    "coinsurance_amount": Decimal("0.00"),
    "copay_amount": Decimal("20.00"),
    "noncovered_amount": Decimal("69.50"),
    "member_liability_amount": Decimal("109.50"),
}


def _line(number: int, **fields: object) -> dict:
    return {
        "line_number": number,
        "service_from_date": date(2026, 3, 2),
        "service_to_date": None,
        "units": Decimal("1"),
        **AMOUNTS,
        **fields,
    }


def _claim(profile_key: str, **fields: object) -> dict:
    return {
        "claim_id": "C100",
        "profile_key": profile_key,
        "status": "paid",
        "member_id": "M1",
        "plan_id": "PLAN-A",
        "coverage_start_date": date(2026, 1, 1),
        "payer_id": "PAYER01",
        "received_date": date(2026, 3, 5),
        "adjudicated_date": date(2026, 3, 9),
        "paid_date": date(2026, 3, 9),
        "statement_from_date": date(2026, 3, 2),
        "statement_to_date": date(2026, 3, 2),
        "billing_npi": "1245319599",
        "billing_type": "Organization",
        "network_status": "innetwork",
        "payee_system": "http://terminology.hl7.org/CodeSystem/payeetype",
        "payee_code": "provider",
        "has_denied_line": False,
        "diagnoses": [
            {
                "sequence": 1,
                "code": "I10",
                "type_system": "http://terminology.hl7.org/CodeSystem/ex-diagnosistype",
                "type_code": "principal",
                "present_on_admission_code": "Y",
            }
        ],
        "procedures": None,
        **AMOUNTS,
        **fields,
    }


def _valid(resource: dict) -> dict:
    parsed = orjson.loads(dumps(resource))
    assert validate(parsed) == []
    return parsed


def _info_codes(eob: dict) -> list[str]:
    return [i["category"]["coding"][0]["code"] for i in eob["supportingInfo"]]


def test_professional_claim_with_rendering_practitioner_and_place_of_service() -> None:
    record = _claim(
        "professional-nonclinician",
        rendering_provider_npi="1234567893",
        rendering_provider_type="Practitioner",
        rendering_provider_taxonomy="207Q00000X",
        referring_provider_npi="1245319599",
        referring_provider_type="Organization",
        lines=[
            _line(
                1,
                procedure_system="http://www.ama-assn.org/go/cpt",
                procedure_code="99213",
                modifier_1="25",
                modifier_2="RT",
                place_of_service_code="11",
            )
        ],
    )
    eob = _valid(build_eob(record, IDS, NOW))
    assert eob["meta"]["profile"] == [EOB_PROFILES["professional-nonclinician"]]
    assert eob["meta"]["profile"][0].endswith("|2.0.0")
    assert eob["status"] == "active" and eob["outcome"] == "complete"
    # The referring NPI is an organization: the profile wants Practitioners, so it is left out.
    assert [m["role"]["coding"][0]["code"] for m in eob["careTeam"]] == ["rendering"]
    assert eob["careTeam"][0]["qualification"]["coding"][0]["code"] == "207Q00000X"
    item = eob["item"][0]
    assert [m["coding"][0]["system"] for m in item["modifier"]] == [
        "http://www.ama-assn.org/go/cpt",
        "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    ]
    assert item["locationCodeableConcept"]["coding"][0]["code"] == "11"
    categories = [a["category"]["coding"][0]["code"] for a in item["adjudication"]]
    assert categories[0] == "benefitpaymentstatus"
    assert {"submitted", "eligible", "paidtoprovider", "memberliability"} <= set(categories)
    assert eob["id"] == IDS("ExplanationOfBenefit", "C100")
    assert "C100" not in eob["id"]


def test_amounts_keep_their_cents_in_json() -> None:
    record = _claim("professional-nonclinician", lines=[_line(1, place_of_service_code="11")])
    text = dumps(build_eob(record, IDS, NOW))
    assert '"value":180.50' in text


def test_inpatient_claim_carries_institutional_supporting_info_and_procedures() -> None:
    record = _claim(
        "inpatient-institutional",
        type_of_bill="0111",
        admission_source_code="1",
        admission_type_code="1",
        discharge_status_code="01",
        drg_code="470",
        admission_date=date(2026, 3, 1),
        discharge_date=date(2026, 3, 4),
        attending_provider_npi="1234567893",
        attending_provider_type="Practitioner",
        procedures=[{"sequence": 1, "code": "0SRD0J9", "procedure_date": date(2026, 3, 2)}],
        lines=[
            _line(1, revenue_code="0120"),
            _line(
                2,
                revenue_code="0360",
                procedure_system="http://www.ama-assn.org/go/cpt",
                procedure_code="27447",
            ),
        ],
    )
    eob = _valid(build_eob(record, IDS, NOW))
    assert eob["subType"]["coding"][0]["code"] == "inpatient"
    assert _info_codes(eob) == [
        "clmrecvddate", "admissionperiod", "typeofbill", "pointoforigin", "admtype",
        "discharge-status", "drg",
    ]  # fmt: skip
    assert eob["diagnosis"][0]["onAdmission"]["coding"][0]["code"] == "Y"
    assert eob["procedure"][0]["type"][0]["coding"][0]["code"] == "principal"
    # A room-and-board line has no procedure code: CARIN's not-applicable marker stands in.
    assert eob["item"][0]["productOrService"]["coding"][0]["code"] == "not-applicable"
    # Institutional amounts live on the lines only (EOB-institutional-item-or-header-adjudication).
    header = {a["category"]["coding"][0]["code"] for a in eob["adjudication"]}
    assert header == {"billingnetworkstatus", "benefitpaymentstatus"}


def test_adjustment_links_both_claims_and_withdraws_the_replaced_one() -> None:
    adjusted = _valid(
        build_eob(
            _claim(
                "oral",
                rendering_provider_npi="1234567893",
                rendering_provider_type="Practitioner",
                claim_id="C200",
                status="adjusted",
                original_claim_id="C100",
                lines=[_line(1, tooth_number="3", tooth_surface="MO", place_of_service_code="11")],
            ),
            IDS,
            NOW,
        )
    )
    replaced = _valid(
        build_eob(
            _claim(
                "oral",
                replaced_by="C200",
                billing_type="Practitioner",
                billing_npi="1234567893",
                lines=[_line(1, place_of_service_code="11")],
            ),
            IDS,
            NOW,
        )
    )
    assert adjusted["status"] == "active"
    # A dental group bills, but CARIN's Oral profile wants a Practitioner: the rendering dentist.
    assert (
        adjusted["provider"]["reference"] == f"Practitioner/{IDS('Practitioner', 'npi|1234567893')}"
    )
    assert adjusted["related"][0]["relationship"]["coding"][0]["code"] == "prior"
    assert adjusted["related"][0]["reference"]["value"] == "C100"
    assert replaced["status"] == "cancelled"
    assert replaced["related"][0]["relationship"]["coding"][0]["code"] == "replacedby"
    assert adjusted["item"][0]["subSite"][1]["coding"][0]["code"] == "O"


def test_reversed_claim_is_cancelled_and_denied_line_makes_payment_partial() -> None:
    reversed_eob = build_eob(
        _claim(
            "outpatient-institutional",
            status="reversed",
            type_of_bill="0131",
            lines=[_line(1, revenue_code="0450")],
        ),
        IDS,
        NOW,
    )
    assert reversed_eob["status"] == "cancelled"
    partial = build_eob(
        _claim(
            "professional-nonclinician",
            has_denied_line=True,
            lines=[
                _line(1, place_of_service_code="11"),
                _line(
                    2,
                    place_of_service_code="11",
                    denial_reason_code="50",
                    paid_amount=Decimal("0.00"),
                ),
            ],
        ),
        IDS,
        NOW,
    )
    assert partial["payment"]["type"]["coding"][0]["code"] == "partiallypaid"
    reasons = [
        a
        for a in partial["item"][1]["adjudication"]
        if "reason" in a and a["category"]["coding"][0]["code"] == "adjustmentreason"
    ]
    assert reasons[0]["reason"]["coding"][0] == {
        "system": "https://x12.org/codes/claim-adjustment-reason-codes",
        "code": "50",
    }


@pytest.mark.parametrize("compound", [False, True])
def test_pharmacy_claim_and_compound_ingredients(compound: bool) -> None:
    record = _claim(
        "pharmacy",
        fill_date=date(2026, 3, 2),
        ndc=None if compound else "00093742456",
        compound_code="2" if compound else "1",
        quantity=Decimal("30"),
        days_supply=30,
        daw_code="0",
        fill_number=1,
        refills_authorized=3,
        brand_generic_code="2",
        rx_origin_code="1",
        prescriber_npi="1234567893",
        prescriber_type="Practitioner",
        ingredient_cost_amount=Decimal("12.00"),
        ingredients=[
            {"ingredient_number": 1, "ndc": "00093742456", "quantity": Decimal("10")},
            {"ingredient_number": 2, "ndc": "00378180110", "quantity": Decimal("20")},
        ]
        if compound
        else None,
    )
    eob = _valid(build_eob(record, IDS, NOW))
    assert {"dayssupply", "dawcode", "refillnum", "compoundcode"} <= set(_info_codes(eob))
    product = eob["item"][0]["productOrService"]["coding"][0]["code"]
    assert product == ("compound" if compound else "00093742456")
    assert len(eob["item"][0].get("detail", [])) == (2 if compound else 0)
    assert eob["careTeam"][0]["role"]["coding"][0]["code"] == "prescribing"


@pytest.mark.parametrize(
    ("profile_key", "source_type", "expected"),
    [
        ("professional-nonclinician", "other", "secondary"),
        ("oral", "externalcauseofinjury", "secondary"),
        ("outpatient-institutional", "secondary", "other"),
        ("inpatient-institutional", "admitting", "admitting"),
        ("inpatient-institutional", "secondary", "other"),
    ],
)
def test_diagnosis_type_is_carried_in_the_profiles_own_value_set(
    profile_key: str, source_type: str, expected: str
) -> None:
    record = _claim(profile_key, lines=[_line(1, place_of_service_code="11", revenue_code="0450")])
    record["diagnoses"].append(
        {"sequence": 2, "code": "E11.9", "type_system": "x", "type_code": source_type}
    )
    eob = build_eob(record, IDS, NOW)
    assert eob["diagnosis"][1]["type"][0]["coding"][0]["code"] == expected
