"""The small types passed between synthesis steps (sample → verify → realize → record)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import SQLFoundryError

#: SQL skills a sampled query can exercise (the sampler's recipes and the realizer share this list).
SQL_SKILLS = (
    "projection", "filter", "aggregation", "group_by", "having", "order_by", "limit", "join", "nested",
    "set_operation", "distinct", "case", "cte", "window", "date_time", "string", "arithmetic", "ratio",
    "like", "in", "between", "is_null", "negation", "exists",
)  # fmt: skip

#: ReasTAP reasoning skills, tagged on each record.
REASONING_SKILLS = (
    "numerical_comparison", "temporal_comparison", "conjunction", "quantifiers", "counting",
    "superlatives", "numerical_operation",
)  # fmt: skip


class UnsupportedSQL(SQLFoundryError):
    """A statement uses a construct the rule-based realizer cannot phrase (a counted rejection)."""


@dataclass
class SampledQuery:
    """One SQL statement drawn by the sampler, before verification (SQLite dialect)."""

    sql: str
    template: str
    skills: list[str]
    reasoning_skills: list[str]
    complexity: str  # simple | moderate | complex | highly_complex
    tables: list[str]
    #: True when the query has ORDER BY … LIMIT: verification checks ties at the cut
    order_limited: bool = False
    #: the ORDER BY key expressions (SQL text), for the tie check and tie-breakers
    order_keys: list[str] = field(default_factory=list)


@dataclass
class Realization:
    """A natural-language question for a SQL statement, in one style, with optional BIRD-style evidence."""

    question: str
    style: str
    evidence: str | None = None
