"""Real code tables and clinical encounter templates the synthetic extracts draw from.

Every code here is a real code of its system (checked against the FY2026 ICD-10-CM/PCS files and
the MS-DRG v43 grouper); the people and providers that carry them are invented elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

ICD10CM = {
    "A41.9": "Sepsis, unspecified organism",
    "D51.9": "Vitamin B12 deficiency anemia, unspecified",
    "E11.9": "Type 2 diabetes mellitus without complications",
    "E66.9": "Obesity, unspecified",
    "E78.5": "Hyperlipidemia, unspecified",
    "E86.0": "Dehydration",
    "E87.1": "Hypo-osmolality and hyponatremia",
    "F41.1": "Generalized anxiety disorder",
    "G93.41": "Metabolic encephalopathy",
    "H66.90": "Otitis media, unspecified, unspecified ear",
    "I10": "Essential (primary) hypertension",
    "I11.0": "Hypertensive heart disease with heart failure",
    "I50.23": "Acute on chronic systolic (congestive) heart failure",
    "J02.9": "Acute pharyngitis, unspecified",
    "J06.9": "Acute upper respiratory infection, unspecified",
    "J18.9": "Pneumonia, unspecified organism",
    "J45.909": "Unspecified asthma, uncomplicated",
    "K02.51": "Dental caries on pit and fissure surface limited to enamel",
    "K02.52": "Dental caries on pit and fissure surface penetrating into dentin",
    "K02.62": "Dental caries on smooth surface penetrating into dentin",
    "K03.81": "Cracked tooth",
    "K04.7": "Periapical abscess without sinus",
    "K05.312": "Chronic periodontitis, localized, moderate",
    "K35.80": "Unspecified acute appendicitis",
    "K52.9": "Noninfective gastroenteritis and colitis, unspecified",
    "M17.11": "Unilateral primary osteoarthritis, right knee",
    "M17.12": "Unilateral primary osteoarthritis, left knee",
    "M25.571": "Pain in right ankle and joints of right foot",
    "M26.212": "Malocclusion, Angle's class II",
    "M54.50": "Low back pain, unspecified",
    "N17.9": "Acute kidney failure, unspecified",
    "N39.0": "Urinary tract infection, site not specified",
    "R05.9": "Cough, unspecified",
    "R06.02": "Shortness of breath",
    "R07.89": "Other chest pain",
    "R07.9": "Chest pain, unspecified",
    "R10.31": "Right lower quadrant pain",
    "R10.9": "Unspecified abdominal pain",
    "R50.9": "Fever, unspecified",
    "R65.20": "Severe sepsis without septic shock",
    "S93.401A": "Sprain of unspecified ligament of right ankle, initial encounter",
    "W19.XXXA": "Unspecified fall, initial encounter",
    "Z00.00": "Encounter for general adult medical examination without abnormal findings",
    "Z00.129": "Encounter for routine child health examination without abnormal findings",
    "Z01.20": "Encounter for dental examination and cleaning without abnormal findings",
    "Z01.21": "Encounter for dental examination and cleaning with abnormal findings",
    "Z12.11": "Encounter for screening for malignant neoplasm of colon",
    "Z23": "Encounter for immunization",
    "Z29.3": "Encounter for prophylactic fluoride administration",
    "Z74.01": "Bed confinement status",
    "Z79.84": "Long term (current) use of oral hypoglycemic drugs",
}

ICD10PCS = {
    "02HV33Z": "Insertion of Infusion Device into Superior Vena Cava, Percutaneous Approach",
    "0DJ08ZZ": "Inspection of Upper Intestinal Tract, Via Natural or Artificial Opening Endoscopic",
    "0DTJ4ZZ": "Resection of Appendix, Percutaneous Endoscopic Approach",
    "0SRC0J9": "Replacement of Right Knee Joint with Synthetic Substitute, Cemented, Open Approach",
    "0SRD0J9": "Replacement of Left Knee Joint with Synthetic Substitute, Cemented, Open Approach",
}

MS_DRG = {
    "194": "Simple Pneumonia and Pleurisy with CC",
    "291": "Heart Failure and Shock with MCC",
    "392": "Esophagitis, Gastroenteritis and Miscellaneous Digestive Disorders without MCC",
    "399": "Appendix Procedures without CC/MCC",
    "470": "Major Hip and Knee Joint Replacement or Reattachment of Lower Extremity without MCC",
    "690": "Kidney and Urinary Tract Infections without MCC",
    "871": "Septicemia or Severe Sepsis without MV >96 Hours with MCC",
}

CPT = {
    "20610": "Arthrocentesis, aspiration and/or injection, major joint",
    "36415": "Collection of venous blood by venipuncture",
    "45378": "Colonoscopy, flexible; diagnostic",
    "71046": "Radiologic examination, chest; 2 views",
    "72100": "Radiologic examination, spine, lumbosacral; 2 or 3 views",
    "72148": "MRI, spinal canal, lumbar; without contrast",
    "73562": "Radiologic examination, knee; 3 views",
    "73610": "Radiologic examination, ankle; complete, minimum of 3 views",
    "80053": "Comprehensive metabolic panel",
    "80061": "Lipid panel",
    "83036": "Hemoglobin; glycosylated (A1C)",
    "85025": "Complete blood count, automated, with differential",
    "87880": "Infectious agent antigen detection, Streptococcus, group A",
    "90460": "Immunization administration through 18 years, with counseling, first component",
    "90686": "Influenza virus vaccine, quadrivalent, split virus, preservative free, IM",
    "93000": "Electrocardiogram, routine, with interpretation and report",
    "93005": "Electrocardiogram, tracing only",
    "93010": "Electrocardiogram, interpretation and report only",
    "94640": "Pressurized or nonpressurized inhalation treatment",
    "96360": "Intravenous infusion, hydration; initial, 31 minutes to 1 hour",
    "96372": "Therapeutic, prophylactic, or diagnostic injection; subcutaneous or intramuscular",
    "97110": "Therapeutic exercises, each 15 minutes",
    "97140": "Manual therapy techniques, each 15 minutes",
    "97161": "Physical therapy evaluation, low complexity",
    "99204": "Office or other outpatient visit, new patient, moderate MDM",
    "99213": "Office or other outpatient visit, established patient, low MDM",
    "99214": "Office or other outpatient visit, established patient, moderate MDM",
    "99223": "Initial hospital inpatient or observation care, high MDM",
    "99232": "Subsequent hospital inpatient or observation care, moderate MDM",
    "99238": "Hospital inpatient or observation discharge day management; 30 minutes or less",
    "99283": "Emergency department visit, low MDM",
    "99284": "Emergency department visit, moderate MDM",
    "99392": "Periodic preventive medicine, established patient; early childhood (age 1-4)",
    "99393": "Periodic preventive medicine, established patient; late childhood (age 5-11)",
    "99394": "Periodic preventive medicine, established patient; adolescent (age 12-17)",
    "99395": "Periodic preventive medicine, established patient; 18-39 years",
    "99396": "Periodic preventive medicine, established patient; 40-64 years",
}

HCPCS = {
    "A0425": "Ground mileage, per statute mile",
    "A0427": "Ambulance service, advanced life support, emergency transport, level 1 (ALS1-emergency)",
    "A0428": "Ambulance service, basic life support, non-emergency transport (BLS)",
    "G0008": "Administration of influenza virus vaccine",
    "G0463": "Hospital outpatient clinic visit for assessment and management of a patient",
    "J2405": "Injection, ondansetron hydrochloride, per 1 mg",
    "J3301": "Injection, triamcinolone acetonide, not otherwise specified, 10 mg",
    "J3420": "Injection, vitamin B-12 cyanocobalamin, up to 1,000 mcg",
    "J7030": "Infusion, normal saline solution, 1000 cc",
    "L1906": "Ankle foot orthosis, multiligamentous ankle support, prefabricated, off-the-shelf",
}

CDT = {
    "D0120": "Periodic oral evaluation - established patient",
    "D0150": "Comprehensive oral evaluation - new or established patient",
    "D0210": "Intraoral - comprehensive series of radiographic images",
    "D0220": "Intraoral - periapical first radiographic image",
    "D0274": "Bitewings - four radiographic images",
    "D1110": "Prophylaxis - adult",
    "D1120": "Prophylaxis - child",
    "D1206": "Topical application of fluoride varnish",
    "D1351": "Sealant - per tooth",
    "D2330": "Resin-based composite - one surface, anterior",
    "D2391": "Resin-based composite - one surface, posterior",
    "D2740": "Crown - porcelain/ceramic",
    "D4342": "Periodontal scaling and root planing - one to three teeth per quadrant",
    "D7140": "Extraction, erupted tooth or exposed root (elevation and/or forceps removal)",
    "D8670": "Periodic orthodontic treatment visit",
}

REVENUE = {
    "0120": "Room & board - semi-private, general",
    "0200": "Intensive care unit, general",
    "0250": "Pharmacy, general",
    "0258": "Pharmacy - IV solutions",
    "0260": "IV therapy, general",
    "0274": "Medical/surgical supplies - prosthetic/orthotic devices",
    "0278": "Medical/surgical supplies - other implants",
    "0300": "Laboratory, general",
    "0301": "Laboratory - chemistry",
    "0305": "Laboratory - hematology",
    "0320": "Radiology - diagnostic, general",
    "0324": "Radiology - diagnostic, chest x-ray",
    "0360": "Operating room services, general",
    "0370": "Anesthesia, general",
    "0410": "Respiratory services, general",
    "0420": "Physical therapy, general",
    "0424": "Physical therapy - evaluation or re-evaluation",
    "0450": "Emergency room, general",
    "0510": "Clinic, general",
    "0636": "Drugs requiring detailed coding",
    "0710": "Recovery room, general",
    "0730": "EKG/ECG, general",
    "0750": "Gastrointestinal services, general",
    "0761": "Treatment room",
}

MODIFIERS = {
    "25": "Significant, separately identifiable E/M service on the same day",
    "26": "Professional component",
    "59": "Distinct procedural service",
    "GP": "Services delivered under an outpatient physical therapy plan of care",
    "HR": "Ambulance origin hospital, destination residence",
    "LT": "Left side",
    "RH": "Ambulance origin residence, destination hospital",
    "RT": "Right side",
}

PLACE_OF_SERVICE = {
    "01": "Pharmacy",
    "11": "Office",
    "21": "Inpatient hospital",
    "22": "On campus - outpatient hospital",
    "23": "Emergency room - hospital",
    "41": "Ambulance - land",
}

# X12 claim adjustment reason codes used for medical and dental denials.
CARC = {
    "16": "Claim/service lacks information or has submission/billing error(s)",
    "50": "Non-covered service: not deemed a medical necessity by the payer",
    "96": "Non-covered charge(s)",
    "97": "Benefit included in the payment for another service already adjudicated",
    "119": "Benefit maximum for this time period or occurrence has been reached",
    "197": "Precertification/authorization/notification/pre-treatment absent",
    "204": "Service/equipment/drug is not covered under the patient's current benefit plan",
}

# NCPDP reject codes: pharmacy claims are denied at the point of sale in NCPDP terms.
NCPDP_REJECT = {
    "70": "Product/service not covered - plan/benefit exclusion",
    "75": "Prior authorization required",
    "76": "Plan limitations exceeded",
    "79": "Refill too soon",
}

TAXONOMY = {
    "1223G0001X": "Dentist, General Practice",
    "1223P0221X": "Dentist, Pediatric Dentistry",
    "183500000X": "Pharmacist",
    "193400000X": "Single Specialty Group",
    "207P00000X": "Emergency Medicine",
    "207Q00000X": "Family Medicine",
    "207R00000X": "Internal Medicine",
    "207RG0100X": "Internal Medicine, Gastroenterology",
    "207X00000X": "Orthopaedic Surgery",
    "208000000X": "Pediatrics",
    "2085R0202X": "Radiology, Diagnostic Radiology",
    "208600000X": "Surgery",
    "225100000X": "Physical Therapist",
    "261QP2000X": "Clinic/Center, Physical Therapy",
    "261QP2300X": "Clinic/Center, Primary Care",
    "261QR0200X": "Clinic/Center, Radiology",
    "282N00000X": "General Acute Care Hospital",
    "3336C0003X": "Pharmacy, Community/Retail Pharmacy",
    "3416L0300X": "Ambulance, Land Transport",
    "363LF0000X": "Nurse Practitioner, Family",
}

POSTERIOR_TEETH = (1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 28, 29, 30, 31, 32)
ANTERIOR_TEETH = (6, 7, 8, 9, 10, 11, 22, 23, 24, 25, 26, 27)
FIRST_MOLARS = (3, 14, 19, 30)
POSTERIOR_SURFACES = ("M", "O", "D", "B", "L")
ANTERIOR_SURFACES = ("M", "D", "I", "F", "L")
TEETH = {"posterior": POSTERIOR_TEETH, "anterior": ANTERIOR_TEETH, "molar": FIRST_MOLARS}
SURFACES = {"posterior": POSTERIOR_SURFACES, "anterior": ANTERIOR_SURFACES}


def procedure_code_type(code: str) -> str:
    """The PROCEDURE_CODE_TYPE of a line code: CDT D-codes, HCPCS level II letters, else CPT."""
    if not code:
        return ""
    if code in CDT:
        return "CDT"
    return "HCPCS" if code[0].isalpha() else "CPT"


@dataclass(frozen=True)
class Line:
    """One service line of an encounter; charge is the provider's typical charge in cents."""

    code: str = ""
    revenue: str = ""
    charge: int = 0
    units: tuple[int, int] = (1, 1)
    modifiers: tuple[str, ...] = ()
    teeth: str = ""  # a key of TEETH: the line names a tooth of that kind
    surface: bool = False
    per_day: bool = False  # units are days of the stay (room and board, daily hospital visits)
    mileage: bool = False  # units are the miles of the ambulance trip
    additional_teeth: int = 0  # further teeth of the same quadrant the line treats
    benefit: str = "standard"  # standard | preventive | office | emergency | basic | major


