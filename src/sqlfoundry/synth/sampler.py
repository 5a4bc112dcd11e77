"""Sample SQLite queries over a database's schema graph: recipes per skill that walk foreign-key paths,
pick columns by type and fill in real values from introspection, tagged with skills and complexity.

:func:`sample_queries` is the entry point; :class:`SamplerConfig` holds every option and
:class:`SamplerReport` counts what was skipped or rejected. ``docs/synth-sampler.md`` lists the recipes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..db.schema_model import Column, Schema, Table
from ..errors import SQLFoundryError
from ..sql.skills import SKILLS, ComplexityCounts, complexity_from_counts, sql_complexity, sql_skills
from .types import REASONING_SKILLS, SQL_SKILLS, SampledQuery

COMPLEXITY_LEVELS = ("simple", "moderate", "complex", "highly_complex")
VALUE_SOURCES = ("stats", "samples")
TAG_SOURCES = ("construction", "sqlglot")
#: recipe tags beyond :data:`sqlfoundry.sql.skills.SKILLS` that skill weights may name
RECIPE_TAGS = ("ratio", "exists")
#: names in :data:`sqlfoundry.synth.types.SQL_SKILLS` that ``sql_skills`` spells differently
_SKILL_ALIASES = {"string": "string_function"}


class SamplerConfigError(SQLFoundryError, ValueError):
    """A sampler option that makes no sense (unknown level or skill, negative weight, ...)."""


@dataclass
class SamplerConfig:
    """Options of :func:`sample_queries`; the defaults sample every level and skill evenly."""

    #: same seed, schema and options → the same statements in the same order
    seed: int = 0
    #: relative weight of each complexity level; a level left out of a given dict has weight 0
    complexity_weights: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(COMPLEXITY_LEVELS, 1.0)
    )
    #: multipliers (default 1) for recipes and predicate kinds tagged with a skill: a SQL skill
    #: (``sql.skills.SKILLS``), a ReasTAP reasoning skill, or ``ratio``/``exists``; 0 turns them off
    skill_weights: dict[str, float] = field(default_factory=dict)
    #: most foreign-key hops in one FROM clause (0 turns joins off)
    max_joins: int = 3
    #: allow LENGTH/UPPER/SUBSTR/|| ...
    string_functions: bool = True
    #: allow strftime/julianday (plain date comparisons with literals are always allowed)
    date_functions: bool = True
    #: allow col*col, col-col, date differences and percentages
    arithmetic: bool = True
    #: ``stats``: values from column samples and from the [min, max] range; ``samples``: samples only
    value_source: str = "stats"
    #: largest k in ``ORDER BY … LIMIT k``
    max_limit: int = 10
    #: ``construction``: tags and level tracked while building (fast); ``sqlglot``: computed with
    #: ``sql.skills.sql_skills``/``sql_complexity`` from the finished SQL (about 300 statements/s)
    tag_source: str = "construction"
    #: consecutive failed attempts at one level before the level is given up as unreachable
    max_attempts: int = 300

    def __post_init__(self) -> None:
        bad = [k for k in self.complexity_weights if k not in COMPLEXITY_LEVELS]
        if bad:
            raise SamplerConfigError(
                f"unknown complexity level(s) {', '.join(map(repr, bad))}: use {', '.join(COMPLEXITY_LEVELS)}"
            )
        weights = {lvl: float(self.complexity_weights.get(lvl, 0.0)) for lvl in COMPLEXITY_LEVELS}
        if any(not math.isfinite(w) or w < 0 for w in weights.values()) or not any(weights.values()):
            raise SamplerConfigError("complexity weights must be finite and >= 0, with at least one > 0")
        self.complexity_weights = weights
        known = set(SKILLS) | set(SQL_SKILLS) | set(REASONING_SKILLS) | set(RECIPE_TAGS)
        skill_weights = {}
        for name, w in self.skill_weights.items():
            if name not in known:
                raise SamplerConfigError(
                    f"unknown skill {name!r} in skill_weights: use {', '.join(sorted(known))}"
                )
            if not math.isfinite(float(w)) or float(w) < 0:
                raise SamplerConfigError(f"skill weight for {name!r} must be finite and >= 0, got {w!r}")
            skill_weights[_SKILL_ALIASES.get(name, name)] = float(w)
        self.skill_weights = skill_weights
        if not 0 <= self.max_joins <= 8:
            raise SamplerConfigError(f"max_joins must be between 0 and 8, got {self.max_joins}")
        if self.value_source not in VALUE_SOURCES:
            raise SamplerConfigError(f"value_source must be one of {', '.join(VALUE_SOURCES)}")
        if self.tag_source not in TAG_SOURCES:
            raise SamplerConfigError(f"tag_source must be one of {', '.join(TAG_SOURCES)}")
        if self.max_limit < 1 or self.max_attempts < 1:
            raise SamplerConfigError("max_limit and max_attempts must be >= 1")


@dataclass
class SamplerReport:
    """What a sampling run skipped and rejected, filled in while :func:`sample_queries` iterates."""

    #: statements yielded
    sampled: int = 0
    #: table name → why it is never sampled (e.g. ``empty table``)
    skipped_tables: dict[str, str] = field(default_factory=dict)
    #: skipped schema items (tables, foreign keys) by reason
    skipped: Counter = field(default_factory=Counter)
    #: discarded attempts by reason (``<recipe>: not applicable``, ``<recipe>: level mismatch``)
    rejected: Counter = field(default_factory=Counter)
    #: yielded statements by recipe
    recipes: Counter = field(default_factory=Counter)
    #: levels with weight > 0 that this schema cannot produce, with the reason
    unreachable_levels: dict[str, str] = field(default_factory=dict)


def sample_queries(
    schema: Schema,
    config: SamplerConfig | None = None,
    n: int | None = None,
    *,
    report: SamplerReport | None = None,
) -> Iterator[SampledQuery]:
    """SQLite statements over ``schema``, ``n`` of them (endless when ``n`` is None).

    Deterministic for a seed. The iterator ends early only when no level with weight > 0 can be
    produced on this schema (e.g. every table is empty); ``report`` then says why.
    """
    if n is not None and n < 0:
        raise SamplerConfigError(f"n must be >= 0, got {n}")
    sampler = _Sampler(schema, config or SamplerConfig(), report if report is not None else SamplerReport())
    return sampler.iterate(n)


# ================================================================================================
# schema profile: columns by role, tables by what they can support, the foreign-key graph
# ================================================================================================

_SIMPLE_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# SQLite keywords plus names that sqlglot reads as functions, types or literals: always quoted.
_RESERVED = frozenset(
    """abort action add after all alter always analyze and as asc attach autoincrement before begin
    between by cascade case cast check collate column commit conflict constraint create cross current
    current_date current_time current_timestamp database default deferrable deferred delete desc detach
    distinct do drop each else end escape except exclude exclusive exists explain fail filter first
    following for foreign from full generated glob group groups having if ignore immediate in index
    indexed initially inner insert instead intersect into is isnull join key last left like limit match
    materialized natural no not nothing notnull null nulls of offset on or order others outer over
    partition plan pragma preceding primary query raise range recursive references regexp reindex
    release rename replace restrict returning right rollback row rows savepoint select set table temp
    temporary then ties to transaction trigger unbounded union unique update using vacuum values view
    virtual when where window with without true false date time datetime timestamp year month day
    hour minute second week quarter interval user text integer int real float double char varchar
    boolean bool number numeric decimal blob level format top div mod count sum avg min max length
    upper lower substr substring strftime julianday rank percent rowid oid array map struct""".split()
)
_ID_LIKE = re.compile(r"(?i)(^id$|[_ ]id$|^id[_ ]|(?<=[a-z])ID$)|(?<=[a-z])Id$")
_CODE_LIKE = re.compile(r"(?i)(zip|phone|postcode|postal|fax|isbn|ssn|iban|code)$")
_ORDINAL_LIKE = re.compile(r"(?i)(year|order|rank|position|seq|level|grade|rating|stars|(^|_)no$)")
_QUANTITY_LIKE = re.compile(r"(?i)(quantity|qty|count|units|hours|copies|pieces|nights|seats|num_|number_of)")
_PRICE_LIKE = re.compile(r"(?i)(price|cost|rate|fee|wage|salary|tax|amount|weight)")
_NAME_TOKENS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_GENERIC_TOKENS = frozenset({"id", "no", "num", "number", "of", "the", "is", "a", "total", "value"})
_LABEL_LIKE = re.compile(r"(?i)(name|title|label)$")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9]{2,}")
_DATE_SUFFIX = re.compile(r"(?i)(_at|_on|_date|_time|date|_dt)$")


def _ident(name: str) -> str:
    if _SIMPLE_IDENT.match(name) and name.lower() not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def _slug(text: str, fallback: str = "value") -> str:
    s = re.sub(r"[^0-9a-z]+", "_", str(text).lower()).strip("_")
    if not s:
        s = fallback
    if s[0].isdigit():
        s = f"{fallback}_{s}"
    return s[:40].rstrip("_")


def _alias(*parts: str) -> str:
    """An output-column alias made of identifier-safe parts (never a keyword)."""
    name = "_".join(_slug(p) for p in parts if p)
    return name if name.lower() not in _RESERVED else name + "_value"


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _as_date(v: object) -> dt.date | None:
    if not isinstance(v, str) or len(v) < 10:
        return None
    try:
        return dt.date.fromisoformat(v[:10])
    except ValueError:
        return None


@dataclass(eq=False)
class _Col:
    name: str
    q: str  # quoted identifier
    role: str  # measure | ordinal | key | text | date | time | boolean | other
    distinct: int | None
    nulls: int | None
    samples: list
    lo: object = None
    hi: object = None
    integer: bool = False
    categorical: bool = False  # a GROUP BY key: a few distinct values, repeated
    unique: bool = False

    @property
    def has_nulls(self) -> bool:
        return bool(self.nulls)


@dataclass(eq=False)
class _Edge:
    """A foreign key: child columns reference parent columns (same length, possibly the same table)."""

    child: _Tab
    child_cols: list[_Col]
    parent: _Tab
    parent_cols: list[_Col]

    @property
    def self_ref(self) -> bool:
        return self.child is self.parent


@dataclass(eq=False)
class _Tab:
    name: str
    q: str
    rows: int | None
    cols: list[_Col]
    pk: list[_Col]
    label: _Col
    measures: list[_Col] = field(default_factory=list)  # SUM/AVG make sense
    numbers: list[_Col] = field(default_factory=list)  # measures and ordinals (years): compare, order
    texts: list[_Col] = field(default_factory=list)  # text with sample values
    dates: list[_Col] = field(default_factory=list)  # ISO dates / date-times with a range
    groups: list[_Col] = field(default_factory=list)  # GROUP BY keys
    filterable: list[_Col] = field(default_factory=list)  # columns a predicate can be written on
    shown: list[_Col] = field(default_factory=list)  # columns worth projecting
    edges: list[_Edge] = field(default_factory=list)  # every FK this table takes part in


def _column_role(table: Table, col: Column, fk_cols: set[str]) -> str:
    t = col.inferred_type
    keyish = (
        col.primary_key
        or col.name.lower() in fk_cols
        or bool(_ID_LIKE.search(col.name))
        or bool(_CODE_LIKE.search(col.name))
    )
    if t == "boolean":
        return "boolean" if not keyish else "key"
    if t in ("integer", "real", "numeric"):
        if keyish:
            return "key"
        if col.min is not None and not (_is_number(col.min) and _is_number(col.max)):
            return "other"  # declared numeric, holds text: nothing numeric is safe
        return "ordinal" if _ORDINAL_LIKE.search(col.name) else "measure"
    if t in ("date", "datetime"):
        return "date" if _as_date(col.min) and _as_date(col.max) else "other"
    if t == "time":
        return "time"
    if t == "text":
        return "key" if keyish and (col.primary_key or col.name.lower() in fk_cols) else "text"
    return "other"


def _profile_column(table: Table, col: Column, fk_cols: set[str]) -> _Col:
    role = _column_role(table, col, fk_cols)
    rows = table.row_count
    samples: list = []
    for v in col.samples:
        if v is None or isinstance(v, bytes):
            continue
        if role in ("measure", "ordinal") and not _is_number(v):
            continue
        if role in ("text", "date", "time") and (
            not isinstance(v, str)
            or v.endswith("…")
            or len(v) > 60
            or any(ch in v for ch in "\n\r\t\x00\x01")
        ):
            continue
        samples.append(v)
    c = _Col(
        name=col.name,
        q=_ident(col.name),
        role=role,
        distinct=col.distinct_count,
        nulls=col.null_count,
        samples=samples,
        lo=col.min,
        hi=col.max,
        integer=col.inferred_type == "integer",
    )
    if role == "measure" and c.lo is None and samples:
        c.lo, c.hi = min(samples), max(samples)
    if role == "date":
        c.lo, c.hi = _as_date(col.min), _as_date(col.max)
    d = col.distinct_count
    if d is not None and rows:
        c.unique = d == rows and not col.null_count
        limit = max(2, min(50, rows // 2))
        mostly_null = (col.null_count or 0) * 2 > rows
        c.categorical = (
            2 <= d <= limit and role in ("text", "ordinal", "measure") and d < rows and not mostly_null
        )
        if role == "measure" and d > 12:
            c.categorical = False
    return c


def _profile_table(table: Table) -> tuple[_Tab | None, str | None]:
    """The table's profile, or None and why it is skipped."""
    if table.row_count == 0:
        return None, "empty table"
    if not table.columns:
        return None, "no columns"
    fk_cols = {c.lower() for fk in table.foreign_keys for c in fk.columns}
    cols = [_profile_column(table, c, fk_cols) for c in table.columns]
    by_name = {c.name.lower(): c for c in cols}
    pk = [by_name[n.lower()] for n in table.primary_key if n.lower() in by_name]
    if not pk:
        pk = [c for c, src in zip(cols, table.columns, strict=True) if src.primary_key]
    rows = table.row_count or 0
    texts = [c for c in cols if c.role == "text" and not (rows and (c.nulls or 0) * 2 > rows)]
    labels = [c for c in texts if _LABEL_LIKE.search(c.name)]
    if labels:
        label = labels[0]
    elif texts:
        label = max(texts, key=lambda c: c.distinct or 0)
    else:
        label = pk[0] if pk else cols[0]
    t = _Tab(name=table.name, q=_ident(table.name), rows=table.row_count, cols=cols, pk=pk, label=label)
    for c in cols:
        has_values = bool(c.samples) or c.lo is not None
        if c.role == "measure" and c.lo is not None:
            t.measures.append(c)
        if c.role in ("measure", "ordinal") and c.lo is not None:
            t.numbers.append(c)
        if c.role == "text" and c.samples:
            t.texts.append(c)
        if c.role == "date" and c.lo is not None:
            t.dates.append(c)
        if c.categorical and c.samples:
            t.groups.append(c)
        if c.role in ("measure", "ordinal", "text", "date", "time", "boolean") and (
            has_values or c.has_nulls
        ):
            t.filterable.append(c)
        if c.role != "other" and (c.role != "key" or c is label):
            t.shown.append(c)
    if not t.shown:
        t.shown = [label]
    return t, None


