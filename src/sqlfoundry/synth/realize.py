"""Rule-based questions for SQL: read a SQLite statement's AST and phrase it as English in one of five
styles (OmniSQL's formal, colloquial, imperative, interrogative, concise), with BIRD-style evidence.

No LLM: every filter, grouping, ordering, limit and aggregate of the SQL is phrased from the AST and the
schema's names. Constructs that cannot be phrased faithfully raise :class:`UnsupportedSQL`.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

from sqlglot import exp

from ..db.schema_model import Column, Schema, Table
from ..records import STYLES
from ..sql.normalize import SQLParseError, parse_sql
from . import names
from .types import Realization, UnsupportedSQL

__all__ = ["STYLES", "realize_question"]

# =================================================================================================
# Lexicon: every paraphrase choice, by style. ``{x}`` slots are filled by str.format.
# =================================================================================================
_ALL = "*"
_LEX: dict[str, dict[str, tuple[str, ...]]] = {
    # comparisons (numbers)
    "gt": {"formal": ("is greater than", "exceeds"), "colloquial": ("is more than", "is over", "is above"),
           "imperative": ("is greater than", "is above"), "interrogative": ("is greater than", "is more than"),
           "concise": ("above", "over")},
    "lt": {"formal": ("is less than", "is below"), "colloquial": ("is less than", "is under", "is below"),
           "imperative": ("is less than", "is below"), "interrogative": ("is less than", "is lower than"),
           "concise": ("below", "under")},
    "ge": {"formal": ("is at least", "is greater than or equal to"), "colloquial": ("is at least",),
           "imperative": ("is at least", "is no less than"), "interrogative": ("is at least",),
           "concise": ("at least",)},
    "le": {"formal": ("is at most", "is less than or equal to"), "colloquial": ("is at most", "is no more than"),
           "imperative": ("is at most",), "interrogative": ("is at most",), "concise": ("at most",)},
    "eq": {_ALL: ("is",), "concise": ("",)},
    "neq": {"formal": ("is not", "is other than"), "colloquial": ("isn't", "is not"),
            "imperative": ("is not",), "interrogative": ("is not", "differs from"), "concise": ("not",)},
    # comparisons (dates and times)
    "t_gt": {_ALL: ("is after", "is later than"), "concise": ("after",)},
    "t_lt": {_ALL: ("is before", "is earlier than"), "concise": ("before",)},
    "t_ge": {_ALL: ("is on or after",), "concise": ("on or after",)},
    "t_le": {_ALL: ("is on or before",), "concise": ("on or before",)},
    "y_gt": {_ALL: ("is after",), "concise": ("after",)},
    "y_lt": {_ALL: ("is before",), "concise": ("before",)},
    "y_ge": {_ALL: ("is in or after",), "concise": ("in or after",)},
    "y_le": {_ALL: ("is in or before",), "concise": ("in or before",)},
    "y_eq": {_ALL: ("is in",), "concise": ("in",)},
    "y_neq": {_ALL: ("is not in",), "concise": ("not in",)},
    # superlatives
    "sup_num_desc": {"formal": ("highest", "greatest"), "colloquial": ("biggest", "highest"),
                     "imperative": ("highest", "largest"), "interrogative": ("highest", "largest"),
                     "concise": ("highest",)},
    "sup_num_asc": {"formal": ("lowest", "smallest"), "colloquial": ("lowest", "smallest"),
                    "imperative": ("lowest", "smallest"), "interrogative": ("lowest", "smallest"),
                    "concise": ("lowest",)},
    "sup_time_desc": {_ALL: ("latest", "most recent"), "concise": ("latest",)},
    "sup_time_asc": {_ALL: ("earliest",)},
    "sup_count_desc": {_ALL: ("most",), "formal": ("largest number of", "most")},
    "sup_count_asc": {_ALL: ("fewest",), "formal": ("smallest number of", "fewest")},
    # ordering
    "ord_num_desc": {"formal": ("in descending order of {x}",), "colloquial": ("by {x}, highest first",
                     "by {x} from highest to lowest"), "imperative": ("by {x} in descending order",
                     "by {x} from highest to lowest"), "interrogative": ("by {x} in descending order",
                     "by {x} from highest to lowest"), "concise": ("by {x} desc", "by {x}, descending")},
    "ord_num_asc": {"formal": ("in ascending order of {x}",), "colloquial": ("by {x}, lowest first",
                    "by {x} from lowest to highest"), "imperative": ("by {x} in ascending order",
                    "by {x} from lowest to highest"), "interrogative": ("by {x} in ascending order",
                    "by {x} from lowest to highest"), "concise": ("by {x} asc", "by {x}, ascending")},
    "ord_time_desc": {_ALL: ("by {x} from latest to earliest", "by {x}, most recent first"),
                      "formal": ("in reverse chronological order of {x}",), "concise": ("by {x}, newest first",)},
    "ord_time_asc": {_ALL: ("by {x} from earliest to latest", "by {x}, earliest first"),
                     "formal": ("in chronological order of {x}",), "concise": ("by {x}, oldest first",)},
    "ord_text_desc": {_ALL: ("in reverse alphabetical order of {x}", "by {x} from Z to A"),
                      "concise": ("by {x}, Z to A",)},
    "ord_text_asc": {_ALL: ("in alphabetical order of {x}", "alphabetically by {x}"),
                     "concise": ("by {x}, A to Z",)},
    "sorted": {"formal": ("arranged", "listed"), "colloquial": ("sorted",), "imperative": ("sorted", "ordered"),
               "interrogative": ("sorted", "listed"), "concise": ("",)},
    # aggregates
    "avg": {_ALL: ("average",), "formal": ("average", "mean")},
    "sum": {_ALL: ("total",)},
    "max": {_ALL: ("highest", "maximum"), "colloquial": ("highest", "biggest")},
    "min": {_ALL: ("lowest", "minimum"), "colloquial": ("lowest", "smallest")},
    "number": {_ALL: ("number",), "formal": ("number", "count"), "concise": ("number", "count")},
    "distinct": {_ALL: ("distinct", "different"), "formal": ("distinct",), "concise": ("distinct", "unique")},
    # null tests
    "null": {"formal": ("is not recorded", "is missing"), "colloquial": ("is missing", "is empty", "is blank"),
             "imperative": ("is missing", "is null"), "interrogative": ("is missing", "is not recorded"),
             "concise": ("missing",)},
    "notnull": {"formal": ("is recorded", "is present"), "colloquial": ("is filled in", "is given"),
                "imperative": ("is not missing", "is present"), "interrogative": ("is recorded", "is known"),
                "concise": ("present", "not missing")},
    # text patterns
    "contains": {_ALL: ("contains", "includes"), "concise": ("containing",)},
    "starts": {_ALL: ("starts with", "begins with"), "concise": ("starting with",)},
    "ends": {_ALL: ("ends with",), "concise": ("ending with",)},
    "not_contains": {_ALL: ("does not contain",), "colloquial": ("doesn't contain", "doesn't include"),
                     "concise": ("not containing",)},
    "not_starts": {_ALL: ("does not start with",), "colloquial": ("doesn't start with",),
                   "concise": ("not starting with",)},
    "not_ends": {_ALL: ("does not end with",), "colloquial": ("doesn't end with",), "concise": ("not ending with",)},
    # scope notes for grouped queries
    "considering": {"formal": ("considering only", "taking into account only"), "colloquial": ("only counting",
                    "just looking at"), "imperative": ("considering only", "using only"),
                    "interrogative": ("considering only", "among"), "concise": ("over", "among")},
    # list heads for SELECT *
    "all_info": {"formal": ("all recorded details of", "the complete records of"),
                 "colloquial": ("everything about", "all the info on"), "imperative": ("all columns of",
                 "all details of"), "interrogative": ("all the details of", "all columns of"),
                 "concise": ("all columns of", "full records of")},
}  # fmt: skip

#: sentence frames per style; ``{np}`` is the noun phrase of what is asked for
_FRAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "formal": {
        "many": (
            "Please provide {np}.",
            "Could you identify {np}?",
            "Identify {np}.",
            "Kindly list {np}.",
            "Please enumerate {np}.",
        ),
        "one": (
            "Please state {np}.",
            "Could you determine {np}?",
            "Determine {np}.",
            "Kindly indicate {np}.",
        ),
    },
    "colloquial": {
        "many": (
            "Can you show me {np}?",
            "I'd like to see {np}.",
            "Could you pull up {np}?",
            "Hey, what are {np}?",
            "I need {np}, please.",
        ),
        "one": (
            "Can you tell me {np}?",
            "What's {np}?",
            "I'd like to know {np}.",
            "Hey, what's {np}?",
            "Could you figure out {np}?",
        ),
    },
    "imperative": {
        "many": ("List {np}.", "Show {np}.", "Find {np}.", "Return {np}.", "Give me {np}.", "Retrieve {np}."),
        "one": (
            "Find {np}.",
            "Return {np}.",
            "Compute {np}.",
            "Give me {np}.",
            "Calculate {np}.",
            "Show {np}.",
        ),
    },
    "interrogative": {
        "many": ("What are {np}?", "Can you list {np}?"),
        "one": ("What is {np}?", "Do you know {np}?"),
    },
    "concise": {"many": ("{np}.", "{np}"), "one": ("{np}.", "{np}")},
}

#: lexicon keys whose choices go together within one question
_PAIRED = {"max": "extreme", "min": "extreme", "sup_num_desc": "sup", "sup_num_asc": "sup", "avg": "avg"}

_PERSON_NOUNS = {
    "person", "customer", "employee", "author", "student", "teacher", "singer", "player", "user", "member",
    "manager", "owner", "actor", "actress", "artist", "pilot", "driver", "doctor", "patient", "professor",
    "instructor", "writer", "director", "musician", "athlete", "worker", "client", "guest", "passenger",
    "visitor", "host", "conductor", "professional", "candidate", "staff", "editor", "reviewer", "buyer",
    "seller", "supplier", "winner", "loser", "coach", "captain", "perpetrator", "people", "physician",
    "nurse", "engineer", "scientist", "researcher", "volunteer", "participant", "judge", "composer",
    "poker player", "high schooler", "highschooler", "journalist", "technician", "cashier", "representative",
    "friend", "gymnast", "body builder", "climber", "mountaineer", "wrestler",
}  # fmt: skip
_ADJECTIVE_ENDINGS = (
    "ive",
    "ed",
    "able",
    "ible",
    "al",
    "ful",
    "less",
    "ous",
    "ic",
    "ent",
    "ant",
    "ary",
    "ing",
)
_ADJECTIVES = {
    "active", "open", "available", "public", "visible", "deleted", "valid", "enabled", "verified", "new", "paid",
    "free", "primary", "default", "current", "online", "premium", "closed", "done", "complete", "official",
    "private", "single", "vegan", "vegetarian", "married", "alive", "dead", "urgent", "hidden", "locked",
}  # fmt: skip
_TRUE_VALUES = {"1", "t", "y", "yes", "true"}
_FALSE_VALUES = {"0", "f", "n", "no", "false"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip
_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$")
_YEAR_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_TIME_TYPES = {"date", "datetime", "time"}
_NUMBER_TYPES = {"integer", "real", "numeric"}
_CMP = {exp.GT: "gt", exp.LT: "lt", exp.GTE: "ge", exp.LTE: "le", exp.EQ: "eq", exp.NEQ: "neq"}
_FLIP = {"gt": "lt", "lt": "gt", "ge": "le", "le": "ge", "eq": "eq", "neq": "neq"}
_NEGATE = {"gt": "le", "lt": "ge", "ge": "lt", "le": "gt", "eq": "neq", "neq": "eq"}
_COUNT_WORDS = {"gt": "more than", "lt": "fewer than", "ge": "at least", "le": "at most", "eq": "exactly"}


# =================================================================================================
# Small helpers
# =================================================================================================
def _join(items: list[str], conj: str = "and") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return items[0] if items else ""
    if len(items) == 2:
        return f"{items[0]} {conj} {items[1]}"
    return f"{', '.join(items[:-1])} {conj} {items[-1]}"


def _the(np: str) -> str:
    return np if np.startswith(("the ", "all ", "each ", "every ", "a ", "an ")) else f"the {np}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _strip_the(text: str) -> str:
    return text[4:] if text.startswith("the ") else text


def _func_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.key.lower()


def _is_int_text(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d+", text))


@dataclass
class _Source:
    """One FROM item: a base table or a virtual table (CTE, derived table) under an alias."""

    alias: str
    noun: str
    plural: str
    table: Table | None = None
    virtual: _Virtual | None = None


@dataclass
class _VColumn:
    name: str
    phrase: str
    kind: str  # number | time | text | bool | unknown
    plural: bool = False
    #: the column is the virtual table's entity itself (the GROUP BY key it was built from)
    entity: bool = False


@dataclass
class _Virtual:
    """The rows of a CTE or derived table, described in words (its noun and its columns' phrases)."""

    name: str
    noun: str
    plural: str
    columns: dict[str, _VColumn]
    order: list[str]
    note: str = ""  # what the rows are, e.g. "of books whose language is 'English'"
    #: the singular noun with the conditions that define the rows ("genre with more than 5 books")
    noun_full: str = ""
    #: lowercase names of the columns that identify a row (the projected GROUP BY keys)
    keys: set[str] = field(default_factory=set)
    #: the plural without conditions, and the conditions as clauses (HAVING, or WHERE when not grouped)
    bare_plural: str = ""
    clauses: list[_Clause] = field(default_factory=list)
    #: a grouped CTE's WHERE, about the rows it groups (``note_plural``)
    note_clauses: list[_Clause] = field(default_factory=list)
    note_plural: str = ""


@dataclass
class _Edge:
    a: str
    ca: str
    b: str
    cb: str
    #: "ab": a's column refers to b (many a → one b); "ba": the reverse; "11": both keys; "": unknown
    fk: str = ""


@dataclass
class _Rel:
    """How the rows of an alias relate to the scope's root: one per root row, or possibly many."""

    alias: str
    one: bool
    noun: str
    plural: str
    #: the role the root plays for this alias when reached backwards through a foreign key ("manager")
    back_role: str = ""
    #: the alias this one is reached from, on the way from the root
    parent: str = ""


@dataclass
class _Ref:
    alias: str
    name: str
    column: Column | None
    vcol: _VColumn | None
    scope: _Scope

    @property
    def kind(self) -> str:
        if self.vcol is not None:
            return self.vcol.kind
        return _column_kind(self.column) if self.column is not None else "unknown"


@dataclass
class _Scope:
    sources: dict[str, _Source] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    edges: list[_Edge] = field(default_factory=list)
    filters: list[exp.Expression] = field(default_factory=list)
    root: str = ""
    rel: dict[str, _Rel] = field(default_factory=dict)
    outer: _Scope | None = None
    select: exp.Select | None = None
    aliases: dict[str, exp.Expression] = field(default_factory=dict)
    #: alias whose columns are phrased without a possessive (the grouped entity or a subquery's own root)
    focus: str = ""
    #: resolved column references, by (node id, local): the FROM clause does not change once built
    resolved: dict[tuple[int, bool], _Ref | None] = field(default_factory=dict)


_TIME_WORDS = {"date", "time", "datetime", "timestamp", "dob", "birthday"}
_ALPHABETIC_WORDS = {
    "name", "title", "description", "text", "email", "address", "city", "country", "surname", "label", "code",
    "type", "category", "genre", "language", "nationality", "hometown", "location", "street", "state", "region",
    "continent", "position", "role", "major", "sex", "gender", "status", "comments", "details", "note", "notes",
    "abbreviation", "username", "password", "url", "model", "make", "maker", "brand", "color", "colour", "word",
}  # fmt: skip


def _alphabetic(phrase: str) -> bool:
    """Whether a text column is ordered as words (names, titles) rather than as disguised numbers."""
    return bool(set(phrase.lower().replace("'s", "").split()) & _ALPHABETIC_WORDS)


def _column_kind(column: Column) -> str:
    kind = _declared_kind(column)
    if kind in ("text", "unknown") and set(names.split_words(column.name)) & _TIME_WORDS:
        return "time"
    return kind


def _declared_kind(column: Column) -> str:
    t = (column.inferred_type or "unknown").lower()
    if t in _NUMBER_TYPES:
        return "number"
    if t in _TIME_TYPES:
        return "time"
    if t in ("text", "boolean"):
        return "bool" if t == "boolean" else "text"
    declared = (column.declared_type or "").lower()
    if any(w in declared for w in ("int", "real", "num", "dec", "float", "double")):
        return "number"
    if "date" in declared or "time" in declared:
        return "time"
    if "char" in declared or "text" in declared:
        return "text"
    return "unknown"


@dataclass
class _Clause:
    """A condition on an entity, ready to attach to its noun.

    ``subject``/``predicate`` split a comparison (``list price`` / ``is greater than 20``) so it can be said
    as "whose list price is greater than 20" or "where the list price is ...". Other clauses (existence,
    flags, compound conditions) carry ready relative clauses for singular and plural nouns.
    """

    subject: str = ""
    predicate: str = ""
    short: str = ""  # concise form: "list price above 20"
    rel_sg: str = ""
    rel_pl: str = ""
    sentence: str = ""  # a full clause usable after "where"/"for which"
    whose_ok: bool = True
    #: "that have a …" added only because an inner join drops rows without a match
    implicit: bool = False
    #: for ``subject = value`` / ``subject != value``: the operator and the value's words (for merging)
    op: str = ""
    value: str = ""
    #: an AND/OR of clauses (its sentence starts with "both"/"either")
    compound: bool = False

    def rel(self, plural: bool, mode: str) -> str:
        if self.rel_sg or self.rel_pl:
            return self.rel_pl if plural else self.rel_sg
        if mode == "with" and self.short:
            return f"with {self.short}"
        if mode == "where" or not self.whose_ok:
            return f"where {self.sent()}" if mode == "where" else f"for which {self.sent()}"
        return f"whose {self.subject} {self.predicate}"

    def sent(self) -> str:
        if self.sentence:
            return self.sentence
        return f"{_the(self.subject)} {self.predicate}"


@dataclass
class _Item:
    """One projected value, phrased as an attribute of the frame's entity."""

    sg: str
    pl: str | None = None
    #: for a column of a to-one related alias: (plural column words, plural related noun)
    via: tuple[str, str] | None = None
    self_ref: bool = False
    agg: str = ""  # aggregate function for merging ("avg", "max", ...) or "count"
    agg_arg: str = ""
    count_all: bool = False
    one_row: bool = False
    star: bool = False
    #: the phrase already names the rows it is computed over ("percentage of customers who …")
    self_contained: bool = False


@dataclass
class _Frame:
    """What a SELECT asks for, independent of the sentence that will carry it."""

    noun: str
    plural: str
    clauses: list[_Clause]
    items: list[_Item]
    person: bool = False
    aggregate_only: bool = False
    grouped: bool = False
    note: list[_Clause] = field(default_factory=list)
    note_plural: str = ""
    distinct: bool = False
    order: list[tuple[str, str]] = field(default_factory=list)  # (ordering phrase, superlative phrase)
    limit: int | None = None
    offset: int | None = None
    one_row: bool = False


# =================================================================================================
# The realizer
# =================================================================================================
class _Realizer:
    def __init__(self, schema: Schema, style: str, rng: random.Random, with_evidence: bool):
        self.schema = schema
        self.style = style
        self.rng = rng
        self.with_evidence = with_evidence
        self.evidence: list[str] = []
        self.ctes: dict[str, _Virtual] = {}
        self._tables = {t.name.lower(): t for t in schema.tables}
        self._pairs: dict[str, int] = {}
        self._columns: dict[int, set[str]] = {}
        self._last_frame: _Frame | None = None
        self.np_many = True

    # ---- lexicon -------------------------------------------------------------------------------
    def say(self, key: str, **slots: str) -> str:
        table = _LEX[key]
        options = table.get(self.style) or table[_ALL]
        pair = _PAIRED.get(key)
        if pair is not None and len(options) > 1:
            # "maximum and minimum", never "maximum and lowest": one choice per question for a pair
            if pair not in self._pairs:
                self._pairs[pair] = self.rng.randrange(len(options))
            choice = options[self._pairs[pair] % len(options)]
            return choice.format(**slots) if slots else choice
        choice = options[0] if len(options) == 1 else self.rng.choice(options)
        return choice.format(**slots) if slots else choice

    def pick(self, options: tuple[str, ...] | list[str]) -> str:
        return options[0] if len(options) == 1 else self.rng.choice(list(options))

    def quote(self, text: str) -> str:
        return f'"{text}"' if self.style == "colloquial" else f"'{text}'"

    def add_evidence(self, text: str) -> None:
        if self.with_evidence and text not in self.evidence:
            self.evidence.append(text)

    @staticmethod
    def sql(node: exp.Expression) -> str:
        """SQL text of a node with table aliases dropped (BIRD's evidence names bare columns)."""
        node = node.copy()
        for col in node.find_all(exp.Column):
            col.set("table", None)
        return node.sql(dialect="sqlite")

    # ---- entry ---------------------------------------------------------------------------------
    def question(self, tree: exp.Expression) -> str:
        if not isinstance(tree, exp.Query):
            raise UnsupportedSQL(f"{tree.key.upper()} statement (only queries can be phrased)")
        self.np_many = True
        np, one = self.query_np(tree, None)
        if isinstance(tree, exp.SetOperation):
            self.np_many = True
        frames = _FRAMES[self.style]["many" if self.np_many else "one"]
        special = self.special_question(tree)
        if special is not None:
            return special
        frame = self.pick(frames)
        if self.style == "concise":
            return frame.format(np=_cap(_strip_the(np)))
        return frame.format(np=np)

    def special_question(self, tree: exp.Expression) -> str | None:
        """Interrogative "How many ...?" and "Which ... has the most ...?" forms."""
        if self.style != "interrogative" or not isinstance(tree, exp.Select):
            return None
        frame = self._last_frame
        if frame is None:
            return None
        if frame.aggregate_only and len(frame.items) == 1 and frame.items[0].count_all and not frame.note:
            rels = self.clauses_text(frame.clauses, True)
            return f"How many {frame.plural} are there{' ' + rels if rels else ''}?"
        if (
            frame.grouped and frame.limit == 1 and not frame.offset and len(frame.items) == 1
            and frame.items[0].self_ref and frame.order and not frame.clauses and not frame.note
        ):  # fmt: skip
            verb = "has" if not names.is_plural(frame.noun) else "have"
            return f"Which {frame.noun} {verb} the {frame.order[0][1]}?"
        return None

    # ---- queries as noun phrases ---------------------------------------------------------------
    def query_np(self, tree: exp.Expression, outer: _Scope | None) -> tuple[str, bool]:
        """The noun phrase of what a query returns, and whether it is a single row."""
        with_ = tree.args.get("with_") or tree.args.get("with")
        saved = dict(self.ctes)
        try:
            if with_ is not None:
                if with_.args.get("recursive"):
                    raise UnsupportedSQL("recursive CTE")
                for cte in with_.expressions:
                    name = cte.alias_or_name.lower()
                    self.ctes[name] = self.virtual_of(cte.this, name, outer)
            if isinstance(tree, exp.Select):
                frame = self.frame_of(tree, outer)
                self._last_frame = frame
                return self.render_frame(frame), frame.one_row
            if isinstance(tree, exp.SetOperation):
                self._last_frame = None
                return self.setop_np(tree, outer), False
            if isinstance(tree, exp.Subquery):
                return self.query_np(tree.this, outer)
            raise UnsupportedSQL(f"query of kind {tree.key.upper()}")
        finally:
            self.ctes = saved

    # ---- scopes ----------------------------------------------------------------------------------
    def build_scope(self, select: exp.Select, outer: _Scope | None) -> _Scope:
        scope = _Scope(outer=outer, select=select)
        from_ = select.args.get("from_") or select.args.get("from")
        if from_ is None:
            raise UnsupportedSQL("SELECT without FROM")
        self.add_source(scope, from_.this, outer)
        pending: list[exp.Expression] = []
        for join in select.args.get("joins") or []:
            side = (join.side or "").upper()
            if side:
                raise UnsupportedSQL(f"{side} OUTER JOIN")
            kind = (join.kind or "").upper()
            if kind in ("SEMI", "ANTI", "NATURAL") or join.args.get("method"):
                raise UnsupportedSQL(f"{kind or join.args.get('method')} JOIN")
            self.add_source(scope, join.this, outer)
            alias = scope.order[-1]
            for ident in join.args.get("using") or []:
                name = ident.name
                other = next((a for a in scope.order[:-1] if self.has_column(scope, a, name)), None)
                if other is None:
                    raise UnsupportedSQL(f"JOIN USING ({name}) with no matching column")
                scope.edges.append(self.make_edge(scope, other, name, alias, name))
            on = join.args.get("on")
            if on is not None:
                pending.extend(_conjuncts(on))
        where = select.args.get("where")
        if where is not None:
            pending.extend(_conjuncts(where.this))
        for cond in pending:
            edge = self.edge_of(scope, cond)
            if edge is not None and not self.connected(scope, edge.a, edge.b):
                scope.edges.append(edge)
            elif edge is not None and self.extends_composite_key(scope, edge):
                # the second column of a composite key: part of the same join
                first = next(e for e in scope.edges if {e.a, e.b} == {edge.a, edge.b})
                edge.fk = first.fk if first.a == edge.a else {"ab": "ba", "ba": "ab"}.get(first.fk, first.fk)
                scope.edges.append(edge)
            else:
                scope.filters.append(cond)
        if len(scope.order) > 1:
            for alias in scope.order[1:]:
                if not self.connected(scope, scope.order[0], alias):
                    raise UnsupportedSQL("cross join (tables not linked by a join condition)")
        for e in select.expressions:
            if isinstance(e, exp.Alias):
                scope.aliases[e.alias.lower()] = e.this
        return scope

    def add_source(self, scope: _Scope, node: exp.Expression, outer: _Scope | None) -> None:
        if isinstance(node, exp.Table):
            name = node.name.lower()
            alias = (node.alias or node.name).lower()
            if alias in scope.sources:
                raise UnsupportedSQL(f"alias {alias!r} used twice")
            if name in self.ctes and not node.args.get("db"):
                v = self.ctes[name]
                src = _Source(alias=alias, noun=v.noun, plural=v.plural, virtual=v)
            else:
                table = self._tables.get(name)
                if table is None:
                    raise UnsupportedSQL(f"unknown table {node.name!r}")
                src = _Source(alias=alias, noun=names.table_noun(table), plural=names.table_noun(table, True),
                              table=table)  # fmt: skip
        elif isinstance(node, exp.Subquery):
            alias = (node.alias or "").lower()
            if not alias:
                raise UnsupportedSQL("derived table without an alias")
            v = self.virtual_of(node.this, alias, outer)
            src = _Source(alias=alias, noun=v.noun, plural=v.plural, virtual=v)
        else:
            raise UnsupportedSQL(f"FROM item of kind {node.key.upper()}")
        scope.sources[alias] = src
        scope.order.append(alias)

    def has_column(self, scope: _Scope, alias: str, name: str) -> bool:
        src = scope.sources[alias]
        if src.table is not None:
            names_ = self._columns.get(id(src.table))
            if names_ is None:
                names_ = self._columns[id(src.table)] = {c.name.lower() for c in src.table.columns}
            return name.lower() in names_
        assert src.virtual is not None
        return name.lower() in src.virtual.columns

    def make_edge(self, scope: _Scope, a: str, ca: str, b: str, cb: str) -> _Edge:
        ta, tb = scope.sources[a].table, scope.sources[b].table
        fk = ""
        if ta is not None and tb is not None:
            if _refers(ta, ca, tb, cb):
                fk = "ab"
            elif _refers(tb, cb, ta, ca):
                fk = "ba"
            else:
                ka, kb = _is_key(ta, ca), _is_key(tb, cb)
                fk = "11" if ka and kb else "ab" if kb else "ba" if ka else ""
                if fk in ("11", ""):
                    # both or neither a key (Spider's keys are incomplete): the column named after the
                    # other table is the reference (flights.airline -> airlines.uid)
                    na, nb = _names_table(ca, tb), _names_table(cb, ta)
                    if na != nb:
                        fk = "ab" if na else "ba"
        else:
            # a CTE or derived table is keyed by its GROUP BY columns
            va, vb = scope.sources[a].virtual, scope.sources[b].virtual
            a_key = _is_key(ta, ca) if ta is not None else (va is not None and va.keys == {ca.lower()})
            b_key = _is_key(tb, cb) if tb is not None else (vb is not None and vb.keys == {cb.lower()})
            fk = "11" if a_key and b_key else "ab" if b_key else "ba" if a_key else ""
        return _Edge(a, ca, b, cb, fk)

    def edge_of(self, scope: _Scope, cond: exp.Expression) -> _Edge | None:
        if not isinstance(cond, exp.EQ):
            return None
        left, right = cond.this, cond.expression
        if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
            return None
        ra, rb = self.resolve(left, scope, local=True), self.resolve(right, scope, local=True)
        if ra is None or rb is None or ra.alias == rb.alias:
            return None
        return self.make_edge(scope, ra.alias, ra.name, rb.alias, rb.name)

    @staticmethod
    def extends_composite_key(scope: _Scope, edge: _Edge) -> bool:
        ta, tb = scope.sources[edge.a].table, scope.sources[edge.b].table
        for e in scope.edges:
            if {e.a, e.b} != {edge.a, edge.b}:
                continue
            first_a, first_b = (e.ca, e.cb) if e.a == edge.a else (e.cb, e.ca)
            for alias, cols, other in ((edge.b, {first_b.lower(), edge.cb.lower()}, edge.a),
                                       (edge.a, {first_a.lower(), edge.ca.lower()}, edge.b)):  # fmt: skip
                virtual = scope.sources[alias].virtual
                if virtual is not None and virtual.keys and virtual.keys == cols:
                    # joined on all the GROUP BY keys of a CTE: one CTE row per row of the other side
                    e.fk = "ab" if e.b == alias else "ba"
                    if scope.sources[other].virtual is None:
                        return True
            if ta is None or tb is None:
                continue
            if _refers_all(ta, [first_a, edge.ca], tb, [first_b, edge.cb]) or _refers_all(
                tb, [first_b, edge.cb], ta, [first_a, edge.ca]
            ):
                return True
        return False

    @staticmethod
    def connected(scope: _Scope, a: str, b: str) -> bool:
        seen, todo = {a}, [a]
        while todo:
            x = todo.pop()
            for e in scope.edges:
                for y in (e.b,) if e.a == x else (e.a,) if e.b == x else ():
                    if y not in seen:
                        seen.add(y)
                        todo.append(y)
        return b in seen

    def resolve(self, col: exp.Column, scope: _Scope, local: bool = False) -> _Ref | None:
        """The source column a column reference names, searching outer scopes unless ``local``."""
        key = (id(col), local)
        if key in scope.resolved:
            return scope.resolved[key]
        ref = self._resolve(col, scope, local)
        scope.resolved[key] = ref
        return ref

    def _resolve(self, col: exp.Column, scope: _Scope, local: bool) -> _Ref | None:
        name = col.name
        qualifier = col.table.lower() if col.table else ""
        s: _Scope | None = scope
        while s is not None:
            if qualifier:
                if qualifier in s.sources:
                    if not self.has_column(s, qualifier, name):
                        raise UnsupportedSQL(f"unknown column {col.sql()}")
                    return self.make_ref(s, qualifier, name)
                by_table = [a for a in s.order if s.sources[a].table is not None
                            and s.sources[a].table.name.lower() == qualifier]  # fmt: skip
                if by_table:
                    return self.make_ref(s, by_table[0], name)
            else:
                for alias in s.order:
                    if self.has_column(s, alias, name):
                        return self.make_ref(s, alias, name)
            if local:
                return None
            s = s.outer
        return None

    @staticmethod
    def make_ref(scope: _Scope, alias: str, name: str) -> _Ref:
        src = scope.sources[alias]
        if src.table is not None:
            column = src.table.column(name)
            return _Ref(alias, column.name, column, None, scope)
        assert src.virtual is not None
        vcol = src.virtual.columns[name.lower()]
        return _Ref(alias, vcol.name, None, vcol, scope)

    def compute_relations(self, scope: _Scope) -> None:
        """Pick the root (the row grain) and describe every other alias relative to it."""
        order = scope.order
        if len(order) == 1:
            scope.root = order[0]
            src = scope.sources[order[0]]
            scope.rel = {order[0]: _Rel(order[0], True, src.noun, src.plural)}
            return
        used = self.aliases_used(scope)
        grains = [a for a in order if self.reach_one(scope, a) == set(order)]
        if grains and grains[0] in used:
            root = grains[0]
        else:
            root = self.first_projected_alias(scope) or (grains[0] if grains else order[0])
            rel = self.relations_from(scope, root)
            shown = self.aliases_outside_filters(scope)
            if any(not rel[a].one for a in shown if a in rel):
                # a one-to-many alias shown, grouped or sorted on cannot be phrased from this root
                if not grains:
                    raise UnsupportedSQL("output or ordering across several one-to-many joins")
                root = grains[0]
        self.compute_relations_from(scope, root)

    def grouped_subquery(
        self, outer_ref: _Ref, query: exp.Select, scope: _Scope, negate: bool
    ) -> _Clause | None:
        """``pk IN (SELECT fk FROM t GROUP BY fk HAVING COUNT(*) > 3)`` → "with more than 3 t"."""
        group = query.args.get("group")
        item = _unparen(query.args["expressions"][0])
        having = query.args.get("having")
        if group is None or having is None or len(group.expressions) != 1 or not isinstance(item, exp.Column):
            return None
        if query.args.get("limit") or query.args.get("order") or query.args.get("with_") is not None:
            return None
        if having.find(exp.LT, exp.LTE, exp.EQ, exp.Not) is not None:
            return None  # "fewer than 3" would wrongly take in rows with none
        key = _unparen(group.expressions[0])
        if not isinstance(key, exp.Column) or key.name.lower() != item.name.lower():
            return None
        inner = self.build_scope(query, scope)
        inner_ref = self.resolve(item, inner, local=True)
        otab = scope.sources[outer_ref.alias].table
        if inner_ref is None or otab is None or len(inner.sources) != 1:
            return None
        itab = inner.sources[inner_ref.alias].table
        if itab is None or not (
            _refers(itab, inner_ref.name, otab, outer_ref.name) and _is_key(otab, outer_ref.name)
        ):
            return None
        saved = self._last_frame
        frame = self.frame_of(query, scope)
        self._last_frame = saved
        rels = self.clauses_text(frame.clauses, True)
        if frame.note:
            rels += f" ({self.say('considering')} {frame.note_plural} {self.clauses_text(frame.note, True)})"
        if negate:
            text = f"other than those {rels}"
            return _Clause(rel_sg=text, rel_pl=text, sentence=f"it is not one of those {rels}")
        return _Clause(rel_sg=rels, rel_pl=rels, sentence=f"it is one of those {rels}")

    def compute_relations_from(self, scope: _Scope, root: str) -> None:
        scope.root = root
        scope.rel = self.relations_from(scope, root)

    def relations_from(self, scope: _Scope, root: str) -> dict[str, _Rel]:
        src = scope.sources[root]
        rel = {root: _Rel(root, True, src.noun, src.plural)}
        todo = [root]
        while todo:
            x = todo.pop(0)
            for e in scope.edges:
                if e.a == x and e.b not in rel:
                    y, cx, cy, one = e.b, e.ca, e.cb, e.fk in ("ab", "11")
                elif e.b == x and e.a not in rel:
                    y, cx, cy, one = e.a, e.cb, e.ca, e.fk in ("ba", "11")
                else:
                    continue
                ysrc = scope.sources[y]
                if one:
                    noun = self.role_noun(scope, x, cx, ysrc)
                    rel[y] = _Rel(y, rel[x].one, noun, names.pluralize(noun), parent=x)
                else:
                    # y's column names the role x plays for it ("manager") only if it refers to x
                    refers = (e.a == y and e.fk == "ab") or (e.b == y and e.fk == "ba")
                    back = (
                        self.role_noun(scope, y, cy, scope.sources[x])
                        if ysrc.table is not None and refers
                        else ""
                    )
                    back = "" if back == scope.sources[x].noun else back
                    rel[y] = _Rel(y, False, ysrc.noun, ysrc.plural, back_role=back, parent=x)
                todo.append(y)
        return rel

    def aliases_outside_filters(self, scope: _Scope) -> set[str]:
        select = scope.select
        assert select is not None
        nodes: list[exp.Expression] = list(select.expressions)
        for key in ("group", "having", "order"):
            if select.args.get(key) is not None:
                nodes.append(select.args[key])
        return {a for node in nodes for a in self.local_aliases(node, scope)}

    def local_aliases(self, node: exp.Expression, scope: _Scope) -> set[str]:
        """Aliases of ``scope`` whose columns ``node`` uses outside nested queries."""
        out: set[str] = set()
        for col in node.find_all(exp.Column):
            if isinstance(col.this, exp.Star):
                if col.table and col.table.lower() in scope.sources:
                    out.add(col.table.lower())
                continue
            parent, nested = col, False
            while parent is not node:
                parent = parent.parent
                if parent is None or parent is node:
                    break
                if isinstance(parent, exp.Select):
                    nested = True
                    break
            if nested:
                continue
            try:
                ref = self.resolve(col, scope, local=True)
            except UnsupportedSQL:
                ref = None
            if ref is not None:
                out.add(ref.alias)
        return out

    def role_noun(self, scope: _Scope, alias: str, column: str, target: _Source) -> str:
        """What the row a foreign-key column points to is to its owner: ``manager_id`` → ``manager``."""
        src = scope.sources[alias]
        if src.table is None:
            return target.noun
        col = src.table.column(column)
        words = names.column_name(col).split()
        while words and words[-1].lower() in ("id", "code", "key", "number", "no", "fk", "ref"):
            words.pop()
        role = " ".join(words)
        if any(w.lower() in _ROLE_STOPWORDS for w in words):
            return target.noun  # "lost in battle" names a fact, not a role
        if (
            not role
            or role.lower() == target.noun.lower()
            or role.endswith("ed")
            or (" " not in role and (len(role) <= 3 or role.isupper()))  # "cds", "UUID": not a role
        ):
            return target.noun
        if names.singularize(role.lower()) == target.noun.lower():
            return target.noun
        target_words = target.noun.lower().split()
        if role.lower() in target_words or role.lower() == names.singularize(target.noun.lower()):
            return target.noun
        return role

    def reach_one(self, scope: _Scope, start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            x = todo.pop()
            for e in scope.edges:
                if e.a == x and e.fk in ("ab", "11") and e.b not in seen:
                    seen.add(e.b)
                    todo.append(e.b)
                elif e.b == x and e.fk in ("ba", "11") and e.a not in seen:
                    seen.add(e.a)
                    todo.append(e.a)
        return seen

    def aliases_used(self, scope: _Scope) -> set[str]:
        """Aliases with a column used anywhere except join conditions."""
        used: set[str] = set()
        select = scope.select
        assert select is not None
        nodes: list[exp.Expression] = list(select.expressions) + list(scope.filters)
        for key in ("group", "having", "order"):
            if select.args.get(key) is not None:
                nodes.append(select.args[key])
        for node in nodes:
            for col in node.find_all(exp.Column):
                if isinstance(col.this, exp.Star):
                    if col.table:
                        used.add(col.table.lower())
                    continue
                try:
                    ref = self.resolve(col, scope, local=True)
                except UnsupportedSQL:
                    ref = None
                if ref is not None:
                    used.add(ref.alias)
            if node.find(exp.Star) is not None and any(
                isinstance(s.parent, exp.Select) for s in node.find_all(exp.Star)
            ):
                used.update(scope.order)
        return used

    def first_projected_alias(self, scope: _Scope) -> str:
        assert scope.select is not None
        for e in scope.select.expressions:
            for col in e.find_all(exp.Column):
                if isinstance(col.this, exp.Star):
                    if col.table and col.table.lower() in scope.sources:
                        return col.table.lower()
                    continue
                ref = self.resolve(col, scope, local=True)
                if ref is not None:
                    return ref.alias
        return ""

    # ---- columns as words ----------------------------------------------------------------------
    def ref_base(self, ref: _Ref) -> str:
        if ref.vcol is not None:
            return ref.vcol.phrase
        assert ref.column is not None
        base = names.column_name(ref.column)
        first = base.split(" ", 1)
        if len(first) == 2 and first[0].lower() in ("is", "has") and self.is_flag(ref):
            return f"{first[1]} flag"  # is_flagship → "flagship flag"
        return base

    def col_np(self, ref: _Ref, scope: _Scope, compound: bool = False) -> str:
        """Bare noun phrase of a column, relative to the scope's root: ``list price``, ``publisher's country``."""
        base = self.ref_base(ref)
        if ref.scope is not scope:
            return self.outer_col_np(ref)
        if ref.alias == scope.root or ref.alias == scope.focus or len(scope.sources) == 1:
            return base
        rel = scope.rel.get(ref.alias)
        noun = rel.noun if rel is not None else scope.sources[ref.alias].noun
        if base.lower().startswith(noun.lower().split()[-1]) or base.lower().startswith(noun.lower()):
            return base
        if rel is not None and rel.one and self.same_rows(scope, ref.alias):
            return base  # a CTE of stores joined back to store: the same entity
        if compound:
            return f"{noun} {base}"
        return f"{noun}'s {base}"

    @staticmethod
    def same_rows(scope: _Scope, alias: str) -> bool:
        """A CTE or derived table joined to the root on the root's whole primary key (or the reverse):
        both describe the same entity, so its columns need no possessive."""
        root = scope.root
        pair = [e for e in scope.edges if {e.a, e.b} == {root, alias}]
        if not pair or (scope.sources[alias].virtual is None and scope.sources[root].virtual is None):
            return False
        if scope.sources[alias].noun == scope.sources[root].noun:
            return True
        table = scope.sources[root].table
        root_cols = {(e.ca if e.a == root else e.cb).lower() for e in pair}
        return (
            table is not None
            and bool(table.primary_key)
            and root_cols == {c.lower() for c in table.primary_key}
        )

    def outer_col_np(self, ref: _Ref) -> str:
        s = ref.scope
        rel = s.rel.get(ref.alias)
        noun = rel.noun if rel is not None else s.sources[ref.alias].noun
        return f"{noun}'s {self.ref_base(ref)}"

    # ---- values ---------------------------------------------------------------------------------
    def value(self, node: exp.Expression, hint: _Ref | None = None) -> str | None:
        """Words for a literal value, or None when the node is not a literal."""
        if isinstance(node, exp.Paren):
            return self.value(node.this, hint)
        if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
            inner = self.value(node.this, hint)
            return f"-{inner}" if inner is not None else None
        if isinstance(node, exp.Literal):
            if node.is_string:
                return self.string_value(node.this, hint)
            return self.number_value(node.this, hint)
        if isinstance(node, exp.Boolean):
            return "true" if node.this else "false"
        if (
            isinstance(node, exp.Column)
            and not node.table
            and node.this.args.get("quoted")
            and hint is not None
        ):
            # SQLite reads an unknown "double-quoted" name as a string (Spider relies on this)
            return self.string_value(node.name, hint)
        if isinstance(node, exp.Cast):
            return self.value(node.this, hint)
        return None

    def number_value(self, text: str, hint: _Ref | None) -> str:
        text = str(text)
        if _is_int_text(text) and abs(int(text)) >= 10000:
            keyish = hint is not None and re.search(r"(id|year|code|zip|phone|no|number)$", hint.name.lower())
            if not keyish:
                return f"{int(text):,}"
        return text

    def string_value(self, text: str, hint: _Ref | None) -> str:
        m = _DATE_RE.match(text)
        if m is not None and (hint is None or hint.kind in ("time", "unknown", "text")):
            return _date_words(m)
        return self.quote(text)

    # ---- expressions as noun phrases ---------------------------------------------------------------
    def np(self, node: exp.Expression, scope: _Scope) -> str:
        """Bare noun phrase (no leading article) of a value expression in a scope."""
        if isinstance(node, exp.Alias):
            return self.np(node.this, scope)
        if isinstance(node, exp.Paren):
            return self.np(node.this, scope)
        if isinstance(node, exp.Column):
            if isinstance(node.this, exp.Star):
                raise UnsupportedSQL("table.* inside an expression")
            ref = self.resolve(node, scope)
            if ref is None:
                alias_expr = scope.aliases.get(node.name.lower())
                if alias_expr is not None and not node.table:
                    return self.np(alias_expr, scope)
                lit = self.value(node, _Ref("", node.name, None, None, scope))
                if lit is not None and node.this.args.get("quoted"):
                    return lit
                raise UnsupportedSQL(f"unknown column {node.sql()}")
            if ref.scope is not scope:
                return self.outer_col_np(ref)
            return self.col_np(ref, scope)
        lit = self.value(node)
        if lit is not None:
            return lit
        if isinstance(node, exp.Null):
            return "nothing (NULL)"
        if isinstance(node, exp.AggFunc):
            return self.agg_np(node, scope)
        if isinstance(node, exp.Window):
            return self.window_np(node, scope)
        if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)):
            return self.arith_np(node, scope)
        if isinstance(node, exp.Cast):
            to = node.to.this
            inner = self.np(node.this, scope)
            if to in (exp.DataType.Type.INT, exp.DataType.Type.BIGINT) and not _is_time_func(node.this):
                return f"{inner} as a whole number"
            return inner
        if isinstance(node, (exp.Case, exp.If)):
            return self.case_np(node, scope)
        if isinstance(node, exp.Subquery):
            text, _ = self.query_np(node.this, scope)
            return _strip_the(text)
        return self.function_np(node, scope)

    def agg_np(self, node: exp.AggFunc, scope: _Scope) -> str:
        name = node.key.lower()
        arg = node.this
        distinct = isinstance(arg, exp.Distinct)
        if distinct:
            if len(arg.expressions) != 1:
                raise UnsupportedSQL("COUNT(DISTINCT) over several columns")
            arg = arg.expressions[0]
        if name == "count":
            if isinstance(arg, exp.Star) or arg is None:
                return f"{self.say('number')} of {self.count_noun(scope, True)}"
            cond = _count_if(arg)
            if cond is not None and not distinct:
                clause = self.conds([cond], scope)
                return f"{self.say('number')} of {self.count_noun(scope, True)} {self.clauses_text(clause, True)}"
            inner = self.np(arg, scope)
            if distinct:
                return f"{self.say('number')} of {self.say('distinct')} {names.pluralize(inner)}"
            ref = self.plain_ref(arg, scope)
            if (
                ref is not None
                and ref.column is not None
                and (ref.column.primary_key or not ref.column.nullable)
            ):
                return f"{self.say('number')} of {self.count_noun(scope, True)}"
            return f"{self.say('number')} of {self.count_noun(scope, True)} with {names.with_article(inner)}"
        if name in ("sum", "avg") and isinstance(_unparen(arg), _CONDITIONS):
            clause = self.clauses_text(self.conds([_unparen(arg)], scope), True)
            noun = self.count_noun(scope, True)
            word = self.say("number") if name == "sum" else self.pick(("fraction", "proportion"))
            return f"{word} of {noun} {clause}"
        if name in ("sum", "avg") and isinstance(arg, (exp.Case, exp.If)):
            cond, then = _case_indicator(arg)
            if cond is not None:
                clause = self.clauses_text(self.conds([cond], scope), True)
                noun = self.count_noun(scope, True)
                if name == "sum" and then == "1":
                    return f"{self.say('number')} of {noun} {clause}"
                if name == "avg" and then == "1":
                    return f"fraction of {noun} {clause}"
            value, cond = _case_value(arg)
            if name == "sum" and value is not None and cond is not None:
                # SUM(CASE WHEN c THEN x ELSE 0 END): the total x over the rows meeting c
                clause = self.clauses_text(self.conds([cond], scope), True)
                noun = self.count_noun(scope, True)
                return f"{self.say('sum')} {self.np(value, scope)} over {noun} {clause}"
        func_word = {"avg": "avg", "sum": "sum", "max": "max", "min": "min"}.get(name)
        if func_word is None:
            if name == "groupconcat":
                return f"list of {names.pluralize(self.np(arg, scope))} joined together"
            raise UnsupportedSQL(f"aggregate {name.upper()}")
        inner = self.np(arg, scope)
        kind = self.kind_of(arg, scope)
        if name in ("max", "min") and kind == "time":
            word = "latest" if name == "max" else "earliest"
        elif name in ("max", "min") and kind == "text" and _alphabetic(inner):
            word = "alphabetically last" if name == "max" else "alphabetically first"
        else:
            word = self.say(func_word)
        if distinct:
            word = f"{word} of the {self.say('distinct')}"
            inner = names.pluralize(inner)
        if _is_compound(arg) or "'s " in inner:
            prep = "of the" if not word.endswith(" the") else "of"
            return f"{word} {prep} {inner}" if not word.endswith(" the") else f"{word} {inner}"
        if word.endswith(" the"):
            return f"{word} {inner}"
        return f"{word} {inner}"

    def count_noun(self, scope: _Scope, plural: bool) -> str:
        """What COUNT(*) counts in a scope: the rows of its grain (the far side of a link table)."""
        grain = scope.root
        if scope.sources[scope.root].virtual is None and len(scope.order) > 1:
            grains = [a for a in scope.order if self.reach_one(scope, a) == set(scope.order)]
            if not grains:
                raise UnsupportedSQL("COUNT(*) over a join with several one-to-many branches")
            grain = grains[0]
        other = self.link_other_side(scope, grain) if self.grouped_by_link_side(scope, grain) else ""
        if other:
            return names.pluralize(other) if plural else other
        rel = scope.rel.get(grain)
        if grain != scope.root and rel is not None:
            return rel.plural if plural else rel.noun
        src = scope.sources[grain]
        if src.virtual is not None and src.virtual.bare_plural:
            # a CTE's conditions are said once, as clauses of the frame, not inside every count
            return src.virtual.bare_plural if plural else src.noun
        return src.plural if plural else src.noun

    def grouped_by_link_side(self, scope: _Scope, grain: str) -> bool:
        """Counting a link table's rows counts the far side only per row of the near side: grouped by
        the joined key (``GROUP BY student_id`` over ``has_pet``), not by some attribute."""
        group = scope.select.args.get("group") if scope.select is not None else None
        if group is None:
            return False
        near = {(e.a, e.ca.lower()) for e in scope.edges if e.b == grain} | {
            (e.b, e.cb.lower()) for e in scope.edges if e.a == grain
        }
        near |= {(grain, e.ca.lower()) for e in scope.edges if e.a == grain}
        near |= {(grain, e.cb.lower()) for e in scope.edges if e.b == grain}
        for key in group.expressions:
            ref = self.plain_ref(key, scope) if isinstance(_unparen(key), exp.Column) else None
            if ref is None or ref.scope is not scope:
                continue
            if (ref.alias, ref.name.lower()) in near:
                return True
            src = scope.sources[ref.alias].table
            if src is not None and _is_key(src, ref.name) and any(a == ref.alias for a, _ in near):
                return True
        return False

    def link_other_side(self, scope: _Scope, alias: str, extra: frozenset[str] = frozenset()) -> str:
        """For a link table (``has_pet``) reached through one foreign key and otherwise unused, the noun
        its other foreign key names (``pet``): counting its rows counts those."""
        src = scope.sources.get(alias)
        table = src.table if src is not None else None
        if table is None or len(table.foreign_keys) < 2 or scope.select is None:
            return ""
        fk_columns = {c.lower() for fk in table.foreign_keys for c in fk.columns}
        attributes = [c for c in table.columns if c.name.lower() not in fk_columns and not c.primary_key]
        if len(attributes) > 1:
            return ""  # a table with its own attributes is an entity, not a link
        select = scope.select
        joined = {e.ca.lower() for e in scope.edges if e.a == alias} | {
            e.cb.lower() for e in scope.edges if e.b == alias
        }
        joined |= extra
        group = select.args.get("group")
        nodes: list[exp.Expression] = list(select.expressions) + list(scope.filters)
        for key in ("having", "order"):
            if select.args.get(key) is not None:
                nodes.append(select.args[key])
        for node in nodes:
            for col in node.find_all(exp.Column):
                if isinstance(col.this, exp.Star):
                    continue
                try:
                    ref = self.resolve(col, scope, local=True)
                except UnsupportedSQL:
                    ref = None
                if ref is not None and ref.alias == alias and ref.name.lower() not in joined:
                    return ""
        if group is not None:
            for col in group.find_all(exp.Column):
                ref = self.resolve(col, scope, local=True)
                if ref is not None and ref.alias == alias:
                    joined.add(ref.name.lower())
        if not joined:
            return ""
        others = [
            fk for fk in table.foreign_keys if len(fk.columns) == 1 and fk.columns[0].lower() not in joined
        ]
        if len(others) != 1:
            return ""
        target = self._tables.get(others[0].ref_table.lower())
        if target is None:
            return ""
        fake = _Source(alias="", noun=names.table_noun(target), plural="", table=target)
        return self.role_noun(scope, alias, others[0].columns[0], fake)

    def counts_every_row(self, node: exp.Expression, scope: _Scope) -> bool:
        """``COUNT(pk)`` or ``COUNT(not_null_column)``: the same as ``COUNT(*)``."""
        node = _uncast(node)
        if not isinstance(node, exp.Count) or isinstance(node.this, exp.Distinct):
            return False
        if isinstance(node.this, exp.Star) or node.this is None:
            return True
        ref = self.plain_ref(node.this, scope) if isinstance(_unparen(node.this), exp.Column) else None
        return bool(
            ref is not None and ref.column is not None and (ref.column.primary_key or not ref.column.nullable)
        )

    def plain_ref(self, node: exp.Expression, scope: _Scope) -> _Ref | None:
        while isinstance(node, (exp.Paren, exp.Cast)):
            node = node.this
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            return self.resolve(node, scope)
        return None

    def kind_of(self, node: exp.Expression, scope: _Scope) -> str:
        while isinstance(node, (exp.Paren, exp.Alias)):
            node = node.this
        if isinstance(node, exp.Column):
            try:
                ref = self.resolve(node, scope)
            except UnsupportedSQL:
                return "unknown"
            if ref is None:
                alias_expr = scope.aliases.get(node.name.lower())
                return self.kind_of(alias_expr, scope) if alias_expr is not None else "unknown"
            return ref.kind
        if isinstance(node, (exp.Count, exp.Sum, exp.Avg, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Length)):
            return "number"
        if isinstance(node, (exp.Max, exp.Min)):
            return self.kind_of(node.this, scope)
        if isinstance(node, exp.Window):
            return self.kind_of(node.this, scope) if isinstance(node.this, (exp.Max, exp.Min)) else "number"
        if isinstance(node, (exp.RowNumber, exp.Rank, exp.DenseRank)):
            return "number"
        if isinstance(node, exp.Cast):
            return (
                "number" if node.to.is_type(*exp.DataType.NUMERIC_TYPES) else self.kind_of(node.this, scope)
            )
        if isinstance(node, exp.TimeToStr):
            return "time"
        if isinstance(node, exp.Literal):
            return "text" if node.is_string else "number"
        if isinstance(node, exp.Subquery):
            inner = node.this
            if isinstance(inner, exp.Select) and len(inner.expressions) == 1:
                try:
                    sub = self.build_scope(inner, scope)
                    return self.kind_of(inner.expressions[0], sub)
                except UnsupportedSQL:
                    return "unknown"
        if isinstance(node, (exp.Upper, exp.Lower, exp.Substring, exp.DPipe, exp.Trim, exp.Replace)):
            return "text"
        return "unknown"

    def arith_np(self, node: exp.Expression, scope: _Scope) -> str:
        pct = self.percentage_np(node, scope)
        if pct is not None:
            return pct
        left, right = node.this, node.expression
        if isinstance(node, exp.Sub):
            days = self.days_between(left, right, scope)
            if days is not None:
                return days
        lw, rw = self.operand_np(left, node, scope), self.operand_np(right, node, scope, right=True)
        if isinstance(node, exp.Add):
            return f"{lw} plus {rw}"
        if isinstance(node, exp.Sub):
            return f"{lw} minus {rw}"
        if isinstance(node, exp.Mul):
            return f"{lw} {self.pick(('times', 'multiplied by'))} {rw}"
        if isinstance(node, exp.Div):
            return f"{lw} divided by {rw}"
        return f"the remainder of {lw} divided by {rw}"

    def operand_np(
        self, node: exp.Expression, parent: exp.Expression, scope: _Scope, right: bool = False
    ) -> str:
        text = self.np(node, scope)
        if isinstance(_unparen(node), exp.Subquery):
            return f"({_the(text)})"
        inner = node.this if isinstance(node, exp.Paren) else node
        if (
            isinstance(inner, (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod))
            and self.percentage_np(inner, scope) is None
        ):
            low = isinstance(inner, (exp.Add, exp.Sub))
            high_parent = isinstance(parent, (exp.Mul, exp.Div, exp.Mod))
            if (low and high_parent) or (right and isinstance(parent, (exp.Sub, exp.Div, exp.Mod))):
                return f"({text})"
        return text

    def days_between(self, left: exp.Expression, right: exp.Expression, scope: _Scope) -> str | None:
        lj, rj = _julian_arg(left), _julian_arg(right)
        if lj is None or rj is None:
            return None
        sql = self.sql(exp.Sub(this=left, expression=right))
        if _is_now(lj):
            text = f"number of days since {_the(self.np(rj, scope))}"
        elif _is_now(rj):
            text = f"number of days until {_the(self.np(lj, scope))}"
        else:
            text = f"number of days from {_the(self.np(rj, scope))} to {_the(self.np(lj, scope))}"
        self.add_evidence(f"{text} = {sql}")
        return text

    def percentage_np(self, node: exp.Expression, scope: _Scope) -> str | None:
        """``X * 100 / Y`` and ``X / Y`` where X counts rows meeting a condition and Y counts all rows."""
        node = _unparen(node)
        num, den, pct = None, None, False
        if isinstance(node, exp.Div):
            a, den = _unparen(node.this), _unparen(node.expression)
            if isinstance(a, exp.Mul):
                x, y = _unparen(a.this), _unparen(a.expression)
                if _is_hundred(y):
                    num, pct = x, True
                elif _is_hundred(x):
                    num, pct = y, True
                else:
                    num = a
            else:
                num = a
        elif isinstance(node, exp.Mul):
            x, y = _unparen(node.this), _unparen(node.expression)
            for d, h in ((x, y), (y, x)):
                if isinstance(d, exp.Div) and _is_hundred(h):
                    num, den, pct = _unparen(d.this), _unparen(d.expression), True
                    break
        if num is None or den is None:
            return None
        num = _uncast(num)
        den = _uncast(den)
        cond = _conditional_count(num)
        if cond is None or not (_is_count_all(den) or self.counts_every_row(den, scope)):
            if not pct:
                return None
            text = f"{_the(self.np(num, scope))} as a percentage of {_the(self.np(den, scope))}"
            self.add_evidence(f"{_strip_the(text)} = {self.sql(node)}")
            return text
        clause = self.clauses_text(self.conds([cond], scope), True)
        noun = self.count_noun(scope, True)
        word = "percentage" if pct else self.pick(("fraction", "proportion"))
        text = f"{word} of {noun} {clause}"
        self.add_evidence(f"{text} = {self.sql(node)}")
        return text

    def case_np(self, node: exp.Expression, scope: _Scope) -> str:
        if isinstance(node, exp.If):
            branches = [(node.this, node.args.get("true"))]
            default = node.args.get("false")
        else:
            if node.this is not None:
                raise UnsupportedSQL("simple CASE x WHEN v form")
            branches = [(i.this, i.args.get("true")) for i in node.args.get("ifs") or []]
            default = node.args.get("default")
        parts = []
        for cond, then in branches:
            clause = self.conds([cond], scope)
            parts.append(f"{self.np(then, scope)} when {self.sentence_of(clause)}")
        other = self.np(default, scope) if default is not None else "nothing (NULL)"
        body = f"{_join(parts, ';' if len(parts) > 2 else ',').replace(' ;', ';')}, otherwise {other}"
        label = self.label_of(node) or "label"
        self.add_evidence(f"{label} refers to {self.sql(node)}")
        return f"{label} ({body})"

    @staticmethod
    def label_of(node: exp.Expression) -> str:
        parent = node.parent
        while isinstance(parent, exp.Paren):
            parent = parent.parent
        if isinstance(parent, exp.Alias) and parent.alias:
            return names.humanize(parent.alias)
        return ""

    def window_np(self, node: exp.Window, scope: _Scope) -> str:
        if node.args.get("spec") is not None:
            raise UnsupportedSQL("window frame clause (ROWS/RANGE BETWEEN)")
        func = node.this
        parts = node.args.get("partition_by") or []
        order = node.args.get("order")
        within = ""
        if parts:
            within = f" within its {_join([self.np(p, scope) for p in parts])}"
        by = ""
        if order is not None:
            keys = []
            for o in order.expressions:
                desc = bool(o.args.get("desc"))
                kind = self.kind_of(o.this, scope)
                first = (
                    ("latest" if desc else "earliest")
                    if kind == "time"
                    else ("highest" if desc else "lowest")
                )
                keys.append(f"{self.np(o.this, scope)} ({first} first)")
            by = f" by {_join(keys)}"
        if isinstance(func, (exp.Rank, exp.DenseRank, exp.RowNumber)):
            if order is None:
                raise UnsupportedSQL("ranking window without ORDER BY")
            word = {"rank": "rank", "denserank": "dense rank", "rownumber": "row number"}[func.key.lower()]
            text = f"{word}{by}{within}"
        elif isinstance(func, (exp.Lag, exp.Lead)):
            if order is None:
                raise UnsupportedSQL("LAG/LEAD without ORDER BY")
            off = func.args.get("offset")
            steps = f"{self.np(off, scope)} rows " if off is not None and str(off.this) != "1" else ""
            where = "previous" if isinstance(func, exp.Lag) else "next"
            if steps:
                where = "earlier" if isinstance(func, exp.Lag) else "later"
                text = f"{self.np(func.this, scope)} {steps}{where}{by.replace(' by', ' when ordered by')}{within}"
            else:
                text = f"{where} {self.np(func.this, scope)} when ordered{by}{within}"
            if func.args.get("default") is not None:
                raise UnsupportedSQL("LAG/LEAD with a default")
        elif isinstance(func, exp.Ntile):
            text = f"bucket out of {self.np(func.this, scope)}{by}{within}"
        elif isinstance(func, exp.AggFunc):
            base = self.agg_np(func, scope)
            if order is not None:
                if not isinstance(func, (exp.Sum, exp.Count)):
                    raise UnsupportedSQL(f"running {func.key.upper()} window")
                base = f"running {base}"
                text = f"{base} ordered{by}{within}"
            else:
                text = f"{base}{within}" if parts else f"{base} over all rows"
        else:
            raise UnsupportedSQL(f"window function {func.key.upper()}")
        self.add_evidence(f"{text} refers to {self.sql(node)}")
        return text

    def function_np(self, node: exp.Expression, scope: _Scope) -> str:
        if isinstance(node, exp.TimeToStr):
            fmt = node.args.get("format")
            part = _DATE_PARTS.get(str(fmt.this) if fmt is not None else "")
            if part is None:
                raise UnsupportedSQL(f"strftime format {fmt.sql() if fmt is not None else ''}")
            return f"{part} of {_the(self.np(_untime(node.this), scope))}"
        if isinstance(node, exp.Length):
            return f"length of {_the(self.np(node.this, scope))}"
        if isinstance(node, exp.Upper):
            return f"{self.np(node.this, scope)} in upper case"
        if isinstance(node, exp.Lower):
            return f"{self.np(node.this, scope)} in lower case"
        if isinstance(node, exp.Trim):
            return f"{self.np(node.this, scope)} without surrounding spaces"
        if isinstance(node, exp.Abs):
            return f"absolute value of {_the(self.np(node.this, scope))}"
        if isinstance(node, exp.Round):
            dec = node.args.get("decimals")
            inner = self.np(node.this, scope)
            if dec is None or str(dec.this) == "0":
                return f"{inner} rounded to a whole number"
            return f"{inner} rounded to {self.np(dec, scope)} decimal places"
        if isinstance(node, exp.Substring):
            start, length = node.args.get("start"), node.args.get("length")
            inner = _the(self.np(node.this, scope))
            s = self.np(start, scope) if start is not None else "1"
            if length is None:
                return f"part of {inner} from character {s} on"
            n = self.np(length, scope)
            if s == "1":
                return f"first {n} characters of {inner}" if n != "1" else f"first character of {inner}"
            return f"{n} characters of {inner} starting at position {s}"
        if isinstance(node, exp.StrPosition):
            return f"position of {self.np(node.args['substr'], scope)} in {_the(self.np(node.this, scope))}"
        if isinstance(node, exp.Replace):
            return (f"{self.np(node.this, scope)} with {self.np(node.expression, scope)} replaced by "
                    f"{self.np(node.args['replacement'], scope)}")  # fmt: skip
        if isinstance(node, exp.DPipe):
            return self.concat_np(node, scope)
        if isinstance(node, exp.Coalesce):
            args = [node.this, *node.expressions]
            words = [self.np(a, scope) for a in args]
            return f"{words[0]} (or {_join(words[1:], 'or')} when it is missing)"
        if isinstance(node, (exp.Date, exp.Datetime)) or (
            isinstance(node, exp.Anonymous) and _func_name(node) in ("date", "datetime")
        ):
            args = [node.this] if not isinstance(node, exp.Anonymous) else list(node.expressions)
            args += list(node.expressions) if not isinstance(node, exp.Anonymous) else []
            if len(args) == 1:
                if isinstance(args[0], exp.Literal) and str(args[0].this).lower() == "now":
                    return "today's date" if _func_name(node) == "date" else "the current date and time"
                return (
                    f"date of {_the(self.np(args[0], scope))}"
                    if _func_name(node) == "date"
                    else self.np(args[0], scope)
                )
            raise UnsupportedSQL("date() with modifiers")
        if isinstance(node, (exp.CurrentTimestamp, exp.CurrentDatetime)):
            return "the current date and time"
        if isinstance(node, exp.CurrentDate):
            return "today's date"
        if isinstance(node, exp.CurrentTime):
            return "the current time"
        if isinstance(node, exp.Anonymous) and _func_name(node) == "julianday":
            raise UnsupportedSQL("julianday() outside a difference of two dates")
        raise UnsupportedSQL(f"function {_func_name(node).upper()}")

    def concat_np(self, node: exp.DPipe, scope: _Scope) -> str:
        text = self._concat_np(node, scope)
        label = self.label_of(node)
        return f"{label} ({text})" if label and label.lower() not in text.lower() else text

    def _concat_np(self, node: exp.DPipe, scope: _Scope) -> str:
        parts: list[exp.Expression] = []

        def flat(n: exp.Expression) -> None:
            if isinstance(n, exp.DPipe):
                flat(n.this)
                flat(n.expression)
            else:
                parts.append(n)

        flat(node)
        seps = {str(p.this) for p in parts if isinstance(p, exp.Literal) and p.is_string}
        values = [p for p in parts if not (isinstance(p, exp.Literal) and p.is_string)]
        if len(seps) == 1 and len(values) == len(parts) - (len(parts) - len(values)) and len(values) >= 2:
            alternating = all(
                (i % 2 == 0) != (isinstance(p, exp.Literal) and p.is_string) for i, p in enumerate(parts)
            )
            if alternating:
                sep = next(iter(seps))
                sep_words = "a space" if sep == " " else self.quote(sep)
                return f"{_join([self.np(v, scope) for v in values])} joined by {sep_words}"
        return " followed by ".join(self.np(p, scope) for p in parts)

    # ---- conditions ----------------------------------------------------------------------------
    def conds(self, exprs: list[exp.Expression], scope: _Scope, negate: bool = False) -> list[_Clause]:
        """Clauses for a conjunction of conditions (each one a clause)."""
        out: list[_Clause] = []
        for e in exprs:
            out.append(self.cond(e, scope, negate))
        if negate and len(out) > 1:  # NOT (a AND b) == NOT a OR NOT b
            return [self.junction(out, "or")]
        return out

    def junction(self, clauses: list[_Clause], conj: str) -> _Clause:
        """Clauses joined by AND/OR inside a larger condition, marked with "both"/"either" so the
        grouping survives: "for which either both A and B, or C"."""
        merged = self.merge_same_subject(clauses, conj)
        if len(merged) == 1:
            return merged[0]
        sents = [c.sent() for c in merged]
        nested = any(c.compound for c in merged)
        if len(merged) == 2:
            lead = "either " if conj == "or" else "both "
            body = f"{sents[0]}, {conj} {sents[1]}" if nested else f"{sents[0]} {conj} {sents[1]}"
        else:
            lead = "any of " if conj == "or" else "all of "
            body = f"{', '.join(sents[:-1])}, {conj} {sents[-1]}"
        sentence = f"{lead}{body}"
        if nested:
            rel = f"for which {sentence}"
            return _Clause(rel_sg=rel, rel_pl=rel, sentence=sentence, compound=True)
        sg = self.join_rels([c.rel(False, "whose") for c in merged], conj)
        pl = self.join_rels([c.rel(True, "whose") for c in merged], conj)
        return _Clause(rel_sg=sg, rel_pl=pl, sentence=sentence, compound=True)

    @staticmethod
    def join_rels(rels: list[str], conj: str) -> str:
        if conj == "or" and len(rels) == 2:
            return f"{rels[0]} or {rels[1]}"
        return _join(rels, conj)

    def merge_same_subject(self, clauses: list[_Clause], conj: str) -> list[_Clause]:
        """``genre = 'A' OR genre = 'B'`` → "genre is 'A' or 'B'"; ``!=`` joined by AND → "is neither … nor …"."""
        if len(clauses) < 2 or len({c.subject for c in clauses}) != 1:
            return clauses
        want = "eq" if conj == "or" else "neq"
        if not all(c.op == want and not (c.rel_sg or c.rel_pl) for c in clauses):
            return clauses
        first = clauses[0]
        verb = "are" if first.predicate.startswith(("are ", "aren't ")) else "is"
        values = [c.value for c in clauses]
        if want == "eq":
            pred = f"{verb} {_join(values, 'or')}"
            short = f"{first.subject} {_join(values, 'or')}"
        elif len(values) == 2:
            pred = f"{verb} neither {values[0]} nor {values[1]}"
            short = f"{first.subject} neither {values[0]} nor {values[1]}"
        else:
            pred = f"{verb} none of {_join(values, 'or')}"
            short = f"{first.subject} none of {_join(values, 'or')}"
        return [_Clause(subject=first.subject, predicate=pred, short=short, whose_ok=first.whose_ok)]

    def cond(self, node: exp.Expression, scope: _Scope, negate: bool = False) -> _Clause:
        if isinstance(node, exp.Paren):
            return self.cond(node.this, scope, negate)
        if isinstance(node, exp.Not):
            return self.cond(node.this, scope, not negate)
        if isinstance(node, (exp.And, exp.Or)):
            conj = "and" if isinstance(node, exp.And) else "or"
            if negate:
                conj = "or" if conj == "and" else "and"
            parts = [self.cond(p, scope, negate) for p in _flatten(node, type(node))]
            return self.junction(parts, conj)
        if type(node) in _CMP:
            return self.comparison(node, _CMP[type(node)], scope, negate)
        if isinstance(node, exp.Between):
            return self.between(node, scope, negate)
        if isinstance(node, exp.In):
            return self.in_clause(node, scope, negate)
        if isinstance(node, exp.Like):
            return self.like(node, scope, negate != bool(node.args.get("negate")))
        if isinstance(node, exp.Is):
            if not isinstance(node.expression, exp.Null):
                raise UnsupportedSQL("IS with something other than NULL")
            subject = self.subject_np(node.this, scope)
            key = "notnull" if negate else "null"
            return self.make_clause(subject, self.say_verb(key), node.this, scope,
                                    short=f"{subject[0]} {self.say(key).replace('is ', '')}")  # fmt: skip
        if isinstance(node, exp.Exists):
            return self.exists(node.this, scope, negate)
        if isinstance(node, exp.Column):
            ref = self.resolve(node, scope)
            if ref is not None and self.is_flag(ref):
                return self.flag_clause(ref, scope, not negate, node)
        if isinstance(node, exp.Boolean):
            raise UnsupportedSQL("constant TRUE/FALSE condition")
        raise UnsupportedSQL(f"condition of kind {node.key.upper()}")

    def subject_np(self, node: exp.Expression, scope: _Scope) -> tuple[str, bool]:
        """(noun phrase, whose-able) for the left side of a comparison."""
        inner = _unparen(node)
        if isinstance(inner, exp.Column):
            return self.np(inner, scope), True
        if isinstance(inner, exp.AggFunc) and not isinstance(inner, exp.Count):
            return self.np(inner, scope), True
        if isinstance(inner, exp.Count):
            return self.np(inner, scope), True
        return self.np(inner, scope), False

    def make_clause(self, subject: tuple[str, bool], predicate: str, node: exp.Expression, scope: _Scope,
                    short: str = "") -> _Clause:  # fmt: skip
        np, whose = subject
        head = np.split(" of ")[0].split("'s ")[-1]
        if names.is_plural(head):
            verb, _, rest = predicate.partition(" ")
            if verb in _PLURAL_VERBS:
                predicate = f"{_PLURAL_VERBS[verb]} {rest}".strip()
        return _Clause(subject=np, predicate=predicate, short=short or f"{np} {predicate}", whose_ok=whose)

    def comparison(self, node: exp.Expression, op: str, scope: _Scope, negate: bool) -> _Clause:
        left, right = node.this, node.expression
        if (
            self.value(left) is not None
            and self.value(right) is None
            and not isinstance(_unparen(right), exp.Column)
            or (isinstance(_unparen(left), exp.Literal) and not isinstance(_unparen(right), exp.Literal))
        ):
            left, right, op = right, left, _FLIP[op]
        if negate:
            op = _NEGATE[op]
        special = self.special_comparison(left, right, op, scope)
        if special is not None:
            return special
        hint = self.plain_ref(left, scope) if isinstance(_unparen(left), exp.Column) else None
        if hint is not None and self.is_flag(hint) and op in ("eq", "neq"):
            truth = self.flag_value(right)
            if truth is not None:
                return self.flag_clause(hint, scope, truth == (op == "eq"), node)
        kind = hint.kind if hint is not None else self.kind_of(left, scope)
        value = self.value(right, hint)
        if value is None:
            value = (
                _the(self.np(right, scope))
                if not isinstance(_unparen(right), exp.Subquery)
                else self.np(right, scope)
            )
            if isinstance(_unparen(right), exp.Subquery):
                value = _the(value)
        elif value.upper() == "NULL":
            raise UnsupportedSQL("comparison with NULL")
        subject = self.subject_np(left, scope)
        if isinstance(_unparen(left), exp.Count) and self.value(right) is not None and op != "neq":
            counted = self.count_phrase(_unparen(left), right, op, scope)
            if counted is not None:
                return counted
        time_like = kind == "time" and _DATE_RE.match(str(getattr(_unparen(right), "this", ""))) is not None
        key = f"t_{op}" if time_like and op not in ("eq", "neq") else op
        predicate = f"{self.say_verb(key)} {value}"
        short_pred = self.say(key) if self.style == "concise" else self.short_op(key)
        if not short_pred and self.value(right, hint) is None:
            short_pred = "equal to"
        short = f"{subject[0]} {short_pred + ' ' if short_pred else ''}{value}"
        clause = self.make_clause(subject, predicate, left, scope, short=short)
        if op in ("eq", "neq") and self.value(right, hint) is not None:
            clause.op, clause.value = op, value
        return clause

    def say_verb(self, key: str) -> str:
        """A predicate with its verb ("is above"): the concise style's words are fragments ("above")."""
        if self.style != "concise":
            return self.say(key)
        table = _LEX[key]
        return (table.get("imperative") or table[_ALL])[0]

    def short_op(self, key: str) -> str:
        table = _LEX[key]
        return (table.get("concise") or table[_ALL])[0]

    def count_phrase(self, node: exp.Count, right: exp.Expression, op: str, scope: _Scope) -> _Clause | None:
        """``COUNT(*) > 5`` on a group → "with more than 5 books"."""
        value = self.value(right)
        if value is None or op not in _COUNT_WORDS:
            return None
        arg = node.this
        if isinstance(arg, exp.Distinct):
            if len(arg.expressions) != 1:
                return None
            noun = f"{self.say('distinct')} {names.pluralize(self.np(arg.expressions[0], scope))}"
            sg_noun = names.singularize(noun)
        elif isinstance(arg, exp.Star):
            noun, sg_noun = self.count_noun(scope, True), self.count_noun(scope, False)
        else:
            ref = self.plain_ref(arg, scope)
            if ref is None or ref.column is None or not (ref.column.primary_key or not ref.column.nullable):
                return None
            noun, sg_noun = self.count_noun(scope, True), self.count_noun(scope, False)
        word = sg_noun if value in ("1", "-1") else noun
        text = f"with {_COUNT_WORDS[op]} {value} {word}"
        sentence = f"there {'is' if value == '1' else 'are'} {_COUNT_WORDS[op]} {value} {word}"
        return _Clause(rel_sg=text, rel_pl=text, sentence=sentence, short=text[5:])

    def special_comparison(
        self, left: exp.Expression, right: exp.Expression, op: str, scope: _Scope
    ) -> _Clause | None:
        """Dates compared by part: ``strftime('%Y', d) = '2020'`` → "d is in 2020"."""
        inner = _unparen(_uncast(left))
        if not isinstance(inner, exp.TimeToStr):
            return None
        fmt = inner.args.get("format")
        fmt_text = str(fmt.this) if fmt is not None else ""
        target = _untime(inner.this)
        raw = _literal_text(right)
        if raw is None:
            return None
        subject = (self.np(target, scope), isinstance(_unparen(target), exp.Column))
        words = None
        if fmt_text == "%Y" and re.fullmatch(r"\d{4}", raw):
            words = raw
        elif fmt_text == "%Y-%m" and _YEAR_MONTH_RE.match(raw):
            y, m = raw.split("-")
            if 1 <= int(m) <= 12:
                words = f"{_MONTHS[int(m) - 1]} {y}"
        elif (
            fmt_text == "%m" and re.fullmatch(r"\d{1,2}", raw) and 1 <= int(raw) <= 12 and op in ("eq", "neq")
        ):
            words = _MONTHS[int(raw) - 1]
        elif fmt_text == "%w" and re.fullmatch(r"\d", raw) and int(raw) <= 6 and op in ("eq", "neq"):
            words = f"on a {_WEEKDAYS[int(raw)]}"
            pred = ("is " if op == "eq" else "is not ") + words
            self.add_evidence(f"{words} refers to {self.sql(exp.EQ(this=left, expression=right))}")
            return self.make_clause(subject, pred, target, scope, short=f"{subject[0]} {pred[3:]}")
        elif fmt_text == "%Y-%m-%d":
            m = _DATE_RE.match(raw)
            if m is not None:
                words = _date_words(m)
                key = f"t_{op}" if op not in ("eq", "neq") else op
                pred = f"{self.say(key) or 'is'} {words}"
                return self.make_clause(subject, pred, target, scope, short=f"{subject[0]} {pred}")
        if words is None:
            return None
        key = {"eq": "y_eq", "neq": "y_neq", "gt": "y_gt", "lt": "y_lt", "ge": "y_ge", "le": "y_le"}[op]
        pred = f"{self.say(key)} {words}"
        base = self.sql(left)
        self.add_evidence(
            f"{subject[0]} {pred.replace('is ', '', 1)} refers to {base} {_SQL_OP[op]} {self.sql(right)}"
        )
        return self.make_clause(
            subject, pred, target, scope, short=f"{subject[0]} {pred.replace('is ', '', 1)}"
        )

    def between(self, node: exp.Between, scope: _Scope, negate: bool) -> _Clause:
        hint = self.plain_ref(node.this, scope) if isinstance(_unparen(node.this), exp.Column) else None
        inner = _unparen(_uncast(node.this))
        if isinstance(inner, exp.TimeToStr) and str(inner.args["format"].this) == "%Y":
            lo, hi = _literal_text(node.args["low"]), _literal_text(node.args["high"])
            if lo and hi:
                subject = (self.np(_untime(inner.this), scope), True)
                words = f"between {lo} and {hi}"
                pred = f"{'is not' if negate else 'is'} in a year {words}"
                self.add_evidence(f"{subject[0]} {pred[3:]} refers to {self.sql(node)}")
                return self.make_clause(subject, pred, node.this, scope, short=f"{subject[0]} {words}")
        lo = self.value(node.args["low"], hint) or _the(self.np(node.args["low"], scope))
        hi = self.value(node.args["high"], hint) or _the(self.np(node.args["high"], scope))
        subject = self.subject_np(node.this, scope)
        pred = f"{'is not' if negate else 'is'} between {lo} and {hi}"
        if not negate and self.style in ("formal", "interrogative"):
            pred += " inclusive"
        return self.make_clause(subject, pred, node.this, scope,
                                short=f"{subject[0]} {'not ' if negate else ''}between {lo} and {hi}")  # fmt: skip

    def like(self, node: exp.Like, scope: _Scope, negate: bool) -> _Clause:
        if node.args.get("escape") is not None:
            raise UnsupportedSQL("LIKE with ESCAPE")
        raw = _literal_text(node.expression)
        if raw is None:
            raise UnsupportedSQL("LIKE with a computed pattern")
        subject = self.subject_np(node.this, scope)
        body = raw.strip("%")
        if "_" in body or "%" in body or not body:
            pattern = self.quote(raw)
            pred = f"{'does not match' if negate else 'matches'} the pattern {pattern}"
            self.add_evidence(
                f"in the pattern {pattern}, % stands for any text and _ for any single character"
            )
            return self.make_clause(subject, pred, node.this, scope, short=f"{subject[0]} {pred}")
        starts, ends = raw.startswith("%"), raw.endswith("%")
        if starts and ends:
            key = "contains"
        elif ends:
            key = "starts"
        elif starts:
            key = "ends"
        else:
            pred = f"{'is not' if negate else 'is'} {self.quote(body)} (ignoring case)"
            return self.make_clause(subject, pred, node.this, scope, short=f"{subject[0]} {pred}")
        key = f"not_{key}" if negate else key
        pred = f"{self.say_verb(key)} {self.quote(body)}"
        return self.make_clause(subject, pred, node.this, scope,
                                short=f"{subject[0]} {self.short_op(key)} {self.quote(body)}")  # fmt: skip

    def in_clause(self, node: exp.In, scope: _Scope, negate: bool) -> _Clause:
        query = node.args.get("query")
        if query is not None:
            return self.in_subquery(
                node.this, query.this if isinstance(query, exp.Subquery) else query, scope, negate
            )
        values = node.expressions
        if not values:
            raise UnsupportedSQL("IN with an empty list")
        hint = self.plain_ref(node.this, scope) if isinstance(_unparen(node.this), exp.Column) else None
        inner = _unparen(_uncast(node.this))
        subject = self.subject_np(node.this, scope)
        if isinstance(inner, exp.TimeToStr) and str(inner.args["format"].this) == "%Y":
            subject = (self.np(_untime(inner.this), scope), True)
            words = [_literal_text(v) or self.np(v, scope) for v in values]
            pred = f"{'is not' if negate else 'is'} in {_join(words, 'nor' if negate else 'or')}"
            self.add_evidence(f"{subject[0]} {pred[3:]} refers to {self.sql(node)}")
            return self.make_clause(subject, pred, node.this, scope, short=f"{subject[0]} {pred[3:]}")
        words = [self.value(v, hint) or _the(self.np(v, scope)) for v in values]
        if len(words) == 1:
            pred = f"{'is not' if negate else 'is'} {words[0]}"
        elif negate:
            pred = (
                f"is neither {_join(words, 'nor')}" if len(words) == 2 else f"is none of {_join(words, 'or')}"
            )
        else:
            pred = f"is either {_join(words, 'or')}" if len(words) == 2 else f"is one of {_join(words, 'or')}"
        short = f"{subject[0]} {'not ' if negate else ''}in {_join(words, 'or')}" if len(words) > 1 else ""
        return self.make_clause(subject, pred, node.this, scope, short=short)

    def in_subquery(
        self, left: exp.Expression, query: exp.Expression, scope: _Scope, negate: bool
    ) -> _Clause:
        outer_ref = self.plain_ref(left, scope) if isinstance(_unparen(left), exp.Column) else None
        if (
            isinstance(query, exp.Select)
            and len(query.expressions) == 1
            and outer_ref is not None
            and outer_ref.scope is scope
        ):
            linked = self.linked_subquery(outer_ref, query, scope, negate)
            if linked is not None:
                return linked
        if isinstance(query, exp.Select) and len(query.expressions) != 1:
            raise UnsupportedSQL("IN subquery with several columns")
        inner_np, _ = self.query_np(query, scope)
        subject = self.subject_np(left, scope)
        pred = f"{'is not' if negate else 'is'} among {inner_np}"
        return self.make_clause(
            subject, pred, left, scope, short=f"{subject[0]} {'not ' if negate else ''}among {inner_np}"
        )

    def linked_subquery(
        self, outer_ref: _Ref, query: exp.Select, scope: _Scope, negate: bool
    ) -> _Clause | None:
        """``pk IN (SELECT fk FROM t WHERE …)`` → "that have a t whose …" (and NOT IN → "that have no t")."""
        item = _unparen(query.args["expressions"][0])
        grouped = self.grouped_subquery(outer_ref, query, scope, negate)
        if grouped is not None:
            return grouped
        if (
            not isinstance(item, exp.Column)
            or query.args.get("group")
            or query.args.get("limit")
            or query.args.get("having")
        ):
            return None
        if query.args.get("with_") is not None:
            return None
        inner = self.build_scope(query, scope)
        inner_ref = self.resolve(item, inner, local=True)
        if inner_ref is None or inner_ref.column is None or outer_ref.column is None:
            return None
        self.compute_relations(inner)
        otab = scope.sources[outer_ref.alias].table
        itab = inner.sources[inner_ref.alias].table
        if otab is None or itab is None:
            return None
        outer_noun = (
            scope.rel[outer_ref.alias].noun
            if outer_ref.alias in scope.rel
            else scope.sources[outer_ref.alias].noun
        )
        if (
            otab is itab
            and outer_ref.name.lower() == inner_ref.name.lower()
            and _is_key(otab, outer_ref.name)
        ):
            # the same rows filtered again: "customers (not) among customers whose …"
            inner.root = inner_ref.alias
            self.compute_relations_from(inner, inner_ref.alias)
            rels = self.clauses_text(self.filter_clauses(inner.filters, inner), True)
            if not rels:
                return None
            text_pl = f"{'that are not' if negate else 'that are'} among the {inner.sources[inner_ref.alias].plural} {rels}"
            text_sg = f"{'that is not' if negate else 'that is'} among the {inner.sources[inner_ref.alias].plural} {rels}"
            return _Clause(
                rel_sg=text_sg,
                rel_pl=text_pl,
                sentence=f"it is {'not ' if negate else ''}among the {inner.sources[inner_ref.alias].plural} {rels}",
            )
        if _refers(itab, inner_ref.name, otab, outer_ref.name) and _is_key(otab, outer_ref.name):
            # rows of the inner table pointing at the outer row
            self.compute_relations_from(inner, inner_ref.alias)
            other = self.link_other_side(inner, inner_ref.alias, frozenset({inner_ref.name.lower()}))
            noun = other or inner.sources[inner_ref.alias].noun
            role = (
                ""
                if other
                else self.role_noun(inner, inner_ref.alias, inner_ref.name, scope.sources[outer_ref.alias])
            )
            rels = self.clauses_text(self.filter_clauses(inner.filters, inner), False)
            return self.exists_clause(noun, rels, role if role != outer_noun else "", negate, scope)
        if _refers(otab, outer_ref.name, itab, inner_ref.name) and _is_key(itab, inner_ref.name):
            self.compute_relations_from(inner, inner_ref.alias)
            noun = self.role_noun(scope, outer_ref.alias, outer_ref.name, inner.sources[inner_ref.alias])
            rels = self.clauses_text(self.filter_clauses(inner.filters, inner), False)
            if not rels:
                return None
            text = f"{'without' if negate else 'with'} {names.with_article(noun)} {rels}"
            return _Clause(
                rel_sg=text, rel_pl=text, sentence=f"{'it has no' if negate else 'it has'} {noun} {rels}"
            )
        return None

    def exists_clause(self, noun: str, rels: str, role: str, negate: bool, scope: _Scope) -> _Clause:
        tail = f" {rels}" if rels else ""
        if role:
            sg = f"that {'is not' if negate else 'is'} the {role} of {'any' if negate else names.article(noun)} {noun}{tail}"
            pl = f"that {'are not' if negate else 'are'} the {role} of {'any' if negate else names.article(noun)} {noun}{tail}"
            sentence = sg[5:]
            return _Clause(rel_sg=sg, rel_pl=pl, sentence=f"it {sentence}")
        if negate:
            sg = f"that has no {noun}{tail}" if self.rng.random() < 0.5 else f"without any {noun}{tail}"
            pl = sg.replace("that has", "that have")
            return _Clause(rel_sg=sg, rel_pl=pl, sentence=f"there is no {noun}{tail}")
        sg = (
            f"that has {names.with_article(noun)}{tail}"
            if not tail or self.rng.random() < 0.5
            else f"with {names.with_article(noun)}{tail}"
        )
        pl = sg.replace("that has", "that have")
        return _Clause(rel_sg=sg, rel_pl=pl, sentence=f"there is {names.with_article(noun)}{tail}")

    def exists(self, query: exp.Expression, scope: _Scope, negate: bool) -> _Clause:
        if not isinstance(query, exp.Select):
            raise UnsupportedSQL("EXISTS over a set operation")
        if query.args.get("group") or query.args.get("limit") or query.args.get("having"):
            raise UnsupportedSQL("EXISTS over a grouped or limited subquery")
        inner = self.build_scope(query, scope)
        self.compute_relations(inner)
        links: list[tuple[_Ref, _Ref]] = []
        rest: list[exp.Expression] = []
        for f in inner.filters:
            pair = self.correlation(f, inner)
            if pair is not None:
                links.append(pair)
            else:
                rest.append(f)
        if not links:
            raise UnsupportedSQL("EXISTS subquery without a correlation to the outer query")
        iref, oref = links[0]
        if len(links) > 1:
            # a composite key: every link must join the same two rows through one foreign key
            itab_, otab_ = inner.sources[iref.alias].table, oref.scope.sources[oref.alias].table
            same = all((i.alias, o.alias) == (iref.alias, oref.alias) for i, o in links)
            icols, ocols = [i.name for i, _ in links], [o.name for _, o in links]
            if not (same and itab_ is not None and otab_ is not None and (
                _refers_all(itab_, icols, otab_, ocols) or _refers_all(otab_, ocols, itab_, icols)
            )):  # fmt: skip
                raise UnsupportedSQL("EXISTS subquery correlated on several unrelated columns")
        inner.filters = rest
        self.compute_relations_from(inner, iref.alias)
        itab = inner.sources[iref.alias].table
        otab = oref.scope.sources[oref.alias].table
        rels = self.clauses_text(self.filter_clauses(rest, inner), False)
        other = self.link_other_side(inner, iref.alias, frozenset({iref.name.lower()}))
        noun = other or inner.sources[iref.alias].noun
        if itab is not None and otab is not None and oref.column is not None and iref.column is not None:
            if _refers_all(itab, [i.name for i, _ in links], otab, [o.name for _, o in links]):
                role = (
                    ""
                    if other
                    else self.role_noun(inner, iref.alias, iref.name, oref.scope.sources[oref.alias])
                )
                outer_noun = oref.scope.sources[oref.alias].noun
                return self.exists_clause(noun, rels, role if role != outer_noun else "", negate, scope)
            if _refers_all(otab, [o.name for _, o in links], itab, [i.name for i, _ in links]):
                role = self.role_noun(oref.scope, oref.alias, oref.name, inner.sources[iref.alias])
                text = f"{'without' if negate else 'with'} {names.with_article(role)}{' ' + rels if rels else ''}"
                return _Clause(
                    rel_sg=text,
                    rel_pl=text,
                    sentence=f"{'it has no' if negate else 'it has'} {role} {rels}".strip(),
                )
        same = (
            f"with the same {self.ref_base(iref)}"
            if self.ref_base(iref) == self.ref_base(oref)
            else (f"whose {self.ref_base(iref)} equals its {self.ref_base(oref)}")
        )
        tail = f" {same}{' and ' + rels.split(' ', 1)[1] if rels.startswith('whose ') else (' ' + rels if rels else '')}"
        if negate:
            text = f"for which there is no {noun}{tail}"
        else:
            text = f"for which there is {names.with_article(noun)}{tail}"
        return _Clause(rel_sg=text, rel_pl=text, sentence=text[10:])

    def correlation(self, cond: exp.Expression, inner: _Scope) -> tuple[_Ref, _Ref] | None:
        if not isinstance(cond, exp.EQ):
            return None
        a, b = _unparen(cond.this), _unparen(cond.expression)
        if not (isinstance(a, exp.Column) and isinstance(b, exp.Column)):
            return None
        ra, rb = self.resolve(a, inner), self.resolve(b, inner)
        if ra is None or rb is None:
            return None
        if ra.scope is inner and rb.scope is not inner:
            return ra, rb
        if rb.scope is inner and ra.scope is not inner:
            return rb, ra
        return None

    # ---- booleans -------------------------------------------------------------------------------
    def is_flag(self, ref: _Ref) -> bool:
        if ref.column is None:
            return False
        name = ref.column.name
        low = name.lower()
        camel = (name[:2] in ("is", "Is") and name[2:3].isupper()) or (
            name[:3] in ("has", "Has") and name[3:4].isupper()
        )
        return ref.kind == "bool" or low.startswith(("is_", "has_")) or camel or low.endswith("_yn")

    @staticmethod
    def flag_value(node: exp.Expression) -> bool | None:
        text = _literal_text(node)
        if text is None and isinstance(node, exp.Boolean):
            return bool(node.this)
        if text is None and isinstance(node, exp.Column) and node.this.args.get("quoted"):
            text = node.name
        if text is None:
            return None
        low = text.strip().lower()
        if low in _TRUE_VALUES:
            return True
        if low in _FALSE_VALUES:
            return False
        return None

    def flag_clause(self, ref: _Ref, scope: _Scope, truth: bool, node: exp.Expression) -> _Clause:
        assert ref.column is not None
        words = list(names.split_words(ref.column.name))
        if ref.column.natural_name:
            words = ref.column.natural_name.lower().split()
        if words and words[-1] == "yn":
            words = words[:-1]
        if len(words) >= 3 and words[-3:] == ["yes", "or", "no"]:
            words = words[:-3]
        verb = "is"
        if words and words[0] in ("is", "has"):
            verb = words[0]
            words = words[1:]
        phrase = names.humanize("_".join(words)) if words else names.column_name(ref.column)
        owner = (
            ""
            if ref.alias == scope.root or ref.scope is not scope or ref.alias == scope.focus
            else self.owner_noun(ref, scope)
        )
        if verb == "has":
            sg = f"{'with' if truth else 'without'} {phrase}"
            pl = sg
            sentence = f"{'it has' if truth else 'it has no'} {phrase}"
        else:
            adjective = len(phrase.split()) == 1 and (
                phrase in _ADJECTIVES or phrase.endswith(_ADJECTIVE_ENDINGS)
            )
            neg = "" if truth else "not "
            who = "who" if self.is_person(scope.sources[scope.root].noun) else "that"
            if adjective:
                sg, pl = (
                    f"{who} {'is' if truth else 'is not'} {phrase}",
                    f"{who} {'are' if truth else 'are not'} {phrase}",
                )
                sentence = f"it is {neg}{phrase}"
            else:
                sg = f"{who} {'is' if truth else 'is not'} {names.with_article(phrase)}"
                pl = f"{who} {'are' if truth else 'are not'} {names.pluralize(phrase)}"
                sentence = f"it is {neg}{names.with_article(phrase)}"
            if owner:
                sg = f"whose {owner} {'is' if truth else 'is not'} {names.with_article(phrase) if not adjective else phrase}"
                pl = sg
                sentence = sg.replace("whose ", "the ", 1)
        label = (
            names.pluralize(phrase)
            if verb == "is"
            and not (
                len(phrase.split()) == 1 and (phrase in _ADJECTIVES or phrase.endswith(_ADJECTIVE_ENDINGS))
            )
            else phrase
        )
        if isinstance(node, exp.Column):
            cond_sql, own = self.sql(node), True
        else:
            value = node.expression if self.flag_value(node.expression) is not None else node.this
            cond_sql, own = self.sql(node), self.flag_value(value) == isinstance(node, exp.EQ)
        if own != truth:
            cond_sql = f"NOT {cond_sql}"
        self.add_evidence(f"{'' if truth else 'not '}{label} refers to {cond_sql}")
        return _Clause(
            rel_sg=sg,
            rel_pl=pl,
            sentence=sentence,
            short=sg.split(" ", 1)[1] if sg.startswith(("that ", "who ")) else sg,
        )

    def owner_noun(self, ref: _Ref, scope: _Scope) -> str:
        rel = scope.rel.get(ref.alias)
        return rel.noun if rel is not None else scope.sources[ref.alias].noun

    @staticmethod
    def is_person(noun: str) -> bool:
        low = noun.lower()
        return low in _PERSON_NOUNS or low.split()[-1] in _PERSON_NOUNS

    # ---- clause lists as text ------------------------------------------------------------------------
    def clauses_text(self, clauses: list[_Clause], plural: bool, mode: str | None = None) -> str:
        if not clauses:
            return ""
        mode = mode or self.clause_mode()
        if any(c.rel_sg or c.rel_pl for c in clauses):
            # "customers whose city is 'Paris' and who are loyalty members": comparisons first, as whose-clauses
            if mode == "where":
                mode = "whose"
            clauses = [c for c in clauses if not (c.rel_sg or c.rel_pl)] + [
                c for c in clauses if c.rel_sg or c.rel_pl
            ]
        parts = []
        prev_prefix = ""
        for c in clauses:
            text = c.rel(plural, mode)
            prefix = text.split(" ", 1)[0]
            if prefix == prev_prefix and prefix in ("where", "with") and not (c.rel_sg or c.rel_pl):
                text = text.split(" ", 1)[1]
            prev_prefix = prefix if not (c.rel_sg or c.rel_pl) else ""
            parts.append(text)
        return _join(parts)

    def clause_mode(self) -> str:
        if self.style == "concise":
            return "with"
        if self.style == "colloquial":
            return self.pick(("where", "with"))
        if self.style == "formal":
            return "whose"
        return self.pick(("whose", "where"))

    def sentence_of(self, clauses: list[_Clause]) -> str:
        return _join([c.sent() for c in clauses])

    # ---- SELECT → frame ---------------------------------------------------------------------------
    def frame_of(self, select: exp.Select, outer: _Scope | None) -> _Frame:
        for key in ("qualify", "windows", "laterals", "pivots", "connect", "prewhere", "sample"):
            if select.args.get(key):
                raise UnsupportedSQL(f"{key.upper()} clause")
        scope = self.build_scope(select, outer)
        self.compute_relations(scope)
        filters = list(scope.filters)
        if outer is not None:
            corr = [f for f in filters if self.correlation(f, scope) is not None]
            filters = [f for f in filters if f not in corr]
            correlated = [self.correlation(f, scope) for f in corr]
        else:
            correlated = []
        group = select.args.get("group")
        group_exprs = list(group.expressions) if group is not None else []
        if group is not None and (
            group.args.get("rollup") or group.args.get("cube") or group.args.get("grouping_sets")
        ):
            raise UnsupportedSQL("GROUP BY ROLLUP/CUBE")
        group_exprs = [self.positional(g, select) for g in group_exprs]
        has_agg = any(_has_aggregate(e) for e in select.expressions)
        having = select.args.get("having")
        root_src = scope.sources[scope.root]
        clauses = self.filter_clauses(filters, scope)
        clauses += [self.same_as_outer(i, o, scope) for i, o in correlated]
        virtual = root_src.virtual
        plural, note, note_plural = root_src.plural, [], ""
        if virtual is not None and virtual.bare_plural:
            # the rows of a CTE: its own conditions come first, as clauses of the same noun
            plural = virtual.bare_plural
            if group_exprs:
                if virtual.note_clauses:
                    raise UnsupportedSQL("GROUP BY over a grouped CTE or derived table that has a WHERE")
                clauses = virtual.clauses + clauses
            else:
                clauses = virtual.clauses + clauses
                note, note_plural = virtual.note_clauses, virtual.note_plural
        distinct = select.args.get("distinct") is not None
        if distinct and select.args["distinct"].args.get("on"):
            raise UnsupportedSQL("DISTINCT ON")
        limit, offset = self.limit_of(select)
        order = select.args.get("order")
        if group_exprs:
            return self.grouped_frame(
                select, scope, group_exprs, clauses, having, order, limit, offset, distinct
            )
        if having is not None:
            raise UnsupportedSQL("HAVING without GROUP BY")
        if has_agg:
            if any(
                not _has_aggregate(e) and not isinstance(_unalias(e), exp.Literal) for e in select.expressions
            ):
                frame = self.bare_column_frame(select, scope, clauses)
                frame.plural, frame.note, frame.note_plural = plural, note, note_plural
                return frame
            items = [self.agg_item(e, scope) for e in select.expressions]
            frame = _Frame(noun=root_src.noun, plural=plural, clauses=clauses, items=items, note=note,
                           note_plural=note_plural, aggregate_only=True, one_row=True,
                           person=self.is_person(root_src.noun))  # fmt: skip
            if limit == 0:
                raise UnsupportedSQL("LIMIT 0")
            return frame
        items = self.list_items(select, scope)
        frame = _Frame(noun=root_src.noun, plural=plural, clauses=clauses, items=items, distinct=distinct,
                       note=note, note_plural=note_plural, person=self.is_person(root_src.noun))  # fmt: skip
        self.apply_order(frame, order, select, scope, limit, offset)
        return frame

    def filter_clauses(self, filters: list[exp.Expression], scope: _Scope) -> list[_Clause]:
        """WHERE conjuncts as clauses on the root; those about one one-to-many alias become "that have a …"."""
        buckets: dict[str, list[exp.Expression]] = {}
        plain: list[exp.Expression] = []
        for f in filters:
            aliases = self.local_aliases(f, scope)
            if len(aliases) == 1:
                (alias,) = aliases
                rel = scope.rel.get(alias)
                if rel is not None and not rel.one:
                    buckets.setdefault(alias, []).append(f)
                    continue
            plain.append(f)
        clauses = self.conds(plain, scope)
        for alias, fs in buckets.items():
            clauses.append(self.related_clause(alias, fs, scope))
        if len(scope.order) > 1:
            used = self.aliases_used(scope)
            for alias in scope.order:
                rel = scope.rel.get(alias)
                if rel is None or rel.one or alias in used or alias in buckets:
                    continue
                if any(r.parent == alias for r in scope.rel.values()):
                    continue  # not a leaf: its descendants say more
                clause = self.related_clause(alias, [], scope)
                clause.implicit = True
                clauses.append(clause)
                buckets[alias] = []
            # a joined CTE or derived table with conditions keeps only the rows it matches: say so
            for alias in scope.order:
                virtual = scope.sources[alias].virtual
                if (
                    alias == scope.root
                    or alias in buckets
                    or virtual is None
                    or virtual.noun_full == virtual.noun
                ):
                    continue
                if self.same_rows(scope, alias):
                    text = f"that are among the {virtual.plural}"
                    clauses.append(
                        _Clause(
                            rel_sg=text.replace("are", "is", 1),
                            rel_pl=text,
                            sentence=f"it is among the {virtual.plural}",
                        )
                    )
                else:
                    text = f"with {names.with_article(virtual.noun_full)}"
                    clauses.append(
                        _Clause(
                            rel_sg=text,
                            rel_pl=text,
                            sentence=f"it has {names.with_article(virtual.noun_full)}",
                        )
                    )
        return clauses

    def related_clause(self, alias: str, filters: list[exp.Expression], scope: _Scope) -> _Clause:
        rel = scope.rel[alias]
        saved = scope.focus
        scope.focus = alias
        try:
            rels = self.clauses_text(self.conds(filters, scope), False, "whose")
        finally:
            scope.focus = saved
        noun = rel.noun if filters else (self.link_other_side(scope, alias) or rel.noun)
        virtual = scope.sources[alias].virtual
        if virtual is not None and virtual.noun_full:
            noun = virtual.noun_full
        role = rel.back_role if rel.parent == scope.root else ""
        # rows reached through other tables name them: "that have a sale with a refund whose …"; a link
        # table in between says nothing ("books with an author", not "with a book author with an author")
        hops, parent = [], rel.parent
        while parent and parent != scope.root and parent in scope.rel:
            if not self.is_link_table(scope.sources[parent].table):
                hops.append(scope.rel[parent].noun)
            parent = scope.rel[parent].parent
        for hop in hops:
            noun = f"{hop} with {names.with_article(noun)}"
            role = ""
        return self.exists_clause(noun, rels, role, False, scope)

    @staticmethod
    def is_link_table(table: Table | None) -> bool:
        """A table of foreign keys with at most one attribute of its own (``book_author``)."""
        if table is None or len(table.foreign_keys) < 2:
            return False
        fk_columns = {c.lower() for fk in table.foreign_keys for c in fk.columns}
        return sum(1 for c in table.columns if c.name.lower() not in fk_columns and not c.primary_key) <= 1

    def same_as_outer(self, iref: _Ref, oref: _Ref, scope: _Scope) -> _Clause:
        ib, ob = self.ref_base(iref), self.ref_base(oref)
        outer_noun = self.owner_noun(oref, oref.scope)
        if ib == ob:
            text = f"with the same {ib} as the {outer_noun}"
        else:
            text = f"whose {ib} is the {outer_noun}'s {ob}"
        return _Clause(rel_sg=text, rel_pl=text, sentence=f"the {ib} is the {outer_noun}'s {ob}")

    @staticmethod
    def positional(node: exp.Expression, select: exp.Select) -> exp.Expression:
        if isinstance(node, exp.Literal) and not node.is_string and _is_int_text(str(node.this)):
            i = int(node.this)
            if 1 <= i <= len(select.expressions):
                return _unalias(select.expressions[i - 1])
            raise UnsupportedSQL("positional reference out of range")
        return node

    def limit_of(self, select: exp.Select) -> tuple[int | None, int | None]:
        limit = select.args.get("limit")
        offset = select.args.get("offset")
        lv = ov = None
        if limit is not None:
            text = _literal_text(limit.expression)
            if text is None or not _is_int_text(text):
                raise UnsupportedSQL("LIMIT with a computed value")
            if limit.args.get("offset") is not None:
                raise UnsupportedSQL("LIMIT offset, count form")
            lv = int(text)
        if offset is not None:
            text = _literal_text(offset.expression)
            if text is None or not _is_int_text(text):
                raise UnsupportedSQL("OFFSET with a computed value")
            ov = int(text)
        if lv is not None and lv < 0:
            lv = None
        return lv, ov or None

    def list_items(self, select: exp.Select, scope: _Scope) -> list[_Item]:
        items: list[_Item] = []
        for e in select.expressions:
            inner = _unalias(e)
            if isinstance(inner, exp.Star) or (
                isinstance(inner, exp.Column) and isinstance(inner.this, exp.Star)
            ):
                if isinstance(inner, exp.Column) and len(scope.sources) > 1:
                    alias = inner.table.lower()
                    rel = scope.rel.get(alias)
                    if alias != scope.root and rel is not None:
                        items.append(_Item(sg=f"all details of the {rel.noun}", star=False))
                        continue
                if len(scope.sources) > 1 and not isinstance(inner, exp.Column):
                    nouns = [scope.rel[a].noun for a in scope.order if a != scope.root]
                    items.append(
                        _Item(sg=f"all details together with those of the {_join(nouns)}", star=True)
                    )
                    continue
                items.append(_Item(sg="all details", star=True))
                continue
            np = self.np(inner, scope)
            ref = self.plain_ref(inner, scope) if isinstance(inner, exp.Column) else None
            if ref is not None and ref.vcol is not None and ref.vcol.entity and ref.alias == scope.root:
                items.append(_Item(sg=np, self_ref=True))
                continue
            plural = (
                names.pluralize(np) if ref is not None and ref.scope is scope and "'s " not in np else None
            )
            via = None
            if ref is not None and ref.scope is scope and ref.alias != scope.root and ref.alias in scope.rel:
                rel = scope.rel[ref.alias]
                if rel.one:
                    via = (names.pluralize(self.ref_base(ref)), rel.plural)
                    plural = None
            items.append(_Item(sg=np, pl=plural, via=via))
        return items

    def agg_item(self, e: exp.Expression, scope: _Scope) -> _Item:
        inner = _unalias(e)
        if self.counts_every_row(inner, scope) and not isinstance(_unparen(inner), exp.Cast):
            return _Item(sg=self.np(inner, scope), agg="count", count_all=True, one_row=True)
        if isinstance(inner, (exp.Avg, exp.Sum, exp.Max, exp.Min)) and not isinstance(
            inner.this, exp.Distinct
        ):
            ref = self.plain_ref(inner.this, scope) if isinstance(_unparen(inner.this), exp.Column) else None
            if (
                ref is not None
                and ref.scope is scope
                and (ref.alias == scope.root or len(scope.sources) == 1)
            ):
                np = self.np(inner, scope)
                arg = self.np(inner.this, scope)
                word = np[: -len(arg)].strip() if np.endswith(arg) else ""
                if word:
                    return _Item(sg=np, agg=word, agg_arg=arg, one_row=True)
        np = self.np(inner, scope)
        noun = self.count_noun(scope, True)
        return _Item(
            sg=np, one_row=True, self_contained=f" of {noun} " in f"{np} " or np.endswith(f" of {noun}")
        )

    def bare_column_frame(self, select: exp.Select, scope: _Scope, clauses: list[_Clause]) -> _Frame:
        """SQLite's ``SELECT name, MAX(x)``: the other columns come from the row holding the extreme."""
        aggs = [e for e in select.expressions if _has_aggregate(e)]
        if len(aggs) != 1 or not isinstance(_unalias(aggs[0]), (exp.Max, exp.Min)):
            raise UnsupportedSQL("column beside an aggregate without GROUP BY")
        agg = _unalias(aggs[0])
        desc = isinstance(agg, exp.Max)
        items = []
        for e in select.expressions:
            inner = _unalias(e)
            items.append(_Item(sg=self.np(inner.this if inner is agg else inner, scope)))
        root_src = scope.sources[scope.root]
        frame = _Frame(noun=root_src.noun, plural=root_src.plural, clauses=clauses, items=items, limit=1,
                       person=self.is_person(root_src.noun))  # fmt: skip
        frame.order = [(self.ordering(agg.this, desc, scope), self.superlative(agg.this, desc, scope))]
        frame.one_row = True
        return frame

    def apply_order(self, frame: _Frame, order: exp.Order | None, select: exp.Expression, scope: _Scope,
                    limit: int | None, offset: int | None) -> None:  # fmt: skip
        frame.limit, frame.offset = limit, offset
        if limit == 0:
            raise UnsupportedSQL("LIMIT 0")
        if order is None:
            frame.one_row = frame.one_row or limit == 1
            return
        for o in order.expressions:
            key = self.positional(o.this, select) if isinstance(select, exp.Select) else o.this
            if isinstance(key, exp.Column) and not key.table and key.name.lower() in scope.aliases:
                if self.resolve(key, scope, local=True) is None:
                    key = scope.aliases[key.name.lower()]
            desc = bool(o.args.get("desc"))
            frame.order.append((self.ordering(key, desc, scope), self.superlative(key, desc, scope)))
            if limit == 1 and len(frame.order) == 1 and not offset:
                self.add_evidence(
                    f"{frame.order[0][1]} refers to {'MAX' if desc else 'MIN'}({self.sql(key)})"
                )
        frame.one_row = frame.one_row or limit == 1

    def ordering(self, key: exp.Expression, desc: bool, scope: _Scope) -> str:
        kind = self.kind_of(key, scope)
        np = self.np(key, scope)
        direction = "desc" if desc else "asc"
        if isinstance(_unparen(key), exp.Count):
            kind = "number"
        group = {"time": "time", "text": "text" if _alphabetic(np) else "num"}.get(kind, "num")
        return self.say(f"ord_{group}_{direction}", x=np)

    def superlative(self, key: exp.Expression, desc: bool, scope: _Scope) -> str:
        inner = _unparen(_unalias(key))
        direction = "desc" if desc else "asc"
        if isinstance(inner, exp.Count):
            arg = inner.this
            if isinstance(arg, exp.Star) or arg is None:
                return f"{self.say('sup_count_' + direction)} {self.count_noun(scope, True)}"
            if isinstance(arg, exp.Distinct) and len(arg.expressions) == 1:
                words = names.pluralize(self.np(arg.expressions[0], scope))
                return f"{self.say('sup_count_' + direction)} {self.say('distinct')} {words}"
        kind = self.kind_of(inner, scope)
        np = self.np(inner, scope)
        if kind == "time":
            return f"{self.say('sup_time_' + direction)} {np}"
        if kind == "text" and _alphabetic(np):
            return f"{np} that comes {'last' if desc else 'first'} alphabetically"
        return f"{self.say('sup_num_' + direction)} {np}"

    def grouped_frame(self, select: exp.Select, scope: _Scope, keys: list[exp.Expression], clauses: list[_Clause],
                      having: exp.Having | None, order: exp.Order | None, limit: int | None, offset: int | None,
                      distinct: bool) -> _Frame:  # fmt: skip
        entity_alias = ""
        key_refs = []
        for k in keys:
            ref = self.plain_ref(k, scope) if isinstance(_unparen(k), exp.Column) else None
            key_refs.append(ref)
        entity_noun = ""
        for ref in key_refs:
            if ref is None or ref.column is None or ref.scope is not scope:
                continue
            entity_alias, entity_noun = self.group_entity(ref, scope)
            if entity_alias:
                break
        if entity_alias:
            noun = entity_noun
            for ref in key_refs:
                if ref is None or (ref.alias != entity_alias and not entity_alias.startswith("fk:")):
                    if ref is None or not self.same_entity(ref, entity_alias, scope):
                        raise UnsupportedSQL("GROUP BY an entity and other columns")
            scope.focus = entity_alias if not entity_alias.startswith("fk:") else ""
        else:
            words = [self.key_noun(k, ref, scope) for k, ref in zip(keys, key_refs, strict=True)]
            noun = words[0] if len(words) == 1 else f"{_join(words)} combination"
        plural = names.pluralize(noun)
        # items
        items: list[_Item] = []
        key_sqls = {_key_sql(k) for k in keys}
        for e in select.expressions:
            inner = _unalias(e)
            if isinstance(inner, exp.Star) or (
                isinstance(inner, exp.Column) and isinstance(inner.this, exp.Star)
            ):
                raise UnsupportedSQL("SELECT * with GROUP BY")
            if _key_sql(inner) in key_sqls and not entity_alias:
                if len(keys) == 1:
                    items.append(_Item(sg=noun, self_ref=True))
                else:
                    items.append(_Item(sg=self.np(inner, scope), pl=names.pluralize(self.np(inner, scope))))
                continue
            if _has_aggregate(inner):
                items.append(_Item(sg=self.np(inner, scope)))
                continue
            ref = self.plain_ref(inner, scope) if isinstance(_unparen(inner), exp.Column) else None
            if ref is None and not isinstance(inner, exp.Literal):
                if _key_sql(inner) in key_sqls:
                    items.append(_Item(sg=self.np(inner, scope)))
                    continue
                raise UnsupportedSQL("expression over a column that is not grouped")
            if (
                ref is not None
                and entity_alias
                and not self.same_entity(ref, entity_alias, scope)
                and _key_sql(inner) not in key_sqls
            ):
                raise UnsupportedSQL("column that is not grouped beside a GROUP BY")
            if ref is not None and not entity_alias and _key_sql(inner) not in key_sqls:
                raise UnsupportedSQL("column that is not grouped beside a GROUP BY")
            np = self.np(inner, scope)
            items.append(_Item(sg=np, pl=names.pluralize(np) if "'s " not in np else None))
        h_clauses = self.conds(_conjuncts(having.this), scope) if having is not None else []
        note = clauses
        root_src = scope.sources[scope.root]
        frame = _Frame(noun=noun, plural=plural, clauses=h_clauses, items=items, grouped=True, note=note,
                       note_plural=root_src.virtual.bare_plural if root_src.virtual is not None and root_src.virtual.bare_plural else root_src.plural,
                       distinct=distinct, person=self.is_person(noun))  # fmt: skip
        self.apply_order(frame, order, select, scope, limit, offset)
        scope.focus = ""
        # groups exist only for rows with a match; say so only where it changes the answer (the fewest,
        # "fewer than"), as readers assume it otherwise
        asc = order is not None and not order.expressions[0].args.get("desc")
        small = having is not None and having.find(exp.LT, exp.LTE, exp.EQ) is not None
        if not (asc or small):
            frame.note = [c for c in frame.note if not c.implicit]
        return frame

    def group_entity(self, ref: _Ref, scope: _Scope) -> tuple[str, str]:
        """(alias, noun) of the entity a GROUP BY key identifies: a foreign key names the row it points
        to, a single-column primary key its own row; ("", "") for an ordinary column."""
        src = scope.sources[ref.alias]
        for e in scope.edges:
            if (
                (e.a, e.ca.lower()) == (ref.alias, ref.name.lower())
                and e.fk in ("ab", "11")
                and e.b in scope.rel
            ):
                return e.b, scope.rel[e.b].noun if scope.rel[e.b].one else self.role_noun(
                    scope, e.a, e.ca, scope.sources[e.b]
                )
            if (
                (e.b, e.cb.lower()) == (ref.alias, ref.name.lower())
                and e.fk in ("ba", "11")
                and e.a in scope.rel
            ):
                return e.a, scope.rel[e.a].noun if scope.rel[e.a].one else self.role_noun(
                    scope, e.b, e.cb, scope.sources[e.a]
                )
        if src.table is None:
            return "", ""
        for fk in src.table.foreign_keys:
            if len(fk.columns) == 1 and fk.columns[0].lower() == ref.name.lower():
                target = self._tables.get(fk.ref_table.lower())
                if target is not None and target is not src.table:
                    fake = _Source(alias="", noun=names.table_noun(target), plural="", table=target)
                    return f"fk:{ref.alias}.{ref.name.lower()}", self.role_noun(
                        scope, ref.alias, ref.name, fake
                    )
        if _is_key(src.table, ref.name):
            rel = scope.rel.get(ref.alias)
            return ref.alias, rel.noun if rel is not None else src.noun
        return "", ""

    def key_noun(self, key: exp.Expression, ref: _Ref | None, scope: _Scope) -> str:
        """The noun for groups formed by one GROUP BY key: ``genre``, ``publisher country``, ``teacher name``."""
        if ref is None or ref.scope is not scope:
            return self.np(key, scope)
        if ref.alias != scope.root:
            return self.col_np(ref, scope, compound=True)
        base = self.ref_base(ref)
        owner = scope.sources[ref.alias].noun
        generic = base.lower() in _GENERIC_COLUMNS or (len(scope.sources) > 1 and len(base.split()) == 1)
        if generic and not base.lower().startswith(owner.lower().split()[-1]):
            return f"{owner} {base}"
        return base

    def same_entity(self, ref: _Ref, entity_alias: str, scope: _Scope) -> bool:
        if entity_alias.startswith("fk:"):
            owner, col = entity_alias[3:].split(".", 1)
            return ref.alias == owner and ref.name.lower() == col
        if ref.alias == entity_alias:
            return True
        # the foreign-key column that points at the entity
        for e in scope.edges:
            if (e.a, e.ca.lower(), e.b) == (ref.alias, ref.name.lower(), entity_alias):
                return True
            if (e.b, e.cb.lower(), e.a) == (ref.alias, ref.name.lower(), entity_alias):
                return True
        return False

    # ---- virtual tables (CTEs and derived tables) ---------------------------------------------------
    def virtual_of(self, query: exp.Expression, name: str, outer: _Scope | None) -> _Virtual:
        if not isinstance(query, exp.Select):
            if isinstance(query, exp.SetOperation):
                np, _ = self.query_np(query, outer)
                first = query
                while isinstance(first, exp.SetOperation):
                    first = first.this
                if not isinstance(first, exp.Select):
                    raise UnsupportedSQL("derived table over a nested query")
                cols = {}
                order = []
                for e in first.expressions:
                    n = e.alias_or_name.lower()
                    cols[n] = _VColumn(name=e.alias_or_name, phrase=n.replace("_", " "), kind="unknown")
                    order.append(n)
                return _Virtual(name=name, noun="result row", plural="result rows", columns=cols, order=order,
                                note=f"of {np}")  # fmt: skip
            raise UnsupportedSQL("derived table over a non-SELECT")
        saved_frame = self._last_frame
        frame = self.frame_of(query, outer)
        self._last_frame = saved_frame
        scope = self.build_scope(query, outer)
        self.compute_relations(scope)
        cols: dict[str, _VColumn] = {}
        order: list[str] = []
        for e, item in zip(query.expressions, frame.items, strict=False):
            inner = _unalias(e)
            if isinstance(inner, exp.Star) or (
                isinstance(inner, exp.Column) and isinstance(inner.this, exp.Star)
            ):
                src = scope.sources[scope.root]
                if src.table is None or len(scope.sources) > 1:
                    raise UnsupportedSQL("SELECT * from a virtual table")
                for c in src.table.columns:
                    cols[c.name.lower()] = _VColumn(
                        name=c.name, phrase=names.column_name(c), kind=_column_kind(c)
                    )
                    order.append(c.name.lower())
                continue
            n = e.alias_or_name.lower() if (isinstance(e, exp.Alias) or isinstance(inner, exp.Column)) else ""
            if not n:
                n = e.sql().lower()
            kind = self.kind_of(inner, scope)
            phrase = item.sg if not item.self_ref else frame.noun
            cols[n] = _VColumn(name=n, phrase=phrase, kind=kind, entity=item.self_ref)
            order.append(n)
        if frame.aggregate_only:
            raise UnsupportedSQL("single-row aggregate used as a table")
        note_parts = []
        if frame.note:
            note_parts.append(
                f"{self.say('considering')} {frame.note_plural} {self.clauses_text(frame.note, True)}"
            )
        rels = self.clauses_text(frame.clauses, True)
        if frame.limit is not None or frame.offset:
            raise UnsupportedSQL("LIMIT/OFFSET inside a CTE or derived table")
        if frame.distinct:
            raise UnsupportedSQL("SELECT DISTINCT inside a CTE or derived table")
        plural = frame.plural + (f" {rels}" if rels else "")
        rels_sg = self.clauses_text(frame.clauses, False)
        full = frame.noun + (f" {rels_sg}" if rels_sg else "")
        if note_parts:
            plural = f"{plural} ({'; '.join(note_parts)})"
            full = f"{full} ({'; '.join(note_parts)})"
        keys: set[str] = set()
        group = query.args.get("group")
        if group is not None:
            key_sqls = {_key_sql(k) for k in group.expressions}
            keys = {e.alias_or_name.lower() for e in query.expressions if _key_sql(_unalias(e)) in key_sqls}
            if len(keys) != len(key_sqls):
                keys = set()
        return _Virtual(
            name=name, noun=frame.noun, plural=plural, columns=cols, order=order, noun_full=full, keys=keys,
            bare_plural=frame.plural, clauses=list(frame.clauses), note_clauses=list(frame.note),
            note_plural=frame.note_plural,
        )  # fmt: skip

    # ---- frames → noun phrases ------------------------------------------------------------------------
    def render_frame(self, f: _Frame) -> str:
        """The frame as a noun phrase; sets ``self.np_many`` to its grammatical number."""
        self.np_many = True
        if f.aggregate_only:
            self.np_many = len(f.items) > 1
            return self.render_aggregate(f)
        subject_rels = self.clauses_text(f.clauses, True)
        note = ""
        if f.note:
            note = f"{self.say('considering')} {f.note_plural} {self.clauses_text(f.note, True)}"
        items = [i for i in f.items if not i.self_ref]
        has_self = any(i.self_ref for i in f.items)
        distinct = f"{self.say('distinct')} " if f.distinct else ""
        ent_pl = f.plural
        entity_pl = f"{ent_pl} {subject_rels}".strip()

        if f.order and f.limit is not None and not f.offset:
            np = self.render_top(f, items, has_self, subject_rels)
            self.np_many = (f.limit or 1) > 1 or len(items) > 1
        elif f.order and f.limit is not None:
            np = self.render_offset(f, items, has_self, entity_pl)
        else:
            if items and all(i.star for i in items):
                np = f"{self.say('all_info')} {entity_pl}"
                if items[0].sg != "all details":
                    np = f"{items[0].sg} for {entity_pl}"
            elif not items:
                np = f"the {distinct}{entity_pl}"
            elif has_self:
                if self.style in ("imperative", "concise"):
                    rels_sg = self.clauses_text(f.clauses, False)
                    link = self.pick(("along with", "together with", "with"))
                    np = f"each {f.noun}{' ' + rels_sg if rels_sg else ''}{',' if rels_sg else ''} {link} its {self.item_list(items, plural=False)}"
                else:
                    np = f"the {entity_pl}{',' if subject_rels else ''} and the {self.item_list(items, plural=False)} of each"
            elif all(i.via for i in items) and len({i.via[1] for i in items if i.via}) == 1:
                relpl = items[0].via[1] if items[0].via else ""
                cols = _join([i.via[0] for i in items if i.via])
                np = f"the {distinct}{cols} of the {relpl} of {entity_pl}"
            elif all(i.pl for i in items) and (f.distinct or self.rng.random() < 0.5 or not f.clauses):
                np = f"the {distinct}{self.item_list(items, plural=True)} of {'all ' if not subject_rels and not f.grouped and self.rng.random() < 0.3 else ''}{entity_pl}"
            else:
                rels_sg = self.clauses_text(f.clauses, False)
                np = f"the {distinct}{self.item_list(items, plural=False)} of each {f.noun}{' ' + rels_sg if rels_sg else ''}"
                self.np_many = len(items) > 1
            if f.offset:
                np += f", skipping the first {f.offset} {'row' if f.offset == 1 else 'rows'}"
            if f.limit is not None:
                np += f", limited to {f.limit} {'row' if f.limit == 1 else 'rows'}"
            if f.order:
                np += f", {self.sorted_word()}{self.order_text(f)}"
        if note:
            np = f"{np}, {note}"
        return np

    def shared_setop(self, kind: str, frames: list[_Frame | None], node: exp.Expression) -> str | None:
        """Both sides ask for the same columns of the same rows: "the names shared by X and Y"."""
        if any(f is None for f in frames):
            return None
        fs = [f for f in frames if f is not None]
        first = fs[0]
        for f in fs:
            if (
                f.aggregate_only
                or f.order
                or f.limit is not None
                or f.note
                or any(i.self_ref or i.star for i in f.items)
            ):
                return None
            if [(i.sg, i.pl, i.via) for i in f.items] != [(i.sg, i.pl, i.via) for i in first.items]:
                return None
        items = first.items
        if all(i.pl for i in items):
            what = _join([i.pl or "" for i in items])
        elif all(i.via for i in items) and len({i.via[1] for i in items if i.via}) == 1:
            what = f"{_join([i.via[0] for i in items if i.via])} of the {items[0].via[1] if items[0].via else ''}"
        else:
            what = _join([i.sg for i in items])
        entities = []
        for f in fs:
            rels = self.clauses_text(f.clauses, True)
            entities.append(f"{f.plural} {rels}".strip() if rels else f"all {f.plural}")
        if len(set(entities)) != len(entities):
            return None
        if kind == "intersect":
            if len(entities) == 2:
                return self.pick((f"the {what} shared by {entities[0]} and {entities[1]}",
                                  f"the {what} found both among {entities[0]} and among {entities[1]}"))  # fmt: skip
            return f"the {what} shared by {_join(entities)}"
        if kind == "except":
            return self.pick((f"the {what} of {entities[0]} but not of {_join(entities[1:], 'or')}",
                              f"the {what} of {entities[0]}, except those of {_join(entities[1:], 'or')}"))  # fmt: skip
        if node.args.get("distinct") is False:
            return f"the {what} of {_join(entities, 'and')}, keeping duplicates"
        return (
            f"the {what} of {_join(entities, 'or of')}"
            if len(entities) == 2
            else f"the {what} of any of {_join(entities, 'or')}"
        )

    def sorted_word(self) -> str:
        word = self.say("sorted")
        return f"{word} " if word else ""

    def order_text(self, f: _Frame) -> str:
        parts = [o[0] for o in f.order]
        if len(parts) == 1:
            return parts[0]
        return f"{parts[0]}, then {_join(parts[1:], 'then')}"

    def item_list(self, items: list[_Item], plural: bool) -> str:
        words = [(i.pl if plural and i.pl else i.sg) for i in items]
        if len(words) > 1 and any(" and " in w for w in words):
            return (
                f"{', '.join(words[:-1])}, and {words[-1]}"  # keep "first name and last name joined …" apart
            )
        return _join(words)

    def render_top(self, f: _Frame, items: list[_Item], has_self: bool, subject_rels: str) -> str:
        sup = f.order[0][1]
        ties = ""
        if len(f.order) > 1:
            ties = f" (ties broken {_join([o[0] for o in f.order[1:]], 'then')})"
        among = f" among {f.plural} {subject_rels}" if subject_rels else ""
        k = f.limit or 1
        if k == 1:
            head = f"the {f.noun} with the {sup}{ties}{among}"
            if not items:
                return head
            if has_self:
                return f"{head}, along with its {self.item_list(items, False)}"
            distinct = f"{self.say('distinct')} " if f.distinct else ""
            return f"the {distinct}{self.item_list(items, False)} of {head}"
        head = f"the {k} {f.plural} with the {sup}{ties}{among}"
        if self.rng.random() < 0.3 and not ties and "highest" in sup and self.style != "formal":
            head = f"the top {k} {f.plural} by {sup.split(' ', 1)[1]}{among}"
        if not items:
            return head
        if has_self:
            return f"{head}, and the {self.item_list(items, False)} of each"
        plural_ok = all(i.pl for i in items)
        distinct = f"{self.say('distinct')} " if f.distinct else ""
        return f"the {distinct}{self.item_list(items, plural_ok)} of {head}"

    def render_offset(self, f: _Frame, items: list[_Item], has_self: bool, entity_pl: str) -> str:
        k, off = f.limit, f.offset
        distinct = f"{self.say('distinct')} " if f.distinct else ""
        what = f"the {distinct}{self.item_list(items, True)} of " if items else ""
        head = f"the {f.noun} that comes" if k == 1 else f"the {k} {f.plural} that come"
        return f"{what}{head} after the first {off} when {entity_pl} are sorted {self.order_text(f)}"

    def render_aggregate(self, f: _Frame) -> str:
        text = self._render_aggregate(f)
        if f.note:
            text += f", {self.say('considering')} {f.note_plural} {self.clauses_text(f.note, True)}"
        return text

    def _render_aggregate(self, f: _Frame) -> str:
        rels = self.clauses_text(f.clauses, True)
        entity = f"{f.plural} {rels}".strip()
        items = f.items
        if len(items) == 1 and items[0].count_all:
            return f"the {self.say('number')} of {entity}"
        if all(i.agg and i.agg_arg for i in items) and len({i.agg_arg for i in items}) == 1:
            words = _join([i.agg for i in items])
            return f"the {words} {items[0].agg_arg} of {'all ' if not rels else ''}{entity}"
        if all((i.agg and i.agg_arg) or i.count_all for i in items):
            parts = [("number" if i.count_all else i.sg) for i in items]
            return f"the {_join(parts)} of {'all ' if not rels else ''}{entity}"
        parts = [_the(i.sg) for i in items]
        if all(i.self_contained for i in items):
            return _join(parts) if not rels else f"{_join(parts)} among {entity}"
        return f"{_join(parts)} {'for' if self.rng.random() < 0.5 else 'over'} {'all ' if not rels else ''}{entity}"

    # ---- set operations --------------------------------------------------------------------------------
    def setop_np(self, node: exp.SetOperation, outer: _Scope | None) -> str:
        kind = node.key.lower()
        if kind not in ("union", "intersect", "except"):
            raise UnsupportedSQL(f"set operation {kind.upper()}")
        chain = _flatten_setop(node)
        frames: list[_Frame | None] = []
        nps = []
        for part in chain:
            if isinstance(part, exp.Select) and part.args.get("with_") is None:
                frame = self.frame_of(part, outer)
                frames.append(frame)
                nps.append(self.render_frame(frame))
            else:
                frames.append(None)
                nps.append(self.query_np(part, outer)[0])
        shared = self.shared_setop(kind, frames, node)
        if shared is not None:
            text = shared
        elif kind == "union":
            if node.args.get("distinct") is False:
                text = f"{_join(nps, 'and')}, keeping duplicates"
            elif len(nps) == 2:
                text = self.pick((f"{nps[0]}, together with {nps[1]}", f"{nps[0]}, combined with {nps[1]}"))
            else:
                text = f"{_join(nps)} combined"
        elif kind == "intersect":
            text = (
                f"the values found both in {nps[0]} and in {_join(nps[1:], 'and in')}"
                if len(nps) == 2
                else (f"the values found in all of {_join(nps)}")
            )
        else:
            text = f"{nps[0]}, excluding those that are also {_join(nps[1:], 'or')}"
        order = node.args.get("order")
        limit = node.args.get("limit")
        if order is not None or limit is not None:
            first = chain[0]
            if not isinstance(first, exp.Select):
                raise UnsupportedSQL("ORDER BY over a nested set operation")
            scope = self.build_scope(first, outer)
            self.compute_relations(scope)
            lim, off = self.limit_of(node) if isinstance(node, exp.Select) else _setop_limit(node)
            if order is not None:
                keys = []
                for o in order.expressions:
                    keys.append(
                        self.ordering(self.positional(o.this, first), bool(o.args.get("desc")), scope)
                    )
                text += f", {self.sorted_word()}{_join(keys, 'then')}"
            if lim is not None:
                text += f", keeping only the first {lim} {'row' if lim == 1 else 'rows'}"
            if off:
                raise UnsupportedSQL("OFFSET on a set operation")
        return text


