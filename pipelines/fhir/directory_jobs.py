"""The directory's build plan: which records feed which Plan-Net builder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.canonical import directory_records as sql
from pipelines.fhir import directory as plan_net
from pipelines.fhir.build import BuildJob

Record = dict[str, Any]


@dataclass(frozen=True)
class EntryKey:
    """The business key of a record: its kind and the field holding its id. A class rather
    than a lambda, so jobs can travel to worker processes."""

    kind: str
    field: str

    def __call__(self, record: Record) -> str:
        return plan_net.directory_key(self.kind, record[self.field])


DIRECTORY_JOBS = [
    BuildJob(
        sql.ORGANIZATION_RECORDS,
        plan_net.build_organization,
        EntryKey("organization", "organization_id"),
    ),
    BuildJob(sql.NETWORK_RECORDS, plan_net.build_network, EntryKey("network", "network_id")),
    BuildJob(sql.LOCATION_RECORDS, plan_net.build_location, EntryKey("location", "location_id")),
    BuildJob(sql.ENDPOINT_RECORDS, plan_net.build_endpoint, EntryKey("endpoint", "endpoint_id")),
    BuildJob(sql.PLAN_RECORDS, plan_net.build_insurance_plan, EntryKey("plan", "plan_id")),
    BuildJob(
        sql.SERVICE_RECORDS, plan_net.build_healthcare_service, EntryKey("service", "service_id")
    ),
    BuildJob(
        sql.AFFILIATION_RECORDS,
        plan_net.build_affiliation,
        EntryKey("affiliation", "affiliation_id"),
    ),
    BuildJob(
        sql.PRACTITIONER_RECORDS, plan_net.build_practitioner, EntryKey("practitioner", "npi")
    ),
    BuildJob(sql.ROLE_RECORDS, plan_net.build_practitioner_role, plan_net.role_key),
]
