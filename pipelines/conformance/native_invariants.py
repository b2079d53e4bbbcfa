"""Native Python twins of the hot FHIRPath invariants, keyed by their exact expression text.

Each check takes (element JSON, env) where env has `.resource`, `.root` and `.member_of(value, url)`,
and returns True/False like the FHIRPath expression (None: cannot be decided, reported as such).
`tests/conformance/test_invariants.py` checks every twin against fhirpathpy on real instances.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

NativeCheck = Callable[[Any, Any], "bool | None"]
C4BB_ADJ = "http://hl7.org/fhir/us/carin-bb/ValueSet/C4BBAdjudication"
C4BB_TRANSPORT = "http://hl7.org/fhir/us/carin-bb/ValueSet/C4BBTransportationServiceCategories"
VSAC_QUALIFICATION = "http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.114222.4.11.1066"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
DAR = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
DAR_EXT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
PAYEE_TYPE = "http://terminology.hl7.org/CodeSystem/payeetype"
PROFILE_PREFIX = re.compile(r"meta\.profile\.exists\(\$this\.startsWith\('([^']+)'\)\)")


def _list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _dicts(value: Any) -> list[dict]:
    return [v for v in _list(value) if isinstance(v, dict)]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _has_coding(cc: Any, system: str, code: str) -> bool:
    return any(
        c.get("system") == system and c.get("code") == code
        for x in _dicts(cc)
        for c in _dicts(x.get("coding"))
    )


def dom_3(res: dict, env: Any) -> bool:
    """Every contained resource is referenced from elsewhere in the resource (or from '#')."""
    contained = res.get("contained")
    if not contained:
        return True
    refs = set(_strings({k: v for k, v in res.items() if k != "contained"}))
    for c in contained:
        refs.update(s for s in _strings(c) if s.startswith("#"))
    if "#" in refs:
        return True
    return all(isinstance(c, dict) and f"#{c.get('id')}" in refs for c in contained)


def rng_2(rng: dict, env: Any) -> bool | None:
    low, high = rng.get("low"), rng.get("high")
    if not isinstance(low, dict) or not isinstance(high, dict):
        return True
    if "value" not in low or "value" not in high:
        return True
    if low.get("code", low.get("unit")) != high.get("code", high.get("unit")):
        return None  # unit conversion is not done here
    return low["value"] <= high["value"]


def ref_1(ref: dict, env: Any) -> bool:
    target = ref.get("reference")
    if not isinstance(target, str) or not target.startswith("#"):
        return True
    return target[1:] in {c.get("id") for c in _dicts(env.root.get("contained"))}


def per_1(period: dict, env: Any) -> bool:
    start, end = period.get("start"), period.get("end")
    if not isinstance(start, str) or not isinstance(end, str):
        return True
    if len(start) == len(end):
        return start <= end
    n = min(len(start), len(end), 10)
    return start[:n] <= end[:n]  # equal prefixes at different precision: empty, so not failed


def _contained_meta(res: dict, *keys: str) -> bool:
    return not any((c.get("meta") or {}).get(k) for c in _dicts(res.get("contained")) for k in keys)


def _adjudication_has_amount_type(obj: dict, env: Any) -> bool:
    adj = _dicts(obj.get("adjudication"))
    if not obj.get("adjudication"):
        return True
    return any(a.get("category") and env.member_of(a["category"], C4BB_ADJ) for a in adj)


def _amount_type_at(adjs: list[dict], env: Any) -> bool:
    return any(a.get("category") and env.member_of(a["category"], C4BB_ADJ) for a in adjs)


def _item_or_header(res: dict, env: Any) -> bool:
    header = _amount_type_at(_dicts(res.get("adjudication")), env)
    items = _amount_type_at(
        [a for i in _dicts(res.get("item")) for a in _dicts(i.get("adjudication"))], env
    )
    return header != items


def _transport_linked(res: dict, env: Any) -> bool:
    seqs = [
        s.get("sequence")
        for s in _dicts(res.get("supportingInfo"))
        if s.get("category") and env.member_of(s["category"], C4BB_TRANSPORT)
    ]
    if not seqs:  # no transportation information, as on most claims: nothing to link
        return True
    linked = {n for i in _dicts(res.get("item")) for n in _list(i.get("informationSequence"))}
    return all(s in linked for s in seqs if s is not None)


def _vision_item(res: dict, env: Any) -> bool:
    if _has_coding(res.get("type"), CLAIM_TYPE, "vision"):
        return True
    return not any(
        _has_coding(i.get("productOrService"), DAR, "not-applicable")
        for i in _dicts(res.get("item"))
    )


def _careteam_qualification(team: dict, env: Any) -> bool | None:
    rendering = any(
        c.get("code") == "rendering"
        for r in _dicts(team.get("role"))
        for c in _dicts(r.get("coding"))
    )
    return None if rendering else True  # the value set is VSAC-only: not decidable locally


def _payee_party(payee: dict, env: Any) -> bool:
    return not _has_coding(payee.get("type"), PAYEE_TYPE, "other") or bool(payee.get("party"))


def _focal(res: dict, env: Any) -> bool:
    # As written in the IG: select() yields one boolean per insurance that has focal.
    return sum(1 for i in _dicts(res.get("insurance")) if "focal" in i) < 2


def _careteam_vacuous(team: dict, env: Any) -> bool | None:
    # `...exists().provider.all(...)` navigates from a Boolean, so the IG expression is always true,
    # unless `code in (...)` raises on a coding with more than one code (e.g. code and _code).
    for c in _path(team, "role", "coding"):
        # one plain code (the usual shape) yields one item; only `_code` or a list can yield more
        plain = type(c) is not dict or ("_code" not in c and type(c.get("code")) is not list)
        if not plain and len(_nav([c], "code")) > 1:
            return None
    return True


_CARETEAM_VACUOUS = (
    "(\nrole.where(coding.where(code in ({codes})).exists()).exists() implies\n"
    "role.where(coding.where(code in ({codes2})).exists()).exists().provider.all(resolve() is {t})\n)"
)

NATIVE: dict[str, NativeCheck] = {
    (
        "contained.where((('#'+id in (%resource.descendants().reference | "
        "%resource.descendants().as(canonical) | %resource.descendants().as(uri) | "
        "%resource.descendants().as(url))) or descendants().where(reference = '#').exists() or "
        "descendants().where(as(canonical) = '#').exists() or "
        "descendants().where(as(canonical) = '#').exists()).not()).trace('unmatched', id).empty()"
    ): dom_3,
    "contained.contained.empty()": lambda o, e: (
        not any(c.get("contained") for c in _dicts(o.get("contained")))
    ),
    "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()": lambda o, e: (
        _contained_meta(o, "versionId", "lastUpdated")
    ),
    "contained.meta.security.empty()": lambda o, e: _contained_meta(o, "security"),
    "text.`div`.exists()": lambda o, e: bool((o.get("text") or {}).get("div")),
    "telecom or endpoint": lambda o, e: bool(o.get("telecom")) or bool(o.get("endpoint")),
    "low.empty() or high.empty() or (low <= high)": rng_2,
    (
        "reference.startsWith('#').not() or (reference.substring(1).trace('url') in "
        "%rootResource.contained.id.trace('ids'))"
    ): ref_1,
    "start.hasValue().not() or end.hasValue().not() or (start <= end)": per_1,
    "code.empty() or system.exists()": lambda o, e: "code" not in o or "system" in o,
    f"(adjudication.exists().not() or adjudication.where(category.memberOf('{C4BB_ADJ}')).exists())": (
        _adjudication_has_amount_type
    ),
    (
        f"adjudication.where(category.memberOf('{C4BB_ADJ}')).exists() != "
        f"item.adjudication.where(category.memberOf('{C4BB_ADJ}')).exists()"
    ): _item_or_header,
    "insurance.select (focal = true).count() < 2": _focal,
    (
        f"ExplanationOfBenefit.type.coding.where(code = 'vision' and system='{CLAIM_TYPE}').exists()"
        " or ExplanationOfBenefit.item.productOrService.coding.where(code = 'not-applicable' and "
        f"system = '{DAR}').exists().not()"
    ): _vision_item,
    (
        f"type.coding.where(code = 'other' and system = '{PAYEE_TYPE}').exists() implies "
        "party.exists()"
    ): _payee_party,
    (
        "where(role.where(coding.code in ('rendering')).exists().not() or "
        f"qualification.memberOf('{VSAC_QUALIFICATION}')).exists()"
    ): _careteam_qualification,
    (
        f"supportingInfo.where(category.memberOf('{C4BB_TRANSPORT}')).sequence"
        ".subsetOf(%context.item.informationSequence)"
    ): _transport_linked,
    (
        "practitioner.exists() or (organization.exists() or healthcareservice.exists() or "
        "location.exists())"
    ): lambda o, e: any(
        o.get(k) for k in ("practitioner", "organization", "healthcareservice", "location")
    ),
}


def _xor_name_dar(name: dict, env: Any) -> bool:
    has_name = bool(name.get("family")) or bool(name.get("given"))
    dar = any(e.get("url") == DAR_EXT for e in _dicts(name.get("extension")))
    return has_name != dar


def _accepting_no_characteristics(ext: dict, env: Any) -> bool:
    subs = _dicts(ext.get("extension"))
    says_no = any(
        c.get("code") == "no"
        for x in subs
        if x.get("url") == "acceptingPatients"
        for c in _dicts((x.get("valueCodeableConcept") or {}).get("coding"))
    )
    return not says_no or not any(x.get("url") == "characteristics" for x in subs)


def _npi_or_tax(res: dict, env: Any) -> bool:
    return any(
        c.get("code") in ("NPI", "TAX")
        for i in _dicts(res.get("identifier"))
        for t in _dicts(i.get("type"))
        for c in _dicts(t.get("coding"))
    )


NATIVE.update(
    {
        "value.empty() or system.exists()": lambda o, e: "value" not in o or "system" in o,
        "comparator.empty()": lambda o, e: "comparator" not in o,
        "(identifier.count() + name.count()) > 0": lambda o, e: (
            bool(o.get("identifier")) or bool(o.get("name"))
        ),
        "where(use = 'home').empty()": lambda o, e: o.get("use") != "home",
        "low.exists() or high.exists() or text.exists()": lambda o, e: any(
            o.get(k) for k in ("low", "high", "text")
        ),
        "%resource = %rootResource implies meta.lastUpdated.exists()": lambda o, e: (
            e.resource is not e.root or bool((o.get("meta") or {}).get("lastUpdated"))
        ),
        "organization.exists() or participatingOrganization.exists()": lambda o, e: (
            bool(o.get("organization")) or bool(o.get("participatingOrganization"))
        ),
        (
            f"(family.exists() or given.exists()) xor extension.where(url='{DAR_EXT}').exists()"
        ): _xor_name_dar,
        (
            "extension('acceptingPatients').valueCodeableConcept.coding.exists(code = 'no') "
            "implies extension('characteristics').empty()"
        ): _accepting_no_characteristics,
        (
            "identifier.where(type.where(coding.where(code in ('NPI' | 'TAX')).exists()).exists())"
            ".exists()"
        ): _npi_or_tax,
    }
)

for _codes, _codes2, _t in (
    ("'attending' | 'primary' | 'referring' | 'supervising'",) * 2 + ("Practitioner",),
    ("'primary' | 'prescribing' ", "'primary' | 'prescribing' ", "Organization"),
    ("'rendering' ", "'rendering' ", "Organization"),
    (
        "'rendering' | 'primary' | 'referring' | 'supervising'",
        "'rendering' | 'primary' | 'referring' | 'supervising' ",
        "Practitioner",
    ),
):
    NATIVE[_CARETEAM_VACUOUS.format(codes=_codes, codes2=_codes2, t=_t)] = _careteam_vacuous


# FHIRPath navigation as fhirpathpy does it, for the twins below that must match it value for value:
# a key yields its value and its `_key` sibling, lists are flattened (nulls included), non-objects
# yield nothing; `=` is empty on an empty side and false on more than one item.
def _nav(items: list, key: str) -> list:
    out: list = []
    ukey = "_" + key
    for d in items:
        if type(d) is not dict:
            continue
        for v in (d.get(key), d.get(ukey)):
            if v is None or v == []:
                continue
            if type(v) is list:
                out.extend(v)
            else:
                out.append(v)
    return out


def _path(obj: Any, *keys: str) -> list:
    items = [obj]
    for key in keys:
        items = _nav(items, key)
    return items


def _has(obj: dict, key: str) -> bool:
    """`key.exists()` on one object."""
    v = obj.get(key)
    if v is not None and v != []:
        return True
    v = obj.get("_" + key)
    return v is not None and v != []


def _eq(values: list, literal: Any) -> bool | None:
    """`values = literal` (None: the empty result)."""
    if not values:
        return None
    return len(values) == 1 and values[0] == literal


def _is_distinct(values: list) -> bool:
    """isDistinct(): fhirpathpy compares items by their JSON text."""
    if all(type(v) is str for v in values) or all(type(v) is int for v in values):
        return len(set(values)) == len(values)
    keys = set()
    for v in values:
        try:
            keys.add(json.dumps(v, sort_keys=True))
        except TypeError:
            keys.add(str(v))
    return len(keys) == len(values)


NUBC_PRIORITY = "https://www.nubc.org/CodeSystem/PriorityTypeOfAdmitOrVisit"
NUBC_ORIGIN = "AHANUBCPointOfOriginForAdmissionOrVisitNonnewborn"
NUBC_ORIGIN_NEWBORN = "https://www.nubc.org/CodeSystem/PointOfOriginNewborn"
ADA_TOOTH = "http://terminology.hl7.org/CodeSystem/ADAUniversalToothDesignationSystem"
GEOJSON_EXT = "http://hl7.org/fhir/StructureDefinition/location-boundary-geojson"
UCUM = "http://unitsofmeasure.org"


def _point_of_origin(res: dict, env: Any) -> bool:
    # The IG navigates supportingInfo.code (not .category), as written.
    urgent = origin = other_priority = newborn = False
    for si in _nav([res], "supportingInfo"):
        coding = _path(si, "code", "coding")
        systems = _nav(coding, "system")
        if _eq(systems, NUBC_PRIORITY):
            codes = _nav(coding, "code")
            if codes:
                is_4 = len(codes) == 1 and codes[0] == "4"
                urgent = urgent or is_4
                other_priority = other_priority or not is_4
        origin = origin or _eq(systems, NUBC_ORIGIN) is True
        newborn = newborn or _eq(systems, NUBC_ORIGIN_NEWBORN) is True
    return not (urgent and origin) and not (other_priority and newborn)


def _additional_body_site_sequences(res: dict, tooth_only: bool) -> list:
    return [
        seq
        for si in _nav([res], "supportingInfo")
        if _eq(_path(si, "category", "coding", "code"), "additionalbodysite") is True
        and (not tooth_only or _eq(_path(si, "code", "coding", "system"), ADA_TOOTH) is True)
        for seq in _nav([si], "sequence")
    ]


def _surface_needs_tooth(res: dict, env: Any) -> bool:
    tooth_seqs: list | None = None
    for item in _nav([res], "item"):
        if not _has(item, "subSite"):
            continue
        if any(
            _eq(_path(b, "coding", "system"), ADA_TOOTH) is True for b in _nav([item], "bodySite")
        ):
            continue
        if tooth_seqs is None:
            tooth_seqs = _additional_body_site_sequences(res, tooth_only=True)
        if _is_distinct(_nav([item], "informationSequence") + tooth_seqs):
            return False
    return True


def _linked_body_site_needs_body_site(res: dict, env: Any) -> bool:
    items = _nav([res], "item")
    if not items:
        return True
    seqs = _additional_body_site_sequences(res, tooth_only=False)
    return not any(
        len(_nav([item], "bodySite")) != 1
        and any(a == b for a in _nav([item], "informationSequence") for b in seqs)
        for item in items
    )


def _body_site_info_linked(res: dict, env: Any) -> bool:
    seqs = _additional_body_site_sequences(res, tooth_only=False)
    if not seqs:
        return True
    linked = _path(res, "item", "informationSequence")
    return all(s in linked for s in seqs)


def _address_or_geolocation(loc: dict, env: Any) -> bool:
    return _has(loc, "address") or any(
        _eq(_nav([e], "url"), GEOJSON_EXT) is True for e in _nav([loc], "extension")
    )


def _network_or_plan_network(plan: dict, env: Any) -> bool | None:
    # `plan.network.exists` without () navigates to a child named `exists`: normally nothing.
    flags = _path(plan, "plan", "network", "exists")
    if any(type(f) is not bool for f in flags):
        return None  # allTrue() raises on a non-Boolean
    return _has(plan, "network") or all(flags)


def _money_quantity(q: dict, env: Any) -> bool:
    systems = _nav([q], "system")
    currency = not systems or (len(systems) == 1 and systems[0] == "urn:iso:std:iso:4217")
    return (_has(q, "code") or not _has(q, "value")) and currency


def _list_mode_or_no(mode: str, key: str) -> NativeCheck:
    def check(lst: dict, env: Any) -> bool:
        is_mode = _eq(_nav([lst], "mode"), mode)
        return is_mode is None or is_mode or not _path(lst, "entry", key)

    return check


def _non_negative(key: str) -> NativeCheck:
    def check(repeat: dict, env: Any) -> bool:
        values = _nav([repeat], key)
        if not values:
            return True
        if len(values) != 1 or type(values[0]) not in (int, float):
            raise TypeError(f"{key}: not a single number")  # let fhirpathpy decide
        return values[0] >= 0

    return check


def _offset_needs_when(repeat: dict, env: Any) -> bool | None:
    when = _nav([repeat], "when")
    if len(when) > 1:
        return None  # `in` raises on more than one item
    meal = bool(when) and when[0] in ("C", "CM", "CD", "CV")
    return not _has(repeat, "offset") or (bool(when) and not meal)


def _duration_ucum(duration: dict, env: Any) -> bool:
    if not _has(duration, "code"):
        return True
    ucum = _eq(_nav([duration], "system"), UCUM)
    has_value = _has(duration, "value")
    return has_value if ucum is None else ucum and has_value


def _either(a: str, b: str) -> NativeCheck:
    return lambda o, e: not _has(o, a) or _has(o, b)


NATIVE.update(
    {
        (
            f"(supportingInfo.where(code.coding.system = '{NUBC_PRIORITY}' and code.coding.code = '4')"
            f".exists() and supportingInfo.where(code.coding.system='{NUBC_ORIGIN}').exists()).not()"
            f" and (supportingInfo.where(code.coding.system = '{NUBC_PRIORITY}' and "
            "code.coding.code != '4').exists() and supportingInfo.where(code.coding.system = "
            f"'{NUBC_ORIGIN_NEWBORN}').exists() ).not()"
        ): _point_of_origin,
        (
            "item.where(subSite.exists() and (bodySite.where(coding.system="
            f"'{ADA_TOOTH}').exists().not() and informationSequence.combine(%context.supportingInfo"
            f".where(code.coding.system='{ADA_TOOTH}' and category.coding.code = "
            "'additionalbodysite').sequence).isDistinct())).count() = 0"
        ): _surface_needs_tooth,
        (
            "item.where(informationSequence.intersect(%context.supportingInfo.where(category.coding"
            ".code = 'additionalbodysite').sequence).exists()).where(bodySite.count() != count())"
            ".empty()"
        ): _linked_body_site_needs_body_site,
        (
            "supportingInfo.where(category.coding.code = 'additionalbodysite').sequence"
            ".subsetOf(%context.item.informationSequence)"
        ): _body_site_info_linked,
        "name.exists() or relationship.exists()": lambda o, e: (
            _has(o, "name") or _has(o, "relationship")
        ),
        f"address.exists() or extension.where(url='{GEOJSON_EXT}').exists()": (
            _address_or_geolocation
        ),
        "network.exists() or plan.network.exists.allTrue()": _network_or_plan_network,
        "plan.type.coding.code.isDistinct()": lambda o, e: _is_distinct(
            _path(o, "plan", "type", "coding", "code")
        ),
        (
            "(code.exists() or value.empty()) and (system.empty() or system = "
            "'urn:iso:std:iso:4217')"
        ): _money_quantity,
        "emptyReason.empty() or entry.empty()": lambda o, e: (
            not _has(o, "emptyReason") or not _has(o, "entry")
        ),
        "mode = 'changes' or entry.deleted.empty()": _list_mode_or_no("changes", "deleted"),
        "mode = 'working' or entry.date.empty()": _list_mode_or_no("working", "date"),
        "duration.empty() or durationUnit.exists()": _either("duration", "durationUnit"),
        "period.empty() or periodUnit.exists()": _either("period", "periodUnit"),
        "duration.exists() implies duration >= 0": _non_negative("duration"),
        "period.exists() implies period >= 0": _non_negative("period"),
        "periodMax.empty() or period.exists()": _either("periodMax", "period"),
        "durationMax.empty() or duration.exists()": _either("durationMax", "duration"),
        "countMax.empty() or count.exists()": _either("countMax", "count"),
        "offset.empty() or (when.exists() and ((when in ('C' | 'CM' | 'CD' | 'CV')).not()))": (
            _offset_needs_when
        ),
        "timeOfDay.empty() or when.empty()": lambda o, e: (
            not _has(o, "timeOfDay") or not _has(o, "when")
        ),
        "code.exists() implies ((system = %ucum) and value.exists())": _duration_ucum,
    }
)


def native_for(expression: str) -> NativeCheck | None:
    """The native twin of an expression, including the per-profile meta.profile version checks."""
    hit = NATIVE.get(expression)
    if hit is not None:
        return hit
    m = PROFILE_PREFIX.fullmatch(expression)
    if m:
        prefix = m.group(1)
        return lambda o, e: any(
            isinstance(p, str) and p.startswith(prefix)
            for p in _list((o.get("meta") or {}).get("profile"))
        )
    return None
