"""Synthetic providers: practices (an organization NPI and its clinicians) with valid NPIs.

Names are invented; taxonomy codes are real NUCC codes and addresses use real city/state/ZIP
combinations. Only providers that some claim names are written to provider.txt.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pipelines.synthetic.people import FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES, PLACES, STREETS
from pipelines.synthetic.writer import ExtractWriter

# Invented place names for organization names.
ORG_PLACES = (
    "Brightwater", "Oakhaven", "Fernridge", "Stonebrook", "Willowmere", "Ashgrove", "Larkfield",
    "Pinecrest", "Cedar Hollow", "Silverbrook", "Maple Crest", "Riverbend", "Foxglen", "Harborview",
    "Elmstead", "Kingsbridge", "Meadowvale", "Northgate", "Briarwood", "Copperfield",
)  # fmt: skip

# Two-digit prefixes the IRS assigns to EINs.
EIN_PREFIXES = ("20", "26", "27", "31", "34", "45", "46", "47", "81", "82", "83", "84", "86", "88")

CREDENTIALS = {
    "1223G0001X": ("DDS", "DMD"),
    "1223P0221X": ("DDS", "DMD"),
    "183500000X": ("PharmD", "RPh"),
    "225100000X": ("PT, DPT",),
    "363LF0000X": ("APRN, FNP-C", "NP"),
}
PHYSICIAN_CREDENTIALS = ("MD", "MD", "MD", "DO")


@dataclass(frozen=True)
class PracticeKind:
    """One kind of practice: its organization taxonomy, its clinicians' taxonomies, how many."""

    org_taxonomy: str
    clinician_taxonomies: tuple[str, ...]
    clinicians: tuple[int, int]
    name_suffixes: tuple[str, ...]
    base_count: int
    per_scale: float


PRACTICES = {
    "hospital": PracticeKind(
        "282N00000X",
        (),
        (0, 0),
        ("Regional Medical Center", "Community Hospital", "General Hospital"),
        3,
        0.5,
    ),
    "primary_care": PracticeKind(
        "261QP2300X",
        ("207Q00000X", "207R00000X", "208000000X", "363LF0000X"),
        (2, 4),
        ("Family Medicine", "Primary Care Associates", "Family Health Center"),
        4,
        2,
    ),
    "emergency": PracticeKind(
        "193400000X", ("207P00000X",), (2, 3), ("Emergency Physicians",), 1, 0.5
    ),
    "radiology": PracticeKind(
        "261QR0200X", ("2085R0202X",), (2, 2), ("Radiology Associates", "Imaging Center"), 1, 0.5
    ),
    "physical_therapy": PracticeKind(
        "261QP2000X", ("225100000X",), (1, 2), ("Physical Therapy", "Rehabilitation"), 1, 0.5
    ),
    "gastroenterology": PracticeKind(
        "193400000X", ("207RG0100X",), (1, 2), ("Digestive Health Associates",), 1, 0.3
    ),
    "ortho": PracticeKind(
        "193400000X", ("207X00000X",), (1, 2), ("Orthopaedic Specialists", "Bone & Joint"), 1, 0.3
    ),
    "surgery": PracticeKind(
        "193400000X", ("208600000X",), (1, 2), ("Surgical Associates",), 1, 0.3
    ),
    "hospitalist": PracticeKind(
        "193400000X", ("207R00000X",), (2, 3), ("Hospitalist Group",), 1, 0.5
    ),
    "dental": PracticeKind(
        "1223G0001X",
        ("1223G0001X", "1223P0221X"),
        (1, 2),
        ("Dental Group", "Family Dentistry"),
        2,
        1,
    ),
    "pharmacy": PracticeKind(
        "3336C0003X", ("183500000X",), (1, 1), ("Pharmacy", "Apothecary"), 3, 1
    ),
    "ambulance": PracticeKind("3416L0300X", (), (0, 0), ("Ambulance Service", "EMS"), 1, 0.2),
}

