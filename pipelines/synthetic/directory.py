"""A synthetic provider directory for New York: roster and companion files in our layouts.

Places, ZIP codes, area codes, taxonomy codes and code-system values are real; people,
organizations and street numbers are made up, and every NPI carries a valid check digit. The
same seed always writes byte-identical files; `practitioners` scales the roster for benchmarks.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from pathlib import Path

import orjson

from pipelines.ingest.layouts import SOURCES_DIR, load_layout
from pipelines.synthetic.people import FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES
from pipelines.synthetic.providers import npi_check_digit
from pipelines.synthetic.writer import ExtractWriter

DEFAULT_SEED = 20261204
SAMPLE_PRACTITIONERS = 160

# (city, ZIP, area code, county) — real combinations across the plan's four regions.
PLACES = (
    ("Rochester", "14618", "585", "Monroe"), ("Rochester", "14607", "585", "Monroe"),
    ("Rochester", "14620", "585", "Monroe"), ("Pittsford", "14534", "585", "Monroe"),
    ("Fairport", "14450", "585", "Monroe"), ("Rochester", "14626", "585", "Monroe"),
    ("Irvington", "10533", "914", "Westchester"), ("Tarrytown", "10591", "914", "Westchester"),
    ("White Plains", "10601", "914", "Westchester"), ("Yonkers", "10701", "914", "Westchester"),
    ("New Rochelle", "10801", "914", "Westchester"), ("Clifton Park", "12065", "518", "Saratoga"),
    ("Saratoga Springs", "12866", "518", "Saratoga"), ("Albany", "12208", "518", "Albany"),
    ("Troy", "12180", "518", "Rensselaer"), ("Schenectady", "12308", "518", "Schenectady"),
    ("Poughkeepsie", "12601", "845", "Dutchess"), ("Wappingers Falls", "12590", "845", "Dutchess"),
    ("Fishkill", "12524", "845", "Dutchess"),
)  # fmt: skip
STREETS = (
    "Monroe Ave", "East Ave", "Elmwood Ave", "Winton Rd S", "Main St", "Broadway",
    "Central Ave", "Western Ave", "Mamaroneck Ave", "North Broadway", "State St", "Union St",
    "Delaware Ave", "Washington Ave", "Clinton Ave", "Park Ave", "Lake Ave", "Maple Ave",
)  # fmt: skip

# Counties the plans are sold in, with a coarse boundary (a bounding polygon of the county).
COVERAGE_AREAS = {
    "Monroe": [(-78.05, 43.37), (-77.37, 43.37), (-77.37, 42.94), (-78.05, 42.94)],
    "Westchester": [(-73.98, 41.37), (-73.48, 41.37), (-73.48, 40.88), (-73.98, 40.88)],
    "Saratoga": [(-74.10, 43.40), (-73.59, 43.40), (-73.59, 42.78), (-74.10, 42.78)],
    "Albany": [(-74.26, 42.79), (-73.68, 42.79), (-73.68, 42.42), (-74.26, 42.42)],
    "Dutchess": [(-73.95, 42.08), (-73.49, 42.08), (-73.49, 41.46), (-73.95, 41.46)],
}
# Counties without a coverage area of their own are served from a neighbouring one.
SERVED_FROM = {"Rensselaer": "Albany", "Schenectady": "Albany"}


@dataclass(frozen=True)
class Specialty:
    taxonomy: str
    role: str  # Plan-Net ProviderRoleCS
    credentials: tuple[str, ...]
    board: str | None  # the certifying board, if the specialty has one


SPECIALTIES = (
    Specialty("207Q00000X", "ph", ("MD", "DO"), "American Board of Family Medicine"),
    Specialty("207R00000X", "ph", ("MD", "DO"), "American Board of Internal Medicine"),
    Specialty("208000000X", "ph", ("MD",), "American Board of Pediatrics"),
    Specialty("207X00000X", "ph", ("MD",), "American Board of Orthopaedic Surgery"),
    Specialty("207RC0000X", "ph", ("MD",), "American Board of Internal Medicine"),
    Specialty("207V00000X", "ph", ("MD", "DO"), "American Board of Obstetrics and Gynecology"),
    Specialty("2084P0800X", "ph", ("MD",), "American Board of Psychiatry and Neurology"),
    Specialty("207N00000X", "ph", ("MD",), "American Board of Dermatology"),
    Specialty("363LF0000X", "crnp", ("NP",), "American Academy of Nurse Practitioners"),
    Specialty("363A00000X", "pa", ("PA-C",), "National Commission on Certification of Physician Assistants"),
    Specialty("103T00000X", "py", ("PhD",), None),
    Specialty("1223G0001X", "de", ("DDS",), None),
)  # fmt: skip
LANGUAGES = ("en", "en", "en", "en;es:40", "en;zh:50", "en;it:30", "en;ru:50", "en;fr:20")


@dataclass(frozen=True)
class OrgTemplate:
    name: str
    type_code: str
    taxonomy: str
    service: tuple[str, str, str, str]  # category, service-type code and name, specialty
    affiliation_role: str
    location_type: str  # v3 RoleCode of its sites


HOSPITAL = ("hosp", "117", "Emergency Medical", "207P00000X")
GROUP = ("outpat", "124", "General Practice", "207Q00000X")
PHARMACY = ("pharm", "64", "Pharmacy", "3336C0003X")
BEHAVIORAL = ("behav", "142", "Psychology", "103T00000X")
URGENT = ("urg", "124", "General Practice", "261QU0200X")

ORGANIZATIONS = (
    OrgTemplate("Genesee Valley General Hospital", "fac", "282N00000X", HOSPITAL, "hospital", "HOSP"),
    OrgTemplate("Hudson River Regional Medical Center", "fac", "282N00000X", HOSPITAL, "hospital", "HOSP"),
    OrgTemplate("Saratoga Community Hospital", "fac", "282N00000X", HOSPITAL, "hospital", "HOSP"),
    OrgTemplate("Capital District Medical Center", "fac", "282N00000X", HOSPITAL, "hospital", "HOSP"),
    OrgTemplate("Mid-Hudson Valley Hospital", "fac", "282N00000X", HOSPITAL, "hospital", "HOSP"),
    OrgTemplate("Brighton Orthopaedic Associates", "prvgrp", "193400000X", GROUP, "group", "ORTHO"),
    OrgTemplate("Monroe Family Medicine", "prvgrp", "193200000X", GROUP, "group", "GIM"),
    OrgTemplate("Irvington Pediatrics", "prvgrp", "193400000X", GROUP, "group", "PEDC"),
    OrgTemplate("Clifton Park Primary Care", "prvgrp", "193200000X", GROUP, "group", "GIM"),
    OrgTemplate("Capital Cardiology Group", "prvgrp", "193400000X", GROUP, "group", "CARD"),
    OrgTemplate("Hudson Valley Women's Health", "prvgrp", "193400000X", GROUP, "group", "GYN"),
    OrgTemplate("Lakeshore Behavioral Health", "prvgrp", "193400000X", BEHAVIORAL, "behavioral", "PSYCHF"),
    OrgTemplate("Westchester Internal Medicine", "prvgrp", "193200000X", GROUP, "group", "GIM"),
    OrgTemplate("Pittsford Dermatology", "prvgrp", "193400000X", GROUP, "group", "DERM"),
    OrgTemplate("Tarrytown Medical Group", "prvgrp", "193200000X", GROUP, "group", "GIM"),
    OrgTemplate("Saratoga Springs Family Practice", "prvgrp", "193200000X", GROUP, "group", "GIM"),
    OrgTemplate("Albany Smiles Dental", "prvgrp", "193400000X", ("dent", "88", "General Dental", "1223G0001X"), "group", "DENT"),
    OrgTemplate("Yonkers Community Health Partners", "prvgrp", "193200000X", GROUP, "group", "GIM"),
    OrgTemplate("Troy Pediatric Associates", "prvgrp", "193400000X", GROUP, "group", "PEDC"),
    OrgTemplate("Poughkeepsie Orthopedic Center", "prvgrp", "193400000X", GROUP, "group", "ORTHO"),
    OrgTemplate("New Rochelle Cardiology", "prvgrp", "193400000X", GROUP, "group", "CARD"),
    OrgTemplate("Fishkill Psychiatric Services", "prvgrp", "193400000X", BEHAVIORAL, "behavioral", "PSYCHF"),
    OrgTemplate("Empire Care Pharmacy", "fac", "3336C0003X", PHARMACY, "pharmacy", "OUTPHARM"),
    OrgTemplate("Main Street Apothecary", "fac", "3336C0003X", PHARMACY, "pharmacy", "OUTPHARM"),
    OrgTemplate("Hudson Drug & Wellness", "fac", "3336C0003X", PHARMACY, "pharmacy", "OUTPHARM"),
    OrgTemplate("Capital Region Pharmacy", "fac", "3336C0003X", PHARMACY, "pharmacy", "OUTPHARM"),
    OrgTemplate("Northwind Mail Order Pharmacy", "fac", "3336M0002X", PHARMACY, "pharmacy", "OUTPHARM"),
    OrgTemplate("Rochester Clinical Laboratory", "fac", "291U00000X", ("lab", "159", "Pathology - General", "291U00000X"), "laboratory", "HLAB"),
    OrgTemplate("QuickCare Urgent Care Albany", "fac", "261QU0200X", URGENT, "urgent", "ERUR"),
    OrgTemplate("QuickCare Urgent Care Westchester", "fac", "261QU0200X", URGENT, "urgent", "ERUR"),
)  # fmt: skip
PAYER_ID = "ORG-NWMHP"
NETWORKS = (
    ("NET-PPO", "Northwind Preferred Provider Network", "Northwind PPO", ("Monroe", "Westchester", "Saratoga", "Albany", "Dutchess")),
    ("NET-HMO", "Northwind HMO Network", "Northwind HMO", ("Monroe", "Westchester")),
    ("NET-EPO", "Northwind Capital Region Exclusive Network", "Northwind EPO", ("Saratoga", "Albany")),
)  # fmt: skip
PLANS = (
    ("PLAN-GOLD-PPO", "Northwind Gold PPO", "commppo", "gold", ("NET-PPO",), ("Monroe", "Westchester", "Saratoga", "Albany", "Dutchess")),
    ("PLAN-SILVER-HMO", "Northwind Silver HMO", "commhmo", "silver", ("NET-HMO",), ("Monroe", "Westchester")),
    ("PLAN-BRONZE-EPO", "Northwind Bronze EPO", "commepo", "bronze", ("NET-EPO",), ("Saratoga", "Albany")),
    ("PLAN-QHP-PLATINUM", "Northwind Platinum Exchange Plan", "qhp", "platinum", ("NET-PPO", "NET-HMO"), ("Monroe", "Westchester", "Dutchess")),
)  # fmt: skip
WEEKDAYS = "mon,tue,wed,thu,fri"


class _Ids:
    """Sequential NPIs with valid check digits, from a synthetic range."""

    def __init__(self, start: int) -> None:
        self.next = start

    def npi(self) -> str:
        first_nine = f"{self.next:09d}"
        self.next += 7
        return first_nine + npi_check_digit(first_nine)


class DirectoryGenerator:
    def __init__(self, rng: random.Random, practitioners: int) -> None:
        self.rng = rng
        self.practitioner_count = practitioners
        self.ids = _Ids(160_000_001)
        self.orgs: list[dict[str, str]] = []
        self.locations: list[dict[str, str]] = []
        self.endpoints: list[dict[str, str]] = []
        self.services: list[dict[str, str]] = []
        self.affiliations: list[dict[str, str]] = []
        self.sites: dict[str, list[dict[str, str]]] = {}  # organization id -> its locations

    def _phone(self, area: str) -> str:
        return f"{area}-555-{self.rng.randrange(100, 1000):04d}"

    def _street(self) -> str:
        return f"{self.rng.randrange(10, 3000)} {self.rng.choice(STREETS)}"

    def _place(self, county: str | None = None) -> tuple[str, str, str, str]:
        choices = [p for p in PLACES if county is None or p[3] == county]
        return self.rng.choice(choices)

    def coverage_areas(self) -> None:
        for county, ring in COVERAGE_AREAS.items():
            polygon = {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}
            self.locations.append(
                {
                    "location_id": f"AREA-{county.upper()}",
                    "name": f"{county} County, New York",
                    "description": f"Service area: all of {county} County",
                    "type_code": "AREA",
                    "state": "NY",
                    "boundary_geojson": base64.b64encode(orjson.dumps(polygon)).decode(),
                }
            )

    def payer(self) -> None:
        self.endpoints.append(
            {
                "endpoint_id": "EP-NWMHP-FHIR",
                "name": "Northwind Mutual Health Plan provider directory API",
                "connection_type_code": "hl7-fhir-opn",
                "payload_type_code": "NA",
                "mime_type": "application/fhir+json",
                "address": "https://fhir.northwind-health.example.org/provider-directory",
                "use_case_code": "HOPERAT",
                "managing_organization_id": PAYER_ID,
                "contact_email": "directory@northwind-health.example.org",
            }
        )
        self.orgs.append(
            {
                "organization_id": PAYER_ID,
                "name": "Northwind Mutual Health Plan",
                "alias": "Northwind Health",
                "type_code": "payer",
                "tax_id": "311234567",
                "description": "Regional health plan serving upstate New York and the Hudson Valley.",
                "address_line1": "1 Northwind Plaza",
                "city": "Albany",
                "state": "NY",
                "postal_code": "12208",
                "phone": "518-555-0100",
                "phone_hours": f"{WEEKDAYS} 08:00-20:00; sat 09:00-13:00",
                "website": "https://www.northwind-health.example.org",
                "contact_name": "Provider Relations",
                "contact_phone": "518-555-0101",
                "endpoint_id": "EP-NWMHP-FHIR",
            }
        )

    def organizations(self) -> None:
        for number, template in enumerate(ORGANIZATIONS, start=1):
            self._organization(number, template)

    def _organization(self, number: int, template: OrgTemplate) -> None:
        org_id = f"ORG-{number:03d}"
        city, zip_code, area, county = self._org_place(template)
        hospital = template.type_code == "fac" and template.taxonomy == "282N00000X"
        org = {
            "organization_id": org_id,
            "npi": self.ids.npi(),
            "tax_id": f"{self.rng.choice(('13', '14', '16', '22'))}{self.rng.randrange(1_000_000, 9_999_999)}",
            "name": template.name,
            "type_code": template.type_code,
            "taxonomy_code": template.taxonomy,
            "address_line1": self._street(),
            "city": city,
            "state": "NY",
            "postal_code": zip_code,
            "phone": self._phone(area),
            "phone_hours": "mon,tue,wed,thu,fri,sat,sun all day"
            if hospital
            else f"{WEEKDAYS} 08:00-17:00",
            "website": f"https://www.{template.name.lower().replace(' ', '').replace('&', '').replace(chr(39), '')[:24]}.example.org",
        }
        if template.name == "Rochester Clinical Laboratory":
            # The hospital's lab: part of it, and reached through its switchboard.
            org |= {"parent_organization_id": "ORG-001", "phone": "", "phone_hours": ""}
        if hospital:
            org |= {
                "accreditation_code": template.taxonomy,
                "accreditation_issuer": "New York State Department of Health",
                "description": f"{template.name}: acute care hospital with a 24-hour emergency department.",
                "contact_name": "Medical Staff Office",
                "contact_phone": self._phone(area),
            }
        self.orgs.append(org)
        endpoint = f"EP-{org_id}"
        self.endpoints.append(
            {
                "endpoint_id": endpoint,
                "name": f"{template.name} Direct address",
                "connection_type_code": "rest-non-fhir",
                "payload_type_code": "NA",
                "mime_type": "application/pdf",
                "address": f"mailto:referrals@direct.{org_id.lower()}.example.org",
                "use_case_code": "TREAT",
                "managing_organization_id": org_id,
            }
        )
        org["endpoint_id"] = endpoint
        self._sites(org_id, template, (city, zip_code, area, county), hospital)

    def _org_place(self, template: OrgTemplate) -> tuple[str, str, str, str]:
        # The plan's public API is asked about these three today; keep them in the directory.
        if template.name == "Brighton Orthopaedic Associates":
            return PLACES[0]  # Rochester 14618
        if template.name == "Irvington Pediatrics":
            return PLACES[6]  # Irvington 10533
        if template.name == "Clifton Park Primary Care":
            return PLACES[11]  # Clifton Park 12065
        return self._place()

    def _sites(
        self, org_id: str, template: OrgTemplate, place: tuple[str, str, str, str], hospital: bool
    ) -> None:
        count = 3 if hospital else self.rng.choice((1, 2, 2, 3))
        sites = []
        for index in range(count):
            city, zip_code, area, _ = place if index == 0 else self._place(place[3])
            site = {
                "location_id": f"LOC-{org_id[4:]}-{index + 1}",
                "name": f"{template.name} - {city}" if index else template.name,
                "type_code": template.location_type,
                "managing_organization_id": org_id,
                "address_line1": self._street(),
                "city": city,
                "state": "NY",
                "postal_code": zip_code,
                "phone": self._phone(area),
                "phone_hours": f"{WEEKDAYS} 08:00-17:00",
                "hours": "mon,tue,wed,thu,fri,sat,sun all day"
                if hospital and index == 0
                else f"{WEEKDAYS} 08:00-17:00; sat 09:00-12:00",
                "accessibility_codes": self.rng.choice(
                    ("adacomp;pubtrans", "handiaccess", "adacomp;mobility", "pubtrans;cultcomp")
                ),
                "accepting_new_patients_code": self.rng.choice(
                    ("newpt", "newpt", "existptonly", "nopt")
                ),
                "availability_exceptions": "Closed on federal holidays",
            }
            if template.name == "Brighton Orthopaedic Associates" and index == 0:
                site |= {
                    "name": "Brighton Ortho Surgery Center",
                    "alias": "Brighton Ortho",
                    "address_line1": "2000 Winton Rd S",
                }
            if template.name == "Clifton Park Primary Care" and index == 0:
                site["address_line1"] = "1783 Route 9"
            if hospital and index == 2:
                # An outpatient suite on the hospital campus, reached through the main line.
                site |= {
                    "part_of_location_id": sites[0]["location_id"],
                    "address_line1": sites[0]["address_line1"],
                    "city": sites[0]["city"],
                    "postal_code": sites[0]["postal_code"],
                    "phone": "",
                    "phone_hours": "",
                    "description": "Outpatient imaging suite on the main campus",
                }
            if index == 0 and hospital:
                site |= {
                    "latitude": "",
                    "longitude": "",
                    "new_patients_network_id": "NET-PPO",
                    "endpoint_id": f"EP-{org_id}",
                    "website": "https://www.example.org/locations",
                }
            sites.append(site)
        self.locations.extend(sites)
        self.sites[org_id] = sites
        self._service(org_id, template, sites)

    def _service(self, org_id: str, template: OrgTemplate, sites: list[dict[str, str]]) -> None:
        category, type_code, type_name, specialty = template.service
        service = {
            "service_id": f"SVC-{org_id[4:]}",
            "organization_id": org_id,
            "name": f"{template.name} {type_name}",
            "category_code": category,
            "type_code": type_code,
            "taxonomy_code": specialty,
            "location_ids": ";".join(site["location_id"] for site in sites),
            "coverage_location_ids": f"AREA-{self._area_of(sites[0]).upper()}",
            "comment": f"{type_name} at every {template.name} location",
            "phone": sites[0]["phone"] if len(sites) % 2 else "",
            "phone_hours": f"{WEEKDAYS} 08:00-17:00",
            "appointment_required": "N" if category in ("hosp", "urg", "pharm", "lab") else "Y",
            "hours": "mon,tue,wed,thu,fri,sat,sun all day"
            if category == "hosp"
            else f"{WEEKDAYS} 08:00-17:00",
            "not_available": "Closed for renovation" if org_id.endswith("7") else "",
            "not_available_from": "2026-12-24" if org_id.endswith("7") else "",
            "not_available_to": "2027-01-02" if org_id.endswith("7") else "",
            "availability_exceptions": "Closed on federal holidays",
            "delivery_method_code": "virtual" if category == "behav" else "physical",
            "accepting_new_patients_code": "newpt",
            "new_patients_network_id": "NET-PPO",
            "endpoint_id": f"EP-{org_id}",
        }
        self.services.append(service)

    @staticmethod
    def _area_of(site: dict[str, str]) -> str:
        county = next(p[3] for p in PLACES if p[1] == site["postal_code"])
        return SERVED_FROM.get(county, county)

    def networks_and_plans(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        networks = []
        for network_id, name, alias, counties in NETWORKS:
            networks.append(
                {
                    "network_id": network_id,
                    "name": name,
                    "alias": alias,
                    "npi": self.ids.npi() if network_id == "NET-PPO" else "",
                    "owner_organization_id": PAYER_ID,
                    "address_line1": "1 Northwind Plaza",
                    "city": "Albany",
                    "state": "NY",
                    "postal_code": "12208",
                    "phone": "518-555-0120" if network_id != "NET-EPO" else "",
                    "phone_hours": f"{WEEKDAYS} 08:00-18:00",
                    "contact_name": "Network Management",
                    "contact_phone": "518-555-0121",
                    "coverage_location_ids": ";".join(f"AREA-{c.upper()}" for c in counties),
                    "endpoint_id": "EP-NWMHP-FHIR",
                }
            )
        plans = [
            {
                "plan_id": plan_id,
                "name": name,
                "alias": plan_id.removeprefix("PLAN-").replace("-", " ").title(),
                "product_type_code": product,
                "plan_type_code": metal,
                "start_date": "2026-01-01",
                "end_date": "2030-12-31",
                "owner_organization_id": PAYER_ID,
                "administrator_organization_id": PAYER_ID,
                "network_ids": ";".join(networks_of),
                "coverage_location_ids": ";".join(f"AREA-{c.upper()}" for c in counties),
                "contact_name": "Member Services",
                "contact_phone": "800-555-0199",
                "endpoint_id": "EP-NWMHP-FHIR",
            }
            for plan_id, name, product, metal, networks_of, counties in PLANS
        ]
        return networks, plans

    def affiliations_of_orgs(self) -> None:
        hospitals = [o for o in self.orgs if o.get("taxonomy_code") == "282N00000X"]
        for number, org in enumerate(o for o in self.orgs if o["organization_id"] != PAYER_ID):
            network = ("NET-PPO;NET-HMO", "NET-PPO", "NET-PPO;NET-EPO")[number % 3]
            sites = self.sites[org["organization_id"]]
            self.affiliations.append(
                {
                    "affiliation_id": f"AFF-{org['organization_id'][4:]}",
                    "organization_id": PAYER_ID,
                    "participating_organization_id": org["organization_id"],
                    "network_ids": network,
                    "role_code": next(
                        t.affiliation_role for t in ORGANIZATIONS if t.name == org["name"]
                    ),
                    "taxonomy_code": self._service_specialty(org),
                    "location_ids": ";".join(s["location_id"] for s in sites),
                    "service_ids": f"SVC-{org['organization_id'][4:]}",
                    "phone": org["phone"] if number % 2 else "",
                    "start_date": "2024-01-01",
                    "end_date": "2030-12-31",
                    "endpoint_id": org["endpoint_id"],
                }
            )
        # Groups hold admitting privileges at a hospital.
        for number, group in enumerate(o for o in self.orgs if o.get("type_code") == "prvgrp"):
            hospital = hospitals[number % len(hospitals)]
            self.affiliations.append(
                {
                    "affiliation_id": f"AFF-{group['organization_id'][4:]}-{hospital['organization_id'][4:]}",
                    "organization_id": hospital["organization_id"],
                    "participating_organization_id": group["organization_id"],
                    "role_code": "bt",
                    "location_ids": self.sites[hospital["organization_id"]][0]["location_id"],
                    "start_date": "2025-07-01",
                }
            )

    @staticmethod
    def _service_specialty(org: dict[str, str]) -> str:
        # Plan-Net's specialties exclude the group taxonomies (193...), so an affiliation names
        # what the organization does.
        return next(t.service[3] for t in ORGANIZATIONS if t.name == org["name"])

    def roster(self, out: ExtractWriter) -> None:
        practices = [
            o
            for o in self.orgs
            if o.get("type_code") == "prvgrp" or o.get("taxonomy_code") == "282N00000X"
        ]
        for number in range(self.practitioner_count):
            self._practitioner(number, practices, out)

    def _practitioner(
        self, number: int, practices: list[dict[str, str]], out: ExtractWriter
    ) -> None:
        rng = self.rng
        female = rng.random() < 0.55
        specialty = SPECIALTIES[number % len(SPECIALTIES)]
        credential = rng.choice(specialty.credentials)
        npi = self.ids.npi()
        home = practices[number % len(practices)]
        city, zip_code, area, _ = next(p for p in PLACES if p[1] == home["postal_code"])
        person = {
            "npi": npi,
            "last_name": rng.choice(FAMILY_NAMES),
            "first_name": rng.choice(FEMALE_NAMES if female else MALE_NAMES),
            "middle_name": rng.choice(("", "A", "J", "M", "R")),
            "name_prefix": "Dr." if credential in ("MD", "DO", "PhD", "DDS") else "",
            "name_suffix": rng.choice(("", "", "", "Jr.")) if not female else "",
            "credential": credential,
            "gender_code": "F" if female else "M",
            "languages": rng.choice(LANGUAGES),
            "practitioner_phone": self._phone(area),
            "practitioner_address_line1": self._street(),
            "practitioner_city": city,
            "practitioner_state": "NY",
            "practitioner_postal_code": zip_code,
            "license_number": f"{rng.randrange(100_000, 999_999)}",
            "license_state": "NY",
            "license_issuer": "New York State Education Department",
            "license_start_date": f"{rng.randrange(1995, 2022)}-0{rng.randrange(1, 10)}-01",
            "license_end_date": "2030-06-30",
            "board_certification_code": specialty.taxonomy if specialty.board else "",
            "board_name": specialty.board or "",
            # A few NPIs the NPPES registry has deactivated: listed, but never served as active.
            "deactivation_date": "2026-03-31" if number % 53 == 52 else "",
        }
        # A second role is always at another organization: two roles at one site would be two
        # rows with one key, which the staged rules hold back as conflicting.
        other = practices[(number * 7 + 3) % len(practices)]
        if other is home:
            other = practices[(number * 7 + 4) % len(practices)]
        orgs = [home] if rng.random() < 0.6 else [home, other]
        for org in orgs:
            site = rng.choice(self.sites[org["organization_id"]])
            out.write(person | self._role(specialty, org, site, number))

    def _role(
        self, specialty: Specialty, org: dict[str, str], site: dict[str, str], number: int
    ) -> dict[str, str]:
        rng = self.rng
        return {
            "taxonomy_code": specialty.taxonomy,
            "role_code": specialty.role,
            "organization_id": org["organization_id"],
            "location_id": site["location_id"],
            "service_id": f"SVC-{org['organization_id'][4:]}",
            "endpoint_id": org["endpoint_id"] if number % 4 == 0 else "",
            "network_ids": rng.choice(("NET-PPO", "NET-PPO;NET-HMO", "NET-PPO;NET-EPO", "NET-HMO")),
            "accepting_new_patients_code": rng.choice(
                ("newpt", "newpt", "existptonly", "existptfam", "nopt")
            ),
            "role_start_date": f"{rng.randrange(2015, 2026)}-01-01",
            # Roles the roster still lists after they ended are held back, never served.
            "role_end_date": "" if number % 11 else ("2030-12-31" if number % 22 else "2025-06-30"),
            "role_phone": site["phone"] if number % 3 else "",
            "role_phone_hours": f"{WEEKDAYS} 08:00-17:00" if number % 3 else "",
            "role_hours": rng.choice(
                (
                    f"{WEEKDAYS} 08:00-17:00",
                    "mon,wed,fri 07:30-16:00",
                    "tue,thu 09:00-18:00; sat 09:00-12:00",
                    "mon,tue,wed,thu,fri,sat,sun all day",
                )
            ),
            "role_not_available": "Parental leave" if number % 29 == 5 else "",
            "role_not_available_from": "2026-11-01" if number % 29 == 5 else "",
            "role_not_available_to": "2027-02-28" if number % 29 == 5 else "",
            "role_availability_exceptions": "Hospital rounds on Tuesday mornings"
            if number % 9 == 0
            else "",
        }


def _writer(stem: str, out_dir: Path) -> ExtractWriter:
    return ExtractWriter(load_layout(SOURCES_DIR / "directory" / f"{stem}.yaml"), out_dir)


def _write_all(stem: str, rows: list[dict[str, str]], out_dir: Path) -> int:
    writer = _writer(stem, out_dir)
    try:
        for row in rows:
            writer.write(row)
    finally:
        writer.close()
    return writer.rows


def generate_directory(
    out_dir: Path, *, practitioners: int = SAMPLE_PRACTITIONERS, seed: int = DEFAULT_SEED
) -> dict[str, int]:
    """Write the directory files under out_dir/directory; returns rows per file. The roster
    streams, so memory stays flat for a roster of any size."""
    generator = DirectoryGenerator(random.Random(seed), practitioners)
    generator.coverage_areas()
    generator.payer()
    generator.organizations()
    networks, plans = generator.networks_and_plans()
    generator.affiliations_of_orgs()
    counts = {
        "organizations": _write_all("organizations", generator.orgs, out_dir),
        "locations": _write_all("locations", generator.locations, out_dir),
        "endpoints": _write_all("endpoints", generator.endpoints, out_dir),
        "networks": _write_all("networks", networks, out_dir),
        "plans": _write_all("plans", plans, out_dir),
        "services": _write_all("services", generator.services, out_dir),
        "affiliations": _write_all("affiliations", generator.affiliations, out_dir),
    }
    roster = _writer("roster", out_dir)
    try:
        generator.roster(roster)
    finally:
        roster.close()
    counts["roster"] = roster.rows
    return counts


def write_sample_directory(out_dir: Path) -> dict[str, int]:
    """Write exactly what sample_inputs/directory holds."""
    return generate_directory(out_dir)
