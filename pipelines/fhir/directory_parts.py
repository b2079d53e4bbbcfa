"""Pieces the Plan-Net builders share: hours, telecom, addresses, identifiers and extensions.

Hours arrive as text ("mon,tue,wed,thu,fri 08:00-17:00; sat,sun all day"); the staged rules
have already refused text that does not parse, so the parser here can be strict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pipelines.fhir import systems as sy
from pipelines.fhir.ids import IdMaker
from pipelines.fhir.members import coding, concept

Record = dict[str, Any]

PLAN_NET_VERSION = "1.1.0"
_PLAN_NET = "http://hl7.org/fhir/us/davinci-pdex-plan-net"
PLAN_NET_CS = f"{_PLAN_NET}/CodeSystem"
_EXT = f"{_PLAN_NET}/StructureDefinition"
NEW_PATIENTS = f"{_EXT}/newpatients"
NETWORK_REFERENCE = f"{_EXT}/network-reference"
QUALIFICATION = f"{_EXT}/qualification"
PRACTITIONER_QUALIFICATION = f"{_EXT}/practitioner-qualification"
COMMUNICATION_PROFICIENCY = f"{_EXT}/communication-proficiency"
AVAILABLE_TIME = f"{_EXT}/contactpoint-availabletime"
VIA_INTERMEDIARY = f"{_EXT}/via-intermediary"
ACCESSIBILITY = f"{_EXT}/accessibility"
LOCATION_REFERENCE = f"{_EXT}/location-reference"
ORG_DESCRIPTION = f"{_EXT}/org-description"
DELIVERY_METHOD = f"{_EXT}/delivery-method"
ENDPOINT_USECASE = f"{_EXT}/endpoint-usecase"
GEOLOCATION = "http://hl7.org/fhir/StructureDefinition/geolocation"
BOUNDARY = "http://hl7.org/fhir/StructureDefinition/location-boundary-geojson"
USPS = "https://www.usps.com/"
V2_0360 = "http://terminology.hl7.org/CodeSystem/v2-0360"
DIRECTORY_ID_SYSTEM = f"{sy.IDENTIFIER_BASE}/directory-id"

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(
    r"(?P<days>[a-z]{3}(?:,[a-z]{3})*)\s+(?:(?P<all>all day)|(?P<start>\d\d:\d\d)-(?P<end>\d\d:\d\d))"
)


def plan_net_profile(name: str) -> str:
    return f"{_PLAN_NET}/StructureDefinition/plannet-{name}|{PLAN_NET_VERSION}"


def plan_net_concept(code_system: str, code: str) -> dict[str, Any]:
    return concept(f"{PLAN_NET_CS}/{code_system}", code)


@dataclass(frozen=True)
class Hours:
    days: tuple[str, ...]
    all_day: bool
    start: str | None = None
    end: str | None = None


def parse_hours(text: str | None) -> list[Hours]:
    """'mon,tue 08:00-17:00; sat all day' as spans; empty text gives none."""
    spans = []
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        match = _SPAN.fullmatch(part.strip())
        if match is None or any(day not in DAYS for day in match["days"].split(",")):
            raise ValueError(
                f"hours {part.strip()!r} are not 'mon,tue 08:00-17:00' or 'sat all day'"
            )
        days = tuple(match["days"].split(","))
        if match["all"]:
            spans.append(Hours(days, True))
        else:
            spans.append(Hours(days, False, f"{match['start']}:00", f"{match['end']}:00"))
    return spans


def _timetable(text: str | None, opens: str, closes: str) -> list[dict[str, Any]]:
    """The spans of `text` as FHIR day-and-time entries, with their time fields so named."""
    entries = []
    for span in parse_hours(text):
        entry: dict[str, Any] = {"daysOfWeek": list(span.days)}
        if span.all_day:
            entry["allDay"] = True
        else:
            entry |= {opens: span.start, closes: span.end}
        entries.append(entry)
    return entries


def available_time(text: str | None) -> list[dict[str, Any]]:
    """HealthcareService / PractitionerRole availableTime."""
    return _timetable(text, "availableStartTime", "availableEndTime")


def hours_of_operation(text: str | None) -> list[dict[str, Any]]:
    """Location hoursOfOperation."""
    return _timetable(text, "openingTime", "closingTime")


def _available_time_extensions(text: str | None) -> list[dict[str, Any]]:
    extensions = []
    for span in parse_hours(text):
        parts: list[dict[str, Any]] = [{"url": "daysOfWeek", "valueCode": day} for day in span.days]
        if span.all_day:
            parts.append({"url": "allDay", "valueBoolean": True})
        else:
            parts += [
                {"url": "availableStartTime", "valueTime": span.start},
                {"url": "availableEndTime", "valueTime": span.end},
            ]
        extensions.append({"extension": parts, "url": AVAILABLE_TIME})
    return extensions


def phone_number(text: str) -> str:
    """A US number as (585) 555-0134, whatever punctuation the roster used."""
    digits = re.sub(r"\D", "", text)[-10:]
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


@dataclass(frozen=True)
class Intermediary:
    """The organization whose line takes the calls of an entry without a phone of its own."""

    reference: dict[str, str]
    phone: str | None


def telecom(
    phone: str | None,
    hours: str | None = None,
    website: str | None = None,
    intermediary: Intermediary | None = None,
) -> list[dict[str, Any]]:
    """The phone (with the hours it is answered) and website; with no phone of its own, the
    intermediary organization's number, marked as such (Plan-Net via-intermediary)."""
    points: list[dict[str, Any]] = []
    if phone:
        point: dict[str, Any] = {"system": "phone", "value": phone_number(phone), "rank": 1}
        if extensions := _available_time_extensions(hours):
            point = {"extension": extensions, **point}
        points.append(point)
    elif intermediary and intermediary.phone:
        via = {"url": VIA_INTERMEDIARY, "valueReference": intermediary.reference}
        value = phone_number(intermediary.phone)
        points.append({"extension": [via], "system": "phone", "value": value, "rank": 1})
    if website:
        points.append({"system": "url", "value": website, "rank": 2})
    return points