# Share of clinicians in practice on their own account, with an EIN of their own.
OWN_EIN_SHARE = 0.25


def npi_check_digit(first_nine: str) -> str:
    """Luhn check digit of an NPI, computed over the card-issuer prefix 80840 + 9 digits."""
    total = 0
    for position, char in enumerate(reversed("80840" + first_nine)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def npi_is_valid(npi: str) -> bool:
    return len(npi) == 10 and npi.isdigit() and npi_check_digit(npi[:9]) == npi[9]


@dataclass(frozen=True)
class Practice:
    org: int  # index of the organization in ProviderPool.rows
    clinicians: tuple[int, ...]


class ProviderPool:
    """All providers of a drop; claims take NPIs through use(), which marks them for output."""

    def __init__(self, rng: random.Random, scale: int) -> None:
        self._rng = rng
        self._npis: set[str] = set()
        self.rows: list[dict[str, str]] = []
        self.practices: dict[str, list[Practice]] = {}
        for kind, spec in PRACTICES.items():
            count = spec.base_count + int(spec.per_scale * scale)
            self.practices[kind] = [self._practice(spec) for _ in range(count)]
        self._used = bytearray(len(self.rows))

    def use(self, provider: int) -> str:
        self._used[provider] = 1
        return self.rows[provider]["npi"]

    def practice(self, kind: str) -> Practice:
        return self._rng.choice(self.practices[kind])

    def clinician(self, kind: str) -> int:
        return self._rng.choice(self.practice(kind).clinicians)

    def write_used(self, out: ExtractWriter) -> None:
        for provider, row in enumerate(self.rows):
            if self._used[provider]:
                out.write(row)

    def _practice(self, spec: PracticeKind) -> Practice:
        rng = self._rng
        city, state, zip_code, area = rng.choice(PLACES)
        address = f"{rng.randint(100, 9899)} {rng.choice(STREETS)}"
        org = self._add(
            {
                "entity_type_code": "2",
                "organization_name": f"{rng.choice(ORG_PLACES)} {rng.choice(spec.name_suffixes)}",
                "taxonomy_code": spec.org_taxonomy,
                "tax_id": self._ein(),
            },
            address,
            (city, state, zip_code),
            area,
        )
        clinicians = tuple(
            self._add(self._clinician(rng.choice(spec.clinician_taxonomies)), address,
                      (city, state, zip_code), area)
            for _ in range(rng.randint(*spec.clinicians))
        )  # fmt: skip
        return Practice(org, clinicians)

    def _clinician(self, taxonomy: str) -> dict[str, str]:
        rng = self._rng
        first = rng.choice(FEMALE_NAMES if rng.random() < 0.5 else MALE_NAMES)
        return {
            "entity_type_code": "1",
            "last_name": rng.choice(FAMILY_NAMES),
            "first_name": first,
            "credential": rng.choice(CREDENTIALS.get(taxonomy, PHYSICIAN_CREDENTIALS)),
            "taxonomy_code": taxonomy,
            "tax_id": self._ein() if rng.random() < OWN_EIN_SHARE else "",
        }

    def _ein(self) -> str:
        return f"{self._rng.choice(EIN_PREFIXES)}{self._rng.randint(0, 9_999_999):07d}"

    def _add(
        self, row: dict[str, str], address: str, place: tuple[str, str, str], area: str
    ) -> int:
        city, state, zip_code = place
        row |= {
            "npi": self._new_npi(),
            "address_line1": address,
            "city": city,
            "state": state,
            "postal_code": zip_code,
            "phone": f"{area}-555-01{self._rng.randint(0, 99):02d}",
        }
        self.rows.append(row)
        return len(self.rows) - 1

    def _new_npi(self) -> str:
        while True:
            first_nine = f"{self._rng.choice('12')}{self._rng.randint(0, 99_999_999):08d}"
            npi = first_nine + npi_check_digit(first_nine)
            if npi not in self._npis:
                self._npis.add(npi)
                return npi
