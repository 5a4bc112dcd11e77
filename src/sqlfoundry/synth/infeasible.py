"""Questions a database cannot answer, labelled so a model learns to abstain (TrustSQL, R-Tuning).

Five TrustSQL categories: attributes the schema lacks (``column-surface`` variants of real columns,
``column-related`` plausible ones, ``column-unrelated`` ones from another domain), requests beyond
SQL (``non-sql``) and facts outside the data (``ext-know``). Every named attribute is checked absent.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..db.schema_model import Column, Schema, Table
from ..db.spider_tables import natural_name
from ..records import STYLES, Provenance, Record

#: TrustSQL's infeasible categories, as written to ``provenance.template``
INFEASIBLE_CATEGORIES = ("column-surface", "column-related", "column-unrelated", "non-sql", "ext-know")

#: words that do not identify an attribute on their own ("phone number" is identified by "phone")
_GENERIC = {
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "and", "or", "per", "by", "with", "its", "their",
    "number", "name", "date", "code", "type", "time", "period", "size", "count", "level", "rate", "value",
    "id", "no", "cost", "current", "each", "all", "every",
}  # fmt: skip

#: words that mean the same attribute; a synonym in the schema makes an attribute count as present
_SYNONYMS = [
    {"phone", "telephone", "tel", "mobile", "cell", "cellphone"},
    {"gender", "sex"},
    {"website", "url", "homepage", "web", "site", "domain"},
    {"zip", "postal", "postcode"},
    {"address", "street", "addr"},
    {"color", "colour"},
    {"weight", "mass", "kg"},
    {"rating", "stars", "star", "score", "rank"},
    {"nationality", "citizenship", "country", "nation"},
    {"barcode", "isbn", "ean", "upc", "sku"},
    {"description", "notes", "note", "comment", "comments", "details", "summary", "remarks"},
    {"photo", "picture", "image", "avatar"},
    {"hours", "schedule", "hour"},
    {"marital", "married", "spouse"},
    {"middle", "initial"},
    {"death", "died", "deceased"},
    {"email", "mail", "e-mail"},
    {"close", "closing", "closed", "closure"},
    {"shipping", "delivery", "shipment"},
    {"population", "inhabitants"},
    {"follower", "followers", "subscriber", "subscribers"},
    {"award", "prize", "awards", "prizes"},
]
_SYNONYM_OF = {w: group for group in _SYNONYMS for w in group}

#: attributes a table of each kind plausibly has (column-related) — checked absent before use
_RELATED: dict[str, list[str]] = {
    "person": [
        "phone number", "home address", "gender", "nationality", "marital status", "middle name",
        "emergency contact", "passport number", "shoe size", "favorite color",
    ],
    "place": [
        "phone number", "website", "opening hours", "postal code", "street address",
        "number of parking spaces", "monthly rent", "fax number", "wheelchair accessibility",
    ],
    "product": [
        "weight", "color", "warranty period", "barcode", "supplier", "shipping weight", "dimensions",
        "country of manufacture", "award",
    ],
    "event": [
        "delivery address", "shipping cost", "tracking number", "currency", "tip amount",
        "weather", "exchange rate", "sales tax",
    ],
    "generic": ["description", "website", "color", "photo", "owner", "last modified date"],
}  # fmt: skip

#: attributes from domains unrelated to any table kind (column-unrelated)
_UNRELATED = [
    "blood type", "horsepower", "wingspan", "boiling point", "orbital period", "jersey number",
    "calorie count", "wind speed", "battery capacity", "tire pressure", "alcohol content",
    "atomic number", "migration route", "hull length",
]  # fmt: skip

_PERSON_WORDS = {
    "person", "people", "customer", "client", "employee", "staff", "author", "student", "teacher",
    "user", "member", "singer", "player", "actor", "artist", "driver", "patient", "doctor", "writer",
    "manager", "owner", "director", "pilot", "host", "participant", "candidate", "musician",
}  # fmt: skip
_PLACE_WORDS = {
    "store", "shop", "branch", "company", "publisher", "school", "hospital", "restaurant", "airport",
    "hotel", "museum", "stadium", "university", "college", "office", "city", "venue", "library",
    "station", "club", "department", "bank", "warehouse", "location",
}  # fmt: skip
_PRODUCT_WORDS = {
    "book", "product", "item", "movie", "film", "song", "album", "car", "vehicle", "track", "game",
    "device", "phone", "course", "dish", "wine", "drug", "medicine", "ship", "aircraft", "camera",
}  # fmt: skip
_EVENT_WORDS = {
    "sale", "order", "payment", "transaction", "refund", "booking", "reservation", "flight", "visit",
    "invoice", "purchase", "shipment", "rental", "loan", "trip", "event", "concert", "match", "review",
}  # fmt: skip

#: (word in a column name, replacement) pairs that turn a real column into a near-miss (column-surface)
_SURFACE_SWAPS = {
    "first": "middle", "birth": "death", "opened": "closing", "open": "closing", "opening": "closing",
    "hire": "resignation", "hired": "resignation", "start": "end", "begin": "end", "home": "work",
    "primary": "secondary", "founded": "dissolution", "list": "wholesale", "unit": "wholesale",
    "floor": "parking", "gross": "net", "net": "gross", "min": "median", "max": "median",
    "joined": "cancellation", "published": "reprint", "departure": "boarding", "arrival": "boarding",
}  # fmt: skip
#: modifiers that make a plausible, unrecorded variant of any column: "previous city", "original title"
_SURFACE_PREFIXES = ("previous", "original", "preferred", "former")


@dataclass(frozen=True)
class _Context:
    schema: Schema
    table: Table
    singular: str
    plural: str
    kind: str


# ------------------------------------------------------------------------------------------------
# Vocabulary of the schema
# ------------------------------------------------------------------------------------------------


def _stem(word: str) -> str:
    w = word.lower()
    for suffix in ("ing", "ed", "es", "s"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix) and not w.endswith("ss"):
            return w[: -len(suffix)]
    return w


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", natural_name(text).lower())


def _variants(word: str) -> set[str]:
    """A word, its stem and its synonyms (and theirs)."""
    group = _SYNONYM_OF.get(word, {word}) | {word}
    return {_stem(w) for w in group} | group


def schema_vocabulary(schema: Schema) -> set[str]:
    """Every word (and stem and synonym) of every table and column name, original and natural."""
    vocab: set[str] = set()
    for table in schema.tables:
        names = [table.name, table.natural_name or ""]
        for col in table.columns:
            names += [col.name, col.natural_name or ""]
        for name in names:
            for word in _words(name):
                vocab |= _variants(word)
    return vocab


def attribute_absent(attribute: str, schema: Schema, ignore: Iterable[str] = ()) -> bool:
    """Whether the schema holds nothing that could be ``attribute``: none of its identifying words
    (those not in the generic list, nor in ``ignore``) nor their stems or synonyms names a table or
    column anywhere in the schema. An attribute with no identifying word is never absent."""
    vocab = schema_vocabulary(schema)
    skip = {w.lower() for w in ignore}
    keys = [w for w in _words(attribute) if w not in _GENERIC and w not in skip]
    if not keys:
        return False
    return not any(_variants(w) & vocab for w in keys)


def _plural(noun: str) -> str:
    words = noun.split()
    if not words:
        return noun
    last = words[-1]
    if re.search(r"[^aeiou]y$", last):
        last = last[:-1] + "ies"
    elif re.search(r"(s|x|z|ch|sh)$", last):
        last += "es"
    else:
        last += "s"
    return " ".join([*words[:-1], last])


def _singular(noun: str) -> str:
    """Spider names many tables in the plural ("airports", "countries"); questions need the singular."""
    words = noun.split()
    if not words:
        return noun
    last = words[-1]
    if len(last) > 4 and last.endswith("ies"):
        last = last[:-3] + "y"
    elif len(last) > 4 and re.search(r"(ss|x|z|ch|sh)es$", last):
        last = last[:-2]
    elif len(last) > 3 and last.endswith("s") and not re.search(r"(ss|us|is)$", last):
        last = last[:-1]
    return " ".join([*words[:-1], last])


def _table_kind(table: Table, singular: str) -> str:
    words = set(singular.split()) | {_stem(w) for w in singular.split()}
    columns = {w for c in table.columns for w in _words(c.name)}
    if words & _PERSON_WORDS or {"first", "last"} <= columns or "birth" in columns:
        return "person"
    if words & _EVENT_WORDS:
        return "event"
    if words & _PRODUCT_WORDS or columns & {"isbn", "price", "title", "pages"}:
        return "product"
    if words & _PLACE_WORDS or columns & {"city", "address", "country"}:
        return "place"
    return "generic"


def _is_key_only(table: Table) -> bool:
    """Link tables (every column a key) make odd subjects for questions."""
    fk_columns = {c.lower() for fk in table.foreign_keys for c in fk.columns}
    pk = {c.lower() for c in table.primary_key}
    return all(c.name.lower() in fk_columns | pk for c in table.columns)


def _contexts(schema: Schema) -> list[_Context]:
    out = []
    for table in schema.tables:
        if not table.columns or _is_key_only(table) or table.name.lower().startswith("sqlite_"):
            continue
        singular = _singular(table.natural_name or natural_name(table.name))
        out.append(_Context(schema, table, singular, _plural(singular), _table_kind(table, singular)))
    return out


def _column_label(col: Column) -> str:
    return col.natural_name or natural_name(col.name)


def _sample(
    ctx: _Context, rng: random.Random, types: Sequence[str] = ("text",)
) -> tuple[Column, object] | None:
    """A (column, value) pair of the table with a sample value, for "the X whose Y is V" phrasings."""
    choices = [c for c in ctx.table.columns if c.samples and _column_kind(c) in types and not c.primary_key]
    if not choices:
        return None
    col = rng.choice(choices)
    return col, rng.choice(col.samples)


_LONG_TEXT_WORDS = {
    "text",
    "notes",
    "note",
    "description",
    "comment",
    "comments",
    "review",
    "body",
    "content",
    "bio",
    "abstract",
    "summary",
}


def _column_kind(col: Column) -> str:
    """The column's inferred type, with text split into "long text" (prose) and "text"."""
    if col.inferred_type != "text":
        return col.inferred_type
    lengths = [len(v) for v in col.samples if isinstance(v, str)]
    if set(_words(col.name)) & _LONG_TEXT_WORDS or (lengths and sum(lengths) / len(lengths) >= 40):
        return "long text"
    return "text"


