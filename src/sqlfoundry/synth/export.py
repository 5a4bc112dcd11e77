"""Records out to the formats other tools read, and Spider/BIRD files in as records.

JSONL is the native format (see :mod:`sqlfoundry.records`); this module writes Parquet (provenance as
a struct), TRL chat JSONL (the shared prompt of :mod:`.prompt`), Spider and BIRD gold files, and
imports Spider/BIRD files so that db_id, question and SQL survive a round trip exactly.
"""

from __future__ import annotations

import json
import os
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..db.schema_model import Schema
from ..db.spider_tables import write_tables_json
from ..errors import InputFormatError
from ..records import Record
from .prompt import SYSTEM_PROMPT, build_prompt, format_answer

#: our complexity levels → BIRD's difficulty words
BIRD_DIFFICULTY = {
    "simple": "simple",
    "moderate": "moderate",
    "complex": "challenging",
    "highly_complex": "challenging",
}
#: BIRD's difficulty words → our complexity levels (so that a BIRD file round-trips)
COMPLEXITY_FROM_BIRD = {"simple": "simple", "moderate": "moderate", "challenging": "complex"}

_PARQUET_BATCH = 10_000


class ExportError(InputFormatError):
    """Records that cannot be exported as asked (e.g. a database whose schema was not given)."""


@dataclass
class ExportSummary:
    """What an export wrote: files, records written, and records left out with the reason."""

    written: int = 0
    files: list[Path] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


# ------------------------------------------------------------------------------------------------
# JSONL and Parquet
# ------------------------------------------------------------------------------------------------


def write_jsonl(records: Iterable[Record], path: str | os.PathLike) -> int:
    """Write records as JSONL (one ``Record.model_dump_json()`` per line), replacing ``path`` atomically."""
    target = Path(path)
    n = 0
    with _atomic(target) as fh:
        for record in records:
            fh.write(record.model_dump_json() + "\n")
            n += 1
    return n


def read_records(path: str | os.PathLike) -> Iterator[Record]:
    """Records from a JSONL or Parquet file, or from a run folder's ``records.jsonl``."""
    from ..records import read_jsonl

    p = Path(path)
    if p.is_dir():
        p = p / "records.jsonl"
    if p.suffix.lower() == ".parquet":
        yield from from_parquet(p)
    else:
        yield from read_jsonl(p)


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ModuleNotFoundError:
        raise ExportError("Parquet needs the pyarrow package: pip install pyarrow") from None
    return pa, pq


def arrow_schema():
    """The Arrow schema of a record, derived from :class:`Record`'s fields (nested models → structs)."""
    pa, _ = _pyarrow()

    return pa.schema(
        [pa.field(name, *_arrow_type(info.annotation)) for name, info in Record.model_fields.items()]
    )


def _arrow_type(annotation: Any) -> tuple[Any, bool]:
    """(Arrow type, nullable) of a pydantic field annotation."""
    pa, _ = _pyarrow()

    nullable = False
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        nullable = True
        rest = [a for a in args if a is not type(None)]
        annotation = rest[0] if len(rest) == 1 else str
    origin = typing.get_origin(annotation)
    if origin is list:
        (item,) = typing.get_args(annotation) or (str,)
        return pa.list_(_arrow_type(item)[0]), nullable
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pa.struct(
            [pa.field(n, *_arrow_type(f.annotation)) for n, f in annotation.model_fields.items()]
        ), nullable
    simple = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string()}
    return simple.get(annotation, pa.string()), nullable


def to_parquet(records: Iterable[Record], path: str | os.PathLike) -> int:
    """Write records as Parquet, one column per record field (``provenance`` a struct); returns the count."""
    pa, pq = _pyarrow()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    schema = arrow_schema()
    tmp = target.with_name(f".{target.name}.tmp")
    n = 0
    try:
        with pq.ParquetWriter(tmp, schema) as writer:
            batch: list[dict] = []
            for record in records:
                batch.append(record.model_dump(mode="json"))
                if len(batch) >= _PARQUET_BATCH:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    n += len(batch)
                    batch = []
            if batch or n == 0:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                n += len(batch)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, target)
    return n


def from_parquet(path: str | os.PathLike) -> Iterator[Record]:
    """Records back from a Parquet file written by :func:`to_parquet`."""
    _, pq = _pyarrow()
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise InputFormatError(f"cannot read records from {path}: {exc}") from None
    for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH):
        for row in batch.to_pylist():
            yield Record.model_validate(row)


# ------------------------------------------------------------------------------------------------
# TRL chat
# ------------------------------------------------------------------------------------------------


