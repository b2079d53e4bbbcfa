"""SQL that assembles canonical records for the FHIR builders: one row per resource to build.

Local codes are mapped through concept_map here, and each claim arrives with its lines and codes
as nested lists, so builders stay pure and the join work stays in DuckDB.
"""

from __future__ import annotations


def _mapped(map_name: str, column: str, alias: str) -> str:
    return (
        f"LEFT JOIN concept_map {alias} ON {alias}.map_name = '{map_name}' "
        f"AND {alias}.source_code = {column}"
    )


MEMBERS_OF_LOAD = "SELECT DISTINCT member_id FROM staged_eligibility"

PATIENT_RECORDS = f"""
SELECT e.*, g.target_code AS gender,
       race.target_system AS race_system, race.target_code AS race,
       race.target_display AS race_display,
       eth.target_system AS ethnicity_system, eth.target_code AS ethnicity,
       eth.target_display AS ethnicity_display,
       bs.target_code AS birth_sex
FROM canonical_eligibility e
{_mapped("gender", "e.gender_code", "g")}
{_mapped("race", "e.race_code", "race")}
{_mapped("ethnicity", "e.ethnicity_code", "eth")}
{_mapped("birth_sex", "e.birth_sex_code", "bs")}
WHERE e.member_id IN ({MEMBERS_OF_LOAD})
QUALIFY row_number() OVER (PARTITION BY e.member_id ORDER BY e.coverage_start_date DESC) = 1
ORDER BY e.member_id
"""

COVERAGE_RECORDS = f"""
SELECT e.*,
       r.target_system AS relationship_system, r.target_code AS relationship,
       r.target_display AS relationship_display,
       p.target_system AS product_type_system, p.target_code AS product_type,
       p.target_display AS product_type_display,
       s.last_name AS subscriber_last_name, s.first_name AS subscriber_first_name,
       s.phone AS subscriber_phone, s.address_line1 AS subscriber_address_line1,
       s.address_line2 AS subscriber_address_line2, s.city AS subscriber_city,
       s.state AS subscriber_state, s.postal_code AS subscriber_postal_code
FROM canonical_eligibility e
{_mapped("relationship", "e.relationship_code", "r")}
{_mapped("product_type", "e.product_type_code", "p")}
LEFT JOIN (
    SELECT subscriber_id, last_name, first_name, phone, address_line1, address_line2, city,
           state, postal_code
    FROM canonical_eligibility WHERE relationship_code = '18'
    QUALIFY row_number() OVER (PARTITION BY subscriber_id ORDER BY coverage_start_date DESC) = 1
) s ON s.subscriber_id = e.subscriber_id AND e.relationship_code <> '18'
WHERE e.member_id IN ({MEMBERS_OF_LOAD})
ORDER BY e.member_id, e.coverage_start_date
"""

PAYER_RECORDS = """
SELECT payer_id, any_value(payer_name ORDER BY coverage_start_date DESC) AS payer_name,
       any_value(payer_naic_code ORDER BY coverage_start_date DESC) AS payer_naic_code
FROM staged_eligibility GROUP BY payer_id ORDER BY payer_id
"""

# The claims to (re)build: this load's claims, plus the earlier claims this load's adjustments
# replace (their EOB now points at the replacement and is no longer active).
# Claims are assembled CLAIM_CHUNK at a time, so DuckDB's memory for nesting lines and codes
# stays the same however many claims a night brings.
CLAIM_CHUNK = 20_000

BUILD_CLAIMS = f"""
CREATE OR REPLACE TABLE build_claims AS
SELECT claim_id, source,
       (row_number() OVER (PARTITION BY source ORDER BY claim_id) - 1) // {CLAIM_CHUNK} AS chunk
FROM (
SELECT claim_id, 'medical' AS source FROM staged_claim_header
UNION
SELECT original_claim_id, 'medical' FROM staged_claim_header
WHERE status_code = 'A' AND original_claim_id IN (SELECT claim_id FROM canonical_claim_header)
UNION
SELECT claim_id, 'pharmacy' FROM staged_pharmacy_claim
UNION
SELECT original_claim_id, 'pharmacy' FROM staged_pharmacy_claim
WHERE status_code = 'A' AND original_claim_id IN (SELECT claim_id FROM canonical_pharmacy_claim)
)
"""


