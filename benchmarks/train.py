"""Training benchmarks. Each section is one function ``bench_<name>(args, console)`` registered in
``SECTIONS``; ``--section`` picks them (default: all). Prints tables; record results in RESULTS.md.

    python benchmarks/train.py [--section rewards] [--prompts 64] [--generations 8] [--workers 2]
    python benchmarks/train.py --quality [--records 4000] [--recipes tiny-one-database,...] [--grpo-steps N]

Sections: ``rewards``: GRPO reward throughput (completions scored per second) of our execution
reward (shared Executor, cached gold, one batch per call) against the per-completion sqlite3 reward
common in GRPO text-to-SQL repositories, on the example database. ``quality`` (``--quality``, not in
the default run): held-out execution accuracy on the example database of each SFT recipe's model
untrained and after SFT (``tiny`` everywhere, ``smollm2-135m`` where a GPU is present), and after GRPO
from the SFT model with ``--grpo-steps``.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sqlfoundry.db.example import build_example_db
from sqlfoundry.db.executor import Executor, Query
from sqlfoundry.synth.prompt import extract_sql
from sqlfoundry.train.rewards import RewardContext

# ================================================================================================
# Section: rewards — GRPO reward throughput
# ================================================================================================

#: Gold queries: (template, wrong-answer variant). ``{k}`` etc. are filled per prompt.
GOLD_TEMPLATES = [
    (
        "SELECT count(*) FROM sale WHERE store_id = {store}",
        "SELECT count(*) FROM sale WHERE store_id = {other}",
    ),
    (
        "SELECT title, list_price FROM book WHERE genre = '{genre}' ORDER BY list_price DESC LIMIT {k}",
        "SELECT title, list_price FROM book WHERE genre = '{genre}' ORDER BY list_price ASC LIMIT {k}",
    ),
    (
        "SELECT genre, count(*), avg(list_price) FROM book GROUP BY genre HAVING count(*) > {small}",
        "SELECT genre, count(*), avg(list_price) FROM book GROUP BY genre",
    ),
    (
        "SELECT c.city, count(*) FROM sale AS s JOIN customer AS c ON s.customer_id = c.customer_id "
        "WHERE c.country = '{country}' GROUP BY c.city",
        "SELECT c.city, count(*) FROM sale AS s JOIN customer AS c ON s.customer_id = c.customer_id GROUP BY c.city",
    ),
    (
        "SELECT b.title, sum(si.quantity) AS sold FROM sale_item AS si JOIN book AS b ON si.book_id = b.book_id "
        "GROUP BY b.book_id ORDER BY sold DESC LIMIT {k}",
        "SELECT b.title, count(*) AS sold FROM sale_item AS si JOIN book AS b ON si.book_id = b.book_id "
        "GROUP BY b.book_id ORDER BY sold DESC LIMIT {k}",
    ),
    (
        "SELECT count(DISTINCT customer_id) FROM review WHERE rating >= {rating}",
        "SELECT count(customer_id) FROM review WHERE rating >= {rating}",
    ),
    (
        "SELECT name FROM store WHERE store_id IN (SELECT store_id FROM employee WHERE salary > {salary})",
        "SELECT name FROM store",
    ),
    (
        "SELECT payment_method, count(*) FROM sale WHERE sold_at LIKE '{year}%' GROUP BY payment_method",
        "SELECT payment_method, count(*) FROM sale GROUP BY payment_method",
    ),
    (
        "SELECT a.last_name, count(*) FROM author AS a JOIN book_author AS ba ON a.author_id = ba.author_id "
        "GROUP BY a.author_id",
        "SELECT a.last_name, count(*) FROM author AS a JOIN book_author AS ba ON a.author_id = ba.author_id "
        "GROUP BY a.last_name",
    ),
    (
        "SELECT avg(amount), max(amount) FROM refund WHERE reason = '{reason}'",
        "SELECT avg(amount), max(amount) FROM refund",
    ),
]
#: A correct-but-slow completion (a needless self-join over sale_item) and a runaway one.
SLOW_SQL = (
    "SELECT count(*) FROM sale_item AS a JOIN sale_item AS b ON a.book_id = b.book_id WHERE a.quantity > {q}"
)
RUNAWAY_SQL = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"


@dataclass
class RewardWorkload:
    """One GRPO batch: ``completions[i]`` answers the prompt whose gold is ``gold[i]``."""

    completions: list[str]
    gold: list[str]
    kinds: list[str]  # what each completion is: correct, rewrite, wrong, syntax, runtime, slow, runaway


def _answer(sql: str) -> str:
    return f"Let me find the tables the question needs, then filter and aggregate.\n```sql\n{sql}\n```"


def _rewrite(sql: str) -> str:
    """Same query, different text (as a model writes it): lower-case keywords, extra spacing."""
    return sql.replace("SELECT ", "select  ").replace(" FROM ", "\nfrom ").replace(" WHERE ", "\n  where ")


def reward_workload(
    db: Path, prompts: int, generations: int, seed: int = 0, variant: str = "", runaway: bool = True
) -> RewardWorkload:
    """``prompts`` x ``generations`` completions: per group of 8, about 2 copies of the gold, 2
    rewrites of it (one repeated), 2 wrong answers, 1 syntax error, 1 runtime error; a few groups get
    a slow correct query and (``runaway``) two a runaway query. ``variant`` is a comment that makes
    every prediction's text new (a later training step), leaving the golds as they are."""
    con = sqlite3.connect(db)
    genres = [r[0] for r in con.execute("SELECT DISTINCT genre FROM book")]
    countries = [r[0] for r in con.execute("SELECT DISTINCT country FROM customer")]
    reasons = [r[0] for r in con.execute("SELECT DISTINCT reason FROM refund WHERE reason IS NOT NULL")]
    con.close()
    rng = random.Random(seed)
    out = RewardWorkload([], [], [])
    tag = f" /* {variant} */" if variant else ""
    plan = ["correct", "correct", "rewrite", "rewrite", "wrong", "wrong", "syntax", "runtime"]
    for p in range(prompts):
        gold_t, wrong_t = GOLD_TEMPLATES[p % len(GOLD_TEMPLATES)]
        values = dict(
            store=rng.randint(1, 12), other=rng.randint(13, 20), genre=rng.choice(genres), k=rng.randint(3, 20),
            small=rng.randint(1, 300), country=rng.choice(countries), rating=rng.randint(1, 5),
            salary=rng.randint(20000, 90000), year=rng.randint(2015, 2024), reason=rng.choice(reasons),
        )  # fmt: skip
        gold = gold_t.format(**values)
        wrong = wrong_t.format(**values)
        rewrite = _rewrite(gold)
        kinds = [plan[g % len(plan)] for g in range(generations)]
        if p % 16 == 3:
            kinds[-1] = "slow"
        if runaway and p % 32 == 7:
            kinds[-2] = "runaway"
        for g, kind in enumerate(kinds):
            sql = {
                "correct": gold,
                "rewrite": rewrite if g % 2 == 0 else rewrite + " ",
                "wrong": wrong if g % 2 == 0 else wrong.replace("SELECT", "SELECT DISTINCT", 1),
                "syntax": gold.replace("SELECT", "SELEC", 1),
                "runtime": gold.replace("FROM", "FROM missing_table,", 1),
                "slow": SLOW_SQL.format(q=rng.randint(1, 3)),
                "runaway": RUNAWAY_SQL,
            }[kind]
            out.completions.append(_answer(sql + tag))
            out.gold.append(gold)
            out.kinds.append(kind)
    return out


