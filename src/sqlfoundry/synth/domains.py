"""Declarative specs of databases to build from scratch, and the built-in domains (hospital, university,
airline, retail, library, sports league).

A :class:`DomainSpec` lists tables, columns (type, value generator, nullability, uniqueness, foreign
key, skew) and row counts; :func:`validate_spec` checks it strictly and ``synth.dbgen`` populates it.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import SQLFoundryError

#: column types a spec may use (SQLite declared types INTEGER, REAL, TEXT, DATE, DATETIME, BOOLEAN)
COLUMN_TYPES = ("integer", "real", "text", "date", "datetime", "boolean")
_TYPE_SYNONYMS = {
    "int": "integer", "bigint": "integer", "smallint": "integer", "tinyint": "integer", "serial": "integer",
    "float": "real", "double": "real", "decimal": "real", "numeric": "real", "number": "real", "money": "real",
    "double precision": "real", "string": "text", "varchar": "text", "char": "text", "character varying": "text",
    "nvarchar": "text", "timestamp": "datetime", "timestamptz": "datetime", "time stamp": "datetime",
    "bool": "boolean",
}  # fmt: skip
#: words that need quoting in SQL: refused as names so every generated query stays plain
RESERVED_WORDS = frozenset(
    "add all alter and as asc between by case check column constraint create cross current default delete "
    "desc distinct drop else end except exists foreign from full group having in index inner insert "
    "intersect into is join key left like limit natural not null offset on or order outer primary "
    "references right select set table then to transaction union unique update using values when where "
    "with user current_user session_user current_date current_time current_timestamp localtime localtimestamp "
    "analyze analyse array asymmetric both cast collate condition deferrable do fetch grant ilike initially "
    "interval lateral leading match only over partition range rank returning row rows similar some symmetric "
    "trailing true false window".split()
)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_ROWS_PER_TABLE = 1_000_000
DEFAULT_NULL_RATE = 0.1


class DomainSpecError(SQLFoundryError, ValueError):
    """A database spec that cannot be built; the message names the table/column and the problem."""


class UnknownDomainError(SQLFoundryError, LookupError):
    """No built-in domain matches the name or description."""


class ColumnSpec(BaseModel):
    """One column: its type, how values are drawn, and its constraints."""

    model_config = ConfigDict(extra="forbid")

    name: str
    type: str
    #: value generator name (see ``synth.dbgen.VALUE_GENERATORS``); None: chosen from name and type
    gen: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    nullable: bool = False
    #: share of NULLs when nullable (default 0.1)
    null_rate: float | None = None
    unique: bool = False
    #: foreign key target ``"table.column"`` (a single-column primary key or unique column)
    references: str | None = None
    #: Zipf exponent of foreign-key and choice picks (0 uniform; larger is more skewed); None: the
    #: generator's default (1.0 for foreign keys, uniform for choices)
    skew: float | None = None
    description: str = ""

    @field_validator("type", mode="before")
    @classmethod
    def _canonical_type(cls, v: Any) -> str:
        if not isinstance(v, str):
            raise ValueError(f"type must be a string, one of {', '.join(COLUMN_TYPES)}")
        t = re.sub(r"\(.*\)$", "", v.strip().lower()).strip()  # VARCHAR(50) → varchar
        t = _TYPE_SYNONYMS.get(t, t)
        if t not in COLUMN_TYPES:
            raise ValueError(f"unknown column type {v!r}: use one of {', '.join(COLUMN_TYPES)}")
        return t

    @field_validator("null_rate")
    @classmethod
    def _rate(cls, v: float | None) -> float | None:
        if v is not None and not 0.0 <= v < 1.0:
            raise ValueError(f"null_rate must be in [0, 1), got {v}")
        return v

    @field_validator("skew")
    @classmethod
    def _skew(cls, v: float | None) -> float | None:
        if v is not None and not 0.0 <= v <= 5.0:
            raise ValueError(f"skew must be in [0, 5], got {v}")
        return v

    @property
    def effective_null_rate(self) -> float:
        if not self.nullable:
            return 0.0
        return DEFAULT_NULL_RATE if self.null_rate is None else self.null_rate


class TableSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    #: rows at scale 1.0 (None: chosen from the table's place in the foreign-key graph)
    rows: int | None = None
    primary_key: list[str] = Field(default_factory=list)
    columns: list[ColumnSpec]
    description: str = ""

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


class DomainSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    #: words that point to this domain in a free-text description (:func:`~sqlfoundry.synth.dbgen.domain_from_text`)
    keywords: list[str] = Field(default_factory=list)
    tables: list[TableSpec]

    def table(self, name: str) -> TableSpec:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)


def spec_from_dict(data: Any, source: str = "spec") -> DomainSpec:
    """A :class:`DomainSpec` from plain data, with any problem reported as one :class:`DomainSpecError`
    that names where it is (``tables[2] 'visit' → columns[1] 'doctor_id' → type: ...``)."""
    if not isinstance(data, dict):
        raise DomainSpecError(
            f"{source}: expected a JSON object with 'name' and 'tables', got {type(data).__name__}"
        )
    try:
        spec = DomainSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise DomainSpecError(f"{source}: {_where(data, err['loc'])}: {_clean(err['msg'])}") from None
    validate_spec(spec, source)
    return spec


def _where(data: Any, loc: tuple) -> str:
    parts, node = [], data
    for key in loc:
        if isinstance(key, int):
            label = f"[{key}]"
            try:
                node = node[key]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    label += f" {node['name']!r}"
            except (IndexError, KeyError, TypeError):
                node = None
            parts[-1:] = [(parts[-1] if parts else "") + label]
        else:
            parts.append(str(key))
            node = node.get(key) if isinstance(node, dict) else None
    return " → ".join(parts) or "(top level)"


def _clean(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def validate_spec(spec: DomainSpec, source: str = "spec") -> DomainSpec:
    """Check names, keys, foreign keys (targets exist, are keys, types match, no cycles except
    nullable self-references) and row counts; raise :class:`DomainSpecError` naming the first problem."""

    def fail(message: str) -> DomainSpecError:
        return DomainSpecError(f"{source}: {message}")

    _check_ident(spec.name, "domain name", fail)
    if not spec.tables:
        raise fail("the spec has no tables")
    seen_tables: set[str] = set()
    for t in spec.tables:
        where = f"table {t.name!r}"
        _check_ident(t.name, where, fail)
        if t.name.lower() in seen_tables:
            raise fail(f"{where} is defined twice (names are case-insensitive)")
        seen_tables.add(t.name.lower())
        if not t.columns:
            raise fail(f"{where} has no columns")
        if t.rows is not None and not 1 <= t.rows <= MAX_ROWS_PER_TABLE:
            raise fail(f"{where}: rows must be between 1 and {MAX_ROWS_PER_TABLE:,}, got {t.rows}")
        names: set[str] = set()
        for c in t.columns:
            _check_ident(c.name, f"{where}, column {c.name!r}", fail)
            if c.name.lower() in names:
                raise fail(f"{where}: column {c.name!r} is defined twice")
            names.add(c.name.lower())
        if not t.primary_key:
            raise fail(f"{where} has no primary key (set primary_key to one or more of its columns)")
        for k in t.primary_key:
            if k not in {c.name for c in t.columns}:
                raise fail(f"{where}: primary key column {k!r} is not one of its columns")
            if t.column(k).nullable:
                raise fail(f"{where}: primary key column {k!r} cannot be nullable")
        if len(set(t.primary_key)) != len(t.primary_key):
            raise fail(f"{where}: primary key lists a column twice")
    by_name = {t.name: t for t in spec.tables}
    for t in spec.tables:
        for c in t.columns:
            if c.references is None:
                continue
            where = f"table {t.name!r}, column {c.name!r}"
            ref_table, dot, ref_col = c.references.partition(".")
            if not dot or not ref_table or not ref_col:
                raise fail(f"{where}: references must be 'table.column', got {c.references!r}")
            if ref_table not in by_name:
                raise fail(f"{where}: references unknown table {ref_table!r} (tables: {', '.join(by_name)})")
            target = by_name[ref_table]
            if ref_col not in {x.name for x in target.columns}:
                raise fail(f"{where}: references unknown column {ref_col!r} of table {ref_table!r}")
            target_col = target.column(ref_col)
            if target.primary_key != [ref_col] and not target_col.unique:
                raise fail(
                    f"{where}: references {c.references}, which is neither the single-column primary key "
                    f"nor a unique column of {ref_table!r}"
                )
            if target_col.type != c.type:
                raise fail(
                    f"{where}: type {c.type} does not match the referenced column's type {target_col.type}"
                )
            if ref_table == t.name and not c.nullable:
                raise fail(
                    f"{where}: a self-reference must be nullable (the first row has nothing to point to)"
                )
    table_order(spec, source)  # raises on cycles
    return spec


def _check_ident(name: str, what: str, fail) -> None:
    if not isinstance(name, str) or not _IDENT.match(name):
        raise fail(
            f"{what}: {name!r} is not a plain identifier (letters, digits and _, not starting with a digit)"
        )
    if name.lower() in RESERVED_WORDS:
        raise fail(
            f"{what}: {name!r} is an SQL keyword; rename it (e.g. {name.lower()}s or {name.lower()}_name)"
        )


def table_order(spec: DomainSpec, source: str = "spec") -> list[TableSpec]:
    """Tables with every referenced table first (self-references ignored); a cycle is an error."""
    deps = {
        t.name: {c.references.partition(".")[0] for c in t.columns if c.references} - {t.name}
        for t in spec.tables
    }
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = " → ".join(path[path.index(name) :] + [name])
            raise DomainSpecError(f"{source}: foreign keys form a cycle ({cycle}); make one of them nullable-free "
                                  "by removing it, or point it the other way")  # fmt: skip
        state[name] = 1
        for dep in sorted(deps[name]):
            visit(dep, path + [name])
        state[name] = 2
        order.append(name)

    for t in spec.tables:
        visit(t.name, [])
    by_name = {t.name: t for t in spec.tables}
    return [by_name[n] for n in order]


# ------------------------------------------------------------------------------------------------
# Compact constructors for the built-in domains
# ------------------------------------------------------------------------------------------------


def col(
    name: str,
    type: str,
    gen: str | None = None,
    *,
    null: float | bool = 0.0,
    unique: bool = False,
    ref: str | None = None,
    skew: float | None = None,
    **args: Any,
) -> ColumnSpec:
    """A column; ``null`` > 0 makes it nullable with that NULL rate (``True``: nullable, but NULL only
    where the generator gives None); ``args`` go to the generator."""
    rate = 0.0 if null is True else (float(null) if null else None)
    return ColumnSpec(
        name=name, type=type, gen=gen, args=args, nullable=bool(null), null_rate=rate,
        unique=unique, references=ref, skew=skew,
    )  # fmt: skip


def fk(name: str, ref: str, *, null: float = 0.0, skew: float = 1.0, **args: Any) -> ColumnSpec:
    return col(name, "integer", "fk", null=null, ref=ref, skew=skew, **args)


def table(
    name: str, rows: int, *columns: ColumnSpec, pk: list[str] | None = None, description: str = ""
) -> TableSpec:
    return TableSpec(name=name, rows=rows, columns=list(columns), primary_key=pk or [columns[0].name],
                     description=description)  # fmt: skip


def pk_col(name: str) -> ColumnSpec:
    return col(name, "integer", "serial")


# ------------------------------------------------------------------------------------------------
# Built-in domains
# ------------------------------------------------------------------------------------------------

_MEDICATIONS = (
    "Amoxicillin Atorvastatin Metformin Lisinopril Amlodipine Omeprazole Levothyroxine Albuterol Losartan "
    "Gabapentin Hydrochlorothiazide Sertraline Simvastatin Montelukast Escitalopram Rosuvastatin Bupropion "
    "Furosemide Pantoprazole Tramadol Prednisone Insulin Warfarin Clopidogrel Ibuprofen Paracetamol "
    "Azithromycin Ceftriaxone Heparin Morphine Ondansetron Diazepam Cetirizine Doxycycline Enoxaparin "
    "Vancomycin Dexamethasone Carvedilol Spironolactone Tamsulosin"
).split()

HOSPITAL = DomainSpec(
    name="hospital",
    description="A hospital: departments, doctors, patients, admissions, medications, prescriptions and lab results.",
    keywords=["hospital", "clinic", "patient", "patients", "doctor", "doctors", "physician", "nurse", "medical",
              "health", "healthcare", "admission", "diagnosis", "prescription", "medication", "ward", "lab"],
    tables=[
        table("department", 12,
              pk_col("department_id"),
              col("name", "text", "each", unique=True, values=[
                  "Cardiology", "Neurology", "Oncology", "Pediatrics", "Orthopedics", "Emergency", "Radiology",
                  "Dermatology", "Gastroenterology", "Psychiatry", "Obstetrics", "Urology"]),
              col("floor_number", "integer", "int", low=1, high=9),
              col("annual_budget", "real", "money", null=0.1, low=400_000, high=9_000_000),
              col("phone", "text", "phone")),
        table("doctor", 160,
              pk_col("doctor_id"),
              col("first_name", "text", "first_name"),
              col("last_name", "text", "last_name"),
              fk("department_id", "department.department_id", skew=0.6),
              col("title", "text", "choice", values=["Resident", "Attending Physician", "Consultant", "Chief Physician"],
                  weights=[30, 45, 20, 5]),
              col("hire_date", "date", "date", start="1995-01-01", end="2024-06-30"),
              col("salary", "real", "money", low=70_000, high=420_000),
              col("email", "text", "email", null=0.05, unique=True, domain="hospital.example"),
              col("is_on_call", "boolean", "bool", p=0.3)),
        table("patient", 2200,
              pk_col("patient_id"),
              col("first_name", "text", "first_name"),
              col("last_name", "text", "last_name"),
              col("sex", "text", "choice", values=["female", "male"], weights=[52, 48]),
              col("birth_date", "date", "date", start="1932-01-01", end="2023-12-31"),
              col("blood_type", "text", "choice", null=0.12, values=["O+", "A+", "B+", "AB+", "O-", "A-", "B-", "AB-"],
                  weights=[38, 34, 9, 3, 7, 6, 2, 1]),
              col("city", "text", "city"),
              col("insurance_provider", "text", "choice", null=0.15, skew=0.8,
                  values=["Medicare", "BlueShield", "Aetna", "Cigna", "UnitedHealth", "Kaiser", "Humana"]),
              col("phone", "text", "phone", null=0.08)),
        table("admission", 3600,
              pk_col("admission_id"),
              fk("patient_id", "patient.patient_id", skew=0.7),
              fk("doctor_id", "doctor.doctor_id", skew=0.8),
              col("department_id", "integer", "lookup", ref="department.department_id", via="doctor_id",
                  column="department_id"),
              col("admitted_at", "datetime", "datetime", start="2019-01-01", end="2024-12-31"),
              col("discharged_at", "datetime", "datetime_after", null=0.05, column="admitted_at",
                  min_hours=3, max_hours=24 * 21),
              col("reason", "text", "choice", skew=0.9, values=[
                  "chest pain", "fracture", "pneumonia", "stroke", "appendicitis", "observation", "infection",
                  "childbirth", "asthma attack", "heart failure", "dehydration", "surgery", "concussion"]),
              col("room_number", "integer", "int", low=100, high=899),
              col("is_emergency", "boolean", "bool", p=0.35)),
        table("medication", 40,
              pk_col("medication_id"),
              col("name", "text", "each", unique=True, values=_MEDICATIONS),
              col("manufacturer", "text", "choice", skew=0.7,
                  values=["Pfizer", "Novartis", "Roche", "Merck", "GSK", "Sanofi", "AstraZeneca", "Teva"]),
              col("unit_price", "real", "money", low=0.5, high=350),
              col("requires_prescription", "boolean", "bool", p=0.75)),
        table("prescription", 5200,
              pk_col("prescription_id"),
              fk("admission_id", "admission.admission_id", skew=0.3),
              fk("medication_id", "medication.medication_id", skew=1.1),
              col("dosage_mg", "integer", "choice", values=[5, 10, 20, 50, 100, 250, 500, 1000],
                  weights=[8, 14, 16, 18, 18, 12, 10, 4]),
              col("frequency", "text", "choice", values=["once daily", "twice daily", "every 8 hours", "as needed"],
                  weights=[40, 30, 18, 12]),
              col("prescribed_on", "date", "date_after", via="admission_id", column="admitted_at", min_days=0,
                  max_days=5),
              col("days_supply", "integer", "choice", null=0.1, values=[3, 5, 7, 10, 14, 30, 90])),
        table("lab_result", 4200,
              pk_col("lab_result_id"),
              fk("admission_id", "admission.admission_id", skew=0.4),
              col("test_name", "text", "choice", skew=0.6, values=[
                  "Hemoglobin", "Glucose", "Cholesterol", "Creatinine", "Sodium", "Potassium", "White blood cells",
                  "Platelets"]),
              col("result_value", "real", "map", column="test_name", values={
                  "Hemoglobin": [8.0, 18.0], "Glucose": [60.0, 260.0], "Cholesterol": [120.0, 320.0],
                  "Creatinine": [0.4, 4.0], "Sodium": [125.0, 150.0], "Potassium": [2.8, 6.2],
                  "White blood cells": [2.0, 20.0], "Platelets": [90.0, 450.0]}),
              col("is_abnormal", "boolean", "bool", p=0.22),
              col("taken_at", "datetime", "datetime_after", via="admission_id", column="admitted_at", min_hours=0,
                  max_hours=96)),
    ],
)  # fmt: skip

_COURSE_TOPICS = (
    "Algorithms|Data Structures|Databases|Operating Systems|Machine Learning|Calculus|Linear Algebra|Statistics|"
    "Quantum Mechanics|Thermodynamics|Organic Chemistry|Genetics|Ecology|World History|Microeconomics|"
    "Macroeconomics|Ethics|Logic|Shakespeare|Creative Writing|Cognitive Psychology|Circuits|Robotics|"
    "Music Theory|Number Theory|Astrophysics|Cell Biology|Game Theory|Computer Networks|Compilers"
).split("|")

UNIVERSITY = DomainSpec(
    name="university",
    description="A university: departments, instructors, students, courses, course sections and enrollments with grades.",
    keywords=["university", "college", "school", "student", "students", "course", "courses", "professor",
              "instructor", "teacher", "enrollment", "enrolment", "grade", "grades", "campus", "semester",
              "academic", "faculty", "class", "classes"],
    tables=[
        table("department", 12,
              pk_col("department_id"),
              col("name", "text", "each", unique=True, values=[
                  "Computer Science", "Mathematics", "Physics", "Chemistry", "Biology", "History", "Economics",
                  "Philosophy", "English", "Psychology", "Engineering", "Music"]),
              col("building", "text", "choice", values=["North Hall", "Science Center", "Main Building", "West Wing",
                                                        "Arts Center", "Engineering Quad"]),
              col("budget", "real", "money", low=250_000, high=6_000_000),
              col("founded_year", "integer", "int", null=0.1, low=1850, high=1995)),
        table("instructor", 140,
              pk_col("instructor_id"),
              col("first_name", "text", "first_name"),
              col("last_name", "text", "last_name"),
              fk("department_id", "department.department_id", skew=0.5),
              col("academic_rank", "text", "choice", values=["Lecturer", "Assistant Professor", "Associate Professor", "Professor"],
                  weights=[20, 30, 25, 25]),
              col("salary", "real", "money", low=52_000, high=210_000),
              col("hire_date", "date", "date", start="1990-01-01", end="2024-08-31"),
              col("email", "text", "email", unique=True, domain="univ.example")),
        table("student", 2600,
              pk_col("student_id"),
              col("first_name", "text", "first_name"),
              col("last_name", "text", "last_name"),
              col("email", "text", "email", unique=True, domain="students.univ.example"),
              col("birth_date", "date", "date", start="1994-01-01", end="2006-12-31"),
              col("enrollment_year", "integer", "int", low=2015, high=2024, dist="triangular", mode=2023),
              fk("major_department_id", "department.department_id", null=0.08, skew=0.9),
              col("gpa", "real", "real", null=0.05, low=1.6, high=4.0, dist="triangular", mode=3.3, decimals=2),
              col("home_city", "text", "city")),
        table("course", 320,
              pk_col("course_id"),
              col("code", "text", "pattern", unique=True, pattern="@@@ ###"),
              col("title", "text", "template", format="{prefix}{topic}", prefix=["", "Introduction to ",
                  "Advanced ", "Topics in ", "Foundations of "], topic=_COURSE_TOPICS),
              fk("department_id", "department.department_id", skew=0.4),
              col("credits", "integer", "choice", values=[1, 2, 3, 4, 5], weights=[5, 10, 50, 30, 5]),
              col("course_level", "integer", "choice", values=[100, 200, 300, 400, 500], weights=[30, 25, 20, 15, 10])),
        table("section", 1300,
              pk_col("section_id"),
              fk("course_id", "course.course_id", skew=0.6),
              fk("instructor_id", "instructor.instructor_id", skew=0.5),
              col("term", "text", "choice", values=["Fall", "Spring", "Summer"], weights=[45, 42, 13]),
              col("year", "integer", "int", low=2017, high=2024),
              col("room", "text", "pattern", pattern="@-###"),
              col("capacity", "integer", "choice", values=[15, 25, 30, 40, 60, 120, 250], weights=[10, 25, 25, 15, 12, 8, 5])),
        table("enrollment", 9500,
              fk("student_id", "student.student_id", skew=0.3),
              fk("section_id", "section.section_id", skew=0.5),
              col("grade", "text", "choice", null=0.1, values=["A", "A-", "B+", "B", "B-", "C+", "C", "D", "F"],
                  weights=[16, 12, 14, 16, 11, 9, 10, 6, 6]),
              col("enrolled_on", "date", "date", start="2017-01-01", end="2024-12-31"),
              col("is_audit", "boolean", "bool", p=0.04),
              pk=["student_id", "section_id"]),
    ],
)  # fmt: skip

_AIRPORTS = (  # code, city, country
    ("JFK", "New York", "United States"), ("LAX", "Los Angeles", "United States"), ("ORD", "Chicago", "United States"),
    ("ATL", "Atlanta", "United States"), ("SFO", "San Francisco", "United States"), ("SEA", "Seattle", "United States"),
    ("MIA", "Miami", "United States"), ("BOS", "Boston", "United States"), ("DEN", "Denver", "United States"),
    ("YYZ", "Toronto", "Canada"), ("YVR", "Vancouver", "Canada"), ("MEX", "Mexico City", "Mexico"),
    ("LHR", "London", "United Kingdom"), ("CDG", "Paris", "France"), ("FRA", "Frankfurt", "Germany"),
    ("AMS", "Amsterdam", "Netherlands"), ("MAD", "Madrid", "Spain"), ("FCO", "Rome", "Italy"),
    ("DUB", "Dublin", "Ireland"), ("ZRH", "Zurich", "Switzerland"), ("IST", "Istanbul", "Turkey"),
    ("DXB", "Dubai", "United Arab Emirates"), ("DOH", "Doha", "Qatar"), ("SIN", "Singapore", "Singapore"),
    ("HND", "Tokyo", "Japan"), ("ICN", "Seoul", "South Korea"), ("HKG", "Hong Kong", "China"),
    ("SYD", "Sydney", "Australia"), ("GRU", "Sao Paulo", "Brazil"), ("JNB", "Johannesburg", "South Africa"),
)  # fmt: skip

AIRLINE = DomainSpec(
    name="airline",
    description="An airline: airports, aircraft, scheduled flights, passengers and bookings.",
    keywords=["airline", "airlines", "flight", "flights", "airport", "airports", "aircraft", "plane", "planes",
              "passenger", "passengers", "booking", "bookings", "ticket", "tickets", "travel", "aviation", "pilot"],
    tables=[
        table("airport", 30,
              pk_col("airport_id"),
              col("iata_code", "text", "each", unique=True, values=[a[0] for a in _AIRPORTS]),
              col("city", "text", "each", values=[a[1] for a in _AIRPORTS]),
              col("country", "text", "each", values=[a[2] for a in _AIRPORTS]),
              col("name", "text", "template", format="{city} International Airport"),
              col("runways", "integer", "int", low=1, high=6, dist="triangular", mode=2)),
        table("aircraft", 85,
              pk_col("aircraft_id"),
              col("tail_number", "text", "pattern", unique=True, pattern="N###@@"),
              col("model", "text", "choice", values=["A320", "A321", "B737-800", "B787-9", "A350-900", "E190",
                                                     "B777-300ER", "A220-300"], weights=[22, 14, 24, 9, 7, 10, 6, 8]),
              col("seats", "integer", "map", column="model", values={
                  "A320": [150, 180], "A321": [185, 220], "B737-800": [160, 189], "B787-9": [250, 296],
                  "A350-900": [300, 325], "E190": [96, 114], "B777-300ER": [340, 396], "A220-300": [120, 145]}),
              col("manufacture_year", "integer", "int", low=1998, high=2023),
              col("status", "text", "choice", values=["active", "maintenance", "retired"], weights=[85, 10, 5])),
        table("flight", 3200,
              pk_col("flight_id"),
              col("flight_number", "text", "pattern", pattern="SF###"),
              fk("origin_airport_id", "airport.airport_id", skew=1.0),
              fk("destination_airport_id", "airport.airport_id", skew=1.0, distinct_from="origin_airport_id"),
              fk("aircraft_id", "aircraft.aircraft_id", skew=0.3),
              col("scheduled_departure", "datetime", "datetime", start="2022-01-01", end="2024-12-31", hours=[5, 23]),
              col("scheduled_arrival", "datetime", "datetime_after", column="scheduled_departure", min_hours=1,
                  max_hours=15),
              col("status", "text", "choice", values=["On Time", "Delayed", "Cancelled", "Diverted"],
                  weights=[72, 22, 5, 1]),
              col("delay_minutes", "integer", "map", null=True, column="status", values={
                  "On Time": [0, 10], "Delayed": [15, 420], "Cancelled": None, "Diverted": [30, 300]})),
        table("passenger", 2600,
              pk_col("passenger_id"),
              col("first_name", "text", "first_name"),
              col("last_name", "text", "last_name"),
              col("birth_date", "date", "date", start="1940-01-01", end="2020-12-31"),
              col("nationality", "text", "country"),
              col("email", "text", "email", null=0.1, unique=True, domain="mail.example"),
              col("frequent_flyer_tier", "text", "choice", null=0.6, values=["Silver", "Gold", "Platinum"],
                  weights=[60, 30, 10])),
        table("booking", 7500,
              pk_col("booking_id"),
              fk("passenger_id", "passenger.passenger_id", skew=0.8),
              fk("flight_id", "flight.flight_id", skew=0.4),
              col("cabin", "text", "choice", values=["Economy", "Premium Economy", "Business", "First"],
                  weights=[74, 12, 11, 3]),
              col("seat", "text", "pattern", null=0.04, pattern="[1234]#[ABCDEF]"),
              col("price", "real", "map", column="cabin", values={
                  "Economy": [59.0, 780.0], "Premium Economy": [300.0, 1500.0], "Business": [900.0, 5200.0],
                  "First": [2500.0, 12000.0]}),
              col("booked_at", "datetime", "datetime_before", via="flight_id", column="scheduled_departure",
                  min_hours=2, max_hours=24 * 150),
              col("checked_in", "boolean", "bool", p=0.78)),
    ],
)  # fmt: skip

_CATEGORIES = ["Electronics", "Books", "Clothing", "Home & Kitchen", "Sports", "Toys", "Beauty", "Grocery", "Garden",
               "Automotive", "Office", "Music"]  # fmt: skip
_PRODUCT_NOUNS = (
    "Headphones|Blender|Backpack|Lamp|Sneakers|Jacket|Kettle|Speaker|Notebook|Monitor|Keyboard|Mouse|Tent|"
    "Yoga Mat|Water Bottle|Board Game|Puzzle|Shampoo|Face Cream|Coffee Beans|Olive Oil|Garden Hose|Drill|"
    "Car Charger|Desk Chair|Stapler|Guitar Strings|Vinyl Record|Novel|Cookbook|Watch|Sunglasses|Scarf|Mug"
).split("|")

RETAIL = DomainSpec(
    name="retail",
    description="An online shop: product categories, suppliers, products, customers, orders, order lines and reviews.",
    keywords=["retail", "shop", "store", "stores", "e-commerce", "ecommerce", "online shop", "product", "products",
              "order", "orders", "customer", "customers", "sales", "sale", "supplier", "suppliers", "inventory",
              "cart", "purchase", "purchases", "marketplace"],
    tables=[
        table("category", 12,
              pk_col("category_id"),
              col("name", "text", "each", unique=True, values=_CATEGORIES),
              col("is_seasonal", "boolean", "bool", p=0.2)),
        table("supplier", 45,
              pk_col("supplier_id"),
              col("name", "text", "company", unique=True),
              col("country", "text", "country"),
              col("contact_email", "text", "email", null=0.1, domain="supplier.example"),
              col("rating", "real", "real", null=0.15, low=1.0, high=5.0, dist="triangular", mode=4.2, decimals=1)),
        table("product", 650,
              pk_col("product_id"),
              col("name", "text", "template", format="{brand} {noun}", brand=["Acme", "Nordic", "Urban", "Peak",
                  "Lumen", "Orbit", "Vela", "Kite", "Cobalt", "Maple"], noun=_PRODUCT_NOUNS),
              col("sku", "text", "pattern", unique=True, pattern="@@-#####"),
              fk("category_id", "category.category_id", skew=0.8),
              fk("supplier_id", "supplier.supplier_id", skew=0.9),
              col("unit_price", "real", "money", low=2.5, high=1800),
              col("stock_quantity", "integer", "int", low=0, high=900, dist="pareto", alpha=1.3),
              col("launched_on", "date", "date", start="2016-01-01", end="2024-10-31"),
              col("is_discontinued", "boolean", "bool", p=0.07)),
        table("customer", 2100,
              pk_col("customer_id"),
              col("first_name", "text", "first_name"),
              col("last_name", "text", "last_name"),
              col("email", "text", "email", null=0.05, unique=True, domain="shopper.example"),
              col("city", "text", "city"),
              col("country", "text", "country"),
              col("signup_date", "date", "date", start="2016-01-01", end="2024-12-31"),
              col("loyalty_tier", "text", "choice", null=0.55, values=["bronze", "silver", "gold"], weights=[55, 33, 12])),
        table("orders", 4200,
              pk_col("order_id"),
              fk("customer_id", "customer.customer_id", skew=0.9),
              col("ordered_at", "datetime", "datetime", start="2019-01-01", end="2024-12-31", hours=[0, 23]),
              col("status", "text", "choice", values=["delivered", "shipped", "processing", "cancelled", "returned"],
                  weights=[70, 10, 6, 8, 6]),
              col("payment_method", "text", "choice", values=["card", "paypal", "bank transfer", "gift card"],
                  weights=[62, 25, 8, 5]),
              col("shipping_city", "text", "lookup", via="customer_id", column="city"),
              col("shipping_fee", "real", "choice", values=[0.0, 2.99, 4.99, 9.99], weights=[40, 25, 25, 10])),
        table("order_item", 9600,
              fk("order_id", "orders.order_id", skew=0.2),
              col("line_no", "integer", "seq_in_parent", parent="order_id"),
              fk("product_id", "product.product_id", skew=1.0),
              col("quantity", "integer", "int", low=1, high=12, dist="pareto", alpha=2.2),
              col("unit_price", "real", "lookup", via="product_id", column="unit_price"),
              col("discount", "real", "choice", null=0.8, values=[0.05, 0.1, 0.15, 0.2, 0.3]),
              pk=["order_id", "line_no"]),
        table("review", 1700,
              pk_col("review_id"),
              fk("product_id", "product.product_id", skew=1.1),
              fk("customer_id", "customer.customer_id", skew=0.7),
              col("rating", "integer", "choice", values=[1, 2, 3, 4, 5], weights=[6, 7, 14, 33, 40]),
              col("comment", "text", "sentence", null=0.45, phrases=[
                  "Works as described.", "Arrived late but fine.", "Great value for money.", "Stopped working after a week.",
                  "Better than expected.", "Would buy again.", "The colour is different from the photo.", "Too small."]),
              col("reviewed_on", "date", "date", start="2019-02-01", end="2024-12-31")),
    ],
)  # fmt: skip

_BRANCHES = ["Central Library", "Riverside Branch", "Hillcrest Branch", "Old Town Branch", "Harbor Branch",
             "University Branch", "Northgate Branch", "Maple Park Branch", "Eastside Branch", "Westfield Branch"]  # fmt: skip

LIBRARY = DomainSpec(
    name="library",
    description="A public library network: branches, authors, books, physical copies, members and loans.",
    keywords=["library", "libraries", "book", "books", "author", "authors", "loan", "loans", "borrow", "borrowing",
              "member", "members", "copy", "copies", "librarian", "catalog", "catalogue", "reader", "readers"],
    tables=[
        table("branch", 10,
              pk_col("branch_id"),
              col("name", "text", "each", unique=True, values=_BRANCHES),
              col("city", "text", "choice", values=["Springfield", "Riverton", "Lakeside"], weights=[60, 25, 15]),
              col("opened_year", "integer", "int", low=1905, high=2018),
              col("floor_area_m2", "integer", "int", null=0.1, low=300, high=9000, dist="pareto", alpha=1.5)),
        table("author", 420,
              pk_col("author_id"),
              col("first_name", "text", "first_name"),
              col("last_name", "text", "last_name"),
              col("birth_year", "integer", "int", null=0.15, low=1800, high=1998, dist="triangular", mode=1960),
              col("nationality", "text", "country", null=0.1)),
        table("book", 1600,
              pk_col("book_id"),
              col("title", "text", "title"),
              fk("author_id", "author.author_id", skew=0.8),
              col("isbn", "text", "pattern", unique=True, pattern="978-#-###-#####-#"),
              col("genre", "text", "choice", skew=0.9, values=["Fiction", "Mystery", "Science Fiction", "Fantasy",
                  "Biography", "History", "Science", "Children", "Poetry", "Romance", "Travel", "Cooking"]),
              col("published_year", "integer", "int", low=1900, high=2024, dist="triangular", mode=2015),
              col("pages", "integer", "int", null=0.05, low=48, high=950, dist="triangular", mode=320),
              col("language", "text", "choice", values=["English", "Spanish", "French", "German", "Italian"],
                  weights=[78, 8, 6, 5, 3])),
        table("book_copy", 3600,
              pk_col("copy_id"),
              fk("book_id", "book.book_id", skew=0.6),
              fk("branch_id", "branch.branch_id", skew=0.7),
              col("acquired_on", "date", "date", start="2005-01-01", end="2024-06-30"),
              col("physical_condition", "text", "choice", values=["new", "good", "worn", "damaged"], weights=[20, 50, 24, 6]),
              col("is_reference_only", "boolean", "bool", p=0.05)),
        table("member", 1600,
              pk_col("member_id"),
              col("first_name", "text", "first_name"),
              col("last_name", "text", "last_name"),
              col("email", "text", "email", null=0.12, unique=True, domain="readers.example"),
              col("birth_date", "date", "date", null=0.2, start="1940-01-01", end="2016-12-31"),
              col("joined_on", "date", "date", start="2008-01-01", end="2024-12-31"),
              col("membership_type", "text", "choice", values=["standard", "student", "senior", "family"],
                  weights=[55, 20, 15, 10])),
        table("loan", 6200,
              pk_col("loan_id"),
              fk("copy_id", "book_copy.copy_id", skew=0.8),
              fk("member_id", "member.member_id", skew=0.8),
              col("loaned_on", "date", "date", start="2018-01-01", end="2024-12-20"),
              col("due_on", "date", "date_after", column="loaned_on", min_days=14, max_days=28),
              col("returned_on", "date", "date_after", null=0.08, column="loaned_on", min_days=1, max_days=60),
              col("fine_amount", "real", "real", null=0.75, low=0.5, high=25.0, decimals=2)),
    ],
)  # fmt: skip

_TEAMS = (  # name, city, stadium
    ("Harbor City Hawks", "Harbor City", "Bayfront Arena"), ("Northfield Wolves", "Northfield", "Pine Stadium"),
    ("Riverton Rovers", "Riverton", "Riverside Park"), ("Lakeside United", "Lakeside", "Lakeside Ground"),
    ("Ironport Miners", "Ironport", "The Foundry"), ("Summit Eagles", "Summit", "Eagle's Nest"),
    ("Westbridge Athletic", "Westbridge", "Bridge Road"), ("Eastwood Rangers", "Eastwood", "Oak Lane"),
    ("Southport Sailors", "Southport", "Harbour Field"), ("Granite Falls FC", "Granite Falls", "Falls Stadium"),
    ("Kingsbury Royals", "Kingsbury", "Crown Park"), ("Millbrook Comets", "Millbrook", "Millbrook Bowl"),
    ("Cedar Valley Stags", "Cedar Valley", "Valley Arena"), ("Redcliff Foxes", "Redcliff", "Cliffside Ground"),
    ("Stonehaven Titans", "Stonehaven", "Titan Dome"), ("Brightwater City", "Brightwater", "Waterside Stadium"),
)  # fmt: skip

SPORTS = DomainSpec(
    name="sports_league",
    description="A football (soccer) league: teams, players, seasons, games (matches) and goals.",
    keywords=["sports", "sport", "league", "team", "teams", "player", "players", "match", "matches", "game", "games",
              "season", "seasons", "goal", "goals", "football", "soccer", "coach", "tournament", "score", "scores",
              "stadium"],
    tables=[
        table("team", 16,
              pk_col("team_id"),
              col("name", "text", "each", unique=True, values=[t[0] for t in _TEAMS]),
              col("city", "text", "each", values=[t[1] for t in _TEAMS]),
              col("stadium", "text", "each", values=[t[2] for t in _TEAMS]),
              col("founded_year", "integer", "int", low=1878, high=1995),
              col("coach_name", "text", "full_name")),
        table("player", 420,
              pk_col("player_id"),
              col("first_name", "text", "first_name"),
              col("last_name", "text", "last_name"),
              fk("team_id", "team.team_id", null=0.04, skew=0.0),
              col("position", "text", "choice", values=["Goalkeeper", "Defender", "Midfielder", "Forward"],
                  weights=[10, 34, 34, 22]),
              col("birth_date", "date", "date", start="1984-01-01", end="2006-12-31"),
              col("nationality", "text", "country"),
              col("jersey_number", "integer", "int", low=1, high=99),
              col("height_cm", "integer", "int", low=163, high=201, dist="normal", mu=181, sigma=7),
              col("annual_salary", "real", "money", null=0.05, low=40_000, high=9_000_000)),
        table("season", 10,
              pk_col("season_id"),
              col("year", "integer", "each", unique=True, values=list(range(2015, 2025))),
              col("name", "text", "template", format="Season {year}"),
              fk("champion_team_id", "team.team_id", null=0.1, skew=1.2)),
        table("game", 2400,
              pk_col("game_id"),
              fk("season_id", "season.season_id", skew=0.0),
              fk("home_team_id", "team.team_id", skew=0.0),
              fk("away_team_id", "team.team_id", skew=0.0, distinct_from="home_team_id"),
              col("played_on", "date", "date_in_year", via="season_id", column="year"),
              col("home_score", "integer", "choice", values=[0, 1, 2, 3, 4, 5, 6], weights=[22, 32, 24, 12, 6, 3, 1]),
              col("away_score", "integer", "choice", values=[0, 1, 2, 3, 4, 5], weights=[30, 34, 20, 10, 4, 2]),
              col("attendance", "integer", "int", null=0.05, low=3_000, high=62_000, dist="triangular", mode=18_000),
              col("referee", "text", "full_name")),
        table("goal", 5200,
              pk_col("goal_id"),
              fk("game_id", "game.game_id", skew=0.3),
              fk("player_id", "player.player_id", skew=1.0),
              col("minute", "integer", "int", low=1, high=94),
              col("is_penalty", "boolean", "bool", p=0.1),
              col("is_own_goal", "boolean", "bool", p=0.03)),
    ],
)  # fmt: skip

#: the built-in domains by name
BUILTIN_DOMAINS: dict[str, DomainSpec] = {
    d.name: d for d in (HOSPITAL, UNIVERSITY, AIRLINE, RETAIL, LIBRARY, SPORTS)
}
_ALIASES = {"sports": "sports_league", "league": "sports_league", "ecommerce": "retail", "e-commerce": "retail",
            "shop": "retail", "flights": "airline", "school": "university", "clinic": "hospital"}  # fmt: skip


def get_domain(name: str) -> DomainSpec:
    """A built-in domain by name (or a common alias), or :class:`UnknownDomainError`."""
    key = name.strip().lower().replace(" ", "_")
    key = _ALIASES.get(key, key)
    try:
        return BUILTIN_DOMAINS[key]
    except KeyError:
        raise UnknownDomainError(
            f"no built-in domain named {name!r}: use one of {', '.join(BUILTIN_DOMAINS)} or describe the domain"
        ) from None


__all__ = [
    "BUILTIN_DOMAINS",
    "COLUMN_TYPES",
    "ColumnSpec",
    "DomainSpec",
    "DomainSpecError",
    "TableSpec",
    "UnknownDomainError",
    "col",
    "fk",
    "get_domain",
    "spec_from_dict",
    "table",
    "table_order",
    "validate_spec",
]
