"""Every option of a synthesis run in one typed object, with documented defaults, plus the typed errors
a run raises; ``SynthConfig`` is to :func:`~sqlfoundry.synth.pipeline.synthesize` what a TRL config is to its trainer."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field, field_validator, model_validator

from ..errors import SQLFoundryError
from ..records import ALL_STYLES, COMPLEXITIES, STYLES

#: dialects a record can be written in (sqlglot names)
DIALECTS = ("sqlite", "duckdb", "postgres", "mysql")
_DIALECT_ALIASES = {"postgresql": "postgres", "pg": "postgres", "mariadb": "mysql", "sqlite3": "sqlite"}


class SynthError(SQLFoundryError):
    """A synthesis run cannot start or go on; the message says what to change."""


class SynthConfigError(SynthError, ValueError):
    """An option (or a combination of options) that makes no sense."""


class EmptySchemaError(SynthError):
    """The database has no tables, or none with rows, so there is nothing to ask questions about."""


class ResumeMismatchError(SynthError):
    """The output folder holds records from a run with different options."""


def canonical_dialect(name: str) -> str:
    d = name.strip().lower()
    d = _DIALECT_ALIASES.get(d, d)
    if d not in DIALECTS:
        raise SynthConfigError(f"unknown dialect {name!r}: use one of {', '.join(DIALECTS)}")
    return d


class SynthConfig(BaseModel):
    """Options of one synthesis run. Fields marked *stream* decide which records come out and in which
    order; the others (``n``, ``workers``, ``batch_size``, ``resume``, ``cache``) only decide how many
    and how fast, so a run can be resumed or extended with different values for them."""

    #: records to write in total (feasible and infeasible, every dialect)
    n: int = Field(2000, ge=1)
    #: *stream* random seed: same seed, database and options → same records, same ids
    seed: int = 0
    #: *stream* question styles, cycled per complexity level so every (style, complexity) pair occurs
    styles: list[str] = Field(default_factory=lambda: list(STYLES))
    #: *stream* questions (records, each in another style) per kept SQL statement
    questions_per_sql: int = Field(1, ge=1)
    #: *stream* relative weights of the four complexity levels in sampling
    complexity_weights: dict[str, float] = Field(default_factory=lambda: dict.fromkeys(COMPLEXITIES, 1.0))
    #: *stream* optional relative weights of SQL skills in sampling (sampler defaults when empty)
    skill_weights: dict[str, float] = Field(default_factory=dict)
    #: *stream* keep queries whose result is empty (or a COUNT of 0)
    allow_empty: bool = False
    #: *stream* share of records that are unanswerable questions (the model should abstain)
    infeasible_rate: float = Field(0.05, ge=0.0, lt=1.0)
    #: *stream* dialects records are written in; empty means the source database's own dialect
    dialects: list[str] = Field(default_factory=list)
    #: real engines holding the same data, to re-verify transpiled SQL on: dialect → database URL
    dialect_urls: dict[str, str] = Field(default_factory=dict)
    #: *stream* per-statement wall-clock limit in seconds
    timeout: float = Field(5.0, gt=0)
    #: *stream* results with more rows than this are rejected (too_large)
    max_result_rows: int = Field(5000, ge=1)
    #: Executor worker processes (default: CPU count)
    workers: int | None = Field(None, ge=1)
    #: *stream* files of benchmark questions/SQL that must not leak into the records (decontamination)
    exclude: list[str] = Field(default_factory=list)
    #: *stream* add BIRD-style evidence to questions
    with_evidence: bool = False
    #: *stream* add a chain-of-thought rationale to each record
    with_cot: bool = True
    #: sampled statements verified per Executor batch
    batch_size: int = Field(256, ge=1)
    #: *stream* kept statements per SQL template (literals abstracted): one plus literal variants
    max_per_template: int = Field(3, ge=1)
    #: *stream* a result shared by this many kept statements of other templates is a degenerate answer
    max_same_result: int = Field(3, ge=1)
    #: *stream* on a tie at ``ORDER BY … LIMIT k``: ``break`` adds a tie-breaker and re-verifies, ``reject`` drops
    tie_policy: str = "break"
    #: *stream* name of the database in records (default: from the URL)
    db_id: str | None = None
    #: *stream* sample values per column read by introspection (the realizer quotes them)
    sample_values: int = Field(5, ge=0)
    #: give up when this many statements per requested record were sampled without reaching ``n``
    max_candidates_per_record: float = Field(40.0, gt=0)
    #: continue a run in the same output folder (skip ids already written) instead of starting over
    resume: bool = True
    #: keep execution results in ``<out>/.cache`` so a resumed run re-verifies quickly
    cache: bool = True
    #: the LLM that writes questions and rationales (None: the rule-based realizer); part of the
    #: run's identity, so a resumed run cannot silently switch generators
    llm_model: str | None = None

    @field_validator("styles")
    @classmethod
    def _known_styles(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one style is needed")
        bad = [s for s in v if s not in ALL_STYLES]
        if bad:
            raise ValueError(f"unknown style(s) {', '.join(bad)}: use {', '.join(ALL_STYLES)}")
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _llm_styles_need_an_llm(self) -> SynthConfig:
        llm_only = [s for s in self.styles if s not in STYLES]
        if llm_only and not self.llm_model:
            raise ValueError(
                f"style(s) {', '.join(llm_only)} need an LLM (--llm-url and --llm-model); "
                f"without one use {', '.join(STYLES)}"
            )
        return self

    @field_validator("complexity_weights")
    @classmethod
    def _known_complexities(cls, v: dict[str, float]) -> dict[str, float]:
        bad = [c for c in v if c not in COMPLEXITIES]
        if bad:
            raise ValueError(f"unknown complexity level(s) {', '.join(bad)}: use {', '.join(COMPLEXITIES)}")
        if any(w < 0 for w in v.values()) or not any(w > 0 for w in v.values()):
            raise ValueError("complexity weights must be >= 0 with at least one > 0")
        return {c: float(v.get(c, 0.0)) for c in COMPLEXITIES}

    @field_validator("dialects")
    @classmethod
    def _known_dialects(cls, v: list[str]) -> list[str]:
        return list(dict.fromkeys(canonical_dialect(d) for d in v))

    @field_validator("dialect_urls")
    @classmethod
    def _known_dialect_urls(cls, v: dict[str, str]) -> dict[str, str]:
        return {canonical_dialect(k): u for k, u in v.items()}

    @field_validator("tie_policy")
    @classmethod
    def _known_tie_policy(cls, v: str) -> str:
        if v not in ("break", "reject"):
            raise ValueError("tie_policy must be 'break' or 'reject'")
        return v

    @model_validator(mode="after")
    def _enough_styles(self) -> SynthConfig:
        if self.questions_per_sql > len(self.styles):
            raise ValueError(
                f"questions_per_sql={self.questions_per_sql} needs as many styles (have {len(self.styles)})"
            )
        return self

    # -- identity of the record stream -------------------------------------------------------------
    #: fields that do not change which records a run produces (see the class docstring)
    NON_STREAM_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"n", "workers", "batch_size", "resume", "cache", "max_candidates_per_record"}
    )

    def stream_options(self) -> dict:
        """The options that decide the record stream, with exclude files identified by content."""
        data = self.model_dump(mode="json", exclude=set(self.NON_STREAM_FIELDS))
        data["dialect_urls"] = sorted(data["dialect_urls"])  # where the data lives does not change records
        data["exclude"] = [_file_digest(p) for p in self.exclude]
        return data

    def stream_key(self) -> str:
        text = json.dumps(self.stream_options(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _file_digest(path: str) -> str:
    p = Path(path)
    try:
        return f"{p.name}:{hashlib.sha256(p.read_bytes()).hexdigest()[:16]}"
    except OSError:
        return f"{p.name}:missing"


def parse_weights(text: str, known: tuple[str, ...], what: str) -> dict[str, float]:
    """``"simple=1,moderate=2"`` → ``{"simple": 1.0, "moderate": 2.0}`` (unnamed levels get 0)."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, eq, value = part.partition("=")
        name = name.strip()
        if not eq or name not in known:
            raise SynthConfigError(
                f"bad {what} weight {part!r}: expected NAME=WEIGHT with NAME in {', '.join(known)}"
            )
        try:
            out[name] = float(value)
        except ValueError:
            raise SynthConfigError(f"bad {what} weight {part!r}: {value!r} is not a number") from None
    return out


__all__ = [
    "DIALECTS",
    "EmptySchemaError",
    "ResumeMismatchError",
    "SynthConfig",
    "SynthConfigError",
    "SynthError",
    "canonical_dialect",
    "parse_weights",
]
