"""Schema introspection: a connector's catalog plus statistics gathered with portable SQL.

``introspect`` fills row counts, distinct/null counts, frequent sample values, ranges and an
inferred semantic type per column; ``schema_to_ddl``/``schema_to_json`` render the result.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import uuid
from pathlib import Path
from typing import Any

from .connectors.base import Connector
from .schema_model import Column, Schema, Table

INFERRED_TYPES = (
    "integer",
    "real",
    "numeric",
    "text",
    "boolean",
    "date",
    "datetime",
    "time",
    "blob",
    "unknown",
)

#: columns aggregated together in one statistics query (several aggregates each)
_STATS_CHUNK = 64
#: sample strings longer than this are cut (they are for prompts and value linking, not storage)
_MAX_SAMPLE_CHARS = 100

# Types whose values cannot be compared, grouped or ordered on some server engines (json has no
# equality in PostgreSQL, geometry/array types no ordering): only their non-null count is taken.
_OPAQUE_TYPE_WORDS = (
    "json", "xml", "array", "[]", "geometry", "geography", "point", "polygon", "line", "box",
    "circle", "path", "tsvector", "tsquery", "user-defined", "struct", "map(", "union(", "hstore",
    "interval", "bit varying", "varbit",
)  # fmt: skip
_BOOLEAN_WORDS = ({"true", "false"}, {"t", "f"}, {"yes", "no"}, {"y", "n"})
_BOOLEAN_NAME = re.compile(r"^(is|has|if|can|should|was)_|_(flag|yn)$|^(active|enabled|deleted)$", re.I)

_LIKE_DATE = "'____-__-__'"
_LIKE_DATETIMES = ("'____-__-__ __:__%'", "'____-__-__T__:__%'")
_LIKE_TIMES = ("'__:__'", "'__:__:__%'")


# --- public API ---------------------------------------------------------------------------------
def introspect(
    connector: Connector,
    sample_values: int = 5,
    stats: bool = True,
    db_id: str | None = None,
    tables: list[str] | None = None,
) -> Schema:
    """The schema behind ``connector``: its catalog, plus statistics unless ``stats`` is False.

    With ``stats`` each table costs one aggregate query (row count, and per column distinct and
    null counts, min/max and date-pattern counts) and each column one ``GROUP BY`` query for its
    ``sample_values`` most frequent values (ties broken by value). Without ``stats`` only the
    catalog is read and types are inferred from declarations alone. ``tables`` limits the work to
    the named tables (case-insensitive).
    """
    catalog = connector.catalog()
    if tables is not None:
        wanted = {t.lower() for t in tables}
        catalog = [t for t in catalog if t.name.lower() in wanted]
    engine = connector.engine
    for table in catalog:
        patterns: dict[str, tuple[int, int, int, int]] = {}
        if stats:
            _table_stats(connector, table, patterns)
            if sample_values > 0:
                for column in table.columns:
                    _column_samples(connector, table, column, sample_values)
        for column in table.columns:
            column.inferred_type = infer_type(column, patterns.get(column.name))
            if isinstance(column.min, bytes) or isinstance(column.max, bytes):
                column.min = column.max = None  # only needed to tell blobs apart; not JSON-safe
    return Schema(db_id=db_id or _default_db_id(connector), engine=engine, tables=catalog)


def declared_category(declared_type: str) -> str:
    """The semantic type a declared SQL type names, or ``unknown`` (empty or unrecognised)."""
    t = declared_type.strip().lower()
    if not t:
        return "unknown"
    if "interval" in t:
        return "unknown"
    if "bool" in t or t in ("bit", "bit(1)", "tinyint(1)"):
        return "boolean"
    if "timestamp" in t or "datetime" in t:
        return "datetime"
    if "date" in t:
        return "date"
    if re.search(r"\btime\b", t) or t.startswith("time"):
        return "time"
    if t.startswith("year"):
        return "integer"
    if ("int" in t and "point" not in t) or "serial" in t:
        return "integer"
    if any(w in t for w in ("real", "floa", "doub")):
        return "real"
    if any(w in t for w in ("dec", "numeric", "number", "money", "fixed")):
        return "numeric"
    if any(w in t for w in ("blob", "binary", "bytea", "image")):
        return "blob"
    if any(
        w in t for w in ("char", "text", "clob", "string", "uuid", "enum", "json", "xml", "name", "citext")
    ):
        return "text"
    return "unknown"


def infer_type(column: Column, patterns: tuple[int, int, int, int] | None = None) -> str:
    """A column's semantic type from its declaration, refined by the values seen (if any).

    Text (or undeclared) columns whose every value looks like an ISO date, date-time or time are
    dates, date-times or times (``patterns``: non-null, date-shaped, date-time-shaped and
    time-shaped value counts, from the statistics query); two-valued yes/no-like columns are
    booleans; an undeclared SQLite column takes the type of its values.
    """
    category = declared_category(column.declared_type)
    values = [v for v in [*column.samples, column.min, column.max] if v is not None]
    if category == "unknown" and values:
        kinds = {_value_kind(v) for v in values}
        if kinds == {"integer"}:
            category = "integer"
        elif kinds <= {"integer", "real"}:
            category = "real"
        elif kinds == {"blob"}:
            category = "blob"
        elif "text" in kinds:
            category = "text"
    if category == "text" and values and all(isinstance(v, str) for v in values):
        temporal = _temporal_kind(values, patterns)
        if temporal:
            return temporal
        if _looks_boolean_text(column):
            return "boolean"
    if category == "integer" and _looks_boolean_int(column):
        return "boolean"
    return category


def schema_to_ddl(schema: Schema, with_samples: bool = True, max_samples: int = 3) -> str:
    """CREATE TABLE statements with keys, one per table; samples and ranges as ``--`` comments.

    Meant for prompts: identifiers are quoted only where needed, types fall back to the inferred
    type when none is declared, and each table starts with its row count when known.
    """
    out = []
    for table in schema.tables:
        lines = []
        for col in table.columns:
            decl = col.declared_type or (col.inferred_type.upper() if col.inferred_type != "unknown" else "")
            text = f"{_ident(col.name)} {decl}".rstrip()
            if not col.nullable and not (col.primary_key and len(table.primary_key) == 1):
                text += " NOT NULL"
            if len(table.primary_key) == 1 and col.primary_key:
                text += " PRIMARY KEY"
            lines.append([text, _column_comment(col, max_samples) if with_samples else ""])
        if len(table.primary_key) > 1:
            lines.append([f"PRIMARY KEY ({', '.join(_ident(c) for c in table.primary_key)})", ""])
        for fk in table.foreign_keys:
            cols = ", ".join(_ident(c) for c in fk.columns)
            refs = ", ".join(_ident(c) for c in fk.ref_columns)
            lines.append([f"FOREIGN KEY ({cols}) REFERENCES {_ident(fk.ref_table)}({refs})", ""])
        body = []
        for i, (text, comment) in enumerate(lines):
            sep = "," if i < len(lines) - 1 else ""
            body.append(f"  {text}{sep}" + (f" -- {comment}" if comment else ""))
        header = f"-- {table.row_count} rows\n" if with_samples and table.row_count is not None else ""
        out.append(f"{header}CREATE TABLE {_ident(table.name)} (\n" + "\n".join(body) + "\n);")
    return "\n\n".join(out) + ("\n" if out else "")


def schema_to_json(schema: Schema, indent: int | None = 2) -> str:
    """The schema as JSON text (the pydantic model's JSON form, sample values made JSON-safe)."""
    return json.dumps(schema.model_dump(mode="json"), indent=indent, ensure_ascii=False, default=str)


def schema_from_json(text: str | bytes) -> Schema:
    """Read back what :func:`schema_to_json` wrote."""
    return Schema.model_validate_json(text)


# --- statistics ---------------------------------------------------------------------------------
def _comparable(column: Column, engine: str) -> bool:
    if engine == "sqlite":
        return True  # SQLite compares and groups every value
    t = column.declared_type.lower()
    return not any(w in t for w in _OPAQUE_TYPE_WORDS)


def _shaped_like_text(declared_type: str, engine: str) -> bool:
    """Whether LIKE applies to the column on ``engine`` (PostgreSQL has no LIKE for uuid, enums...)."""
    t = declared_type.lower()
    if not t:
        return engine in ("sqlite", "mysql")
    return any(w in t for w in ("char", "text", "clob", "string")) and declared_category(t) == "text"


def _aggregates(q: str, column: Column, engine: str) -> list[tuple[str, str]]:
    """(kind, SQL expression) pairs computed for one column in the table's statistics query."""
    category = declared_category(column.declared_type)
    aggs = [("nonnull", f"COUNT({q})")]
    if not _comparable(column, engine):
        return aggs
    aggs.append(("distinct", f"COUNT(DISTINCT {q})"))
    if category not in ("boolean", "blob"):
        aggs += [("min", f"MIN({q})"), ("max", f"MAX({q})")]
    if _shaped_like_text(column.declared_type, engine):
        datetimes = " OR ".join(f"{q} LIKE {p}" for p in _LIKE_DATETIMES)
        times = " OR ".join(f"{q} LIKE {p}" for p in _LIKE_TIMES)
        aggs += [
            ("date", f"COUNT(CASE WHEN {q} LIKE {_LIKE_DATE} THEN 1 END)"),
            ("datetime", f"COUNT(CASE WHEN {datetimes} THEN 1 END)"),
            ("time", f"COUNT(CASE WHEN {times} THEN 1 END)"),
        ]
    return aggs


def _table_stats(connector: Connector, table: Table, patterns: dict[str, tuple[int, int, int, int]]) -> None:
    """Row count and per-column stats for ``table`` in as few queries as possible."""
    name = connector.quote(table.name)
    plans = [(col, _aggregates(connector.quote(col.name), col, connector.engine)) for col in table.columns]
    chunks = [plans[i : i + _STATS_CHUNK] for i in range(0, len(plans), _STATS_CHUNK)] or [[]]
    for index, chunk in enumerate(chunks):
        exprs = ["COUNT(*)"] if index == 0 else []
        exprs += [expr for _, aggs in chunk for _, expr in aggs]
        try:
            _, rows = connector.run_trusted(f"SELECT {', '.join(exprs)} FROM {name}")
        except Exception:
            # One odd column type should not cost the whole table its statistics.
            _reset_after_error(connector)
            if index == 0:
                table.row_count = _scalar(connector, f"SELECT COUNT(*) FROM {name}")
            for col, aggs in chunk:
                _column_stats_alone(connector, table, col, aggs, patterns)
            continue
        values = list(rows[0])
        if index == 0:
            table.row_count = int(values.pop(0))
        for col, aggs in chunk:
            _apply_stats(table, col, {kind: values.pop(0) for kind, _ in aggs}, patterns)


def _column_stats_alone(
    connector: Connector,
    table: Table,
    col: Column,
    aggs: list[tuple[str, str]],
    patterns: dict[str, tuple[int, int, int, int]],
) -> None:
    name = connector.quote(table.name)
    for attempt in (aggs, aggs[:1]):
        try:
            _, rows = connector.run_trusted(f"SELECT {', '.join(e for _, e in attempt)} FROM {name}")
        except Exception:
            _reset_after_error(connector)
            continue
        _apply_stats(table, col, {kind: v for (kind, _), v in zip(attempt, rows[0], strict=True)}, patterns)
        return


def _apply_stats(
    table: Table, col: Column, found: dict[str, Any], patterns: dict[str, tuple[int, int, int, int]]
) -> None:
    nonnull = int(found["nonnull"] or 0)
    if table.row_count is not None:
        col.null_count = table.row_count - nonnull
    if "distinct" in found:
        col.distinct_count = int(found["distinct"] or 0)
    if "min" in found:
        col.min, col.max = _plain(found["min"], _MAX_SAMPLE_CHARS), _plain(found["max"], _MAX_SAMPLE_CHARS)
    if "date" in found:
        patterns[col.name] = (nonnull, int(found["date"]), int(found["datetime"]), int(found["time"]))


def _column_samples(connector: Connector, table: Table, col: Column, limit: int) -> None:
    if col.distinct_count == 0 or declared_category(col.declared_type) == "blob":
        return
    if not _comparable(col, connector.engine):
        return
    q = connector.quote(col.name)
    sql = (
        f"SELECT {q} AS v, COUNT(*) AS n FROM {connector.quote(table.name)} WHERE {q} IS NOT NULL "
        f"GROUP BY {q} ORDER BY n DESC, v LIMIT {int(limit)}"
    )
    try:
        _, rows = connector.run_trusted(sql)
    except Exception:
        _reset_after_error(connector)
        return
    samples = [_plain(v, _MAX_SAMPLE_CHARS) for v, _ in rows]
    col.samples = [v for v in samples if v is not None and not isinstance(v, bytes)]


def _scalar(connector: Connector, sql: str) -> Any:
    try:
        _, rows = connector.run_trusted(sql)
        return rows[0][0]
    except Exception:
        _reset_after_error(connector)
        return None


def _reset_after_error(connector: Connector) -> None:
    """Server connectors may need a rollback after a failed statement; use it when offered."""
    rollback = getattr(connector, "rollback", None)
    if callable(rollback):
        try:
            rollback()
        except Exception:
            pass


def _plain(value: Any, max_chars: int | None = None) -> Any:
    """A JSON-friendly form of a value from any driver (dates as ISO text, decimals as numbers)."""
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value if max_chars is None or len(value) <= max_chars else value[: max_chars - 1] + "…"
    return str(value)


# --- inference helpers --------------------------------------------------------------------------
def _value_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "integer"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "real"
    if isinstance(value, bytes):
        return "blob"
    return "text"


def _parses(values: list[str], parse) -> bool:
    try:
        for v in values:
            parse(v)
    except ValueError:
        return False
    return True


def _temporal_kind(values: list[str], patterns: tuple[int, int, int, int] | None) -> str | None:
    """date/datetime/time when every value has that shape; needs the pattern counts."""
    if patterns is None:
        return None
    nonnull, dates, datetimes, times = patterns
    if nonnull == 0 or any(v.endswith("…") for v in values):
        return None
    if dates == nonnull and _parses(values, lambda v: len(v) == 10 and dt.date.fromisoformat(v)):
        return "date"
    if dates + datetimes == nonnull and _parses(values, dt.datetime.fromisoformat):
        return "datetime"
    if times == nonnull and _parses(values, dt.time.fromisoformat):
        return "time"
    return None


def _looks_boolean_text(column: Column) -> bool:
    if column.distinct_count is None or not 1 <= column.distinct_count <= 2 or not column.samples:
        return False
    seen = {str(v).strip().lower() for v in column.samples}
    return len(seen) == column.distinct_count and any(seen <= pair for pair in _BOOLEAN_WORDS)


def _looks_boolean_int(column: Column) -> bool:
    if column.distinct_count is None or column.distinct_count > 2 or not _BOOLEAN_NAME.search(column.name):
        return False
    return column.min in (0, 1) and column.max in (0, 1)


# --- DDL rendering ------------------------------------------------------------------------------
_SIMPLE_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = {
    "all", "and", "as", "asc", "between", "by", "case", "check", "column", "constraint", "create",
    "cross", "default", "delete", "desc", "distinct", "drop", "else", "end", "except", "exists",
    "from", "full", "group", "having", "in", "index", "inner", "insert", "intersect", "into", "is",
    "join", "key", "left", "like", "limit", "natural", "not", "null", "offset", "on", "or", "order",
    "outer", "primary", "references", "right", "select", "set", "table", "then", "to", "union",
    "unique", "update", "using", "values", "when", "where", "with", "year", "date", "time", "user",
}  # fmt: skip


def _ident(name: str) -> str:
    if _SIMPLE_IDENT.match(name) and name.lower() not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any, max_chars: int = 40) -> str:
    if isinstance(value, str):
        text = value if len(value) <= max_chars else value[: max_chars - 1] + "…"
        return "'" + text.replace("'", "''").replace("\n", " ") + "'"
    return repr(value)


def _column_comment(col: Column, max_samples: int) -> str:
    parts = []
    if col.declared_type and col.inferred_type not in ("unknown", declared_category(col.declared_type)):
        parts.append(col.inferred_type)
    if col.distinct_count is not None:
        parts.append(f"{col.distinct_count} distinct")
    if col.null_count:
        parts.append(f"{col.null_count} null")
    ranged = col.inferred_type in ("integer", "real", "numeric", "date", "datetime", "time")
    if ranged and col.min is not None and col.max is not None and col.min != col.max:
        parts.append(f"range {_literal(col.min)} .. {_literal(col.max)}")
    if col.samples and max_samples > 0:
        parts.append("e.g. " + ", ".join(_literal(v) for v in col.samples[:max_samples]))
    return "; ".join(parts)


def _default_db_id(connector: Connector) -> str:
    url = connector.url
    if url.path:
        return Path(url.path).stem
    return url.database or connector.engine
