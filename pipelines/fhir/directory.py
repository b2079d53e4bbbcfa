"""Plan-Net 1.1.0 builders: one pure function per profile, from a directory record to a resource.

Business keys carry a 'directory' prefix so the directory's Practitioner and Organization ids
never meet the claims domain's C4BB ones for the same NPI: the two are different resources,
served by different APIs.
"""

from __future__ import annotations

from typing import Any

from pipelines.fhir import systems as sy
from pipelines.fhir.directory_parts import (
    ACCESSIBILITY,
    BOUNDARY,
    COMMUNICATION_PROFICIENCY,
    DELIVERY_METHOD,
    ENDPOINT_USECASE,
    LOCATION_REFERENCE,
    NETWORK_REFERENCE,
    ORG_DESCRIPTION,
    PLAN_NET_CS,
    PRACTITIONER_QUALIFICATION,
    USPS,
    V2_0360,
    Intermediary,
    address,
    available_time,
    directory_identifier,
    hours_of_operation,
    is_current,
    new_patients,
    not_available,
    npi_identifier,
    period,
    phone_number,
    plan_net_concept,
    plan_net_profile,
    position,
    qualification_extension,
    references,
    split_ids,
    taxonomy_concept,
    telecom,
)
from pipelines.fhir.ids import IdMaker
from pipelines.fhir.members import coding, concept, meta

Record = dict[str, Any]
Resource = dict[str, Any]


def directory_key(kind: str, value: str) -> str:
    """The business key of a directory entry of one kind (organization, network, location,
    endpoint, service, plan, affiliation, practitioner) by its id in the files."""
    return f"directory|{kind}|{value}"


def role_key(record: Record) -> str:
    names = ("npi", "taxonomy_code", "organization_id", "location_id", "network_id")
    return "directory|role|" + "|".join(record.get(name) or "" for name in names)


def _via(ids: IdMaker, organization_id: str | None, record: Record) -> Intermediary | None:
    if not organization_id:
        return None
    return Intermediary(_org(ids, organization_id) or {}, record.get("intermediary_phone"))


def _org(ids: IdMaker, organization_id: str | None) -> dict[str, str] | None:
    return (
        ids.reference("Organization", directory_key("organization", organization_id))
        if organization_id
        else None
    )


def _network_refs(ids: IdMaker, value: str | None) -> list[dict[str, str]]:
    return [ids.reference("Organization", directory_key("network", n)) for n in split_ids(value)]


def _location_refs(ids: IdMaker, value: str | None) -> list[dict[str, str]]:
    return [ids.reference("Location", directory_key("location", n)) for n in split_ids(value)]


def _endpoints(ids: IdMaker, endpoint_id: str | None) -> list[dict[str, str]]:
    return references(
        ids, "Endpoint", [directory_key("endpoint", e) for e in split_ids(endpoint_id)]
    )


def _contact(name: str | None, phone: str | None) -> list[dict[str, Any]]:
    """A named contact (a department, not a person) and its work line."""
    if not (name or phone):
        return []
    telecom_points = (
        [{"system": "phone", "value": phone_number(phone), "use": "work"}] if phone else []
    )
    return [_compact({"name": {"text": name} if name else None, "telecom": telecom_points})]


def _compact(resource: Resource) -> Resource:
    """Drop the elements left empty (None, [] or {}): FHIR forbids empty values."""
    return {key: value for key, value in resource.items() if value not in (None, [], {})}


def build_organization(record: Record, ids: IdMaker, last_updated: str) -> Resource:
    """Plan-Net Organization: a hospital, provider group, pharmacy or payer."""
    identifiers = [directory_identifier("organization", record["organization_id"])]
    if record.get("npi"):
        identifiers.append(npi_identifier(record["npi"]))
    if record.get("tax_id") and record["tax_id"].isdigit():
        identifiers.append(
            {
                "type": concept(sy.V2_0203, "TAX", "Tax ID number"),
                "system": sy.TAX_ID,
                "value": record["tax_id"],
            }
        )
    extensions = []
    if record.get("accreditation_code"):
        code = {
            "coding": [
                coding(sy.NUCC, record["accreditation_code"], record.get("accreditation_display"))
            ]
        }
        extensions.append(
            qualification_extension(
                code,
                record.get("accreditation_issuer"),
                record.get("state"),
                (None, None),
                last_updated,
            )
        )
    if record.get("description"):
        extensions.append({"url": ORG_DESCRIPTION, "valueString": record["description"]})
    contact = _contact(record.get("contact_name"), record.get("contact_phone"))
    parent = _org(ids, record.get("parent_organization_id"))
    return _compact(
        {
            "resourceType": "Organization",
            "id": ids("Organization", directory_key("organization", record["organization_id"])),
            "meta": meta(plan_net_profile("Organization"), last_updated),
            "extension": extensions,
            "identifier": identifiers,
            # Deactivated NPIs never get here: the staged rules hold them back.
            "active": True,
            "type": [plan_net_concept("OrgTypeCS", record["organization_type"])],
            "name": record["name"],
            "alias": [record["alias"]] if record.get("alias") else None,
            "telecom": telecom(
                record.get("phone"),
                record.get("phone_hours"),
                record.get("website"),
                _via(ids, record.get("parent_organization_id"), record),
            ),
            "address": [a] if (a := address(record, with_geolocation=True)) else None,
            "partOf": parent,
            "contact": contact,
            "endpoint": _endpoints(ids, record.get("endpoint_id")),
        }
    )