def split_ids(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def references(ids: IdMaker, resource_type: str, keys: list[str]) -> list[dict[str, str]]:
    return [ids.reference(resource_type, key) for key in keys]


def geolocation(record: Record, prefix: str = "") -> dict[str, Any] | None:
    latitude, longitude = record.get(f"{prefix}latitude"), record.get(f"{prefix}longitude")
    if latitude is None or longitude is None:
        return None
    return {
        "extension": [
            {"url": "latitude", "valueDecimal": _decimal(latitude)},
            {"url": "longitude", "valueDecimal": _decimal(longitude)},
        ],
        "url": GEOLOCATION,
    }


def _decimal(value: float | Decimal) -> Decimal:
    # ZIP centroids have four decimals; keep them exact in the JSON.
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def position(record: Record) -> dict[str, Decimal] | None:
    if record.get("latitude") is None or record.get("longitude") is None:
        return None
    return {"longitude": _decimal(record["longitude"]), "latitude": _decimal(record["latitude"])}


def postal_code(value: str | None) -> str | None:
    if value and len(value) == 9 and value.isdigit():
        return f"{value[:5]}-{value[5:]}"
    return value


def address(
    record: Record, prefix: str = "", *, with_geolocation: bool = False
) -> dict[str, Any] | None:
    """A physical US address from the record's <prefix>address fields, or None when it has none."""
    lines = [
        line
        for line in (record.get(f"{prefix}address_line1"), record.get(f"{prefix}address_line2"))
        if line
    ]
    parts = {
        key: value
        for key, value in (
            ("city", record.get(f"{prefix}city")),
            ("state", record.get(f"{prefix}state")),
            ("postalCode", postal_code(record.get(f"{prefix}postal_code"))),
        )
        if value
    }
    if not lines and not parts:
        return None
    result: dict[str, Any] = {}
    if with_geolocation and (geo := geolocation(record, prefix)):
        result["extension"] = [geo]
    text = ", ".join(
        [
            *lines,
            " ".join(
                v for v in (parts.get("city"), parts.get("state"), parts.get("postalCode")) if v
            ),
        ]
    )
    result |= {"type": "physical", "text": text}
    if lines:
        result["line"] = lines
    return {**result, **parts, "country": "US"}


def directory_identifier(kind: str, value: str) -> dict[str, Any]:
    """The plan's own id of a directory entry, typed as a resource identifier."""
    return {
        "type": concept(sy.V2_0203, "RI", "Resource identifier"),
        "system": f"{DIRECTORY_ID_SYSTEM}/{kind}",
        "value": value,
    }


def npi_identifier(npi: str) -> dict[str, Any]:
    return {
        "type": concept(sy.V2_0203, "NPI", "National provider identifier"),
        "system": sy.NPI,
        "value": npi,
    }


def period(start: date | None, end: date | None) -> dict[str, str] | None:
    found = {key: value.isoformat() for key, value in (("start", start), ("end", end)) if value}
    return found or None


def is_current(as_of: str, start: date | None, end: date | None) -> bool:
    today = date.fromisoformat(as_of[:10])
    return (start is None or start <= today) and (end is None or end >= today)


def new_patients(code: str | None, network: dict[str, str] | None = None) -> list[dict[str, Any]]:
    if not code:
        return []
    parts: list[dict[str, Any]] = [
        {
            "url": "acceptingPatients",
            "valueCodeableConcept": plan_net_concept("AcceptingPatientsCS", code),
        }
    ]
    if network:
        parts.append({"url": "fromNetwork", "valueReference": network})
    return [{"extension": parts, "url": NEW_PATIENTS}]


def not_available(record: Record, prefix: str = "") -> list[dict[str, Any]]:
    description = record.get(f"{prefix}not_available")
    if not description:
        return []
    entry: dict[str, Any] = {"description": description}
    if during := period(
        record.get(f"{prefix}not_available_from"), record.get(f"{prefix}not_available_to")
    ):
        entry["during"] = during
    return [entry]


def taxonomy_concept(code: str, display: str | None) -> dict[str, Any]:
    return {"coding": [coding(sy.NUCC, code, display)]}


def qualification_extension(
    code: dict[str, Any],
    issuer: str | None,
    state: str | None,
    valid: tuple[date | None, date | None],
    as_of: str,
) -> dict[str, Any]:
    """Plan-Net's qualification extension (a role's or an organization's certification)."""
    parts: list[dict[str, Any]] = [{"url": "code", "valueCodeableConcept": code}]
    if issuer:
        parts.append({"url": "issuer", "valueReference": {"display": issuer}})
    status = "active" if is_current(as_of, *valid) else "inactive"
    parts.append({"url": "status", "valueCode": status})
    if during := period(*valid):
        parts.append({"url": "period", "valuePeriod": during})
    if state:
        parts.append({"url": "whereValid", "valueCodeableConcept": concept(USPS, state)})
    return {"extension": parts, "url": QUALIFICATION}
