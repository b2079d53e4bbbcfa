"""Which records feed which builder, per domain: the build plan of the fhir stage."""

from __future__ import annotations

from typing import Any

from pipelines.canonical import records as sql
from pipelines.fhir.build import BuildJob
from pipelines.fhir.claim_providers import build_provider, provider_key
from pipelines.fhir.eob import build_eob
from pipelines.fhir.members import (
    build_coverage,
    build_patient,
    build_payer,
    build_related_person,
    coverage_key,
    payer_key,
    related_person_key,
)

Record = dict[str, Any]

RELATED_PERSON_RECORDS = f"""
SELECT * FROM ({sql.COVERAGE_RECORDS}) c WHERE c.relationship <> 'self'
QUALIFY row_number() OVER (PARTITION BY c.member_id, c.subscriber_id ORDER BY c.coverage_start_date DESC) = 1
ORDER BY c.member_id, c.subscriber_id
"""


# Business keys are named functions, not lambdas, so jobs can travel to worker processes.
def payer_record_key(record: Record) -> str:
    return payer_key(record["payer_id"])


def member_record_key(record: Record) -> str:
    return record["member_id"]


def coverage_record_key(record: Record) -> str:
    return coverage_key(record["member_id"], record["plan_id"], record["coverage_start_date"])


def related_person_record_key(record: Record) -> str:
    return related_person_key(record["member_id"], record["subscriber_id"])


def provider_record_key(record: Record) -> str:
    return provider_key(record["npi"])


def claim_record_key(record: Record) -> str:
    return record["claim_id"]


MEMBER_JOBS = [
    BuildJob(sql.PAYER_RECORDS, build_payer, payer_record_key),
    BuildJob(sql.PATIENT_RECORDS, build_patient, member_record_key),
    BuildJob(sql.COVERAGE_RECORDS, build_coverage, coverage_record_key),
    BuildJob(RELATED_PERSON_RECORDS, build_related_person, related_person_record_key),
]

CLAIM_JOBS = [
    BuildJob(sql.PROVIDER_RECORDS, build_provider, provider_record_key),
    BuildJob(sql.medical_claim_records(), build_eob, claim_record_key, sql.claim_chunks("medical")),
    BuildJob(
        sql.pharmacy_claim_records(), build_eob, claim_record_key, sql.claim_chunks("pharmacy")
    ),
]