def chat_messages(
    record: Record, schema: Schema | str, system_prompt: str = SYSTEM_PROMPT, with_cot: bool = True
) -> list[dict[str, str]]:
    """The system/user/assistant messages of one record (the user message is :func:`build_prompt`'s)."""
    user = build_prompt(schema, record.question, evidence=record.evidence, dialect=record.dialect)
    answer = format_answer(record.sql if record.feasible else None, record.cot if with_cot else None)
    return [
        {"role": "system", "content": system_prompt},
        {"role": "user", "content": user},
        {"role": "assistant", "content": answer},
    ]


def to_trl_chat(
    records: Iterable[Record],
    schema_by_db: Mapping[str, Schema | str],
    path: str | os.PathLike,
    *,
    system_prompt: str = SYSTEM_PROMPT,
    with_cot: bool = True,
    columns: Iterable[str] = (),
) -> int:
    """Write TRL's conversational format: one ``{"messages": [system, user, assistant]}`` per line.

    The assistant message is the record's chain of thought (unless ``with_cot`` is False) and the SQL
    in a ```sql block; for an infeasible record it is the reasoning (if any) and the fixed
    :data:`~.prompt.ABSTENTION_TEXT`. ``schema_by_db`` maps each db_id to its :class:`Schema` (with
    sample values, for the prompt) or pre-rendered DDL. ``columns`` names record fields to copy next
    to ``messages`` (e.g. ``("id", "db_id")``). Raises :class:`ExportError` for a db_id without schema.
    """
    keep = list(columns)
    unknown = [c for c in keep if c not in Record.model_fields]
    if unknown:
        raise ExportError(
            f"unknown record field(s) {', '.join(unknown)}; use any of {', '.join(Record.model_fields)}"
        )
    n = 0
    with _atomic(Path(path)) as fh:
        for record in records:
            schema = schema_by_db.get(record.db_id)
            if schema is None:
                known = ", ".join(sorted(schema_by_db)) or "none"
                raise ExportError(
                    f"no schema for database {record.db_id!r} (record {record.id}); schemas given for: {known}"
                )
            row: dict[str, Any] = {"messages": chat_messages(record, schema, system_prompt, with_cot)}
            dumped = record.model_dump(mode="json", include=set(keep)) if keep else {}
            row.update({c: dumped[c] for c in keep})
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


# ------------------------------------------------------------------------------------------------
# Spider and BIRD
# ------------------------------------------------------------------------------------------------


def to_spider(
    records: Iterable[Record],
    out_dir: str | os.PathLike,
    schemas: Mapping[str, Schema] | Iterable[Schema] | None = None,
    name: str = "dev",
    include_infeasible: bool = False,
) -> ExportSummary:
    """Write Spider's layout: ``<name>.json`` (a list of ``db_id``, ``query``, ``question``, plus
    ``evidence`` when a record has it), ``<name>_gold.sql`` (``SQL<TAB>db_id`` lines) and, when
    ``schemas`` are given, ``tables.json``.

    Spider cannot express an unanswerable question: infeasible records are skipped unless
    ``include_infeasible``, which writes them with ``"query": null`` (read back as infeasible by
    :mod:`sqlfoundry.eval.formats`; their gold line is ``NULL<TAB>db_id``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary()
    items, gold_lines, db_ids = [], [], []
    for record in records:
        if not record.feasible and not include_infeasible:
            summary.skip("infeasible")
            continue
        sql = record.sql if record.feasible else None
        item: dict[str, Any] = {"db_id": record.db_id, "query": sql, "question": record.question}
        if record.evidence:
            item["evidence"] = record.evidence
        items.append(item)
        gold_lines.append(f"{_one_line(sql) if sql else 'NULL'}\t{record.db_id}\n")
        db_ids.append(record.db_id)
    summary.written = len(items)
    summary.files.append(_write_json(out / f"{name}.json", items))
    summary.files.append(_write_text(out / f"{name}_gold.sql", "".join(gold_lines)))
    if schemas is not None:
        summary.files.append(write_tables_json(_schemas_for(db_ids, schemas), out / "tables.json", "spider"))
    return summary


def to_bird(
    records: Iterable[Record],
    out_dir: str | os.PathLike,
    schemas: Mapping[str, Schema] | Iterable[Schema] | None = None,
    name: str = "dev",
    include_infeasible: bool = False,
) -> ExportSummary:
    """Write BIRD's layout: ``<name>.json`` (a list of ``question_id`` — the position —, ``db_id``,
    ``question``, ``evidence``, ``SQL``, ``difficulty``), ``<name>.sql`` (``SQL<TAB>db_id`` lines) and,
    when ``schemas`` are given, ``<name>_tables.json`` with BIRD's column-type words.

    ``difficulty`` comes from the record's complexity: simple → simple, moderate → moderate,
    complex and highly_complex → challenging. Infeasible records are handled as in :func:`to_spider`.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = ExportSummary()
    items, gold_lines, db_ids = [], [], []
    for record in records:
        if not record.feasible and not include_infeasible:
            summary.skip("infeasible")
            continue
        sql = record.sql if record.feasible else None
        items.append(
            {
                "question_id": len(items),
                "db_id": record.db_id,
                "question": record.question,
                "evidence": record.evidence or "",
                "SQL": sql,
                "difficulty": BIRD_DIFFICULTY.get(record.complexity, "moderate"),
            }
        )
        gold_lines.append(f"{_one_line(sql) if sql else 'NULL'}\t{record.db_id}\n")
        db_ids.append(record.db_id)
    summary.written = len(items)
    summary.files.append(_write_json(out / f"{name}.json", items))
    summary.files.append(_write_text(out / f"{name}.sql", "".join(gold_lines)))
    if schemas is not None:
        summary.files.append(
            write_tables_json(_schemas_for(db_ids, schemas), out / f"{name}_tables.json", "bird")
        )
    return summary