def naive_execution_reward(
    completions: list[str], gold_sql: list[str], db_path: str, timeout_s: float
) -> list[float]:
    """The per-completion reward of common GRPO text-to-SQL repositories: open the database, run the
    gold and the prediction, compare row sets. Given the same statement timeout as ours (a progress
    handler), so a runaway query cannot stall it forever."""
    rewards = []
    for completion, gold in zip(completions, gold_sql, strict=True):
        sql = extract_sql(completion)
        if not sql:
            rewards.append(0.0)
            continue
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            deadline = time.monotonic() + timeout_s
            con.set_progress_handler(lambda d=deadline: time.monotonic() > d, 10_000)
            gold_rows = con.execute(gold).fetchall()
            deadline = time.monotonic() + timeout_s
            con.set_progress_handler(lambda d=deadline: time.monotonic() > d, 10_000)
            pred_rows = con.execute(sql).fetchall()
            rewards.append(1.0 if set(gold_rows) == set(pred_rows) else 0.0)
        except sqlite3.Error:
            rewards.append(0.0)
        finally:
            con.close()
    return rewards


def naive_func_timeout_reward(
    completions: list[str], gold_sql: list[str], db_path: str, timeout_s: float
) -> list[float]:
    """The same per-completion reward with the timeout most GRPO text-to-SQL repositories use:
    ``func_timeout`` around each execution (a thread per statement; the statement itself is not
    stopped, as ``benchmarks/executor.py`` shows)."""
    from func_timeout import FunctionTimedOut, func_timeout

    def fetch(sql: str) -> list:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    rewards = []
    for completion, gold in zip(completions, gold_sql, strict=True):
        sql = extract_sql(completion)
        try:
            if not sql:
                raise ValueError("no SQL")
            gold_rows = func_timeout(timeout_s, fetch, (gold,))
            pred_rows = func_timeout(timeout_s, fetch, (sql,))
            rewards.append(1.0 if set(gold_rows) == set(pred_rows) else 0.0)
        except (FunctionTimedOut, sqlite3.Error, ValueError):
            rewards.append(0.0)
    return rewards


