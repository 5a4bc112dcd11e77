"""Keep the synthesized set free of redundancy: at most a few statements per SQL template (literals
abstracted), one per (skeleton, result), none that a simpler kept statement already answers the same
way, and no answer shared by many unrelated statements.

:class:`TemplateIndex` works before execution (text only); :class:`ResultIndex` after it (fingerprints).
Both are deterministic for a deterministic input order, which is what makes synthesis reproducible.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache

from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from ..records import COMPLEXITIES
from .verify import Rejection

_NAMES = frozenset({TokenType.VAR, TokenType.IDENTIFIER})
_VALUES = frozenset({TokenType.STRING, TokenType.NUMBER, TokenType.NATIONAL_STRING, TokenType.HEX_STRING,
                     TokenType.BIT_STRING, TokenType.BYTE_STRING})  # fmt: skip
_COUNTS = frozenset({TokenType.LIMIT, TokenType.OFFSET, TokenType.FETCH})


@dataclass(frozen=True)
class SQLKeys:
    """Three dedup keys of one statement, each coarser than the one before.

    ``normalized``: layout, keyword case and identifier case ignored. ``template``: also every literal
    value replaced by ``?`` (LIMIT/OFFSET counts kept), so queries differing only in values share it.
    ``skeleton``: also every table, column and alias name replaced by ``_``, keeping the shape.
    """

    normalized: str
    template: str
    skeleton: str


@lru_cache(maxsize=8)
def _dialect(name: str) -> Dialect:
    return Dialect.get_or_raise(name)


def sql_keys(sql: str, dialect: str = "sqlite") -> SQLKeys | None:
    """Dedup keys read off sqlglot's tokens (no parse: about ten times cheaper than
    ``sql.normalize``'s normalize_sql/sql_template/skeleton, which agree with these on layout, case
    and literals). None when the text does not tokenize."""
    try:
        tokens = _dialect(dialect).tokenize(sql)
    except (SqlglotError, ValueError):
        return None
    norm: list[str] = []
    tmpl: list[str] = []
    skel: list[str] = []
    last = len(tokens) - 1
    for i, tok in enumerate(tokens):
        kind = tok.token_type
        if kind is TokenType.SEMICOLON and i == last:
            break
        if kind in _NAMES:
            if i < last and tokens[i + 1].token_type is TokenType.L_PAREN:  # a function name
                word = tok.text.upper()
                norm.append(word)
                tmpl.append(word)
                skel.append(word)
                continue
            word = tok.text.lower()
            norm.append(f'"{word}"' if kind is TokenType.IDENTIFIER else word)
            tmpl.append(norm[-1])
            skel.append("_")
        elif kind in _VALUES:
            norm.append("'" + tok.text.replace("'", "''") + "'" if kind is TokenType.STRING else tok.text)
            counted = i > 0 and tokens[i - 1].token_type in _COUNTS
            tmpl.append(norm[-1] if counted else "?")
            skel.append("?")
        else:
            word = tok.text.upper()
            norm.append(word)
            tmpl.append(word)
            skel.append(word)
    return SQLKeys(" ".join(norm), " ".join(tmpl), " ".join(skel))


def complexity_rank(level: str) -> int:
    """0 for simple … 3 for highly_complex (unknown levels sort last)."""
    try:
        return COMPLEXITIES.index(level)
    except ValueError:
        return len(COMPLEXITIES)


class TemplateIndex:
    """Exact duplicates and template quotas, checked on SQL text.

    ``max_per_template`` kept statements may share a template (one plus literal variants). The
    check before execution only consults statements already kept, so that what is kept never depends
    on how the stream was cut into batches; :meth:`admit` repeats it after verification.
    """

    def __init__(self, max_per_template: int = 3):
        self.max_per_template = max_per_template
        self._seen: set[str] = set()
        self._kept: Counter[str] = Counter()

    def check(self, normalized: str, template: str) -> Rejection | None:
        """Why this statement need not run (an exact duplicate or a full template), else None."""
        if normalized in self._seen:
            return Rejection.DUPLICATE_SQL
        return self.admit(template)

    def see(self, normalized: str) -> None:
        """Mark a statement as sampled: a later exact duplicate is rejected without running."""
        self._seen.add(normalized)

    def admit(self, template: str) -> Rejection | None:
        """The quota check for a verified statement (None: there is room)."""
        if self._kept[template] >= self.max_per_template:
            return Rejection.DUPLICATE_TEMPLATE
        return None

    def keep(self, template: str) -> None:
        self._kept[template] += 1

    def kept(self, template: str) -> int:
        return self._kept[template]


@dataclass(frozen=True)
class ResultKey:
    """What the result index needs to know about a verified statement."""

    fingerprint: str
    skeleton: str
    template: str
    tables: frozenset[str]
    complexity: str


class ResultIndex:
    """Redundancy judged on answers (multiset result fingerprints) of kept statements.

    - ``duplicate_result``: a kept statement has the same skeleton and the same answer (the same
      question asked with other schema items or values that happen to coincide).
    - ``equivalent_to_simpler``: a kept statement of lower complexity over the same tables gives the
      same answer, so the extra machinery does nothing.
    - ``constant``: ``max_same_result`` kept statements of other templates already give this answer
      (a degenerate answer that many unrelated questions share, e.g. ``1`` or one popular row).
    """

    def __init__(self, max_same_result: int = 3):
        self.max_same_result = max_same_result
        self._skeleton_fp: set[tuple[str, str]] = set()
        self._simplest: dict[tuple[frozenset[str], str], int] = {}
        self._templates_of: dict[str, set[str]] = defaultdict(set)

    def check(self, key: ResultKey) -> Rejection | None:
        if (key.skeleton, key.fingerprint) in self._skeleton_fp:
            return Rejection.DUPLICATE_RESULT
        simplest = self._simplest.get((key.tables, key.fingerprint))
        if simplest is not None and simplest < complexity_rank(key.complexity):
            return Rejection.EQUIVALENT_TO_SIMPLER
        others = self._templates_of.get(key.fingerprint, set()) - {key.template}
        if len(others) >= self.max_same_result:
            return Rejection.CONSTANT
        return None

    def keep(self, key: ResultKey) -> None:
        self._skeleton_fp.add((key.skeleton, key.fingerprint))
        slot = (key.tables, key.fingerprint)
        rank = complexity_rank(key.complexity)
        if rank < self._simplest.get(slot, len(COMPLEXITIES) + 1):
            self._simplest[slot] = rank
        self._templates_of[key.fingerprint].add(key.template)

    def __len__(self) -> int:
        return len(self._skeleton_fp)


__all__ = ["ResultIndex", "ResultKey", "SQLKeys", "TemplateIndex", "complexity_rank", "sql_keys"]