def from_spider(path: str | os.PathLike, split: str | None = None, dialect: str = "sqlite") -> list[Record]:
    """Records from a Spider file (``dev.json``/``train_spider.json``, or ``SQL<TAB>db_id`` lines).

    db_id, question and query are kept exactly (``query`` becomes ``sql`` unchanged); skills and
    complexity are read off the SQL; ids are ``spider-<file stem>-<position>``; ``split`` defaults
    from the file name (train, dev or test). A null query gives an infeasible record.
    """
    return _import_gold(Path(path), "spider", split, dialect)


def from_bird(path: str | os.PathLike, split: str | None = None, dialect: str = "sqlite") -> list[Record]:
    """Records from a BIRD file (``dev.json``): as :func:`from_spider`, plus evidence, and complexity
    from BIRD's difficulty (challenging → complex) so that :func:`to_bird` writes it back unchanged;
    ids are ``bird-<file stem>-<question_id>``."""
    return _import_gold(Path(path), "bird", split, dialect)


def _import_gold(path: Path, source: str, split: str | None, dialect: str) -> list[Record]:
    from ..eval.formats import read_gold
    from ..sql.normalize import SQLParseError
    from ..sql.skills import sql_complexity, sql_skills

    split = split or _split_from_name(path.stem)
    records = []
    for ex in read_gold(path):
        sql = ex.sql if ex.feasible and ex.sql is not None else ""
        skills: list[str] = []
        complexity = "simple"
        if sql:
            try:
                skills = sql_skills(sql, dialect)
                complexity = sql_complexity(sql, dialect)
            except SQLParseError:
                pass
        if ex.difficulty in COMPLEXITY_FROM_BIRD:
            complexity = COMPLEXITY_FROM_BIRD[ex.difficulty]
        key = ex.question_id if source == "bird" and ex.question_id is not None else str(ex.index)
        records.append(
            Record(
                id=f"{source}-{path.stem}-{key}",
                db_id=ex.db_id,
                dialect=dialect,
                question=ex.question,
                evidence=ex.evidence or None,
                sql=sql,
                skills=skills,
                complexity=complexity,
                feasible=bool(sql),
                verification="ok" if sql else "infeasible",
                provenance={"generator": "import", "template": source},
                split=split,
            )
        )
    return records


def _split_from_name(stem: str) -> str:
    lowered = stem.lower()
    for split in ("train", "test", "dev"):
        if split in lowered:
            return split
    return "dev"


def _schemas_for(db_ids: list[str], schemas: Mapping[str, Schema] | Iterable[Schema]) -> list[Schema]:
    by_id = dict(schemas) if isinstance(schemas, Mapping) else {s.db_id: s for s in schemas}
    needed = list(dict.fromkeys(db_ids))
    missing = [d for d in needed if d not in by_id]
    if missing:
        raise ExportError(f"no schema for database(s) {', '.join(missing)}; cannot write tables.json")
    return [by_id[d] if by_id[d].db_id == d else by_id[d].model_copy(update={"db_id": d}) for d in needed]


def _one_line(sql: str) -> str:
    """SQL on one line for ``SQL<TAB>db_id`` files: line breaks and tabs become spaces, nothing else changes."""
    return sql.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ").strip()


class _atomic:
    """Open ``path`` for writing through a temporary file that replaces it on success."""

    def __init__(self, path: Path):
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp")

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = self.tmp.open("w", encoding="utf-8")
        return self.fh

    def __exit__(self, exc_type, *rest) -> None:
        self.fh.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def _write_json(path: Path, data: Any) -> Path:
    with _atomic(path) as fh:
        fh.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def _write_text(path: Path, text: str) -> Path:
    with _atomic(path) as fh:
        fh.write(text)
    return path


__all__ = [
    "BIRD_DIFFICULTY",
    "COMPLEXITY_FROM_BIRD",
    "ExportError",
    "ExportSummary",
    "arrow_schema",
    "chat_messages",
    "from_bird",
    "from_parquet",
    "from_spider",
    "read_records",
    "to_bird",
    "to_parquet",
    "to_spider",
    "to_trl_chat",
    "write_jsonl",
]