@dataclass(frozen=True)
class Encounter:
    """A clinically coherent claim: diagnoses, required lines and optional extra lines."""

    name: str
    claim_type: str
    ages: tuple[int, int]
    weight: int
    diagnoses: tuple[tuple[str, str], ...]
    lines: tuple[Line, ...]
    extra_lines: tuple[Line, ...] = ()
    place_of_service: str = ""
    practice: str = ""  # who bills a PROF/DENT claim (a practice kind in providers.PRACTICES)
    attending: str = ""  # specialty of the attending physician on IP/OP claims
    referred: bool = False
    same_tooth: bool = False
    drg: str = ""
    procedures: tuple[str, ...] = ()
    admission_type: str = ""
    admission_sources: tuple[str, ...] = ()
    discharge_statuses: tuple[str, ...] = ()
    stay: tuple[int, int] = (0, 0)
    prosthesis: bool = False  # the claim answers ADA item 43 (replacement of prosthesis?)
    orthodontic: bool = False  # the claim answers ADA items 40-42 (orthodontic treatment)
    missing_teeth: bool = False  # the claim reports missing teeth (periodontal services)
    round_trip: str = ""  # ambulance: why the trip was a round trip
    stretcher: str = ""  # ambulance: why a stretcher was needed


_VISIT = Line("99213", charge=16500, benefit="office")
_VISIT_25 = Line("99213", charge=16500, modifiers=("25",), benefit="office")
_VISIT_MODERATE = Line("99214", charge=24000, benefit="office")
_VENIPUNCTURE = Line("36415", charge=2000)
_CMP = Line("80053", charge=6500)
_LIPIDS = Line("80061", charge=7500)
_CBC = Line("85025", charge=4500)
_A1C = Line("83036", charge=5500)
_PREVENTIVE_LABS = tuple(
    Line(line.code, charge=line.charge, benefit="preventive")
    for line in (_CMP, _VENIPUNCTURE, _CBC, _LIPIDS)
)
_FLU_VACCINE = Line("90686", charge=4200, benefit="preventive")