# =================================================================================================
# AST helpers
# =================================================================================================
_DATE_PARTS = {
    "%Y": "year", "%m": "month", "%d": "day of the month", "%H": "hour", "%M": "minute", "%S": "second",
    "%Y-%m": "year and month", "%Y-%m-%d": "date", "%w": "day of the week", "%j": "day of the year",
    "%W": "week of the year", "%H:%M": "time", "%H:%M:%S": "time",
}  # fmt: skip
#: verbs of predicates, singular → plural, for plural subjects ("whose pages exceed 300")
_PLURAL_VERBS = {
    "is": "are", "isn't": "aren't", "exceeds": "exceed", "includes": "include", "contains": "contain",
    "begins": "begin", "starts": "start", "ends": "end", "differs": "differ", "does": "do", "matches": "match",
    "doesn't": "don't",
}  # fmt: skip
_ROLE_STOPWORDS = {"in", "of", "by", "for", "on", "at", "to", "with", "from", "is", "has", "was"}
_GENERIC_COLUMNS = {
    "name", "id", "ID", "code", "type", "title", "year", "date", "number", "status", "description", "category",
    "kind", "class", "level", "rank", "value", "amount", "label", "grade", "size", "color", "colour",
}  # fmt: skip
_SQL_OP = {"eq": "=", "neq": "!=", "gt": ">", "lt": "<", "ge": ">=", "le": "<="}