def claim_chunks(source: str) -> str:
    """The chunk numbers of one source's claims to build."""
    return f"SELECT DISTINCT chunk FROM build_claims WHERE source = '{source}' ORDER BY chunk"


def _coverage_join(header: str, service_date: str, dental_condition: str) -> str:
    """The coverage span of the member that contains the first service date (dental for oral)."""
    return f"""
    LEFT JOIN LATERAL (
        SELECT e.plan_id, e.coverage_start_date, e.payer_id
        FROM canonical_eligibility e
        WHERE e.member_id = {header}.member_id
          AND {header}.{service_date} BETWEEN e.coverage_start_date
              AND coalesce(e.coverage_end_date, DATE '9999-12-31')
        ORDER BY (coalesce(e.product_type_code = 'DEN', false) = ({dental_condition})) DESC,
                 e.coverage_start_date DESC
        LIMIT 1
    ) cov ON true
    """


def _provider_columns(header: str, role: str, field: str) -> tuple[str, str]:
    select = (
        f"CASE WHEN {role}.entity_type_code = '1' THEN 'Practitioner' "
        f"WHEN {role}.npi IS NOT NULL THEN 'Organization' END AS {field.replace('_npi', '_type')}, "
        f"{role}.taxonomy_code AS {field.replace('_npi', '_taxonomy')}"
    )
    join = f"LEFT JOIN canonical_provider {role} ON {role}.npi = {header}.{field}"
    return select, join


_REPLACED_BY = """
    (SELECT a.claim_id FROM {table} a
     WHERE a.original_claim_id = h.claim_id AND a.status_code = 'A'
     ORDER BY a.adjudicated_date DESC, a.claim_id DESC LIMIT 1) AS replaced_by
"""

_NOTES = """notes AS (
        SELECT claim_id, list(n ORDER BY note_number) AS notes
        FROM canonical_claim_note n
        WHERE claim_id IN (
            SELECT claim_id FROM build_claims WHERE source = '{source}' AND chunk = $chunk)
        GROUP BY claim_id
    )"""

MEDICAL_PROVIDER_FIELDS = (
    ("bp", "billing_provider_npi"),
    ("rp", "rendering_provider_npi"),
    ("fp", "referring_provider_npi"),
    ("ap", "attending_provider_npi"),
    ("sf", "service_facility_npi"),
)


def medical_claim_records() -> str:
    """One row per medical or dental claim to build, with lines, diagnoses and procedures."""
    provider_selects, provider_joins = zip(
        *(_provider_columns("h", role, field) for role, field in MEDICAL_PROVIDER_FIELDS),
        strict=True,
    )
    return f"""
    WITH lines AS (
        SELECT l.claim_id,
               list(struct_insert(l, procedure_system := pc.target_system,
                                  transport_reason_system := tr.target_system,
                                  transport_reason_display := tr.target_display)
                    ORDER BY l.line_number) AS lines,
               bool_or(l.denial_reason_code IS NOT NULL) AS has_denied_line
        FROM canonical_claim_line l
        {_mapped("procedure_code_type", "l.procedure_code_type", "pc")}
        {_mapped("ambulance_transport_reason", "l.ambulance_transport_reason_code", "tr")}
        WHERE l.claim_id IN (SELECT claim_id FROM build_claims WHERE source = 'medical' AND chunk = $chunk)
        GROUP BY l.claim_id
    ), codes AS (
        SELECT c.claim_id,
               list(struct_pack(sequence := c.sequence, code := c.code,
                                type_system := dt.target_system, type_code := dt.target_code,
                                present_on_admission_code := c.present_on_admission_code)
                    ORDER BY c.sequence) FILTER (WHERE c.code_category = 'DX') AS diagnoses,
               list(struct_pack(sequence := c.sequence, code := c.code,
                                procedure_date := c.procedure_date)
                    ORDER BY c.sequence) FILTER (WHERE c.code_category = 'PX') AS procedures,
               list(c.code ORDER BY c.sequence)
                    FILTER (WHERE c.code_category = 'MT') AS missing_teeth
        FROM canonical_claim_code c
        {_mapped("diagnosis_type", "c.diagnosis_type_code", "dt")}
        WHERE c.claim_id IN (SELECT claim_id FROM build_claims WHERE source = 'medical' AND chunk = $chunk)
        GROUP BY c.claim_id
    ), {_NOTES.format(source="medical")}
    SELECT h.*, ct.target_code AS profile_key, st.target_code AS status,
           ns.target_code AS network_status, rns.target_code AS rendering_network_status,
           pt.target_system AS payee_system, pt.target_code AS payee_code,
           h.billing_provider_npi AS billing_npi, CASE WHEN bp.entity_type_code = '1' THEN 'Practitioner' ELSE 'Organization' END AS billing_type,
           cov.plan_id, cov.coverage_start_date, cov.payer_id,
           lines.lines, coalesce(lines.has_denied_line, false) AS has_denied_line,
           codes.diagnoses, codes.procedures, codes.missing_teeth, notes.notes,
           {", ".join(provider_selects)},
           {_REPLACED_BY.format(table="canonical_claim_header")}
    FROM canonical_claim_header h
    {_mapped("claim_type", "h.claim_type_code", "ct")}
    {_mapped("claim_status", "h.status_code", "st")}
    {_mapped("network_status", "h.network_status_code", "ns")}
    {_mapped("network_status", "h.rendering_network_status_code", "rns")}
    {_mapped("payee_type", "h.payee_type_code", "pt")}
    {" ".join(provider_joins)}
    {_coverage_join("h", "statement_from_date", "h.claim_type_code = 'DENT'")}
    LEFT JOIN lines ON lines.claim_id = h.claim_id
    LEFT JOIN codes ON codes.claim_id = h.claim_id
    LEFT JOIN notes ON notes.claim_id = h.claim_id
    WHERE h.claim_id IN (SELECT claim_id FROM build_claims WHERE source = 'medical' AND chunk = $chunk)

    """


