"""Synthetic members: families with coverage spans, written as eligibility rows.

Names are random pairings of common given and family names; places are real US city, state,
ZIP and area-code combinations (phone numbers stay in the fictional 555-01xx range). The Roster
keeps only what claims need, in compact arrays, so a million-claim drop stays small in memory.
"""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass, field
from datetime import date, timedelta

from pipelines.synthetic.timeline import JULY_1, YEAR_END, YEAR_START, day_number
from pipelines.synthetic.writer import ExtractWriter

FEMALE_NAMES = (
    "Olivia", "Emma", "Ava", "Sophia", "Isabella", "Mia", "Amelia", "Harper", "Evelyn", "Abigail",
    "Emily", "Ella", "Grace", "Chloe", "Camila", "Penelope", "Riley", "Layla", "Lillian", "Nora",
    "Zoey", "Hannah", "Addison", "Aubrey", "Ellie", "Stella", "Natalie", "Leah", "Hazel", "Violet",
    "Maria", "Linda", "Patricia", "Susan", "Karen", "Nancy", "Lisa", "Margaret", "Sandra", "Ashley",
)  # fmt: skip
MALE_NAMES = (
    "Liam", "Noah", "Oliver", "Elijah", "James", "William", "Benjamin", "Lucas", "Henry", "Mason",
    "Ethan", "Logan", "Jacob", "Jackson", "Aiden", "Samuel", "Sebastian", "Mateo", "David", "Owen",
    "Joseph", "Carter", "Wyatt", "John", "Jack", "Luke", "Dylan", "Isaac", "Gabriel", "Anthony",
    "Robert", "Michael", "Thomas", "Charles", "Daniel", "Mark", "Steven", "Paul", "Kevin", "Brian",
)  # fmt: skip
FAMILY_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres",
    "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Kowalski", "Schneider", "Novak", "Murphy", "O'Brien",
    "Patel", "Kim", "Chen", "Yoder", "Stein",
)  # fmt: skip
STREETS = (
    "Maple Ave", "Oak St", "Elm St", "Cedar Ln", "Walnut St", "Chestnut Dr", "Park Ave", "Lake Rd",
    "Hill St", "Washington St", "Lincoln Ave", "Jefferson Rd", "Franklin St", "High St", "Main St",
    "Church St", "Spring St", "Ridge Rd", "Meadow Ln", "Sycamore Ct", "Sunset Blvd", "Orchard Way",
)  # fmt: skip

# Real (city, state, ZIP, area code) combinations; the plan serves Ohio and its neighbours.
PLACES = (
    ("Columbus", "OH", "43215", "614"), ("Columbus", "OH", "43210", "614"),
    ("Dublin", "OH", "43017", "614"), ("Westerville", "OH", "43081", "614"),
    ("Grove City", "OH", "43123", "614"), ("Cleveland", "OH", "44113", "216"),
    ("Lakewood", "OH", "44107", "216"), ("Parma", "OH", "44129", "440"),
    ("Akron", "OH", "44308", "330"), ("Canton", "OH", "44702", "330"),
    ("Youngstown", "OH", "44503", "330"), ("Cincinnati", "OH", "45202", "513"),
    ("Mason", "OH", "45040", "513"), ("Dayton", "OH", "45402", "937"),
    ("Toledo", "OH", "43604", "419"), ("Lima", "OH", "45801", "419"),
    ("Mansfield", "OH", "44902", "419"), ("Zanesville", "OH", "43701", "740"),
    ("Athens", "OH", "45701", "740"), ("Covington", "KY", "41011", "859"),
    ("Lexington", "KY", "40507", "859"), ("Louisville", "KY", "40202", "502"),
    ("Fort Wayne", "IN", "46802", "260"), ("Indianapolis", "IN", "46204", "317"),
    ("Pittsburgh", "PA", "15222", "412"), ("Erie", "PA", "16501", "814"),
    ("Wheeling", "WV", "26003", "304"), ("Huntington", "WV", "25701", "304"),
    ("Detroit", "MI", "48226", "313"), ("Ann Arbor", "MI", "48104", "734"),
)  # fmt: skip

LANGUAGES = ("en",) * 17 + ("es", "es", "vi", "zh", "ar", "so")

PAYER_ID = "PAYER01"
PAYER_NAME = "Northwind Mutual Health Plan"
PAYER_NAIC_CODE = "95813"  # five digits, as NAIC company codes are; the plan is fictional