def _date_words(m: re.Match[str]) -> str:
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not 1 <= mo <= 12 or not 1 <= d <= 31:
        return f"'{m.group(0)}'"
    text = f"{_MONTHS[mo - 1]} {d}, {y}"
    if m.group(4):
        text += f" at {m.group(4)}:{m.group(5)}" + (
            f":{m.group(6)}" if m.group(6) and m.group(6) != "00" else ""
        )
    return text


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    node = _unparen(node)
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


def _flatten(node: exp.Expression, kind: type) -> list[exp.Expression]:
    node = _unparen(node)
    if isinstance(node, kind):
        return _flatten(node.this, kind) + _flatten(node.expression, kind)
    return [node]


def _flatten_setop(node: exp.Expression) -> list[exp.Expression]:
    out: list[exp.Expression] = []
    kind = type(node)
    distinct = node.args.get("distinct")

    def walk(n: exp.Expression) -> None:
        if (
            type(n) is kind
            and n.args.get("distinct") == distinct
            and not n.args.get("order")
            and not n.args.get("limit")
        ):
            walk(n.this)
            walk(n.expression)
        elif isinstance(n, exp.Subquery):
            walk(n.this)
        else:
            out.append(n)

    walk(node.this)
    walk(node.expression)
    return out


def _setop_limit(node: exp.Expression) -> tuple[int | None, int | None]:
    limit = node.args.get("limit")
    offset = node.args.get("offset")
    lv = ov = None
    if limit is not None:
        text = _literal_text(limit.expression)
        if text is None or not _is_int_text(text):
            raise UnsupportedSQL("LIMIT with a computed value")
        lv = int(text)
    if offset is not None:
        text = _literal_text(offset.expression)
        if text is None or not _is_int_text(text):
            raise UnsupportedSQL("OFFSET with a computed value")
        ov = int(text)
    return lv, ov


