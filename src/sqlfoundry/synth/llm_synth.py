"""LLM realizers: back-translate SQL into questions in OmniSQL's nine styles (consistency-selected), and
write chain-of-thought solutions kept only when a majority of sampled answers agree with the gold SQL
by execution (Orca / Distilling step-by-step rationales, verified).

:class:`LLMSynthesizer` is the one entry point the synthesis pipeline calls.
"""

from __future__ import annotations

import dataclasses
import random
import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..db.executor import Executor, Query
from ..db.outcome import ExecutionOutcome
from ..db.schema import schema_to_ddl
from ..db.schema_model import Schema
from ..llm.base import Generator, Usage
from ..sql.compare import gold_orders_rows
from ..sql.normalize import normalize_sql
from .prompt import DIALECT_NAMES, SYSTEM_PROMPT, build_prompt, extract_sql
from .types import Realization, UnsupportedSQL

#: questions remembered per SQL for :meth:`LLMSynthesizer.rationale_for_sql`
_MAX_REMEMBERED = 10_000

# ------------------------------------------------------------------------------------------------
# Styles (OmniSQL, "Stylized natural language question synthesis")
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionStyle:
    name: str
    description: str
    example: str
    #: the style leans on domain knowledge the schema does not state: ask for BIRD-style evidence
    wants_evidence: bool = False
    #: the "question" is a short user/assistant dialogue whose last user turn the SQL answers
    dialogue: bool = False


#: OmniSQL's nine question styles, in the paper's order
LLM_STYLES: dict[str, QuestionStyle] = {
    s.name: s
    for s in (
        QuestionStyle("formal", "standard grammar and vocabulary, precise and neutral",
                      "Find all students older than 18 and return their names and home addresses."),
        QuestionStyle("colloquial", "informal, everyday vocabulary and expressions",
                      "Hey, could you dig up the students who are over 18? I'd love their names and where they live."),
        QuestionStyle("imperative", "a command or directive sentence",
                      "List the names and home addresses of every student older than 18."),
        QuestionStyle("interrogative", "a direct question",
                      "Which students are older than 18, and what are their names and home addresses?"),
        QuestionStyle("descriptive", "rich, detailed phrasing that explains the need and the context",
                      "For the upcoming mailing to adult learners, I need the names and home addresses of all "
                      "students whose age is above 18."),
        QuestionStyle("concise", "as few words as possible while keeping every requirement",
                      "Names and addresses of students over 18?"),
        QuestionStyle("vague", "ambiguous, everyday wording; domain words stand for precise conditions",
                      "Who are the grown-up students, and where do they live?", wants_evidence=True),
        QuestionStyle("metaphorical", "figurative language or metaphors for the conditions",
                      "Which students have crossed the threshold into adulthood, and where do they call home?",
                      wants_evidence=True),
        QuestionStyle("multi_turn", "a short dialogue between a user and an assistant",
                      "User: I'm looking at our students.\nAssistant: What would you like to know about them?\n"
                      "User: The names and home addresses of those older than 18.", dialogue=True),
    )
}  # fmt: skip

_SYSTEM_QUESTION = (
    "You are a data analyst who explains SQL queries. Given a database schema and a SQL query, you write "
    "the natural-language request that a user of the database would make to get exactly the query's result."
)

_QUESTION_TEMPLATE = """\
Task: write the question that the SQL query below answers, as a user of this database would ask it.

Database engine:
{engine}

Database schema:
{schema}

SQL query:
```sql
{sql}
```

Style: {style_title} — {description}.
Example of this style: {example}

Requirements:
- Ask for exactly what the query returns: every selected column, condition, grouping, ordering and limit, \
and nothing more.
- Use the words a person would use, not raw table or column names; keep literal values as they appear \
in the query.
- Do not write SQL.
{extra}
Output format:
[EXPLANATION-START]
(what the query computes, in one or two sentences)
[EXPLANATION-END]
[QUESTION-START]
({what})
[QUESTION-END]
{evidence_format}"""

_EVIDENCE_EXTRA = (
    "- If the question relies on a meaning that is not obvious from the schema (what a vague or figurative "
    "phrase stands for), state that mapping in one sentence in the external-knowledge block.\n"
)
_DIALOGUE_EXTRA = (
    "- Write 2 to 4 turns, each on its own line starting with 'User:' or 'Assistant:'; the last turn is "
    "the user's, and the whole dialogue together asks for exactly the query's result.\n"
)
_EVIDENCE_FORMAT = "[EXTERNAL-KNOWLEDGE-START]\n(the mapping, or 'none')\n[EXTERNAL-KNOWLEDGE-END]\n"

