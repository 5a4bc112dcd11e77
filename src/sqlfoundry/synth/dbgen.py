"""Build realistic SQLite databases from scratch: populate a :class:`~sqlfoundry.synth.domains.DomainSpec`
with rule-based value generators (skewed, FK-consistent, NULLs where declared), pick a built-in domain from
a description, or have an LLM design the schema and fill it with the same generators.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import math
import os
import random
import re
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SQLFoundryError
from .domains import (
    BUILTIN_DOMAINS,
    RESERVED_WORDS,
    ColumnSpec,
    DomainSpec,
    DomainSpecError,
    TableSpec,
    UnknownDomainError,
    get_domain,
    spec_from_dict,
    table_order,
)


class DatabaseExistsError(SQLFoundryError, FileExistsError):
    """The output file exists and ``overwrite`` was not given."""


# ------------------------------------------------------------------------------------------------
# Word lists
# ------------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "James Mary John Patricia Robert Jennifer Michael Linda William Elizabeth David Barbara Richard Susan "
    "Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy Matthew Lisa Anthony Margaret Mark Sandra Paul "
    "Ashley Steven Emily Andrew Donna Joshua Michelle Kevin Amanda Brian Melissa George Deborah Timothy "
    "Stephanie Ronald Rebecca Jason Laura Edward Helen Ryan Cynthia Jacob Amy Nicholas Angela Eric Anna "
    "Stephen Ruth Justin Nicole Brandon Samantha Benjamin Emma Samuel Rachel Alexander Olivia Tyler Sofia "
    "Lukas Chiara Matteo Ines Hugo Amelie Jonas Lucia Pierre Elena Mateo Freya Anders Yuki Hiroshi Aiko Wei "
    "Mei Arjun Priya Kwame Amara Santiago Valentina Olga Dmitri Fatima Omar Zara Noah Liam Mia Leila Tariq"
).split()
LAST_NAMES = (
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
    "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
    "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall "
    "Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins "
    "Reyes Stewart Morris Morales Murphy Cook Rogers Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Kim "
    "Patel Muller Schmidt Fischer Weber Rossi Russo Ferrari Dubois Moreau Laurent Jensen Nielsen Hansen "
    "Tanaka Suzuki Sato Wang Li Zhang Chen Singh Kumar Sharma Okafor Mensah Silva Santos Oliveira Novak"
).split()
#: (city, country, weight)
CITIES = (
    ("New York", "United States", 32), ("London", "United Kingdom", 30), ("Paris", "France", 22),
    ("Berlin", "Germany", 18), ("Chicago", "United States", 14), ("Toronto", "Canada", 12),
    ("Madrid", "Spain", 12), ("Sydney", "Australia", 11), ("Rome", "Italy", 10), ("Los Angeles", "United States", 16),
    ("Boston", "United States", 9), ("Manchester", "United Kingdom", 8), ("Melbourne", "Australia", 8),
    ("Barcelona", "Spain", 8), ("Amsterdam", "Netherlands", 7), ("Munich", "Germany", 7), ("Milan", "Italy", 7),
    ("Dublin", "Ireland", 6), ("Seattle", "United States", 6), ("Lyon", "France", 5), ("Vancouver", "Canada", 5),
    ("Tokyo", "Japan", 9), ("Seoul", "South Korea", 6), ("Mumbai", "India", 8), ("Sao Paulo", "Brazil", 7),
    ("Mexico City", "Mexico", 7), ("Stockholm", "Sweden", 4), ("Copenhagen", "Denmark", 4), ("Vienna", "Austria", 4),
    ("Lisbon", "Portugal", 3), ("Zurich", "Switzerland", 3), ("Oslo", "Norway", 2), ("Auckland", "New Zealand", 2),
    ("Cape Town", "South Africa", 3), ("Lagos", "Nigeria", 4), ("Singapore", "Singapore", 4),
)  # fmt: skip
COUNTRY_OF_CITY = {c: k for c, k, _ in CITIES}
ADJECTIVES = (
    "Silent Hidden Golden Broken Secret Lost Quiet Midnight Distant Crimson Forgotten Little Endless Wild Bright "
    "Dark Winter Summer Glass Iron Paper Silver Hollow Restless Gentle Northern Invisible Curious Final Wandering "
    "Sacred Bitter Electric Royal Blue Green Ancient Modern Grand"
).split()
NOUNS = (
    "River Garden House Shadow Kingdom Road Ocean Letter Mirror Forest Island City Storm Dream Promise Fire "
    "Mountain Bridge Library Song Clock Harbor Lantern Orchard Machine Empire Map Station Tide Crown Window "
    "Journey Silence Compass Archive Voyage Engine Valley Meadow"
).split()
STREETS = (
    "Main Oak Maple Cedar Elm Pine Lake Hill Park Church Mill River Station High Market King Queen".split()
)
STREET_KINDS = ("Street", "Avenue", "Road", "Lane", "Boulevard", "Drive")
COMPANY_WORDS = (
    "Acme Globex Initech Umbrella Stark Wayne Vertex Apex Summit Pioneer Horizon Nimbus Orion Atlas".split()
)
COMPANY_KINDS = ("Ltd", "Inc", "Group", "Holdings", "Partners", "Co", "Industries", "Trading")
SENTENCES = (
    "Needs follow-up.", "All good.", "Customer asked for a callback.", "Reviewed and approved.", "Pending check.",
    "Second request this month.", "Flagged for audit.", "Handled by the night shift.", "Priority case.",
    "Documentation incomplete.", "Resolved on first contact.", "Transferred from another site.",
)  # fmt: skip
DEFAULT_START = "2015-01-01"
DEFAULT_END = "2024-12-31"


# ------------------------------------------------------------------------------------------------
# Value generators
# ------------------------------------------------------------------------------------------------


@dataclass
class RowContext:
    """What a value generator sees: the random source, the row built so far (earlier columns), its
    index, and the rows of tables generated earlier (for lookups through foreign keys)."""

    rng: random.Random
    table: TableSpec
    index: int
    row: dict[str, Any]
    rows_by_key: dict[str, dict[Any, dict[str, Any]]]
    spec: DomainSpec
    state: dict[Any, Any] = field(default_factory=dict)

    def parent(self, fk_column: str) -> dict[str, Any] | None:
        """The row a foreign-key column of this row points to."""
        ref = self.table.column(fk_column).references
        if ref is None:
            raise DomainSpecError(f"table {self.table.name!r}: column {fk_column!r} is not a foreign key")
        value = self.row.get(fk_column)
        if value is None:
            return None
        return self.rows_by_key[_ref_index(self.spec, ref)].get(value)

    def base(self, args: dict[str, Any]) -> Any:
        """``args['column']`` of this row, or of the parent row through ``args['via']``."""
        if "via" in args:
            parent = self.parent(args["via"])
            return None if parent is None else parent.get(args["column"])
        return self.row.get(args["column"])


#: generator(ctx, column, args) -> value
ValueGenerator = Callable[[RowContext, ColumnSpec, dict[str, Any]], Any]
#: name → (generator, required argument names)
VALUE_GENERATORS: dict[str, tuple[ValueGenerator, tuple[str, ...]]] = {}


def register_value_generator(name: str, fn: ValueGenerator, required: tuple[str, ...] = ()) -> None:
    """Add a value generator usable as ``gen`` in a column spec."""
    VALUE_GENERATORS[name] = (fn, tuple(required))


def _gen(name: str, *required: str):
    def deco(fn: ValueGenerator) -> ValueGenerator:
        register_value_generator(name, fn, required)
        return fn

    return deco


class Weighted:
    """Reproducible weighted draws from a fixed list (cumulative weights + bisect)."""

    def __init__(self, items: list, weights: list[float]):
        self.items = items
        self.cum = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]

    @classmethod
    def zipf(cls, items: list, s: float) -> Weighted:
        return cls(items, [1.0 / (rank + 1) ** s for rank in range(len(items))])


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(str(text)[:10])


def _datetime(value: Any) -> dt.datetime:
    text = str(value)
    return (
        dt.datetime.fromisoformat(text) if len(text) > 10 else dt.datetime.combine(_date(text), dt.time(12))
    )


def _render_time(col: ColumnSpec, moment: dt.datetime) -> str:
    return (
        moment.date().isoformat() if col.type == "date" else moment.replace(microsecond=0).isoformat(sep=" ")
    )


@_gen("serial")
def _serial(ctx: RowContext, col: ColumnSpec, args: dict) -> int:
    return int(args.get("start", 1)) + ctx.index


@_gen("each", "values")
def _each(ctx: RowContext, col: ColumnSpec, args: dict) -> Any:
    values = args["values"]
    return values[ctx.index % len(values)]


@_gen("choice", "values")
def _choice(ctx: RowContext, col: ColumnSpec, args: dict) -> Any:
    key = ("choice", ctx.table.name, col.name)
    picker = ctx.state.get(key)
    if picker is None:
        values = list(args["values"])
        weights = args.get("weights")
        if weights is not None:
            if len(weights) != len(values) or any(w < 0 for w in weights) or not sum(weights):
                raise DomainSpecError(f"table {ctx.table.name!r}, column {col.name!r}: weights must be "
                                      "non-negative, as many as values, not all zero")  # fmt: skip
            picker = Weighted(values, list(map(float, weights)))
        elif col.skew:
            picker = Weighted.zipf(values, col.skew)
        else:
            picker = Weighted(values, [1.0] * len(values))
        ctx.state[key] = picker
    return picker.draw(ctx.rng)


@_gen("bool")
def _bool(ctx: RowContext, col: ColumnSpec, args: dict) -> int:
    return int(ctx.rng.random() < float(args.get("p", 0.5)))


def _number(rng: random.Random, args: dict) -> float:
    low, high = float(args.get("low", 0)), float(args.get("high", 1000))
    if high < low:
        raise DomainSpecError(f"high ({high}) is below low ({low})")
    dist = args.get("dist", "uniform")
    if dist == "uniform":
        return rng.uniform(low, high)
    if dist == "triangular":
        return rng.triangular(low, high, float(args.get("mode", (low + high) / 2)))
    if dist == "normal":
        mu = float(args.get("mu", (low + high) / 2))
        sigma = float(args.get("sigma", (high - low) / 6 or 1))
        return min(high, max(low, rng.gauss(mu, sigma)))
    if dist == "pareto":  # many small values, a long tail up to high
        return min(
            high, low + (rng.paretovariate(float(args.get("alpha", 1.5))) - 1.0) * max(1.0, (high - low) / 20)
        )
    if dist == "loguniform":
        lo = max(low, 1e-9)
        return math.exp(rng.uniform(math.log(lo), math.log(max(high, lo))))
    raise DomainSpecError(
        f"unknown distribution {dist!r}: use uniform, triangular, normal, pareto or loguniform"
    )


@_gen("int")
def _int(ctx: RowContext, col: ColumnSpec, args: dict) -> int:
    return int(round(_number(ctx.rng, args)))


@_gen("real")
def _real(ctx: RowContext, col: ColumnSpec, args: dict) -> float:
    return round(_number(ctx.rng, args), int(args.get("decimals", 2)))


@_gen("money")
def _money(ctx: RowContext, col: ColumnSpec, args: dict) -> float:
    """Prices and salaries: log-uniform between low and high, rounded to cents."""
    return round(_number(ctx.rng, {"dist": "loguniform", **args}), 2)


@_gen("year")
def _year(ctx: RowContext, col: ColumnSpec, args: dict) -> int:
    return int(round(_number(ctx.rng, {"low": 1950, "high": 2024, **args})))


@_gen("date")
def _date_gen(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    start, end = _date(args.get("start", DEFAULT_START)), _date(args.get("end", DEFAULT_END))
    day = start + dt.timedelta(days=ctx.rng.randint(0, max(0, (end - start).days)))
    if col.type == "datetime":
        return _render_time(
            col, dt.datetime.combine(day, dt.time(ctx.rng.randint(8, 19), ctx.rng.randrange(60)))
        )
    return day.isoformat()


@_gen("datetime")
def _datetime_gen(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    start, end = _date(args.get("start", DEFAULT_START)), _date(args.get("end", DEFAULT_END))
    lo, hi = args.get("hours", [8, 20])
    day = start + dt.timedelta(days=ctx.rng.randint(0, max(0, (end - start).days)))
    moment = dt.datetime.combine(
        day, dt.time(ctx.rng.randint(int(lo), int(hi)), ctx.rng.randrange(60), ctx.rng.randrange(60))
    )
    return _render_time(col, moment)


def _shifted(ctx: RowContext, col: ColumnSpec, args: dict, sign: int) -> str | None:
    base = ctx.base(args)
    if base is None:
        if not col.nullable:  # a NULL anchor: fall back to the default range rather than break NOT NULL
            return _datetime_gen(ctx, col, {})
        return None
    moment = _datetime(base)
    if "min_hours" in args or "max_hours" in args:
        delta = dt.timedelta(minutes=ctx.rng.randint(int(float(args.get("min_hours", 0)) * 60),
                                                     int(float(args.get("max_hours", 24)) * 60)))  # fmt: skip
    else:
        delta = dt.timedelta(
            days=ctx.rng.randint(int(args.get("min_days", 0)), int(args.get("max_days", 30)))
        )
        if col.type == "datetime":
            delta += dt.timedelta(minutes=ctx.rng.randrange(24 * 60))
    return _render_time(col, moment + sign * delta)


@_gen("date_after", "column")
def _date_after(ctx: RowContext, col: ColumnSpec, args: dict) -> str | None:
    return _shifted(ctx, col, args, +1)


@_gen("date_before", "column")
def _date_before(ctx: RowContext, col: ColumnSpec, args: dict) -> str | None:
    return _shifted(ctx, col, args, -1)


register_value_generator("datetime_after", _date_after, ("column",))
register_value_generator("datetime_before", _date_before, ("column",))


@_gen("date_in_year", "column")
def _date_in_year(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    year = ctx.base(args)
    year = int(year) if year is not None else ctx.rng.randint(2015, 2024)
    day = dt.date(year, 1, 1) + dt.timedelta(days=ctx.rng.randint(0, 364))
    return _render_time(col, dt.datetime.combine(day, dt.time(ctx.rng.randint(12, 21), 0)))


@_gen("first_name")
def _first_name(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    return ctx.rng.choice(FIRST_NAMES)


@_gen("last_name")
def _last_name(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    return ctx.rng.choice(LAST_NAMES)


@_gen("full_name")
def _full_name(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    return f"{ctx.rng.choice(FIRST_NAMES)} {ctx.rng.choice(LAST_NAMES)}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", ".", text.lower()).strip(".") or "user"


@_gen("email")
def _email(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    """From the row's name columns when it has them; the row number keeps addresses unique."""
    row = ctx.row
    first = next(
        (row[k] for k in ("first_name", "given_name", "firstname") if isinstance(row.get(k), str)), None
    )
    last = next(
        (row[k] for k in ("last_name", "surname", "family_name", "lastname") if isinstance(row.get(k), str)),
        None,
    )
    if first and last:
        local = f"{_slug(first)}.{_slug(last)}"
    else:
        named = next(
            (v for k, v in row.items() if isinstance(v, str) and (k == "name" or k.endswith("_name"))), None
        )
        local = _slug(named) if named else f"{ctx.table.name}"
    domain = args.get("domain") or ctx.rng.choice(("mail.example", "post.example", "inbox.example"))
    return f"{local}{ctx.index + 1}@{domain}"