def build_network(record: Record, ids: IdMaker, last_updated: str) -> Resource:
    """Plan-Net Network: an Organization of type ntwk, part of the payer that owns it."""
    identifiers = [directory_identifier("network", record["network_id"])]
    if record.get("npi"):
        identifiers.append(npi_identifier(record["npi"]))
    # Plan-Net allows a network no telecom of its own: its line is its contact's.
    contact = _contact(
        record.get("contact_name"), record.get("contact_phone") or record.get("phone")
    )
    coverage = [
        {"url": LOCATION_REFERENCE, "valueReference": ref}
        for ref in _location_refs(ids, record.get("coverage_location_ids"))
    ]
    owner = _org(ids, record["owner_organization_id"])
    return _compact(
        {
            "resourceType": "Organization",
            "id": ids("Organization", directory_key("network", record["network_id"])),
            "meta": meta(plan_net_profile("Network"), last_updated),
            "extension": coverage,
            "identifier": identifiers,
            "active": True,
            "type": [plan_net_concept("OrgTypeCS", "ntwk")],
            "name": record["name"],
            "alias": [record["alias"]] if record.get("alias") else None,
            "address": [a] if (a := address(record)) else None,
            "partOf": owner,
            "contact": contact,
            "endpoint": _endpoints(ids, record.get("endpoint_id")),
        }
    )


def build_location(record: Record, ids: IdMaker, last_updated: str) -> Resource:
    """Plan-Net Location: a site where care is given, or a coverage area a plan names."""
    extensions = new_patients(
        record.get("accepting_new_patients_code"),
        ids.reference("Organization", directory_key("network", record["new_patients_network_id"]))
        if record.get("new_patients_network_id")
        else None,
    )
    extensions += [
        {"url": ACCESSIBILITY, "valueCodeableConcept": plan_net_concept("AccessibilityCS", code)}
        for code in split_ids(record.get("accessibility_codes"))
    ]
    if record.get("boundary_geojson"):
        extensions.append(
            {
                "url": BOUNDARY,
                "valueAttachment": {
                    "contentType": "application/geo+json",
                    "data": record["boundary_geojson"],
                },
            }
        )
    managing = _org(ids, record.get("managing_organization_id"))
    return _compact(
        {
            "resourceType": "Location",
            "id": ids("Location", directory_key("location", record["location_id"])),
            "meta": meta(plan_net_profile("Location"), last_updated),
            "extension": extensions,
            "identifier": [directory_identifier("location", record["location_id"])],
            "status": "active",
            "name": record["name"],
            "alias": [record["alias"]] if record.get("alias") else None,
            "description": record.get("description"),
            "type": [concept(sy.V3_ROLE_CODE, record["type_code"])]
            if record.get("type_code")
            else None,
            "telecom": telecom(
                record.get("phone"),
                record.get("phone_hours"),
                record.get("website"),
                _via(ids, record.get("managing_organization_id"), record),
            ),
            "address": address(record),
            "position": position(record),
            "managingOrganization": managing,
            "partOf": ids.reference(
                "Location", directory_key("location", record["part_of_location_id"])
            )
            if record.get("part_of_location_id")
            else None,
            "hoursOfOperation": hours_of_operation(record.get("hours")),
            "availabilityExceptions": record.get("availability_exceptions"),
            "endpoint": _endpoints(ids, record.get("endpoint_id")),
        }
    )


