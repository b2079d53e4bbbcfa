"""The synthetic drop generator: layout contract, real codes, reconciled money, scenarios, streaming."""

from __future__ import annotations

import csv
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

from pipelines.ingest.layouts import SOURCES_DIR, LayoutError
from pipelines.synthetic import generate_drop, write_sample_inputs
from pipelines.synthetic.codes import (
    CARC,
    CDT,
    CPT,
    DRUGS,
    HCPCS,
    ICD10CM,
    ICD10PCS,
    MODIFIERS,
    MS_DRG,
    NCPDP_REJECT,
    ORA_PLUS,
    ORA_SWEET,
    PLACE_OF_SERVICE,
    REVENUE,
    TAXONOMY,
)
from pipelines.synthetic.people import ETHNICITIES, RACES
from pipelines.synthetic.providers import npi_is_valid
from pipelines.synthetic.writer import LAYOUT_FILES, ExtractWriter, extract_layout, output_path

PROJECT = Path(__file__).resolve().parents[2]
NUCC_TAXONOMY = PROJECT.parent / "shared/source-samples/nppes-plan-net/nucc_provider_taxonomy.csv"
LAST_DATE = "2026-12-02"
AMOUNTS = (
    "SUBMITTED_AMOUNT",
    "ALLOWED_AMOUNT",
    "PAID_AMOUNT",
    "DEDUCTIBLE_AMOUNT",
    "COINSURANCE_AMOUNT",
    "COPAY_AMOUNT",
    "NONCOVERED_AMOUNT",
    "DISCOUNT_AMOUNT",
    "MEMBER_LIABILITY_AMOUNT",
)
NPI_COLUMNS = {
    "claim_header": (
        "BILLING_PROVIDER_NPI",
        "RENDERING_PROVIDER_NPI",
        "REFERRING_PROVIDER_NPI",
        "ATTENDING_PROVIDER_NPI",
    ),
    "pharmacy_claim": ("PRESCRIBER_NPI", "PHARMACY_NPI"),
}
CODE_TABLES = {"CPT": CPT, "HCPCS": HCPCS, "CDT": CDT}


def read_drop(folder: Path) -> dict[str, list[dict[str, str]]]:
    tables = {}
    for kind in LAYOUT_FILES:
        path = folder / output_path(extract_layout(kind))
        with path.open(encoding="utf-8", newline="") as f:
            tables[kind] = list(csv.DictReader(f, delimiter="|"))
    return tables


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    write_sample_inputs(folder)
    return folder


@pytest.fixture(scope="module")
def drop(sample_dir: Path) -> dict[str, list[dict[str, str]]]:
    return read_drop(sample_dir)


