"""SQL that assembles the formulary records for the builders, the same way for both sources.

The Part D files and the QHP JSON describe the same things in different shapes; the setup
statements bring both to four tables (plans, their tier costs, formulary entries, drugs), so the
builders and the two IG versions never look at which source a record came from.
"""

from __future__ import annotations

# A Part D plan is contract-plan-segment; its Medicare Plan Finder page is its public summary,
# and the costs published are its preferred pharmacy network's.
_PARTD_PLANS = """
SELECT 'partd' AS source,
       p.contract_id || '-' || p.plan_id || '-' || p.segment_id AS plan_key,
       'CONTRACT-PLAN-SEGMENT' AS plan_id_type,
       any_value(p.plan_name) AS name,
       'partd|' || any_value(p.formulary_id) AS formulary_key,
       any_value(p.formulary_id) AS formulary_identifier,
       'Part D formulary ' || any_value(p.formulary_id) AS formulary_name,
       CASE WHEN starts_with(p.contract_id, 'S') THEN 'medid' ELSE 'mediadv' END AS product_type,
       any_value(y.contract_year) AS plan_year,
       list(DISTINCT p.state ORDER BY p.state) FILTER (WHERE p.state IS NOT NULL) AS states,
       'https://www.medicare.gov/plan-compare/#/plan-details/' || any_value(y.contract_year)
           || '-' || p.contract_id || '-' || p.plan_id || '-' || p.segment_id AS summary_url,
       NULL::VARCHAR AS marketing_url, NULL::VARCHAR AS formulary_url,
       NULL::VARCHAR AS plan_contact,
       'PREFERRED' AS network_tier
FROM canonical_partd_plan p
LEFT JOIN (SELECT formulary_id, max(contract_year) AS contract_year
           FROM canonical_partd_drug GROUP BY formulary_id) y USING (formulary_id)
WHERE coalesce(p.plan_suppressed_flag, 'N') <> 'Y'
GROUP BY p.contract_id, p.plan_id, p.segment_id
"""

# A QHP plan has its own formulary; its HIOS id carries its state in characters 6 and 7.
_QHP_PLANS = """
SELECT 'qhp', plan_id, any_value(plan_id_type), any_value(marketing_name),
       'qhp|' || plan_id, plan_id, any_value(marketing_name) || ' formulary', 'qhp',
       year(max(last_updated_on)), [substr(plan_id, 6, 2)], any_value(summary_url),
       any_value(marketing_url), any_value(formulary_url), any_value(plan_contact),
       coalesce(any_value(network_tier), 'PREFERRED')
FROM canonical_qhp_plan GROUP BY plan_id
"""

FORMULARY_PLANS = f"""
CREATE OR REPLACE TABLE formulary_plans AS
{_PARTD_PLANS} UNION ALL {_QHP_PLANS}
"""

# Part D prices the initial coverage level (1) at preferred retail and mail pharmacies, for one
# month (days supply 1) and three months (2); cost type 1 is a copay, 2 a coinsurance fraction.
# Non-preferred pharmacies stay in staging: the IG's pharmacy types have no code for them.
_PARTD_COST_CHANNELS = " UNION ALL ".join(
    f"""SELECT contract_id || '-' || plan_id || '-' || segment_id AS plan_key, tier,
           days_supply, '{channel}' AS channel, cost_type_{column} AS cost_type,
           cost_amount_{column} AS amount, deductible_applies_flag = 'Y' AS deductible_applies
    FROM canonical_partd_cost WHERE coverage_level = '1' AND days_supply IN ('1', '2')
      AND cost_type_{column} IN ('1', '2')"""
    for channel, column in (("retail", "pref"), ("mail", "mail_pref"))
)

_PARTD_COSTS = f"""
SELECT 'partd' AS source, plan_key, tier,
       bool_or(channel = 'mail') OVER (PARTITION BY plan_key, tier) AS mail_order,
       CASE days_supply WHEN '1' THEN '1-month' ELSE '3-month' END || '-in-' || channel
           AS pharmacy_type,
       CASE WHEN cost_type = '1' THEN amount END AS copay_amount,
       CASE WHEN cost_type <> '1' THEN 'not-applicable'
            WHEN deductible_applies THEN 'after-deductible' ELSE 'before-deductible' END
           AS copay_option,
       CASE WHEN cost_type = '2' THEN amount END AS coinsurance_rate,
       CASE WHEN cost_type <> '2' THEN 'not-applicable'
            WHEN deductible_applies THEN 'after-deductible' ELSE 'charge' END
           AS coinsurance_option
FROM ({_PARTD_COST_CHANNELS})
"""

_QHP_COSTS = """
SELECT 'qhp', plan_id, drug_tier, coalesce(mail_order = 'true', false), lower(pharmacy_type),
       copay_amount, lower(copay_option), coinsurance_rate, lower(coinsurance_option)
FROM canonical_qhp_plan
"""

FORMULARY_COSTS = f"""
CREATE OR REPLACE TABLE formulary_costs AS
SELECT c.*, t.target_code AS tier_code, t.target_display AS tier_display
FROM ({_PARTD_COSTS} UNION ALL {_QHP_COSTS}) c
JOIN concept_map t ON t.map_name = 'drug_tier' AND t.source_code = c.tier
"""