# ================================================================================================
# one statement under construction: the facts its skills and complexity are read from
# ================================================================================================


@dataclass
class _Pred:
    sql: str
    skills: tuple[str, ...] = ()
    reasoning: tuple[str, ...] = ()
    #: AND/OR connectors inside the predicate (a subquery's WHERE), counted by the WHERE around it
    inner: int = 0
    #: a join correlation or NULL guard, not a condition a question states
    structural: bool = False


class _Facts:
    """Everything :func:`sql_skills` and :func:`complexity_counts` would read off the finished SQL,
    tracked while it is written."""

    def __init__(self) -> None:
        self.skills: set[str] = {"projection"}
        self.reasoning: set[str] = set()
        self.tables: list[str] = []
        self.joins = self.subqueries = self.depth = self.set_ops = self.aggs = 0
        self.where_conds = self.ctes = self.windows = 0
        self.group = self.having = self.case = False
        self.order_keys: list[str] = []
        self.order_limited = False

    def use(self, *tables: _Tab) -> None:
        for t in tables:
            if t.name not in self.tables:
                self.tables.append(t.name)

    def add(self, pred: _Pred) -> None:
        self.skills.update(pred.skills)
        self.reasoning.update(pred.reasoning)

    def where(self, preds: list[_Pred], connector: str = "AND") -> tuple[str, int]:
        """`` WHERE …`` for ``preds`` (empty string for none) and the connectors it holds."""
        if not preds:
            return "", 0
        for p in preds:
            self.add(p)
        self.skills.add("filter")
        connectors = len(preds) - 1 + sum(p.inner for p in preds)
        self.where_conds += 1 + connectors
        if sum(1 for p in preds if not p.structural) >= 2:
            self.reasoning.add("conjunction")
        return " WHERE " + f" {connector} ".join(p.sql for p in preds), connectors

    def agg(self, fn: str, arg: str = "*", distinct: bool = False) -> str:
        self.aggs += 1
        self.skills.add("aggregation")
        if fn == "COUNT":
            self.reasoning.add("counting")
        elif fn in ("SUM", "AVG"):
            self.reasoning.add("numerical_operation")
        else:
            self.reasoning.add("superlatives")
        if distinct:
            self.skills.add("distinct")
            return f"{fn}(DISTINCT {arg})"
        return f"{fn}({arg})"

    def arith(self) -> None:
        self.skills.add("arithmetic")
        self.reasoning.add("numerical_operation")

    def group_by(self, exprs: list[str]) -> str:
        self.group = True
        self.skills.add("group_by")
        return " GROUP BY " + ", ".join(exprs)

    def having_clause(self, pred: _Pred) -> str:
        self.having = True
        self.skills.add("having")
        self.add(pred)
        return " HAVING " + pred.sql

    def order(self, keys: list[tuple[str, bool]], limit: int | None = None, top: bool = True) -> str:
        """`` ORDER BY …[ LIMIT k]``; ``top`` records the keys as the statement's own ordering."""
        self.skills.add("order_by")
        text = " ORDER BY " + ", ".join(k + (" DESC" if desc else "") for k, desc in keys)
        if top:
            self.order_keys = [k for k, _ in keys]
        if limit is not None:
            self.skills.add("limit")
            text += f" LIMIT {limit}"
            if top:
                self.order_limited = True
            if limit == 1:
                self.reasoning.add("superlatives")
        return text

    def nested(self, depth: int = 1) -> None:
        self.subqueries += 1
        self.depth = max(self.depth, depth)
        self.skills.add("nested")

    def counts(self) -> ComplexityCounts:
        return ComplexityCounts(
            joins=self.joins,
            subqueries=self.subqueries,
            nesting_depth=self.depth,
            set_operations=self.set_ops,
            aggregations=self.aggs,
            where_conditions=self.where_conds,
            ctes=self.ctes,
            windows=self.windows,
            has_group_by=self.group,
            has_having=self.having,
            has_case=self.case,
        )


@dataclass
class _Built:
    sql: str
    facts: _Facts


@dataclass
class _Path:
    """Tables joined along foreign keys: (table, alias) nodes and the FROM clause text."""

    nodes: list[tuple[_Tab, str]]
    from_sql: str
    hops: int


@dataclass
class _Recipe:
    name: str
    fn: Callable[[_Sampler, str], _Built | None]
    levels: tuple[str, ...]
    tags: tuple[str, ...]
    needs: str = ""  # a config toggle that must be on: string_functions | date_functions | arithmetic


# Literals in the finished SQL, for the literal-free template (same rule as sql.normalize.sql_template:
# every string and number except LIMIT counts; quoted identifiers are kept).
_LITERALS = re.compile(
    r"(\"(?:[^\"]|\"\")*\")|('(?:[^']|'')*')|(\bLIMIT \d+)|((?<![\w.])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.]))"
)


def _template(sql: str) -> str:
    def swap(m: re.Match) -> str:
        return m.group(0) if m.group(1) or m.group(3) else "?"

    return _LITERALS.sub(swap, sql)


_SAMPLED_FIELDS = {f.name for f in dataclasses.fields(SampledQuery)}


# ================================================================================================
# the sampler
# ================================================================================================


