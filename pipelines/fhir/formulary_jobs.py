"""The formulary domain's build plan: which records feed which USDF builder, STU2 and STU1."""

from __future__ import annotations

from typing import Any

from pipelines.canonical import formulary_records as sql
from pipelines.fhir import formulary as f
from pipelines.fhir.build import BuildJob

Record = dict[str, Any]


# Business keys are named functions, not lambdas, so jobs can travel to worker processes.
def payer_plan_record_key(record: Record) -> str:
    return f.payer_plan_key(record["source"], record["plan_key"])


def formulary_record_key(record: Record) -> str:
    return f.formulary_key(record["formulary_key"])


def item_record_key(record: Record) -> str:
    return f.item_key(record["formulary_key"], record["rxcui"])


def drug_record_key(record: Record) -> str:
    return f.drug_key(record["rxcui"])


def location_record_key(record: Record) -> str:
    return f.location_key(record["state"])


def stu1_plan_record_key(record: Record) -> str:
    return f.stu1_plan_key(record["source"], record["plan_key"])


def stu1_drug_record_key(record: Record) -> str:
    return f.stu1_drug_key(record["source"], record["plan_key"], record["rxcui"])


FORMULARY_JOBS = [
    BuildJob(sql.LOCATION_RECORDS, f.build_location, location_record_key),
    BuildJob(sql.FORMULARY_RECORDS, f.build_formulary, formulary_record_key),
    BuildJob(sql.PLAN_RECORDS, f.build_payer_plan, payer_plan_record_key),
    BuildJob(sql.DRUG_RECORDS, f.build_formulary_drug, drug_record_key),
    BuildJob(sql.ITEM_RECORDS, f.build_formulary_item, item_record_key),
    BuildJob(sql.STU1_PLAN_RECORDS, f.build_coverage_plan, stu1_plan_record_key),
    BuildJob(sql.STU1_DRUG_RECORDS, f.build_stu1_formulary_drug, stu1_drug_record_key),
]