# CDC Race & Ethnicity codes as an 834 carries them (DMG05-3), with cumulative weights that
# roughly follow Ohio's census profile; ASKU is a member who declined to answer.
RACES = (("2106-3", 74), ("2054-5", 86), ("2028-9", 89), ("1002-5", 90), ("2076-8", 91),
         ("ASKU", 97), ("UNK", 100))  # fmt: skip
ETHNICITIES = (("2186-5", 86), ("2135-2", 93), ("ASKU", 100))


@dataclass(frozen=True)
class Plan:
    plan_id: str
    plan_name: str
    product_type_code: str


PLANS = {
    "HMO": Plan("NWHMO100", "Northwind HMO Gold", "HMO"),
    "PPO": Plan("NWPPO200", "Northwind PPO Silver", "PPO"),
    "POS": Plan("NWPOS300", "Northwind POS Choice", "POS"),
    "DEN": Plan("NWDEN400", "Northwind Dental Plus", "DEN"),
}

# Employer groups (fictional companies) and the medical products each offers.
GROUPS = (
    ("GRP10010", "Contoso Manufacturing", ("HMO", "PPO")),
    ("GRP10020", "Fabrikam Logistics", ("PPO", "POS")),
    ("GRP10030", "Tailspin Toys", ("HMO", "POS")),
    ("GRP10040", "Wide World Importers", ("PPO",)),
    ("GRP10050", "Adventure Works Cycles", ("HMO", "PPO", "POS")),
    ("GRP10060", "Woodgrove Bank", ("PPO", "HMO")),
)

SELF, SPOUSE, CHILD, OTHER = "18", "01", "19", "G8"

NO_SPAN = -1


@dataclass
class FamilyShape:
    """Which coverage features a family has; the first families take fixed shapes."""

    spouse: bool = False
    children: int = 0
    other_dependent: bool = False
    newborn: bool = False
    plan_change: bool = False
    dental: bool = False
    termed: bool = False
    new_hire: bool = False
    deceased: bool = False  # the subscriber died; coverage ends on the date of death


# The first families of every drop carry the coverage features the sample must show.
FIXED_SHAPES = (
    FamilyShape(spouse=True, children=2, plan_change=True),
    FamilyShape(spouse=True, children=2, dental=True),
    FamilyShape(other_dependent=True, dental=True),
    FamilyShape(spouse=True, newborn=True),
    FamilyShape(termed=True, deceased=True),
    FamilyShape(spouse=True, new_hire=True, children=1),
)


@dataclass
class Span:
    plan: Plan
    group: tuple[str, str, tuple[str, ...]]
    start: date
    end: date | None


@dataclass
class Person:
    relationship: str
    first_name: str
    last_name: str
    middle_name: str
    birth: date
    gender: str
    race: str
    ethnicity: str
    spans: list[Span] = field(default_factory=list)
    deceased: date | None = None


class Roster:
    """What the claim generator needs about each member, in compact arrays indexed by member."""

    def __init__(self) -> None:
        self.family = array("I")
        self.sequence = array("B")
        self.birth_year = array("H")
        self.relationship = array("B")  # index into RELATIONSHIPS
        # Up to two medical spans and one dental span, as day numbers of 2026 (NO_SPAN if none).
        self.medical = (array("h"), array("h"), array("h"), array("h"))
        self.dental = (array("h"), array("h"))
        self.dental_members = array("I")
        self.two_span_members = array("I")
        self.dependents = array("I")
        self.children = array("I")
        self.other_dependents = array("I")

    def __len__(self) -> int:
        return len(self.family)

    def member_id(self, m: int) -> str:
        return member_id(self.family[m], self.sequence[m])

    def age(self, m: int) -> int:
        return YEAR_START.year - self.birth_year[m]

    def is_subscriber(self, m: int) -> bool:
        return self.relationship[m] == 0

    def medical_spans(self, m: int) -> list[tuple[int, int]]:
        a, b, c, d = self.medical
        spans = [(a[m], b[m])]
        if c[m] != NO_SPAN:
            spans.append((c[m], d[m]))
        return spans

    def dental_span(self, m: int) -> tuple[int, int] | None:
        start, end = self.dental[0][m], self.dental[1][m]
        return None if start == NO_SPAN else (start, end)

    def add(self, family: int, sequence: int, person: Person) -> None:
        m = len(self)
        self.family.append(family)
        self.sequence.append(sequence)
        self.birth_year.append(person.birth.year)
        self.relationship.append(RELATIONSHIPS.index(person.relationship))
        medical = [s for s in person.spans if s.plan.product_type_code != "DEN"]
        dental = [s for s in person.spans if s.plan.product_type_code == "DEN"]
        bounds = [_day_bounds(s) for s in medical] + [(NO_SPAN, NO_SPAN)]
        for column, value in zip(self.medical, (*bounds[0], *bounds[1]), strict=True):
            column.append(value)
        dental_bounds = _day_bounds(dental[0]) if dental else (NO_SPAN, NO_SPAN)
        self.dental[0].append(dental_bounds[0])
        self.dental[1].append(dental_bounds[1])
        if dental:
            self.dental_members.append(m)
        if len(medical) > 1:
            self.two_span_members.append(m)
        if person.relationship != SELF:
            self.dependents.append(m)
        if person.relationship == CHILD:
            self.children.append(m)
        if person.relationship == OTHER:
            self.other_dependents.append(m)


