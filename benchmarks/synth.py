"""Synthesis benchmark: verified, deduplicated records per second without an LLM, and why sampled SQL
was rejected, on the example database and on a generated 50-table schema. Prints tables.

    python benchmarks/synth.py [--n 2000] [--workers 2] [--tables 50] [--seed 0] [--json FILE]

Target (issue 4): >= 2000 records covering every style and complexity level, >= 100 records/s on
2 cores, >= 95 % of feasible records with a non-empty answer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from sqlfoundry.db.example import build_example_db
from sqlfoundry.records import COMPLEXITIES, STYLES
from sqlfoundry.synth.config import SynthConfig
from sqlfoundry.synth.pipeline import SynthReport, synthesize

console = Console(width=max(Console().width, 110))

NOUNS = (
    "account", "airport", "album", "animal", "artist", "asset", "award", "bank", "booking", "branch",
    "building", "campaign", "car", "category", "channel", "city", "claim", "client", "company", "contract",
    "country", "course", "customer", "delivery", "department", "device", "doctor", "driver", "event",
    "factory", "farm", "flight", "garage", "hotel", "invoice", "lesson", "library", "loan", "machine",
    "fixture", "member", "museum", "purchase", "package", "patient", "payment", "player", "policy", "product",
    "project", "recipe", "region", "room", "route", "school", "season", "shipment", "station", "student",
    "subscription", "supplier", "team", "ticket", "tour", "vehicle", "vendor", "venue", "warehouse",
)  # fmt: skip
ATTRIBUTES = {
    "integer": ("quantity", "capacity", "rank", "year_built", "floor", "seats", "visits", "points", "age"),
    "real": ("price", "weight", "rating", "budget", "distance", "score", "fee", "balance", "area"),
    "text": ("name", "status", "category_code", "color", "level", "kind", "label", "region_name", "grade"),
    "date": ("created_on", "opened_on", "due_date", "start_date", "end_date", "recorded_on"),
}
WORDS = (
    "alpha", "beta", "gamma", "delta", "north", "south", "east", "west", "red", "green", "blue", "gold",
    "silver", "prime", "basic", "open", "closed", "active", "pending", "new", "old", "large", "small",
)  # fmt: skip


def build_random_schema(path: Path, n_tables: int = 50, seed: int = 0) -> Path:
    """A SQLite database of ``n_tables`` random tables: an integer primary key, 2-5 typed attributes,
    0-2 foreign keys to earlier tables, 30-1500 rows with skewed values and some NULLs."""
    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    names: list[str] = []
    sizes: dict[str, int] = {}
    for i in range(n_tables):
        name = NOUNS[i % len(NOUNS)] + ("" if i < len(NOUNS) else f"_{i // len(NOUNS)}")
        columns = [f"{name}_id INTEGER PRIMARY KEY"]
        kinds: list[tuple[str, str]] = []
        for kind in rng.sample(list(ATTRIBUTES) * 2, rng.randint(2, 5)):
            attr = rng.choice(ATTRIBUTES[kind])
            if attr not in {a for a, _ in kinds}:
                kinds.append((attr, kind))
        sql_type = {"integer": "INTEGER", "real": "REAL", "text": "TEXT", "date": "TEXT"}
        columns += [f"{a} {sql_type[k]}" for a, k in kinds]
        parents = rng.sample(names, min(len(names), rng.choice((0, 1, 1, 2)))) if names else []
        columns += [f"{p}_id INTEGER REFERENCES {p}({p}_id)" for p in parents]
        conn.execute(f"CREATE TABLE {name} ({', '.join(columns)})")
        n_rows = int(rng.choice((30, 80, 200, 500, 1500)) * rng.uniform(0.7, 1.3))
        rows = []
        for row_id in range(1, n_rows + 1):
            row: list = [row_id]
            for _attr, kind in kinds:
                if rng.random() < 0.05:
                    row.append(None)
                elif kind == "integer":
                    row.append(int(rng.paretovariate(1.5) * 3))
                elif kind == "real":
                    row.append(round(rng.lognormvariate(3, 1), 2))
                elif kind == "text":
                    row.append(rng.choice(WORDS[: rng.randint(3, len(WORDS))]))
                else:
                    row.append((dt.date(2015, 1, 1) + dt.timedelta(days=rng.randint(0, 3650))).isoformat())
            for p in parents:
                row.append(min(sizes[p], int(rng.paretovariate(1.2))) if rng.random() > 0.03 else None)
            rows.append(row)
        conn.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(columns))})", rows)
        names.append(name)
        sizes[name] = n_rows
    conn.commit()
    conn.close()
    return path


def run(label: str, url: str, n: int, workers: int, seed: int, out: Path) -> SynthReport:
    config = SynthConfig(n=n, seed=seed, workers=workers, resume=False, cache=False)
    report = synthesize(url, config, out, progress=sys.stderr.isatty())
    console.print(f"[bold]{label}[/]: {report.records} records in {report.elapsed_s:.1f} s")
    return report


def print_reports(reports: dict[str, SynthReport], n: int) -> None:
    summary = Table(title="Verified, deduplicated records without an LLM")
    for col in (
        "database",
        "records",
        "records/s",
        "non-empty",
        "SQL sampled",
        "SQL kept",
        "styles × levels",
    ):
        summary.add_column(col, justify="right" if col != "database" else "left")
    for label, r in reports.items():
        covered = sum(1 for s in STYLES for c in COMPLEXITIES if r.style_complexity[(s, c)] > 0)
        summary.add_row(
            label, str(r.records), f"{r.records_per_s:.1f}", f"{r.non_empty_rate:.1%}", str(r.candidates),
            str(r.accepted_sql), f"{covered}/{len(STYLES) * len(COMPLEXITIES)}",
        )  # fmt: skip
    console.print(summary)

    reasons = sorted({k for r in reports.values() for k in r.rejections}, key=lambda k: -sum(
        r.rejections[k] for r in reports.values()))  # fmt: skip
    rejections = Table(title="Rejected SQL by reason (share of sampled)")
    rejections.add_column("reason")
    for label in reports:
        rejections.add_column(label, justify="right")
    for reason in reasons:
        cells = [
            f"{r.rejections[reason]} ({r.rejections[reason] / max(r.candidates, 1):.1%})"
            for r in reports.values()
        ]
        rejections.add_row(reason, *cells)
    console.print(rejections)

    timings = Table(title="Time by stage (s; verify_wait = waiting on the Executor beyond overlapped work)")
    timings.add_column("stage")
    for label in reports:
        timings.add_column(label, justify="right")
    stages = sorted({k for r in reports.values() for k in r.timings})
    for stage in stages:
        timings.add_row(stage, *[f"{r.timings.get(stage, 0.0):.2f}" for r in reports.values()])
    console.print(timings)

    for label, r in reports.items():
        ok = (
            r.records >= n
            and r.records_per_s >= 100
            and r.non_empty_rate >= 0.95
            and all(r.style_complexity[(s, c)] > 0 for s in STYLES for c in COMPLEXITIES)
        )
        verdict = "[green]meets[/]" if ok else "[red]misses[/]"
        console.print(
            f"{label}: {verdict} the target (>= {n} records, >= 100 records/s, >= 95% non-empty, full coverage)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000, help="records per database")
    parser.add_argument("--workers", type=int, default=2, help="Executor worker processes")
    parser.add_argument("--tables", type=int, default=50, help="tables in the generated schema")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sqlfoundry-synth-bench-") as tmp:
        tmpdir = Path(tmp)
        example = build_example_db(tmpdir / "bookshop.sqlite")
        generated = build_random_schema(tmpdir / "generated.sqlite", args.tables, args.seed)
        reports = {
            "example (12 tables)": run(
                "example", f"sqlite:///{example}", args.n, args.workers, args.seed, tmpdir / "out-example"
            ),
            f"generated ({args.tables} tables)": run(
                "generated",
                f"sqlite:///{generated}",
                args.n,
                args.workers,
                args.seed,
                tmpdir / "out-generated",
            ),
        }
    print_reports(reports, args.n)
    if args.json is not None:
        data = {
            label: {
                "records": r.records,
                "records_per_s": round(r.records_per_s, 2),
                "non_empty_rate": round(r.non_empty_rate, 4),
                "candidates": r.candidates,
                "accepted_sql": r.accepted_sql,
                "rejections": dict(r.rejections),
                "record_rejections": dict(r.record_rejections),
                "timings_s": r.timings,
                "elapsed_s": round(r.elapsed_s, 3),
            }
            for label, r in reports.items()
        }
        args.json.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main()
