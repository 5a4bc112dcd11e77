"""Records → the datasets our trainers read: SFT chat examples, GRPO prompt rows, DPO pairs, and the
held-out split by record. Every prompt is :func:`~sqlfoundry.synth.prompt.build_prompt`'s, as in prediction.

The schema in each prompt comes from a :class:`~sqlfoundry.train.predict.DatabaseCatalog` (one database
URL for every record, or a Spider/BIRD-style folder of databases), introspected once per database.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from ..errors import SQLFoundryError
from ..records import Record, read_jsonl
from ..synth.prompt import SYSTEM_PROMPT, build_prompt, format_answer
from .predict import DatabaseCatalog

__all__ = [
    "EVAL_SPLITS",
    "TrainDataError",
    "complexity_pass_rate",
    "dpo_row",
    "grpo_rows",
    "load_records",
    "prompt_messages",
    "sft_rows",
    "split_key",
    "split_records",
    "to_dataset",
]

#: record ``split`` values that go to the held-out set
EVAL_SPLITS = ("dev", "test", "eval", "validation", "heldout")

#: a stand-in pass rate per complexity, for the difficulty curriculum when none was measured
COMPLEXITY_PASS_RATE = {"simple": 0.9, "moderate": 0.6, "complex": 0.3, "highly_complex": 0.1}


class TrainDataError(SQLFoundryError):
    """The training records cannot be turned into a dataset (none left, a database missing, ...)."""


def load_records(
    path: str | os.PathLike,
    *,
    complexities: Sequence[str] | None = None,
    feasible_only: bool = False,
    limit: int | None = None,
) -> list[Record]:
    """Records from a JSONL file (or a synthesis run folder), optionally filtered by complexity and
    feasibility and cut to the first ``limit``."""
    p = Path(path)
    if p.is_dir():
        p = p / "records.jsonl"
    records = list(read_jsonl(p))
    if complexities:
        keep = set(complexities)
        records = [r for r in records if r.complexity in keep]
    if feasible_only:
        records = [r for r in records if r.feasible]
    if limit is not None:
        records = records[:limit]
    if not records:
        raise TrainDataError(f"no training records left in {p} after filtering")
    return records


def _unit(record_id: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


SplitKey = Literal["id", "sql"]


def split_key(record: Record, by: SplitKey = "id") -> str:
    """What the held-out hash of a record is taken over: its id, or (``by="sql"``) its gold SQL with
    whitespace and case folded, so every phrasing of one query lands on the same side (an infeasible
    record, which has no SQL, keeps its id)."""
    if by == "sql" and record.sql and record.sql.strip():
        return "sql:" + " ".join(record.sql.lower().split())
    return record.id


def split_records(
    records: Sequence[Record],
    eval_fraction: float = 0.1,
    seed: int = 0,
    max_eval: int | None = None,
    by: SplitKey = "id",
) -> tuple[list[Record], list[Record]]:
    """``(train, held_out)``. Records whose ``split`` is one of :data:`EVAL_SPLITS` are held out when
    there are any; otherwise each record is held out with probability ``eval_fraction`` by a hash of
    its :func:`split_key` and ``seed`` (stable: adding records never moves an old one across; with
    ``by="sql"`` no held-out question has a gold query the training set teaches). ``max_eval`` caps
    the held-out set (the rest of it is dropped, not trained on)."""
    marked = [r for r in records if r.split in EVAL_SPLITS]
    if marked:
        train = [r for r in records if r.split not in EVAL_SPLITS]
        held = marked
    else:
        train, held = [], []
        for r in records:
            (held if _unit(split_key(r, by), seed) < eval_fraction else train).append(r)
    if max_eval is not None:
        held = held[:max_eval]
    if not train:
        raise TrainDataError("no training records left after holding out the evaluation split")
    return train, held


def prompt_messages(
    record: Record,
    catalog: DatabaseCatalog,
    *,
    with_samples: bool = True,
    compact: bool = False,
    with_schema: bool = True,
) -> list[dict[str, str]]:
    """The system and user messages of one record: the prompt prediction and serving use.
    ``with_samples``/``compact``/``with_schema``: :func:`~sqlfoundry.synth.prompt.build_prompt`'s short
    forms for small-context and single-database models (evaluate with the options the model was
    trained with)."""
    user = build_prompt(
        catalog.schema(record.db_id) if with_schema else "",
        record.question,
        record.evidence,
        record.dialect,
        with_samples=with_samples,
        compact=compact,
        with_schema=with_schema,
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def answer_text(record: Record, with_cot: bool = True) -> str:
    """The assistant message a record teaches: reasoning then the ```sql block, or the abstention.
    A chain of thought that already ends with the SQL block is cut before it (one block only)."""
    cot = record.cot if with_cot else None
    if cot and "```" in cot:
        cot = cot.split("```", 1)[0].rstrip()
    return format_answer(record.sql if record.feasible else None, cot)


def complexity_pass_rate(record: Record) -> float | None:
    """The measured pass rate (``difficulty``), else a stand-in from the record's complexity."""
    if record.difficulty is not None:
        return record.difficulty
    return COMPLEXITY_PASS_RATE.get(record.complexity)


def sft_rows(
    records: Iterable[Record],
    catalog: DatabaseCatalog,
    with_cot: bool = True,
    *,
    with_samples: bool = True,
    compact: bool = False,
    with_schema: bool = True,
) -> list[dict[str, Any]]:
    """TRL conversational rows: ``messages`` (system, user, assistant) plus ``id``, ``complexity`` and
    ``difficulty`` for the curricula. ``with_samples``/``compact``/``with_schema``: see
    :func:`prompt_messages`."""
    rows = []
    for r in records:
        messages = prompt_messages(
            r, catalog, with_samples=with_samples, compact=compact, with_schema=with_schema
        )
        messages.append({"role": "assistant", "content": answer_text(r, with_cot)})
        rows.append(
            {
                "messages": messages,
                "id": r.id,
                "complexity": r.complexity,
                "difficulty": complexity_pass_rate(r),
            }
        )
    return rows


def grpo_rows(records: Iterable[Record], catalog: DatabaseCatalog, **prompt_options: bool) -> list[dict[str, Any]]:
    """TRL conversational prompt rows: ``prompt`` (system, user) and the columns the rewards read
    (``gold_sql``, ``db_url``, ``feasible``, ``dialect``), plus ``record_index`` (the row's position,
    which the UCB curriculum maps rewards back with) and ``complexity``. ``prompt_options``: see
    :func:`prompt_messages` (the options the starting checkpoint was trained with)."""
    return [
        {
            "prompt": prompt_messages(r, catalog, **prompt_options),
            "gold_sql": r.sql,
            "db_url": catalog.url(r.db_id),
            "feasible": r.feasible,
            "dialect": r.dialect,
            "record_index": i,
            "complexity": r.complexity,
            "id": r.id,
        }
        for i, r in enumerate(records)
    ]


def dpo_row(
    record: Record, catalog: DatabaseCatalog, chosen: str, rejected: str, **prompt_options: bool
) -> dict[str, Any]:
    """One TRL conversational preference row: ``prompt`` messages and one-message ``chosen``/``rejected``."""
    return {
        "prompt": prompt_messages(record, catalog, **prompt_options),
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
        "id": record.id,
    }


def to_dataset(rows: list[dict[str, Any]]):
    """A ``datasets.Dataset`` of the rows."""
    from datasets import Dataset

    if not rows:
        raise TrainDataError("no rows to train on")
    return Dataset.from_list(rows)