def build_endpoint(record: Record, ids: IdMaker, last_updated: str) -> Resource:
    """Plan-Net Endpoint: a Direct address, FHIR server or portal and what it carries."""
    usecase = []
    if record.get("use_case_code"):
        usecase.append(
            {
                "extension": [
                    {
                        "url": "type",
                        "valueCodeableConcept": concept(sy.V3_ACT_REASON, record["use_case_code"]),
                    }
                ],
                "url": ENDPOINT_USECASE,
            }
        )
    return _compact(
        {
            "resourceType": "Endpoint",
            "id": ids("Endpoint", directory_key("endpoint", record["endpoint_id"])),
            "meta": meta(plan_net_profile("Endpoint"), last_updated),
            "extension": usecase,
            "status": "active",
            "connectionType": coding(
                f"{PLAN_NET_CS}/EndpointConnectionTypeCS", record["connection_type_code"]
            ),
            "name": record.get("name"),
            "managingOrganization": _org(ids, record.get("managing_organization_id")),
            "contact": [{"system": "email", "value": record["contact_email"]}]
            if record.get("contact_email")
            else None,
            "payloadType": [
                plan_net_concept("EndpointPayloadTypeCS", record.get("payload_type_code") or "NA")
            ],
            "payloadMimeType": [record["mime_type"]] if record.get("mime_type") else None,
            "address": record["address"],
        }
    )


def build_insurance_plan(record: Record, ids: IdMaker, last_updated: str) -> Resource:
    """Plan-Net InsurancePlan: a product, the networks it uses and where it is sold."""
    owner = _org(ids, record["owner_organization_id"])
    identifier = {**directory_identifier("plan", record["plan_id"]), "assigner": owner}
    coverage = _location_refs(ids, record.get("coverage_location_ids"))
    contact = _contact(record.get("contact_name"), record.get("contact_phone"))
    plan = []
    if record.get("plan_type_code"):
        plan.append(
            _compact(
                {
                    "type": plan_net_concept("InsurancePlanTypeCS", record["plan_type_code"]),
                    "coverageArea": coverage,
                }
            )
        )
    return _compact(
        {
            "resourceType": "InsurancePlan",
            "id": ids("InsurancePlan", directory_key("plan", record["plan_id"])),
            "meta": meta(plan_net_profile("InsurancePlan"), last_updated),
            "identifier": [identifier],
            "status": "active"
            if is_current(last_updated, record.get("start_date"), record.get("end_date"))
            else "retired",
            "type": [plan_net_concept("InsuranceProductTypeCS", record["product_type_code"])],
            "name": record["name"],
            "alias": [record["alias"]] if record.get("alias") else None,
            "period": period(record.get("start_date"), record.get("end_date")),
            "ownedBy": owner,
            "administeredBy": _org(ids, record.get("administrator_organization_id")) or owner,
            "coverageArea": coverage,
            "contact": contact,
            "endpoint": _endpoints(ids, record.get("endpoint_id")),
            "network": _network_refs(ids, record.get("network_ids")),
            "plan": plan,
        }
    )


def build_healthcare_service(record: Record, ids: IdMaker, last_updated: str) -> Resource:
    """Plan-Net HealthcareService: a service an organization offers at its locations."""
    extensions = new_patients(
        record.get("accepting_new_patients_code"),
        ids.reference("Organization", directory_key("network", record["new_patients_network_id"]))
        if record.get("new_patients_network_id")
        else None,
    )
    if record.get("delivery_method_code"):
        extensions.append(
            {
                "extension": [
                    {
                        "url": "type",
                        "valueCodeableConcept": plan_net_concept(
                            "DeliveryMethodCS", record["delivery_method_code"]
                        ),
                    }
                ],
                "url": DELIVERY_METHOD,
            }
        )
    provider = _org(ids, record["organization_id"])
    return _compact(
        {
            "resourceType": "HealthcareService",
            "id": ids("HealthcareService", directory_key("service", record["service_id"])),
            "meta": meta(plan_net_profile("HealthcareService"), last_updated),
            "extension": extensions,
            "identifier": [directory_identifier("service", record["service_id"])],
            "active": True,
            "providedBy": provider,
            "category": [plan_net_concept("HealthcareServiceCategoryCS", record["category_code"])],
            "type": [concept(sy.SERVICE_TYPE, record["type_code"], record.get("type_display"))]
            if record.get("type_code")
            else None,
            "specialty": [taxonomy_concept(record["taxonomy_code"], record.get("taxonomy_display"))]
            if record.get("taxonomy_code")
            else None,
            "location": _location_refs(ids, record.get("location_ids")),
            "name": record.get("name"),
            "comment": record.get("comment"),
            "telecom": telecom(
                record.get("phone"),
                record.get("phone_hours"),
                None,
                _via(ids, record["organization_id"], record),
            ),
            "coverageArea": _location_refs(ids, record.get("coverage_location_ids")),
            "appointmentRequired": {"Y": True, "N": False}.get(
                record.get("appointment_required") or ""
            ),
            "availableTime": available_time(record.get("hours")),
            "notAvailable": not_available(record),
            "availabilityExceptions": record.get("availability_exceptions"),
            "endpoint": _endpoints(ids, record.get("endpoint_id")),
        }
    )