# One entry per formulary and drug; Part D's NDC rows of one RxCUI agree (staging made sure).
FORMULARY_ENTRIES = """
CREATE OR REPLACE TABLE formulary_entries AS
SELECT 'partd|' || formulary_id AS formulary_key, rxcui, any_value(tier_level) AS tier,
       bool_or(prior_authorization_flag = 'Y') AS prior_authorization,
       bool_or(step_therapy_flag = 'Y') AS step_therapy,
       bool_or(quantity_limit_flag = 'Y') AS quantity_limit,
       any_value(quantity_limit_amount) AS quantity_limit_amount,
       any_value(quantity_limit_days) AS quantity_limit_days
FROM canonical_partd_drug GROUP BY formulary_id, rxcui
UNION ALL
SELECT 'qhp|' || plan_id, rxnorm_id, any_value(drug_tier),
       bool_or(prior_authorization = 'true'), bool_or(step_therapy = 'true'),
       bool_or(quantity_limit = 'true'), NULL, NULL
FROM canonical_qhp_drug GROUP BY plan_id, rxnorm_id
"""

# Drug names: the payer's RxNorm table first, then the name drugs.json gives.
FORMULARY_DRUGS = """
CREATE OR REPLACE TABLE formulary_drugs AS
SELECT e.rxcui, coalesce(any_value(n.name), any_value(q.drug_name)) AS name,
       any_value(n.tty) AS tty
FROM (SELECT DISTINCT rxcui FROM formulary_entries) e
LEFT JOIN canonical_rxnorm_name n USING (rxcui)
LEFT JOIN (SELECT rxnorm_id AS rxcui, any_value(drug_name) AS drug_name
           FROM canonical_qhp_drug GROUP BY rxnorm_id) q USING (rxcui)
GROUP BY e.rxcui
"""

SETUP = (FORMULARY_PLANS, FORMULARY_COSTS, FORMULARY_ENTRIES, FORMULARY_DRUGS)

_TIERS_OF_PLAN = """
    SELECT plan_key, tier_code, any_value(tier_display) AS tier_display,
           bool_or(mail_order) AS mail_order,
           list({'pharmacy_type': pharmacy_type, 'copay_amount': copay_amount,
                 'copay_option': copay_option, 'coinsurance_rate': coinsurance_rate,
                 'coinsurance_option': coinsurance_option} ORDER BY pharmacy_type) AS cost_sharing
    FROM formulary_costs GROUP BY plan_key, tier_code
"""

PLAN_RECORDS = f"""
SELECT p.*, list({{'tier_code': t.tier_code, 'tier_display': t.tier_display,
                   'mail_order': t.mail_order, 'cost_sharing': t.cost_sharing}}
                 ORDER BY t.tier_code) AS tiers
FROM formulary_plans p LEFT JOIN ({_TIERS_OF_PLAN}) t USING (plan_key)
GROUP BY ALL ORDER BY p.plan_key
"""

# An STU1 CoveragePlan lists its drugs (the STU1 FormularyDrug of each), so List?item= and
# MedicationKnowledge?_revinclude=List:item answer.
STU1_PLAN_RECORDS = f"""
SELECT r.*,
       (SELECT list(e.rxcui ORDER BY e.rxcui) FROM formulary_entries e
        JOIN formulary_drugs d USING (rxcui) WHERE e.formulary_key = r.formulary_key) AS rxcuis
FROM ({PLAN_RECORDS}) r ORDER BY r.plan_key
"""

FORMULARY_RECORDS = """
SELECT formulary_key, any_value(formulary_identifier) AS formulary_identifier,
       any_value(formulary_name) AS formulary_name, max(plan_year) AS plan_year
FROM formulary_plans GROUP BY formulary_key ORDER BY formulary_key
"""

# A formulary item lists the pharmacy types its tier is priced at by the formulary's plans.
ITEM_RECORDS = """
SELECT e.formulary_key, e.rxcui, e.prior_authorization, e.step_therapy, e.quantity_limit,
       e.quantity_limit_amount, e.quantity_limit_days, f.plan_year,
       t.target_code AS tier_code, t.target_display AS tier_display,
       (SELECT list(DISTINCT c.pharmacy_type ORDER BY c.pharmacy_type)
        FROM formulary_costs c JOIN formulary_plans p USING (plan_key)
        WHERE p.formulary_key = e.formulary_key AND c.tier = e.tier) AS pharmacy_types
FROM formulary_entries e
JOIN (SELECT formulary_key, max(plan_year) AS plan_year FROM formulary_plans
      GROUP BY formulary_key) f USING (formulary_key)
LEFT JOIN concept_map t ON t.map_name = 'drug_tier' AND t.source_code = e.tier
ORDER BY e.formulary_key, e.rxcui
"""

DRUG_RECORDS = "SELECT * FROM formulary_drugs ORDER BY rxcui"

LOCATION_RECORDS = """
SELECT DISTINCT unnest(states) AS state FROM formulary_plans ORDER BY state
"""

# STU1 repeats each drug per plan, with the plan's tier and limits on the drug itself.
STU1_DRUG_RECORDS = """
SELECT p.source, p.plan_key, d.rxcui, d.name, d.tty, e.prior_authorization, e.step_therapy,
       e.quantity_limit, t.target_code AS tier_code, t.target_display AS tier_display,
       EXISTS (SELECT 1 FROM formulary_costs c
               WHERE c.plan_key = p.plan_key AND c.tier = e.tier AND c.mail_order) AS mail_order
FROM formulary_plans p
JOIN formulary_entries e USING (formulary_key)
JOIN formulary_drugs d USING (rxcui)
LEFT JOIN concept_map t ON t.map_name = 'drug_tier' AND t.source_code = e.tier
ORDER BY p.plan_key, d.rxcui
"""