@_gen("phone")
def _phone(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    r = ctx.rng
    return f"+1-{r.randint(201, 989)}-555-{r.randint(0, 9999):04d}"


_CITY_PICK = Weighted([c for c, _, _ in CITIES], [float(w) for _, _, w in CITIES])


@_gen("city")
def _city(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    if "values" in args:
        return ctx.rng.choice(list(args["values"]))
    return _CITY_PICK.draw(ctx.rng)


@_gen("country")
def _country(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    """The country of the row's city when it has one of ours; otherwise a population-weighted draw."""
    for key in ("city", "home_city", "city_name"):
        country = COUNTRY_OF_CITY.get(ctx.row.get(key))  # type: ignore[arg-type]
        if country:
            return country
    return COUNTRY_OF_CITY[_CITY_PICK.draw(ctx.rng)]


@_gen("address")
def _address(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    r = ctx.rng
    return f"{r.randint(1, 2999)} {r.choice(STREETS)} {r.choice(STREET_KINDS)}"


@_gen("postal_code")
def _postal(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    return f"{ctx.rng.randint(10000, 99999)}"


@_gen("company")
def _company(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    r = ctx.rng
    if r.random() < 0.5:
        return f"{r.choice(COMPANY_WORDS)} {r.choice(COMPANY_KINDS)}"
    return f"{r.choice(LAST_NAMES)} & {r.choice(LAST_NAMES)} {r.choice(COMPANY_KINDS)}"


@_gen("title")
def _title(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    r = ctx.rng
    adj, noun, noun2 = r.choice(ADJECTIVES), r.choice(NOUNS), r.choice(NOUNS)
    return (
        f"The {adj} {noun}",
        f"{noun} of {noun2}s",
        f"A {noun} for {r.choice(FIRST_NAMES)}",
        f"{adj} {noun}",
    )[r.randrange(4)]


@_gen("entity_name")
def _entity_name(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    """A name for a thing that is not a person: ``Northern Warehouse``, ``Morgan Warehouse``."""
    r = ctx.rng
    kind = args.get("noun") or ctx.table.name.replace("_", " ").title()
    first = r.choice(ADJECTIVES) if r.random() < 0.5 else r.choice(LAST_NAMES)
    return f"{first} {kind}"


@_gen("sentence")
def _sentence(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    return ctx.rng.choice(list(args.get("phrases") or SENTENCES))


@_gen("word")
def _word(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    return ctx.rng.choice(list(args.get("values") or NOUNS))


@_gen("pattern", "pattern")
def _pattern(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    """``#`` a digit, ``@`` an upper-case letter, ``[ABC]`` one of the characters; anything else literal."""
    r, out, text, i = ctx.rng, [], str(args["pattern"]), 0
    while i < len(text):
        ch = text[i]
        if ch == "#":
            out.append(str(r.randrange(10)))
        elif ch == "@":
            out.append(chr(65 + r.randrange(26)))
        elif ch == "[" and "]" in text[i:]:
            end = text.index("]", i)
            out.append(r.choice(text[i + 1 : end]))
            i = end
        else:
            out.append(ch)
        i += 1
    return "".join(out)


@_gen("template", "format")
def _template(ctx: RowContext, col: ColumnSpec, args: dict) -> str:
    """``format`` filled from the row's earlier columns and from list-valued args (one pick each)."""
    values = {k: ctx.rng.choice(v) for k, v in args.items() if isinstance(v, list) and v}
    try:
        return str(args["format"]).format(**{**ctx.row, **values})
    except (KeyError, IndexError) as exc:
        raise DomainSpecError(
            f"table {ctx.table.name!r}, column {col.name!r}: template names unknown field {exc}"
        ) from None


@_gen("lookup", "via", "column")
def _lookup(ctx: RowContext, col: ColumnSpec, args: dict) -> Any:
    return ctx.base(args)


@_gen("map", "column", "values")
def _map(ctx: RowContext, col: ColumnSpec, args: dict) -> Any:
    """A value that depends on another column: ``values[str(row[column])]`` is a fixed value, None, a
    ``[low, high]`` range (integers give integers) or a list of choices."""
    key = ctx.base(args)
    rule = args["values"].get(str(key), args.get("default"))
    if isinstance(rule, list):
        if len(rule) == 2 and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in rule):
            lo, hi = rule
            if isinstance(lo, int) and isinstance(hi, int) and col.type == "integer":
                return ctx.rng.randint(lo, hi)
            return round(ctx.rng.uniform(float(lo), float(hi)), int(args.get("decimals", 2)))
        return ctx.rng.choice(rule) if rule else None
    return rule


@_gen("seq_in_parent", "parent")
def _seq_in_parent(ctx: RowContext, col: ColumnSpec, args: dict) -> int:
    """1, 2, 3, ... per value of the ``parent`` column (order lines, episode numbers)."""
    key = ("seq", ctx.table.name, col.name, ctx.row.get(args["parent"]))
    ctx.state[key] = ctx.state.get(key, 0) + 1
    return ctx.state[key]


def _fk(ctx: RowContext, col: ColumnSpec, args: dict) -> Any:
    ref_table, _, ref_col = (col.references or "").partition(".")
    if ref_table == ctx.table.name:  # self-reference: an earlier row of this table
        earlier = ctx.state.get(("self", ctx.table.name), [])
        return ctx.rng.choice(earlier)[ref_col] if earlier else None
    key = ("fk", ctx.table.name, col.name)
    picker = ctx.state.get(key)
    if picker is None:
        keys = sorted(
            ctx.rows_by_key[_ref_index(ctx.spec, col.references or "")], key=lambda k: (str(type(k)), k)
        )
        if not keys:
            raise DomainSpecError(
                f"table {ctx.table.name!r}, column {col.name!r}: {ref_table!r} has no rows to reference"
            )
        order = list(keys)
        ctx.rng.shuffle(order)  # popularity must not follow the key order
        skew = 1.0 if col.skew is None else col.skew
        picker = Weighted.zipf(order, skew) if skew > 0 else Weighted(order, [1.0] * len(order))
        ctx.state[key] = picker
    value = picker.draw(ctx.rng)
    other = args.get("distinct_from")
    tries = 0
    while other is not None and value == ctx.row.get(other) and tries < 50:
        value = picker.draw(ctx.rng)
        tries += 1
    return value


register_value_generator("fk", _fk)


def _ref_index(spec: DomainSpec, ref: str) -> str:
    """Key of ``rows_by_key`` for a ``table.column`` target: the table for its primary key, else
    ``table.column`` (a unique column)."""
    ref_table, _, ref_col = ref.partition(".")
    return ref_table if spec.table(ref_table).primary_key == [ref_col] else ref


# ------------------------------------------------------------------------------------------------
# Generators chosen from column names and types (specs without ``gen``, e.g. designed by an LLM)
# ------------------------------------------------------------------------------------------------

_PERSON_TABLES = {
    "patient", "doctor", "nurse", "student", "instructor", "teacher", "professor", "customer", "client", "employee",
    "staff", "member", "player", "coach", "author", "passenger", "pilot", "user", "users", "person", "people",
    "reader", "guest", "driver", "agent", "artist", "musician", "actor", "volunteer", "donor", "tenant", "owner",
    "manager", "worker", "athlete", "physician", "contact", "subscriber", "applicant", "candidate", "lawyer",
}  # fmt: skip
_CHOICE_WORDS = {
    "gender": ["female", "male", "other"], "sex": ["female", "male"],
    "status": ["active", "inactive", "pending", "closed"],
    "priority": ["low", "medium", "high", "urgent"], "currency": ["USD", "EUR", "GBP", "JPY"],
    "payment_method": ["card", "cash", "transfer", "paypal"], "language": ["English", "Spanish", "French", "German"],
    "day_of_week": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "size": ["S", "M", "L", "XL"], "color": ["red", "blue", "green", "black", "white", "grey"],
    "colour": ["red", "blue", "green", "black", "white", "grey"], "blood_type": ["O+", "A+", "B+", "AB+", "O-", "A-"],
    "specialty": ["Cardiology", "Neurology", "Pediatrics", "Oncology", "Orthopedics", "Dermatology"],
    "specialization": ["Cardiology", "Neurology", "Pediatrics", "Oncology", "Orthopedics", "Dermatology"],
    "major": ["Computer Science", "Biology", "Economics", "History", "Mathematics", "Physics"],
    "genre": ["Fiction", "Mystery", "Science Fiction", "Fantasy", "Biography", "History"],
    "position": ["Goalkeeper", "Defender", "Midfielder", "Forward"], "role": ["admin", "editor", "viewer", "owner"],
    "department": ["Sales", "Engineering", "Finance", "Marketing", "Operations", "Support"],
    "cabin": ["Economy", "Premium Economy", "Business", "First"], "term": ["Fall", "Spring", "Summer"],
    "grade": ["A", "B", "C", "D", "F"], "tier": ["bronze", "silver", "gold", "platinum"],
    "weather": ["sunny", "cloudy", "rainy", "snowy"], "region": ["North", "South", "East", "West", "Central"],
    "state": ["CA", "NY", "TX", "FL", "IL", "WA", "MA"], "method": ["online", "in person", "phone"],
}  # fmt: skip
_CATEGORY_SUFFIXES = (
    "type",
    "category",
    "kind",
    "class",
    "level",
    "tier",
    "stage",
    "mode",
    "channel",
    "segment",
)
_MONEY_WORDS = {
    "salary": (25_000, 250_000), "wage": (20_000, 120_000), "income": (15_000, 300_000), "budget": (10_000, 5_000_000),
    "revenue": (1_000, 2_000_000), "price": (1, 2000), "cost": (1, 5000), "amount": (1, 5000), "fee": (5, 800),
    "total": (5, 10_000), "balance": (-2000, 50_000), "payment": (5, 5000), "fare": (30, 2500), "rent": (300, 6000),
    "charge": (5, 3000), "value": (1, 10_000), "spend": (1, 5000), "tax": (0, 900), "discount": (0, 200),
}  # fmt: skip


def infer_generator(table: TableSpec, col: ColumnSpec) -> tuple[str, dict[str, Any]]:
    """The generator and args for a column declared without one, from its name and type."""
    n, t = col.name.lower(), col.type
    words = set(n.split("_"))
    person = table.name.lower().rstrip("s") in _PERSON_TABLES or table.name.lower() in _PERSON_TABLES
    if col.references:
        return "fk", {}
    if table.primary_key == [col.name]:
        return ("serial", {}) if t == "integer" else ("pattern", {"pattern": "@@-#####"})
    if (
        t == "boolean"
        or n.startswith(("is_", "has_", "can_", "was_"))
        or n in ("active", "enabled", "verified")
    ):
        return "bool", {"p": 0.3 if n.startswith(("is_deleted", "is_cancel")) else 0.6}
    if t in ("date", "datetime"):
        if words & {"birth", "dob", "born", "birthday"} or n == "dob":
            return "date", {"start": "1940-01-01", "end": "2010-12-31"}
        if words & {"end", "discharge", "discharged", "return", "returned", "due", "closed", "finished", "completed",
                    "arrival", "checkout"}:  # fmt: skip
            anchor = _earlier_time_column(table, col)
            if anchor:
                return "date_after", {"column": anchor, "min_days": 1, "max_days": 30}
        return ("datetime", {}) if t == "datetime" else ("date", {})
    if t == "text":
        if n in ("first_name", "firstname", "given_name", "forename"):
            return "first_name", {}
        if n in ("last_name", "lastname", "surname", "family_name"):
            return "last_name", {}
        if "email" in n:
            return "email", {}
        if words & {"phone", "mobile", "telephone", "tel", "fax"}:
            return "phone", {}
        if words & {"address", "street"}:
            return "address", {}
        if words & {"zip", "postal", "postcode"}:
            return "postal_code", {}
        if "city" in words or n == "town":
            return "city", {}
        if words & {"country", "nationality"}:
            return "country", {}
        if words & {"company", "employer", "manufacturer", "supplier", "vendor", "publisher", "brand"}:
            return "company", {}
        if n in ("name", "full_name", "fullname") or n.endswith("_name"):
            if person and n in ("name", "full_name", "fullname"):
                return "full_name", {}
            if words & {"coach", "manager", "contact", "owner", "doctor", "author", "referee", "player"}:
                return "full_name", {}
            return "entity_name", {"noun": _title_case(table.name)} if n == "name" else {
                "noun": _title_case(n.removesuffix("_name"))
            }
        if words & {"title", "headline"}:
            return "title", {}
        if words & {"description", "notes", "note", "comment", "comments", "remarks", "bio", "summary", "text",
                    "details", "reason", "message", "feedback", "review"}:  # fmt: skip
            return "sentence", {}
        if words & {"code", "sku", "isbn", "number", "reference", "serial", "plate", "tail", "ref", "id"}:
            return "pattern", {"pattern": "@@@-####"}
        if words & {"url", "website", "homepage", "link"}:
            return "template", {"format": "https://www.{w}.example", "w": [w.lower() for w in COMPANY_WORDS]}
        for key, values in _CHOICE_WORDS.items():
            if n == key or n.endswith("_" + key) or key in words:
                return "choice", {"values": values}
        if any(n.endswith(s) or n == s for s in _CATEGORY_SUFFIXES):
            base = _title_case(n.rsplit("_", 1)[0]) if "_" in n else "Type"
            return "choice", {"values": [f"{base} {x}" for x in ("A", "B", "C", "D", "E")]}
        return "word", {}
    # numbers
    for key, (lo, hi) in _MONEY_WORDS.items():
        if key in words or n.endswith(key):
            return "money", {"low": max(lo, 0.01), "high": hi} if lo > 0 else {"low": 1, "high": hi}
    if "age" in words:
        return "int", {"low": 18 if person else 0, "high": 90 if person else 60}
    if words & {"year", "yr"} or n.endswith("_year"):
        return "int", {"low": 1950, "high": 2024, "dist": "triangular", "mode": 2015}
    if words & {"rating", "stars"}:
        if t == "real":
            return "real", {"low": 1.0, "high": 5.0, "dist": "triangular", "mode": 4.2, "decimals": 1}
        return "choice", {"values": [1, 2, 3, 4, 5], "weights": [5, 8, 17, 35, 35]}
    if words & {"score", "points", "percent", "percentage", "pct"}:
        return (
            ("real", {"low": 0, "high": 100, "decimals": 1})
            if t == "real"
            else ("int", {"low": 0, "high": 100})
        )
    if words & {"gpa"}:
        return "real", {"low": 1.5, "high": 4.0, "dist": "triangular", "mode": 3.2, "decimals": 2}
    if words & {"rate", "ratio", "probability", "share"}:
        return "real", {"low": 0.0, "high": 1.0, "decimals": 3}
    if words & {"latitude", "lat"}:
        return "real", {"low": -60.0, "high": 70.0, "decimals": 5}
    if words & {"longitude", "lon", "lng"}:
        return "real", {"low": -180.0, "high": 180.0, "decimals": 5}
    if words & {"quantity", "qty", "count", "units", "copies", "stock", "number", "num", "visits", "goals"}:
        return "int", {"low": 0 if "stock" in words else 1, "high": 500, "dist": "pareto", "alpha": 1.6}
    if words & {"capacity", "seats", "beds"}:
        return "int", {"low": 10, "high": 500, "dist": "triangular", "mode": 60}
    if words & {"duration", "minutes", "mins", "length", "hours", "days"}:
        return "int", {"low": 1, "high": 240, "dist": "triangular", "mode": 45}
    if words & {"weight", "kg"}:
        return "real", {"low": 1.0, "high": 120.0, "decimals": 1}
    if words & {"height", "cm"}:
        return "int", {"low": 150, "high": 205, "dist": "normal", "mu": 172, "sigma": 10}
    if words & {"floor", "room", "level", "grade", "semester", "round", "week", "month", "day"}:
        return "int", {"low": 1, "high": 12}
    if t == "integer":
        return "int", {"low": 1, "high": 1000, "dist": "pareto", "alpha": 1.2}
    return "real", {"low": 0.0, "high": 1000.0, "dist": "triangular", "mode": 120.0}


def _title_case(name: str) -> str:
    return name.replace("_", " ").strip().title() or "Item"


def _earlier_time_column(table: TableSpec, col: ColumnSpec) -> str | None:
    earlier = []
    for c in table.columns:
        if c.name == col.name:
            break
        if c.type in ("date", "datetime"):
            earlier.append(c.name)
    return earlier[-1] if earlier else None


def resolve_generators(spec: DomainSpec) -> DomainSpec:
    """A copy of ``spec`` with a generator on every column (inferred where missing) and every generator
    checked: known name, required args present, referenced columns earlier in the row."""
    spec = spec.model_copy(deep=True)
    for t in spec.tables:
        seen: list[str] = []
        for c in t.columns:
            where = f"table {t.name!r}, column {c.name!r}"
            if c.gen is None:
                c.gen, inferred = infer_generator(t, c)
                c.args = {**inferred, **c.args}
            if c.gen not in VALUE_GENERATORS:
                raise DomainSpecError(
                    f"{where}: unknown value generator {c.gen!r} (known: {', '.join(sorted(VALUE_GENERATORS))})"
                )
            if c.gen == "fk" and not c.references:
                raise DomainSpecError(f"{where}: generator 'fk' needs references='table.column'")
            _, required = VALUE_GENERATORS[c.gen]
            missing = [a for a in required if a not in c.args]
            if missing:
                raise DomainSpecError(f"{where}: generator {c.gen!r} needs argument(s) {', '.join(missing)}")
            for key in ("column", "via", "parent", "distinct_from"):
                ref = c.args.get(key)
                if ref is None or (key == "column" and "via" in c.args):
                    continue
                if ref not in seen:
                    raise DomainSpecError(f"{where}: {key}={ref!r} must name an earlier column of {t.name!r}")
            if "via" in c.args:
                via_ref = t.column(c.args["via"]).references
                if not via_ref:
                    raise DomainSpecError(f"{where}: via={c.args['via']!r} must be a foreign-key column")
                parent = spec.table(via_ref.partition(".")[0])
                if c.args.get("column") not in {x.name for x in parent.columns}:
                    raise DomainSpecError(
                        f"{where}: column={c.args.get('column')!r} is not a column of {parent.name!r}"
                    )
            if c.gen in ("choice", "each") and not c.args.get("values"):
                raise DomainSpecError(f"{where}: generator {c.gen!r} needs a non-empty values list")
            seen.append(c.name)
    return spec


# ------------------------------------------------------------------------------------------------
# Building a database
# ------------------------------------------------------------------------------------------------

#: scaling down never leaves a table with fewer rows than this (lookup tables stay usable)
MIN_SCALED_ROWS = 10

_SQL_TYPES = {"integer": "INTEGER", "real": "REAL", "text": "TEXT", "date": "DATE", "datetime": "DATETIME",
              "boolean": "BOOLEAN"}  # fmt: skip


def spec_to_ddl(spec: DomainSpec) -> str:
    """CREATE TABLE statements for a spec (tables in dependency order)."""
    out = []
    for t in table_order(spec):
        lines = []
        single_pk = t.primary_key[0] if len(t.primary_key) == 1 else None
        for c in t.columns:
            text = f"    {c.name} {_SQL_TYPES[c.type]}"
            if c.name == single_pk:
                text += " PRIMARY KEY"
            elif not c.nullable:
                text += " NOT NULL"
            if c.unique and c.name != single_pk:
                text += " UNIQUE"
            lines.append(text)
        if single_pk is None:
            lines.append(f"    PRIMARY KEY ({', '.join(t.primary_key)})")
        for c in t.columns:
            if c.references:
                ref_table, _, ref_col = c.references.partition(".")
                lines.append(f"    FOREIGN KEY ({c.name}) REFERENCES {ref_table} ({ref_col})")
        out.append(f"CREATE TABLE {t.name} (\n" + ",\n".join(lines) + "\n);")
    return "\n".join(out) + "\n"


def target_rows(spec: DomainSpec, scale: float = 1.0) -> dict[str, int]:
    """Rows per table at ``scale``: the declared count (when none: 120 for tables without foreign keys,
    400 for tables that have and are referenced, 1500 for leaf tables) times ``scale``, but never fewer
    than :data:`MIN_SCALED_ROWS` (or the declared count when smaller);
    capped by the distinct values of unique ``each``/``choice`` columns and, for composite keys made of
    foreign keys, by 60% of the possible key combinations."""
    referenced = {c.references.partition(".")[0] for t in spec.tables for c in t.columns if c.references}
    out: dict[str, int] = {}
    for t in table_order(spec):
        has_fk = any(c.references for c in t.columns)
        base = (
            t.rows
            if t.rows is not None
            else (1500 if has_fk and t.name not in referenced else 400 if has_fk else 120)
        )
        n = max(1, round(base * scale), min(base, MIN_SCALED_ROWS))
        for c in t.columns:
            if c.unique and c.gen == "each":
                n = min(n, len(c.args["values"]))
            if c.gen == "choice" and (c.unique or t.primary_key == [c.name]):
                n = min(n, len(set(map(repr, c.args["values"]))))
        pk_fks = [c for c in t.columns if c.name in t.primary_key and c.references and len(t.primary_key) > 1]
        if len(pk_fks) == len(t.primary_key) and pk_fks:
            capacity = math.prod(max(1, out.get(c.references.partition(".")[0], 1)) for c in pk_fks)  # type: ignore[union-attr]
            n = min(n, max(1, int(capacity * 0.6)))
        out[t.name] = n
    return out


def populate(spec: DomainSpec, seed: int = 0, scale: float = 1.0) -> dict[str, list[tuple]]:
    """Rows for every table of a (resolved) spec, as tuples in column order; same seed → same rows.

    Each table draws from its own random stream (seeded by seed and table name), so changing one
    table's spec leaves the rows of tables before it unchanged. Rows that would repeat a primary key or
    unique value are redrawn (up to 40 times) and otherwise skipped.
    """
    rows_by_key: dict[str, dict[Any, dict[str, Any]]] = {}
    result: dict[str, list[tuple]] = {}
    counts = target_rows(spec, scale)
    for t in table_order(spec):
        rng = random.Random(f"sqlfoundry-dbgen:{seed}:{spec.name}:{t.name}")
        state: dict[Any, Any] = {}
        uniques = {c.name: set() for c in t.columns if c.unique}
        keys: set[tuple] = set()
        generated: list[dict[str, Any]] = []
        fns = [(c, VALUE_GENERATORS[c.gen][0], c.effective_null_rate) for c in t.columns]  # type: ignore[index]
        target = counts[t.name]
        misses = 0  # consecutive redraws: a table that cannot find fresh keys stops short
        while len(generated) < target and misses < 200:
            ctx = RowContext(
                rng=rng,
                table=t,
                index=len(generated),
                row={},
                rows_by_key=rows_by_key,
                spec=spec,
                state=state,
            )
            for c, fn, null_rate in fns:
                if null_rate and rng.random() < null_rate:
                    ctx.row[c.name] = None
                else:
                    value = fn(ctx, c, c.args)
                    if value is None and not c.nullable:
                        raise DomainSpecError(f"table {t.name!r}, column {c.name!r}: generator {c.gen!r} gave NULL "
                                              "for a NOT NULL column; declare it nullable")  # fmt: skip
                    ctx.row[c.name] = value
            row = ctx.row
            key = tuple(row[k] for k in t.primary_key)
            if (
                None in key
                or key in keys
                or any(row[u] is not None and row[u] in seen for u, seen in uniques.items())
            ):
                misses += 1
                _undo_sequences(state, t, row)
                continue
            misses = 0
            keys.add(key)
            for u, seen in uniques.items():
                if row[u] is not None:
                    seen.add(row[u])
            generated.append(row)
            if any(c.references and c.references.partition(".")[0] == t.name for c in t.columns):
                state.setdefault(("self", t.name), []).append(row)
        if len(t.primary_key) == 1:
            rows_by_key[t.name] = {r[t.primary_key[0]]: r for r in generated}
        else:
            rows_by_key[t.name] = {}
        for c in t.columns:  # unique columns can be referenced too
            if c.unique and c.name not in t.primary_key:
                rows_by_key.setdefault(
                    f"{t.name}.{c.name}", {r[c.name]: r for r in generated if r[c.name] is not None}
                )
        result[t.name] = [tuple(r[c.name] for c in t.columns) for r in generated]
    return result


def _undo_sequences(state: dict, t: TableSpec, row: dict[str, Any]) -> None:
    for c in t.columns:
        if c.gen == "seq_in_parent":
            key = ("seq", t.name, c.name, row.get(c.args["parent"]))
            if state.get(key):
                state[key] -= 1


@dataclass
class DatabaseReport:
    """What :func:`generate_database` wrote."""

    path: Path
    domain: str
    seed: int
    scale: float
    rows: dict[str, int]
    spec: DomainSpec

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def generate_database(
    domain: DomainSpec | str,
    out_path: str | os.PathLike[str],
    seed: int = 0,
    scale: float = 1.0,
    overwrite: bool = False,
) -> DatabaseReport:
    """Build a SQLite database for ``domain`` (a spec, a built-in domain name, or a description matched
    by :func:`domain_from_text`) at ``out_path``.

    The same spec, seed and scale always give the same rows. The file is built under a temporary name
    next to ``out_path`` with foreign keys enforced, checked (``PRAGMA foreign_key_check`` and
    ``integrity_check``), and renamed into place only when complete.
    """
    if scale <= 0:
        raise DomainSpecError(f"scale must be positive, got {scale}")
    spec = domain if isinstance(domain, DomainSpec) else _named_or_described(domain)
    spec = resolve_generators(spec)
    target = Path(out_path)
    if target.exists() and not overwrite:
        raise DatabaseExistsError(
            f"{str(target)!r} already exists; pass overwrite=True (--overwrite) to replace it"
        )
    data = populate(spec, seed=seed, scale=scale)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        conn = sqlite3.connect(tmp)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.executescript(spec_to_ddl(spec))
            with conn:
                for t in table_order(spec):
                    rows = data[t.name]
                    if rows:
                        marks = ", ".join("?" * len(t.columns))
                        conn.executemany(f"INSERT INTO {t.name} VALUES ({marks})", rows)
            bad = conn.execute("PRAGMA foreign_key_check").fetchall()
            ok = conn.execute("PRAGMA integrity_check").fetchone()
            if bad or not ok or ok[0] != "ok":  # pragma: no cover - a generator bug, not a user error
                raise RuntimeError(f"generated database failed its checks: {bad[:5] or ok}")
        finally:
            conn.close()
        _publish(tmp, target, overwrite)
    finally:
        tmp.unlink(missing_ok=True)
    return DatabaseReport(path=target, domain=spec.name, seed=seed, scale=scale,
                          rows={t.name: len(data[t.name]) for t in spec.tables}, spec=spec)  # fmt: skip


def _publish(tmp: Path, target: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # atomic and refuses to replace a file created meanwhile
    except FileExistsError:
        raise DatabaseExistsError(
            f"{str(target)!r} already exists; pass overwrite=True (--overwrite) to replace it"
        ) from None
    except OSError:
        if target.exists():
            raise DatabaseExistsError(f"{str(target)!r} already exists") from None
        os.replace(tmp, target)


def _named_or_described(text: str) -> DomainSpec:
    try:
        return get_domain(text)
    except UnknownDomainError:
        return domain_from_text(text)


# ------------------------------------------------------------------------------------------------
# Choosing a domain from a description
# ------------------------------------------------------------------------------------------------


def domain_scores(description: str) -> dict[str, float]:
    """How well each built-in domain's keywords and table names match a free-text description."""
    words = re.findall(r"[a-z][a-z\-]+", description.lower())
    text = " ".join(words)
    scores: dict[str, float] = {}
    for name, spec in BUILTIN_DOMAINS.items():
        score = 0.0
        vocab = {k.lower() for k in spec.keywords} | {t.name.lower() for t in spec.tables}
        for k in vocab:
            if " " in k or "-" in k:
                score += 2.0 * text.count(k)
            else:
                score += sum(1.0 for w in words if w == k or (len(k) > 4 and w.rstrip("s") == k.rstrip("s")))
        if name.replace("_", " ") in text:
            score += 3.0
        scores[name] = score
    return scores


def domain_from_text(description: str) -> DomainSpec:
    """The built-in domain whose keywords best match ``description`` (ties go to the first listed), or
    :class:`UnknownDomainError` when no keyword matches at all."""
    scores = domain_scores(description)
    best = max(scores, key=lambda k: scores[k])
    if scores[best] <= 0:
        raise UnknownDomainError(
            f"no built-in domain matches {description!r}; use one of {', '.join(BUILTIN_DOMAINS)}, or pass an LLM "
            "(--llm-url/--llm-model) to design a schema for it"
        )
    return BUILTIN_DOMAINS[best]


# ------------------------------------------------------------------------------------------------
# LLM-designed schemas
# ------------------------------------------------------------------------------------------------

_DESIGN_SYSTEM = (
    "You are a database architect. You design clean, normalized relational schemas and answer in JSON only."
)

_DESIGN_PROMPT = """\
Design a relational database for this domain:

{description}

Answer with one JSON object and nothing else, in this shape:
{{
  "name": "snake_case_name",
  "tables": [
    {{
      "name": "snake_case_table",
      "rows": 500,
      "primary_key": ["table_id"],
      "columns": [
        {{"name": "table_id", "type": "integer"}},
        {{"name": "other_id", "type": "integer", "references": "other_table.other_id"}},
        {{"name": "status", "type": "text", "values": ["open", "closed"]}},
        {{"name": "note", "type": "text", "nullable": true}}
      ]
    }}
  ]
}}

Rules:
- 4 to 8 tables; snake_case names; no SQL keywords as names (use "orders", not "order"; "users", not "user").
- Column types: integer, real, text, date, datetime or boolean.
- Every table has a primary key. A foreign key ("references") points to the primary key of another table \
listed earlier and has the same type.
- "rows" is a realistic row count between 10 and 5000: lookup tables small, event tables large.
- "nullable": true only for optional information; "values" lists the allowed values of a categorical text column.
- Keys allowed in a column: name, type, nullable, references, unique, values, description.
"""

_LLM_COLUMN_KEYS = {
    "name",
    "type",
    "nullable",
    "references",
    "unique",
    "values",
    "description",
    "primary_key",
}
_LLM_TABLE_KEYS = {"name", "rows", "primary_key", "columns", "description"}


def extract_json_object(text: str) -> Any:
    """The first JSON object in a model answer (a ```json block or the first balanced ``{...}``)."""
    if not text or not text.strip():
        raise DomainSpecError("the LLM answered with nothing instead of a JSON schema")
    fenced = re.search(r"```(?:json)?\s*\n(.*?)```", text, re.S | re.I)
    candidate = fenced.group(1) if fenced else None
    if candidate is None:
        start = text.find("{")
        if start < 0:
            raise DomainSpecError(f"the LLM's answer holds no JSON object: {text[:120]!r}")
        depth, in_str, esc, end = 0, False, False, -1
        for i in range(start, len(text)):
            ch = text[i]
            if in_str:
                esc = (ch == "\\") and not esc
                if ch == '"' and not esc:
                    in_str = False
                continue
            if ch == '"':
                in_str = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    end = i + 1
                    break
        if end < 0:
            raise DomainSpecError("the LLM's JSON schema is cut off (unbalanced braces); raise max_tokens")
        candidate = text[start:end]
    try:
        return json.loads(candidate)
    except json.JSONDecodeError as exc:
        raise DomainSpecError(
            f"the LLM's schema is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def spec_from_llm_json(data: Any, source: str = "LLM schema") -> DomainSpec:
    """Check an LLM-designed schema strictly and turn it into a :class:`DomainSpec` (generators are
    inferred later from column names and types)."""
    if not isinstance(data, dict):
        raise DomainSpecError(
            f"{source}: expected a JSON object with 'name' and 'tables', got {type(data).__name__}"
        )
    unknown = set(data) - {"name", "tables", "description"}
    if unknown:
        raise DomainSpecError(f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))}")
    tables = data.get("tables")
    if not isinstance(tables, list) or not tables:
        raise DomainSpecError(f"{source}: 'tables' must be a non-empty list")
    out_tables = []
    for ti, t in enumerate(tables):
        if not isinstance(t, dict):
            raise DomainSpecError(f"{source}: tables[{ti}] is not an object")
        tname = t.get("name", f"#{ti}")
        bad = set(t) - _LLM_TABLE_KEYS
        if bad:
            raise DomainSpecError(f"{source}: table {tname!r}: unknown key(s) {', '.join(sorted(bad))}")
        cols = t.get("columns")
        if not isinstance(cols, list) or not cols:
            raise DomainSpecError(f"{source}: table {tname!r}: 'columns' must be a non-empty list")
        pk = t.get("primary_key") or []
        if isinstance(pk, str):
            pk = [pk]
        if not isinstance(pk, list) or not all(isinstance(k, str) for k in pk):
            raise DomainSpecError(f"{source}: table {tname!r}: primary_key must be a list of column names")
        out_cols = []
        for ci, c in enumerate(cols):
            if not isinstance(c, dict):
                raise DomainSpecError(f"{source}: table {tname!r}: columns[{ci}] is not an object")
            cname = c.get("name", f"#{ci}")
            bad = set(c) - _LLM_COLUMN_KEYS
            if bad:
                raise DomainSpecError(
                    f"{source}: table {tname!r}, column {cname!r}: unknown key(s) {', '.join(sorted(bad))}"
                )
            for key in ("nullable", "unique", "primary_key"):
                if key in c and not isinstance(c[key], bool):
                    raise DomainSpecError(
                        f"{source}: table {tname!r}, column {cname!r}: {key} must be true or false"
                    )
            if c.get("primary_key") and cname not in pk:
                pk.append(cname)
            col: dict[str, Any] = {
                k: c[k] for k in ("name", "type", "references", "description") if c.get(k) is not None
            }
            col["nullable"] = bool(c.get("nullable", False)) and cname not in pk
            col["unique"] = bool(c.get("unique", False))
            values = c.get("values")
            if values is not None:
                if (
                    not isinstance(values, list)
                    or not values
                    or not all(isinstance(v, (str, int, float)) for v in values)
                ):
                    raise DomainSpecError(
                        f"{source}: table {tname!r}, column {cname!r}: values must be a non-empty list of scalars"
                    )
                col["gen"], col["args"] = ("each" if col["unique"] else "choice"), {"values": values}
            out_cols.append(col)
        rows = t.get("rows")
        if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int)):
            raise DomainSpecError(f"{source}: table {tname!r}: rows must be an integer, got {rows!r}")
        out_tables.append({"name": tname, "columns": out_cols, "primary_key": pk, "description": t.get("description", ""),
                           **({"rows": min(max(rows, 1), 20_000)} if rows is not None else {})})  # fmt: skip
    name = re.sub(r"\W+", "_", str(data.get("name") or "designed")).strip("_").lower() or "designed"
    if name[0].isdigit() or name in RESERVED_WORDS:
        name = f"db_{name}"
    spec = spec_from_dict(
        {"name": name, "description": data.get("description", ""), "tables": out_tables},
        source,
    )
    return resolve_generators(spec)


def design_schema_with_llm(
    description: str, generator: Any, attempts: int = 2, max_tokens: int = 3000
) -> DomainSpec:
    """Ask an LLM (any :class:`~sqlfoundry.llm.base.Generator`) to design a schema for ``description``,
    check it strictly, and return a spec ready for :func:`generate_database`.

    A rejected answer is sent back with the problem for another try, ``attempts`` in all; the last
    problem is raised as :class:`DomainSpecError`.
    """
    messages = [{"role": "system", "content": _DESIGN_SYSTEM},
                {"role": "user", "content": _DESIGN_PROMPT.format(description=description.strip())}]  # fmt: skip
    error: DomainSpecError | None = None
    for _ in range(max(1, attempts)):
        answer = generator.generate([messages], n=1, temperature=0.2, max_tokens=max_tokens)[0]
        text = answer[0] if answer else ""
        try:
            return spec_from_llm_json(extract_json_object(text))
        except DomainSpecError as exc:
            error = exc
            messages = messages + [
                {"role": "assistant", "content": text},
                {
                    "role": "user",
                    "content": f"That schema was rejected: {exc}. Answer again with the corrected JSON only.",
                },
            ]
    assert error is not None
    raise DomainSpecError(
        f"the LLM did not design a usable schema after {max(1, attempts)} attempt(s): {error}"
    )


def describe_spec(spec: DomainSpec) -> str:
    """A plain-language summary: one line per table with its columns and foreign keys."""
    lines = [f"{spec.name}: {spec.description}".rstrip(": ")]
    for t in spec.tables:
        cols = ", ".join(c.name + (f" → {c.references}" if c.references else "") for c in t.columns)
        lines.append(f"- {t.name}({cols})")
    return "\n".join(lines)


__all__ = [
    "VALUE_GENERATORS",
    "DatabaseExistsError",
    "DatabaseReport",
    "RowContext",
    "describe_spec",
    "design_schema_with_llm",
    "domain_from_text",
    "domain_scores",
    "extract_json_object",
    "generate_database",
    "infer_generator",
    "populate",
    "register_value_generator",
    "resolve_generators",
    "spec_from_llm_json",
    "spec_to_ddl",
    "target_rows",
]