_REFERENCE_SECTION = """
Reference query (a correct answer, for you only):
```sql
{sql}
```
Explain, step by step and as if solving the question from scratch, how to arrive at a query that returns \
the same result: which tables and columns hold the information, how they join, which conditions, \
grouping and ordering are needed. Never mention that a reference query was given. End with your final \
query in a ```sql block.
"""


def _marker_block(text: str, name: str) -> str | None:
    """The text between ``[NAME-START]`` and ``[NAME-END]`` (the end marker may be missing)."""
    match = re.search(rf"\[{name}-START\](.*?)(?:\[{name}-END\]|\[[A-Z-]+-START\]|$)", text, re.S | re.I)
    return match.group(1).strip() if match else None


_ANY_MARKER = re.compile(r"\[(?:EXPLANATION|QUESTION|EXTERNAL-KNOWLEDGE)-(?:START|END)\]", re.I)


def parse_question(text: str, style: str) -> tuple[str, str | None] | None:
    """(question, evidence) from one back-translation answer, or None when it holds no question.

    Reads the ``[QUESTION-START] … [QUESTION-END]`` block; an answer without any markers counts as the
    bare question when it is short and plain. Evidence is kept only for styles that ask for it.
    """
    if not text or not text.strip():
        return None
    question = _marker_block(text, "QUESTION")
    if question is None:
        if _ANY_MARKER.search(text) or "```" in text or len(text) > 800:
            return None
        question = re.sub(r"^\s*(question|q)\s*:\s*", "", text.strip(), flags=re.I)
    question = question.strip().strip('"').strip()
    if not LLM_STYLES.get(style, LLM_STYLES["formal"]).dialogue:
        question = " ".join(question.split())
    else:
        question = "\n".join(line.strip() for line in question.splitlines() if line.strip())
    evidence = None
    if LLM_STYLES.get(style) is not None and LLM_STYLES[style].wants_evidence:
        ev = _marker_block(text, "EXTERNAL-KNOWLEDGE")
        if ev and ev.strip().strip(".").lower() not in ("none", "n/a", "na", "no", "-", ""):
            evidence = " ".join(ev.split())
    return question, evidence


_SQL_IN_TEXT = re.compile(r"\bselect\b[\s\S]*\bfrom\b", re.I)
_REFUSAL = re.compile(r"^(i'?m sorry|sorry|i cannot|i can'?t|as an ai|i am unable|unfortunately)", re.I)
_WORD = re.compile(r"\w+", re.U)


def degenerate_reason(question: str, style: str) -> str | None:
    """Why a candidate question is unusable (empty, too short/long, SQL, refusal, markup, repetition,
    a "dialogue" without turns), or None when it is fine."""
    words = _WORD.findall(question)
    if not words or not any(ch.isalpha() for ch in question):
        return "empty"
    dialogue = LLM_STYLES.get(style) is not None and LLM_STYLES[style].dialogue
    if len(words) < 3:
        return "too_short"
    if len(words) > (250 if dialogue else 90):
        return "too_long"
    if "```" in question or _SQL_IN_TEXT.search(question):
        return "contains_sql"
    if _ANY_MARKER.search(question) or "(the question" in question.lower():
        return "markup"
    if _REFUSAL.match(question):
        return "refusal"
    lowered = [w.lower() for w in words]
    if len(lowered) >= 12 and len(set(lowered)) / len(lowered) < 0.35:
        return "repetitive"
    if dialogue and not re.search(r"^user\s*:", question, re.I | re.M):
        return "not_dialogue"
    return None


_STOPWORDS = frozenset(
    "a an the of for to in on at by with and or is are was were be been do does did me my i you your we our "
    "what which who whom whose how please could would can show list give find get tell all each every "
    "there their that this those these it its as from".split()
)


