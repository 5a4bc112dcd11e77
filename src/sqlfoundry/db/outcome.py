"""What executing one statement produced: a typed outcome, never an exception.

Also the limits a statement runs under and the order-insensitive multiset fingerprint that lets
callers compare results without holding them.
"""

from __future__ import annotations

import datetime as _dt
import marshal
import math
import sys
from collections import namedtuple
from enum import StrEnum
from itertools import chain as _chain_mod
from itertools import repeat as _repeat

import xxhash

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: see Limits
    from typing import Any


class OutcomeStatus(StrEnum):
    OK = "ok"
    SYNTAX_ERROR = "syntax_error"
    RUNTIME_ERROR = "runtime_error"
    TIMEOUT = "timeout"
    DENIED = "denied"
    TOO_LARGE = "too_large"


_STATUS_OF = {s.value: s for s in OutcomeStatus}

#: CLI exit code for each status (0 only for ok).
EXIT_CODES = {
    OutcomeStatus.OK: 0,
    OutcomeStatus.SYNTAX_ERROR: 3,
    OutcomeStatus.RUNTIME_ERROR: 4,
    OutcomeStatus.TIMEOUT: 5,
    OutcomeStatus.DENIED: 6,
    OutcomeStatus.TOO_LARGE: 7,
}


class Limits(namedtuple("Limits", "timeout_s max_rows max_bytes memory_mb", defaults=(10.0, 100_000, 64 * 1024 * 1024, 1024))):
    """Bounds for one statement: wall time, rows and bytes fetched, engine memory. Immutable and
    hashable; ``limits._replace(timeout_s=...)`` gives a changed copy.

    Like :class:`ExecutionOutcome`, a plain class rather than a dataclass: every worker process
    imports this module, and ``dataclasses`` (with ``inspect`` under it) would add ~12 ms to the
    start of each."""

    __slots__ = ()

    def key(self) -> tuple:
        return (self.timeout_s, self.max_rows, self.max_bytes)

    def to_wire(self) -> tuple:
        """Every field, in order (``Limits(*wire)`` rebuilds it in a worker)."""
        return (self.timeout_s, self.max_rows, self.max_bytes, self.memory_mb)


_OUTCOME_FIELDS = (
    "status", "columns", "rows", "row_count", "fingerprint", "ordered_fingerprint", "message", "elapsed_ms",
    "cached",
)  # fmt: skip


class ExecutionOutcome:
    """The typed result of one statement. ``rows`` is None when the caller asked for fingerprints only.

    Compared field by field, like the dataclass it could be (see :class:`Limits` for why it is not)."""

    __slots__ = _OUTCOME_FIELDS

    def __init__(
        self,
        status: OutcomeStatus,
        columns: list[str] | None = None,
        rows: list[tuple] | None = None,
        row_count: int = 0,
        fingerprint: str | None = None,
        ordered_fingerprint: str | None = None,
        message: str = "",
        elapsed_ms: float = 0.0,
        cached: bool = False,
    ):
        self.status = status
        self.columns = [] if columns is None else columns
        self.rows = rows
        self.row_count = row_count
        self.fingerprint = fingerprint
        self.ordered_fingerprint = ordered_fingerprint
        self.message = message
        self.elapsed_ms = elapsed_ms
        self.cached = cached

    def _fields(self) -> tuple:
        return tuple(getattr(self, name) for name in _OUTCOME_FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __getstate__(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _OUTCOME_FIELDS}

    def __setstate__(self, state: Any) -> None:
        # A dict: this class's own pickles, and those of the dataclass it used to be (result caches
        # written by earlier versions hold them); (None, slots) is the default form for slots.
        if isinstance(state, tuple) and len(state) == 2:
            state = {**(state[0] or {}), **(state[1] or {})}
        self.__init__(**{name: state[name] for name in _OUTCOME_FIELDS if name in state})

    def __repr__(self) -> str:
        return "ExecutionOutcome(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in _OUTCOME_FIELDS) + ")"

    @property
    def ok(self) -> bool:
        return self.status is OutcomeStatus.OK

    def copy(self, cached: bool | None = None) -> ExecutionOutcome:
        """A shallow copy (``cached`` replaced when given), built directly: ``dataclasses.replace``
        costs several times more, and the Executor copies once per deduplicated or stored outcome."""
        return ExecutionOutcome(
            self.status, self.columns, self.rows, self.row_count, self.fingerprint, self.ordered_fingerprint,
            self.message, self.elapsed_ms, self.cached if cached is None else cached,
        )  # fmt: skip

    def to_wire(self) -> tuple:
        """A plain tuple for the pipe between worker and pool: cheaper to pickle than the object."""
        return (
            self.status.value, self.columns, self.rows, self.row_count, self.fingerprint,
            self.ordered_fingerprint, self.message, self.elapsed_ms,
        )  # fmt: skip

    @classmethod
    def from_wire(cls, wire: tuple) -> ExecutionOutcome:
        return cls(_STATUS_OF[wire[0]], *wire[1:])

    def to_json(self, with_rows: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "status": self.status.value,
            "columns": list(self.columns),
            "row_count": self.row_count,
            "fingerprint": self.fingerprint,
            "ordered_fingerprint": self.ordered_fingerprint,
            "message": self.message,
            "elapsed_ms": round(self.elapsed_ms, 3),
        }
        if with_rows and self.rows is not None:
            data["rows"] = [[json_value(v) for v in row] for row in self.rows]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExecutionOutcome:
        rows = data.get("rows")
        return cls(
            status=OutcomeStatus(data["status"]),
            columns=list(data.get("columns", [])),
            rows=[tuple(r) for r in rows] if rows is not None else None,
            row_count=int(data.get("row_count", 0)),
            fingerprint=data.get("fingerprint"),
            ordered_fingerprint=data.get("ordered_fingerprint"),
            message=data.get("message", ""),
            elapsed_ms=float(data.get("elapsed_ms", 0.0)),
        )


