"""Read and write the Spider and BIRD gold and prediction files, and pair predictions with gold.

Gold: Spider's ``dev.json`` (``db_id``, ``question``, ``query``), BIRD's ``dev.json`` (``SQL``,
``evidence``, ``difficulty``, ``question_id``) or a ``SQL<TAB>db_id`` line file (``dev_gold.sql``).
Predictions: one SQL per line, or BIRD's JSON object ``{"0": "SQL\\t----- bird -----\\tdb_id"}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputFormatError

#: separator BIRD writes between a predicted SQL and its db_id
BIRD_SEPARATOR = "\t----- bird -----\t"

#: gold fields that mark a question as infeasible (no SQL answers it), and the value that does so
INFEASIBLE_FIELDS: dict[str, bool] = {
    "feasible": False,
    "is_feasible": False,
    "answerable": False,
    "is_answerable": False,
    "is_impossible": True,
    "impossible": True,
}

_KNOWN_GOLD_FIELDS = {"db_id", "question", "query", "SQL", "sql", "evidence", "difficulty", "question_id"}


@dataclass
class GoldExample:
    """One gold question; ``sql`` is None for a question marked infeasible by a field or a null SQL."""

    index: int
    db_id: str
    sql: str | None
    question: str = ""
    evidence: str = ""
    difficulty: str | None = None
    question_id: str | None = None
    feasible: bool = True
    #: other fields of the gold record, kept for lossless round trips
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Prediction:
    """One predicted SQL as read from a file; ``sql`` is None when the file held a non-string value."""

    sql: str | None
    key: str | None = None
    db_id: str | None = None
    #: the line or JSON value before any cutting
    raw: str | None = None
    #: position in the file (0-based)
    position: int = 0


# ------------------------------------------------------------------------------------------------
# Gold
# ------------------------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    path = Path(path)
    if not path.is_file():
        raise InputFormatError(f"{path} does not exist or is not a file")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFormatError(f"{path} is not UTF-8 text: {exc}") from None


def _lines(text: str) -> list[str]:
    """Lines of a text file: the empty string after a final newline is not a line; CR is dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def _looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("[", "{")


def read_gold(path: str | Path) -> list[GoldExample]:
    """Read a gold file in any supported form: a Spider or BIRD JSON list, or ``SQL<TAB>db_id`` lines."""
    path = Path(path)
    text = _read_text(path)
    if _looks_like_json(text):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputFormatError(f"{path} is not valid JSON: {exc}") from None
        return gold_from_records(data, source=str(path))
    return gold_from_lines(_lines(text), source=str(path))


# Spider and BIRD gold files are read the same way; the names say what the caller expects.
read_spider_gold = read_gold
read_bird_gold = read_gold


def gold_from_records(data: Any, source: str = "gold") -> list[GoldExample]:
    """Gold examples from a parsed JSON list of Spider or BIRD records."""
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise InputFormatError(f"{source}: expected a JSON list of gold records, found {type(data).__name__}")
    out = []
    for i, rec in enumerate(data):
        if not isinstance(rec, dict):
            raise InputFormatError(f"{source}: record {i} is a {type(rec).__name__}, expected an object")
        if "db_id" not in rec:
            raise InputFormatError(f"{source}: record {i} has no 'db_id' field")
        sql_field = next((f for f in ("query", "SQL", "sql") if f in rec), None)
        if sql_field is None:
            raise InputFormatError(f"{source}: record {i} has none of the SQL fields 'query', 'SQL', 'sql'")
        sql = rec[sql_field]
        if sql is not None and not isinstance(sql, str):
            raise InputFormatError(f"{source}: record {i} field {sql_field!r} is not a string")
        feasible = sql is not None and sql.strip() != ""
        for name, marks_infeasible in INFEASIBLE_FIELDS.items():
            if name in rec and rec[name] is not None and bool(rec[name]) == marks_infeasible:
                feasible = False
        qid = rec.get("question_id")
        known = _KNOWN_GOLD_FIELDS - ({"query", "SQL", "sql"} - {sql_field})
        extra = {k: v for k, v in rec.items() if k not in known}
        # Field names in file order, so that writing the record back is lossless.
        extra["_fields"] = list(rec.keys())
        out.append(
            GoldExample(
                index=i,
                db_id=str(rec["db_id"]),
                sql=sql,
                question=str(rec.get("question") or ""),
                evidence=str(rec.get("evidence") or ""),
                difficulty=str(rec["difficulty"]) if rec.get("difficulty") is not None else None,
                question_id=str(qid) if qid is not None else None,
                feasible=feasible,
                extra=extra,
            )
        )
    return out


