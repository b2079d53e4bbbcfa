"""Native Python twins of the hot FHIRPath invariants, keyed by their exact expression text.

Each check takes (element JSON, env) where env has `.resource`, `.root` and `.member_of(value, url)`,
and returns True/False like the FHIRPath expression (None: cannot be decided, reported as such).
`tests/conformance/test_invariants.py` checks every twin against fhirpathpy on real instances.
"""

from __future__ import annotations

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


def _always(obj: Any, env: Any) -> bool:
    # `...exists().provider.all(...)` navigates from a Boolean, so the IG expression is always true.
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
    ("'rendering' ", "'rendering' ", "Organization"),
    (
        "'rendering' | 'primary' | 'referring' | 'supervising'",
        "'rendering' | 'primary' | 'referring' | 'supervising' ",
        "Practitioner",
    ),
):
    NATIVE[_CARETEAM_VACUOUS.format(codes=_codes, codes2=_codes2, t=_t)] = _always


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