def _well_child(name: str, code: str, ages: tuple[int, int]) -> Encounter:
    return Encounter(
        name,
        "PROF",
        ages,
        3,
        (("Z00.129", "P"), ("Z23", "S")),
        (
            Line(code, charge=21000, benefit="preventive"),
            _FLU_VACCINE,
            Line("90460", charge=3500, benefit="preventive"),
        ),
        place_of_service="11",
        practice="primary_care",
    )


def _annual_physical(name: str, code: str, ages: tuple[int, int]) -> Encounter:
    # Always exactly five lines: the preventive visit and its four screening labs.
    return Encounter(
        name,
        "PROF",
        ages,
        4,
        (("Z00.00", "P"),),
        (Line(code, charge=26000, benefit="preventive"), *_PREVENTIVE_LABS),
        place_of_service="11",
        practice="primary_care",
    )


def _knee_injection(name: str, side: str, dx: str) -> Encounter:
    return Encounter(
        name,
        "PROF",
        (40, 99),
        2,
        ((dx, "P"),),
        (
            _VISIT_25,
            Line("20610", charge=21000, modifiers=(side,)),
            Line("J3301", charge=1200, units=(4, 4)),
        ),
        place_of_service="11",
        practice="ortho",
    )


PROFESSIONAL = (
    Encounter(
        "upper_respiratory_infection",
        "PROF",
        (0, 99),
        12,
        (("J06.9", "P"), ("R05.9", "S")),
        (_VISIT,),
        place_of_service="11",
        practice="primary_care",
    ),
    Encounter(
        "pharyngitis",
        "PROF",
        (3, 64),
        5,
        (("J02.9", "P"),),
        (_VISIT, Line("87880", charge=3800)),
        place_of_service="11",
        practice="primary_care",
    ),
    Encounter(
        "diabetes_follow_up",
        "PROF",
        (30, 99),
        10,
        (("E11.9", "P"), ("I10", "S"), ("Z79.84", "S")),
        (_VISIT_MODERATE,),
        extra_lines=(_A1C, _VENIPUNCTURE, _CMP, _LIPIDS),
        place_of_service="11",
        practice="primary_care",
    ),
    Encounter(
        "hypertension_follow_up",
        "PROF",
        (30, 99),
        8,
        (("I10", "P"), ("E78.5", "S")),
        (_VISIT,),
        extra_lines=(Line("93000", charge=9500), _CMP, _VENIPUNCTURE),
        place_of_service="11",
        practice="primary_care",
    ),
    Encounter(
        "low_back_pain",
        "PROF",
        (18, 99),
        6,
        (("M54.50", "P"),),
        (_VISIT,),
        extra_lines=(Line("72100", charge=12500),),
        place_of_service="11",
        practice="primary_care",
    ),
    Encounter(
        "otitis_media",
        "PROF",
        (0, 12),
        5,
        (("H66.90", "P"),),
        (_VISIT,),
        place_of_service="11",
        practice="primary_care",
    ),
    Encounter(
        "asthma",
        "PROF",
        (5, 64),
        3,
        (("J45.909", "P"),),
        (_VISIT,),
        extra_lines=(Line("94640", charge=6000),),
        place_of_service="11",
        practice="primary_care",
    ),
    Encounter(
        "anxiety",
        "PROF",
        (18, 80),
        3,
        (("F41.1", "P"),),
        (_VISIT_MODERATE,),
        place_of_service="11",
        practice="primary_care",
    ),
    _annual_physical("annual_physical_18_39", "99395", (18, 39)),
    _annual_physical("annual_physical_40_64", "99396", (40, 64)),
    _well_child("well_child_1_4", "99392", (1, 4)),
    _well_child("well_child_5_11", "99393", (5, 11)),
    _well_child("well_child_12_17", "99394", (12, 17)),
    _knee_injection("knee_injection_right", "RT", "M17.11"),
    _knee_injection("knee_injection_left", "LT", "M17.12"),
    Encounter(
        "b12_injection",
        "PROF",
        (18, 99),
        2,
        (("D51.9", "P"),),
        (Line("96372", charge=4500), Line("J3420", charge=1500)),
        place_of_service="11",
        practice="primary_care",
    ),
    Encounter(
        "flu_shot_at_pharmacy",
        "PROF",
        (18, 99),
        4,
        (("Z23", "P"),),
        (_FLU_VACCINE, Line("G0008", charge=3000, benefit="preventive")),
        place_of_service="01",
        practice="pharmacy",
    ),
    Encounter(
        "ambulance_emergency",
        "PROF",
        (40, 99),
        1,
        (("R07.9", "P"), ("I10", "S")),
        (
            Line("A0427", charge=95000, modifiers=("RH",), benefit="emergency"),
            Line("A0425", charge=1800, mileage=True, benefit="emergency"),
        ),
        place_of_service="41",
        practice="ambulance",
        stretcher="Chest pain with unstable vital signs; cardiac monitoring en route",
    ),
    Encounter(
        "ambulance_round_trip",
        "PROF",
        (30, 99),
        1,
        (("Z74.01", "P"), ("I50.23", "S")),
        (
            Line("A0428", charge=45000, modifiers=("RH",)),
            Line("A0425", charge=1500, mileage=True),
            Line("A0428", charge=45000, modifiers=("HR",)),
            Line("A0425", charge=1500, mileage=True),
        ),
        place_of_service="41",
        practice="ambulance",
        round_trip="Bed-confined patient taken to a cardiology visit at the hospital and home",
        stretcher="Bed-confined; cannot sit in a wheelchair",
    ),
    Encounter(
        "emergency_chest_pain_physician",
        "PROF",
        (30, 99),
        3,
        (("R07.9", "P"), ("I10", "S")),
        (Line("99284", charge=42000), Line("93010", charge=3500)),
        place_of_service="23",
        practice="emergency",
    ),
    Encounter(
        "emergency_ankle_sprain_physician",
        "PROF",
        (5, 70),
        2,
        (("S93.401A", "P"), ("W19.XXXA", "E")),
        (Line("99283", charge=28000),),
        place_of_service="23",
        practice="emergency",
    ),
    Encounter(
        "chest_xray_reading",
        "PROF",
        (18, 99),
        3,
        (("R05.9", "P"),),
        (Line("71046", charge=4500, modifiers=("26",)),),
        place_of_service="22",
        practice="radiology",
        referred=True,
    ),
    Encounter(
        "lumbar_mri",
        "PROF",
        (18, 99),
        1,
        (("M54.50", "P"),),
        (Line("72148", charge=165000),),
        place_of_service="11",
        practice="radiology",
        referred=True,
    ),
    Encounter(
        "hospital_rounds",
        "PROF",
        (18, 99),
        2,
        (("J18.9", "P"), ("E87.1", "S")),
        (
            Line("99223", charge=38000),
            Line("99232", charge=19000, per_day=True),
            Line("99238", charge=17000),
        ),
        place_of_service="21",
        practice="hospitalist",
        stay=(2, 4),
    ),
    Encounter(
        "colonoscopy_physician",
        "PROF",
        (45, 75),
        2,
        (("Z12.11", "P"),),
        (Line("45378", charge=110000, benefit="preventive"),),
        place_of_service="22",
        practice="gastroenterology",
        referred=True,
    ),
    Encounter(
        "physical_therapy",
        "PROF",
        (18, 85),
        4,
        (("M54.50", "P"),),
        (
            Line("97161", charge=16000, modifiers=("GP",)),
            Line("97110", charge=5500, units=(2, 4), modifiers=("GP",)),
            Line("97140", charge=5000, modifiers=("59", "GP")),
        ),
        place_of_service="11",
        practice="physical_therapy",
        referred=True,
    ),
    Encounter(
        "knee_consult",
        "PROF",
        (40, 99),
        2,
        (("M17.11", "P"),),
        (Line("99204", charge=32000), Line("73562", charge=9000, modifiers=("RT",))),
        place_of_service="11",
        practice="ortho",
        referred=True,
    ),
)

