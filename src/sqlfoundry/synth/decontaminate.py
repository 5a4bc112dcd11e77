"""Drop training records that leak evaluation items (Tülu 3-style n-gram decontamination).

A record is contaminated when its question shares a word n-gram (default 8) with an evaluation
question, or its SQL equals an evaluation SQL up to layout, case and (by default) literal values.
Evaluation items come from Spider/BIRD JSON, ``SQL<TAB>db_id`` or one-SQL-per-line files, or records.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import InputFormatError
from ..records import Record

#: how SQL is compared: ``template`` (literal values abstracted; the default), ``normalized`` (layout
#: and keyword case only) or ``none`` (questions only)
SQL_MATCH_MODES = ("template", "normalized", "none")

#: reasons a record is dropped, as counted in :class:`DecontaminationReport`
REASONS = ("question_ngram", "sql_match")

_TOKEN = re.compile(r"[^\W_]+")
_SQL_FIELDS = ("query", "SQL", "sql")
_BIRD_SEPARATOR = "\t----- bird -----\t"


@dataclass(frozen=True)
class EvalItem:
    """One evaluation question and/or SQL that training data must not contain."""

    question: str | None
    sql: str | None
    #: where it came from (``file:position``), for reports
    source: str = ""
    dialect: str = "sqlite"


@dataclass
class Contamination:
    """Why one record was dropped: the reasons that fired and the first evaluation item matched."""

    record_id: str
    reasons: list[str]
    eval_item: EvalItem
    #: the shared n-gram, for ``question_ngram``
    ngram: str | None = None


@dataclass
class DecontaminationReport:
    """Counts of one decontamination pass; ``by_reason`` counts each reason that fired (a record
    matching both a question n-gram and a SQL counts under both, once in ``dropped``)."""

    checked: int = 0
    dropped: int = 0
    by_reason: Counter = field(default_factory=Counter)
    #: the first ``max_examples`` contaminations, to show what was matched
    examples: list[Contamination] = field(default_factory=list)
    max_examples: int = 20

    @property
    def kept(self) -> int:
        return self.checked - self.dropped

    def add(self, found: Contamination | None) -> None:
        self.checked += 1
        if found is None:
            return
        self.dropped += 1
        self.by_reason.update(found.reasons)
        if len(self.examples) < self.max_examples:
            self.examples.append(found)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "dropped": self.dropped,
            "kept": self.kept,
            "by_reason": {r: self.by_reason.get(r, 0) for r in REASONS},
            "examples": [
                {
                    "record_id": c.record_id,
                    "reasons": c.reasons,
                    "ngram": c.ngram,
                    "eval_source": c.eval_item.source,
                    "eval_question": c.eval_item.question,
                    "eval_sql": c.eval_item.sql,
                }
                for c in self.examples
            ],
        }


# ------------------------------------------------------------------------------------------------
# Normal forms
# ------------------------------------------------------------------------------------------------


def question_tokens(text: str) -> list[str]:
    """Lower-cased word tokens (Unicode letters and digits; punctuation and ``_`` separate words),
    after NFKC normalization: ``"How many singers' ages?"`` → ``["how", "many", "singers", "ages"]``."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def question_ngrams(text: str, n: int = 8) -> set[str]:
    """The word n-grams of a question (space-joined tokens). A question shorter than ``n`` words has
    one "gram", the whole question, so short questions match only an identical short question."""
    tokens = question_tokens(text)
    if not tokens:
        return set()
    if len(tokens) <= n:
        return {" ".join(tokens)}
    return {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


@lru_cache(maxsize=65536)
def sql_key(sql: str, dialect: str = "sqlite", mode: str = "template") -> str | None:
    """The form two SQL texts are compared in; None for empty SQL or ``mode="none"``.

    ``normalized``: :func:`~sqlfoundry.sql.normalize.normalize_sql` (layout, keyword case, quoting);
    ``template``: :func:`~sqlfoundry.sql.normalize.sql_template` (also every literal value → ``?``;
    unparseable SQL falls back to ``normalized``). Either is then lower-cased, since unquoted
    identifiers are case-insensitive. SQL in another dialect is transpiled to SQLite first, so a
    DuckDB record meets SQLite evaluation SQL in one form. Keys are cached: parsing dominates the cost
    (about 2 ms a query), and records often repeat a SQL under several phrasings.
    """
    if mode not in SQL_MATCH_MODES:
        raise ValueError(f"sql_match must be one of {', '.join(SQL_MATCH_MODES)}, not {mode!r}")
    if mode == "none" or not sql or not sql.strip():
        return None
    from ..sql.normalize import SQLParseError, normalize_sql, sql_template

    if dialect != "sqlite" or any(q in sql for q in '"`['):
        sql = _canonical_sqlite(sql, dialect)
    if mode == "template":
        try:
            return sql_template(sql).lower()
        except SQLParseError:
            pass
    return normalize_sql(sql).lower()


_SIMPLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _canonical_sqlite(sql: str, dialect: str) -> str:
    """SQLite text of the query with needless identifier quotes dropped (``"name"`` → ``name``), so
    quoting habits and dialects do not hide a match; unparseable SQL comes back unchanged."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    from ..sql.normalize import is_quoted_value

    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except (SqlglotError, ValueError, RecursionError):
        return sql
    if tree is None:
        return sql

    def unquote(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Identifier) and node.args.get("quoted") and _SIMPLE_NAME.match(node.name):
            column = node.parent
            if not (isinstance(column, exp.Column) and is_quoted_value(column)):
                return exp.Identifier(this=node.name, quoted=False)
        return node

    try:
        return tree.transform(unquote).sql(dialect="sqlite")
    except (SqlglotError, ValueError, RecursionError):
        return sql


# ------------------------------------------------------------------------------------------------
# The decontaminator
# ------------------------------------------------------------------------------------------------


class Decontaminator:
    """Hash sets of evaluation n-grams and SQL keys; checking a record costs one set lookup per
    question n-gram and one SQL normalization.

    ``ngram`` is the n-gram length in words (default 8, as Tülu 3); ``sql_match`` one of
    :data:`SQL_MATCH_MODES`; ``check_questions=False`` compares SQL only.
    """

    def __init__(
        self,
        eval_items: Iterable[EvalItem | tuple[str | None, str | None]],
        ngram: int = 8,
        sql_match: str = "template",
        check_questions: bool = True,
    ):
        if ngram < 1:
            raise ValueError("ngram must be >= 1")
        if sql_match not in SQL_MATCH_MODES:
            raise ValueError(f"sql_match must be one of {', '.join(SQL_MATCH_MODES)}, not {sql_match!r}")
        self.ngram = ngram
        self.sql_match = sql_match
        self.check_questions = check_questions
        self.items: list[EvalItem] = []
        self._grams: dict[str, int] = {}
        self._sqls: dict[str, int] = {}
        for item in eval_items:
            if not isinstance(item, EvalItem):
                question, sql = item
                item = EvalItem(question=question, sql=sql)
            index = len(self.items)
            self.items.append(item)
            if check_questions and item.question:
                for gram in question_ngrams(item.question, ngram):
                    self._grams.setdefault(gram, index)
            if item.sql:
                key = sql_key(item.sql, item.dialect, sql_match)
                if key is not None:
                    self._sqls.setdefault(key, index)

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike], **options: Any) -> Decontaminator:
        """A decontaminator over every item of the given files (see :func:`load_eval_items`)."""
        items: list[EvalItem] = []
        for path in paths:
            items.extend(load_eval_items(path))
        return cls(items, **options)

    def __len__(self) -> int:
        return len(self.items)

    def match(
        self, question: str | None, sql: str | None, dialect: str = "sqlite", record_id: str = ""
    ) -> Contamination | None:
        """The contamination of one (question, SQL) pair, or None when it is clean."""
        reasons: list[str] = []
        first: int | None = None
        shared: str | None = None
        if self.check_questions and question and self._grams:
            for gram in question_ngrams(question, self.ngram):
                hit = self._grams.get(gram)
                if hit is not None:
                    reasons.append("question_ngram")
                    first, shared = hit, gram
                    break
        if sql and self._sqls:
            key = sql_key(sql, dialect, self.sql_match)
            hit = self._sqls.get(key) if key is not None else None
            if hit is not None:
                reasons.append("sql_match")
                first = hit if first is None else first
        if not reasons:
            return None
        assert first is not None
        return Contamination(record_id=record_id, reasons=reasons, eval_item=self.items[first], ngram=shared)

    def check(self, record: Record) -> Contamination | None:
        """The contamination of a record (an infeasible record's empty SQL is not compared)."""
        return self.match(record.question, record.sql if record.feasible else None, record.dialect, record.id)

    def iter_clean(self, records: Iterable[Record], report: DecontaminationReport) -> Iterator[Record]:
        """The clean records, streaming; counts go to ``report``."""
        for record in records:
            found = self.check(record)
            report.add(found)
            if found is None:
                yield record

    def filter(self, records: Iterable[Record]) -> tuple[list[Record], DecontaminationReport]:
        """(clean records, report)."""
        report = DecontaminationReport()
        kept = list(self.iter_clean(records, report))
        return kept, report


# ------------------------------------------------------------------------------------------------
# Reading evaluation files
# ------------------------------------------------------------------------------------------------


def load_eval_items(path: str | os.PathLike, dialect: str = "sqlite") -> list[EvalItem]:
    """Evaluation items from one file:

    - ``.json``: a list of objects (Spider, BIRD, or records) with ``question`` and one of ``query``,
      ``SQL``, ``sql`` (either may be missing); or BIRD's prediction object ``{"0": "SQL\\t----- bird
      -----\\tdb_id"}``;
    - ``.jsonl``: one such object per line (our records included);
    - ``.txt``: one question per line;
    - anything else (``.sql``): one SQL per line, ``SQL<TAB>db_id`` lines included.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFormatError(f"cannot read evaluation items from {p}: {exc}") from None
    suffix = p.suffix.lower()
    name = p.name
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputFormatError(f"{p} is not valid JSON: {exc}") from None
        return _items_from_json(data, name, dialect)
    if suffix == ".jsonl":
        objects = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputFormatError(f"{p}:{lineno}: not a JSON object: {exc}") from None
        return _items_from_json(objects, name, dialect)
    lines = [ln.strip() for ln in text.splitlines()]
    if suffix == ".txt":
        return [
            EvalItem(question=q, sql=None, source=f"{name}:{i}", dialect=dialect)
            for i, q in enumerate(lines)
            if q
        ]
    items = []
    for i, line in enumerate(lines):
        if not line:
            continue
        sql = line.rsplit("\t", 1)[0] if "\t" in line else line
        items.append(EvalItem(question=None, sql=sql.strip(), source=f"{name}:{i}", dialect=dialect))
    return items


def _items_from_json(data: Any, name: str, dialect: str) -> list[EvalItem]:
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if isinstance(data, dict):  # BIRD predictions: {"0": "SQL\t----- bird -----\tdb_id"}
        return [
            EvalItem(
                question=None, sql=str(v).split(_BIRD_SEPARATOR)[0], source=f"{name}:{k}", dialect=dialect
            )
            for k, v in data.items()
            if isinstance(v, str)
        ]
    if not isinstance(data, list):
        raise InputFormatError(
            f"{name}: expected a JSON list of evaluation items, found {type(data).__name__}"
        )
    items = []
    for i, obj in enumerate(data):
        if not isinstance(obj, dict):
            raise InputFormatError(f"{name}: item {i} is a {type(obj).__name__}, expected an object")
        question = obj.get("question")
        sql = next((obj[f] for f in _SQL_FIELDS if isinstance(obj.get(f), str)), None)
        if not isinstance(question, str):
            question = None
        if question is None and sql is None:
            raise InputFormatError(
                f"{name}: item {i} has neither 'question' nor one of {', '.join(_SQL_FIELDS)}"
            )
        item_dialect = obj.get("dialect") if isinstance(obj.get("dialect"), str) else dialect
        items.append(EvalItem(question=question, sql=sql, source=f"{name}:{i}", dialect=item_dialect))
    return items


__all__ = [
    "REASONS",
    "SQL_MATCH_MODES",
    "Contamination",
    "DecontaminationReport",
    "Decontaminator",
    "EvalItem",
    "load_eval_items",
    "question_ngrams",
    "question_tokens",
    "sql_key",
]
