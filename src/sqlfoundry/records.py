"""The one record format that flows from synthesis to training to evaluation.

A :class:`Record` is one verified (question, SQL) pair with everything later stages need: skills,
complexity, reasoning, the result's fingerprint, provenance and difficulty. JSONL is the working
format (append-only, fsync'd, resumable); Parquet is an export; both load with
``datasets.load_dataset("json" | "parquet", data_files=...)``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from .errors import InputFormatError

COMPLEXITIES = ("simple", "moderate", "complex", "highly_complex")
#: question styles of the rule-based realizer
STYLES = ("formal", "colloquial", "imperative", "interrogative", "concise")
#: styles only an LLM writes (OmniSQL's nine are STYLES plus these)
LLM_ONLY_STYLES = ("descriptive", "vague", "metaphorical", "multi_turn")
ALL_STYLES = STYLES + LLM_ONLY_STYLES


class Provenance(BaseModel):
    """Where a record came from: which generator, with which seed and (if any) which model."""

    generator: str = "rule"  # rule | llm | teacher | import
    seed: int | None = None
    model: str | None = None
    template: str | None = None  # sampler template / skill recipe id


class Record(BaseModel):
    id: str
    db_id: str
    dialect: str = "sqlite"
    question: str
    style: str = "formal"
    evidence: str | None = None
    sql: str
    skills: list[str] = Field(default_factory=list)
    reasoning_skills: list[str] = Field(default_factory=list)
    complexity: str = "simple"
    cot: str | None = None
    #: False for questions the database cannot answer (the model should abstain); sql is then ""
    feasible: bool = True
    result_fingerprint: str | None = None
    row_count: int | None = None
    exec_ms: float | None = None
    provenance: Provenance = Field(default_factory=Provenance)
    #: the Executor outcome of the SQL ("ok"), or "infeasible" for abstention records
    verification: str = "ok"
    #: pass rate in [0, 1] when measured (distillation), else None
    difficulty: float | None = None
    split: str = "train"


def read_jsonl(path: str | os.PathLike) -> Iterator[Record]:
    """Records from a JSONL file; a bad line raises InputFormatError naming the line."""
    p = Path(path)
    try:
        fh = p.open(encoding="utf-8")
    except OSError as exc:
        raise InputFormatError(f"cannot read records from {p}: {exc.strerror}") from None
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield Record.model_validate_json(line)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first["loc"]) or "(line)"
                raise InputFormatError(f"{p}:{lineno}: not a record ({where}: {first['msg']})") from None


class RecordWriter:
    """Append-only JSONL writer that survives ``kill -9``: every flush is fsync'd, and on reopen a torn
    last line (a write cut short) is dropped, so a resumed run neither loses nor duplicates records."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.ids: set[str] = set()
        if self.path.exists():
            self._repair()
        self._fh = self.path.open("a", encoding="utf-8")

    def _repair(self) -> None:
        data = self.path.read_bytes()
        keep = data if data.endswith(b"\n") or not data else data[: data.rfind(b"\n") + 1]
        if len(keep) != len(data):
            with self.path.open("r+b") as fh:
                fh.truncate(len(keep))
        for line in keep.decode("utf-8").splitlines():
            if line.strip():
                try:
                    self.ids.add(json.loads(line)["id"])
                except (ValueError, KeyError):
                    continue

    def write_many(self, records: Iterable[Record]) -> int:
        n = 0
        lines = []
        for r in records:
            if r.id in self.ids:
                continue
            self.ids.add(r.id)
            lines.append(r.model_dump_json() + "\n")
            n += 1
        if lines:
            self._fh.write("".join(lines))
            self._fh.flush()
            os.fsync(self._fh.fileno())
        return n

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