OUTPATIENT = (
    Encounter(
        "emergency_chest_pain",
        "OP",
        (30, 99),
        5,
        (("R07.89", "P"), ("I10", "S"), ("R07.9", "R")),
        (
            Line("99284", "0450", 185000, benefit="emergency"),
            Line("71046", "0320", 42000),
            Line("80053", "0300", 21000),
            Line("93005", "0730", 26000),
        ),
        extra_lines=(Line("85025", "0305", 15000),),
        attending="emergency",
        admission_type="1",
        admission_sources=("1",),
    ),
    Encounter(
        "emergency_ankle_sprain",
        "OP",
        (5, 70),
        3,
        (("S93.401A", "P"), ("W19.XXXA", "E"), ("M25.571", "R")),
        (
            Line("99283", "0450", 120000, benefit="emergency"),
            Line("73610", "0320", 38000, modifiers=("RT",)),
        ),
        extra_lines=(Line("L1906", "0274", 16000),),
        attending="emergency",
        admission_type="1",
        admission_sources=("1",),
    ),
    Encounter(
        "emergency_gastroenteritis",
        "OP",
        (1, 99),
        3,
        (("K52.9", "P"), ("E86.0", "S"), ("R10.9", "R")),
        (
            Line("99284", "0450", 185000, benefit="emergency"),
            Line("96360", "0260", 45000),
            Line("J7030", "0258", 9000),
        ),
        extra_lines=(Line("J2405", "0636", 1500, units=(4, 4)), Line("80053", "0300", 21000)),
        attending="emergency",
        admission_type="1",
        admission_sources=("1",),
    ),
    Encounter(
        "b12_clinic_injection",
        "OP",
        (18, 99),
        1,
        (("D51.9", "P"),),
        (
            Line("G0463", "0510", 32000),
            Line("J3420", "0636", 4000),
            Line("96372", "0761", 9000),
        ),
        attending="primary_care",
        admission_type="3",
        admission_sources=("2",),
        referred=True,
    ),
    Encounter(
        "screening_colonoscopy",
        "OP",
        (45, 75),
        2,
        (("Z12.11", "P"),),
        (Line("45378", "0750", 310000, benefit="preventive"),),
        extra_lines=(
            Line(revenue="0370", charge=90000, benefit="preventive"),
            Line(revenue="0710", charge=60000, benefit="preventive"),
            Line(revenue="0250", charge=12000, benefit="preventive"),
        ),
        attending="gastroenterology",
        admission_type="3",
        admission_sources=("2",),
        referred=True,
    ),
    Encounter(
        "outpatient_labs",
        "OP",
        (18, 99),
        3,
        (("E11.9", "P"), ("I10", "S")),
        (Line("80053", "0301", 21000), Line("36415", "0300", 3500)),
        extra_lines=(
            Line("83036", "0301", 11000),
            Line("85025", "0305", 15000),
            Line("71046", "0320", 42000),
        ),
        attending="primary_care",
        admission_type="3",
        admission_sources=("2",),
        referred=True,
    ),
    Encounter(
        "outpatient_physical_therapy",
        "OP",
        (18, 85),
        2,
        (("M54.50", "P"),),
        (
            Line("97161", "0424", 28000, modifiers=("GP",)),
            Line("97110", "0420", 9500, units=(2, 4), modifiers=("GP",)),
            Line("97140", "0420", 9000, modifiers=("59", "GP")),
        ),
        attending="primary_care",
        admission_type="3",
        admission_sources=("2",),
        referred=True,
    ),
)