def build_affiliation(record: Record, ids: IdMaker, last_updated: str) -> Resource:
    """Plan-Net OrganizationAffiliation: an organization's part in another's network or services."""
    return _compact(
        {
            "resourceType": "OrganizationAffiliation",
            "id": ids(
                "OrganizationAffiliation", directory_key("affiliation", record["affiliation_id"])
            ),
            "meta": meta(plan_net_profile("OrganizationAffiliation"), last_updated),
            "identifier": [directory_identifier("affiliation", record["affiliation_id"])],
            "active": is_current(last_updated, record.get("start_date"), record.get("end_date")),
            "period": period(record.get("start_date"), record.get("end_date")),
            "organization": _org(ids, record["organization_id"]),
            "participatingOrganization": _org(ids, record["participating_organization_id"]),
            "network": _network_refs(ids, record.get("network_ids")),
            "code": [plan_net_concept("OrganizationAffiliationRoleCS", record["role_code"])],
            "specialty": [taxonomy_concept(record["taxonomy_code"], record.get("taxonomy_display"))]
            if record.get("taxonomy_code")
            else None,
            "location": _location_refs(ids, record.get("location_ids")),
            "healthcareService": [
                ids.reference("HealthcareService", directory_key("service", s))
                for s in split_ids(record.get("service_ids"))
            ],
            "telecom": telecom(record.get("phone"), record.get("phone_hours")),
            "endpoint": _endpoints(ids, record.get("endpoint_id")),
        }
    )


def _languages(value: str | None) -> list[dict[str, Any]]:
    """'en;es:30' as communication entries, each with its proficiency when given."""
    entries = []
    for item in split_ids(value):
        code, _, proficiency = item.partition(":")
        entry: dict[str, Any] = {"coding": [coding(sy.LANGUAGE, code)]}
        if proficiency:
            entry = {
                "extension": [
                    {
                        "url": COMMUNICATION_PROFICIENCY,
                        "valueCodeableConcept": plan_net_concept(
                            "LanguageProficiencyCS", proficiency
                        ),
                    }
                ],
                **entry,
            }
        entries.append(entry)
    return entries


def _practitioner_qualifications(record: Record, as_of: str) -> list[dict[str, Any]]:
    """The state license (coded by degree) and the board certification, each with its status."""
    qualifications = []
    valid = (record.get("license_start_date"), record.get("license_end_date"))
    if record.get("license_number") or record.get("credential"):
        status = [
            {"url": "status", "valueCode": "active" if is_current(as_of, *valid) else "inactive"}
        ]
        if record.get("license_state"):
            status.append(
                {
                    "url": "whereValid",
                    "valueCodeableConcept": concept(USPS, record["license_state"]),
                }
            )
        code = {"text": record.get("credential") or "License"}
        if record.get("degree_code"):
            code = {
                "coding": [coding(V2_0360, record["degree_code"], record.get("degree_display"))],
                **code,
            }
        qualifications.append(
            _compact(
                {
                    "extension": [{"extension": status, "url": PRACTITIONER_QUALIFICATION}],
                    "identifier": [
                        {
                            "system": f"{sy.IDENTIFIER_BASE}/license/{record.get('license_state') or 'US'}",
                            "value": record["license_number"],
                        }
                    ]
                    if record.get("license_number")
                    else None,
                    "code": code,
                    "period": period(*valid),
                    "issuer": {"display": record["license_issuer"]}
                    if record.get("license_issuer")
                    else None,
                }
            )
        )
    if record.get("board_certification_code"):
        qualifications.append(
            _compact(
                {
                    "extension": [
                        {
                            "extension": [{"url": "status", "valueCode": "active"}],
                            "url": PRACTITIONER_QUALIFICATION,
                        }
                    ],
                    "code": taxonomy_concept(
                        record["board_certification_code"], record.get("board_display")
                    ),
                    "issuer": {"display": record["board_name"]}
                    if record.get("board_name")
                    else None,
                }
            )
        )
    return qualifications