class _Sampler:
    def __init__(self, schema: Schema, config: SamplerConfig, report: SamplerReport):
        self.cfg = config
        self.report = report
        self.r = random.Random(config.seed)
        self.sw = config.skill_weights
        self.tables: list[_Tab] = []
        by_name: dict[str, _Tab] = {}
        for table in schema.tables:
            prof, why = _profile_table(table)
            if prof is None:
                report.skipped_tables[table.name] = why or "skipped"
                report.skipped[why or "skipped"] += 1
                continue
            self.tables.append(prof)
            by_name[table.name.lower()] = prof
        self.table_names = set(by_name)
        self.edges: list[_Edge] = []
        for table in schema.tables:
            child = by_name.get(table.name.lower())
            if child is None:
                continue
            for fk in table.foreign_keys:
                edge, why = self._edge(child, fk, by_name, report)
                if edge is None:
                    report.skipped[why] += 1
                    continue
                self.edges.append(edge)
                child.edges.append(edge)
                if not edge.self_ref:
                    edge.parent.edges.append(edge)
        self.single_edges = [e for e in self.edges if len(e.child_cols) == 1]
        # candidate pools (linear in the schema)
        self.with_numbers = [t for t in self.tables if t.numbers]
        self.with_measures = [t for t in self.tables if t.measures]
        self.with_two_measures = [t for t in self.tables if len(t.measures) >= 2]
        self.with_dates = [t for t in self.tables if t.dates]
        self.with_two_dates = [t for t in self.tables if len(t.dates) >= 2]
        self.with_groups = [t for t in self.tables if t.groups]
        self.with_filters = [t for t in self.tables if t.filterable]
        self.with_texts = [t for t in self.tables if t.texts]
        self.with_two_texts = [t for t in self.tables if len(t.texts) >= 2]
        shared: dict[str, list[tuple[_Tab, _Col]]] = {}
        for t in self.tables:
            for c in t.texts:
                # "city" of stores and of customers compares like with like; "name" of stores and of
                # publishers does not
                if not _LABEL_LIKE.search(c.name):
                    shared.setdefault(c.name.lower(), []).append((t, c))
        self.shared_texts = [group for group in shared.values() if len(group) >= 2]
        self._pred_cache: dict[int, list[tuple[str, float]]] = {}
        self.level_weights = dict(config.complexity_weights)
        self.recipes: dict[str, list[_Recipe]] = {lvl: [] for lvl in COMPLEXITY_LEVELS}
        for recipe in _RECIPES:
            if recipe.needs and not getattr(config, recipe.needs):
                continue
            w = self.weight(recipe.tags)
            if w <= 0:
                continue
            for lvl in recipe.levels:
                self.recipes[lvl].append(recipe)
        if not self.tables:
            for lvl in COMPLEXITY_LEVELS:
                if self.level_weights[lvl] > 0:
                    self._give_up(lvl, "no table with rows to sample from")
        self.fails = Counter()  # consecutive failures per level
        self.recipe_fails = Counter()  # consecutive failures per (recipe, level)

    # --- schema graph ---------------------------------------------------------------------------
    @staticmethod
    def _edge(child: _Tab, fk, by_name: dict[str, _Tab], report: SamplerReport) -> tuple[_Edge | None, str]:
        parent = by_name.get(fk.ref_table.lower())
        if parent is None:
            skipped = fk.ref_table in report.skipped_tables
            return None, "foreign key to a skipped table" if skipped else "foreign key to a missing table"
        child_by = {c.name.lower(): c for c in child.cols}
        parent_by = {c.name.lower(): c for c in parent.cols}
        ref_cols = [c for c in fk.ref_columns if c] or [c.name for c in parent.pk]
        if not fk.columns or len(fk.columns) != len(ref_cols):
            return None, "foreign key with mismatched columns"
        try:
            ccols = [child_by[c.lower()] for c in fk.columns]
            pcols = [parent_by[c.lower()] for c in ref_cols]
        except KeyError:
            return None, "foreign key to a missing column"
        if child is parent and [c.name for c in ccols] == [c.name for c in pcols]:
            return None, "foreign key from a column to itself"
        return _Edge(child, ccols, parent, pcols), ""

    def join_path(self, hops: int, upward: bool = False) -> _Path | None:
        """``hops`` FK joins (fewer when the graph runs out), aliases T1, T2, ….

        By default a chain: each new table hangs off the previous one, so every table between the
        first and the last is a bridge. Once the chain has stepped up from a child to its parent it
        only goes up: stepping back down to another child would pair unrelated siblings (every
        inventory row of a store with every sale of that store). ``upward`` joins only from a child
        to its parent (from any table already joined), so the result has exactly one row per T1 row
        and aggregates over T1 are not inflated by fan-out.
        """
        if not self.edges or not self.joins_allowed:
            return None
        first = self.r.choice(self.edges)
        start = first.child if upward or self.r.random() < 0.5 else first.parent
        nodes: list[tuple[_Tab, str]] = [(start, "T1")]
        used: list[_Edge] = []
        parts = [f"{start.q} AS T1"]
        edge: _Edge | None = first
        tab, alias = start, "T1"
        went_up = False
        for _ in range(hops):
            if edge is None:
                options = []
                only_up = upward or went_up
                for tab, alias in nodes if upward else nodes[-1:]:
                    for e in tab.edges:
                        if e in used or (only_up and e.child is not tab):
                            continue
                        other = e.parent if e.child is tab else e.child
                        if not e.self_ref and any(other is t for t, _ in nodes):
                            continue
                        options.append((e, tab, alias))
                if not options:
                    break
                edge, tab, alias = self.r.choice(options)
            new_alias = f"T{len(nodes) + 1}"
            if edge.self_ref:
                # the new copy of the table is the parent (e.g. the manager) or the child (a report)
                as_child = upward or went_up or self.r.random() < 0.7
                c_alias, p_alias = (alias, new_alias) if as_child else (new_alias, alias)
                new_tab = tab
                went_up = went_up or as_child
            elif edge.child is tab:
                c_alias, p_alias, new_tab = alias, new_alias, edge.parent
                went_up = True
            else:
                c_alias, p_alias, new_tab = new_alias, alias, edge.child
            on = " AND ".join(
                f"{c_alias}.{cc.q} = {p_alias}.{pc.q}"
                for cc, pc in zip(edge.child_cols, edge.parent_cols, strict=True)
            )
            parts.append(f"JOIN {new_tab.q} AS {new_alias} ON {on}")
            nodes.append((new_tab, new_alias))
            used.append(edge)
            edge = None
        return _Path(nodes, " ".join(parts), len(nodes) - 1)

    # --- weights and choices --------------------------------------------------------------------
    def weight(self, tags: tuple[str, ...]) -> float:
        w = 1.0
        for tag in tags:
            w *= self.sw.get(tag, 1.0)
        return w

    def allowed(self, skill: str) -> bool:
        return self.sw.get(skill, 1.0) > 0

    @property
    def joins_allowed(self) -> bool:
        return self.cfg.max_joins > 0 and self.allowed("join")

    def chance(self, p: float, skill: str | None = None) -> bool:
        if skill is not None and not self.allowed(skill):
            return False
        return self.r.random() < p

    def pick(self, items: list):
        return items[self.r.randrange(len(items))] if items else None

    def limit_k(self) -> int:
        ks = [k for k in (1, 3, 5, 10) if k <= self.cfg.max_limit] or [1]
        return self.r.choice(ks)

    # --- values ---------------------------------------------------------------------------------
    def num_value(self, c: _Col):
        nums = [v for v in c.samples if _is_number(v)]
        if nums and (self.cfg.value_source == "samples" or self.r.random() < 0.5 or c.lo is None):
            return self.r.choice(nums)
        lo, hi = c.lo, c.hi
        if not (_is_number(lo) and _is_number(hi)):
            return None
        if self.cfg.value_source == "samples":
            return self.r.choice((lo, hi))
        if lo == hi:
            return lo
        x = self.r.uniform(lo, hi)
        step = 10 ** math.floor(math.log10(hi - lo)) / self.r.choice((1, 2, 10))
        if c.integer:
            step = max(1, round(step))
        v = min(max(round(x / step) * step, lo), hi)
        return int(round(v)) if c.integer else round(float(v), 2)

    def interior_value(self, c: _Col):
        """A value for ``<``/``>``: not the column's min or max when anything else is available."""
        v = None
        for _ in range(4):
            v = self.num_value(c)
            if v is None or c.lo is None or c.lo < v < c.hi:
                return v
        return v

    def two_numbers(self, c: _Col) -> tuple | None:
        for _ in range(4):
            a, b = self.num_value(c), self.num_value(c)
            if a is not None and b is not None and a != b:
                return (a, b) if a < b else (b, a)
        return None

    def date_value(self, c: _Col) -> str | None:
        lo, hi = c.lo, c.hi
        if not isinstance(lo, dt.date) or not isinstance(hi, dt.date):
            return None
        if self.cfg.value_source == "samples":
            dates = [_as_date(v) for v in c.samples]
            dates = [d for d in dates if d] or [lo, hi]
            return self.r.choice(dates).isoformat()
        d = lo + dt.timedelta(days=self.r.randint(0, max(0, (hi - lo).days)))
        roll = self.r.random()
        if roll < 0.3:
            d = d.replace(day=1)
        elif roll < 0.45:
            d = d.replace(month=1, day=1)
        return max(d, lo).isoformat()

    def year_value(self, c: _Col) -> str | None:
        if not isinstance(c.lo, dt.date):
            return None
        if self.cfg.value_source == "samples":
            d = self.date_value(c)
            return d[:4] if d else None
        return f"{self.r.randint(c.lo.year, c.hi.year):04d}"

    # --- predicates -----------------------------------------------------------------------------
    _KIND_TAGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
        # kind: (skills, reasoning)
        "num_cmp": ((), ("numerical_comparison",)),
        "num_eq": ((), ()),
        "num_neq": ((), ()),
        "num_between": (("between",), ("numerical_comparison",)),
        "num_not_between": (("between", "negation"), ("numerical_comparison",)),
        "num_in": (("in",), ()),
        "text_eq": ((), ()),
        "text_neq": ((), ()),
        "text_in": (("in",), ()),
        "text_not_in": (("in", "negation"), ()),
        "like": (("like",), ()),
        "not_like": (("like", "negation"), ()),
        "length": (("string_function",), ("numerical_comparison",)),
        "substr": (("string_function",), ()),
        "date_cmp": ((), ("temporal_comparison",)),
        "date_between": (("between",), ("temporal_comparison",)),
        "year_eq": (("date_time",), ("temporal_comparison",)),
        "year_cmp": (("date_time",), ("temporal_comparison",)),
        "month_eq": (("date_time",), ("temporal_comparison",)),
        "time_cmp": ((), ("temporal_comparison",)),
        "bool_eq": ((), ()),
        "is_null": (("is_null",), ()),
        "is_not_null": (("is_null", "negation"), ()),
    }

    def pred_kinds(self, c: _Col) -> list[tuple[str, float]]:
        cached = self._pred_cache.get(id(c))
        if cached is not None:
            return cached
        kinds: list[tuple[str, float]] = []
        few = c.distinct is not None and c.distinct <= 20
        if c.role in ("measure", "ordinal") and c.lo is not None:
            kinds += [("num_cmp", 3.0), ("num_between", 1.0), ("num_not_between", 0.25)]
            if c.samples:
                kinds += [("num_eq", 1.0 if (few or c.role == "ordinal") else 0.3), ("num_neq", 0.2)]
            if few and c.integer and len(c.samples) >= 2:
                kinds.append(("num_in", 0.6))
        elif c.role == "text" and c.samples:
            kinds += [("text_eq", 3.0), ("text_neq", 0.4)]
            if len(c.samples) >= 2:
                kinds += [("text_in", 1.0), ("text_not_in", 0.4)]
            if any(_TOKEN.search(v) for v in c.samples):
                kinds += [("like", 1.2), ("not_like", 0.3)]
            if self.cfg.string_functions:
                kinds += [("length", 0.3), ("substr", 0.2)]
        elif c.role == "date" and c.lo is not None:
            kinds += [("date_cmp", 2.0), ("date_between", 1.0)]
            if self.cfg.date_functions:
                kinds += [("year_eq", 1.5), ("year_cmp", 0.4), ("month_eq", 0.3)]
        elif c.role == "time" and c.samples:
            kinds.append(("time_cmp", 1.0))
        elif c.role == "boolean" and c.samples:
            kinds.append(("bool_eq", 1.0))
        if c.has_nulls:
            kinds.append(("is_null", 0.5))
            if c.samples or c.lo is not None:
                kinds.append(("is_not_null", 0.3))
        out = []
        for kind, w in kinds:
            skills, reasoning = self._KIND_TAGS[kind]
            w *= self.weight(skills + reasoning)
            if w > 0:
                out.append((kind, w))
        self._pred_cache[id(c)] = out
        return out

    def pred(self, c: _Col, ref: str, kinds: tuple[str, ...] | None = None) -> _Pred | None:
        options = self.pred_kinds(c)
        if kinds is not None:
            options = [(k, w) for k, w in options if k in kinds]
        if not options:
            return None
        kind = self.r.choices([k for k, _ in options], [w for _, w in options])[0]
        text = getattr(self, "_p_" + kind)(c, ref)
        if text is None:
            return None
        skills, reasoning = self._KIND_TAGS[kind]
        return _Pred(text, skills, reasoning)

    def preds(
        self, nodes: list[tuple[_Tab, str | None]], k: int, kinds: tuple[str, ...] | None = None
    ) -> list[_Pred]:
        """Up to ``k`` predicates on distinct columns of the given (table, alias) nodes."""
        out: list[_Pred] = []
        seen: set[int] = set()
        cands = [(t, a, c) for t, a in nodes for c in t.filterable]
        for _ in range(k * 3):
            if len(out) >= k or not cands:
                break
            t, a, c = self.pick(cands)
            if id(c) in seen:
                continue
            seen.add(id(c))
            p = self.pred(c, _ref(a, c), kinds)
            if p is not None:
                out.append(p)
        return out

    def _p_num_cmp(self, c, ref):
        v = self.interior_value(c)
        return None if v is None else f"{ref} {self.r.choice(('>', '<', '>=', '<='))} {_lit(v)}"

    def _p_num_eq(self, c, ref):
        return f"{ref} = {_lit(self.r.choice(c.samples))}"

    def _p_num_neq(self, c, ref):
        return f"{ref} != {_lit(self.r.choice(c.samples))}"

    def _p_num_between(self, c, ref):
        ab = self.two_numbers(c)
        return None if ab is None else f"{ref} BETWEEN {_lit(ab[0])} AND {_lit(ab[1])}"

    def _p_num_not_between(self, c, ref):
        ab = self.two_numbers(c)
        return None if ab is None else f"{ref} NOT BETWEEN {_lit(ab[0])} AND {_lit(ab[1])}"

    def _p_num_in(self, c, ref):
        vals = self.r.sample(c.samples, min(len(c.samples), self.r.choice((2, 2, 3))))
        return f"{ref} IN ({', '.join(_lit(v) for v in sorted(vals))})"

    def _p_text_eq(self, c, ref):
        return f"{ref} = {_lit(self.r.choice(c.samples))}"

    def _p_text_neq(self, c, ref):
        return f"{ref} != {_lit(self.r.choice(c.samples))}"

    def _p_text_in(self, c, ref):
        vals = self.r.sample(c.samples, min(len(c.samples), self.r.choice((2, 2, 3))))
        return f"{ref} IN ({', '.join(_lit(v) for v in vals)})"

    def _p_text_not_in(self, c, ref):
        vals = self.r.sample(c.samples, min(len(c.samples), 2))
        return f"{ref} NOT IN ({', '.join(_lit(v) for v in vals)})"

    def _like_pattern(self, c) -> str | None:
        values = [v for v in c.samples if _TOKEN.search(v)]
        if not values:
            return None
        v = self.r.choice(values)
        token = self.r.choice(_TOKEN.findall(v))
        if v.startswith(token) and self.r.random() < 0.4:
            return token + "%"
        if v.endswith(token) and self.r.random() < 0.3:
            return "%" + token
        return "%" + token + "%"

    def _p_like(self, c, ref):
        p = self._like_pattern(c)
        return None if p is None else f"{ref} LIKE {_lit(p)}"

    def _p_not_like(self, c, ref):
        p = self._like_pattern(c)
        return None if p is None else f"{ref} NOT LIKE {_lit(p)}"

    def _p_length(self, c, ref):
        lengths = sorted(len(v) for v in c.samples)
        n = lengths[len(lengths) // 2]
        return f"LENGTH({ref}) {self.r.choice(('>', '<', '>='))} {n}"

    def _p_substr(self, c, ref):
        firsts = [v[0] for v in c.samples if v and v[0].isalpha()]
        return None if not firsts else f"SUBSTR({ref}, 1, 1) = {_lit(self.r.choice(firsts))}"

    def _p_date_cmp(self, c, ref):
        v = self.date_value(c)
        return None if v is None else f"{ref} {self.r.choice(('>=', '<', '>', '<='))} {_lit(v)}"

    def _p_date_between(self, c, ref):
        a, b = self.date_value(c), self.date_value(c)
        if a is None or b is None or a == b:
            return None
        a, b = min(a, b), max(a, b)
        return f"{ref} BETWEEN {_lit(a)} AND {_lit(b)}"

    def _p_year_eq(self, c, ref):
        y = self.year_value(c)
        return None if y is None else f"strftime('%Y', {ref}) = {_lit(y)}"

    def _p_year_cmp(self, c, ref):
        y = self.year_value(c)
        return None if y is None else f"strftime('%Y', {ref}) {self.r.choice(('>=', '<'))} {_lit(y)}"

    def _p_month_eq(self, c, ref):
        return f"strftime('%m', {ref}) = {_lit(f'{self.r.randint(1, 12):02d}')}"

    def _p_time_cmp(self, c, ref):
        return f"{ref} {self.r.choice(('>=', '<'))} {_lit(self.r.choice(c.samples))}"

    def _p_bool_eq(self, c, ref):
        return f"{ref} = {_lit(self.r.choice(c.samples))}"

    def _p_is_null(self, c, ref):
        return f"{ref} IS NULL"

    def _p_is_not_null(self, c, ref):
        return f"{ref} IS NOT NULL"

    # --- sampling loop --------------------------------------------------------------------------
    def iterate(self, n: int | None) -> Iterator[SampledQuery]:
        produced = 0
        while n is None or produced < n:
            q = self.sample_one()
            if q is None:
                return
            produced += 1
            yield q

    def sample_one(self) -> SampledQuery | None:
        while True:
            levels = [lvl for lvl in COMPLEXITY_LEVELS if self.level_weights[lvl] > 0]
            if not levels:
                return None
            level = self.r.choices(levels, [self.level_weights[lvl] for lvl in levels])[0]
            # stay at the drawn level until it yields, so the level mix follows the weights
            while self.level_weights[level] > 0:
                q = self._attempt(level)
                if q is not None:
                    return q

    def _attempt(self, level: str) -> SampledQuery | None:
        recipes = self.recipes[level]
        if not recipes:
            self._give_up(level, "no recipe for this level is enabled or applicable")
            return None
        recipe = self.r.choices(recipes, [self.weight(rc.tags) for rc in recipes])[0]
        built = recipe.fn(self, level)
        q = None
        if built is None:
            self.report.rejected[f"{recipe.name}: not applicable"] += 1
        else:
            q = self._finish(built, recipe, level)
            if q is None:
                self.report.rejected[f"{recipe.name}: level mismatch"] += 1
        if q is not None:
            self.fails[level] = 0
            self.recipe_fails[recipe.name, level] = 0
            self.report.sampled += 1
            self.report.recipes[recipe.name] += 1
            return q
        self.fails[level] += 1
        self.recipe_fails[recipe.name, level] += 1
        if self.recipe_fails[recipe.name, level] >= self.cfg.max_attempts:
            recipes.remove(recipe)
        if self.fails[level] >= self.cfg.max_attempts:
            self._give_up(level, f"no statement of this level in {self.cfg.max_attempts} attempts")
        return None

    def _give_up(self, level: str, why: str) -> None:
        self.level_weights[level] = 0.0
        self.report.unreachable_levels[level] = why

    def _finish(self, built: _Built, recipe: _Recipe, level: str) -> SampledQuery | None:
        f = built.facts
        if self.cfg.tag_source == "sqlglot":
            skills = sql_skills(built.sql)
            actual = sql_complexity(built.sql)
        else:
            skills = sorted(f.skills)
            actual = complexity_from_counts(f.counts())
        if actual != level:
            return None
        extra = {"recipe": recipe.name} if "recipe" in _SAMPLED_FIELDS else {}
        return SampledQuery(
            sql=built.sql,
            template=_template(built.sql),
            skills=skills,
            reasoning_skills=[s for s in REASONING_SKILLS if s in f.reasoning],
            complexity=actual,
            tables=list(f.tables),
            order_limited=f.order_limited,
            order_keys=list(f.order_keys),
            **extra,
        )

    # --- shared pieces of recipes ---------------------------------------------------------------
    def shown(self, t: _Tab, alias: str | None, extra: int) -> list[str]:
        """The table's label plus up to ``extra`` other interesting columns."""
        cols = [t.label]
        others = [c for c in t.shown if c is not t.label]
        if others and extra:
            cols += self.r.sample(others, min(extra, len(others)))
        return [_ref(alias, c) for c in cols]

    def not_null_guard(self, c: _Col, ref: str) -> list[_Pred]:
        return [_Pred(f"{ref} IS NOT NULL", ("is_null", "negation"), structural=True)] if c.has_nulls else []

    def cte_name(self, *parts: str) -> str:
        name = _alias(*parts)
        while name.lower() in self.table_names:
            name += "_cte"
        return name


def _ref(alias: str | None, c: _Col) -> str:
    return f"{alias}.{c.q}" if alias else c.q


def _lit(v) -> str:
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        text = repr(round(v, 4))
        if "e" in text or "E" in text:
            text = f"{v:.6f}".rstrip("0").rstrip(".")
        return text
    return "'" + str(v).replace("'", "''") + "'"


def _agg_alias(fn: str, c: _Col | None, table: _Tab | None = None) -> str:
    if fn == "COUNT" and c is None:
        return _alias(table.name if table else "row", "count")
    prefix = {"COUNT": "distinct", "SUM": "total", "AVG": "avg", "MIN": "min", "MAX": "max"}[fn]
    return _alias(prefix, c.name, "count") if fn == "COUNT" else _alias(prefix, c.name)


def _date_stem(c: _Col) -> str:
    stem = _DATE_SUFFIX.sub("", c.name) or c.name
    return _slug(stem, "date")


# ================================================================================================
# recipes: each returns a statement (or None when the schema gives it nothing to work with)
# ================================================================================================


def _r_projection(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.tables)
    f = _Facts()
    f.use(t)
    if s.chance(0.15) and len(t.cols) <= 8:
        items = "*"
    else:
        items = ", ".join(s.shown(t, None, s.r.choice((0, 1, 1, 2))))
    where, _ = f.where(s.preds([(t, None)], 1) if s.chance(0.3, "filter") else [])
    order = ""
    if s.chance(0.25, "order_by"):
        c = s.pick(t.numbers + t.dates) or t.label
        order = f.order([(c.q, s.r.random() < 0.5)])
    return _Built(f"SELECT {items} FROM {t.q}{where}{order}", f)


def _r_filter(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.with_filters)
    if t is None:
        return None
    f = _Facts()
    f.use(t)
    k = 3 if level == "moderate" else s.r.choice((1, 1, 2))
    preds = s.preds([(t, None)], k)
    if len(preds) != k:
        return None
    connector = "OR" if k == 2 and s.r.random() < 0.25 else "AND"
    where, _ = f.where(preds, connector)
    items = ", ".join(s.shown(t, None, s.r.choice((0, 1, 2))))
    return _Built(f"SELECT {items} FROM {t.q}{where}", f)


def _r_distinct(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.with_groups)
    if t is None:
        return None
    g = s.pick(t.groups)
    f = _Facts()
    f.use(t)
    f.skills.add("distinct")
    others = [c for c in t.filterable if c is not g]
    preds = []
    if others and s.chance(0.6, "filter"):
        c = s.pick(others)
        p = s.pred(c, c.q)
        preds = [p] if p else []
    where, _ = f.where(preds)
    return _Built(f"SELECT DISTINCT {g.q} FROM {t.q}{where}", f)


def _r_top_k(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.with_numbers + s.with_dates)
    if t is None:
        return None
    c = s.pick(t.numbers + t.dates)
    desc = s.r.random() < 0.6
    f = _Facts()
    f.use(t)
    items = [_ref(None, t.label)] if t.label is not c else []
    items.append(c.q)
    preds = [p for p in s.preds([(t, None)], 1) if c.q not in p.sql] if s.chance(0.35, "filter") else []
    if not desc:
        preds += s.not_null_guard(c, c.q)
    where, _ = f.where(preds)
    order = f.order([(c.q, desc)], s.limit_k())
    return _Built(f"SELECT {', '.join(items)} FROM {t.q}{where}{order}", f)


def _r_string(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.with_texts)
    if t is None:
        return None
    f = _Facts()
    f.use(t)
    f.skills.add("string_function")
    variant = s.r.choice(("concat", "concat", "length", "upper", "substr", "filter"))
    if variant == "concat" and _concat_pair(t) is None:
        variant = s.r.choice(("length", "upper", "substr", "filter"))
    label = t.label.q
    if variant == "concat":
        pair = _concat_pair(t)
        if pair is None:
            return None
        a, b, sep, alias = pair
        items = f"{a.q} || {_lit(sep)} || {b.q} AS {alias}"
    elif variant == "length":
        c = s.pick(t.texts)
        alias = _alias(c.name, "length")
        items = f"{c.q}, LENGTH({c.q}) AS {alias}"
        if s.chance(0.6, "order_by"):
            desc = s.r.random() < 0.7
            where, _ = f.where([] if desc else s.not_null_guard(c, c.q))
            order = f.order([(alias, desc)], s.limit_k())
            return _Built(f"SELECT {items} FROM {t.q}{where}{order}", f)
    elif variant == "upper":
        c = s.pick(t.texts)
        items = f"UPPER({c.q}) AS {_alias('upper', c.name)}"
    elif variant == "substr":
        c = s.pick(t.texts)
        n = s.r.choice((1, 3))
        items = (
            f"{label}, SUBSTR({c.q}, 1, {n}) AS {_alias(c.name, 'prefix')}"
            if c is not t.label
            else (f"SUBSTR({c.q}, 1, {n}) AS {_alias(c.name, 'prefix')}")
        )
    else:
        c = s.pick(t.texts)
        p = s.pred(c, c.q, ("length", "substr"))
        if p is None:
            return None
        where, _ = f.where([p])
        return _Built(f"SELECT {label} FROM {t.q}{where}", f)
    preds = s.preds([(t, None)], 1) if s.chance(0.3, "filter") else []
    where, _ = f.where(preds)
    return _Built(f"SELECT {items} FROM {t.q}{where}", f)


def _concat_pair(t: _Tab) -> tuple[_Col, _Col, str, str] | None:
    """Two text columns that read as one value: first + last name, or city + country."""
    by = {c.name.lower(): c for c in t.texts}
    firsts = [c for n, c in by.items() if "first" in n or n in ("fname", "given_name", "forename")]
    lasts = [c for n, c in by.items() if "last" in n or n in ("lname", "surname", "family_name")]
    if firsts and lasts:
        return firsts[0], lasts[0], " ", "full_name"
    places = [c for n, c in by.items() if n in ("city", "town", "state", "region", "country", "nation")]
    if len(places) >= 2:
        return places[0], places[1], ", ", "location"
    return None


def _name_tokens(name: str) -> set[str]:
    return {t.lower() for t in _NAME_TOKENS.findall(name)} - _GENERIC_TOKENS


def _arith_options(nodes: list[tuple[_Tab, str | None]]) -> list[tuple[str, str]]:
    """(expression, alias) pairs that mean something: differences of like quantities (columns that
    share a name word: unit_price - list_price), quantity × price, and later date − earlier date."""
    out: list[tuple[str, str]] = []
    tables = {a: t for t, a in nodes}

    def label(a: str | None, c: _Col, other: _Col) -> str:
        return f"{tables[a].name}_{c.name}" if c.name.lower() == other.name.lower() and a else c.name

    cols = [(a, c) for t, a in nodes for c in t.measures[:12]]
    for i, (ax, x) in enumerate(cols):
        for ay, y in cols[i + 1 :]:
            if x.name == y.name and ax == ay:
                continue
            if tables[ax] is tables[ay] and x.name.lower() == y.name.lower():
                continue  # a self-join's copy of the same column
            if _name_tokens(x.name) & _name_tokens(y.name):
                (a1, c1), (a2, c2) = ((ax, x), (ay, y)) if (x.hi or 0) >= (y.hi or 0) else ((ay, y), (ax, x))
                expr = f"{_ref(a1, c1)} - {_ref(a2, c2)}"
                out.append((expr, _alias(label(a1, c1, c2), "minus", label(a2, c2, c1))))
            for (aq, q), (ap, pr) in (((ax, x), (ay, y)), ((ay, y), (ax, x))):
                if q.integer and _QUANTITY_LIKE.search(q.name) and _PRICE_LIKE.search(pr.name):
                    out.append((f"{_ref(aq, q)} * {_ref(ap, pr)}", _alias(q.name, "times", pr.name)))
    dates = [(a, c) for t, a in nodes for c in t.dates[:6]]
    for i, (ax, x) in enumerate(dates):
        for ay, y in dates[i + 1 :]:
            if x.name == y.name and ax == ay:
                continue
            (al, late), (ae, early) = ((ax, x), (ay, y)) if x.lo >= y.lo else ((ay, y), (ax, x))
            expr = f"julianday({_ref(al, late)}) - julianday({_ref(ae, early)})"
            out.append((expr, _alias("days_from", _date_stem(early), "to", _date_stem(late))))
    return out


def _r_arithmetic(s: _Sampler, level: str) -> _Built | None:
    """col*col and col-col within a row (simple), or the same across one FK join (moderate); date
    differences in days with julianday."""
    f = _Facts()
    if level == "moderate":
        path = s.join_path(1)
        if path is None or path.hops != 1:
            return None
        nodes = path.nodes
        (t1, a1), (t2, a2) = nodes
        items = [_ref(a1, t1.label)] + ([_ref(a2, t2.label)] if t2.label is not t1.label else [])
        from_sql = path.from_sql
        f.use(t1, t2)
        f.joins = 1
        f.skills.add("join")
    else:
        t = s.pick(s.with_two_measures + s.with_two_dates)
        if t is None:
            return None
        nodes = [(t, None)]
        items = [t.label.q]
        from_sql = t.q
        f.use(t)
    options = _arith_options(nodes)
    if not s.cfg.date_functions:
        options = [o for o in options if "julianday" not in o[0]]
    if level == "moderate":
        options = [o for o in options if "T1." in o[0] and "T2." in o[0]]
    if not options:
        return None
    expr, alias = s.pick(options)
    if "julianday" in expr:
        f.skills.add("date_time")
    f.arith()
    preds = s.preds(nodes, 1) if s.chance(0.4, "filter") else []
    where, _ = f.where(preds)
    order = ""
    if level == "simple" and s.chance(0.3, "order_by"):
        order = f.order([(alias, True)], s.limit_k() if s.chance(0.7, "limit") else None)
    return _Built(f"SELECT {', '.join(items)}, {expr} AS {alias} FROM {from_sql}{where}{order}", f)


def _r_date(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.with_dates)
    if t is None:
        return None
    c = s.pick(t.dates)
    f = _Facts()
    f.use(t)
    if s.r.random() < 0.35:
        year = s.year_value(c)
        if year is None:
            return None
        f.skills.add("date_time")
        items = f"{t.label.q}, strftime('%Y', {c.q}) AS {_alias(_date_stem(c), 'year')}"
        p = s.pred(c, c.q, ("date_cmp", "date_between"))
        where, _ = f.where([p] if p else [])
        return _Built(f"SELECT {items} FROM {t.q}{where}", f)
    p = s.pred(c, c.q, ("year_eq", "year_cmp", "month_eq"))
    if p is None:
        return None
    preds = [p]
    if s.chance(0.3, "conjunction"):
        preds += [q for q in s.preds([(t, None)], 1) if c.q not in q.sql]
    where, _ = f.where(preds)
    return _Built(f"SELECT {t.label.q}, {c.q} FROM {t.q}{where}", f)


def _aggregate_items(s: _Sampler, f: _Facts, t: _Tab, alias: str | None, k: int) -> list[str] | None:
    """``k`` aggregate select items over table ``t`` (COUNT(*), COUNT(DISTINCT), SUM/AVG/MIN/MAX)."""
    options: list[tuple[str, _Col | None]] = [("COUNT", None)]
    for c in t.measures:
        options += [("SUM", c), ("AVG", c), ("MAX", c), ("MIN", c)]
    for c in t.numbers:
        if c.role == "ordinal":
            options += [("AVG", c), ("MAX", c), ("MIN", c)]
    for c in t.dates:
        options += [("MAX", c), ("MIN", c)]
    distinct_cols = [c for c in t.groups] + [c for c in t.cols if c.role == "key" and c not in t.pk]
    if s.allowed("distinct"):
        options += [("COUNT_DISTINCT", c) for c in distinct_cols]
    s.r.shuffle(options)
    items, seen = [], set()
    for fn, c in options:
        if len(items) >= k:
            break
        key = (fn, id(c))
        if key in seen:
            continue
        seen.add(key)
        if fn == "COUNT_DISTINCT":
            items.append(f"{f.agg('COUNT', _ref(alias, c), distinct=True)} AS {_agg_alias('COUNT', c)}")
        elif c is None:
            items.append(f"{f.agg('COUNT')} AS {_agg_alias('COUNT', None, t)}")
        else:
            items.append(f"{f.agg(fn, _ref(alias, c))} AS {_agg_alias(fn, c)}")
    return items or None


def _r_aggregate(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.tables)
    f = _Facts()
    f.use(t)
    items = _aggregate_items(s, f, t, None, s.r.choice((1, 1, 2)))
    if items is None:
        return None
    preds = s.preds([(t, None)], s.r.choice((1, 1, 2))) if s.chance(0.7, "filter") else []
    where, _ = f.where(preds)
    return _Built(f"SELECT {', '.join(items)} FROM {t.q}{where}", f)


def _group_agg(
    s: _Sampler, f: _Facts, t: _Tab, alias: str | None, g: _Col | None, count_of: _Tab
) -> tuple[str, str]:
    """One aggregate for a grouped query: (select item, its alias)."""
    measures = [c for c in t.measures if c is not g]
    if measures and s.r.random() < 0.45:
        c = s.pick(measures)
        fn = s.r.choice(("SUM", "AVG", "AVG", "MAX", "MIN"))
        name = _agg_alias(fn, c)
        return f"{f.agg(fn, _ref(alias, c))} AS {name}", name
    name = _agg_alias("COUNT", None, count_of)
    return f"{f.agg('COUNT')} AS {name}", name


def _r_group(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.with_groups)
    if t is None:
        return None
    g = s.pick(t.groups)
    f = _Facts()
    f.use(t)
    item, name = _group_agg(s, f, t, None, g, t)
    preds = [p for p in s.preds([(t, None)], 1) if g.q not in p.sql] if s.chance(0.35, "filter") else []
    where, _ = f.where(preds)
    group = f.group_by([g.q])
    order = ""
    roll = s.r.random()
    if roll < 0.35 and s.allowed("limit") and s.allowed("order_by"):
        order = f.order([(name, s.r.random() < 0.75)], 1)  # the group with the most / least
    elif roll < 0.65 and s.allowed("order_by"):
        order = f.order([(name, True)], s.limit_k() if s.chance(0.4, "limit") else None)
    return _Built(f"SELECT {g.q}, {item} FROM {t.q}{where}{group}{order}", f)


def _r_join(s: _Sampler, level: str) -> _Built | None:
    if level == "moderate":
        hops = 1
    else:
        if s.cfg.max_joins < 2:
            return None
        hops = s.r.randint(2, s.cfg.max_joins)
    path = s.join_path(hops)
    if path is None or path.hops != hops:
        return None
    f = _Facts()
    f.use(*[t for t, _ in path.nodes])
    f.joins = hops
    f.skills.add("join")
    (t1, a1), (tn, an) = path.nodes[0], path.nodes[-1]
    items = [_ref(a1, t1.label)]
    if s.r.random() < 0.5:
        items += [x for x in s.shown(t1, a1, 1) if x not in items]
    items.append(_ref(an, tn.label))
    distinct = False
    if s.chance(0.15, "distinct"):
        distinct = True
        items = items[-1:]
        f.skills.add("distinct")
    preds = s.preds(path.nodes, s.r.choice((1, 1, 2))) if s.chance(0.75, "filter") else []
    numeric = [(t, a, c) for t, a in path.nodes for c in t.numbers]
    order_key = None
    if numeric and not distinct and s.chance(0.3, "order_by"):
        t, a, c = s.pick(numeric)
        ref = _ref(a, c)
        if ref not in items:
            items.append(ref)
        desc = s.r.random() < 0.6
        if not desc:
            preds += s.not_null_guard(c, ref)
        order_key = (ref, desc)
    where, _ = f.where(preds)
    order = f.order([order_key], s.limit_k() if s.chance(0.7, "limit") else None) if order_key else ""
    head = "SELECT DISTINCT" if distinct else "SELECT"
    return _Built(f"{head} {', '.join(items)} FROM {path.from_sql}{where}{order}", f)


def _r_join_aggregate(s: _Sampler, level: str) -> _Built | None:
    path = s.join_path(1, upward=True)
    if path is None or path.hops != 1:
        return None
    f = _Facts()
    f.use(*[t for t, _ in path.nodes])
    f.joins = 1
    f.skills.add("join")
    t1, a1 = path.nodes[0]
    items = _aggregate_items(s, f, t1, a1, 1)
    if items is None:
        return None
    preds = s.preds(path.nodes, s.r.choice((1, 1, 2)))
    if not preds:
        return None
    where, _ = f.where(preds)
    return _Built(f"SELECT {', '.join(items)} FROM {path.from_sql}{where}", f)


def _r_case(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.with_filters)
    if t is None:
        return None
    f = _Facts()
    f.use(t)
    f.case = True
    f.skills.add("case")
    numbers = [c for c in t.numbers if c is not t.label]
    if numbers and s.r.random() < 0.6:
        c = s.pick(numbers)
        ab = s.two_numbers(c)
        if ab is None:
            return None
        if s.r.random() < 0.5:
            expr = f"CASE WHEN {c.q} >= {_lit(ab[1])} THEN 'high' WHEN {c.q} >= {_lit(ab[0])} THEN 'medium' ELSE 'low' END"
        else:
            expr = f"CASE WHEN {c.q} >= {_lit(ab[1])} THEN 'high' ELSE 'low' END"
        f.reasoning.add("numerical_comparison")
        item = f"{t.label.q}, {c.q}, {expr} AS {_alias(c.name, 'level')}"
        return _Built(f"SELECT {item} FROM {t.q}", f)
    # conditional counts: how many rows fall in each of two categories, side by side
    cats = [c for c in t.groups if c.role == "text" and len(c.samples) >= 2]
    if not cats or not s.allowed("aggregation"):
        return None
    c = s.pick(cats)
    a, b = s.r.sample(c.samples, 2)
    items = [
        f"{f.agg('SUM', f'CASE WHEN {c.q} = {_lit(v)} THEN 1 ELSE 0 END')} AS {_alias(_slug(v, 'value'), 'count')}"
        for v in (a, b)
    ]
    f.reasoning.add("counting")
    if items[0].rsplit(" AS ", 1)[1] == items[1].rsplit(" AS ", 1)[1]:
        return None
    return _Built(f"SELECT {', '.join(items)} FROM {t.q}", f)


def _ratio_columns(t: _Tab) -> list[_Col]:
    """Columns whose condition makes a meaningful share of rows: categories, flags, numbers, dates, NULLs."""
    return [
        c
        for c in t.filterable
        if c.categorical or c.role in ("boolean", "measure", "ordinal", "date") or c.has_nulls
    ]


def _percentage(s: _Sampler, f: _Facts, c: _Col, ref: str) -> str | None:
    kinds = ("num_cmp", "date_cmp", "year_eq", "bool_eq", "is_null")
    if c.categorical:
        kinds += ("text_eq", "text_in")
    p = s.pred(c, ref, kinds)
    if p is None:
        return None
    f.add(p)
    f.case = True
    f.skills.update(("case", "aggregation", "arithmetic"))
    f.aggs += 2
    f.reasoning.update(("numerical_operation", "counting"))
    m = re.search(r"= '([^']{1,24})'$", p.sql)
    name = _alias(_slug(m.group(1)) if m else c.name, "percentage")
    return f"CAST(SUM(CASE WHEN {p.sql} THEN 1 ELSE 0 END) AS REAL) * 100 / COUNT(*) AS {name}"


def _r_ratio(s: _Sampler, level: str) -> _Built | None:
    f = _Facts()
    if level == "complex":
        if not s.allowed("group_by"):
            return None
        # per parent group: the share of its child rows (T1) that satisfy a condition
        path = s.join_path(1, upward=True)
        if path is None or path.hops != 1:
            return None
        (t1, a1), (t2, a2) = path.nodes
        c = s.pick(_ratio_columns(t1))
        g = s.pick(t2.groups + ([t2.label] if t2.label.unique else []))
        if c is None or g is None:
            return None
        a, ag = a1, a2
        f.use(t1, t2)
        f.joins = 1
        f.skills.add("join")
        expr = _percentage(s, f, c, _ref(a, c))
        if expr is None:
            return None
        group = f.group_by([_ref(ag, g)])
        return _Built(f"SELECT {_ref(ag, g)}, {expr} FROM {path.from_sql}{group}", f)
    t = s.pick(s.with_filters)
    if t is None:
        return None
    c = s.pick(_ratio_columns(t))
    if c is None:
        return None
    f.use(t)
    expr = _percentage(s, f, c, c.q)
    if expr is None:
        return None
    others = [x for x in t.filterable if x is not c]
    preds = []
    if others and s.chance(0.3, "filter"):
        x = s.pick(others)
        p = s.pred(x, x.q)
        preds = [p] if p else []
    where, _ = f.where(preds)
    return _Built(f"SELECT {expr} FROM {t.q}{where}", f)


def _r_date_group(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.with_dates)
    if t is None:
        return None
    c = s.pick(t.dates)
    f = _Facts()
    f.use(t)
    f.skills.add("date_time")
    f.reasoning.add("temporal_comparison")
    stem = _date_stem(c)
    if s.r.random() < 0.3:
        year = s.year_value(c)
        if year is None:
            return None
        part, name = f"strftime('%m', {c.q})", _alias(stem, "month")
        where, _ = f.where(
            [_Pred(f"strftime('%Y', {c.q}) = {_lit(year)}", ("date_time",), ("temporal_comparison",))]
        )
    else:
        part, name = f"strftime('%Y', {c.q})", _alias(stem, "year")
        preds = [p for p in s.preds([(t, None)], 1) if c.q not in p.sql] if s.chance(0.3, "filter") else []
        where, _ = f.where(preds)
    item, agg_name = _group_agg(s, f, t, None, None, t)
    group = f.group_by([part])
    if s.r.random() < 0.3 and s.allowed("limit"):
        order = f.order([(agg_name, True)], 1)
    else:
        order = f.order([(name, False)]) if s.allowed("order_by") else ""
    return _Built(f"SELECT {part} AS {name}, {item} FROM {t.q}{where}{group}{order}", f)


def _r_date_span(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.with_dates)
    if t is None:
        return None
    f = _Facts()
    f.use(t)
    f.skills.add("date_time")
    f.arith()
    if len(t.dates) >= 2 and s.r.random() < 0.5:
        x, y = s.r.sample(t.dates, 2)
        if x.hi < y.hi:
            x, y = y, x
        item = f"{f.agg('AVG', f'julianday({x.q}) - julianday({y.q})')} AS avg_days_between"
    else:
        c = s.pick(t.dates)
        hi, lo = f.agg("MAX", c.q), f.agg("MIN", c.q)
        item = f"julianday({hi}) - julianday({lo}) AS {_alias(_date_stem(c), 'span_days')}"
    preds = s.preds([(t, None)], 1) if s.chance(0.5, "filter") else []
    where, _ = f.where(preds)
    return _Built(f"SELECT {item} FROM {t.q}{where}", f)


def _r_join_group(s: _Sampler, level: str) -> _Built | None:
    hops = 1 if s.cfg.max_joins < 2 or s.r.random() < 0.75 else 2
    path = s.join_path(hops, upward=True)
    if path is None or path.hops != hops:
        return None
    gcands = [(t, a, g) for t, a in path.nodes[1:] for g in t.groups + ([t.label] if t.label.unique else [])]
    if not gcands:
        return None
    tg, ag, g = s.pick(gcands)
    t1, a1 = path.nodes[0]
    f = _Facts()
    f.use(*[t for t, _ in path.nodes])
    f.joins = hops
    f.skills.add("join")
    item, name = _group_agg(s, f, t1, a1, None, t1)
    preds = (
        [p for p in s.preds(path.nodes, 1) if _ref(ag, g) not in p.sql] if s.chance(0.35, "filter") else []
    )
    where, _ = f.where(preds)
    group = f.group_by([_ref(ag, g)])
    having = ""
    if level == "complex" and s.chance(0.2, "having"):
        having = f.having_clause(_count_having(s, f, t1, g))
    order = ""
    roll = s.r.random()
    if roll < 0.35 and s.allowed("limit"):
        order = f.order([(name, s.r.random() < 0.75)], 1)
    elif roll < 0.7 and s.allowed("order_by"):
        order = f.order([(name, True)], s.limit_k() if s.chance(0.5, "limit") else None)
    return _Built(f"SELECT {_ref(ag, g)}, {item} FROM {path.from_sql}{where}{group}{having}{order}", f)


def _count_having(s: _Sampler, f: _Facts, t: _Tab, g: _Col) -> _Pred:
    """``COUNT(*) > v`` with v near the average group size."""
    per_group = (t.rows or 10) / max(1, g.distinct or 5)
    v = max(1, int(round(per_group * s.r.uniform(0.3, 1.2))))
    expr = f.agg("COUNT")
    return _Pred(f"{expr} {s.r.choice(('>', '>='))} {v}", (), ("numerical_comparison",))


def _r_having(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.with_groups)
    if t is None:
        return None
    g = s.pick(t.groups)
    f = _Facts()
    f.use(t)
    item, name = _group_agg(s, f, t, None, g, t)
    measures = [c for c in t.measures if c is not g]
    roll = s.r.random()
    if measures and roll < 0.4:
        c = s.pick(measures)
        fn = s.r.choice(("AVG", "SUM", "MIN", "MAX"))
        v = s.interior_value(c)
        if v is None:
            return None
        if fn == "SUM":
            v = v * max(1, int((t.rows or 10) / max(1, g.distinct or 5)))
            v = int(v) if isinstance(v, int) or float(v).is_integer() else round(v, 2)
        op = ">=" if fn == "MIN" else s.r.choice((">", "<", ">="))
        pred = _Pred(f"{f.agg(fn, c.q)} {op} {_lit(v)}", (), ("numerical_comparison",))
        if fn == "MIN":
            f.reasoning.add("quantifiers")  # every row of the group is at least v
    else:
        pred = _count_having(s, f, t, g)
    preds = [p for p in s.preds([(t, None)], 1) if g.q not in p.sql] if s.chance(0.3, "filter") else []
    where, _ = f.where(preds)
    group = f.group_by([g.q])
    having = f.having_clause(pred)
    order = f.order([(name, True)]) if s.chance(0.3, "order_by") else ""
    return _Built(f"SELECT {g.q}, {item} FROM {t.q}{where}{group}{having}{order}", f)


def _inner_filter(s: _Sampler, f: _Facts, t: _Tab, deep: bool) -> tuple[str, int] | None:
    """The WHERE of a subquery over ``t``: a plain predicate, or (``deep``) a comparison with an
    aggregate of the same table, one level further down."""
    if deep:
        if not t.measures or not s.allowed("aggregation"):
            return None
        c = s.pick(t.measures)
        f.nested(depth=2)
        inner = f"(SELECT {f.agg('AVG', c.q)} FROM {t.q})"
        return f.where([_Pred(f"{c.q} > {inner}", (), ("numerical_comparison",))])
    preds = s.preds([(t, None)], 1)
    return f.where(preds) if preds else None


def _r_in_subquery(s: _Sampler, level: str) -> _Built | None:
    e = s.pick(s.single_edges)
    if e is None:
        return None
    deep = level == "highly_complex"
    f = _Facts()
    f.skills.add("in")
    f.nested()
    f.reasoning.add("quantifiers")
    (cc,), (pc,) = e.child_cols, e.parent_cols
    negate = s.chance(0.35, "negation")
    if s.r.random() < 0.6 or negate:
        # parents that have (or have no) children matching a condition
        outer, inner, outer_key, inner_key = e.parent, e.child, pc, cc
    else:
        # children whose parent matches a condition
        outer, inner, outer_key, inner_key = e.child, e.parent, cc, pc
    f.use(outer, inner)
    sub = _inner_filter(s, f, inner, deep)
    if sub is None:
        if not negate or deep:
            return None
        sub = ("", 0)
    where_text, connectors = sub
    if negate and inner_key.has_nulls:
        # NOT IN over a list holding NULL is never true: keep NULLs out of the subquery
        guard = _Pred(f"{inner_key.q} IS NOT NULL", ("is_null", "negation"), structural=True)
        f.add(guard)
        if where_text:
            where_text += f" AND {guard.sql}"
            connectors += 1
            f.where_conds += 1
        else:
            where_text, connectors = f.where([guard])
    op = "NOT IN" if negate else "IN"
    pred = _Pred(
        f"{outer_key.q} {op} (SELECT {inner_key.q} FROM {inner.q}{where_text})",
        ("in", "negation") if negate else ("in",),
        inner=connectors,
    )
    outer_preds = [pred]
    if s.chance(0.25, "conjunction"):
        outer_preds += s.preds([(outer, None)], 1)
    where, _ = f.where(outer_preds)
    items = ", ".join(s.shown(outer, None, s.r.choice((0, 1))))
    return _Built(f"SELECT {items} FROM {outer.q}{where}", f)


def _r_exists(s: _Sampler, level: str) -> _Built | None:
    e = s.pick(s.edges)
    if e is None:
        return None
    f = _Facts()
    f.nested()
    f.reasoning.add("quantifiers")
    f.use(e.parent, e.child)
    corr = [
        _Pred(f"T2.{cc.q} = T1.{pc.q}", structural=True)
        for cc, pc in zip(e.child_cols, e.parent_cols, strict=True)
    ]
    extra = s.preds([(e.child, "T2")], 1) if s.r.random() < 0.7 else []
    inner_where, connectors = f.where(corr + extra)
    negate = s.chance(0.35, "negation")
    text = f"EXISTS (SELECT 1 FROM {e.child.q} AS T2{inner_where})"
    pred = _Pred(("NOT " if negate else "") + text, ("negation",) if negate else (), inner=connectors)
    outer_preds = [pred]
    if s.chance(0.2, "conjunction"):
        outer_preds += s.preds([(e.parent, "T1")], 1)
    where, _ = f.where(outer_preds)
    items = ", ".join(s.shown(e.parent, "T1", s.r.choice((0, 1))))
    return _Built(f"SELECT {items} FROM {e.parent.q} AS T1{where}", f)


def _r_scalar_subquery(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.with_measures)
    if t is None:
        return None
    c = s.pick(t.measures)
    f = _Facts()
    f.use(t)
    f.nested()
    if level == "highly_complex":
        # the rows above the average of the rows that are themselves above the overall average
        f.nested(depth=2)
        avg = f.agg("AVG", c.q)
        inner = f"(SELECT {f.agg('AVG', c.q)} FROM {t.q} WHERE {c.q} > (SELECT {avg} FROM {t.q}))"
        f.where_conds += 1
        f.skills.add("filter")
        pred = _Pred(f"{c.q} > {inner}", (), ("numerical_comparison",))
        where, _ = f.where([pred])
        return _Built(f"SELECT {t.label.q}, {c.q} FROM {t.q}{where}", f)
    fn = s.r.choice(("AVG", "AVG", "MAX", "MIN"))
    inner_where = ""
    inner_conn = 0
    groups = [g for g in t.groups if g is not c and g.role == "text"]
    if fn == "AVG" and groups and s.chance(0.3, "filter"):
        g = s.pick(groups)
        inner_where, inner_conn = f.where([_Pred(f"{g.q} = {_lit(s.pick(g.samples))}")])
    inner = f"(SELECT {f.agg(fn, c.q)} FROM {t.q}{inner_where})"
    if fn == "AVG":
        pred = _Pred(
            f"{c.q} {s.r.choice(('>', '<'))} {inner}", (), ("numerical_comparison",), inner=inner_conn
        )
    else:
        pred = _Pred(f"{c.q} = {inner}", (), ("superlatives",))
    preds = [pred]
    if s.chance(0.2, "conjunction"):
        preds += [p for p in s.preds([(t, None)], 1) if c.q not in p.sql]
    where, _ = f.where(preds)
    items = [t.label.q] if t.label is not c else []
    items.append(c.q)
    return _Built(f"SELECT {', '.join(items)} FROM {t.q}{where}", f)


def _r_set_operation(s: _Sampler, level: str) -> _Built | None:
    op = s.r.choice(("UNION", "INTERSECT", "EXCEPT"))
    f = _Facts()
    f.set_ops = 1
    f.skills.add("set_operation")
    if op == "EXCEPT":
        f.reasoning.add("quantifiers")
    roll = s.r.random()
    if level == "highly_complex" or (roll < 0.35 and s.edges):
        # children of two kinds that share a parent, named by the parent's label
        e1 = s.pick(s.edges)
        if e1 is None or len(e1.child_cols) != 1:
            return None
        siblings = [
            e for e in e1.parent.edges if e.parent is e1.parent and len(e.child_cols) == 1 and e is not e1
        ]
        joined = level == "highly_complex"
        if joined and not s.joins_allowed:
            return None
        parts = []
        for e in [e1, s.pick(siblings) or e1]:
            t = e.child
            f.use(t)
            if joined:
                f.use(e.parent)
                f.joins += 1
                f.skills.add("join")
                preds = s.preds([(t, "T1"), (e.parent, "T2")], 1)
                where, _ = f.where(preds)
                on = f"T1.{e.child_cols[0].q} = T2.{e.parent_cols[0].q}"
                parts.append(
                    f"SELECT T2.{e.parent.label.q} FROM {t.q} AS T1 JOIN {e.parent.q} AS T2 ON {on}{where}"
                )
            else:
                preds = s.preds([(t, None)], 1)
                where, _ = f.where(preds)
                parts.append(f"SELECT {e.child_cols[0].q} FROM {t.q}{where}")
        if parts[0] == parts[1]:
            return None
        return _Built(f" {op} ".join(parts), f)
    if roll < 0.55 and s.shared_texts:
        group = s.pick(s.shared_texts)
        (t1, c1), (t2, c2) = s.r.sample(group, 2)
        f.use(t1, t2)
        parts = []
        for t, c in ((t1, c1), (t2, c2)):
            preds = (
                [p for p in s.preds([(t, None)], 1) if c.q not in p.sql] if s.chance(0.4, "filter") else []
            )
            where, _ = f.where(preds)
            parts.append(f"SELECT {c.q} FROM {t.q}{where}")
        return _Built(f" {op} ".join(parts), f)
    # one table, two conditions
    t = s.pick(s.with_filters)
    if t is None:
        return None
    f.use(t)
    preds = s.preds([(t, None)], 2)
    if len(preds) != 2:
        # a table with one usable column: two different conditions on it
        c = s.pick(t.filterable)
        preds = [p for p in (s.pred(c, c.q), s.pred(c, c.q)) if p is not None]
        if len(preds) != 2 or preds[0].sql == preds[1].sql:
            return None
    items = ", ".join(s.shown(t, None, s.r.choice((0, 0, 1))))
    parts = []
    for p in preds:
        where, _ = f.where([p])
        parts.append(f"SELECT {items} FROM {t.q}{where}")
    return _Built(f" {op} ".join(parts), f)


def _r_cte(s: _Sampler, level: str) -> _Built | None:
    f = _Facts()
    f.ctes = 1
    f.skills.add("cte")
    roll = s.r.random()
    if roll < 0.45 and s.edges and s.joins_allowed:
        # per-parent totals computed once, joined back to the parent's label
        e = s.pick(s.edges)
        child, parent = e.child, e.parent
        f.use(parent, child)
        keys = ", ".join(c.q for c in e.child_cols)
        measures = child.measures
        if measures and s.r.random() < 0.4:
            c = s.pick(measures)
            fn = s.r.choice(("SUM", "AVG"))
            value = _agg_alias(fn, c)
            agg = f.agg(fn, c.q)
        else:
            value = _agg_alias("COUNT", None, child)
            agg = f.agg("COUNT")
        name = s.cte_name(child.name, "stats")
        f.skills.add("group_by")
        f.group = True
        body = f"SELECT {keys}, {agg} AS {value} FROM {child.q} GROUP BY {keys}"
        on = " AND ".join(
            f"T1.{pc.q} = T2.{cc.q}" for cc, pc in zip(e.child_cols, e.parent_cols, strict=True)
        )
        f.joins += 1
        f.skills.add("join")
        order = f.order([(f"T2.{value}", True)], s.limit_k() if s.chance(0.7, "limit") else None)
        return _Built(
            f"WITH {name} AS ({body}) SELECT T1.{parent.label.q}, T2.{value} FROM {parent.q} AS T1 "
            f"JOIN {name} AS T2 ON {on}{order}",
            f,
        )
    t = s.pick(s.with_groups)
    if t is None:
        return None
    g = s.pick(t.groups)
    measures = [c for c in t.measures if c is not g]
    f.use(t)
    if measures and roll < 0.8 and s.allowed("nested"):
        # groups whose average is above the overall average
        c = s.pick(measures)
        value = _agg_alias("AVG", c)
        name = s.cte_name(g.name, "stats")
        body = f"SELECT {g.q}, {f.agg('AVG', c.q)} AS {value} FROM {t.q} GROUP BY {g.q}"
        f.group = True
        f.skills.add("group_by")
        f.nested()
        pred = _Pred(f"{value} > (SELECT {f.agg('AVG', c.q)} FROM {t.q})", (), ("numerical_comparison",))
        where, _ = f.where([pred])
        return _Built(f"WITH {name} AS ({body}) SELECT {g.q}, {value} FROM {name}{where}", f)
    # a filtered subset, then counted per group
    preds = [p for p in s.preds([(t, None)], 1) if g.q not in p.sql]
    if not preds:
        return None
    name = s.cte_name("selected", t.name)
    where, _ = f.where(preds)
    body = f"SELECT {g.q} FROM {t.q}{where}"
    count_name = _agg_alias("COUNT", None, t)
    group = f.group_by([g.q])
    order = f.order([(count_name, True)], s.limit_k() if s.chance(0.5, "limit") else None)
    return _Built(
        f"WITH {name} AS ({body}) SELECT {g.q}, {f.agg('COUNT')} AS {count_name} FROM {name}{group}{order}", f
    )


def _r_window(s: _Sampler, level: str) -> _Built | None:
    t = s.pick(s.with_numbers)
    if t is None:
        return None
    c = s.pick(t.numbers)
    groups = [g for g in t.groups if g is not c]
    g = s.pick(groups)
    f = _Facts()
    f.use(t)
    f.windows = 1
    f.skills.add("window")
    label = t.label.q
    variant = s.r.choice(("rank", "rank", "row_number", "partition_total", "running_total"))
    partition = f"PARTITION BY {g.q} " if g is not None and s.r.random() < 0.7 else ""
    items = [label] + ([g.q] if partition and g is not t.label else []) + ([c.q] if c is not t.label else [])
    if variant == "rank":
        fn = s.r.choice(("RANK", "DENSE_RANK"))
        name = _alias(c.name, "rank")
        items.append(f"{fn}() OVER ({partition}ORDER BY {c.q} DESC) AS {name}")
        f.reasoning.add("superlatives")
    elif variant == "row_number":
        tie = "".join(f", {k.q}" for k in t.pk if k is not c)
        items.append(f"ROW_NUMBER() OVER ({partition}ORDER BY {c.q} DESC{tie}) AS row_number")
    elif variant == "partition_total" and partition and c.role == "measure":
        fn = s.r.choice(("SUM", "AVG"))
        name = _alias("total" if fn == "SUM" else "avg", c.name, "by", g.name)
        items.append(f"{fn}({c.q}) OVER ({partition.strip()}) AS {name}")
        f.reasoning.add("numerical_operation")
    else:
        if not t.dates or c.role != "measure":
            return None
        d = s.pick(t.dates)
        items.append(f"SUM({c.q}) OVER (ORDER BY {d.q}) AS {_alias('running_total', c.name)}")
        f.reasoning.add("numerical_operation")
    preds = s.preds([(t, None)], 1) if s.chance(0.3, "filter") else []
    where, _ = f.where(preds)
    return _Built(f"SELECT {', '.join(dict.fromkeys(items))} FROM {t.q}{where}", f)


def _r_top_per_group(s: _Sampler, level: str) -> _Built | None:
    t = s.pick([x for x in s.with_numbers if x.groups])
    if t is None:
        return None
    c = s.pick(t.numbers)
    g = s.pick([x for x in t.groups if x is not c])
    if g is None or g is t.label:
        return None
    f = _Facts()
    f.use(t)
    f.windows = 1
    f.ctes = 1
    f.skills.update(("window", "cte"))
    name = s.cte_name("ranked", t.name)
    rank = _alias(c.name, "rank")
    desc = s.r.random() < 0.75
    cols = ", ".join(dict.fromkeys([g.q, t.label.q, c.q]))
    body = f"SELECT {cols}, RANK() OVER (PARTITION BY {g.q} ORDER BY {c.q}{' DESC' if desc else ''}) AS {rank} FROM {t.q}"
    if not desc and c.has_nulls:
        body += f" WHERE {c.q} IS NOT NULL"
        f.skills.update(("filter", "is_null", "negation"))
        f.where_conds += 1
    k = 1 if s.r.random() < 0.7 else s.r.choice((2, 3))
    where, _ = f.where([_Pred(f"{rank} = 1" if k == 1 else f"{rank} <= {k}")])
    f.reasoning.add("superlatives")
    return _Built(f"WITH {name} AS ({body}) SELECT {cols} FROM {name}{where}", f)


def _r_join_subquery(s: _Sampler, level: str) -> _Built | None:
    """Two or more joins and a comparison with an aggregate subquery (highly complex)."""
    if s.cfg.max_joins < 2:
        return None
    hops = s.r.randint(2, s.cfg.max_joins)
    path = s.join_path(hops)
    if path is None or path.hops != hops:
        return None
    measures = [(t, a, c) for t, a in path.nodes for c in t.measures]
    if not measures:
        return None
    t, a, c = s.pick(measures)
    f = _Facts()
    f.use(*[x for x, _ in path.nodes])
    f.joins = hops
    f.skills.add("join")
    f.nested()
    pred = _Pred(f"{a}.{c.q} > (SELECT {f.agg('AVG', c.q)} FROM {t.q})", (), ("numerical_comparison",))
    preds = [pred] + (s.preds(path.nodes, 1) if s.chance(0.3, "conjunction") else [])
    where, _ = f.where(preds)
    (t1, a1), (tn, an) = path.nodes[0], path.nodes[-1]
    items = list(dict.fromkeys([_ref(a1, t1.label), _ref(an, tn.label), f"{a}.{c.q}"]))
    return _Built(f"SELECT {', '.join(items)} FROM {path.from_sql}{where}", f)


_S, _M, _C, _H = COMPLEXITY_LEVELS
_RECIPES: tuple[_Recipe, ...] = (
    # tags: every skill the recipe always produces (its weight is the product of theirs)
    _Recipe("projection", _r_projection, (_S,), ("projection",)),
    _Recipe("filter", _r_filter, (_S, _M), ("filter",)),
    _Recipe("distinct", _r_distinct, (_S,), ("distinct",)),
    _Recipe("top_k", _r_top_k, (_S,), ("order_by", "limit")),
    _Recipe("string", _r_string, (_S,), ("string_function",), needs="string_functions"),
    _Recipe("arithmetic", _r_arithmetic, (_S, _M), ("arithmetic",), needs="arithmetic"),
    _Recipe("date", _r_date, (_S,), ("date_time",), needs="date_functions"),
    _Recipe("aggregate", _r_aggregate, (_M,), ("aggregation",)),
    _Recipe("group", _r_group, (_M,), ("group_by", "aggregation")),
    _Recipe("join", _r_join, (_M, _C), ("join",)),
    _Recipe("join_aggregate", _r_join_aggregate, (_M,), ("join", "aggregation", "filter")),
    _Recipe("case", _r_case, (_M,), ("case",)),
    _Recipe("ratio", _r_ratio, (_M, _C), ("ratio", "case", "aggregation", "arithmetic"), needs="arithmetic"),
    _Recipe(
        "date_group", _r_date_group, (_M,), ("date_time", "group_by", "aggregation"), needs="date_functions"
    ),
    _Recipe(
        "date_span", _r_date_span, (_M,), ("date_time", "arithmetic", "aggregation"), needs="date_functions"
    ),
    _Recipe("join_group", _r_join_group, (_C,), ("join", "group_by", "aggregation")),
    _Recipe("having", _r_having, (_C,), ("having", "group_by", "aggregation")),
    _Recipe("in_subquery", _r_in_subquery, (_C, _H), ("nested", "in", "filter")),
    _Recipe("exists", _r_exists, (_C,), ("nested", "exists", "filter")),
    _Recipe("scalar_subquery", _r_scalar_subquery, (_C, _H), ("nested", "aggregation", "filter")),
    _Recipe("set_operation", _r_set_operation, (_C, _H), ("set_operation",)),
    _Recipe("cte", _r_cte, (_H,), ("cte", "group_by", "aggregation")),
    _Recipe("window", _r_window, (_H,), ("window",)),
    _Recipe("top_per_group", _r_top_per_group, (_H,), ("window", "cte", "filter")),
    _Recipe("join_subquery", _r_join_subquery, (_H,), ("join", "nested", "aggregation", "filter")),
)

#: the recipe names, for docs and reports
RECIPE_NAMES = tuple(r.name for r in _RECIPES)

__all__ = [
    "COMPLEXITY_LEVELS",
    "RECIPE_NAMES",
    "SamplerConfig",
    "SamplerConfigError",
    "SamplerReport",
    "sample_queries",
]
