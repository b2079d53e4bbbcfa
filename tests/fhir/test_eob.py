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


HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
_AMBULANCE = {
    "patient_weight": Decimal("180"),
    "ambulance_transport_reason_code": "A",
    "transport_reason_system": "https://x12.org/codesystem.x12.org/ambulance-transport-reason-codes",
    "transport_reason_display": "Patient was transported to nearest facility",
    "transport_distance": Decimal("12"),
    "stretcher_purpose": "Unable to sit upright",
    "pickup_location": "Patient residence",
    "dropoff_location": "Oakhaven Regional Medical Center, Columbus, OH 43215",
}


def test_ambulance_lines_link_their_transport_info_once_and_facility_is_referenced() -> None:
    lines = [
        _line(
            1,
            procedure_code="A0427",
            procedure_system=HCPCS,
            place_of_service_code="41",
            **_AMBULANCE,
        ),
        _line(
            2,
            procedure_code="A0425",
            procedure_system=HCPCS,
            place_of_service_code="41",
            **_AMBULANCE,
        ),
    ]
    eob = _valid(
        build_eob(
            _claim(
                "professional-nonclinician",
                lines=lines,
                service_facility_npi="1245319599",
                service_facility_type="Organization",
                medical_record_number="MRN-77",
                rendering_network_status="innetwork",
            ),
            IDS,
            NOW,
        )
    )
    claim_level = {"clmrecvddate", "servicefacility", "medicalrecordnumber"}
    linked = [
        i["sequence"]
        for i in eob["supportingInfo"]
        if i["category"]["coding"][0]["code"] not in claim_level
    ]
    assert {"servicefacility", "medicalrecordnumber", "pickuplocation"} <= set(_info_codes(eob))
    # Both lines carry the same trip: each value is one entry that both lines link to.
    assert len(_info_codes(eob)) == len(set(_info_codes(eob)))
    assert eob["item"][0]["informationSequence"] == eob["item"][1]["informationSequence"] == linked
    weight = next(
        i for i in eob["supportingInfo"] if i["category"]["coding"][0]["code"] == "patientweight"
    )
    assert weight["valueQuantity"]["code"] == "[lb_av]"
    assert "renderingnetworkstatus" in str(eob["adjudication"])


def test_oral_claim_carries_ada_items_and_links_additional_teeth() -> None:
    line = _line(1, procedure_code="D4342", procedure_system="http://www.ada.org/cdt",
                 tooth_number="3", additional_tooth_numbers="2,4",
                 place_of_service_code="11")  # fmt: skip
    eob = _valid(
        build_eob(
            _claim(
                "oral",
                rendering_provider_npi="1234567893",
                rendering_provider_type="Practitioner",
                lines=[line],
                missing_teeth=["1", "16"],
                prosthesis_replacement_code="N",
                orthodontic_months_remaining=14,
            ),
            IDS,
            NOW,
        )
    )
    codes = _info_codes(eob)
    assert codes.count("missingtoothnumber") == 2 and codes.count("additionalbodysite") == 2
    prosthesis = next(
        i for i in eob["supportingInfo"] if i["category"]["coding"][0]["code"] == "prosthesis"
    )
    assert prosthesis["valueBoolean"] is False
    linked = eob["item"][0]["informationSequence"]
    sites = [i for i in eob["supportingInfo"] if i["sequence"] in linked]
    assert [s["code"]["coding"][0]["code"] for s in sites] == ["2", "4"]


def test_drg_paid_inpatient_claim_carries_amounts_at_the_header_only() -> None:
    unpriced = {field: None for field in AMOUNTS}
    record = _claim(
        "inpatient-institutional",
        lines=[
            _line(1, revenue_code="0120", **unpriced),
            _line(2, revenue_code="0250", **unpriced),
        ],
        admission_date=date(2026, 3, 2),
        type_of_bill="0111",
        notes=[
            {"note_number": 1, "line_number": None, "note_text": "Paid at the MS-DRG 470 rate."},
            {"note_number": 2, "line_number": 1, "note_text": "1 day approved."},
        ],
    )
    eob = _valid(build_eob(record, IDS, NOW))
    assert all("adjudication" not in item for item in eob["item"])
    assert any("amount" in entry for entry in eob["adjudication"])
    assert eob["processNote"] == [
        {"number": 1, "text": "Paid at the MS-DRG 470 rate."},
        {"number": 2, "text": "1 day approved."},
    ]
    assert eob["item"][0]["noteNumber"] == [2] and "noteNumber" not in eob["item"][1]


def test_line_priced_claim_reports_allowed_units() -> None:
    record = _claim(
        "outpatient-institutional",
        lines=[_line(1, revenue_code="0450", allowed_units=Decimal("1"))],
        type_of_bill="0131",
    )
    eob = _valid(build_eob(record, IDS, NOW))
    units = [a for a in eob["item"][0]["adjudication"] if "value" in a]
    assert units[0]["category"]["coding"][0]["code"] == "allowedunits"
    assert not any("amount" in entry for entry in eob["adjudication"])