RELATIONSHIPS = (SELF, SPOUSE, CHILD, OTHER)


def member_id(family: int, sequence: int) -> str:
    return f"NW{40_000_000 + family:08d}{sequence:02d}"


def unique_member_id(family: int, sequence: int) -> str:
    """The enterprise person id: stable across lines of business, unrelated to the member id
    (7919 is prime to 10**9, so distinct members never share one)."""
    return f"E{(family * 100 + sequence) * 7919 % 10**9:09d}"


def subscriber_id(family: int) -> str:
    return f"NW{40_000_000 + family:08d}"


def _day_bounds(span: Span) -> tuple[int, int]:
    end = YEAR_END if span.end is None else day_number(span.end)
    return day_number(span.start), end


def write_members(rng: random.Random, count: int, out: ExtractWriter) -> Roster:
    """Write `count` members as families (one eligibility row per coverage span)."""
    roster = Roster()
    family = 0
    while len(roster) < count:
        shape = FIXED_SHAPES[family] if family < len(FIXED_SHAPES) else _random_shape(rng)
        people = _family(rng, shape)[: count - len(roster)]
        household = _household(rng)
        for sequence, person in enumerate(people, start=1):
            for span in person.spans:
                out.write(_eligibility_row(family, sequence, person, span, household))
            roster.add(family, sequence, person)
        family += 1
    return roster


def _random_shape(rng: random.Random) -> FamilyShape:
    r = rng.random()
    shape = FamilyShape()
    if r >= 0.35:
        shape.spouse = r < 0.55 or rng.random() < 0.8
    if r >= 0.55:
        shape.children = rng.randint(1, 3)
    shape.other_dependent = rng.random() < 0.02
    shape.newborn = rng.random() < 0.03
    shape.dental = rng.random() < 0.25
    change = rng.random()
    shape.plan_change = change < 0.05
    shape.termed = 0.05 <= change < 0.08
    shape.new_hire = 0.08 <= change < 0.15 and not shape.newborn
    return shape


def _family(rng: random.Random, shape: FamilyShape) -> list[Person]:
    surname = rng.choice(FAMILY_NAMES)
    age = rng.randint(40 if shape.other_dependent else 24, 64)
    gender = rng.choice("MF")
    people = [_person(rng, SELF, surname, _birth(rng, age), gender)]
    if shape.spouse:
        spouse_age = max(21, age + rng.randint(-5, 5))
        spouse_gender = gender if rng.random() < 0.08 else "F" if gender == "M" else "M"
        spouse_surname = surname if rng.random() < 0.8 else rng.choice(FAMILY_NAMES)
        people.append(_person(rng, SPOUSE, spouse_surname, _birth(rng, spouse_age), spouse_gender))
    for _ in range(shape.children):
        child_age = rng.randint(1, min(25, age - 20))
        people.append(_person(rng, CHILD, surname, _birth(rng, child_age), rng.choice("MF")))
    if shape.newborn:
        born = YEAR_START + timedelta(days=rng.randint(14, 200))
        people.append(_person(rng, CHILD, surname, born, rng.choice("MF")))
    if shape.other_dependent:
        people.append(
            _person(rng, OTHER, rng.choice(FAMILY_NAMES), _birth(rng, rng.randint(4, 16)), "F")
        )
    _cover(rng, shape, people)
    return people