def _unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _unalias(node: exp.Expression) -> exp.Expression:
    return node.this if isinstance(node, exp.Alias) else node


def _uncast(node: exp.Expression) -> exp.Expression:
    node = _unparen(node)
    while isinstance(node, exp.Cast):
        node = _unparen(node.this)
    return node


def _untime(node: exp.Expression) -> exp.Expression:
    while isinstance(node, (exp.TsOrDsToTimestamp, exp.TsOrDsToDate, exp.TimeStrToTime)):
        node = node.this
    return node


def _is_time_func(node: exp.Expression) -> bool:
    return isinstance(_unparen(node), exp.TimeToStr)


def _literal_text(node: exp.Expression) -> str | None:
    node = _unparen(node)
    if isinstance(node, exp.Cast):
        return _literal_text(node.this)
    if isinstance(node, exp.Literal):
        return str(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return f"-{node.this.this}"
    if isinstance(node, exp.Column) and not node.table and node.this.args.get("quoted"):
        return node.name
    return None


def _is_hundred(node: exp.Expression) -> bool:
    text = _literal_text(node)
    return (
        text is not None
        and text.replace(".0", "").rstrip("0").rstrip(".") in ("100", "1")
        and float(text) == 100
    )


def _is_count_all(node: exp.Expression) -> bool:
    node = _uncast(node)
    return isinstance(node, exp.Count) and (isinstance(node.this, exp.Star) or node.this is None)


def _count_if(arg: exp.Expression) -> exp.Expression | None:
    """``COUNT(CASE WHEN c THEN 1 END)`` → c."""
    arg = _unparen(arg)
    if isinstance(arg, exp.Case) and arg.this is None and len(arg.args.get("ifs") or []) == 1:
        default = arg.args.get("default")
        if default is None or isinstance(default, exp.Null):
            return arg.args["ifs"][0].this
    if isinstance(arg, exp.If) and (
        arg.args.get("false") is None or isinstance(arg.args.get("false"), exp.Null)
    ):
        return arg.this
    return None


def _case_indicator(node: exp.Expression) -> tuple[exp.Expression | None, str]:
    """``CASE WHEN c THEN 1 ELSE 0 END`` → (c, '1')."""
    node = _unparen(node)
    if isinstance(node, exp.Case) and node.this is None and len(node.args.get("ifs") or []) == 1:
        then = _literal_text(node.args["ifs"][0].args.get("true"))
        default = node.args.get("default")
        if (
            then is not None
            and then.rstrip("0").rstrip(".") == "1"
            and (default is None or _literal_text(default) in ("0", "0.0"))
        ):
            return node.args["ifs"][0].this, "1"
    if isinstance(node, exp.If):
        then = _literal_text(node.args.get("true"))
        other = node.args.get("false")
        if (
            then is not None
            and then.rstrip("0").rstrip(".") == "1"
            and (other is None or _literal_text(other) in ("0", "0.0"))
        ):
            return node.this, "1"
    return None, ""


_CONDITIONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.And, exp.Or, exp.Not, exp.Like, exp.In,
               exp.Between, exp.Is)  # fmt: skip