def _practitioner_name(record: Record) -> dict[str, Any]:
    given = [part for part in (record.get("first_name"), record.get("middle_name")) if part]
    words = [record.get("name_prefix"), *given, record["last_name"], record.get("name_suffix")]
    text = " ".join(word for word in words if word)
    if record.get("credential"):
        text += f", {record['credential']}"
    return _compact(
        {
            "text": text,
            "family": record["last_name"],
            "given": given,
            "prefix": [record["name_prefix"]] if record.get("name_prefix") else None,
            "suffix": [record["name_suffix"]] if record.get("name_suffix") else None,
        }
    )


def build_practitioner(record: Record, ids: IdMaker, last_updated: str) -> Resource:
    """Plan-Net Practitioner: who the provider is, whatever roles they hold."""
    return _compact(
        {
            "resourceType": "Practitioner",
            "id": ids("Practitioner", directory_key("practitioner", record["npi"])),
            "meta": meta(plan_net_profile("Practitioner"), last_updated),
            "identifier": [npi_identifier(record["npi"])],
            # Deactivated NPIs never get here: the staged rules hold them back.
            "active": True,
            "name": [_practitioner_name(record)],
            "telecom": telecom(record.get("practitioner_phone")),
            "address": [a]
            if (a := address(record, "practitioner_", with_geolocation=True))
            else None,
            "gender": record.get("gender"),
            "qualification": _practitioner_qualifications(record, last_updated),
            "communication": _languages(record.get("languages")),
        }
    )


def _role_extensions(record: Record, ids: IdMaker, as_of: str) -> list[dict[str, Any]]:
    network = _network_refs(ids, record.get("network_id"))  # one per role; see ROLE_RECORDS
    extensions = new_patients(record.get("accepting_new_patients_code"), next(iter(network), None))
    extensions += [{"url": NETWORK_REFERENCE, "valueReference": ref} for ref in network]
    if record.get("board_certification_code"):
        code = taxonomy_concept(record["board_certification_code"], record.get("board_display"))
        qualification = qualification_extension(
            code,
            record.get("board_name"),
            record.get("license_state"),
            (record.get("license_start_date"), record.get("license_end_date")),
            as_of,
        )
        if record.get("license_number"):
            identifier = {
                "url": "identifier",
                "valueIdentifier": {
                    "system": f"{sy.IDENTIFIER_BASE}/license/{record.get('license_state') or 'US'}",
                    "value": record["license_number"],
                },
            }
            qualification["extension"].insert(0, identifier)
        extensions.append(qualification)
    return extensions


def build_practitioner_role(record: Record, ids: IdMaker, last_updated: str) -> Resource:
    """Plan-Net PractitionerRole: a practitioner's specialty at one organization and location,
    in the networks that contract for it."""
    organization = _org(ids, record.get("organization_id"))
    return _compact(
        {
            "resourceType": "PractitionerRole",
            "id": ids("PractitionerRole", role_key(record)),
            "meta": meta(plan_net_profile("PractitionerRole"), last_updated),
            "extension": _role_extensions(record, ids, last_updated),
            "identifier": [
                directory_identifier("role", role_key(record).removeprefix("directory|role|"))
            ],
            # Ended roles and deactivated NPIs are held back in the staged rules.
            "active": True,
            "period": period(record.get("role_start_date"), record.get("role_end_date")),
            "practitioner": ids.reference(
                "Practitioner", directory_key("practitioner", record["npi"])
            ),
            "organization": organization,
            "code": [plan_net_concept("ProviderRoleCS", record["role_code"])]
            if record.get("role_code")
            else None,
            "specialty": [
                taxonomy_concept(record["taxonomy_code"], record.get("taxonomy_display"))
            ],
            "location": [
                ids.reference("Location", directory_key("location", record["location_id"]))
            ]
            if record.get("location_id")
            else None,
            "healthcareService": [
                ids.reference("HealthcareService", directory_key("service", record["service_id"]))
            ]
            if record.get("service_id")
            else None,
            "telecom": telecom(
                record.get("role_phone"),
                record.get("role_phone_hours"),
                None,
                _via(ids, record.get("organization_id"), record),
            ),
            "availableTime": available_time(record.get("role_hours")),
            "notAvailable": not_available(record, "role_"),
            "availabilityExceptions": record.get("role_availability_exceptions"),
            "endpoint": _endpoints(ids, record.get("endpoint_id")),
        }
    )
