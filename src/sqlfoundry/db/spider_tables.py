"""Spider's ``tables.json`` schema format (also used by BIRD), read and written losslessly.

An entry lists a database's tables and columns by index: ``column_names_original`` holds
``[table_index, name]`` pairs after ``[-1, "*"]``, keys refer to those indices.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..errors import SchemaFormatError
from .schema_model import Column, ForeignKey, Schema, Table

SPIDER_TYPES = ("text", "number", "time", "boolean", "others")
#: BIRD's tables.json names column types with SQLite-like words instead
BIRD_TYPES = ("integer", "real", "numeric", "text", "boolean", "date", "datetime", "time", "blob")
TYPE_STYLES = ("spider", "bird")
_FIELDS = (
    "column_names", "column_names_original", "column_types", "db_id", "foreign_keys",
    "primary_keys", "table_names", "table_names_original",
)  # fmt: skip

#: our inferred types -> Spider's column types
_TO_SPIDER = {
    "text": "text",
    "integer": "number",
    "real": "number",
    "numeric": "number",
    "date": "time",
    "datetime": "time",
    "time": "time",
    "boolean": "boolean",
    "blob": "others",
}
#: Spider's column types -> our inferred types (inverse of the above for round trips)
_FROM_SPIDER = {
    "text": "text",
    "number": "numeric",
    "time": "datetime",
    "boolean": "boolean",
    "others": "unknown",
}
_FROM_FILE = {**{t: t for t in BIRD_TYPES}, **_FROM_SPIDER}

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def natural_name(identifier: str) -> str:
    """Lowercase words of a snake_case, camelCase or spaced identifier: ``SongReleaseYear`` -> ``song release year``."""
    spaced = _WORD_BOUNDARY.sub(" ", identifier.replace("_", " ").replace("-", " "))
    return " ".join(spaced.lower().split())


def spider_type(column: Column, type_style: str = "spider") -> str:
    """Spider's type for a column: from the inferred type, else the declared type by Spider's rules.

    ``type_style="bird"`` gives BIRD's vocabulary instead: the inferred type itself (``text`` when
    unknown).
    """
    if type_style == "bird":
        return column.inferred_type if column.inferred_type in BIRD_TYPES else "text"
    if column.inferred_type in _TO_SPIDER:
        return _TO_SPIDER[column.inferred_type]
    declared = column.declared_type.lower()
    if not declared:
        return "others"
    # The rules of Spider's own schema extraction script, in its order.
    if "char" in declared or "text" in declared or "var" in declared:
        return "text"
    if any(w in declared for w in ("int", "numeric", "decimal", "number", "id", "real", "double", "float")):
        return "number"
    if "date" in declared or "time" in declared or "year" in declared:
        return "time"
    if "boolean" in declared:
        return "boolean"
    return "others"


# --- export -------------------------------------------------------------------------------------
def schema_to_spider(schema: Schema, type_style: str = "spider") -> dict[str, Any]:
    """One ``tables.json`` entry for ``schema`` (keys sorted as in Spider's file).

    ``type_style`` picks the column-type words: ``spider`` (text/number/time/boolean/others) or
    ``bird`` (integer/real/text/date/datetime/...).

    Composite primary keys become nested lists (BIRD's convention); a composite foreign key
    becomes one pair per column. Foreign keys to tables or columns outside the schema are left out:
    the format cannot express them.
    """
    if type_style not in TYPE_STYLES:
        raise ValueError(f"type_style must be one of {TYPE_STYLES}, got {type_style!r}")
    columns_original: list[list[Any]] = [[-1, "*"]]
    columns_natural: list[list[Any]] = [[-1, "*"]]
    types = ["text"]
    index: dict[tuple[int, str], int] = {}
    for t_idx, table in enumerate(schema.tables):
        for col in table.columns:
            index.setdefault((t_idx, col.name), len(columns_original))
            index.setdefault((t_idx, col.name.lower()), len(columns_original))
            columns_original.append([t_idx, col.name])
            columns_natural.append(
                [t_idx, col.natural_name if col.natural_name is not None else natural_name(col.name)]
            )
            types.append(spider_type(col, type_style))
    table_index: dict[str, int] = {}
    for t_idx, table in enumerate(schema.tables):
        table_index.setdefault(table.name, t_idx)
        table_index.setdefault(table.name.lower(), t_idx)

    def col_index(t_idx: int, name: str) -> int | None:
        found = index.get((t_idx, name))
        return found if found is not None else index.get((t_idx, name.lower()))

    primary_keys: list[Any] = []
    foreign_keys: list[list[int]] = []
    for t_idx, table in enumerate(schema.tables):
        pk = [i for i in (col_index(t_idx, c) for c in table.primary_key) if i is not None]
        if len(pk) == 1:
            primary_keys.append(pk[0])
        elif pk:
            primary_keys.append(pk)
        for fk in table.foreign_keys:
            ref_t = table_index.get(fk.ref_table, table_index.get(fk.ref_table.lower()))
            if ref_t is None:
                continue
            for src, ref in zip(fk.columns, fk.ref_columns, strict=False):
                a, b = col_index(t_idx, src), col_index(ref_t, ref)
                if a is not None and b is not None:
                    foreign_keys.append([a, b])
    return {
        "column_names": columns_natural,
        "column_names_original": columns_original,
        "column_types": types,
        "db_id": schema.db_id,
        "foreign_keys": foreign_keys,
        "primary_keys": primary_keys,
        "table_names": [
            t.natural_name if t.natural_name is not None else natural_name(t.name) for t in schema.tables
        ],
        "table_names_original": [t.name for t in schema.tables],
    }


def write_tables_json(
    schemas: list[Schema], path: str | os.PathLike[str], type_style: str = "spider"
) -> Path:
    """Write ``schemas`` as a ``tables.json`` file, laid out as Spider's own (3-space indent)."""
    target = Path(path)
    text = json.dumps([schema_to_spider(s, type_style) for s in schemas], indent=3, sort_keys=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target


# --- import -------------------------------------------------------------------------------------
def spider_to_schema(entry: Any, position: int | None = None) -> Schema:
    """The :class:`Schema` described by one ``tables.json`` entry.

    Spider records no declared types, nullability or statistics: the column type (Spider's words or
    BIRD's) becomes the inferred type, human-readable names are kept in ``natural_name``. Each foreign-key pair stays
    its own single-column :class:`ForeignKey`, in file order, so writing it back is exact.
    """
    where = f"entry #{position}" if position is not None else "entry"
    if not isinstance(entry, dict):
        raise SchemaFormatError(f"tables.json {where}: expected an object, got {type(entry).__name__}")
    db_id = entry.get("db_id")
    if not isinstance(db_id, str) or not db_id:
        raise SchemaFormatError(f"tables.json {where}: field 'db_id' is missing or not a non-empty string")
    where = f"{where} {db_id!r}" if position is not None else f"entry {db_id!r}"

    def fail(field: str, problem: str) -> SchemaFormatError:
        return SchemaFormatError(f"tables.json {where}: field {field!r} {problem}")

    for field in _FIELDS:
        if field not in entry:
            raise fail(field, "is missing")
    tables_orig = _str_list(entry["table_names_original"], "table_names_original", fail)
    tables_nat = _str_list(entry["table_names"], "table_names", fail)
    if len(tables_nat) != len(tables_orig):
        raise fail(
            "table_names", f"has {len(tables_nat)} names but table_names_original has {len(tables_orig)}"
        )
    cols_orig = _column_list(entry["column_names_original"], "column_names_original", len(tables_orig), fail)
    cols_nat = _column_list(entry["column_names"], "column_names", len(tables_orig), fail)
    if len(cols_nat) != len(cols_orig) or any(
        a[0] != b[0] for a, b in zip(cols_nat, cols_orig, strict=False)
    ):
        raise fail("column_names", "does not list the same tables' columns as column_names_original")
    types = entry["column_types"]
    if not isinstance(types, list) or len(types) != len(cols_orig):
        raise fail("column_types", f"must be a list of {len(cols_orig)} types (one per column, '*' included)")
    for i, t in enumerate(types):
        if t not in _FROM_FILE:
            raise fail("column_types", f"has {t!r} at {i}; expected one of {', '.join(_FROM_FILE)}")

    tables = [Table(name=o, natural_name=n) for o, n in zip(tables_orig, tables_nat, strict=True)]
    owner: list[tuple[Table, Column] | None] = [None]
    for i in range(1, len(cols_orig)):
        t_idx, name = cols_orig[i]
        column = Column(name=name, natural_name=cols_nat[i][1], inferred_type=_FROM_FILE[types[i]])
        tables[t_idx].columns.append(column)
        owner.append((tables[t_idx], column))

    def column_at(field: str, value: Any) -> tuple[Table, Column]:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < len(cols_orig):
            raise fail(field, f"refers to column {value!r}, not a column index in 1..{len(cols_orig) - 1}")
        found = owner[value]
        assert found is not None
        return found

    pks = entry["primary_keys"]
    if not isinstance(pks, list):
        raise fail("primary_keys", "must be a list of column indices (or lists of them)")
    for pk in pks:
        members = [column_at("primary_keys", i) for i in (pk if isinstance(pk, list) else [pk])]
        if not members:
            raise fail("primary_keys", "holds an empty list")
        table = members[0][0]
        if any(t is not table for t, _ in members):
            raise fail("primary_keys", f"groups columns of different tables in {pk!r}")
        for _, column in members:
            column.primary_key = True
            column.nullable = False
            table.primary_key.append(column.name)

    fks = entry["foreign_keys"]
    if not isinstance(fks, list):
        raise fail("foreign_keys", "must be a list of [column_index, referenced_column_index] pairs")
    for pair in fks:
        if not isinstance(pair, list) or len(pair) != 2:
            raise fail("foreign_keys", f"holds {pair!r}, not a [column_index, referenced_column_index] pair")
        (table, column), (ref_table, ref_column) = (
            column_at("foreign_keys", pair[0]),
            column_at("foreign_keys", pair[1]),
        )
        table.foreign_keys.append(
            ForeignKey(columns=[column.name], ref_table=ref_table.name, ref_columns=[ref_column.name])
        )
    return Schema(db_id=db_id, engine="sqlite", tables=tables)


def read_tables_json(path: str | os.PathLike[str]) -> list[Schema]:
    """Every schema in a ``tables.json`` file (Spider's or BIRD's), in file order."""
    source = Path(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaFormatError(f"{str(source)!r} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SchemaFormatError(f"{str(source)!r} is not valid JSON: {exc}") from None
    if not isinstance(data, list):
        raise SchemaFormatError(
            f"{str(source)!r}: expected a JSON list of schema entries, got {type(data).__name__}"
        )
    schemas = []
    for position, entry in enumerate(data):
        try:
            schemas.append(spider_to_schema(entry, position))
        except SchemaFormatError as exc:
            raise SchemaFormatError(f"{source.name}: {exc}") from None
    return schemas


def detect_type_style(path: str | os.PathLike[str]) -> str:
    """``bird`` when a tables.json file uses BIRD's column-type words, else ``spider``."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    used = {t for e in data if isinstance(e, dict) for t in e.get("column_types") or []}
    return "bird" if used - set(SPIDER_TYPES) else "spider"


def _str_list(value: Any, field: str, fail) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(field, "must be a list of strings")
    return value


def _column_list(value: Any, field: str, n_tables: int, fail) -> list[tuple[int, str]]:
    if not isinstance(value, list) or not value:
        raise fail(field, 'must be a list of [table_index, name] pairs starting with [-1, "*"]')
    if value[0] != [-1, "*"]:
        raise fail(field, f'must start with [-1, "*"], not {value[0]!r}')
    out: list[tuple[int, str]] = [(-1, "*")]
    for i, item in enumerate(value[1:], start=1):
        ok = isinstance(item, list) and len(item) == 2 and isinstance(item[1], str)
        ok = ok and isinstance(item[0], int) and not isinstance(item[0], bool) and 0 <= item[0] < n_tables
        if not ok:
            raise fail(field, f"has {item!r} at {i}; expected [table_index in 0..{n_tables - 1}, name]")
        out.append((item[0], item[1]))
    return out