_ROOM = Line(revenue="0120", charge=320000, per_day=True)

INPATIENT = (
    Encounter(
        "knee_replacement_left",
        "IP",
        (50, 99),
        2,
        (("M17.12", "P"), ("I10", "S"), ("E66.9", "S"), ("M17.12", "A")),
        (
            _ROOM,
            Line(revenue="0250", charge=480000),
            Line(revenue="0278", charge=1150000),
            Line(revenue="0360", charge=1400000),
            Line(revenue="0370", charge=310000),
            Line("97161", "0420", 95000, modifiers=("GP",)),
        ),
        extra_lines=(Line(revenue="0300", charge=85000),),
        attending="ortho",
        referred=True,
        drg="470",
        procedures=("0SRD0J9",),
        admission_type="3",
        admission_sources=("1", "2"),
        discharge_statuses=("01", "06", "03"),
        stay=(1, 3),
    ),
    Encounter(
        "knee_replacement_right",
        "IP",
        (50, 99),
        2,
        (("M17.11", "P"), ("I10", "S"), ("M17.11", "A")),
        (
            _ROOM,
            Line(revenue="0250", charge=480000),
            Line(revenue="0278", charge=1150000),
            Line(revenue="0360", charge=1400000),
            Line(revenue="0370", charge=310000),
            Line("97161", "0420", 95000, modifiers=("GP",)),
        ),
        attending="ortho",
        referred=True,
        drg="470",
        procedures=("0SRC0J9",),
        admission_type="3",
        admission_sources=("1", "2"),
        discharge_statuses=("01", "06", "03"),
        stay=(1, 3),
    ),
    Encounter(
        "appendectomy",
        "IP",
        (5, 80),
        3,
        (("K35.80", "P"), ("R10.31", "A")),
        (
            _ROOM,
            Line(revenue="0250", charge=210000),
            Line(revenue="0300", charge=65000),
            Line(revenue="0360", charge=980000),
            Line(revenue="0370", charge=240000),
            Line(revenue="0450", charge=260000),
        ),
        attending="surgery",
        drg="399",
        procedures=("0DTJ4ZZ",),
        admission_type="1",
        admission_sources=("1",),
        discharge_statuses=("01",),
        stay=(1, 2),
    ),
    Encounter(
        "sepsis",
        "IP",
        (18, 99),
        2,
        (("A41.9", "P"), ("R65.20", "S"), ("G93.41", "S"), ("N17.9", "S"), ("R50.9", "A")),
        (
            _ROOM,
            Line(revenue="0200", charge=780000, per_day=True),
            Line(revenue="0250", charge=520000),
            Line(revenue="0258", charge=60000),
            Line(revenue="0300", charge=240000),
            Line(revenue="0324", charge=42000),
            Line(revenue="0450", charge=310000),
        ),
        attending="hospitalist",
        drg="871",
        procedures=("02HV33Z",),
        admission_type="1",
        admission_sources=("1", "4"),
        discharge_statuses=("01", "06", "03"),
        stay=(4, 6),
    ),
    Encounter(
        "heart_failure",
        "IP",
        (45, 99),
        3,
        (("I11.0", "P"), ("I50.23", "S"), ("E87.1", "S"), ("R06.02", "A")),
        (
            _ROOM,
            Line(revenue="0250", charge=260000),
            Line(revenue="0300", charge=150000),
            Line(revenue="0324", charge=42000),
            Line(revenue="0450", charge=260000),
            Line(revenue="0730", charge=26000),
        ),
        attending="hospitalist",
        drg="291",
        admission_type="1",
        admission_sources=("1",),
        discharge_statuses=("01", "06"),
        stay=(3, 5),
    ),
    Encounter(
        "pneumonia",
        "IP",
        (1, 99),
        3,
        (("J18.9", "P"), ("E87.1", "S"), ("R05.9", "A")),
        (
            _ROOM,
            Line(revenue="0250", charge=190000),
            Line(revenue="0300", charge=110000),
            Line(revenue="0324", charge=42000),
            Line(revenue="0410", charge=85000),
        ),
        extra_lines=(Line(revenue="0450", charge=260000),),
        attending="hospitalist",
        drg="194",
        admission_type="2",
        admission_sources=("1", "2"),
        discharge_statuses=("01",),
        stay=(2, 4),
    ),
    Encounter(
        "gastroenteritis_dehydration",
        "IP",
        (1, 99),
        2,
        (("K52.9", "P"), ("E86.0", "S"), ("R10.9", "A")),
        (
            _ROOM,
            Line(revenue="0250", charge=90000),
            Line(revenue="0258", charge=45000),
            Line(revenue="0300", charge=70000),
        ),
        extra_lines=(Line(revenue="0750", charge=210000), Line(revenue="0450", charge=220000)),
        attending="hospitalist",
        drg="392",
        procedures=("0DJ08ZZ",),
        admission_type="2",
        admission_sources=("1", "2"),
        discharge_statuses=("01",),
        stay=(1, 3),
    ),
    Encounter(
        "urinary_tract_infection",
        "IP",
        (18, 99),
        2,
        (("N39.0", "P"), ("E86.0", "S"), ("R50.9", "A")),
        (
            _ROOM,
            Line(revenue="0250", charge=120000),
            Line(revenue="0300", charge=80000),
        ),
        extra_lines=(Line(revenue="0450", charge=220000),),
        attending="hospitalist",
        drg="690",
        admission_type="1",
        admission_sources=("1",),
        discharge_statuses=("01", "06"),
        stay=(2, 3),
    ),
)