def spans_by_member(drop: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    spans = defaultdict(list)
    for row in drop["eligibility"]:
        spans[row["MEMBER_ID"]].append(row)
    return spans


def money(value: str) -> Decimal:
    return Decimal(value)


# -- the layout contract -------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(LAYOUT_FILES))
def test_header_row_is_the_layout_columns_in_order(sample_dir: Path, kind: str) -> None:
    spec = yaml.safe_load((SOURCES_DIR / LAYOUT_FILES[kind]).read_text(encoding="utf-8"))
    path = sample_dir / spec["file_pattern"].replace("*", "")
    header = path.read_text(encoding=spec["encoding"]).splitlines()[0]
    assert header.split(spec["delimiter"]) == list(spec["columns"])


def test_sample_has_the_documented_size(drop: dict[str, list[dict[str, str]]]) -> None:
    assert len({r["MEMBER_ID"] for r in drop["eligibility"]}) == 60
    assert len(drop["claim_header"]) + len(drop["pharmacy_claim"]) == 320


def test_writer_rejects_a_field_outside_the_layout(tmp_path: Path) -> None:
    writer = ExtractWriter(extract_layout("provider"), tmp_path)
    with pytest.raises(LayoutError, match=r"claims/provider\.txt.*not_a_field"):
        writer.write({"npi": "1234567893", "not_a_field": "x"})
    writer.close()


def header_priced(drop: dict) -> set[str]:
    """Institutional claims paid at the header (DRG or case rate): their lines carry no amounts."""
    return {r["CLAIM_ID"] for r in drop["claim_line"] if r["SUBMITTED_AMOUNT"] == ""}


def test_dates_amounts_and_absent_values_are_formatted(drop: dict) -> None:
    at_header = header_priced(drop)
    for kind in ("claim_header", "claim_line", "pharmacy_claim"):
        for row in drop[kind]:
            if kind == "claim_line" and row["CLAIM_ID"] in at_header:
                assert {row[column] for column in AMOUNTS} == {""}
                continue
            for column in AMOUNTS:
                whole, _, cents = row[column].partition(".")
                assert whole.isdigit() and len(cents) == 2, (kind, column, row[column])
    dates = [v for r in drop["claim_header"] for k, v in r.items() if k.endswith("_DATE") and v]
    assert all(len(d) == 10 and d[4] == d[7] == "-" for d in dates)


# -- providers -----------------------------------------------------------------------------


def test_every_npi_has_a_valid_check_digit_and_one_provider_row(drop: dict) -> None:
    listed = Counter(row["NPI"] for row in drop["provider"])
    assert all(count == 1 for count in listed.values())
    mentioned = {
        row[column]
        for kind, columns in NPI_COLUMNS.items()
        for row in drop[kind]
        for column in columns
        if row[column]
    }
    assert mentioned <= set(listed)
    assert all(npi_is_valid(npi) for npi in listed)


def test_npi_check_digit_matches_the_cms_example() -> None:
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")


def test_providers_are_named_and_addressed(drop: dict) -> None:
    for row in drop["provider"]:
        assert row["TAXONOMY_CODE"] in TAXONOMY
        assert row["ADDRESS_LINE1"] and row["CITY"] and len(row["STATE"]) == 2
        assert len(row["POSTAL_CODE"]) == 5
        if row["ENTITY_TYPE_CODE"] == "2":
            assert row["ORGANIZATION_NAME"] and len(row["TAX_ID"]) == 9
        else:
            assert row["LAST_NAME"] and row["FIRST_NAME"] and row["CREDENTIAL"]


def test_taxonomy_codes_are_nucc_codes() -> None:
    if not NUCC_TAXONOMY.exists():
        pytest.skip("NUCC taxonomy file not present beside the project")
    with NUCC_TAXONOMY.open(encoding="utf-8", errors="replace", newline="") as f:
        nucc = {row["Code"] for row in csv.DictReader(f)}
    assert set(TAXONOMY) <= nucc


# -- real codes ----------------------------------------------------------------------------


def test_claim_codes_are_real_codes_of_their_system(drop: dict) -> None:
    claim_type = {r["CLAIM_ID"]: r["CLAIM_TYPE_CODE"] for r in drop["claim_header"]}
    has_dx = set()
    for row in drop["claim_code"]:
        if row["CODE_CATEGORY"] == "DX":
            assert row["CODE"] in ICD10CM
            assert row["DIAGNOSIS_TYPE_CODE"] in {"P", "A", "S", "O", "E", "R"}
            has_dx.add(row["CLAIM_ID"])
        elif row["CODE_CATEGORY"] == "MT":
            assert 1 <= int(row["CODE"]) <= 32 and claim_type[row["CLAIM_ID"]] == "DENT"
        else:
            assert row["CODE_CATEGORY"] == "PX" and row["CODE"] in ICD10PCS
            assert claim_type[row["CLAIM_ID"]] == "IP"
    assert has_dx == set(claim_type)


def test_line_codes_are_real_codes_of_their_system(drop: dict) -> None:
    for row in drop["claim_line"]:
        if row["PROCEDURE_CODE"]:
            assert row["PROCEDURE_CODE"] in CODE_TABLES[row["PROCEDURE_CODE_TYPE"]]
        assert not row["REVENUE_CODE"] or row["REVENUE_CODE"] in REVENUE
        modifiers = [row[f"MODIFIER_{n}"] for n in range(1, 5) if row[f"MODIFIER_{n}"]]
        assert set(modifiers) <= set(MODIFIERS)
        assert not row["PLACE_OF_SERVICE_CODE"] or row["PLACE_OF_SERVICE_CODE"] in PLACE_OF_SERVICE
        assert Decimal(row["UNITS"]) > 0
        if row["TOOTH_NUMBER"]:
            assert 1 <= int(row["TOOTH_NUMBER"]) <= 32
        assert row["TOOTH_SURFACE"] in {"", "M", "O", "I", "D", "B", "F", "L"}


def test_institutional_fields_use_real_code_sets(drop: dict) -> None:
    for row in drop["claim_header"]:
        kind = row["CLAIM_TYPE_CODE"]
        if kind == "IP":
            assert row["TYPE_OF_BILL"] in {"0111", "0117"}
            assert row["DRG_CODE"] in MS_DRG
            assert row["ADMISSION_TYPE_CODE"] in {"1", "2", "3"}
            assert row["ADMISSION_SOURCE_CODE"] in {"1", "2", "4"}
            assert row["DISCHARGE_STATUS_CODE"] in {"01", "03", "06"}
            assert row["ADMISSION_DATE"] and row["DISCHARGE_DATE"] and row["ATTENDING_PROVIDER_NPI"]
        elif kind == "OP":
            assert row["TYPE_OF_BILL"] in {"0131", "0137"} and not row["DRG_CODE"]
        else:
            assert row["PLACE_OF_SERVICE_CODE"] in PLACE_OF_SERVICE
            # An ambulance service bills its transports without a rendering clinician.
            assert row["RENDERING_PROVIDER_NPI"] or row["PLACE_OF_SERVICE_CODE"] == "41"


def test_denial_reasons_are_carc_or_ncpdp_reject_codes(drop: dict) -> None:
    medical = [r["DENIAL_REASON_CODE"] for k in ("claim_header", "claim_line") for r in drop[k]]
    assert {code for code in medical if code} <= set(CARC)
    pharmacy = {r["DENIAL_REASON_CODE"] for r in drop["pharmacy_claim"]} - {""}
    assert pharmacy <= set(NCPDP_REJECT)


def test_pharmacy_fields_are_ncpdp_values(drop: dict) -> None:
    ndcs = {d.ndc for d in (*DRUGS, ORA_PLUS, ORA_SWEET)}
    for row in drop["pharmacy_claim"]:
        compound = row["COMPOUND_CODE"] == "2"
        assert (row["NDC"] == "") if compound else (row["NDC"] in ndcs and len(row["NDC"]) == 11)
        assert row["DAW_CODE"] in {"0", "1", "2"}
        assert row["BRAND_GENERIC_CODE"] in ({""} if compound else {"1", "2"})
        assert row["RX_ORIGIN_CODE"] in {"1", "2", "3", "4"}
        assert 0 <= int(row["FILL_NUMBER"]) <= max(5, int(row["REFILLS_AUTHORIZED"]))
        assert int(row["FILL_NUMBER"]) <= int(row["REFILLS_AUTHORIZED"])
        assert Decimal(row["QUANTITY"]) > 0 and int(row["DAYS_SUPPLY"]) > 0
    assert {r["NDC"] for r in drop["pharmacy_ingredient"]} <= ndcs


# -- money ---------------------------------------------------------------------------------


def check_amounts(row: dict[str, str], in_network: bool) -> None:
    a = {column: money(row[column]) for column in AMOUNTS}
    assert all(value >= 0 for value in a.values()), row
    assert a["ALLOWED_AMOUNT"] <= a["SUBMITTED_AMOUNT"]
    cost_sharing = a["DEDUCTIBLE_AMOUNT"] + a["COINSURANCE_AMOUNT"] + a["COPAY_AMOUNT"]
    assert a["PAID_AMOUNT"] == a["ALLOWED_AMOUNT"] - cost_sharing
    reductions = a["NONCOVERED_AMOUNT"] + a["DISCOUNT_AMOUNT"]
    assert a["SUBMITTED_AMOUNT"] == a["ALLOWED_AMOUNT"] + reductions
    # In network the provider writes off the discount and denied lines; out of network the
    # member may owe what is not covered.
    owed = 0 if in_network else a["NONCOVERED_AMOUNT"]
    assert a["MEMBER_LIABILITY_AMOUNT"] == cost_sharing + owed


def test_amounts_reconcile_on_lines_headers_and_fills(drop: dict) -> None:
    network = {r["CLAIM_ID"]: r["NETWORK_STATUS_CODE"] == "I" for r in drop["claim_header"]}
    at_header = header_priced(drop)
    sums: dict[str, Counter] = defaultdict(Counter)
    for line in drop["claim_line"]:
        if line["CLAIM_ID"] in at_header:
            continue
        check_amounts(line, network[line["CLAIM_ID"]])
        for column in AMOUNTS:
            sums[line["CLAIM_ID"]][column] += money(line[column])
    for header in drop["claim_header"]:
        check_amounts(header, network[header["CLAIM_ID"]])
        if header["CLAIM_ID"] not in at_header:
            assert all(money(header[c]) == sums[header["CLAIM_ID"]][c] for c in AMOUNTS)
    for fill in drop["pharmacy_claim"]:
        check_amounts(fill, fill["NETWORK_STATUS_CODE"] == "I")


def test_ingredient_costs_add_up_to_the_compound_claim(drop: dict) -> None:
    costs: Counter = Counter()
    for row in drop["pharmacy_ingredient"]:
        costs[row["CLAIM_ID"]] += money(row["INGREDIENT_COST_AMOUNT"])
    for row in drop["pharmacy_claim"]:
        if row["COMPOUND_CODE"] == "2":
            assert costs[row["CLAIM_ID"]] == money(row["INGREDIENT_COST_AMOUNT"])


def test_denied_claims_pay_nothing(drop: dict) -> None:
    for kind in ("claim_header", "pharmacy_claim"):
        for row in drop[kind]:
            denied = row["STATUS_CODE"] == "D"
            assert denied == bool(row["DENIAL_REASON_CODE"])
            if denied:
                assert money(row["PAID_AMOUNT"]) == 0 and row["PAID_DATE"] == ""


# -- dates and coverage --------------------------------------------------------------------


def covering_span(spans: list[dict[str, str]], first: str, last: str, dental: bool) -> bool:
    return any(
        (s["PRODUCT_TYPE_CODE"] == "DEN") == dental
        and s["COVERAGE_START_DATE"] <= first
        and last <= (s["COVERAGE_END_DATE"] or "9999-12-31")
        for s in spans
    )


def test_every_claim_falls_inside_a_coverage_span(drop: dict) -> None:
    spans = spans_by_member(drop)
    for row in drop["claim_header"]:
        first, last = row["STATEMENT_FROM_DATE"], row["STATEMENT_TO_DATE"]
        dental = row["CLAIM_TYPE_CODE"] == "DENT"
        assert covering_span(spans[row["MEMBER_ID"]], first, last, dental), row["CLAIM_ID"]
    for row in drop["pharmacy_claim"]:
        fill = row["FILL_DATE"]
        assert covering_span(spans[row["MEMBER_ID"]], fill, fill, False), row["CLAIM_ID"]


def test_claim_dates_run_in_order_and_stop_before_the_drop(drop: dict) -> None:
    lines = defaultdict(list)
    for line in drop["claim_line"]:
        lines[line["CLAIM_ID"]].append(line)
    for row in drop["claim_header"]:
        last_service = max(line["SERVICE_TO_DATE"] for line in lines[row["CLAIM_ID"]])
        first_service = min(line["SERVICE_FROM_DATE"] for line in lines[row["CLAIM_ID"]])
        assert row["STATEMENT_FROM_DATE"] <= first_service
        assert last_service <= row["STATEMENT_TO_DATE"] <= row["RECEIVED_DATE"]
    for row in (*drop["claim_header"], *drop["pharmacy_claim"]):
        first = row.get("STATEMENT_FROM_DATE") or row["FILL_DATE"]
        assert "2026-01-01" <= first <= row["RECEIVED_DATE"] <= row["ADJUDICATED_DATE"]
        assert row["ADJUDICATED_DATE"] <= LAST_DATE
        expected_paid = "" if row["STATUS_CODE"] == "D" else row["ADJUDICATED_DATE"]
        assert row["PAID_DATE"] == expected_paid


def test_claim_ids_are_unique_across_medical_and_pharmacy(drop: dict) -> None:
    ids = [r["CLAIM_ID"] for k in ("claim_header", "pharmacy_claim") for r in drop[k]]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("C") for i in (r["CLAIM_ID"] for r in drop["claim_header"]))
    assert all(i.startswith("RX") for i in (r["CLAIM_ID"] for r in drop["pharmacy_claim"]))