def _quote(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


# ------------------------------------------------------------------------------------------------
# Question phrasings of "the <attribute> of <table>" per style
# ------------------------------------------------------------------------------------------------

_ATTRIBUTE_TEMPLATES = {
    "formal": ["What is the {attr} of each {t}?", "Provide the {attr} of every {t}."],
    "colloquial": ["Can you tell me the {attr} of every {t}?", "What's the {attr} for each {t}?"],
    "imperative": ["List the {attr} of all {tp}.", "Show the {attr} of each {t}."],
    "interrogative": ["Which {attr} does each {t} have?", "What {attr} is recorded for each {t}?"],
    "concise": ["{Attr} of each {t}.", "{Attr} per {t}?"],
}
_ATTRIBUTE_FILTER_TEMPLATES = {
    "formal": "What is the {attr} of the {t} whose {col} is {val}?",
    "colloquial": "Could you find the {attr} of the {t} with {col} {val}?",
    "imperative": "Give the {attr} of the {t} whose {col} is {val}.",
    "interrogative": "Which {attr} does the {t} with {col} {val} have?",
    "concise": "{Attr} of the {t} with {col} {val}?",
}


def _attribute_question(ctx: _Context, attr: str, style: str, rng: random.Random) -> str:
    sample = _sample(ctx, rng) if rng.random() < 0.5 else None
    if sample is not None:
        col, val = sample
        text = _ATTRIBUTE_FILTER_TEMPLATES[style].format(
            attr=attr,
            Attr=attr[:1].upper() + attr[1:],
            t=ctx.singular,
            col=_column_label(col),
            val=_quote(val),
        )
    else:
        text = rng.choice(_ATTRIBUTE_TEMPLATES[style]).format(
            attr=attr, Attr=attr[:1].upper() + attr[1:], t=ctx.singular, tp=ctx.plural
        )
    return text


def _absent_attribute_cot(ctx: _Context, attr: str) -> str:
    cols = ", ".join(c.name for c in ctx.table.columns)
    return (
        f"The question asks for the {attr} of {ctx.plural}. The {ctx.table.name} table has the columns "
        f"{cols}, and no table in the database records a {attr}. The database does not hold this "
        "information, so no SQL query can answer the question."
    )


# ------------------------------------------------------------------------------------------------
# Generators, one per category: (context, rng, style) -> (question, cot) or None
# ------------------------------------------------------------------------------------------------


def _column_surface(ctx: _Context, rng: random.Random, style: str) -> tuple[str, str] | None:
    candidates = []
    for col in ctx.table.columns:
        if col.primary_key or col.name.lower().endswith("_id"):
            continue
        words = _words(_column_label(col))
        for i, word in enumerate(words):
            swap = _SURFACE_SWAPS.get(word)
            if swap:
                changed = [*words[:i], swap, *words[i + 1 :]]
                if changed[-1] in ("on", "at", "in"):  # "opened on" -> "closing date", not "closing on"
                    changed[-1] = "date"
                candidates.append((" ".join(changed), swap))
        if _column_kind(col) == "text" and not any(ch.isdigit() for ch in col.name):
            prefix = rng.choice(_SURFACE_PREFIXES)
            candidates.append((f"{prefix} {' '.join(words)}", prefix))
    rng.shuffle(candidates)
    for attr, new_word in candidates:
        # only the changed word must be unknown: the rest is the real column's name by design
        if attribute_absent(new_word, ctx.schema) and _phrase_absent(attr, ctx.schema):
            return _attribute_question(ctx, attr, style, rng), _absent_attribute_cot(ctx, attr)
    return None


def _phrase_absent(attr: str, schema: Schema) -> bool:
    target = " ".join(_words(attr))
    for table in schema.tables:
        for col in table.columns:
            if target in (" ".join(_words(col.name)), " ".join(_words(col.natural_name or ""))):
                return False
    return True


def _column_related(ctx: _Context, rng: random.Random, style: str) -> tuple[str, str] | None:
    pool = list(_RELATED[ctx.kind]) + (list(_RELATED["generic"]) if ctx.kind != "generic" else [])
    rng.shuffle(pool)
    for attr in pool:
        if attribute_absent(attr, ctx.schema):
            return _attribute_question(ctx, attr, style, rng), _absent_attribute_cot(ctx, attr)
    return None


def _column_unrelated(ctx: _Context, rng: random.Random, style: str) -> tuple[str, str] | None:
    pool = [a for kind, attrs in _RELATED.items() if kind not in (ctx.kind, "generic") for a in attrs]
    pool = [a for a in pool if a not in _RELATED[ctx.kind]] + list(_UNRELATED)
    rng.shuffle(pool)
    for attr in pool:
        if attribute_absent(attr, ctx.schema):
            return _attribute_question(ctx, attr, style, rng), _absent_attribute_cot(ctx, attr)
    return None


_NON_SQL = [
    ("Plot a bar chart of the number of {tp} per {col}.", "draw a chart", ("text",)),
    ("Draw a histogram of the {col} of all {tp}.", "draw a histogram", ("measure",)),
    ("Train a model that predicts the {col} of a new {t}.", "train a prediction model", ("measure", "text")),
    ("Cluster the {tp} into groups of similar ones.", "cluster records with machine learning", ()),
    ("Translate the {col} of every {t} into French.", "translate text", ("text", "long text")),
    ("Classify the sentiment of each {t}'s {col}.", "analyse sentiment", ("long text",)),
    ("Send an email to every {t} listed in the database.", "send emails", ("person",)),
    ("Export the {tp} to an Excel spreadsheet.", "create a spreadsheet file", ()),
    ("Summarize the {col} of each {t} in one sentence.", "write summaries of text", ("long text",)),
    ("Generate a PDF report about the {tp}.", "produce a PDF document", ()),
]  # fmt: skip

_NON_SQL_STYLE = {
    "formal": "{q}",
    "colloquial": "Hey, could you {lq}",
    "imperative": "{q}",
    "interrogative": "Can you {lq}",
    "concise": "{q}",
}


def _non_sql(ctx: _Context, rng: random.Random, style: str) -> tuple[str, str] | None:
    templates = list(_NON_SQL)
    rng.shuffle(templates)
    for template, action, types in templates:
        col = None
        if types == ("person",):
            if ctx.kind != "person":
                continue
        elif types:
            cols = [
                c
                for c in ctx.table.columns
                if (_column_kind(c) in types or ("measure" in types and _is_measure(c)))
                and not c.primary_key
                and not c.name.lower().endswith("_id")
                and _column_label(c) != ctx.singular
            ]
            if not cols:
                continue
            col = rng.choice(cols)
        q = template.format(t=ctx.singular, tp=ctx.plural, col=_column_label(col) if col else "")
        if style in ("colloquial", "interrogative"):
            q = _NON_SQL_STYLE[style].format(lq=q[:1].lower() + q[1:].rstrip(".") + "?")
        cot = (
            f"The request is to {action} about the {ctx.plural}. A SQL query can read the data, but it "
            f"cannot {action}; that needs tools beyond SQL, so the request cannot be answered with a query."
        )
        return q, cot
    return None


def _ext_know(ctx: _Context, rng: random.Random, style: str) -> tuple[str, str] | None:
    options: list[Callable[[], tuple[str, str, str] | None]] = []
    by_word = {w: c for c in ctx.table.columns for w in _words(c.name)}
    for word, facts in _WORLD_FACTS.items():
        col = by_word.get(word)
        if col is not None and col.samples:
            for fact, template in facts:
                options.append(
                    lambda col=col, fact=fact, template=template: _fact_about(col, fact, template, rng)
                )
    numeric = [c for c in ctx.table.columns if _is_measure(c)]
    if numeric:
        options.append(lambda: _future(ctx, rng.choice(numeric), rng))
    if ctx.kind == "person":
        options.append(
            lambda: (
                f"Which of the {ctx.plural} have won a Nobel Prize?",
                "award",
                "who won prizes in the world outside the database",
            )
        )
        options.append(
            lambda: (
                f"How many followers does each {ctx.singular} have on social media?",
                "followers",
                "social-media follower counts",
            )
        )
    if ctx.kind in ("place", "product"):
        options.append(
            lambda: (
                f"What do online reviews say about the {ctx.plural}?",
                "online reviews",
                "opinions published outside the database",
            )
        )
    rng.shuffle(options)
    for make in options:
        made = make()
        if made is None:
            continue
        question, key, knowledge = made
        if key and not attribute_absent(key, ctx.schema):
            continue
        cot = (
            f"Answering needs {knowledge}, which is knowledge from outside the database: no table holds it, "
            "so no SQL query over this database can answer the question."
        )
        return _restyle(question, style), cot
    return None


#: facts about the values of a city/country column that no database of this kind holds
_WORLD_FACTS = {
    "city": [
        ("population", "What is the population of {v}?"),
        ("weather", "What is the current weather in {v}?"),
        ("mayor", "Who is the mayor of {v}?"),
    ],
    "country": [
        ("capital", "What is the capital city of {v}?"),
        ("population", "What is the population of {v}?"),
        ("head of government", "Who is the current head of government of {v}?"),
        ("anthem", "What is the national anthem of {v}?"),
    ],
}


_NOT_MEASURES = {"id", "no", "number", "order", "rank", "year", "code", "position", "line", "zip"}


def _is_measure(col: Column) -> bool:
    """A numeric column whose average means something (not a key, code, position or year)."""
    if col.primary_key or col.inferred_type not in ("integer", "real", "numeric"):
        return False
    return not set(_words(col.name)) & _NOT_MEASURES


def _fact_about(col: Column, fact: str, template: str, rng: random.Random) -> tuple[str, str, str]:
    value = rng.choice(col.samples)
    return template.format(v=value), fact, f"the {fact} of {value}"


def _future(ctx: _Context, col: Column, rng: random.Random) -> tuple[str, str, str]:
    years = [
        int(str(v)[:4])
        for c in ctx.table.columns
        for v in (c.max,)
        if isinstance(v, str) and re.match(r"^\d{4}-", v)
    ]
    year = (max(years) if years else 2030) + rng.randint(5, 20)
    label = _column_label(col)
    return (
        f"What will the average {label} of {ctx.plural} be in {year}?",
        "",
        f"the {label} of {ctx.plural} in {year}, a future the data does not cover",
    )


def _restyle(question: str, style: str) -> str:
    if style == "colloquial" and question.startswith("What is the "):
        return "Do you know the " + question[len("What is the ") :]
    if style == "imperative" and question.startswith("What is the "):
        return "Tell me the " + question[len("What is the ") :].rstrip("?") + "."
    return question


_GENERATORS: dict[str, Callable[[_Context, random.Random, str], tuple[str, str] | None]] = {
    "column-surface": _column_surface,
    "column-related": _column_related,
    "column-unrelated": _column_unrelated,
    "non-sql": _non_sql,
    "ext-know": _ext_know,
}


# ------------------------------------------------------------------------------------------------
# Public entry point
# ------------------------------------------------------------------------------------------------


def make_infeasible(
    schema: Schema,
    rng: random.Random | int,
    n: int,
    categories: Sequence[str] = INFEASIBLE_CATEGORIES,
    styles: Sequence[str] = STYLES,
    dialect: str | None = None,
    with_cot: bool = True,
    max_attempts: int = 20,
) -> list[Record]:
    """Up to ``n`` distinct unanswerable questions about ``schema``, as records.

    Categories are taken in turn (in ``categories`` order) and tables and phrasings drawn from
    ``rng`` (a ``random.Random`` or a seed), so the same seed gives the same records. Each record has
    ``feasible=False``, ``sql=""``, ``verification="infeasible"``, the TrustSQL category in
    ``provenance.template`` and, with ``with_cot``, a reasoning that says why the database cannot
    answer. Fewer than ``n`` come back when the schema offers no more distinct questions.
    """
    bad = [c for c in categories if c not in _GENERATORS]
    if bad:
        raise ValueError(
            f"unknown infeasible categor(ies) {', '.join(bad)}: use {', '.join(INFEASIBLE_CATEGORIES)}"
        )
    bad_styles = [s for s in styles if s not in STYLES]
    if bad_styles or not styles:
        raise ValueError(f"styles must be a non-empty subset of {', '.join(STYLES)}")
    rng = rng if isinstance(rng, random.Random) else random.Random(rng)
    contexts = _contexts(schema)
    records: list[Record] = []
    if not contexts or n <= 0 or not categories:
        return records
    seen: set[str] = set()
    exhausted: set[str] = set()
    turn = 0
    while len(records) < n and len(exhausted) < len(categories):
        category = categories[turn % len(categories)]
        style = styles[(turn // len(categories)) % len(styles)]  # every category meets every style
        turn += 1
        if category in exhausted:
            continue
        made = None
        for _ in range(max_attempts):
            attempt = _GENERATORS[category](rng.choice(contexts), rng, style)
            if attempt is not None and attempt[0].lower() not in seen:
                made = attempt
                break
        if made is None:
            exhausted.add(category)
            continue
        question, cot = made
        seen.add(question.lower())
        records.append(_record(schema, question, cot if with_cot else None, category, style, dialect))
    return records


def _record(
    schema: Schema, question: str, cot: str | None, category: str, style: str, dialect: str | None
) -> Record:
    digest = hashlib.sha1(f"{schema.db_id}\x00{category}\x00{question}".encode()).hexdigest()[:12]
    return Record(
        id=f"{schema.db_id}-infeasible-{digest}",
        db_id=schema.db_id,
        dialect=dialect or schema.engine,
        question=question,
        style=style,
        sql="",
        complexity="simple",
        cot=cot,
        feasible=False,
        provenance=Provenance(generator="rule", template=category),
        verification="infeasible",
    )


__all__ = ["INFEASIBLE_CATEGORIES", "attribute_absent", "make_infeasible", "schema_vocabulary"]
