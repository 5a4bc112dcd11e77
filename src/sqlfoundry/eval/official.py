"""The official evaluators' known quirks, reproduced on purpose for ``--compat official``.

Each function is one quirk of taoyds/test-suite-sql-eval (Spider) or the BIRD ``evaluation.py``;
docs/evaluation.md says where each comes from and what it does to scores.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_CUR_YEAR = re.compile(r"YEAR\s*\(\s*CURDATE\s*\(\s*\)\s*\)\s*", re.IGNORECASE)

#: Spider test-suite ``exec_on_db`` timeout (seconds). It never fires: ``asyncio.wait_for`` wraps a
#: coroutine that runs SQLite synchronously, so a slow query blocks the run (test-suite#26).
SPIDER_OFFICIAL_TIMEOUT_S = 60.0
#: BIRD ``--meta_time_out`` default: one budget for the prediction *and* the gold query together.
BIRD_OFFICIAL_TIMEOUT_S = 30.0


def fix_spaced_operators(sql: str) -> str:
    """``'> ='`` → ``'>='``, ``'< ='`` → ``'<='``, ``'! ='`` → ``'!='`` (test-suite ``postprocess``;
    applied to gold and prediction)."""
    return sql.replace("> =", ">=").replace("< =", "<=").replace("! =", "!=")


def replace_current_year(sql: str) -> str:
    """``YEAR(CURDATE())`` → ``2020`` (test-suite ``replace_cur_year``, applied when executing either query)."""
    return _CUR_YEAR.sub("2020", sql)


def replace_value_placeholder(sql: str) -> str:
    """Every substring ``value`` → ``1`` in the prediction (test-suite ``evaluation.py``: meant for
    models that emit a ``value`` placeholder; case-sensitive, so it also rewrites identifiers that
    contain ``value`` — a ``value`` column, ``t.value_usd`` — but not ``Value``: test-suite#21,
    gold-vs-gold 0.985 on Spider test)."""
    return sql.replace("value", "1")


def spider_prediction(sql: str, keep_distinct: bool = False) -> str:
    """A prediction as the test-suite evaluator executes it (after the TAB cut done when reading)."""
    from ..sql.compare import remove_distinct

    sql = replace_value_placeholder(sql)
    sql = fix_spaced_operators(sql)
    if not keep_distinct:
        sql = remove_distinct(sql)
    return replace_current_year(sql)


def spider_gold(sql: str, keep_distinct: bool = False) -> str:
    """A gold query as the test-suite evaluator executes it; ``'order by' in`` this text (lower-cased)
    decides whether row order matters."""
    from ..sql.compare import remove_distinct

    sql = fix_spaced_operators(sql)
    if not keep_distinct:
        sql = remove_distinct(sql)
    return replace_current_year(sql)


def spider_gold_default(sql: str) -> str:
    """The gold fixes our default keeps (they only repair gold typos, never predictions)."""
    return replace_current_year(fix_spaced_operators(sql))


def spider_database_files(folder: Path) -> list[Path]:
    """The databases the test-suite evaluator compares on: every file in the db_id folder whose name
    *contains* ``.sqlite`` (so ``x.sqlite-journal`` or ``x.sqlite.bak`` count too), in listing order."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [folder / n for n in names if ".sqlite" in n and (folder / n).is_file()]


def bird_over_budget(pred_ms: float, gold_ms: float, timeout_s: float) -> bool:
    """BIRD runs prediction and gold inside one ``func_timeout(meta_time_out, …)`` call: their
    summed time must fit the budget, so a slow gold query fails every prediction (mini_dev#43)."""
    return (pred_ms + gold_ms) > timeout_s * 1000.0