def test_members_look_like_families(drop: dict) -> None:
    people = {r["MEMBER_ID"]: r for r in drop["eligibility"]}
    for row in drop["eligibility"]:
        assert row["RELATIONSHIP_CODE"] in {"18", "01", "19", "G8"}
        assert row["GENDER_CODE"] in {"M", "F", "U"}
        assert row["PRODUCT_TYPE_CODE"] in {"HMO", "PPO", "POS", "DEN"}
        assert row["BIRTH_DATE"] <= row["COVERAGE_START_DATE"]
        subscriber = people[row["SUBSCRIBER_ID"] + "01"]
        assert subscriber["RELATIONSHIP_CODE"] == "18"
        if row["RELATIONSHIP_CODE"] in {"19", "G8"}:
            assert row["BIRTH_DATE"] > subscriber["BIRTH_DATE"]
    assert {r["PAYER_ID"] for r in people.values()} == {"PAYER01"}
    assert 3 <= len({r["PLAN_ID"] for r in drop["eligibility"]}) <= 4


def test_coverage_spans_of_a_member_do_not_overlap(drop: dict) -> None:
    for spans in spans_by_member(drop).values():
        for product in ("medical", "dental"):
            mine = sorted(
                (s["COVERAGE_START_DATE"], s["COVERAGE_END_DATE"] or "9999-12-31")
                for s in spans
                if (s["PRODUCT_TYPE_CODE"] == "DEN") == (product == "dental")
            )
            assert all(a[1] < b[0] for a, b in pairwise(mine))


