"""The one prompt format shared by training, prediction and serving, and the reader of model answers.

A prompt holds the schema as DDL with example values (OmniSQL's input format), the question, optional
evidence and matched values, and asks for step-by-step reasoning ending in one ```sql block, or the
fixed abstention sentence when the database cannot answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..db.schema import schema_to_ddl
from ..db.schema_model import Schema

#: the system message of every chat-formatted example (training data, prediction, serving)
SYSTEM_PROMPT = (
    "You are an expert SQL analyst. You answer questions about a database by writing one correct, "
    "read-only SQL query, or by saying plainly that the database cannot answer the question."
)

#: the exact answer to a question the database cannot answer (TrustSQL abstention); training data
#: teaches it, :func:`is_abstention` recognizes it
ABSTENTION_TEXT = "I cannot answer this question: the database does not contain the information it asks for."

#: display names of dialects in the prompt's "Database engine" line
DIALECT_NAMES = {"sqlite": "SQLite", "duckdb": "DuckDB", "postgres": "PostgreSQL", "mysql": "MySQL"}

#: how many matched values per column the prompt lists at most
MAX_MATCHED_VALUES = 5

_TEMPLATE = """\
Task overview:
You are given a database schema and a question. Write one SQL query that answers the question.

Database engine:
{engine}

{schema}{values}
Question:
{question}
{evidence}
Instructions:
- Return exactly the information the question asks for: no missing and no extra columns.
- Use only tables and columns from the schema, and {engine} SQL syntax.
- If the database does not hold the information the question asks for, or the request cannot be done \
with a SQL query, do not write SQL; answer exactly: "{abstention}"

Output format:
Think through the steps of the query first, then give the final SQL query in a code block:
```sql
-- your SQL query
```
"""

#: the same sections, without the explanations and instructions: for small-context models (the tiny
#: model trains in seconds on a ~100-token prompt, not on a ~500-token one)
_COMPACT_TEMPLATE = """Database engine:
{engine}

{schema}{values}
Question:
{question}
{evidence}"""

#: the schema section of each template (``{ddl}`` is the schema's DDL)
_SCHEMA_SECTION = """Database schema:
{ddl}