def pharmacy_claim_records() -> str:
    """One row per pharmacy claim to build, with compound ingredients as a nested list."""
    provider_selects, provider_joins = zip(
        *(
            _provider_columns("h", role, field)
            for role, field in (("pr", "prescriber_npi"), ("ph", "pharmacy_npi"))
        ),
        strict=True,
    )
    return f"""
    WITH ingredients AS (
        SELECT claim_id, list(i ORDER BY ingredient_number) AS ingredients
        FROM canonical_pharmacy_ingredient i
        WHERE claim_id IN (SELECT claim_id FROM build_claims WHERE source = 'pharmacy' AND chunk = $chunk)
        GROUP BY claim_id
    ), {_NOTES.format(source="pharmacy")}
    SELECT h.*, 'pharmacy' AS profile_key, st.target_code AS status,
           ns.target_code AS network_status,
           'http://terminology.hl7.org/CodeSystem/payeetype' AS payee_system,
           'provider' AS payee_code,
           h.pharmacy_npi AS billing_npi, CASE WHEN ph.entity_type_code = '1' THEN 'Practitioner' ELSE 'Organization' END AS billing_type, h.fill_date AS statement_from_date,
           NULL::DATE AS statement_to_date, false AS has_denied_line,
           cov.plan_id, cov.coverage_start_date, cov.payer_id,
           ingredients.ingredients, notes.notes,
           {", ".join(provider_selects)},
           {_REPLACED_BY.format(table="canonical_pharmacy_claim")}
    FROM canonical_pharmacy_claim h
    {_mapped("claim_status", "h.status_code", "st")}
    {_mapped("network_status", "h.network_status_code", "ns")}
    {" ".join(provider_joins)}
    {_coverage_join("h", "fill_date", "false")}
    LEFT JOIN ingredients ON ingredients.claim_id = h.claim_id
    LEFT JOIN notes ON notes.claim_id = h.claim_id
    WHERE h.claim_id IN (SELECT claim_id FROM build_claims WHERE source = 'pharmacy' AND chunk = $chunk)

    """


PROVIDER_RECORDS = """
WITH referenced AS (
    SELECT unnest([billing_provider_npi, rendering_provider_npi, referring_provider_npi,
                   attending_provider_npi, service_facility_npi]) AS npi
    FROM canonical_claim_header
    WHERE claim_id IN (SELECT claim_id FROM build_claims WHERE source = 'medical')
    UNION
    SELECT unnest([prescriber_npi, pharmacy_npi])
    FROM canonical_pharmacy_claim
    WHERE claim_id IN (SELECT claim_id FROM build_claims WHERE source = 'pharmacy')
)
SELECT p.* FROM canonical_provider p WHERE p.npi IN (SELECT npi FROM referenced) ORDER BY p.npi
"""