def _case_value(node: exp.Expression) -> tuple[exp.Expression | None, exp.Expression | None]:
    """``CASE WHEN c THEN x ELSE 0 END`` (or ELSE NULL, or IIF) → (x, c)."""
    node = _unparen(node)
    if isinstance(node, exp.Case) and node.this is None and len(node.args.get("ifs") or []) == 1:
        then, cond, other = (
            node.args["ifs"][0].args.get("true"),
            node.args["ifs"][0].this,
            node.args.get("default"),
        )
    elif isinstance(node, exp.If):
        then, cond, other = node.args.get("true"), node.this, node.args.get("false")
    else:
        return None, None
    if then is None or isinstance(then, exp.Literal):
        return None, None
    if other is None or isinstance(other, exp.Null) or _literal_text(other) in ("0", "0.0"):
        return then, cond
    return None, None


def _conditional_count(node: exp.Expression) -> exp.Expression | None:
    node = _uncast(node)
    if isinstance(node, exp.Sum) and isinstance(_unparen(node.this), _CONDITIONS):
        return _unparen(node.this)
    if isinstance(node, exp.Sum):
        cond, then = _case_indicator(node.this)
        return cond if then == "1" else None
    if isinstance(node, exp.Count) and not isinstance(node.this, exp.Distinct):
        return _count_if(node.this)
    return None