# -- scenarios the sample must show ---------------------------------------------------------


def _adjustments_point_at_paid_originals(drop: dict) -> bool:
    found = 0
    for kind, type_column in (("claim_header", "CLAIM_TYPE_CODE"), ("pharmacy_claim", None)):
        by_id = {r["CLAIM_ID"]: r for r in drop[kind]}
        for row in drop[kind]:
            if row["STATUS_CODE"] != "A":
                continue
            original = by_id[row["ORIGINAL_CLAIM_ID"]]
            assert original["STATUS_CODE"] == "P"
            assert original["MEMBER_ID"] == row["MEMBER_ID"]
            assert type_column is None or original[type_column] == row[type_column]
            found += 1
    return found >= 3


def _two_span_member_has_claims_in_both(drop: dict) -> bool:
    for member, spans in spans_by_member(drop).items():
        medical = [s for s in spans if s["PRODUCT_TYPE_CODE"] != "DEN"]
        if len(medical) < 2:
            continue
        dates = [r["STATEMENT_FROM_DATE"] for r in drop["claim_header"] if r["MEMBER_ID"] == member]
        dates += [r["FILL_DATE"] for r in drop["pharmacy_claim"] if r["MEMBER_ID"] == member]
        hit = [any(covering_span([s], d, d, False) for d in dates) for s in medical]
        if all(hit) and len({s["PLAN_ID"] for s in medical}) == 2:
            return True
    return False