def content_tokens(text: str) -> frozenset[str]:
    """Lower-cased word tokens minus common function words (for consistency selection)."""
    tokens = {w.lower() for w in _WORD.findall(text)}
    return frozenset(tokens - _STOPWORDS) or frozenset(tokens)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def select_consistent(
    candidates: Sequence[str],
    rng: random.Random | None = None,
    embed: Callable[[list[str]], Sequence[Sequence[float]]] | None = None,
) -> int:
    """Index of the candidate most similar to the others — the medoid — so a lone outlier (a question
    that drifted from the SQL) is never picked while a majority agrees.

    Similarity is the Jaccard overlap of content-token sets by default. OmniSQL embeds the candidates
    and takes the one closest to the centroid; pass ``embed`` (texts → vectors, e.g. a
    sentence-transformers model's ``encode``) to use cosine similarity instead. Ties go to ``rng``.
    """
    if not candidates:
        raise ValueError("no candidates to select from")
    if len(candidates) == 1:
        return 0
    if embed is not None:
        vectors = [list(map(float, v)) for v in embed(list(candidates))]
        sims = [[_cosine(u, v) for v in vectors] for u in vectors]
    else:
        toks = [content_tokens(c) for c in candidates]
        sims = [[jaccard(a, b) for b in toks] for a in toks]
    n = len(candidates)
    scores = [sum(sims[i][j] for j in range(n) if j != i) / (n - 1) for i in range(n)]
    best = max(scores)
    tied = [i for i, s in enumerate(scores) if abs(s - best) < 1e-12]
    return tied[0] if len(tied) == 1 or rng is None else rng.choice(tied)


def _cosine(u: Sequence[float], v: Sequence[float]) -> float:
    dot = sum(a * b for a, b in zip(u, v, strict=False))
    nu = sum(a * a for a in u) ** 0.5
    nv = sum(b * b for b in v) ** 0.5
    return dot / (nu * nv) if nu and nv else 0.0


def question_prompt(sql: str, schema_ddl: str, style: str, dialect: str = "sqlite") -> list[dict[str, str]]:
    """The chat messages asking for the question ``sql`` answers, in one style."""
    try:
        spec = LLM_STYLES[style]
    except KeyError:
        raise ValueError(f"unknown LLM question style {style!r}: use {', '.join(LLM_STYLES)}") from None
    extra = (_EVIDENCE_EXTRA if spec.wants_evidence else "") + (_DIALOGUE_EXTRA if spec.dialogue else "")
    user = _QUESTION_TEMPLATE.format(
        engine=DIALECT_NAMES.get(dialect, dialect),
        schema=schema_ddl.rstrip("\n"),
        sql=sql.strip().rstrip(";"),
        style_title=spec.name.replace("_", "-").capitalize(),
        description=spec.description,
        example=spec.example.replace("\n", " / "),
        extra=extra,
        what="the dialogue" if spec.dialogue else "the question",
        evidence_format=_EVIDENCE_FORMAT if spec.wants_evidence else "",
    )
    return [{"role": "system", "content": _SYSTEM_QUESTION}, {"role": "user", "content": user}]


def _schema_ddl(schema: Schema | str) -> str:
    return schema if isinstance(schema, str) else schema_to_ddl(schema, with_samples=True)


def llm_questions_batch(
    sqls: Sequence[str],
    schema: Schema | str,
    generator: Generator,
    styles: Sequence[str] = tuple(LLM_STYLES),
    samples: int = 3,
    rng: random.Random | None = None,
    *,
    dialect: str = "sqlite",
    temperature: float = 0.8,
    max_tokens: int = 512,
    stats: Counter | None = None,
    embed: Callable[[list[str]], Sequence[Sequence[float]]] | None = None,
) -> list[list[Realization]]:
    """:func:`llm_questions` for many statements in one :meth:`Generator.generate` call."""
    if samples < 1:
        raise ValueError("samples must be >= 1")
    rng = rng or random.Random(0)
    stats = stats if stats is not None else Counter()
    ddl = _schema_ddl(schema)
    jobs = [(i, style) for i in range(len(sqls)) for style in styles]
    prompts = [question_prompt(sqls[i], ddl, style, dialect) for i, style in jobs]
    if not prompts:
        return [[] for _ in sqls]
    answers = generator.generate(
        prompts, n=samples, temperature=temperature, max_tokens=max_tokens, seed=rng.randrange(2**31)
    )
    out: list[list[Realization]] = [[] for _ in sqls]
    for (i, style), texts in zip(jobs, answers, strict=True):
        stats["question_prompts"] += 1
        kept: list[tuple[str, str | None]] = []
        for text in texts:
            stats["question_candidates"] += 1
            parsed = parse_question(text, style)
            reason = "no_question" if parsed is None else degenerate_reason(parsed[0], style)
            if reason is not None:
                stats[f"question_rejected_{reason}"] += 1
                continue
            kept.append(parsed)  # type: ignore[arg-type]
        if not kept:
            stats["question_style_dropped"] += 1
            continue
        # duplicates stay in: a question sampled twice is twice as central
        question, evidence = kept[select_consistent([q for q, _ in kept], rng=rng, embed=embed)]
        stats["question_selected"] += 1
        out[i].append(Realization(question=question, style=style, evidence=evidence))
    return out


