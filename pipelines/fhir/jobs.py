"""Which records feed which builder, per domain: the build plan of the fhir stage."""

from __future__ import annotations

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

RELATED_PERSON_RECORDS = f"""
SELECT * FROM ({sql.COVERAGE_RECORDS}) c WHERE c.relationship <> 'self'
QUALIFY row_number() OVER (PARTITION BY c.member_id, c.subscriber_id ORDER BY c.coverage_start_date DESC) = 1
ORDER BY c.member_id, c.subscriber_id
"""

MEMBER_JOBS = [
    BuildJob(sql.PAYER_RECORDS, build_payer, lambda r: payer_key(r["payer_id"])),
    BuildJob(sql.PATIENT_RECORDS, build_patient, lambda r: r["member_id"]),
    BuildJob(
        sql.COVERAGE_RECORDS,
        build_coverage,
        lambda r: coverage_key(r["member_id"], r["plan_id"], r["coverage_start_date"]),
    ),
    BuildJob(
        RELATED_PERSON_RECORDS,
        build_related_person,
        lambda r: related_person_key(r["member_id"], r["subscriber_id"]),
    ),
]

CLAIM_JOBS = [
    BuildJob(sql.PROVIDER_RECORDS, build_provider, lambda r: provider_key(r["npi"])),
    BuildJob(sql.medical_claim_records(), build_eob, lambda r: r["claim_id"]),
    BuildJob(sql.pharmacy_claim_records(), build_eob, lambda r: r["claim_id"]),
]
