"""The schema of a database as one typed object shared by every stage.

Connectors fill in the catalog (tables, columns, keys); ``db.schema.introspect`` adds statistics
(row counts, distinct samples, ranges) by running ordinary read-only queries.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Column(BaseModel):
    name: str
    declared_type: str = ""
    #: one of text, integer, real, numeric, boolean, date, datetime, time, blob, unknown
    inferred_type: str = "unknown"
    nullable: bool = True
    primary_key: bool = False
    distinct_count: int | None = None
    null_count: int | None = None
    samples: list[Any] = Field(default_factory=list)
    min: Any = None
    max: Any = None
    #: human-readable name (Spider's ``column_names``); None means derive it from ``name``
    natural_name: str | None = None


class ForeignKey(BaseModel):
    columns: list[str]
    ref_table: str
    ref_columns: list[str]


class Table(BaseModel):
    name: str
    columns: list[Column] = Field(default_factory=list)
    primary_key: list[str] = Field(default_factory=list)
    foreign_keys: list[ForeignKey] = Field(default_factory=list)
    row_count: int | None = None
    #: human-readable name (Spider's ``table_names``); None means derive it from ``name``
    natural_name: str | None = None

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name.lower() == name.lower():
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


class Schema(BaseModel):
    db_id: str
    engine: str = "sqlite"
    tables: list[Table] = Field(default_factory=list)

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name.lower() == name.lower():
                return t
        raise KeyError(f"schema {self.db_id!r} has no table {name!r}")

    @property
    def table_names(self) -> list[str]:
        return [t.name for t in self.tables]