def llm_questions(
    sql: str,
    schema: Schema | str,
    generator: Generator,
    styles: Sequence[str] = tuple(LLM_STYLES),
    samples: int = 3,
    rng: random.Random | None = None,
    **options,
) -> list[Realization]:
    """Back-translate ``sql`` into one question per style.

    ``samples`` candidates are sampled per style; empty or degenerate ones (see
    :func:`degenerate_reason`) are dropped and the most consistent survivor (see
    :func:`select_consistent`) is kept. A style whose candidates are all rejected yields nothing, so the
    result can be shorter than ``styles``. ``stats`` (a Counter) receives the counts of each outcome.
    """
    return llm_questions_batch([sql], schema, generator, styles, samples, rng, **options)[0]


# ------------------------------------------------------------------------------------------------
# Chain of thought, kept by execution agreement
# ------------------------------------------------------------------------------------------------


@dataclass
class CoTCandidate:
    text: str
    reasoning: str
    sql: str | None
    verdict: str  # agree | disagree | failed
    detail: str = ""


@dataclass
class CoTVote:
    """The k sampled solutions for one (question, gold SQL) and how they voted."""

    candidates: list[CoTCandidate] = field(default_factory=list)
    gold_ok: bool = True
    gold_message: str = ""

    @property
    def agree(self) -> int:
        return sum(c.verdict == "agree" for c in self.candidates)

    @property
    def disagree(self) -> int:
        return sum(c.verdict == "disagree" for c in self.candidates)

    @property
    def failed(self) -> int:
        return sum(c.verdict == "failed" for c in self.candidates)

    def majority(self, k: int | None = None) -> bool:
        """More than half of the ``k`` requested samples (all sampled, by default) agree with the gold."""
        total = k if k is not None else len(self.candidates)
        return self.gold_ok and total > 0 and self.agree * 2 > total


#: a kept rationale must say at least this much before its final SQL
MIN_REASONING_CHARS = 20


def cot_prompt(
    question: str,
    schema_ddl: str,
    gold_sql: str | None = None,
    evidence: str | None = None,
    dialect: str = "sqlite",
) -> list[dict[str, str]]:
    """The prompt a model is trained on (:func:`~sqlfoundry.synth.prompt.build_prompt`), plus — when
    ``gold_sql`` is given, as OmniSQL does — the reference query the reasoning must arrive at."""
    user = build_prompt(schema_ddl, question, evidence=evidence, dialect=dialect)
    if gold_sql:
        user += _REFERENCE_SECTION.format(sql=gold_sql.strip().rstrip(";"))
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def split_reasoning(completion: str) -> str:
    """The reasoning of a solution: the text before its final ```sql block (the whole text when none)."""
    text = completion.strip()
    fences = [m.start() for m in re.finditer(r"```", text)]
    if len(fences) >= 2 and len(fences) % 2 == 0:
        text = text[: fences[-2]]
    elif len(fences) % 2 == 1:  # the last block was cut off before its closing fence
        text = text[: fences[-1]]
    text = text.rstrip()
    # drop a dangling lead-in to the removed block, e.g. "Final SQL:"
    text = re.sub(r"\n?[^\n]*(final|the)\s+(sql|query)[^\n]*:\s*$", "", text, flags=re.I).rstrip()
    return text


def vote_cots(
    completions: Sequence[str],
    gold_sql: str,
    executor: Executor,
    db_url: str,
    dialect: str = "sqlite",
) -> CoTVote:
    """Execute each completion's final SQL next to the gold SQL and label it agree / disagree / failed.

    Agreement is equality of the order-insensitive multiset fingerprint of the results; when the gold
    query orders its rows (top-level ORDER BY), the ordered fingerprint must match too.
    """
    cands = []
    for text in completions:
        sql = extract_sql(text or "")
        cands.append(
            CoTCandidate(text=text or "", reasoning=split_reasoning(text or ""), sql=sql, verdict="failed")
        )
    to_run = [c.sql for c in cands if c.sql]
    outcomes = executor.run_batch([Query(db_url, s, keep_rows=False) for s in [gold_sql, *to_run]])
    gold: ExecutionOutcome = outcomes[0]
    vote = CoTVote(candidates=cands, gold_ok=gold.ok, gold_message=gold.message)
    ordered = gold.ok and gold_orders_rows(gold_sql, dialect)
    results = iter(outcomes[1:])
    for c in cands:
        if not c.sql:
            c.detail = "no SQL in the answer"
            continue
        out = next(results)
        if not out.ok:
            c.detail = f"{out.status.value}: {out.message}"
            continue
        same = out.fingerprint == gold.fingerprint
        if same and ordered:
            same = out.ordered_fingerprint == gold.ordered_fingerprint
        c.verdict = "agree" if (gold.ok and same) else "disagree"
    return vote