def _person(
    rng: random.Random, relationship: str, surname: str, birth: date, gender: str
) -> Person:
    first = rng.choice(FEMALE_NAMES if gender == "F" else MALE_NAMES)
    r = rng.random()
    middle = rng.choice("ABCDEFGHJKLMNPRSTW") if r < 0.5 else ""
    if rng.random() < 0.005:
        gender = "U"
    return Person(relationship, first, surname, middle, birth, gender, _draw(rng, RACES),
                  _draw(rng, ETHNICITIES))  # fmt: skip


def _draw(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    r = rng.random() * weighted[-1][1]
    return next(code for code, limit in weighted if r < limit)


def _birth(rng: random.Random, age: int) -> date:
    return date(YEAR_START.year - age, 1, 1) + timedelta(days=rng.randint(0, 364))


def _cover(rng: random.Random, shape: FamilyShape, people: list[Person]) -> None:
    """Give every family member the family's coverage spans, starting no earlier than birth."""
    group = rng.choice(GROUPS)
    product = rng.choice(group[2])
    start = date(rng.randint(2016, 2025), rng.randint(1, 12), 1)
    end = None
    if shape.new_hire:
        start = date(2026, rng.randint(2, 9), 1)
    if shape.termed:
        end = date(2026, rng.randint(8, 10), 1) - timedelta(days=1)
        if shape.deceased:  # coverage ends on the date of death
            end -= timedelta(days=rng.randint(0, 20))
            people[0].deceased = end
    medical = [Span(PLANS[product], group, start, end)]
    if shape.plan_change:
        # A qualifying life event mid-year: the family moves to another product on July 1.
        other = rng.choice([p for p in ("HMO", "PPO", "POS") if p != product])
        new_group = group if other in group[2] else next(g for g in GROUPS if other in g[2])
        first_end = YEAR_START + timedelta(days=JULY_1 - 1)
        medical = [
            Span(PLANS[product], group, start, first_end),
            Span(PLANS[other], new_group, YEAR_START + timedelta(days=JULY_1), None),
        ]
    dental = [Span(PLANS["DEN"], group, start, end)] if shape.dental else []
    for person in people:
        for span in (*medical, *dental):
            if span.end is None or span.end >= person.birth:
                person.spans.append(
                    Span(span.plan, span.group, max(span.start, person.birth), span.end)
                )


@dataclass(frozen=True)
class Household:
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    phone: str
    language_code: str
    since: date


def _household(rng: random.Random) -> Household:
    city, state, zip_code, area = rng.choice(PLACES)
    unit = f"Apt {rng.randint(1, 24)}{rng.choice('ABCD')}" if rng.random() < 0.2 else ""
    return Household(
        address_line1=f"{rng.randint(100, 9899)} {rng.choice(STREETS)}",
        address_line2=unit,
        city=city,
        state=state,
        postal_code=zip_code,
        phone=f"{area}-555-01{rng.randint(0, 99):02d}",
        language_code=rng.choice(LANGUAGES),
        since=date(rng.randint(2004, 2025), rng.randint(1, 12), rng.randint(1, 28)),
    )


def _eligibility_row(
    family: int, sequence: int, person: Person, span: Span, home: Household
) -> dict[str, str]:
    group_id, group_name, _ = span.group
    return {
        "member_id": member_id(family, sequence),
        "subscriber_id": subscriber_id(family),
        "relationship_code": person.relationship,
        "last_name": person.last_name,
        "first_name": person.first_name,
        "middle_name": person.middle_name,
        "birth_date": person.birth.isoformat(),
        "gender_code": person.gender,
        "address_line1": home.address_line1,
        "address_line2": home.address_line2,
        "city": home.city,
        "state": home.state,
        "postal_code": home.postal_code,
        "phone": home.phone,
        "language_code": home.language_code,
        "unique_member_id": unique_member_id(family, sequence),
        "race_code": person.race,
        "ethnicity_code": person.ethnicity,
        "birth_sex_code": person.gender,
        "deceased_date": person.deceased.isoformat() if person.deceased else "",
        "address_start_date": max(home.since, person.birth).isoformat(),
        "payer_id": PAYER_ID,
        "payer_name": PAYER_NAME,
        "payer_naic_code": PAYER_NAIC_CODE,
        "plan_id": span.plan.plan_id,
        "plan_name": span.plan.plan_name,
        "group_id": group_id,
        "group_name": group_name,
        "product_type_code": span.plan.product_type_code,
        "coverage_start_date": span.start.isoformat(),
        "coverage_end_date": "" if span.end is None else span.end.isoformat(),
    }