_DENTAL_EXAM = Line("D0120", charge=6500, benefit="preventive")

DENTAL = (
    Encounter(
        "recall_visit_adult",
        "DENT",
        (18, 99),
        8,
        (("Z01.20", "P"),),
        (_DENTAL_EXAM, Line("D1110", charge=11500, benefit="preventive")),
        extra_lines=(Line("D0274", charge=8500, benefit="preventive"),),
        place_of_service="11",
        practice="dental",
    ),
    Encounter(
        "recall_visit_child",
        "DENT",
        (3, 17),
        6,
        (("Z01.20", "P"), ("Z29.3", "S")),
        (
            _DENTAL_EXAM,
            Line("D1120", charge=8500, benefit="preventive"),
            Line("D1206", charge=4500, benefit="preventive"),
        ),
        place_of_service="11",
        practice="dental",
    ),
    Encounter(
        "new_patient_exam",
        "DENT",
        (18, 99),
        2,
        (("Z01.21", "P"), ("K02.52", "S")),
        (
            Line("D0150", charge=11000, benefit="preventive"),
            Line("D0210", charge=16500, benefit="preventive"),
            Line("D1110", charge=11500, benefit="preventive"),
        ),
        place_of_service="11",
        practice="dental",
    ),
    Encounter(
        "posterior_filling",
        "DENT",
        (6, 99),
        4,
        (("K02.52", "P"),),
        (Line("D2391", charge=19500, teeth="posterior", surface=True, benefit="basic"),),
        extra_lines=(
            Line("D2391", charge=19500, teeth="posterior", surface=True, benefit="basic"),
        ),
        place_of_service="11",
        practice="dental",
    ),
    Encounter(
        "anterior_filling",
        "DENT",
        (6, 99),
        2,
        (("K02.62", "P"),),
        (Line("D2330", charge=17000, teeth="anterior", surface=True, benefit="basic"),),
        place_of_service="11",
        practice="dental",
    ),
    Encounter(
        "crown",
        "DENT",
        (25, 99),
        2,
        (("K03.81", "P"),),
        (Line("D2740", charge=135000, teeth="posterior", benefit="major"),),
        extra_lines=(Line("D0220", charge=3500, teeth="posterior", benefit="preventive"),),
        place_of_service="11",
        practice="dental",
        same_tooth=True,
        prosthesis=True,
    ),
    Encounter(
        "scaling_root_planing",
        "DENT",
        (30, 99),
        1,
        (("K05.312", "P"),),
        (Line("D4342", charge=21000, teeth="posterior", additional_teeth=2, benefit="basic"),),
        place_of_service="11",
        practice="dental",
        missing_teeth=True,
    ),
    Encounter(
        "orthodontic_visit",
        "DENT",
        (10, 17),
        1,
        (("M26.212", "P"),),
        (Line("D8670", charge=25000, benefit="major"),),
        place_of_service="11",
        practice="dental",
        orthodontic=True,
    ),
    Encounter(
        "extraction",
        "DENT",
        (12, 99),
        2,
        (("K04.7", "P"),),
        (
            Line("D0220", charge=3500, teeth="posterior", benefit="preventive"),
            Line("D7140", charge=21000, teeth="posterior", benefit="basic"),
        ),
        place_of_service="11",
        practice="dental",
        same_tooth=True,
    ),
    Encounter(
        "sealants",
        "DENT",
        (6, 15),
        2,
        (("K02.51", "P"),),
        (
            Line("D1351", charge=5500, teeth="molar", benefit="preventive"),
            Line("D1351", charge=5500, teeth="molar", benefit="preventive"),
        ),
        extra_lines=(
            Line("D1351", charge=5500, teeth="molar", benefit="preventive"),
            Line("D1351", charge=5500, teeth="molar", benefit="preventive"),
        ),
        place_of_service="11",
        practice="dental",
    ),
)

