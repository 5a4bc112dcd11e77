"""Distilled test suites for any SQLite database (Zhong et al. 2020, "Semantic Evaluation for
Text-to-SQL with Distilled Test Suites"): small fuzzed copies of a database, chosen so that every
near-miss of each gold query gives a different answer from the gold on at least one of them.

``build_test_suite`` (1) mutates each gold query into near misses, (2) fuzzes candidate databases
that keep the schema and its constraints, (3) keeps greedily the candidates that tell gold from the
most not-yet-distinguished mutants and (4) writes the suite in the layout the test-suite evaluator
reads (``<out>/<db_id>/<db_id>.sqlite`` plus ``<db_id>_<i>.sqlite``): a prediction is correct only if
it equals gold on every ``.sqlite`` file in the folder. See ``docs/testsuite.md``.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sqlite3
import string
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, Field
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError

from ..db.outcome import ExecutionOutcome, Limits
from ..db.url import parse_url
from ..errors import DatabaseUnavailableError, SQLFoundryError
from ..sql.compare import compare_results, gold_orders_rows
from ..sql.normalize import SQLParseError, normalize_sql, parse_sql

__all__ = [
    "MUTATION_KINDS",
    "Mutant",
    "SuiteDatabase",
    "TestSuiteError",
    "TestSuiteExistsError",
    "TestSuiteReport",
    "build_test_suite",
    "near_miss_mutants",
    "read_schema",
]


class TestSuiteError(SQLFoundryError):
    """A test suite cannot be built from these inputs (the message says which and why)."""

    __test__ = False  # not a pytest test class, whatever its name


class TestSuiteExistsError(TestSuiteError, FileExistsError):
    """The output folder already holds a suite for this database and overwriting was not asked for."""

    __test__ = False


# ===================================================================================================
# (a) near-miss mutants of a gold query
# ===================================================================================================

#: mutation kinds, in the order they are interleaved when a query has more mutants than the cap
MUTATION_KINDS = (
    "comparison",  # swap one of < <= > >= = != for another
    "drop_predicate",  # drop one AND/OR operand of WHERE/HAVING, or the whole clause
    "aggregate",  # MAX<->MIN, COUNT<->SUM, AVG->SUM
    "order_direction",  # ASC<->DESC on one ORDER BY item
    "distinct",  # drop DISTINCT (SELECT DISTINCT, COUNT(DISTINCT x))
    "limit",  # LIMIT n -> n+1, n-1, none
    "join_key",  # replace a join-key column by another column of the same table
    "negation",  # add or remove NOT on one WHERE/HAVING condition
)

_COMPARISONS: tuple[type[exp.Expression], ...] = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_AGG_SWAPS: dict[type[exp.Expression], tuple[type[exp.Expression], ...]] = {
    exp.Max: (exp.Min,),
    exp.Min: (exp.Max,),
    exp.Count: (exp.Sum,),
    exp.Sum: (exp.Count,),
    exp.Avg: (exp.Sum,),
}


@dataclass(frozen=True)
class Mutant:
    """One near miss of gold query ``gold_index``."""

    gold_index: int
    kind: str
    sql: str


def _condition_leaves(node: exp.Expression) -> list[exp.Expression]:
    """The predicates joined by AND/OR (through parentheses) in a WHERE/HAVING/ON condition."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Connector):
        return _condition_leaves(node.this) + _condition_leaves(node.expression)
    return [node]


def _tables_in_scope(select: exp.Select) -> dict[str, str]:
    """alias-or-name (lower case) -> table name (lower case) for the tables a SELECT reads directly."""
    scope: dict[str, str] = {}
    sources = []
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is not None:
        sources.append(from_.this)
    sources.extend(j.this for j in select.args.get("joins") or [])
    for src in sources:
        if isinstance(src, exp.Table):
            name = src.name.lower()
            scope[(src.alias_or_name or name).lower()] = name
            scope.setdefault(name, name)
    return scope


def _join_key_swaps(column: exp.Column, select: exp.Select, schema: Mapping[str, Sequence[str]]) -> list[str]:
    scope = _tables_in_scope(select)
    if column.table:
        table = scope.get(column.table.lower())
    else:
        owners = [
            t for t in dict.fromkeys(scope.values()) if column.name.lower() in _lower(schema.get(t, ()))
        ]
        table = owners[0] if len(owners) == 1 else None
    if table is None:
        return []
    return [c for c in schema.get(table, ()) if c.lower() != column.name.lower()]


def _lower(names: Sequence[str]) -> set[str]:
    return {n.lower() for n in names}


def _mutation_sites(
    tree: exp.Expression, schema: Mapping[str, Sequence[str]], dialect: str = "sqlite"
) -> list[tuple[str, int, Callable[[exp.Expression], None]]]:
    """(kind, node index in ``tree.walk()`` order, edit) for every single-point mutation of ``tree``.

    Edits are applied to the node at the same index of a fresh copy, so each mutant has one change.
    """
    sites: list[tuple[str, int, Callable[[exp.Expression], None]]] = []
    nodes = list(tree.walk())
    # by identity: sqlglot's == is structural, so two equal predicates would share an index
    position = {id(n): i for i, n in enumerate(nodes)}

    def comparison_edit(cls: type[exp.Expression]) -> Callable[[exp.Expression], None]:
        return lambda n: n.replace(cls(this=n.this, expression=n.expression))

    def agg_edit(cls: type[exp.Expression]) -> Callable[[exp.Expression], None]:
        return lambda n: n.replace(cls(this=n.this))

    def limit_edit(value: int | None) -> Callable[[exp.Expression], None]:
        def edit(n: exp.Expression) -> None:
            if value is None:
                n.pop()
            else:
                n.set("expression", exp.Literal.number(value))

        return edit

    def column_edit(name: str) -> Callable[[exp.Expression], None]:
        return lambda n: n.set("this", exp.to_identifier(name))

    for i, node in enumerate(nodes):
        if type(node) in _COMPARISONS:
            for cls in _COMPARISONS:
                if cls is not type(node):
                    sites.append(("comparison", i, comparison_edit(cls)))
        if isinstance(node, (exp.Where, exp.Having)):
            leaves = _condition_leaves(node.this)
            if len(leaves) == 1:
                sites.append(("drop_predicate", i, lambda n: n.pop()))
            for leaf in leaves:
                sites.append(("negation", position[id(leaf)], _toggle_not))
        if isinstance(node, exp.Connector) and isinstance(_clause_of(node), (exp.Where, exp.Having)):
            sites.append(("drop_predicate", i, lambda n: n.replace(n.this)))
            sites.append(("drop_predicate", i, lambda n: n.replace(n.expression)))
        for src, targets in _AGG_SWAPS.items():
            if type(node) is src:
                if src is exp.Count and isinstance(node.this, exp.Star):
                    continue
                for cls in targets:
                    sites.append(("aggregate", i, agg_edit(cls)))
        if isinstance(node, exp.Ordered):
            sites.append(("order_direction", i, _direction_edit(dialect)))
        if isinstance(node, exp.Select) and node.args.get("distinct"):
            sites.append(("distinct", i, lambda n: n.set("distinct", None)))
        if isinstance(node, exp.Distinct) and not isinstance(node.parent, exp.Select):
            if len(node.expressions) == 1:
                sites.append(("distinct", i, lambda n: n.replace(n.expressions[0])))
        if isinstance(node, exp.Limit):
            value = node.expression
            if isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit():
                n = int(value.this)
                for new in (n + 1, n - 1 if n > 1 else None):
                    if new is not None:
                        sites.append(("limit", i, limit_edit(new)))
                sites.append(("limit", i, limit_edit(None)))
        if isinstance(node, exp.Join) and isinstance(node.args.get("on"), exp.Expression):
            select = node.parent
            if isinstance(select, exp.Select):
                for leaf in _condition_leaves(node.args["on"]):
                    if isinstance(leaf, exp.EQ):
                        for side in (leaf.this, leaf.expression):
                            if isinstance(side, exp.Column):
                                for other in _join_key_swaps(side, select, schema):
                                    sites.append(("join_key", position[id(side)], column_edit(other)))
    return sites