def best_rationale(vote: CoTVote, gold_sql: str, dialect: str = "sqlite") -> str | None:
    """Among agreeing candidates with real reasoning: one whose SQL equals the gold (normalized) first,
    then the one whose reasoning length is closest to the median (neither terse nor rambling)."""
    pool = [c for c in vote.candidates if c.verdict == "agree" and len(c.reasoning) >= MIN_REASONING_CHARS]
    if not pool:
        return None
    gold_norm = normalize_sql(gold_sql, dialect)
    exact = [c for c in pool if c.sql and normalize_sql(c.sql, dialect) == gold_norm]
    pool = exact or pool
    median = statistics.median(len(c.reasoning) for c in pool)
    return min(pool, key=lambda c: abs(len(c.reasoning) - median)).reasoning


def llm_cot(
    question: str,
    sql: str,
    schema: Schema | str,
    generator: Generator,
    executor: Executor,
    db_url: str,
    samples: int = 5,
    *,
    evidence: str | None = None,
    dialect: str = "sqlite",
    show_reference: bool = True,
    temperature: float = 0.7,
    max_tokens: int = 1024,
    seed: int | None = None,
    stats: Counter | None = None,
) -> str | None:
    """A verified chain-of-thought for (question, sql), or None.

    Samples ``samples`` step-by-step solutions, executes each final SQL and keeps the rationale only
    when a strict majority of the ``samples`` agree with ``sql`` by execution result; the best agreeing
    one is returned (reasoning only: the final SQL block is cut, since the record's answer appends the
    gold SQL). ``stats`` receives ``cot_agree``/``cot_disagree``/``cot_failed`` per sample and
    ``cot_kept``/``cot_no_majority``/``cot_no_reasoning``/``cot_gold_failed`` per call.
    """
    if samples < 1:
        raise ValueError("samples must be >= 1")
    stats = stats if stats is not None else Counter()
    prompt = cot_prompt(question, _schema_ddl(schema), sql if show_reference else None, evidence, dialect)
    texts = generator.generate(
        [prompt], n=samples, temperature=temperature, max_tokens=max_tokens, seed=seed
    )[0]
    texts = list(texts) + [""] * max(0, samples - len(texts))  # missing samples count as failed
    vote = vote_cots(texts[:samples], sql, executor, db_url, dialect)
    if not vote.gold_ok:
        stats["cot_gold_failed"] += 1
        return None
    stats["cot_agree"] += vote.agree
    stats["cot_disagree"] += vote.disagree
    stats["cot_failed"] += vote.failed
    if not vote.majority(samples):
        stats["cot_no_majority"] += 1
        return None
    best = best_rationale(vote, sql, dialect)
    if best is None:
        stats["cot_no_reasoning"] += 1
        return None
    stats["cot_kept"] += 1
    return best


# ------------------------------------------------------------------------------------------------
# The pipeline's entry point
# ------------------------------------------------------------------------------------------------