def _line_counts(drop: dict) -> Counter:
    return Counter(r["CLAIM_ID"] for r in drop["claim_line"])


def _type_of(drop: dict, claim_id: str) -> str:
    return next(r["CLAIM_TYPE_CODE"] for r in drop["claim_header"] if r["CLAIM_ID"] == claim_id)


def _ambulance_lines_are_complete(drop: dict) -> bool:
    lines = [r for r in drop["claim_line"] if r["PROCEDURE_CODE"] in {"A0425", "A0427", "A0428"}]
    fields = ("PATIENT_WEIGHT", "AMBULANCE_TRANSPORT_REASON_CODE", "TRANSPORT_DISTANCE",
              "STRETCHER_PURPOSE", "PICKUP_LOCATION", "DROPOFF_LOCATION")  # fmt: skip
    mileage_matches = all(
        r["UNITS"] == r["TRANSPORT_DISTANCE"] for r in lines if r["PROCEDURE_CODE"] == "A0425"
    )
    return (
        bool(lines)
        and all(r[f] for r in lines for f in fields)
        and {r["AMBULANCE_TRANSPORT_REASON_CODE"] for r in lines} <= set("ABCDE")
        and any(r["ROUND_TRIP_PURPOSE"] for r in lines)
        and mileage_matches
    )