def _clause_of(node: exp.Expression) -> exp.Expression | None:
    parent = node.parent
    while isinstance(parent, (exp.Connector, exp.Paren)):
        parent = parent.parent
    return parent


def _toggle_not(node: exp.Expression) -> None:
    if isinstance(node, exp.Not):
        node.replace(node.this)
    elif node.args.get("negate") is not None and isinstance(node, exp.Predicate):
        node.set("negate", not node.args.get("negate"))
    else:
        node.replace(exp.Not(this=exp.Paren(this=node.copy())))


def _direction_edit(dialect: str) -> Callable[[exp.Expression], None]:
    null_ordering = Dialect.get_or_raise(dialect).NULL_ORDERING

    def edit(node: exp.Expression) -> None:
        desc = not node.args.get("desc")
        node.set("desc", desc)
        # keep the dialect's default NULL placement (SQLite: first ascending, last descending)
        node.set(
            "nulls_first",
            (null_ordering == "nulls_are_small" and not desc)
            or (null_ordering == "nulls_are_large" and desc),
        )

    return edit


def near_miss_mutants(
    sql: str,
    schema: Mapping[str, Sequence[str]] | None = None,
    dialect: str = "sqlite",
    max_mutants: int | None = None,
) -> list[tuple[str, str]]:
    """(kind, SQL) near misses of ``sql``: each differs from it by one edit of a kind in
    :data:`MUTATION_KINDS` and parses again. ``schema`` maps lower-case table names to column names
    (for ``join_key`` mutants). Duplicates (after normalization) and the query itself are dropped; over
    ``max_mutants``, kinds are interleaved round-robin in their order of appearance.
    """
    schema = {k.lower(): list(v) for k, v in (schema or {}).items()}
    tree = parse_sql(sql, dialect, copy=False)  # only read: each edit is made on a copy
    seen = {normalize_sql(sql, dialect)}
    by_kind: dict[str, list[str]] = {k: [] for k in MUTATION_KINDS}
    for kind, index, edit in _mutation_sites(tree, schema, dialect):
        copy = tree.copy()
        target = list(copy.walk())[index]
        try:
            edit(target)
            text = copy.sql(dialect=dialect)
            # it must parse again; its normal form (as normalize_sql makes it) finds duplicates
            key = parse_sql(text, dialect, cache=False).sql(dialect=dialect, normalize_functions="upper")
        except (SQLParseError, SqlglotError, ValueError, TypeError, AttributeError):
            continue
        if key in seen:
            continue
        seen.add(key)
        by_kind[kind].append(text)
    out: list[tuple[str, str]] = []
    queues = [(k, list(v)) for k, v in by_kind.items() if v]
    while queues and (max_mutants is None or len(out) < max_mutants):
        for kind, queue in queues:
            if queue and (max_mutants is None or len(out) < max_mutants):
                out.append((kind, queue.pop(0)))
        queues = [(k, q) for k, q in queues if q]
    return out


# ===================================================================================================
# (b) the schema and values of the original database, and fuzzed candidates
# ===================================================================================================


@dataclass
class ColumnSpec:
    name: str
    declared_type: str
    not_null: bool
    pk_position: int  # 0 when not part of the primary key
    affinity: str  # integer, real, numeric, text, blob
    values: list[Any] = field(default_factory=list)  # distinct original values, most frequent first
    null_fraction: float = 0.0


@dataclass
class ForeignKeySpec:
    columns: list[str]
    ref_table: str  # as found in the catalog (exact case), or as written when the table is missing
    ref_columns: list[str]


@dataclass
class TableSpec:
    name: str
    create_sql: str
    columns: list[ColumnSpec]
    primary_key: list[str]
    unique_keys: list[list[str]]  # primary key first, then UNIQUE constraints and unique indexes
    foreign_keys: list[ForeignKeySpec]
    row_count: int
    rowid_alias: str | None  # the INTEGER PRIMARY KEY column, whose values must be integers

    def column(self, name: str) -> ColumnSpec | None:
        for c in self.columns:
            if c.name.lower() == name.lower():
                return c
        return None


@dataclass
class DatabaseSpec:
    """What a candidate must reproduce: the CREATE statements, in order, and each table's keys."""

    tables: list[TableSpec]
    #: (type, name, sql) of every schema object with SQL, in sqlite_master order
    objects: list[tuple[str, str, str]]

    def table(self, name: str) -> TableSpec | None:
        for t in self.tables:
            if t.name.lower() == name.lower():
                return t
        return None

    def column_names(self) -> dict[str, list[str]]:
        return {t.name.lower(): [c.name for c in t.columns] for t in self.tables}


