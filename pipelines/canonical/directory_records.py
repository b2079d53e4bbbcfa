"""SQL that assembles the directory's records for the Plan-Net builders: one row per resource.

Repeated rows of a snapshot (a roster repeats its organization on every role) collapse here;
codes get their displays from the NUCC table, and addresses without coordinates get their
ZIP code's centroid.
"""

from __future__ import annotations


def _current(kind: str) -> str:
    """The kind's current snapshot, one row per distinct content."""
    return f"(SELECT DISTINCT * EXCLUDE (load_id, source_file, row_number) FROM canonical_{kind})"


def _centroid(alias: str, column: str) -> str:
    return f"LEFT JOIN us_zip {alias} ON {alias}.zip = left({column}, 5)"


def _intermediary(alias: str, column: str) -> str:
    """The phone of the organization a record's contact goes through when it has none."""
    return (
        f"LEFT JOIN (SELECT DISTINCT organization_id, phone FROM canonical_directory_organization) "
        f"{alias} ON {alias}.organization_id = {column}"
    )


def _taxonomy(alias: str, column: str) -> str:
    return f"LEFT JOIN nucc_taxonomy {alias} ON {alias}.code = {column}"


# Taxonomy groupings of places rather than people or groups of people.
_FACILITY_GROUPINGS = (
    "'Hospitals', 'Hospital Units', 'Ambulatory Health Care Facilities', 'Laboratories', "
    "'Nursing & Custodial Care Facilities', 'Residential Treatment Facilities', "
    "'Respite Care Facility', 'Suppliers', 'Agencies', 'Transportation Services'"
)

ORGANIZATION_RECORDS = f"""
SELECT o.*,
       coalesce(m.target_code,
                CASE WHEN t.grouping IN ({_FACILITY_GROUPINGS}) THEN 'fac' ELSE 'prvgrp' END)
           AS organization_type,
       t.display AS taxonomy_display, a.display AS accreditation_display,
       z.latitude, z.longitude, i.phone AS intermediary_phone
FROM {_current("directory_organization")} o
{_intermediary("i", "o.parent_organization_id")}
LEFT JOIN concept_map m ON m.map_name = 'organization_type' AND m.source_code = o.type_code
{_taxonomy("t", "o.taxonomy_code")}
{_taxonomy("a", "o.accreditation_code")}
{_centroid("z", "o.postal_code")}
ORDER BY o.organization_id
"""

NETWORK_RECORDS = f"SELECT * FROM {_current('directory_network')} ORDER BY network_id"

LOCATION_RECORDS = f"""
SELECT l.* REPLACE (coalesce(l.latitude, z.latitude) AS latitude,
                    coalesce(l.longitude, z.longitude) AS longitude),
       i.phone AS intermediary_phone
FROM {_current("directory_location")} l
{_centroid("z", "l.postal_code")}
{_intermediary("i", "l.managing_organization_id")}
ORDER BY l.location_id
"""

ENDPOINT_RECORDS = f"SELECT * FROM {_current('directory_endpoint')} ORDER BY endpoint_id"

PLAN_RECORDS = f"SELECT * FROM {_current('directory_plan')} ORDER BY plan_id"

SERVICE_RECORDS = f"""
SELECT s.*, t.display AS taxonomy_display, i.phone AS intermediary_phone
FROM {_current("directory_service")} s {_taxonomy("t", "s.taxonomy_code")}
{_intermediary("i", "s.organization_id")}
ORDER BY s.service_id
"""

AFFILIATION_RECORDS = f"""
SELECT a.*, t.display AS taxonomy_display
FROM {_current("directory_affiliation")} a {_taxonomy("t", "a.taxonomy_code")}
ORDER BY a.affiliation_id
"""

PRACTITIONER_RECORDS = f"""
SELECT p.*, g.target_code AS gender, d.target_code AS degree_code,
       d.target_display AS degree_display, b.display AS board_display,
       z.latitude AS practitioner_latitude, z.longitude AS practitioner_longitude
FROM (SELECT DISTINCT * EXCLUDE (load_id) FROM canonical_roster_practitioner) p
LEFT JOIN concept_map g ON g.map_name = 'gender' AND g.source_code = p.gender_code
LEFT JOIN concept_map d ON d.map_name = 'credential'
    AND d.source_code = upper(replace(p.credential, '.', ''))
{_taxonomy("b", "p.board_certification_code")}
{_centroid("z", "p.practitioner_postal_code")}
ORDER BY p.npi
"""

# Plan-Net gives a role one network: a roster row in two networks is two PractitionerRoles.
ROLE_RECORDS = f"""
SELECT r.*, t.display AS taxonomy_display, b.display AS board_display,
       i.phone AS intermediary_phone
FROM (
    SELECT *, unnest(CASE WHEN len(ids) = 0 THEN [NULL] ELSE ids END) AS network_id
    FROM (SELECT *, list_sort(list_distinct(list_filter(
                     list_transform(string_split(coalesce(network_ids, ''), ';'), lambda s: trim(s)),
                     lambda s: s <> ''))) AS ids
          FROM {_current("roster")})
) r
{_taxonomy("t", "r.taxonomy_code")}
{_taxonomy("b", "r.board_certification_code")}
{_intermediary("i", "r.organization_id")}
ORDER BY r.npi, r.taxonomy_code, r.organization_id, r.location_id, r.network_id
"""