def canonical_value(value: Any) -> Any:
    """Map engine-specific Python values onto one comparable form.

    Integral floats and Decimals become ints (so ``1 == 1.0`` as in Python's tuple equality, which the
    public evaluators rely on), other Decimals become floats, temporal values ISO strings, bytes stay
    bytes, strings stay strings (``'1' != 1``), every NaN becomes ``math.nan``.
    """
    kind = type(value)
    if value is None or kind is str or kind is bytes:
        return value
    if isinstance(value, int):  # bool and other subclasses become plain ints
        return value if kind is int else int(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2**63:
            return int(value)
        return float(value) if value == value else math.nan  # one NaN, whatever its sign and payload
    decimal = sys.modules.get("decimal")  # no Decimal can exist before someone imports decimal
    if decimal is not None and isinstance(value, decimal.Decimal):
        if value.is_finite() and value == value.to_integral_value():
            return int(value)
        return float(value)
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, _dt.datetime) else value.isoformat()
    if isinstance(value, _dt.timedelta):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return str.__str__(value)  # a plain copy of a subclass's text
    return str(value)  # UUIDs, network addresses, ranges...: their text


def canonical_row(row: tuple) -> tuple:
    return tuple(canonical_value(v) for v in row)


def json_value(value: Any) -> Any:
    """A JSON-safe form of a canonical value (bytes as hex with a prefix, NaN/inf as strings)."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


_PLAIN_TYPES = frozenset({int, str, bytes, type(None)})
_chain = _chain_mod.from_iterable
_TUPLE_ONLY = frozenset({tuple})


def _canonical_row_fast(row) -> tuple:
    # The common mixed case (ints, strs, floats, NULLs) without a function call per value.
    return tuple(
        [
            (int(v) if v.is_integer() and -9.2e18 < v < 9.2e18 else (v if v == v else math.nan))
            if type(v) is float
            else (v if type(v) in _PLAIN_TYPES else canonical_value(v))
            for v in row
        ]
    )


def canonical_rows(rows: list) -> list[tuple]:
    """canonical_row over many rows, skipping rows that are already canonical (the common case)."""
    plain = _PLAIN_TYPES.issuperset
    # One C-level pass over every value first: most chunks hold only ints, strings and NULLs.
    if _TUPLE_ONLY.issuperset(map(type, rows)) and plain(map(type, _chain(rows))):
        return rows
    return [r if type(r) is tuple and plain(map(type, r)) else _canonical_row_fast(r) for r in rows]


#: Bumped whenever fingerprints are computed differently, so caches keyed with it never mix versions.
FINGERPRINT_VERSION = 3

_encode_row = marshal.dumps
_h128 = xxhash.xxh3_128_hexdigest
_h64 = xxhash.xxh3_64_hexdigest


class Fingerprinter:
    """Fingerprints of canonical rows: an order-insensitive multiset hash and an ordered one.

    A row's byte form is ``marshal`` version 2 of the canonical tuple: type-tagged (``'1'`` and
    ``1`` differ, and canonical rows already map ``1.0`` to ``1`` and every NaN to one NaN),
    self-delimiting, without back-references, and several times cheaper than ``repr``. The multiset
    hash is xxh3-128 of the sorted row encodings, so results with the same rows in any order and the
    same multiplicities share it; the ordered hash is xxh3-64 of the encodings in order. Encodings are
    held until the end (their total size is what the byte cap bounds).
    """

    __slots__ = ("_reps",)

    def __init__(self) -> None:
        self._reps: list[bytes] = []

    def add_many(self, rows: list[tuple]) -> int:
        """Add canonical rows; returns the size of their encoded form (used for byte caps)."""
        reps = list(map(_encode_row, rows, _repeat(2, len(rows))))
        self._reps += reps
        return sum(map(len, reps))

    def add(self, row: tuple) -> None:
        self.add_many([row])

    def both(self, ncols: int) -> tuple[str, str]:
        """(multiset, ordered) fingerprints."""
        reps = self._reps
        head = f"{ncols}:{len(reps)}:"
        if len(reps) <= 1:
            body = reps[0] if reps else b""
            return head + _h128(body), head + _h64(body)
        ordered = head + _h64(b"".join(reps))
        return head + _h128(b"".join(sorted(reps))), ordered

    def multiset(self, ncols: int) -> str:
        return f"{ncols}:{len(self._reps)}:{_h128(b''.join(sorted(self._reps)))}"

    def ordered(self, ncols: int) -> str:
        return f"{ncols}:{len(self._reps)}:{_h64(b''.join(self._reps))}"


def fingerprint_rows(rows: list[tuple], ncols: int | None = None) -> tuple[str, str]:
    """(multiset, ordered) fingerprints of canonical rows."""
    fp = Fingerprinter()
    fp.add_many(list(rows))
    return fp.both(ncols if ncols is not None else (len(rows[0]) if rows else 0))