def _affinity(declared: str) -> str:
    # SQLite's column affinity rules (datatype3.html, section 3.1), in their order
    t = declared.upper()
    if "INT" in t:
        return "integer"
    if any(s in t for s in ("CHAR", "CLOB", "TEXT")):
        return "text"
    if "BLOB" in t or not t:
        return "blob"
    if any(s in t for s in ("REAL", "FLOA", "DOUB")):
        return "real"
    return "numeric"


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _decode_lossy(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _open_readonly(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise DatabaseUnavailableError(f"cannot open {str(path)!r} as SQLite: {exc}") from None
    conn.text_factory = _decode_lossy
    return conn


def read_schema(db_path: str | Path, max_values: int = 200) -> DatabaseSpec:
    """The schema objects, keys and (up to ``max_values`` most frequent) distinct values per column."""
    path = Path(db_path)
    if not path.is_file():
        raise DatabaseUnavailableError(f"SQLite database {str(path)!r} does not exist")
    conn = _open_readonly(path)
    try:
        master = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
        ).fetchall()
        objects = [(t, n, s) for t, n, _tbl, s in master if not n.lower().startswith("sqlite_")]
        tables: list[TableSpec] = []
        for type_, name, _tbl, sql in master:
            if type_ != "table" or name.lower().startswith("sqlite_"):
                continue
            if sql.lstrip().upper().startswith("CREATE VIRTUAL"):
                continue
            tables.append(_read_table(conn, name, sql, max_values))
        return DatabaseSpec(tables=tables, objects=objects)
    finally:
        conn.close()


def _read_table(conn: sqlite3.Connection, name: str, create_sql: str, max_values: int) -> TableSpec:
    info = conn.execute(f"PRAGMA table_xinfo({_q(name)})").fetchall()
    # hidden 2/3 are generated columns: they cannot be inserted into
    info = [r for r in info if (r[6] if len(r) > 6 else 0) == 0]
    row_count = conn.execute(f"SELECT count(*) FROM {_q(name)}").fetchone()[0]
    columns = []
    for _cid, cname, ctype, notnull, _default, pk, *_ in info:
        col = ColumnSpec(
            name=cname, declared_type=ctype or "", not_null=bool(notnull), pk_position=int(pk),
            affinity=_affinity(ctype or ""),
        )  # fmt: skip
        if row_count:
            rows = conn.execute(
                f"SELECT {_q(cname)}, count(*) FROM {_q(name)} WHERE {_q(cname)} IS NOT NULL "
                f"GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(max_values)}"
            ).fetchall()
            col.values = [r[0] for r in rows]
            nulls = conn.execute(f"SELECT count(*) FROM {_q(name)} WHERE {_q(cname)} IS NULL").fetchone()[0]
            col.null_fraction = nulls / row_count
        columns.append(col)
    primary_key = [c.name for c in sorted((c for c in columns if c.pk_position), key=lambda c: c.pk_position)]
    unique_keys: list[list[str]] = [primary_key] if primary_key else []
    for idx in conn.execute(f"PRAGMA index_list({_q(name)})").fetchall():
        if idx[2]:  # unique
            cols = [r[2] for r in conn.execute(f"PRAGMA index_info({_q(idx[1])})").fetchall()]
            if cols and all(c is not None for c in cols) and cols not in unique_keys:
                unique_keys.append(cols)
    rowid_alias = None
    if len(primary_key) == 1:
        pk_col = next(c for c in columns if c.name == primary_key[0])
        if pk_col.declared_type.strip().upper() == "INTEGER" and "WITHOUT ROWID" not in create_sql.upper():
            rowid_alias = pk_col.name
    fks: dict[int, ForeignKeySpec] = {}
    for fid, _seq, ref_table, from_col, to_col, *_ in conn.execute(f"PRAGMA foreign_key_list({_q(name)})"):
        fk = fks.setdefault(fid, ForeignKeySpec(columns=[], ref_table=ref_table, ref_columns=[]))
        fk.columns.append(from_col)
        fk.ref_columns.append(to_col or "")
    return TableSpec(
        name=name, create_sql=create_sql, columns=columns, primary_key=primary_key, unique_keys=unique_keys,
        foreign_keys=list(fks.values()), row_count=row_count, rowid_alias=rowid_alias,
    )  # fmt: skip


# --- values the gold queries compare columns with --------------------------------------------------


@dataclass
class GoldValues:
    """Per (table, column), in lower case: literals gold queries compare it with, their neighbours
    (boundary values just below and above), and LIKE patterns."""

    literals: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    neighbours: dict[tuple[str, str], list[Any]] = field(default_factory=dict)
    patterns: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def add(self, key: tuple[str, str], value: Any, neighbour: bool = False) -> None:
        bucket = (self.neighbours if neighbour else self.literals).setdefault(key, [])
        if value not in bucket:
            bucket.append(value)


def _literal_value(node: exp.Expression, known_columns: set[str]) -> tuple[bool, Any]:
    """(is a literal, its value); a bare double-quoted name that is no column is SQLite's string."""
    if isinstance(node, exp.Paren):
        return _literal_value(node.this, known_columns)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return True, node.this
        text = node.this
        try:
            return True, int(text)
        except ValueError:
            try:
                return True, float(text)
            except ValueError:
                return True, text
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        ok, value = _literal_value(node.this, known_columns)
        return (True, -value) if ok and isinstance(value, (int, float)) else (False, None)
    if (
        isinstance(node, exp.Column)
        and not node.table
        and node.this.args.get("quoted")
        and node.name.lower() not in known_columns
    ):
        return True, node.name
    return False, None


def _column_owners(
    col: exp.Column, aliases: dict[str, str], query_tables: list[str], columns_by_table: dict[str, set[str]]
) -> list[tuple[str, str]]:
    name = col.name.lower()
    if col.table:
        table = aliases.get(col.table.lower(), col.table.lower())
        return [(table, name)] if name in columns_by_table.get(table, ()) else []
    return [(t, name) for t in query_tables if name in columns_by_table.get(t, ())]


def gold_values(golds: Sequence[str], spec: DatabaseSpec, dialect: str = "sqlite") -> GoldValues:
    """Literals and LIKE patterns the gold queries compare each column with (so fuzzed rows can
    satisfy their predicates), plus neighbours of numeric literals (boundary values)."""
    out = GoldValues()
    columns_by_table = {t.name.lower(): _lower([c.name for c in t.columns]) for t in spec.tables}
    known_columns = set().union(*columns_by_table.values()) if columns_by_table else set()
    for sql in golds:
        try:
            tree = parse_sql(sql, dialect, copy=False)
        except SQLParseError:
            continue
        aliases: dict[str, str] = {}
        for table in tree.find_all(exp.Table):
            aliases[(table.alias_or_name or table.name).lower()] = table.name.lower()
            aliases.setdefault(table.name.lower(), table.name.lower())
        query_tables = list(dict.fromkeys(aliases.values()))

        for node in tree.walk():
            pairs: list[tuple[exp.Expression, list[exp.Expression], bool]] = []
            if type(node) in _COMPARISONS or isinstance(node, (exp.Like, exp.ILike)):
                like = isinstance(node, (exp.Like, exp.ILike))
                pairs.append((node.this, [node.expression], like))
                if not like:
                    pairs.append((node.expression, [node.this], False))
            elif isinstance(node, exp.In):
                pairs.append((node.this, list(node.expressions), False))
            elif isinstance(node, exp.Between):
                pairs.append((node.this, [node.args["low"], node.args["high"]], False))
            for col, values, like in pairs:
                if not isinstance(col, exp.Column):
                    continue
                keys = _column_owners(col, aliases, query_tables, columns_by_table)
                for value_node in values:
                    ok, value = _literal_value(value_node, known_columns)
                    if not ok:
                        continue
                    for key in keys:
                        if like and isinstance(value, str):
                            out.patterns.setdefault(key, [])
                            if value not in out.patterns[key]:
                                out.patterns[key].append(value)
                            continue
                        out.add(key, value)
                        if isinstance(value, bool):
                            continue
                        if isinstance(value, int):
                            out.add(key, value - 1, neighbour=True)
                            out.add(key, value + 1, neighbour=True)
                        elif isinstance(value, float):
                            out.add(key, value - 0.5, neighbour=True)
                            out.add(key, value + 0.5, neighbour=True)
                        elif isinstance(value, str) and value:
                            # just below and just above in text order, and the other case
                            if len(value) > 1:
                                out.add(key, value[:-1], neighbour=True)
                            out.add(key, value + "z", neighbour=True)
                            if value.swapcase() != value:
                                out.add(key, value.swapcase(), neighbour=True)
    return out


# --- fuzzing one candidate -------------------------------------------------------------------------


@dataclass
class FuzzConfig:
    """How candidate databases are fuzzed (documented defaults; see docs/testsuite.md)."""

    max_rows: int = 20  # rows per table are drawn from 1..max_rows (a few tables get 0)
    empty_table_probability: float = 0.03
    gold_value_probability: float = 0.3  # draw from gold literals when the column has some
    perturb_probability: float = 0.2  # perturb an original value instead of copying it
    extra_null_probability: float = 0.05  # NULLs in nullable columns that never held one


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _perturb(value: Any, col: ColumnSpec, rng: random.Random) -> Any:
    numbers = [v for v in col.values if _is_number(v)]
    if _is_number(value):
        choice = rng.random()
        if choice < 0.25 and numbers:
            return rng.choice([min(numbers), max(numbers)])
        if choice < 0.4 and numbers:
            return rng.choice([min(numbers) - 1, max(numbers) + 1])
        if choice < 0.5:
            return 0
        if isinstance(value, int):
            return value + rng.choice([-2, -1, 1, 2])
        if not math.isfinite(value):
            return value
        return round(value + rng.choice([-1.0, -0.5, 0.5, 1.0]) * max(abs(value) * 0.05, 0.5), 4)
    if isinstance(value, str) and value:
        choice = rng.random()
        if choice < 0.3:
            return value.swapcase() if value.swapcase() != value else value + " "
        if choice < 0.6 and len(value) > 1:
            chars = list(value)
            rng.shuffle(chars)
            return "".join(chars)
        if choice < 0.8:
            return value + rng.choice(string.ascii_lowercase)
        return value[: max(1, len(value) // 2)]
    return value


def _instantiate_pattern(pattern: str, rng: random.Random) -> str:
    out = []
    for ch in pattern:
        if ch == "%":
            out.append(rng.choice(["", "", rng.choice(string.ascii_lowercase) * rng.randint(1, 3)]))
        elif ch == "_":
            out.append(rng.choice(string.ascii_lowercase))
        else:
            out.append(ch)
    return "".join(out)


def _fresh_value(col: ColumnSpec, rng: random.Random, serial: int) -> Any:
    if col.affinity == "integer" or any(isinstance(v, int) for v in col.values):
        return serial
    if col.affinity in ("real", "numeric"):
        return round(serial + rng.random(), 2)
    if "DATE" in col.declared_type.upper() or "TIME" in col.declared_type.upper():
        return f"20{rng.randint(0, 24):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return f"{col.name.lower()}_{serial}"


def _required(col: ColumnSpec) -> bool:
    # SQLite lets most primary-key columns hold NULL (a legacy bug); a fuzzed row never uses that
    return col.not_null or bool(col.pk_position)


def _draw(
    col: ColumnSpec, key: tuple[str, str], golds: GoldValues, cfg: FuzzConfig, rng: random.Random,
    null_rate: float, serial: int,
) -> Any:  # fmt: skip
    if not _required(col) and rng.random() < null_rate:
        return None
    literals = golds.literals.get(key)
    neighbours = golds.neighbours.get(key)
    patterns = golds.patterns.get(key)
    if (literals or patterns) and rng.random() < cfg.gold_value_probability:
        if patterns and (not literals or rng.random() < 0.5):
            return _instantiate_pattern(rng.choice(patterns), rng)
        assert literals is not None
        if neighbours and rng.random() < 0.3:
            return rng.choice(neighbours)
        return rng.choice(literals)
    if not col.values:
        return _fresh_value(col, rng, serial)
    value = rng.choice(col.values)
    if rng.random() < cfg.perturb_probability:
        value = _perturb(value, col, rng)
    return value


def _table_order(spec: DatabaseSpec) -> list[TableSpec]:
    """Tables with parents before children where the foreign keys allow (cycles broken by catalog order)."""
    done: list[TableSpec] = []
    placed: set[str] = set()
    remaining = list(spec.tables)
    while remaining:
        for t in remaining:
            parents = {fk.ref_table.lower() for fk in t.foreign_keys} - {t.name.lower()}
            parents &= {x.name.lower() for x in spec.tables}
            if parents <= placed:
                break
        else:
            t = remaining[0]
        remaining.remove(t)
        done.append(t)
        placed.add(t.name.lower())
    return done


def _resolve_ref_columns(fk: ForeignKeySpec, parent: TableSpec) -> list[str] | None:
    if any(fk.ref_columns):
        cols = []
        for c in fk.ref_columns:
            pc = parent.column(c)
            if pc is None:
                return None
            cols.append(pc.name)
        return cols
    return list(parent.primary_key) or None


def _generate_rows(
    spec: DatabaseSpec, golds: GoldValues, cfg: FuzzConfig, rng: random.Random
) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {}
    for table in _table_order(spec):
        n = 0 if rng.random() < cfg.empty_table_probability else rng.randint(1, max(1, cfg.max_rows))
        null_rates = {
            c.name: (c.null_fraction if c.null_fraction else cfg.extra_null_probability)
            for c in table.columns
        }
        key_sets: list[tuple[list[str], set[tuple]]] = [(k, set()) for k in table.unique_keys]
        table_rows: list[dict[str, Any]] = []
        serial = 1 + max((v for c in table.columns for v in c.values if isinstance(v, int)), default=0)
        fk_columns = {c.lower() for fk in table.foreign_keys for c in fk.columns}
        # single-column keys are redrawn on a collision instead of losing the row
        redraw = {k[0]: set() for k in table.unique_keys if len(k) == 1 and k[0].lower() not in fk_columns}
        for _ in range(n):
            row: dict[str, Any] = {}
            for col in table.columns:
                key = (table.name.lower(), col.name.lower())
                value = _draw(col, key, golds, cfg, rng, null_rates[col.name], serial)
                serial += 1
                seen = redraw.get(col.name)
                if seen is not None:
                    if col.name == table.rowid_alias and not isinstance(value, int):
                        value = serial
                        serial += 1
                    tries = 0
                    while _unique_key(value) in seen and tries < 5:
                        value = _draw(col, key, golds, cfg, rng, 0.0, serial)
                        if col.name == table.rowid_alias and not isinstance(value, int):
                            value = serial
                        serial += 1
                        tries += 1
                    if _unique_key(value) in seen:
                        value = _fresh_value(col, rng, serial)
                        serial += 1
                    if value is not None:
                        seen.add(_unique_key(value))
                row[col.name] = value
            if table.rowid_alias is not None and not isinstance(row[table.rowid_alias], int):
                row[table.rowid_alias] = serial
                serial += 1
            table_rows.append(row)
        rows[table.name] = table_rows
        _assign_foreign_keys(table, spec, rows, rng, null_rates, golds, cfg)
        rows[table.name] = _enforce_unique(table, rows[table.name], key_sets)
    return rows


def _assign_foreign_keys(
    table: TableSpec, spec: DatabaseSpec, rows: dict[str, list[dict[str, Any]]], rng: random.Random,
    null_rates: dict[str, float], golds: GoldValues, cfg: FuzzConfig,
) -> None:  # fmt: skip
    """Point each foreign key at a parent row; keys gold queries compare with a literal point at a
    parent row holding that literal at the gold-value rate, so joins and filters meet."""
    kept = rows[table.name]
    for fk in table.foreign_keys:
        parent = spec.table(fk.ref_table)
        if parent is None:
            continue  # a reference to a table that does not exist: nothing can satisfy it
        ref_cols = _resolve_ref_columns(fk, parent)
        if ref_cols is None or len(ref_cols) != len(fk.columns):
            continue
        child_cols = [c.name for c in (table.column(x) for x in fk.columns) if c is not None]
        if len(child_cols) != len(fk.columns):
            continue
        parent_rows = rows.get(parent.name, []) if parent.name != table.name else kept
        targets = sorted(
            {tuple(r[c] for c in ref_cols) for r in parent_rows if all(r[c] is not None for c in ref_cols)},
            key=repr,
        )
        nullable = all(not _required(table.column(c)) for c in child_cols)  # type: ignore[arg-type]
        null_rate = max(null_rates.get(c, 0.0) for c in child_cols)
        wanted = [set(map(repr, golds.literals.get((table.name.lower(), c.lower()), []))) for c in child_cols]
        preferred = [t for t in targets if any(repr(v) in w for v, w in zip(t, wanted, strict=True))]
        new_rows = []
        for row in kept:
            if nullable and (not targets or rng.random() < null_rate):
                for c in child_cols:
                    row[c] = None
            elif targets:
                pick = preferred if preferred and rng.random() < cfg.gold_value_probability else targets
                for c, v in zip(child_cols, rng.choice(pick), strict=True):
                    row[c] = v
            else:
                continue  # a NOT NULL reference with no parent row to point at
            new_rows.append(row)
        kept[:] = new_rows


def _enforce_unique(
    table: TableSpec, table_rows: list[dict[str, Any]], key_sets: list[tuple[list[str], set[tuple]]]
) -> list[dict[str, Any]]:
    """Drop the rows that repeat a primary or unique key (after foreign keys were assigned)."""
    out = []
    for row in table_rows:
        keys = []
        duplicate = False
        for cols, seen in key_sets:
            key = tuple(_unique_key(row[c]) for c in cols if c in row)
            if any(v is None for v in key) and cols != table.primary_key:
                keys.append(None)  # NULLs never collide in a UNIQUE constraint
                continue
            if key in seen:
                duplicate = True
                break
            keys.append(key)
        if duplicate:
            continue
        for (_cols, seen), key in zip(key_sets, keys, strict=False):
            if key is not None:
                seen.add(key)
        out.append(row)
    return out


def _unique_key(value: Any) -> Any:
    # SQLite compares 1 and 1.0 equal in an index; text compares by its bytes (BINARY collation)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _write_candidate(path: Path, spec: DatabaseSpec, rows: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """Create ``path`` with the original CREATE statements and ``rows``, then delete any row whose
    references do not resolve. Returns the final row count of each table."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("BEGIN")
        triggers = []
        for type_, _name, sql in spec.objects:
            if type_ == "trigger":
                triggers.append(sql)  # created after the data, so inserting does not fire them
                continue
            try:
                conn.execute(sql)
            except sqlite3.OperationalError as exc:
                if "already exists" not in str(exc):  # e.g. a virtual table's shadow tables
                    raise
        for table in spec.tables:
            table_rows = rows.get(table.name, [])
            if not table_rows:
                continue
            cols = [c.name for c in table.columns]
            insert = (
                f"INSERT OR IGNORE INTO {_q(table.name)} ({', '.join(_q(c) for c in cols)}) "
                f"VALUES ({', '.join('?' for _ in cols)})"
            )
            values = [tuple(r[c] for c in cols) for r in table_rows]
            try:
                conn.executemany(insert, values)
            except sqlite3.Error:
                for v in values:  # a STRICT table or an odd trigger: keep the rows that go in
                    try:
                        conn.execute(insert, v)
                    except sqlite3.Error:
                        pass
        _delete_orphans(conn, spec)
        for sql in triggers:
            conn.execute(sql)
        conn.execute("COMMIT")
        return {t.name: conn.execute(f"SELECT count(*) FROM {_q(t.name)}").fetchone()[0] for t in spec.tables}
    finally:
        conn.close()


def _delete_orphans(conn: sqlite3.Connection, spec: DatabaseSpec) -> None:
    """Delete rows whose foreign keys point at nothing, until none is left (a deletion can orphan
    rows further down). SQLite's own ``foreign_key_check`` decides where it can run."""
    for _ in range(len(spec.tables) + 2):
        deleted = 0
        for table in spec.tables:
            for fk in table.foreign_keys:
                parent = spec.table(fk.ref_table)
                if parent is None:
                    continue
                ref_cols = _resolve_ref_columns(fk, parent)
                if ref_cols is None or len(ref_cols) != len(fk.columns):
                    continue
                not_null = " AND ".join(f"c.{_q(c)} IS NOT NULL" for c in fk.columns)
                match = " AND ".join(
                    f"p.{_q(r)} = c.{_q(c)}" for c, r in zip(fk.columns, ref_cols, strict=True)
                )
                cur = conn.execute(
                    f"DELETE FROM {_q(table.name)} WHERE rowid IN (SELECT c.rowid FROM {_q(table.name)} AS c "
                    f"WHERE {not_null} AND NOT EXISTS (SELECT 1 FROM {_q(parent.name)} AS p WHERE {match}))"
                    if "WITHOUT ROWID" not in table.create_sql.upper()
                    else f"DELETE FROM {_q(table.name)} AS c WHERE {not_null} AND NOT EXISTS "
                    f"(SELECT 1 FROM {_q(parent.name)} AS p WHERE {match})"
                )
                deleted += max(cur.rowcount, 0)
        try:
            violations = conn.execute("PRAGMA foreign_key_check").fetchall()
        except sqlite3.DatabaseError:
            violations = []  # e.g. "foreign key mismatch": the schema's own references are malformed
        for table_name, rowid, *_ in violations:
            if rowid is not None:
                conn.execute(f"DELETE FROM {_q(table_name)} WHERE rowid = ?", (rowid,))
                deleted += 1
        if not deleted:
            return


# ===================================================================================================
# execution: the Executor when there is one, connectors in-process otherwise
# ===================================================================================================


def _sqlite_url(path: Path) -> str:
    return "sqlite:///" + quote(str(path.resolve()))


class _InlineRunner:
    """Runs statements one by one through the read-only connectors (no worker processes)."""

    def __init__(self, limits: Limits):
        self.limits = limits

    def run(self, items: Sequence[tuple[str, str]]) -> list[ExecutionOutcome]:
        from ..db.connectors import connector_for

        outcomes: list[ExecutionOutcome] = []
        open_: dict[str, Any] = {}
        try:
            for url, sql in items:
                conn = open_.get(url)
                if conn is None:
                    conn = open_[url] = connector_for(url)
                    conn.open()
                outcomes.append(conn.execute(sql, self.limits, keep_rows=True))
        finally:
            for conn in open_.values():
                conn.close()
        return outcomes

    def close(self) -> None:
        pass


class _ExecutorRunner:
    def __init__(self, executor: Any, limits: Limits, owned: bool):
        self.executor = executor
        self.limits = limits
        self.owned = owned

    def run(self, items: Sequence[tuple[str, str]]) -> list[ExecutionOutcome]:
        from ..db.executor import Query

        return self.executor.run_batch([Query(url, sql, self.limits, True) for url, sql in items])

    def close(self) -> None:
        if self.owned:
            self.executor.close()


def _make_runner(executor: Any, limits: Limits, workers: int | None) -> _InlineRunner | _ExecutorRunner:
    if executor == "inline":
        return _InlineRunner(limits)
    if executor is not None:
        return _ExecutorRunner(executor, limits, owned=False)
    try:
        from ..db.executor import Executor
    except ImportError:
        return _InlineRunner(limits)
    # candidate files are throwaway: caching their results would only fill the cache
    return _ExecutorRunner(Executor(workers=workers, limits=limits, cache=False), limits, owned=True)


# ===================================================================================================
# (c) greedy distillation and (d) the report
# ===================================================================================================


class SuiteDatabase(BaseModel):
    """One database of the suite, in the order chosen."""

    path: str
    new_kills: int  # mutants it distinguishes that the databases before it did not
    killed_after: int  # mutants distinguished by the suite up to and including it
    tie_ambiguous_golds: int = 0  # ordered gold queries whose answer here depends on tie-breaking
    row_counts: dict[str, int] = Field(default_factory=dict)


class MutationStats(BaseModel):
    total: int = 0
    killed_by_original: int = 0
    killed_by_suite: int = 0


class GoldFailure(BaseModel):
    index: int
    sql: str
    message: str


class SurvivingMutant(BaseModel):
    gold_index: int
    kind: str
    sql: str


class TestSuiteReport(BaseModel):
    """What a build produced; written as JSON next to the suite folder."""

    __test__ = False

    db_id: str
    database: str
    suite_dir: str
    report_path: str
    seed: int
    k: int
    n_candidates: int
    gold_total: int
    gold_used: int  # gold queries that ran on the original (the others are listed in gold_failed)
    gold_failed: list[GoldFailure] = Field(default_factory=list)
    mutants_total: int  # near misses that run on the original database
    killed_by_original: int
    killed_by_suite: int  # by the original and the chosen variants together
    candidates_valid: int  # candidates on which every gold query ran (and was tie-free if asked)
    candidates_rejected: dict[str, int] = Field(default_factory=dict)
    gold_tie_ambiguous_on_original: int = 0
    databases: list[SuiteDatabase] = Field(default_factory=list)
    by_kind: dict[str, MutationStats] = Field(default_factory=dict)
    surviving: list[SurvivingMutant] = Field(default_factory=list)  # first 500 not distinguished
    elapsed_s: float = 0.0

    @property
    def kill_rate_original(self) -> float:
        return self.killed_by_original / self.mutants_total if self.mutants_total else 1.0

    @property
    def kill_rate_suite(self) -> float:
        return self.killed_by_suite / self.mutants_total if self.mutants_total else 1.0


def _tie_probe(sql: str, dialect: str) -> tuple[str, int] | None:
    """A query returning gold's rows with its ORDER BY keys appended (and one row past its LIMIT),
    to see whether ties make gold's answer depend on the engine's tie-breaking; None when the query
    is not a plain ordered SELECT."""
    try:
        tree = parse_sql(sql, dialect)
    except SQLParseError:
        return None
    if not isinstance(tree, exp.Select) or tree.args.get("distinct") or tree.args.get("offset"):
        return None
    order = tree.args.get("order")
    if order is None or not order.expressions:
        return None
    projections = list(tree.expressions)
    aliases = {p.alias.lower(): p.this for p in projections if isinstance(p, exp.Alias)}
    keys: list[exp.Expression] = []
    for ordered in order.expressions:
        key = ordered.this
        if isinstance(key, exp.Literal) and not key.is_string and key.this.isdigit():
            pos = int(key.this) - 1
            if not 0 <= pos < len(projections) or isinstance(projections[pos], exp.Star):
                return None
            key = projections[pos].this if isinstance(projections[pos], exp.Alias) else projections[pos]
        elif isinstance(key, exp.Column) and not key.table and key.name.lower() in aliases:
            key = aliases[key.name.lower()]
        keys.append(key.copy())
    probe = tree.copy()
    for i, key in enumerate(keys):
        probe.append("expressions", exp.alias_(key, f"__tie_key_{i}"))
    limit = tree.args.get("limit")
    if limit is not None:
        value = limit.expression
        if not (isinstance(value, exp.Literal) and not value.is_string and value.this.isdigit()):
            return None
        probe.set("limit", exp.Limit(expression=exp.Literal.number(int(value.this) + 1)))
    return probe.sql(dialect=dialect), len(keys)


def _tie_ambiguous(outcome: ExecutionOutcome, n_keys: int) -> bool:
    rows = outcome.rows or []
    for a, b in zip(rows, rows[1:], strict=False):
        if a[-n_keys:] == b[-n_keys:] and a[:-n_keys] != b[:-n_keys]:
            return True
    return False


@dataclass
class _Gold:
    index: int
    sql: str
    order_matters: bool
    probe: tuple[str, int] | None
    outcome: ExecutionOutcome | None = None


@dataclass
class _Candidate:
    index: int
    path: Path
    kills: frozenset[int]
    row_counts: dict[str, int]
    tie_ambiguous: int


def _differs(gold: ExecutionOutcome, pred: ExecutionOutcome, order_matters: bool) -> bool:
    """Whether a mutant is told apart from gold on one database: it fails, or its result differs
    under the Spider test-suite comparison."""
    if not pred.ok:
        return True
    return not compare_results(gold.rows or [], pred.rows or [], mode="spider", order_matters=order_matters)


def _progress(enabled: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not enabled,
    )


def _db_path(db: str | Path) -> Path:
    if isinstance(db, Path):
        return db
    if "://" in db:
        url = parse_url(db)
        if url.engine != "sqlite" or not url.path:
            raise TestSuiteError(f"test suites are built for SQLite databases; {url.display} is {url.engine}")
        return Path(url.path)
    return Path(db)


class _SuiteBuilder:
    """The state of one build; each step of :func:`build_test_suite` is one method."""

    def __init__(self, source: Path, db_id: str, runner: Any, dialect: str, reject_ties: bool):
        self.source = source
        self.source_url = _sqlite_url(source)
        self.db_id = db_id
        self.runner = runner
        self.dialect = dialect
        self.reject_ties = reject_ties
        self.spec = read_schema(source)
        self.used: list[_Gold] = []
        self.failed: list[GoldFailure] = []
        self.mutants: list[Mutant] = []
        self.killed_original: set[int] = set()
        self.ambiguous_original = 0

    # -- gold and mutants on the original -----------------------------------------------------------
    def run_gold(self, gold_sqls: Sequence[str]) -> None:
        golds = [
            _Gold(i, sql, gold_orders_rows(sql, self.dialect), _tie_probe(sql, self.dialect))
            for i, sql in enumerate(gold_sqls)
        ]
        for g, o in zip(golds, self.runner.run([(self.source_url, g.sql) for g in golds]), strict=True):
            if o.ok:
                g.outcome = o
                self.used.append(g)
            else:
                self.failed.append(
                    GoldFailure(index=g.index, sql=g.sql, message=f"{o.status.value}: {o.message}")
                )
        self.ambiguous_original = self._count_ties(self.source_url)

    def make_mutants(self, max_per_query: int, progress: Any) -> None:
        task = progress.add_task(f"{self.db_id}: mutating gold queries", total=len(self.used))
        schema_columns = self.spec.column_names()
        candidates: list[Mutant] = []
        memo: dict[str, list[tuple[str, str]]] = {}  # benchmarks repeat gold queries verbatim
        for g in self.used:
            pairs = memo.get(g.sql)
            if pairs is None:
                try:
                    pairs = near_miss_mutants(g.sql, schema_columns, self.dialect, max_per_query)
                except SQLParseError:
                    pairs = []
                memo[g.sql] = pairs
            candidates.extend(Mutant(g.index, kind, sql) for kind, sql in pairs)
            progress.advance(task)
        outcomes = self.runner.run([(self.source_url, m.sql) for m in candidates])
        gold = {g.index: g for g in self.used}
        for m, o in zip(candidates, outcomes, strict=True):
            if not o.ok:
                continue  # a mutant must run on the original to be a plausible wrong answer
            if _differs(gold[m.gold_index].outcome, o, gold[m.gold_index].order_matters):  # type: ignore[arg-type]
                self.killed_original.add(len(self.mutants))
            self.mutants.append(m)

    def _count_ties(self, url: str, results: Sequence[ExecutionOutcome] | None = None) -> int:
        probes = [g.probe for g in self.used if g.probe is not None]
        if results is None:
            results = self.runner.run([(url, p[0]) for p in probes]) if probes else []
        return sum(1 for p, o in zip(probes, results, strict=True) if o.ok and _tie_ambiguous(o, p[1]))

    # -- candidates ---------------------------------------------------------------------------------
    def test_candidate(
        self, index: int, path: Path, targets: list[int], counts: dict[str, int]
    ) -> _Candidate | str:
        """What the candidate distinguishes, or why it cannot be part of a suite."""
        url = _sqlite_url(path)
        probes = [g.probe for g in self.used if g.probe is not None]
        batch = [(url, g.sql) for g in self.used] + [(url, p[0]) for p in probes]
        batch += [(url, self.mutants[i].sql) for i in targets]
        results = self.runner.run(batch)
        n_gold, n_probe = len(self.used), len(probes)
        gold_results = results[:n_gold]
        if not all(o.ok for o in gold_results):
            return "gold_failed"  # gold must run on every database of a suite
        ambiguous = self._count_ties(url, results[n_gold : n_gold + n_probe])
        if ambiguous and self.reject_ties:
            return "gold_tie_ambiguous"
        gold_on = {g.index: o for g, o in zip(self.used, gold_results, strict=True)}
        order = {g.index: g.order_matters for g in self.used}
        kills = frozenset(
            i
            for i, o in zip(targets, results[n_gold + n_probe :], strict=True)
            if _differs(gold_on[self.mutants[i].gold_index], o, order[self.mutants[i].gold_index])
        )
        return _Candidate(index, path, kills, counts, ambiguous)


def _choose_greedily(candidates: list[_Candidate], alive: set[int], k: int) -> list[tuple[_Candidate, int]]:
    """Up to ``k`` candidates, each the one telling apart the most mutants still alive (ties broken by
    generation order), stopping when none adds any. Candidates on which no ordered gold query is
    tie-ambiguous are used up first; the others only for what the tie-free ones cannot tell apart."""
    chosen: list[tuple[_Candidate, int]] = []
    tie_free = [c for c in candidates if not c.tie_ambiguous]
    ambiguous = sorted((c for c in candidates if c.tie_ambiguous), key=lambda c: (c.tie_ambiguous, c.index))
    for pool in (tie_free, ambiguous):
        while len(chosen) < k and alive and pool:
            best = max(range(len(pool)), key=lambda j: (len(pool[j].kills & alive), -j))
            gain = pool[best].kills & alive
            if not gain:
                break
            alive -= gain
            chosen.append((pool.pop(best), len(gain)))
    return chosen


def build_test_suite(
    db_path: str | Path,
    gold_sqls: Sequence[str],
    out_dir: str | Path,
    k: int = 10,
    seed: int = 0,
    n_candidates: int = 100,
    executor: Any = None,
    *,
    db_id: str | None = None,
    max_mutants_per_query: int = 60,
    fuzz: FuzzConfig | None = None,
    reject_ties: bool = False,
    overwrite: bool = False,
    limits: Limits | None = None,
    workers: int | None = None,
    show_progress: bool = False,
    dialect: str = "sqlite",
) -> TestSuiteReport:
    """Build a distilled test suite for the SQLite database at ``db_path`` (a path or sqlite:// URL).

    Writes ``<out_dir>/<db_id>/<db_id>.sqlite`` (a copy of the original) and up to ``k`` fuzzed
    variants ``<db_id>_<i>.sqlite`` chosen greedily among ``n_candidates``, and the JSON report
    ``<out_dir>/<db_id>.testsuite.json``. ``executor`` is an :class:`~sqlfoundry.db.executor.Executor`
    to run statements with (one is started, and stopped, when None; ``"inline"`` runs in-process).
    ``reject_ties`` drops every candidate on which an ordered gold query's answer depends on how the
    engine breaks ties (strict, but it favours near-empty databases; see docs/testsuite.md).
    The same inputs and seed give the same suite.
    """
    started = time.perf_counter()
    source = _db_path(db_path)
    if not source.is_file():
        raise DatabaseUnavailableError(f"SQLite database {str(source)!r} does not exist")
    if k < 0 or n_candidates < 0:
        raise TestSuiteError(f"k and n_candidates must be >= 0 (got k={k}, n_candidates={n_candidates})")
    db_id = db_id or source.stem
    cfg = fuzz or FuzzConfig()
    out_root = Path(out_dir)
    suite_dir = out_root / db_id
    report_path = out_root / f"{db_id}.testsuite.json"
    if suite_dir.exists() and any(suite_dir.glob("*.sqlite")) and not overwrite:
        raise TestSuiteExistsError(
            f"{suite_dir} already holds a test suite; pass overwrite=True (--overwrite) to replace it"
        )

    out_root.mkdir(parents=True, exist_ok=True)
    # candidates are written beside the suite (same file system, so the chosen ones are renamed in)
    work_dir = Path(tempfile.mkdtemp(prefix=f".{db_id}.candidates.", dir=out_root))
    runner: _InlineRunner | _ExecutorRunner | None = None
    try:
        runner = _make_runner(executor, limits or Limits(timeout_s=10.0), workers)
        builder = _SuiteBuilder(source, db_id, runner, dialect, reject_ties)
        with _progress(show_progress) as progress:
            builder.run_gold(gold_sqls)
            builder.make_mutants(max_mutants_per_query, progress)
            alive = set(range(len(builder.mutants))) - builder.killed_original

            values = gold_values([g.sql for g in builder.used], builder.spec, dialect)
            valid: list[_Candidate] = []
            rejected: dict[str, int] = {}
            targets = sorted(alive)  # only what the original leaves alive matters for the choice
            total = n_candidates if targets else 0
            task = progress.add_task(f"{db_id}: fuzzing and testing candidates", total=total)
            for c in range(total):
                rng = random.Random(f"{seed}:{db_id}:{c}")
                path = work_dir / f"candidate_{c}.sqlite"
                counts = _write_candidate(path, builder.spec, _generate_rows(builder.spec, values, cfg, rng))
                tested = builder.test_candidate(c, path, targets, counts)
                if isinstance(tested, str):
                    rejected[tested] = rejected.get(tested, 0) + 1
                    path.unlink()
                else:
                    valid.append(tested)
                progress.advance(task)

            chosen = _choose_greedily(valid, alive, k)

            suite_dir.mkdir(parents=True, exist_ok=True)
            for old in suite_dir.glob("*.sqlite"):
                old.unlink()
            shutil.copyfile(source, suite_dir / f"{db_id}.sqlite")
            databases = []
            killed_so_far = len(builder.killed_original)
            for i, (cand, gain) in enumerate(chosen, 1):
                target = suite_dir / f"{db_id}_{i}.sqlite"
                shutil.move(str(cand.path), target)
                killed_so_far += gain
                databases.append(
                    SuiteDatabase(
                        path=str(target), new_kills=gain, killed_after=killed_so_far,
                        tie_ambiguous_golds=cand.tie_ambiguous, row_counts=cand.row_counts,
                    )
                )  # fmt: skip
    finally:
        if runner is not None:
            runner.close()
        if work_dir.exists():
            shutil.rmtree(work_dir, ignore_errors=True)

    mutants = builder.mutants
    by_kind: dict[str, MutationStats] = {}
    for i, m in enumerate(mutants):
        stats = by_kind.setdefault(m.kind, MutationStats())
        stats.total += 1
        stats.killed_by_original += i in builder.killed_original
        stats.killed_by_suite += i not in alive
    report = TestSuiteReport(
        db_id=db_id,
        database=str(source),
        suite_dir=str(suite_dir),
        report_path=str(report_path),
        seed=seed,
        k=k,
        n_candidates=n_candidates,
        gold_total=len(gold_sqls),
        gold_used=len(builder.used),
        gold_failed=builder.failed,
        mutants_total=len(mutants),
        killed_by_original=len(builder.killed_original),
        killed_by_suite=len(mutants) - len(alive),
        candidates_valid=len(valid),
        candidates_rejected=rejected,
        gold_tie_ambiguous_on_original=builder.ambiguous_original,
        databases=databases,
        by_kind={kind: by_kind[kind] for kind in MUTATION_KINDS if kind in by_kind},
        surviving=[
            SurvivingMutant(gold_index=mutants[i].gold_index, kind=mutants[i].kind, sql=mutants[i].sql)
            for i in sorted(alive)[:500]
        ],
        elapsed_s=round(time.perf_counter() - started, 3),
    )
    report_path.write_text(
        json.dumps(report.model_dump(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return report
