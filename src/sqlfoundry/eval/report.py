"""Evaluation results for people and programs: a rich terminal summary, a JSON file, and one
self-contained HTML page (inline CSS and SVG charts, no scripts, no network)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .evaluator import CORRECT, EvalResult, ExampleResult

_BAR_COLORS = {"ok": "#2f855a", "bad": "#c53030", "neutral": "#2b6cb0", "time": "#b7791f"}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


# ------------------------------------------------------------------------------------------------
# Terminal
# ------------------------------------------------------------------------------------------------


def print_summary(result: EvalResult, console: Any = None, top_skills: int = 25) -> None:
    """A rich summary: accuracy by difficulty, error classes, skills, reliability score, warnings."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    cfg = result.config
    title = (
        f"Execution accuracy — {cfg['format']} (compat {cfg['compat']}, mode {cfg['mode']}"
        f"{', test suite' if cfg.get('ts_dir') else ''})"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("difficulty")
    table.add_column("n", justify="right")
    table.add_column("correct", justify="right")
    table.add_column("accuracy", justify="right")
    for name, b in result.by_difficulty().items():
        table.add_row(name, str(b["n"]), str(b["correct"]), _pct(b["accuracy"]))
    overall = result.overall()
    table.add_row("all", str(overall["n"]), str(overall["correct"]), _pct(result.accuracy), style="bold")
    console.print(table)

    errors = result.error_classes()
    if errors:
        et = Table(title="Outcomes other than correct", title_justify="left")
        et.add_column("class")
        et.add_column("examples", justify="right")
        for name, count in errors.items():
            et.add_row(name, str(count))
        console.print(et)

    skills = result.by_skill()
    if skills:
        st = Table(title="Accuracy by SQL skill of the gold query", title_justify="left")
        st.add_column("skill")
        st.add_column("n", justify="right")
        st.add_column("accuracy", justify="right")
        for name, b in sorted(skills.items(), key=lambda kv: -kv[1]["n"])[:top_skills]:
            st.add_row(name, str(b["n"]), _pct(b["accuracy"]))
        console.print(st)

    rel = result.reliability()
    if rel["abstained"] or rel["counts"]["infeasible"]:
        rt = Table(title="Reliability score (TrustSQL)", title_justify="left")
        rt.add_column("")
        for name in ("total", "feasible", "infeasible"):
            rt.add_column(f"{name} ({rel['counts'][name]})", justify="right")
        for label, row in rel["scores"].items():
            rt.add_row(
                label,
                *("—" if row[k] is None else f"{row[k]:.2f}" for k in ("total", "feasible", "infeasible")),
            )
        console.print(rt)

    skipped = overall["skipped_by_reason"]
    line = f"{overall['correct']}/{overall['n']} correct = {_pct(result.accuracy)}"
    if skipped:
        line += "; not judged: " + ", ".join(f"{k} {v}" for k, v in skipped.items())
    stats = result.stats
    line += (
        f" — {result.elapsed_s:.1f}s, {stats.get('gold_statements', 0)} gold statements "
        f"({stats.get('gold_cache_hits', 0)} from cache), {stats.get('pred_statements', 0)} predicted"
    )
    if stats.get("resumed"):
        line += f", {stats['resumed']} examples resumed from the checkpoint"
    console.print(line)
    for w in result.warnings:
        console.print(Text("warning: ", style="yellow") + Text(w), highlight=False)


# ------------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------------


def write_json(result: EvalResult, path: str | Path, per_example: bool = True) -> None:
    Path(path).write_text(
        json.dumps(result.to_json(per_example), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


# ------------------------------------------------------------------------------------------------
# HTML
# ------------------------------------------------------------------------------------------------


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def svg_bars(
    items: Sequence[tuple[str, float, str]],
    max_value: float,
    color: str = _BAR_COLORS["neutral"],
    label_width: int = 210,
    bar_width: int = 420,
    row_height: int = 22,
) -> str:
    """A horizontal bar chart as inline SVG: one ``(label, value, annotation)`` per bar."""
    if not items:
        return '<p class="muted">nothing to show</p>'
    height = row_height * len(items) + 6
    width = label_width + bar_width + 150
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">']
    for i, (label, value, note) in enumerate(items):
        y = 3 + i * row_height
        w = 0 if max_value <= 0 else max(0.0, min(1.0, value / max_value)) * bar_width
        short = label if len(label) <= 32 else label[:31] + "…"
        parts.append(
            f'<text x="{label_width - 6}" y="{y + row_height * 0.68:.1f}" text-anchor="end" '
            f'class="lbl"><title>{_esc(label)}</title>{_esc(short)}</text>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{bar_width}" height="{row_height - 6}" class="track"/>'
        )
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{w:.1f}" height="{row_height - 6}" fill="{color}"/>'
        )
        parts.append(
            f'<text x="{label_width + bar_width + 6}" y="{y + row_height * 0.68:.1f}" class="val">{_esc(note)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _accuracy_bars(buckets: dict[str, dict[str, Any]], color: str) -> str:
    items = [
        (name, (b["accuracy"] or 0.0) * 100, f"{_pct(b['accuracy'])} of {b['n']}")
        for name, b in buckets.items()
        if b["n"]
    ]
    return svg_bars(items, 100.0, color)


def _result_table(res: dict[str, Any] | None) -> str:
    if res is None:
        return '<span class="muted">not run</span>'
    if res.get("status") != "ok":
        return f'<span class="err">{_esc(res.get("status"))}: {_esc(res.get("message", ""))}</span>'
    cols = res.get("columns") or []
    rows = res.get("rows") or []
    head = "".join(f"<th>{_esc(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_esc(v)}</td>" for v in row) + "</tr>" for row in rows)
    more = res.get("row_count", 0) - len(rows)
    tail = f'<div class="muted">… {more} more rows</div>' if more > 0 else ""
    return f'<table class="res"><tr>{head}</tr>{body}</table><div class="muted">{res.get("row_count", 0)} rows</div>{tail}'


def _wrong_row(e: ExampleResult) -> str:
    return (
        "<tr>"
        f"<td>{e.index}</td><td>{_esc(e.db_id)}</td><td>{_esc(e.difficulty or '')}</td>"
        f'<td><span class="tag">{_esc(e.outcome)}</span><div class="muted">{_esc(e.message[:300])}</div></td>'
        f"<td><details><summary>{_esc(e.question[:140]) or 'SQL'}</summary>"
        f"<div class='lbl2'>gold</div><pre>{_esc(e.gold_sql or '')}</pre>"
        f"<div class='lbl2'>predicted</div><pre>{_esc(e.pred_sql if e.pred_sql is not None else '(none)')}</pre>"
        "</details></td>"
        f"<td>{_result_table(e.gold_result)}</td><td>{_result_table(e.pred_result)}</td>"
        "</tr>"
    )


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#1a202c;max-width:1500px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #e2e8f0}
.muted{color:#718096;font-size:12px} .err{color:#c53030;font-size:12px}
.cards{display:flex;gap:14px;flex-wrap:wrap;margin:14px 0}
.card{border:1px solid #e2e8f0;border-radius:8px;padding:10px 16px;min-width:120px}
.card b{display:block;font-size:22px}
svg .lbl{font-size:12px;fill:#2d3748} svg .val{font-size:12px;fill:#4a5568} svg .track{fill:#edf2f7}
table.main{border-collapse:collapse;width:100%;font-size:13px}
table.main td,table.main th{border-top:1px solid #e2e8f0;padding:6px;vertical-align:top;text-align:left}
table.res{border-collapse:collapse;font-size:11px} table.res td,table.res th{border:1px solid #e2e8f0;padding:1px 4px}
pre{white-space:pre-wrap;word-break:break-word;background:#f7fafc;padding:6px;margin:2px 0;font-size:12px}
.tag{background:#fed7d7;border-radius:4px;padding:1px 6px;font-size:12px} .lbl2{font-size:11px;color:#718096}
.warn{background:#fffbeb;border:1px solid #f6e05e;padding:8px 12px;border-radius:6px;margin:6px 0;font-size:13px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(640px,1fr));gap:8px}
"""


def render_html(result: EvalResult, title: str | None = None, max_wrong: int | None = None) -> str:
    """One self-contained HTML page: headline numbers, charts, and every wrong example."""
    cfg = result.config
    overall = result.overall()
    title = title or f"SQLFoundry evaluation — {cfg['format']} ({cfg['compat']})"
    cards = [
        ("execution accuracy", _pct(result.accuracy)),
        ("judged", str(overall["n"])),
        ("correct", str(overall["correct"])),
        ("not judged", str(overall["skipped"])),
        ("time", f"{result.elapsed_s:.1f}s"),
    ]
    rel = result.reliability()
    if rel["abstained"] or rel["counts"]["infeasible"]:
        rs10 = rel["scores"]["RS(10)"]["total"]
        cards.append(("RS(10)", "—" if rs10 is None else f"{rs10:.1f}"))
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_esc(title)}</h1>",
        "<div class='muted'>"
        + " · ".join(f"{_esc(k)}: {_esc(v)}" for k, v in cfg.items() if v not in (None, ""))
        + "</div>",
        "<div class='cards'>"
        + "".join(f"<div class='card'><b>{_esc(v)}</b>{_esc(k)}</div>" for k, v in cards)
        + "</div>",
    ]
    for w in result.warnings:
        parts.append(f"<div class='warn'>{_esc(w)}</div>")

    parts.append("<div class='grid'><div>")
    parts.append("<h2>Accuracy by difficulty</h2>")
    parts.append(_accuracy_bars(result.by_difficulty(), _BAR_COLORS["ok"]))
    parts.append("</div><div><h2>Outcomes other than correct</h2>")
    errors = result.error_classes()
    parts.append(
        svg_bars(
            [(k, v, str(v)) for k, v in errors.items()], max(errors.values(), default=1), _BAR_COLORS["bad"]
        )
    )
    parts.append("</div></div>")
    parts.append("<h2>Accuracy by SQL skill (gold query)</h2>")
    skills = dict(sorted(result.by_skill().items(), key=lambda kv: -kv[1]["n"]))
    parts.append(_accuracy_bars(skills, _BAR_COLORS["neutral"]))

    slow = sorted(result.examples, key=lambda e: -max(e.pred_ms, e.gold_ms))[:15]
    slow = [e for e in slow if max(e.pred_ms, e.gold_ms) > 0]
    top = max((max(e.pred_ms, e.gold_ms) for e in slow), default=1.0)
    parts.append("<div class='grid'><div><h2>Slowest predictions (ms)</h2>")
    parts.append(
        svg_bars(
            [
                (
                    f"#{e.index} {e.db_id}",
                    e.pred_ms,
                    f"{e.pred_ms:.0f} ms {e.outcome if e.outcome != CORRECT else ''}",
                )
                for e in slow
            ],
            top,
            _BAR_COLORS["time"],
        )
    )
    parts.append("</div><div><h2>Gold time of the same examples (ms)</h2>")
    parts.append(
        svg_bars(
            [
                (
                    f"#{e.index} {e.db_id}",
                    e.gold_ms,
                    f"{e.gold_ms:.0f} ms{' (cached)' if e.gold_cached else ''}",
                )
                for e in slow
            ],
            top,
            _BAR_COLORS["time"],
        )
    )
    parts.append("</div></div>")

    wrong = [e for e in result.examples if e.correct is False]
    shown = wrong if max_wrong is None else wrong[:max_wrong]
    parts.append(f"<h2>Examples not correct ({len(wrong)})</h2>")
    if len(shown) < len(wrong):
        parts.append(f"<p class='muted'>first {len(shown)} shown</p>")
    parts.append(
        "<table class='main'><tr><th>#</th><th>db</th><th>difficulty</th><th>outcome</th>"
        "<th>question / SQL</th><th>gold result</th><th>predicted result</th></tr>"
    )
    parts.extend(_wrong_row(e) for e in shown)
    parts.append("</table>")
    skipped = [e for e in result.examples if e.correct is None]
    if skipped:
        parts.append(f"<h2>Examples not judged ({len(skipped)})</h2><table class='main'>")
        parts.append("<tr><th>#</th><th>db</th><th>reason</th></tr>")
        parts.extend(
            f"<tr><td>{e.index}</td><td>{_esc(e.db_id)}</td><td>{_esc(e.outcome)}: {_esc(e.message[:300])}</td></tr>"
            for e in skipped
        )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(result: EvalResult, path: str | Path, title: str | None = None) -> None:
    Path(path).write_text(render_html(result, title), encoding="utf-8")