def _dependents_with_claims(drop: dict) -> set[str]:
    relationship = {r["MEMBER_ID"]: r["RELATIONSHIP_CODE"] for r in drop["eligibility"]}
    claimants = {r["MEMBER_ID"] for k in ("claim_header", "pharmacy_claim") for r in drop[k]}
    return {relationship[m] for m in claimants} - {"18"}


SCENARIOS: dict[str, Callable[[dict], bool]] = {
    "denied medical claims": lambda d: any(r["STATUS_CODE"] == "D" for r in d["claim_header"]),
    "denied pharmacy claim": lambda d: any(r["STATUS_CODE"] == "D" for r in d["pharmacy_claim"]),
    "denied line inside a paid claim": lambda d: any(
        r["DENIAL_REASON_CODE"] and money(r["PAID_AMOUNT"]) == 0
        for r in d["claim_line"]
        if next(h for h in d["claim_header"] if h["CLAIM_ID"] == r["CLAIM_ID"])["STATUS_CODE"]
        == "P"
    ),
    "three adjusted claims with paid originals": _adjustments_point_at_paid_originals,
    "reversed medical claim": lambda d: any(r["STATUS_CODE"] == "R" for r in d["claim_header"]),
    "reversed pharmacy claim": lambda d: any(r["STATUS_CODE"] == "R" for r in d["pharmacy_claim"]),
    "out-of-network claim of every type": lambda d: (
        {r["CLAIM_TYPE_CODE"] for r in d["claim_header"] if r["NETWORK_STATUS_CODE"] == "O"}
        == {"IP", "OP", "PROF", "DENT"}
        and any(r["NETWORK_STATUS_CODE"] == "O" for r in d["pharmacy_claim"])
    ),
    "multi-line claims of 2 to 8 lines": lambda d: (
        max(_line_counts(d).values()) <= 8 and sum(n >= 2 for n in _line_counts(d).values()) >= 20
    ),
    "a professional claim with exactly five lines": lambda d: any(
        _line_counts(d)[r["CLAIM_ID"]] == 5
        for r in d["claim_header"]
        if r["CLAIM_TYPE_CODE"] == "PROF"
    ),
    "three compound claims of 2 to 4 ingredients": lambda d: (
        sum(r["COMPOUND_CODE"] == "2" for r in d["pharmacy_claim"]) >= 3
        and set(Counter(r["CLAIM_ID"] for r in d["pharmacy_ingredient"]).values()) <= {2, 3, 4}
    ),
    "spouse, child and other dependents with claims": lambda d: (
        _dependents_with_claims(d) == {"01", "19", "G8"}
    ),
    "claims in both spans of a two-coverage member": _two_span_member_has_claims_in_both,
    "a dental coverage beside medical": lambda d: any(
        {s["PRODUCT_TYPE_CODE"] for s in spans} > {"DEN"} for spans in spans_by_member(d).values()
    ),
    "every claim type": lambda d: (
        {r["CLAIM_TYPE_CODE"] for r in d["claim_header"]} == {"IP", "OP", "PROF", "DENT"}
    ),
    "inpatient procedures": lambda d: (
        {"0SRD0J9", "0DTJ4ZZ"} <= {r["CODE"] for r in d["claim_code"] if r["CODE_CATEGORY"] == "PX"}
    ),
    "modifiers 25, 59, LT, RT and 26": lambda d: (
        {"25", "59", "LT", "RT", "26"}
        <= {r[f"MODIFIER_{n}"] for r in d["claim_line"] for n in range(1, 5)}
    ),
    "places of service 11, 21, 22 and 23": lambda d: (
        {"11", "21", "22", "23"} <= {r["PLACE_OF_SERVICE_CODE"] for r in d["claim_header"]}
    ),
    "dental lines with tooth numbers and surfaces": lambda d: any(
        r["TOOTH_NUMBER"] and r["TOOTH_SURFACE"] for r in d["claim_line"]
    ),
    "a coverage that ends before the year does": lambda d: any(
        r["COVERAGE_END_DATE"] not in ("", "2026-06-30") for r in d["eligibility"]
    ),
    "a deceased subscriber whose coverage ends on the date of death": lambda d: any(
        r["DECEASED_DATE"] and r["DECEASED_DATE"] == r["COVERAGE_END_DATE"]
        for r in d["eligibility"]
    ),
    "CDC race and ethnicity codes, birth sex and a unique member id on every member": lambda d: all(
        r["RACE_CODE"] in dict(RACES)
        and r["ETHNICITY_CODE"] in dict(ETHNICITIES)
        and r["BIRTH_SEX_CODE"] in {"M", "F", "U"}
        and r["UNIQUE_MEMBER_ID"]
        for r in d["eligibility"]
    ),
    "ambulance lines with the whole CR1 segment": _ambulance_lines_are_complete,
    "dental missing teeth, additional teeth, prosthesis and orthodontic items": lambda d: (
        any(r["CODE_CATEGORY"] == "MT" for r in d["claim_code"])
        and any(r["ADDITIONAL_TOOTH_NUMBERS"] for r in d["claim_line"])
        and {r["PROSTHESIS_REPLACEMENT_CODE"] for r in d["claim_header"]} >= {"N"}
        and any(r["ORTHODONTIC_MONTHS_REMAINING"] for r in d["claim_header"])
    ),
    "inpatient and outpatient claims priced at the header": lambda d: (
        {_type_of(d, c) for c in header_priced(d)} == {"IP", "OP"}
    ),
    "an adjusted inpatient claim": lambda d: any(
        r["STATUS_CODE"] == "A" and r["CLAIM_TYPE_CODE"] == "IP" for r in d["claim_header"]
    ),
    "claim and line notes on medical and pharmacy claims": lambda d: (
        any(r["LINE_NUMBER"] for r in d["claim_note"])
        and any(not r["LINE_NUMBER"] for r in d["claim_note"])
        and any(r["CLAIM_ID"].startswith("RX") for r in d["claim_note"])
    ),
    "clinicians with an EIN of their own": lambda d: any(
        r["ENTITY_TYPE_CODE"] == "1" and r["TAX_ID"] for r in d["provider"]
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_sample_holds_scenario(drop: dict, scenario: str) -> None:
    assert SCENARIOS[scenario](drop)


# -- determinism and streaming ----------------------------------------------------------------


def test_two_runs_are_byte_identical(tmp_path: Path, sample_dir: Path) -> None:
    write_sample_inputs(tmp_path)
    for kind in LAYOUT_FILES:
        relative = output_path(extract_layout(kind))
        assert (tmp_path / relative).read_bytes() == (sample_dir / relative).read_bytes()


def test_committed_sample_inputs_are_what_the_generator_writes(sample_dir: Path) -> None:
    committed = PROJECT / "sample_inputs"
    for kind in LAYOUT_FILES:
        relative = output_path(extract_layout(kind))
        assert (committed / relative).read_bytes() == (sample_dir / relative).read_bytes(), (
            f"sample_inputs/{relative} is stale: run write_sample_inputs(Path('sample_inputs'))"
        )


def test_summary_counts_what_was_written(tmp_path: Path) -> None:
    summary = generate_drop(tmp_path, claims=500, members=80, seed=7, scenarios=False)
    drop = read_drop(tmp_path)
    assert summary.claims == 500 == len(drop["claim_header"]) + len(drop["pharmacy_claim"])
    assert summary.pharmacy_claims == len(drop["pharmacy_claim"])
    assert summary.members == 80
    assert summary.rows_by_file == {
        output_path(extract_layout(kind)): len(rows) for kind, rows in drop.items()
    }
    statuses = {r["STATUS_CODE"] for k in ("claim_header", "pharmacy_claim") for r in drop[k]}
    assert statuses == {"P"}


def test_volume_run_streams_in_flat_memory(tmp_path: Path) -> None:
    tracemalloc.start()
    try:
        summary = generate_drop(tmp_path, claims=20_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.claims == 20_000 and summary.members == 20_000 // 6
    # Holding 20,000 claims' rows would take well over 100 MB; streaming stays near 2 MB.
    assert peak < 16_000_000