def gold_from_lines(lines: Sequence[str], source: str = "gold") -> list[GoldExample]:
    """Gold examples from ``SQL<TAB>db_id`` lines (blank lines are skipped: Spider's turn separators)."""
    out = []
    for lineno, line in enumerate(lines, 1):
        s = line.strip()
        if not s:
            continue
        if "\t" not in s:
            raise InputFormatError(f"{source}:{lineno}: expected 'SQL<TAB>db_id', found no TAB")
        sql, db_id = s.rsplit("\t", 1)
        out.append(GoldExample(index=len(out), db_id=db_id.strip(), sql=sql.strip()))
    return out


def gold_to_record(ex: GoldExample, style: str = "spider") -> dict[str, Any]:
    """The JSON record of one gold example: the fields it was read with, in their order, or for a new
    example Spider's (``db_id``, ``question``, ``query``) or BIRD's layout."""
    extra = {k: v for k, v in ex.extra.items() if not k.startswith("_")}
    fields = ex.extra.get("_fields")
    if fields is None:
        if style == "bird":
            fields = ["question_id", "db_id", "question", "evidence", "SQL", "difficulty"]
        else:
            fields = ["db_id", "question", "query"] + (["evidence"] if ex.evidence else [])
        fields = [f for f in fields if not (f in ("question_id", "difficulty") and getattr(ex, f) is None)]
        fields += list(extra)
    qid: Any = ex.question_id
    if qid is not None and qid.lstrip("-").isdigit():
        qid = int(qid)
    known = {
        "db_id": ex.db_id, "question": ex.question, "evidence": ex.evidence, "difficulty": ex.difficulty,
        "question_id": qid, "query": ex.sql, "SQL": ex.sql, "sql": ex.sql,
    }  # fmt: skip
    # A field other than the SQL one with a known name (Spider's "sql" parse tree) stays as read.
    return {f: (extra[f] if f in extra else known.get(f)) for f in fields}