def _julian_arg(node: exp.Expression) -> exp.Expression | None:
    node = _unparen(node)
    if isinstance(node, exp.Anonymous) and _func_name(node) == "julianday" and len(node.expressions) == 1:
        return node.expressions[0]
    return None


def _is_now(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and str(node.this).lower() == "now"


def _is_compound(node: exp.Expression) -> bool:
    return isinstance(
        _unparen(node), (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Case, exp.If, exp.DPipe)
    )


def _has_aggregate(node: exp.Expression) -> bool:
    """True when ``node`` aggregates rows of its own query (not inside a window or a subquery)."""
    for agg in node.find_all(exp.AggFunc):
        inside, parent = False, agg
        while parent is not None:
            if parent is not agg and isinstance(parent, (exp.Window, exp.Subquery, exp.Select)):
                inside = True
                break
            if parent is node:
                inside = isinstance(parent, exp.Window)
                break
            parent = parent.parent
        if not inside:
            return True
    return False


def _key_sql(node: exp.Expression) -> str:
    node = _unparen(_unalias(node))
    if isinstance(node, exp.Column):
        return node.name.lower() + "@" + (node.table or "").lower()
    return node.sql().lower()


def _refers(table: Table, column: str, ref_table: Table, ref_column: str) -> bool:
    for fk in table.foreign_keys:
        if fk.ref_table.lower() != ref_table.name.lower():
            continue
        for c, r in zip(fk.columns, fk.ref_columns, strict=False):
            if c.lower() == column.lower() and r.lower() == ref_column.lower():
                return True
    return False


def _refers_all(table: Table, columns: list[str], ref_table: Table, ref_columns: list[str]) -> bool:
    """True when one foreign key of ``table`` maps exactly ``columns`` onto ``ref_columns``."""
    want = {(c.lower(), r.lower()) for c, r in zip(columns, ref_columns, strict=True)}
    for fk in table.foreign_keys:
        if fk.ref_table.lower() != ref_table.name.lower():
            continue
        pairs = {(c.lower(), r.lower()) for c, r in zip(fk.columns, fk.ref_columns, strict=False)}
        if pairs == want or (len(want) == 1 and want <= pairs):
            return True
    return False


def _names_table(column: str, table: Table) -> bool:
    words = set(names.split_words(column))
    noun = set(names.split_words(names.singularize(names.humanize(table.name)))) - {"id"}
    return bool(noun) and noun <= words


def _is_key(table: Table, column: str) -> bool:
    pk = [c.lower() for c in table.primary_key]
    if pk == [column.lower()]:
        return True
    if not pk:
        return any(c.primary_key and c.name.lower() == column.lower() for c in table.columns) and (
            sum(1 for c in table.columns if c.primary_key) == 1
        )
    return False


# =================================================================================================
# Public API
# =================================================================================================
def realize_question(
    sql: str, schema: Schema, style: str, rng: random.Random, with_evidence: bool = False
) -> Realization:
    """A natural-language question for ``sql`` (SQLite) over ``schema`` in ``style``.

    The same ``rng`` state gives the same text. With ``with_evidence``, BIRD-style evidence names the
    coded values, formulas and date parts the question paraphrases. Raises :class:`UnsupportedSQL`
    (naming the construct) for SQL it cannot phrase faithfully, and :class:`ValueError` for an unknown
    style.
    """
    if style not in STYLES:
        raise ValueError(f"unknown question style {style!r}; choose one of {', '.join(STYLES)}")
    try:
        tree = parse_sql(sql, "sqlite", copy=False)
    except SQLParseError as exc:
        raise UnsupportedSQL(f"unparseable SQL: {exc}") from None
    realizer = _Realizer(schema, style, rng, with_evidence)
    try:
        text = realizer.question(tree)
    except RecursionError:
        raise UnsupportedSQL("query nested too deeply") from None
    except (KeyError, AttributeError, TypeError, IndexError) as exc:  # a shape the rules do not expect
        raise UnsupportedSQL(f"unexpected query shape ({type(exc).__name__}: {exc})") from None
    text = re.sub(r"\s+", " ", text).replace(" ,", ",").strip()
    evidence = "; ".join(realizer.evidence) if with_evidence and realizer.evidence else None
    return Realization(question=text, style=style, evidence=evidence)