The schema lists every table with its columns, types, keys and foreign keys; comments show example \
values and row counts.
"""
_COMPACT_SCHEMA_SECTION = """Database schema:
{ddl}
"""


def build_prompt(
    schema: Schema | str,
    question: str,
    evidence: str | None = None,
    dialect: str = "sqlite",
    matched_values: Mapping[str, Sequence[Any]] | None = None,
    *,
    with_samples: bool = True,
    compact: bool = False,
    with_schema: bool = True,
) -> str:
    """The user message for one question.

    ``schema`` is a :class:`Schema` (rendered with :func:`schema_to_ddl`, example values included) or
    DDL text already rendered. ``evidence`` is BIRD-style external knowledge (a hint), left out when
    empty. ``matched_values`` maps ``"table.column"`` to database values that match words of the
    question (value linking); at most :data:`MAX_MATCHED_VALUES` per column are shown.

    Options for small-context models (a model must be prompted as it was trained): ``with_samples=False``
    renders a :class:`Schema` without the example-value comments and row counts; ``compact=True``
    keeps only the engine, schema, matched values, question and evidence sections (no task overview,
    instructions or output-format paragraphs; the answer format is still :func:`format_answer`'s).
    ``with_schema=False`` leaves the schema section out (``schema`` is then unused): for a model
    fine-tuned on one database, which learns that database's schema from its training examples and
    is only ever asked about it; with ``compact=True`` the prompt is then the engine and the question.
    """
    engine = DIALECT_NAMES.get(dialect.lower(), dialect)
    template = _COMPACT_TEMPLATE if compact else _TEMPLATE
    section = ""
    if with_schema:
        ddl = schema if isinstance(schema, str) else schema_to_ddl(schema, with_samples=with_samples)
        section = (_COMPACT_SCHEMA_SECTION if compact else _SCHEMA_SECTION).format(ddl=ddl.rstrip("\n"))
    return template.format(
        engine=engine,
        schema=section,
        values=_matched_values_section(matched_values),
        question=question.strip(),
        evidence=f"\nEvidence (external knowledge):\n{evidence.strip()}\n"
        if evidence and evidence.strip()
        else "",
        abstention=ABSTENTION_TEXT,
    )


def _matched_values_section(matched_values: Mapping[str, Sequence[Any]] | None) -> str:
    if not matched_values:
        return ""
    lines = []
    for column, values in matched_values.items():
        shown = [_sql_literal(v) for v in list(values)[:MAX_MATCHED_VALUES]]
        if shown:
            lines.append(f"- {column}: {', '.join(shown)}")
    if not lines:
        return ""
    return "\nDatabase values that match words of the question:\n" + "\n".join(lines) + "\n"


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("'", "''")
    return f"'{text}'"


_TRAILING_SQL_BLOCK = re.compile(r"\s*```[A-Za-z0-9_]*\n.*?\n?```\s*\Z", re.S)


def format_answer(sql: str | None, cot: str | None = None) -> str:
    """The assistant message a model is trained to produce: the reasoning (if any), then the SQL in a
    ```sql block; ``sql`` None or empty gives the abstention sentence instead of the block."""
    # A rationale may end with the SQL itself (rule-based ones do); the answer states it once.
    cot = _TRAILING_SQL_BLOCK.sub("", cot).strip() if cot else cot
    parts = [cot.strip()] if cot and cot.strip() else []
    if sql and sql.strip():
        parts.append(f"```sql\n{_strip_sql(sql)}\n```")
    else:
        parts.append(ABSTENTION_TEXT)
    return "\n\n".join(parts)


# ------------------------------------------------------------------------------------------------
# Reading answers
# ------------------------------------------------------------------------------------------------

_STATEMENT_START = re.compile(r"(?<![A-Za-z0-9_])(SELECT|WITH)(?![A-Za-z0-9_])")
_SQL_LANGS = {"sql", "sqlite", "sqlite3", "postgresql", "postgres", "mysql", "duckdb", "psql", "tsql", "plsql"}  # fmt: skip


def extract_sql(completion: str, dialect: str = "sqlite") -> str | None:
    """The SQL a model answered with, or None when it wrote none (e.g. it abstained).

    Looks, in order, for the last non-empty ```sql block (also ```sqlite, ```postgresql, ...; a last
    block cut off before its closing fence counts), the last non-empty plain ``` block, and a
    statement starting with an upper-case SELECT or WITH at the end of the text (running to the
    first ``;`` or blank line; when it does not parse in ``dialect``, its longest run of whole lines
    that does).
    Text before a closing ``</think>`` is a reasoning model's scratch work and is ignored. Trailing
    semicolons and surrounding whitespace are stripped.
    """
    if not completion:
        return None
    if "</think>" in completion:
        completion = completion.rsplit("</think>", 1)[1]
    sql_blocks, plain_blocks = [], []
    for lang, body in _fenced_blocks(completion):
        if not body.strip():
            continue
        if lang in _SQL_LANGS:
            sql_blocks.append(body)
        elif not lang:
            plain_blocks.append(body)
    for blocks in (sql_blocks, plain_blocks):
        if blocks:
            return _strip_sql(blocks[-1]) or None
    return _trailing_statement(completion, dialect)


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every ``` block, in order; a last block without a closing fence counts."""
    pieces = text.split("```")
    blocks = []
    for inside in pieces[1::2]:
        first, newline, rest = inside.partition("\n")
        head = first.strip()
        word = head.split(maxsplit=1)[0] if head else ""
        if word.lower() in _SQL_LANGS:
            # "```sql\nSELECT ..." or "```sql SELECT ...```" on one line
            blocks.append((word.lower(), head[len(word) :] + newline + rest))
        elif newline and head and " " not in head and not _STATEMENT_START.match(head):
            blocks.append((head.lower(), rest))  # another language: ```python
        else:
            blocks.append(("", inside))
    return blocks


def _trailing_statement(text: str, dialect: str) -> str | None:
    """The last top-level statement starting with upper-case SELECT/WITH, cut at ``;`` or a blank line."""
    last = None
    end = -1
    for match in _STATEMENT_START.finditer(text):
        start = match.start()
        if start < end:
            continue  # inside the statement already taken (a subquery)
        stop = len(text)
        for sep in (";", "\n\n"):
            at = text.find(sep, start)
            if at != -1:
                stop = min(stop, at)
        last, end = text[start:stop], stop
    if last is None:
        return None
    return _parseable_prefix(_strip_sql(last), dialect) or None


def _parseable_prefix(sql: str, dialect: str) -> str:
    """``sql`` if it parses, else its longest prefix of whole lines that does (prose often follows a
    bare statement on the next line), else ``sql`` unchanged for the executor to report."""
    from ..sql.normalize import SQLParseError, parse_sql

    lines = sql.split("\n")
    for end in range(len(lines), 0, -1):
        candidate = _strip_sql("\n".join(lines[:end]))
        try:
            parse_sql(candidate, dialect, cache=False)
        except SQLParseError:
            continue
        return candidate
    return sql


def _strip_sql(sql: str) -> str:
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def is_abstention(completion: str) -> bool:
    """Whether a model answer abstains: it holds no SQL and contains :data:`ABSTENTION_TEXT` (case and
    spacing ignored)."""
    if extract_sql(completion) is not None:
        return False
    squash = " ".join(completion.lower().split())
    return " ".join(ABSTENTION_TEXT.lower().split()) in squash


__all__ = [
    "ABSTENTION_TEXT",
    "DIALECT_NAMES",
    "SYSTEM_PROMPT",
    "build_prompt",
    "extract_sql",
    "format_answer",
    "is_abstention",
]