def write_gold(path: str | Path, examples: Iterable[GoldExample], style: str = "spider") -> None:
    """Write gold as a JSON list (``.json``) or as ``SQL<TAB>db_id`` lines (any other suffix)."""
    path = Path(path)
    examples = list(examples)
    if path.suffix.lower() == ".json":
        path.write_text(
            json.dumps([gold_to_record(e, style) for e in examples], indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    else:
        path.write_text("".join(f"{_one_line(e.sql or '')}\t{e.db_id}\n" for e in examples), encoding="utf-8")


def write_spider_gold(path: str | Path, examples: Iterable[GoldExample]) -> None:
    write_gold(path, examples, "spider")


def write_bird_gold(path: str | Path, examples: Iterable[GoldExample]) -> None:
    write_gold(path, examples, "bird")


# ------------------------------------------------------------------------------------------------
# Predictions
# ------------------------------------------------------------------------------------------------


def cut_prediction_line(line: str, cut_at_tab: bool = True) -> str:
    """What the Spider test-suite evaluator keeps of a prediction line: the stripped text before the
    first TAB (so ``SQL<TAB>db_id`` lines work, and a TAB inside a query cuts it)."""
    s = line.strip()
    if cut_at_tab:
        s = s.split("\t", 1)[0].strip()
    return s


def predictions_from_lines(lines: Sequence[str], cut_at_tab: bool = True) -> list[Prediction]:
    """One prediction per line, positions as in the file; an empty line is an empty prediction."""
    out = []
    for i, line in enumerate(lines):
        db_id = None
        if "\t" in line.strip():
            db_id = line.strip().rsplit("\t", 1)[1].strip() or None
        out.append(Prediction(sql=cut_prediction_line(line, cut_at_tab), db_id=db_id, raw=line, position=i))
    return out


def split_bird_prediction(value: Any) -> tuple[str | None, str | None]:
    """(sql, db_id) of one BIRD prediction value; a string without the separator is all SQL."""
    if not isinstance(value, str):
        return None, None
    if BIRD_SEPARATOR in value:
        sql, db_id = value.rsplit(BIRD_SEPARATOR, 1)
        return sql, db_id.strip() or None
    return value.strip(), None


def predictions_from_json(data: Any, source: str = "predictions") -> list[Prediction]:
    """Predictions from a BIRD JSON object (keys kept, file order kept) or a JSON list of strings."""
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = [(str(i), v) for i, v in enumerate(data)]
    else:
        raise InputFormatError(
            f"{source}: expected a JSON object or list of predictions, found {type(data).__name__}"
        )
    out = []
    for pos, (key, value) in enumerate(items):
        if isinstance(value, dict):  # {"sql": ..., "db_id": ...} records
            sql_value = next(
                (value[f] for f in ("sql", "SQL", "query", "pred", "prediction") if f in value), None
            )
            sql, db_id = split_bird_prediction(sql_value)
            db_id = value.get("db_id", db_id)
            raw = sql_value if isinstance(sql_value, str) else None
        else:
            sql, db_id = split_bird_prediction(value)
            raw = value if isinstance(value, str) else None
        out.append(Prediction(sql=sql, key=str(key), db_id=db_id, raw=raw, position=pos))
    return out


def read_predictions(path: str | Path, cut_at_tab: bool = True) -> list[Prediction]:
    """Read predictions: a BIRD-style JSON object/list, or one SQL per line (cut at the first TAB)."""
    path = Path(path)
    text = _read_text(path)
    if path.suffix.lower() == ".json" or (text.lstrip()[:1] == "{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if path.suffix.lower() == ".json":
                raise InputFormatError(f"{path} is not valid JSON: {exc}") from None
        else:
            return predictions_from_json(data, source=str(path))
    return predictions_from_lines(_lines(text), cut_at_tab=cut_at_tab)


read_spider_predictions = read_predictions
read_bird_predictions = read_predictions


def _one_line(sql: str) -> str:
    # A newline would shift every later prediction; a TAB would cut the query in the official reader.
    return " ".join(sql.replace("\t", " ").split())


def write_spider_predictions(path: str | Path, sqls: Iterable[str | None]) -> None:
    """One SQL per line (newlines and TABs inside a query become spaces; None becomes an empty line)."""
    Path(path).write_text("".join(_one_line(s or "") + "\n" for s in sqls), encoding="utf-8")


def write_bird_predictions(
    path: str | Path, predictions: Iterable[tuple[str, str | None, str]], indent: int | None = 4
) -> None:
    """BIRD's JSON object from ``(key, sql, db_id)`` triples, keys in the given order."""
    data = {
        str(k): f"{sql if sql is not None else ''}{BIRD_SEPARATOR}{db_id}" for k, sql, db_id in predictions
    }
    Path(path).write_text(json.dumps(data, indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# Pairing
# ------------------------------------------------------------------------------------------------


def pair_by_position(
    gold: Sequence[GoldExample], preds: Sequence[Prediction], source: str = "predictions"
) -> list[Prediction]:
    """Predictions aligned with gold by position; blank lines past the end are tolerated, any other
    count mismatch is an error naming both counts."""
    preds = list(preds)
    while len(preds) > len(gold) and not (preds[-1].sql or "").strip() and preds[-1].key is None:
        preds.pop()
    if len(preds) != len(gold):
        raise InputFormatError(
            f"{source} has {len(preds)} predictions but the gold file has {len(gold)} examples; "
            "predictions must be one per gold example, in the same order"
        )
    return preds


def pair_by_key(
    gold: Sequence[GoldExample], preds: Sequence[Prediction], keys: str = "auto", source: str = "predictions"
) -> list[Prediction]:
    """Predictions matched to gold by their JSON key.

    ``keys``: ``index`` (key = 0-based position in the gold file), ``question_id`` (key = the gold
    record's question_id), or ``auto``: ``index`` when every key is a position in the gold file,
    else ``question_id``. Predictions without keys (line files) fall back to positions.
    """
    if not preds or all(p.key is None for p in preds):
        return pair_by_position(gold, preds, source)
    if keys not in ("auto", "index", "question_id"):
        raise ValueError(f"keys must be auto, index or question_id, not {keys!r}")
    seen: dict[str, Prediction] = {}
    for p in preds:
        k = str(p.key).strip()
        if k in seen:
            raise InputFormatError(f"{source}: key {k!r} appears twice")
        seen[k] = p
    by_index = {str(i): i for i in range(len(gold))}
    by_qid = {g.question_id: i for i, g in enumerate(gold) if g.question_id is not None}
    if keys == "auto":
        keys = "index" if all(k in by_index for k in seen) else "question_id"
    lookup = by_index if keys == "index" else by_qid
    unknown = [k for k in seen if k not in lookup]
    if unknown:
        raise InputFormatError(
            f"{source}: {len(unknown)} prediction keys match no gold example by {keys} "
            f"(first: {', '.join(map(repr, unknown[:5]))}); the gold file has {len(gold)} examples"
        )
    out: list[Prediction | None] = [None] * len(gold)
    for k, p in seen.items():
        out[lookup[k]] = p
    missing = [i for i, p in enumerate(out) if p is None]
    if missing:
        names = [gold[i].question_id if keys == "question_id" else str(i) for i in missing[:5]]
        raise InputFormatError(
            f"{source} has {len(seen)} predictions but the gold file has {len(gold)} examples: "
            f"{len(missing)} gold examples have no prediction (keys {', '.join(map(str, names))}"
            f"{', …' if len(missing) > 5 else ''})"
        )
    return out  # type: ignore[return-value]
