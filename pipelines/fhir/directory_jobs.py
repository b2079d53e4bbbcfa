"""The directory's build plan: which records feed which Plan-Net builder."""

from __future__ import annotations

from typing import Any

from pipelines.canonical import directory_records as sql
from pipelines.fhir import directory as plan_net
from pipelines.fhir.build import BuildJob

Record = dict[str, Any]


# Business keys are named functions, not lambdas, so jobs can travel to worker processes.
def organization_record_key(record: Record) -> str:
    return plan_net.organization_key(record["organization_id"])


def network_record_key(record: Record) -> str:
    return plan_net.network_key(record["network_id"])


def location_record_key(record: Record) -> str:
    return plan_net.location_key(record["location_id"])


def endpoint_record_key(record: Record) -> str:
    return plan_net.endpoint_key(record["endpoint_id"])


def plan_record_key(record: Record) -> str:
    return plan_net.plan_key(record["plan_id"])


def service_record_key(record: Record) -> str:
    return plan_net.service_key(record["service_id"])


def affiliation_record_key(record: Record) -> str:
    return plan_net.affiliation_key(record["affiliation_id"])


def practitioner_record_key(record: Record) -> str:
    return plan_net.practitioner_key(record["npi"])


DIRECTORY_JOBS = [
    BuildJob(sql.ORGANIZATION_RECORDS, plan_net.build_organization, organization_record_key),
    BuildJob(sql.NETWORK_RECORDS, plan_net.build_network, network_record_key),
    BuildJob(sql.LOCATION_RECORDS, plan_net.build_location, location_record_key),
    BuildJob(sql.ENDPOINT_RECORDS, plan_net.build_endpoint, endpoint_record_key),
    BuildJob(sql.PLAN_RECORDS, plan_net.build_insurance_plan, plan_record_key),
    BuildJob(sql.SERVICE_RECORDS, plan_net.build_healthcare_service, service_record_key),
    BuildJob(sql.AFFILIATION_RECORDS, plan_net.build_affiliation, affiliation_record_key),
    BuildJob(sql.PRACTITIONER_RECORDS, plan_net.build_practitioner, practitioner_record_key),
    BuildJob(sql.ROLE_RECORDS, plan_net.build_practitioner_role, plan_net.role_key),
]