def _time(fn: Callable[[], list[float]]) -> tuple[float, list[float]]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def bench_rewards(args: argparse.Namespace, console: Console) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="sqlf-bench-train-"))
    db = build_example_db(tmp / "example.sqlite")
    url = f"sqlite:///{db}"
    n = args.prompts * args.generations
    columns = lambda w: {"gold_sql": w.gold, "db_url": [url] * n}  # noqa: E731
    t = Table(title=f"GRPO reward throughput: one batch of {args.prompts} prompts x {args.generations} = {n}")
    for c in ("mix", "reward", "seconds", "completions/s", "vs naive"):
        t.add_column(c, justify="left" if c in ("mix", "reward") else "right")
    notes = []
    with Executor(workers=args.workers, grace_s=0.5) as ex:
        # Pool start-up is paid once per training run: start the workers and let each import what an
        # unusual statement needs (sqlglot, for the guard) before timing.
        ex.run_batch([Query(url, f"SELEC {i}", cache=False) for i in range(2 * args.workers)])
        for runaway in (False, True):
            label = "with 2 runaway" if runaway else "no runaway"
            steps = [
                reward_workload(db, args.prompts, args.generations, variant=f"step {i}", runaway=runaway)
                for i in range(3)
            ]
            if not runaway:
                mix = {k: steps[0].kinds.count(k) for k in dict.fromkeys(steps[0].kinds)}
                notes.append(f"mix without runaway: {mix}; distinct golds {len(set(steps[0].gold))}")
            naive_s, naive_out = _time(
                lambda w=steps[0]: naive_execution_reward(w.completions, w.gold, str(db), args.timeout)
            )
            ft_s, _ = _time(
                lambda w=steps[0]: naive_func_timeout_reward(w.completions, w.gold, str(db), args.timeout)
            )
            ctx = RewardContext(ex, timeout_s=args.timeout)
            cold_s, cold_out = _time(
                lambda c=ctx, w=steps[0]: c.execution_reward(None, w.completions, **columns(w))
            )
            warm_s, warm_out = _time(
                lambda c=ctx, w=steps[1]: c.execution_reward(None, w.completions, **columns(w))
            )
            memo_s, _ = _time(lambda c=ctx, w=steps[1]: c.execution_reward(None, w.completions, **columns(w)))
            combined = ctx.combined_reward()
            comb_s, _ = _time(lambda f=combined, w=steps[2]: f(None, w.completions, **columns(w)))
            for name, secs in (
                ("naive: sqlite3 per completion, gold re-run each time", naive_s),
                ("naive + func_timeout per statement (common in GRPO repos)", ft_s),
                ("execution_reward, first step (golds run)", cold_s),
                ("execution_reward, later step (golds cached, all-new completion texts)", warm_s),
                ("execution_reward, same completions again (memo)", memo_s),
                ("combined reward, 5 components, later step (all-new texts)", comb_s),
            ):
                t.add_row(label, name, f"{secs:.3f}", f"{n / secs:,.0f}", f"{naive_s / secs:.1f}x")
            disagree = sum(a != b for a, b in zip(naive_out, cold_out, strict=True))
            notes.append(
                f"{label}: accuracy {sum(cold_out) / n:.3f} (naive {sum(naive_out) / n:.3f}, {disagree} verdicts "
                f"differ); later step same verdicts: {warm_out == cold_out}; stats {dict(ctx.stats)}"
            )
    console.print(
        f"[bold]rewards[/]: example database, statement limit {args.timeout}s, {args.workers} Executor workers, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    console.print(t)
    for note in notes:
        console.print(note)


# ================================================================================================
# Section: quality — does SFT teach a model to answer held-out questions?
# ================================================================================================


def _synth_simple(url: str, n: int, seed: int, out: Path) -> float:
    """Synthesize ``n`` simple feasible records into ``out``; the seconds it took."""
    from sqlfoundry.synth.config import SynthConfig
    from sqlfoundry.synth.pipeline import synthesize

    start = time.perf_counter()
    weights = {"simple": 1.0, "moderate": 0.0, "complex": 0.0, "highly_complex": 0.0}
    synth = SynthConfig(n=n, seed=seed, infeasible_rate=0.0, complexity_weights=weights, workers=1)
    synthesize(url, synth, out, progress=False)
    return time.perf_counter() - start


def bench_quality(args: argparse.Namespace, console: Console) -> None:
    """SFT (and with ``--grpo-steps``, GRPO from the SFT model) of each recipe in ``--recipes``.

    GRPO trains on a second synthesis run (another seed): questions the SFT model never saw. Its
    held-out split uses the same gold-SQL hash as SFT's, so neither stage trains on a held-out query;
    the GRPO columns score the SFT model and the GRPO model on the same held-out questions."""
    import json

    import torch

    from sqlfoundry.llm.models import CACHE_ENV
    from sqlfoundry.train.grpo import GRPORecipeConfig, parse_weights, train_grpo
    from sqlfoundry.train.sft import SFT_RECIPES, SFTRecipeConfig, prepare_split, train_sft

    torch.set_num_threads(args.threads)
    tmp = Path(tempfile.mkdtemp(prefix="sqlf-bench-quality-"))
    os.environ.setdefault(CACHE_ENV, str(tmp / "cache"))
    db = build_example_db(tmp / "example.sqlite")
    url = f"sqlite:///{db}"
    synth_s = _synth_simple(url, args.records, 0, tmp / "synth")
    on_gpu = torch.cuda.is_available()
    t = Table(
        title=f"Held-out execution accuracy, example database, {args.records} simple records "
        f"(held out by gold SQL)" + (f"; GRPO {args.grpo_steps} steps on {args.grpo_records} new records" if args.grpo_steps else "")
    )  # fmt: skip
    columns = ["model (recipe)", "held-out n", "untrained", "after SFT", "SFT steps", "SFT s"]
    if args.grpo_steps:
        columns += ["GRPO held-out n", "SFT model", "after GRPO", "GRPO s"]
    for c in columns:
        t.add_column(c, justify="left" if c.startswith("model") else "right")
    rows: list[dict] = []

    def save(line: str) -> None:
        """Each stage's result as soon as it is known (a long run killed later keeps it)."""
        console.print(f"[bold]quality[/]: {line}")
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")

    for recipe_name in args.recipes:
        recipe = dict(SFT_RECIPES[recipe_name])
        model = recipe["model"]
        if model != "tiny" and not on_gpu and not args.allow_cpu:
            t.add_row(
                f"{model} ({recipe_name})", "-", "-", "not run: needs a GPU", *["-"] * (len(columns) - 4)
            )
            continue
        if args.steps is not None:
            recipe["max_steps"] = args.steps
        if args.eval_limit is not None:
            recipe["eval_limit"] = args.eval_limit
        config = SFTRecipeConfig(
            records=tmp / "synth" / "records.jsonl",
            db_url=url,
            output_dir=tmp / f"sft-{recipe_name}",
            **recipe,
        )
        result = train_sft(config)
        row = {
            "recipe": recipe_name, "model": model, "held_out": len(prepare_split(config)[1]),
            "untrained": result.exec_before, "after_sft": result.exec_after, "sft_steps": result.global_step,
            "sft_seconds": result.train_seconds,
        }  # fmt: skip
        cells = [
            f"{model} ({recipe_name})", str(row["held_out"]), f"{result.exec_before:.3f}",
            f"{result.exec_after:.3f}", str(result.global_step), f"{result.train_seconds:.0f}",
        ]  # fmt: skip
        rows.append(row)
        save(
            f"SFT {recipe_name}: held-out {row['held_out']}, {result.exec_before:.3f} -> {result.exec_after:.3f}"
        )
        if args.grpo_steps:
            grpo_records = tmp / "synth-grpo"
            if not grpo_records.exists():
                _synth_simple(url, args.grpo_records, 1, grpo_records)
            grpo = GRPORecipeConfig(
                records=grpo_records / "records.jsonl", db_url=url, model=str(result.model_dir),
                output_dir=tmp / f"grpo-{recipe_name}", feasible_only=True, split_by="sql",
                max_steps=args.grpo_steps, learning_rate=args.grpo_lr, batch_size=16, gradient_accumulation_steps=4,
                num_generations=8,
                max_completion_length=config.eval_max_new_tokens, eval_limit=config.eval_limit,
                eval_max_new_tokens=config.eval_max_new_tokens, eval_batch_size=config.eval_batch_size,
                save_steps=10_000, logging_steps=10, reward_weights=parse_weights(args.grpo_weights),
                trl_args={"bf16": False, **({"tf32": True} if on_gpu else {})} if args.grpo_fp32 else {},
            )  # fmt: skip
            after = train_grpo(grpo)
            row.update(
                grpo_held_out=len(prepare_split(grpo)[1]), grpo_before=after.exec_before,
                after_grpo=after.exec_after, grpo_seconds=after.train_seconds, grpo_lr=args.grpo_lr,
                grpo_weights=args.grpo_weights, grpo_precision="fp32" if args.grpo_fp32 or not on_gpu else "bf16 autocast",
                grpo_metrics=after.metrics,
            )  # fmt: skip
            cells += [
                str(row["grpo_held_out"]), f"{after.exec_before:.3f}", f"{after.exec_after:.3f}",
                f"{after.train_seconds:.0f}",
            ]  # fmt: skip
            save(
                f"GRPO {recipe_name}: held-out {row['grpo_held_out']}, {after.exec_before:.3f} -> {after.exec_after:.3f}"
            )
        t.add_row(*cells)
    console.print(
        f"[bold]quality[/]: {os.cpu_count()} CPUs, torch {args.threads} thread(s), "
        f"{torch.cuda.get_device_name() if on_gpu else 'no GPU'}, synthesis {synth_s:.0f} s"
    )
    console.print(t)


# ================================================================================================
# Sections registry and entry point
# ================================================================================================

SECTIONS: dict[str, Callable[[argparse.Namespace, Console], None]] = {
    "rewards": bench_rewards,
    "quality": bench_quality,
}
#: sections a plain run (no --section) leaves out: minutes of training
SLOW_SECTIONS = {"quality"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--section", action="append", choices=sorted(SECTIONS), help="run only these (repeatable)"
    )
    ap.add_argument("--prompts", type=int, default=64, help="rewards: prompts per GRPO batch")
    ap.add_argument("--generations", type=int, default=8, help="rewards: completions per prompt")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="rewards: Executor workers")
    ap.add_argument("--timeout", type=float, default=1.0, help="rewards: statement limit in seconds")
    ap.add_argument(
        "--quality", action="store_true", help="run the quality section (same as --section quality)"
    )
    ap.add_argument("--records", type=int, default=4000, help="quality: simple records synthesized")
    ap.add_argument(
        "--recipes", type=lambda v: [x.strip() for x in v.split(",") if x.strip()],
        default=["tiny-one-database", "smollm2-one-database"],
        help="quality: SFT recipes (sqlfoundry.train.sft.SFT_RECIPES), comma-separated",
    )  # fmt: skip
    ap.add_argument("--steps", type=int, default=None, help="quality: SFT steps (default: the recipe's)")
    ap.add_argument(
        "--grpo-steps", type=int, default=0, help="quality: GRPO steps from each SFT model (0: none)"
    )
    ap.add_argument("--grpo-records", type=int, default=2000, help="quality: GRPO's records (another seed)")
    ap.add_argument("--grpo-lr", type=float, default=2e-6, help="quality: GRPO learning rate")
    ap.add_argument(
        "--grpo-weights",
        default=None,
        help="quality: GRPO reward weights, e.g. execution=1 (default: the recipe's)",
    )
    ap.add_argument(
        "--grpo-fp32",
        action="store_true",
        help="quality: GRPO in fp32 (TF32 matmuls on a GPU) instead of bf16 autocast",
    )
    ap.add_argument("--json", help="quality: also write the rows to this JSON file")
    ap.add_argument(
        "--allow-cpu",
        action="store_true",
        help="quality: run the GPU recipes on a CPU too (slow: to check wiring)",
    )
    ap.add_argument(
        "--eval-limit", type=int, default=None, help="quality: held-out questions scored (default: recipe's)"
    )
    ap.add_argument("--threads", type=int, default=1, help="quality: torch threads")
    args = ap.parse_args()
    console = Console()
    sections = args.section or ([] if args.quality else [s for s in SECTIONS if s not in SLOW_SECTIONS])
    if args.quality and "quality" not in sections:
        sections.append("quality")
    for name in sections:
        SECTIONS[name](args, console)


if __name__ == "__main__":
    main()
