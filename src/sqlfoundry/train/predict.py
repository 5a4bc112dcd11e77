"""Predict SQL for a benchmark's questions with any generator, with execution-based majority voting.

Each question gets the shared prompt (:func:`~sqlfoundry.synth.prompt.build_prompt` over its
database's introspected schema); n sampled candidates are executed and grouped by result (OmniSQL's
self-consistency); the largest group of candidates that run wins, or the model abstains (TrustSQL).
Predictions are written in Spider (one SQL per line) or BIRD (JSON object) format.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..db.outcome import ExecutionOutcome, Limits
from ..errors import InputFormatError, SQLFoundryError
from ..llm.base import Generator, Prompt
from ..synth.prompt import SYSTEM_PROMPT, build_prompt, extract_sql, is_abstention

#: what an abstaining prediction says; ``sqlfoundry eval --abstain-token`` reads it by default
ABSTAIN_TOKEN = "null"
#: default share of all candidates the winning result group must hold when abstention is on
DEFAULT_MIN_AGREEMENT = 0.5


class PredictError(SQLFoundryError):
    """Prediction cannot run: missing database, bad option combination, unreadable input."""


# ------------------------------------------------------------------------------------------------
# Questions
# ------------------------------------------------------------------------------------------------


@dataclass
class Question:
    """One question to answer: position in the input, database, text, optional BIRD evidence."""

    index: int
    db_id: str
    question: str
    evidence: str = ""
    dialect: str | None = None
    #: the record id or BIRD question_id, for reports
    key: str | None = None


def read_questions(path: str | os.PathLike) -> list[Question]:
    """Questions from a Spider/BIRD gold JSON list or a records JSONL file (``sqlfoundry synth`` output)."""
    path = Path(path)
    if not path.is_file():
        raise InputFormatError(f"{path} does not exist or is not a file")
    with path.open(encoding="utf-8-sig") as fh:
        head = fh.read(1 << 16).lstrip()
    first_line = head.split("\n", 1)[0].strip()
    if path.suffix.lower() == ".jsonl" or (
        first_line.startswith("{") and first_line.endswith("}") and '"id"' in first_line
    ):
        from ..records import read_jsonl

        return [
            Question(i, r.db_id, r.question, r.evidence or "", r.dialect, r.id)
            for i, r in enumerate(read_jsonl(path))
        ]
    from ..eval.formats import read_gold

    gold = read_gold(path)
    if gold and not any(g.question for g in gold):
        raise InputFormatError(
            f"{path} holds no questions ('SQL<TAB>db_id' lines?): predict needs the JSON gold file "
            "(Spider dev.json / BIRD dev.json) or records JSONL"
        )
    return [Question(g.index, g.db_id, g.question, g.evidence, None, g.question_id) for g in gold]


# ------------------------------------------------------------------------------------------------
# Databases and prompts
# ------------------------------------------------------------------------------------------------


class DatabaseCatalog:
    """Where each db_id lives and its schema, introspected once per database.

    ``db_dir`` uses the Spider/BIRD layout ``<db_dir>/<db_id>/<db_id>.sqlite`` (``<db_dir>/<db_id>.sqlite``
    also works); ``db_url`` answers every question on one database whatever its db_id.
    """

    def __init__(self, db_dir: str | os.PathLike | None = None, db_url: str | None = None):
        if (db_dir is None) == (db_url is None):
            raise PredictError("give exactly one of a database directory (--db-dir) or a database URL (--db)")
        self.db_dir = Path(db_dir) if db_dir is not None else None
        self.db_url = db_url
        self._schemas: dict[str, Any] = {}

    def url(self, db_id: str) -> str:
        if self.db_url is not None:
            return self.db_url
        assert self.db_dir is not None
        for candidate in (self.db_dir / db_id / f"{db_id}.sqlite", self.db_dir / f"{db_id}.sqlite"):
            if candidate.is_file():
                return "sqlite:///" + str(candidate.resolve())
        raise PredictError(
            f"no database for db_id {db_id!r}: expected {self.db_dir / db_id / (db_id + '.sqlite')}"
        )

    def dialect(self, db_id: str) -> str:
        from ..db.url import parse_url

        return parse_url(self.url(db_id)).engine

    def schema(self, db_id: str) -> Any:
        if db_id not in self._schemas:
            from ..db.connectors import connector_for
            from ..db.schema import introspect

            with connector_for(self.url(db_id)) as connector:
                self._schemas[db_id] = introspect(connector, db_id=db_id)
        return self._schemas[db_id]


#: written beside a fine-tuned model's weights: the :func:`build_prompt` options it was trained with
PROMPT_OPTIONS_FILE = "sqlfoundry_prompt.json"
#: the :func:`build_prompt` keyword options a checkpoint may record
PROMPT_OPTION_NAMES = ("with_samples", "compact", "with_schema")


def write_prompt_options(model_dir: str | os.PathLike, options: dict[str, bool]) -> Path:
    """Record the prompt options a model was trained with in ``<model_dir>/``:data:`PROMPT_OPTIONS_FILE`."""
    unknown = sorted(set(options) - set(PROMPT_OPTION_NAMES))
    if unknown:
        raise PredictError(f"unknown prompt options {unknown}: expected some of {list(PROMPT_OPTION_NAMES)}")
    path = Path(model_dir) / PROMPT_OPTIONS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: bool(v) for k, v in options.items()}, indent=2) + "\n", encoding="utf-8")
    return path


def read_prompt_options(model_dir: str | os.PathLike | None) -> dict[str, bool]:
    """The prompt options recorded in a checkpoint directory (see :func:`write_prompt_options`); none
    (the full prompt) for a model name, a directory without the file, or None."""
    if model_dir is None:
        return {}
    path = Path(model_dir) / PROMPT_OPTIONS_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise PredictError(f"{path} is not valid JSON ({exc}): rewrite it or delete it") from None
    if not isinstance(data, dict) or not set(data) <= set(PROMPT_OPTION_NAMES):
        raise PredictError(f"{path} must be a JSON object with some of the keys {list(PROMPT_OPTION_NAMES)}")
    return {k: bool(v) for k, v in data.items()}


def question_messages(
    question: Question,
    catalog: DatabaseCatalog,
    *,
    with_samples: bool = True,
    compact: bool = False,
    with_schema: bool = True,
) -> list[dict[str, str]]:
    """The system and user messages for one question: the same ones training data is written with
    (``with_samples``/``compact``/``with_schema``: the options the model was trained with)."""
    dialect = question.dialect or catalog.dialect(question.db_id)
    user = build_prompt(
        catalog.schema(question.db_id) if with_schema else "",
        question.question,
        question.evidence or None,
        dialect,
        with_samples=with_samples,
        compact=compact,
        with_schema=with_schema,
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


# ------------------------------------------------------------------------------------------------
# Voting
# ------------------------------------------------------------------------------------------------


@dataclass
class Candidate:
    """One sampled answer: the raw completion, the SQL in it (None if none), whether it abstains."""

    text: str
    sql: str | None
    abstains: bool = False
    #: mean token log-probability under the model, when the backend reports it
    logprob: float | None = None

    @classmethod
    def from_completion(cls, text: str, logprob: float | None = None, dialect: str = "sqlite") -> Candidate:
        sql = extract_sql(text, dialect)
        return cls(text=text, sql=sql, abstains=sql is None and is_abstention(text), logprob=logprob)


@dataclass
class Vote:
    """The chosen prediction: ``sql`` None when abstaining (or when there is nothing to choose)."""

    sql: str | None
    abstained: bool
    #: candidates in the winning result group
    votes: int
    #: candidates that executed successfully, and all candidates
    n_ok: int
    n: int
    #: candidates that answered with the abstention sentence
    n_abstain: int = 0
    reason: str = ""


def vote(
    candidates: Sequence[Candidate | str | None],
    outcomes: Sequence[ExecutionOutcome | None],
    abstain: bool = False,
    min_agreement: float = DEFAULT_MIN_AGREEMENT,
) -> Vote:
    """Execution-based majority vote over one question's candidates (OmniSQL self-consistency).

    Candidates whose SQL executed successfully are grouped by result fingerprint (order-insensitive
    multiset of rows); the largest group wins. Ties go to the group with the highest mean log-prob
    when every member has one, else to the group seen first. The group's representative is its member
    with the highest log-prob, else its first member. ``outcomes[i]`` is the execution outcome of
    ``candidates[i]`` (None for a candidate without SQL).

    With ``abstain`` the vote abstains when no candidate executed, when more candidates answered with
    the abstention sentence than the winning group holds, or when the winning group holds fewer than
    ``min_agreement`` × all candidates. Without it, a question where nothing executed keeps the first
    candidate's SQL (so it is scored as wrong, not skipped), or None when no candidate held SQL.
    """
    cands = [_as_candidate(c) for c in candidates]
    if len(outcomes) != len(cands):
        raise ValueError(f"{len(cands)} candidates but {len(outcomes)} outcomes")
    n = len(cands)
    n_abstain = sum(c.abstains for c in cands)
    groups: dict[Any, list[int]] = {}
    for i, (cand, outcome) in enumerate(zip(cands, outcomes, strict=True)):
        if cand.sql is None or outcome is None or not outcome.ok:
            continue
        key = outcome.fingerprint if outcome.fingerprint is not None else ("sql", cand.sql)
        groups.setdefault(key, []).append(i)
    n_ok = sum(len(g) for g in groups.values())
    if not groups:
        if abstain:
            reason = "every candidate abstained" if n_abstain == n and n else "no candidate executed"
            return Vote(None, True, 0, 0, n, n_abstain, reason)
        first = next((c.sql for c in cands if c.sql), None)
        reason = "no candidate executed; first SQL kept" if first else "no candidate held SQL"
        return Vote(first, False, 0, 0, n, n_abstain, reason)

    def rank(item: tuple[int, list[int]]) -> tuple:
        order, members = item
        scores = [cands[i].logprob for i in members]
        mean = sum(scores) / len(scores) if all(s is not None for s in scores) else float("-inf")
        return (len(members), mean, -order)

    _, best = max(enumerate(groups.values()), key=rank)
    votes = len(best)
    if all(cands[i].logprob is not None for i in best):
        chosen = max(best, key=lambda i: (cands[i].logprob, -i))
    else:
        chosen = best[0]
    sql = cands[chosen].sql
    if abstain:
        if n_abstain > votes:
            return Vote(None, True, votes, n_ok, n, n_abstain, f"{n_abstain} of {n} candidates abstain")
        if votes < min_agreement * n:
            return Vote(
                None, True, votes, n_ok, n, n_abstain,
                f"largest result group holds {votes} of {n} candidates, below {min_agreement:g}",
            )  # fmt: skip
    return Vote(sql, False, votes, n_ok, n, n_abstain, f"{votes} of {n} candidates agree")


def _as_candidate(c: Candidate | str | None) -> Candidate:
    if isinstance(c, Candidate):
        return c
    return Candidate(text=c or "", sql=c or None)


# ------------------------------------------------------------------------------------------------
# Prediction
# ------------------------------------------------------------------------------------------------


@dataclass
class PredictConfig:
    """All options of a prediction run (the CLI's flags)."""

    gold: Path
    out: Path
    #: a model name or checkpoint path for the local backend (ignored when ``llm_url`` is set)
    model: str | None = None
    db_dir: Path | None = None
    db_url: str | None = None
    #: candidates per question; more than one turns on execution-based voting
    n: int = 1
    temperature: float = 0.8
    max_tokens: int = 512
    #: ``spider`` (one SQL per line) or ``bird`` (JSON object); None: ``bird`` for a ``.json`` output
    format: str | None = None
    abstain: bool = False
    min_agreement: float = DEFAULT_MIN_AGREEMENT
    abstain_token: str = ABSTAIN_TOKEN
    lora: Path | None = None
    llm_url: str | None = None
    llm_model: str | None = None
    seed: int = 0
    #: questions generated (and executed) together
    chunk_size: int = 16
    batch_size: int = 8
    timeout_s: float = 30.0
    workers: int | None = None
    limit: int | None = None
    resume: bool = False
    #: :func:`build_prompt` options (``with_samples``, ``compact``, ``with_schema``); None: the ones
    #: recorded in the checkpoint (``--lora`` adapter, else ``model`` directory), else the full prompt
    prompt_options: dict[str, bool] | None = None

    def resolved_prompt_options(self) -> dict[str, bool]:
        """The prompt options this run prompts with (see ``prompt_options``)."""
        if self.prompt_options is not None:
            return dict(self.prompt_options)
        if self.llm_url:
            return {}
        for where in (self.lora, self.model):
            if where is not None and Path(where).is_dir():
                options = read_prompt_options(where)
                if options:
                    return options
        return {}

    @property
    def output_format(self) -> str:
        fmt = (self.format or ("bird" if Path(self.out).suffix.lower() == ".json" else "spider")).lower()
        if fmt not in ("spider", "bird"):
            raise PredictError(f"format must be spider or bird, not {fmt!r}")
        return fmt

    @property
    def votes_path(self) -> Path:
        """Per-question candidates and votes, one JSON line each: the resume checkpoint too."""
        out = Path(self.out)
        return out.with_name(out.name + ".votes.jsonl")


@dataclass
class PredictResult:
    out: Path
    format: str
    n_questions: int
    n_abstained: int
    n_no_sql: int
    resumed: int
    generator: str
    usage: dict[str, Any] = field(default_factory=dict)


def make_generator(config: PredictConfig, corpus: Sequence[str] = ()) -> Generator:
    """The generator a config asks for: an endpoint (``llm_url``) or a local transformers model."""
    if config.llm_url:
        from ..llm.base import load_generator

        if not config.llm_model:
            raise PredictError("--llm-url needs --llm-model (the model id the server serves)")
        return load_generator("endpoint", base_url=config.llm_url, model=config.llm_model)
    if not config.model:
        raise PredictError("give a model (--model tiny|smollm2-135m|PATH) or an endpoint (--llm-url)")
    from ..llm.local import TransformersGenerator

    options: dict[str, Any] = {}
    if config.model.strip().lower() == "tiny":
        options["corpus"] = list(corpus)  # an untrained tiny model: a plumbing check, not a predictor
    return TransformersGenerator(config.model, lora_path=config.lora, batch_size=config.batch_size, **options)


def predict(
    config: PredictConfig,
    generator: Generator | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PredictResult:
    """Answer every question of ``config.gold`` and write ``config.out``; see the module docstring.

    ``progress(done, total)`` is called after each chunk. With ``config.resume`` the questions already
    in the votes file (``<out>.votes.jsonl``) are not asked again.
    """
    fmt = config.output_format
    if config.n < 1:
        raise PredictError(f"n must be at least 1, got {config.n}")
    questions = read_questions(config.gold)
    if config.limit is not None:
        questions = questions[: config.limit]
    catalog = DatabaseCatalog(config.db_dir, config.db_url)
    for db_id in sorted({q.db_id for q in questions}):
        catalog.url(db_id)  # fail before any model work when a database is missing

    done = _read_votes(config.votes_path) if config.resume else {}
    done = {i: row for i, row in done.items() if i < len(questions)}
    todo = [q for q in questions if q.index not in done]
    prompt_options = config.resolved_prompt_options()
    if generator is None:
        corpus = [m["content"] for q in todo[:64] for m in question_messages(q, catalog, **prompt_options)]
        generator = make_generator(config, corpus)

    from ..db.executor import Executor

    limits = Limits(timeout_s=config.timeout_s)
    workers = config.workers if config.workers is not None else min(2, os.cpu_count() or 1)
    config.votes_path.parent.mkdir(parents=True, exist_ok=True)
    mode = "a" if config.resume else "w"
    if config.resume:
        _drop_torn_line(config.votes_path)
    total = len(questions)
    if progress is not None:
        progress(len(done), total)
    with (
        Executor(workers=workers, limits=limits, cache=False) as executor,
        config.votes_path.open(mode, encoding="utf-8") as votes_fh,
    ):
        for start in range(0, len(todo), max(1, config.chunk_size)):
            chunk = todo[start : start + config.chunk_size]
            prompts: list[Prompt] = [question_messages(q, catalog, **prompt_options) for q in chunk]
            seed = config.seed + chunk[0].index
            candidates = _generate(generator, prompts, config, seed)
            for q, cands in zip(chunk, candidates, strict=True):
                dialect = q.dialect or catalog.dialect(q.db_id)
                cands[:] = [Candidate.from_completion(c.text, c.logprob, dialect) for c in cands]
            outcomes = _execute(executor, chunk, candidates, catalog, limits, config)
            for q, cands, outs in zip(chunk, candidates, outcomes, strict=True):
                v = vote(cands, outs, abstain=config.abstain, min_agreement=config.min_agreement)
                row = {
                    "index": q.index,
                    "db_id": q.db_id,
                    "key": q.key,
                    **asdict(v),
                    "candidates": [
                        {
                            "sql": c.sql,
                            "abstains": c.abstains,
                            "logprob": c.logprob,
                            "status": o.status.value if o is not None else None,
                            "fingerprint": o.fingerprint if o is not None else None,
                        }
                        for c, o in zip(cands, outs, strict=True)
                    ],
                }
                done[q.index] = row
                votes_fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            votes_fh.flush()
            os.fsync(votes_fh.fileno())
            if progress is not None:
                progress(len(done), total)

    resumed = total - len(todo)
    sqls: list[str] = []
    n_abstained = n_no_sql = 0
    for q in questions:
        row = done[q.index]
        if row["abstained"]:
            n_abstained += 1
            sqls.append(config.abstain_token)
        elif row["sql"] is None:
            n_no_sql += 1
            sqls.append("")
        else:
            sqls.append(row["sql"])
    write_predictions(config.out, fmt, sqls, [q.db_id for q in questions])
    return PredictResult(
        out=Path(config.out),
        format=fmt,
        n_questions=total,
        n_abstained=n_abstained,
        n_no_sql=n_no_sql,
        resumed=resumed,
        generator=getattr(generator, "name", type(generator).__name__),
        usage=generator.usage.to_dict() if hasattr(generator, "usage") else {},
    )


def write_predictions(path: str | os.PathLike, fmt: str, sqls: Sequence[str], db_ids: Sequence[str]) -> None:
    """Write predictions aligned with the questions: Spider lines or BIRD's ``{"0": "SQL\\t----- bird
    -----\\tdb_id"}`` object; atomically (a temporary file renamed into place)."""
    from ..eval.formats import write_bird_predictions, write_spider_predictions

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if fmt == "bird":
        # one line per query, as BIRD's own files are
        write_bird_predictions(
            tmp, [(str(i), " ".join(s.split()), d) for i, (s, d) in enumerate(zip(sqls, db_ids, strict=True))]
        )
    else:
        write_spider_predictions(tmp, sqls)
    os.replace(tmp, path)


def _generate(
    generator: Generator, prompts: list[Prompt], config: PredictConfig, seed: int
) -> list[list[Candidate]]:
    args = dict(n=config.n, temperature=config.temperature, max_tokens=config.max_tokens, seed=seed)
    scored = getattr(generator, "generate_scored", None)
    if callable(scored):
        rows = scored(prompts, **args)
        return [[Candidate(text, None, logprob=lp) for text, lp in row] for row in rows]
    rows = generator.generate(prompts, **args)
    if len(rows) != len(prompts):
        raise PredictError(
            f"generator {getattr(generator, 'name', '?')} answered {len(rows)} of {len(prompts)} prompts"
        )
    return [[Candidate(text, None) for text in row] for row in rows]


def _execute(
    executor: Any,
    questions: Sequence[Question],
    candidates: Sequence[Sequence[Candidate]],
    catalog: DatabaseCatalog,
    limits: Limits,
    config: PredictConfig,
) -> list[list[ExecutionOutcome | None]]:
    """Outcomes of every candidate's SQL, in one executor batch; a lone candidate is only executed
    when abstention needs to know whether it runs."""
    from ..db.executor import Query

    need = config.n > 1 or config.abstain
    queries: list[Query] = []
    where: list[tuple[int, int]] = []
    for qi, (q, cands) in enumerate(zip(questions, candidates, strict=True)):
        for ci, c in enumerate(cands):
            if need and c.sql:
                queries.append(Query(catalog.url(q.db_id), c.sql, limits, keep_rows=False, cache=False))
                where.append((qi, ci))
    out: list[list[ExecutionOutcome | None]] = [[None] * len(c) for c in candidates]
    if not need:
        # nothing to choose between: pretend the one candidate ran, so vote() keeps it
        for qi, cands in enumerate(candidates):
            out[qi] = [_UNCHECKED if c.sql else None for c in cands]
        return out
    for (qi, ci), outcome in zip(where, executor.run_batch(queries), strict=True):
        out[qi][ci] = outcome
    return out


def _unchecked() -> ExecutionOutcome:
    from ..db.outcome import OutcomeStatus

    return ExecutionOutcome(status=OutcomeStatus.OK, fingerprint=None)


_UNCHECKED = _unchecked()


def _read_votes(path: Path) -> dict[int, dict[str, Any]]:
    rows: dict[int, dict[str, Any]] = {}
    if not path.is_file():
        return rows
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
            rows[int(row["index"])] = row
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line from an interrupted run
    return rows


def _drop_torn_line(path: Path) -> None:
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as fh:
            fh.truncate(data.rfind(b"\n") + 1)


__all__ = [
    "ABSTAIN_TOKEN",
    "Candidate",
    "DatabaseCatalog",
    "PredictConfig",
    "PredictError",
    "PROMPT_OPTIONS_FILE",
    "PredictResult",
    "Question",
    "make_generator",
    "predict",
    "question_messages",
    "read_prompt_options",
    "read_questions",
    "vote",
    "write_predictions",
    "write_prompt_options",
]