class LLMSynthesizer:
    """LLM question realizer and rationale writer for one database.

    ``realize(sql)`` returns one :class:`Realization` per style that produced a usable question;
    ``rationale(question, sql)`` returns a verified chain of thought or None. ``stats`` counts every
    outcome (for the run's rejection report) and ``usage`` is the generator's token/cost account.
    """

    def __init__(
        self,
        generator: Generator,
        executor: Executor,
        db_url: str,
        schema: Schema | str,
        styles: Sequence[str] = tuple(LLM_STYLES),
        samples: int = 3,
        cot_samples: int = 5,
        *,
        dialect: str = "sqlite",
        seed: int = 0,
        show_reference: bool = True,
        question_temperature: float = 0.8,
        cot_temperature: float = 0.7,
        question_max_tokens: int = 512,
        cot_max_tokens: int = 1024,
        embed: Callable[[list[str]], Sequence[Sequence[float]]] | None = None,
    ):
        unknown = [s for s in styles if s not in LLM_STYLES]
        if unknown:
            raise ValueError(
                f"unknown LLM question style(s) {', '.join(unknown)}: use {', '.join(LLM_STYLES)}"
            )
        if samples < 1 or cot_samples < 1:
            raise ValueError("samples and cot_samples must be >= 1")
        self.generator = generator
        self.executor = executor
        self.db_url = db_url
        self.schema_ddl = _schema_ddl(schema)
        self.styles = list(styles)
        self.samples = samples
        self.cot_samples = cot_samples
        self.dialect = dialect
        self.show_reference = show_reference
        self.question_temperature = question_temperature
        self.cot_temperature = cot_temperature
        self.question_max_tokens = question_max_tokens
        self.cot_max_tokens = cot_max_tokens
        self.embed = embed
        self.rng = random.Random(seed)
        self.stats: Counter = Counter()
        self._questions: dict[str, tuple[str, str | None]] = {}

    @property
    def usage(self) -> Usage | None:
        return getattr(self.generator, "usage", None)

    @property
    def model_name(self) -> str:
        return getattr(self.generator, "name", type(self.generator).__name__)

    def realize(self, sql: str, styles: Sequence[str] | None = None) -> list[Realization]:
        return self.realize_many([sql], styles)[0]

    def realize_many(
        self, sqls: Sequence[str], styles: Sequence[str] | None = None
    ) -> list[list[Realization]]:
        """Questions for many statements in one batch of requests (better use of server concurrency)."""
        return llm_questions_batch(
            sqls, self.schema_ddl, self.generator, styles or self.styles, self.samples, self.rng,
            dialect=self.dialect, temperature=self.question_temperature, max_tokens=self.question_max_tokens,
            stats=self.stats, embed=self.embed,
        )  # fmt: skip

    # -- the synthesis pipeline's step signatures (``pipeline.SynthSteps``) -------------------------
    def realize_one(
        self,
        sql: str,
        schema: Schema | None = None,
        style: str = "formal",
        rng: random.Random | None = None,
        with_evidence: bool = False,
    ) -> Realization:
        """One question in one style — the pipeline's ``realize`` step. Raises :class:`UnsupportedSQL`
        (a counted rejection) when every candidate was degenerate. Evidence is kept whatever
        ``with_evidence`` says: only the vague and metaphorical styles produce it, and they need it."""
        out = llm_questions_batch(
            [sql], self.schema_ddl, self.generator, [style], self.samples, rng or self.rng,
            dialect=self.dialect, temperature=self.question_temperature, max_tokens=self.question_max_tokens,
            stats=self.stats, embed=self.embed,
        )[0]  # fmt: skip
        if not out:
            raise UnsupportedSQL(f"the LLM gave no usable {style} question for this SQL")
        if len(self._questions) >= _MAX_REMEMBERED:
            self._questions.pop(next(iter(self._questions)))
        self._questions.setdefault(sql, (out[0].question, out[0].evidence))
        return out[0]

    def rationale_for_sql(self, sql: str, schema: Schema | None = None) -> str | None:
        """The pipeline's ``rationale`` step: a verified chain of thought for the first question
        :meth:`realize_one` produced for ``sql`` (None when there is none)."""
        asked = self._questions.get(sql)
        if asked is None:
            self.stats["cot_no_question"] += 1
            return None
        return self.rationale(asked[0], sql, asked[1])

    def pipeline_steps(self, steps: Any) -> Any:
        """A copy of the pipeline's ``SynthSteps`` with this synthesizer's realize and rationale steps;
        records say ``generator="llm"`` and name the model."""
        return dataclasses.replace(
            steps, realize=self.realize_one, rationale=self.rationale_for_sql, generator="llm", model=self.model_name
        )

    def rationale(self, question: str, sql: str, evidence: str | None = None) -> str | None:
        return llm_cot(
            question, sql, self.schema_ddl, self.generator, self.executor, self.db_url, self.cot_samples,
            evidence=evidence, dialect=self.dialect, show_reference=self.show_reference,
            temperature=self.cot_temperature, max_tokens=self.cot_max_tokens,
            seed=self.rng.randrange(2**31), stats=self.stats,
        )  # fmt: skip


__all__ = [
    "LLM_STYLES",
    "CoTCandidate",
    "CoTVote",
    "LLMSynthesizer",
    "QuestionStyle",
    "best_rationale",
    "content_tokens",
    "cot_prompt",
    "degenerate_reason",
    "jaccard",
    "llm_cot",
    "llm_questions",
    "llm_questions_batch",
    "parse_question",
    "question_prompt",
    "select_consistent",
    "split_reasoning",
    "vote_cots",
]
