"""What a set of records holds: counts by skill, reasoning skill, complexity, style, database, dialect,
feasibility, verification outcome, split and generator, plus a synthesis run's rejection counts."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputFormatError
from ..records import Record

#: the breakdowns :class:`DataStats` counts, in display order, with a title each
BREAKDOWNS: dict[str, str] = {
    "skills": "SQL skill",
    "reasoning_skills": "Reasoning skill",
    "complexity": "Complexity",
    "style": "Question style",
    "db_id": "Database",
    "dialect": "Dialect",
    "feasible": "Feasibility",
    "verification": "Verification",
    "split": "Split",
    "generator": "Generator",
    "infeasible_category": "Infeasible category",
}


@dataclass
class DataStats:
    """Counts over a set of records; each breakdown is a Counter of value → records.

    Skills and reasoning skills count records having the skill (a record counts once per skill it
    has). ``infeasible_category`` counts infeasible records by ``provenance.template`` (the TrustSQL
    category written by :mod:`.infeasible`). ``rejections`` are a synthesis run's rejected candidates
    by reason, read from its ``manifest.json`` or ``rejections.json`` when present.
    """

    total: int = 0
    counts: dict[str, Counter] = field(default_factory=lambda: {k: Counter() for k in BREAKDOWNS})
    with_cot: int = 0
    with_evidence: int = 0
    empty_results: int = 0
    rejections: dict[str, int] = field(default_factory=dict)
    source: str | None = None

    def add(self, record: Record) -> None:
        self.total += 1
        c = self.counts
        c["skills"].update(dict.fromkeys(record.skills, 1))
        c["reasoning_skills"].update(dict.fromkeys(record.reasoning_skills, 1))
        c["complexity"][record.complexity] += 1
        c["style"][record.style] += 1
        c["db_id"][record.db_id] += 1
        c["dialect"][record.dialect] += 1
        c["feasible"]["feasible" if record.feasible else "infeasible"] += 1
        c["verification"][record.verification] += 1
        c["split"][record.split] += 1
        c["generator"][record.provenance.generator] += 1
        if not record.feasible:
            c["infeasible_category"][record.provenance.template or "(none)"] += 1
        self.with_cot += bool(record.cot)
        self.with_evidence += bool(record.evidence)
        self.empty_results += int(record.feasible and record.row_count == 0)

    @property
    def rejected(self) -> int:
        return sum(self.rejections.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON form: totals, then each breakdown sorted by count (descending), then by value."""
        return {
            "source": self.source,
            "total": self.total,
            "with_cot": self.with_cot,
            "with_evidence": self.with_evidence,
            "empty_results": self.empty_results,
            **{name: _sorted(counter) for name, counter in self.counts.items()},
            "rejected": self.rejected,
            "rejections": _sorted(Counter(self.rejections)),
        }


def _sorted(counter: Counter) -> dict[str, int]:
    return {str(k): v for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], str(kv[0])))}


def dataset_stats(records: Iterable[Record]) -> DataStats:
    """Counts over ``records`` (any iterable; a file is read once, streaming)."""
    stats = DataStats()
    for record in records:
        stats.add(record)
    return stats


def read_rejections(run_dir: str | os.PathLike) -> dict[str, int]:
    """A run's rejected candidates by reason: ``manifest.json``'s ``rejections`` object, else
    ``rejections.json`` (an object of reason → count); empty when neither exists."""
    folder = Path(run_dir)
    for name, key in (("manifest.json", "rejections"), ("rejections.json", None)):
        path = folder / name
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputFormatError(f"cannot read {path}: {exc}") from None
        found = data.get(key) if key and isinstance(data, dict) else data
        if isinstance(found, dict):
            return {str(k): int(v) for k, v in found.items() if isinstance(v, int | float)}
    return {}


def stats_for_path(path: str | os.PathLike) -> DataStats:
    """Statistics of a records file (JSONL or Parquet) or a run folder (its ``records.jsonl``), with
    the rejection counts of the run folder the records are in."""
    from .export import read_records

    p = Path(path)
    if not p.exists():
        raise InputFormatError(f"{p} does not exist: give a records file (.jsonl, .parquet) or a run folder")
    stats = dataset_stats(read_records(p))
    stats.rejections = read_rejections(p if p.is_dir() else p.parent)
    stats.source = str(p)
    return stats


__all__ = ["BREAKDOWNS", "DataStats", "dataset_stats", "read_rejections", "stats_for_path"]