ENCOUNTERS = {e.name: e for e in (*PROFESSIONAL, *OUTPATIENT, *INPATIENT, *DENTAL)}
ENCOUNTERS_BY_TYPE = {
    "PROF": PROFESSIONAL,
    "OP": OUTPATIENT,
    "IP": INPATIENT,
    "DENT": DENTAL,
}


@dataclass(frozen=True)
class Drug:
    """A dispensable package (NDC-11, 5-4-2 without hyphens) with its usual 30-day quantity."""

    ndc: str
    name: str
    brand: bool
    unit_cost: int  # ingredient cost per dispensing unit, in cents
    quantity_30: str  # dispensing units for a 30-day supply (a decimal string)
    ages: tuple[int, int]
    maintenance: bool = True
    has_generic: bool = False
    acute_days: int = 0  # days supply of a short course; 0 for maintenance drugs
    weight: int = 1


DRUGS = (
    Drug("00071015523", "Lipitor 10 mg tablet", True, 1350, "30", (30, 99), has_generic=True),
    Drug("00003089421", "Eliquis 5 mg tablet", True, 1000, "60", (45, 99), weight=2),
    Drug("00006027731", "Januvia 100 mg tablet", True, 1800, "30", (30, 99)),
    Drug("00597015230", "Jardiance 10 mg tablet", True, 2100, "30", (30, 99), weight=2),
    Drug("00088222033", "Lantus 100 units/mL 10 mL vial", True, 650, "10", (10, 99)),
    Drug("00002751001", "Humalog 100 units/mL 10 mL vial", True, 660, "10", (10, 99)),
    Drug("00173068220", "Ventolin HFA 90 mcg inhaler 18 g", True, 330, "18", (4, 99), weight=2),
    Drug("00006011731", "Singulair 10 mg tablet", True, 700, "30", (15, 99), has_generic=True),
    Drug("00777310502", "Prozac 20 mg capsule", True, 1800, "30", (18, 99), has_generic=True),
    Drug("68180051301", "Lisinopril 10 mg tablet", False, 5, "30", (30, 99), weight=5),
    Drug(
        "00093310901",
        "Amoxicillin 500 mg capsule",
        False,
        15,
        "30",
        (2, 99),
        maintenance=False,
        acute_days=10,
        weight=4,
    ),
    Drug(
        "00069306075",
        "Zithromax 250 mg tablet (Z-Pak)",
        True,
        900,
        "6",
        (12, 99),
        maintenance=False,
        has_generic=True,
        acute_days=5,
        weight=2,
    ),
)

# Vehicles used to compound oral suspensions from commercial tablets and capsules.
ORA_PLUS = Drug("00574030316", "Ora-Plus suspending vehicle 473 mL", True, 8, "0", (0, 99))
ORA_SWEET = Drug("00574030416", "Ora-Sweet syrup vehicle 473 mL", True, 7, "0", (0, 99))

# Compound recipes: (name, [(ingredient, quantity)], total mL dispensed).
COMPOUNDS = (
    (
        "lisinopril 1 mg/mL oral suspension",
        ((DRUGS[9], "15"), (ORA_PLUS, "75"), (ORA_SWEET, "75")),
        "150",
    ),
    (
        "fluoxetine 4 mg/mL oral suspension",
        ((DRUGS[8], "30"), (ORA_SWEET, "150")),
        "150",
    ),
)
