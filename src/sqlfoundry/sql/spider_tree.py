"""Analyses read off Spider's own parse tree (the ``sql`` field of dev.json / train_spider.json),
without sqlglot: the official hardness counting, the SQL skills and the row-order rule.

On a cold cache an evaluation of Spider dev would otherwise import sqlglot (~0.13 s) and parse every
gold query (~0.1 ms each) only to fill its breakdowns. The tree already holds what those need.
``tests/test_spider_tree.py`` checks on every Spider dev example that the skills and the row-order
rule read here equal the sqlglot analyses (:func:`sqlfoundry.sql.skills.sql_skills`,
:func:`sqlfoundry.sql.compare.gold_orders_rows`); where the query text holds something the tree
cannot express (a function other than the five aggregates, CASE, a CTE, a window, ``||``),
:func:`skills_from_tree` declines and the caller parses instead.

The tree's shape (Spider's ``process_sql.py``): a query is ``{"select": [distinct, [[agg, val_unit],
...]], "from": {"table_units": [[kind, table id or query], ...], "conds": conds}, "where": conds,
"groupBy": [col_unit, ...], "having": conds, "orderBy": [] or [dir, [val_unit, ...]], "limit": n or
None, "intersect"/"union"/"except": query or None}``; ``conds`` alternate condition units
``[not, op, val_unit, val1, val2]`` with ``"and"``/``"or"``; a ``val_unit`` is ``[unit_op, col_unit,
col_unit or None]`` and a ``col_unit`` ``[agg, column id, distinct]``; a value is a number, a string,
a col_unit or a query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

HARDNESS_LEVELS = ("easy", "medium", "hard", "extra")

# Indexes into the official WHERE_OPS, AGG_OPS and UNIT_OPS tuples.
_OP_BETWEEN, _OP_IN, _OP_LIKE, _OP_IS = 1, 8, 9, 10
_AGG_NONE = 0
_SET_OPS = ("intersect", "union", "except")


@dataclass(frozen=True)
class HardnessCounts:
    """The three counts the official rule thresholds."""

    component1: int
    component2: int
    others: int

    @property
    def level(self) -> str:
        return hardness_from_counts(self.component1, self.component2, self.others)


def hardness_from_counts(component1: int, component2: int, others: int) -> str:
    """The official thresholds of ``eval_hardness`` applied to the three counts."""
    c1, c2, oth = component1, component2, others
    if c1 <= 1 and oth == 0 and c2 == 0:
        return "easy"
    if (oth <= 2 and c1 <= 1 and c2 == 0) or (c1 <= 2 and oth < 2 and c2 == 0):
        return "medium"
    if (
        (oth > 2 and c1 <= 2 and c2 == 0)
        or (2 < c1 <= 3 and oth <= 2 and c2 == 0)
        or (c1 <= 1 and oth == 0 and c2 <= 1)
    ):
        return "hard"
    return "extra"


# ---------------------------------------------------------------------------------------------------
# hardness


def _has_agg(unit: Any) -> bool:
    # The official has_agg: unit[0] != 0. For condition units unit[0] is the NOT flag, and for the
    # 'and'/'or' strings of a condition list it is a letter: both count, as in the original.
    return unit[0] != _AGG_NONE


def hardness_counts_from_parsed(sql: dict[str, Any]) -> HardnessCounts:
    """The official counts on a Spider parse tree (the ``sql`` field of dev.json / train_spider.json)."""
    from_conds = sql["from"]["conds"]
    where, having = sql["where"], sql["having"]
    table_units = sql["from"]["table_units"]

    component1 = (
        int(len(where) > 0)
        + int(len(sql["groupBy"]) > 0)
        + int(len(sql["orderBy"]) > 0)
        + int(sql["limit"] is not None)
        + (len(table_units) - 1 if table_units else 0)
    )
    connectives = from_conds[1::2] + where[1::2] + having[1::2]
    component1 += sum(1 for token in connectives if token == "or")
    cond_units = from_conds[::2] + where[::2] + having[::2]
    component1 += sum(1 for unit in cond_units if unit[1] == _OP_LIKE)

    component2 = sum(isinstance(unit[3], dict) + isinstance(unit[4], dict) for unit in cond_units)
    component2 += sum(sql.get(op) is not None for op in _SET_OPS)

    agg_count = sum(_has_agg(u) for u in sql["select"][1])
    agg_count += sum(_has_agg(u) for u in where[::2])
    agg_count += sum(_has_agg(u) for u in sql["groupBy"])
    if sql["orderBy"]:
        val_units = sql["orderBy"][1]
        col_units = [v[1] for v in val_units if v[1]] + [v[2] for v in val_units if v[2]]
        agg_count += sum(_has_agg(u) for u in col_units)
    agg_count += sum(_has_agg(u) for u in having)
    others = (
        int(agg_count > 1)
        + int(len(sql["select"][1]) > 1)
        + int(len(where) > 1)
        + int(len(sql["groupBy"]) > 1)
    )
    return HardnessCounts(component1, component2, others)


def spider_hardness_from_parsed(sql: dict[str, Any]) -> str:
    """Spider's hardness level from Spider's own parse tree, exactly as ``evaluation.py`` computes it."""
    return hardness_counts_from_parsed(sql).level


# ---------------------------------------------------------------------------------------------------
# skills

_LITERALS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]")
_CALL = re.compile(r"([a-z_][a-z_0-9]*)\s*\(")
#: words a "(" may follow in a query the tree can express: the five aggregates and keywords before a
#: parenthesised subquery, list or condition
_CALL_OK = frozenset(
    "count sum avg min max in exists from join where and or not on having as select union intersect "
    "except by between".split()
)
_UNEXPRESSIBLE = re.compile(r"\|\||\b(?:case|when|over|with|window|filter|cast|iif|glob|ilike)\b")
_UNEXPRESSIBLE_HINTS = ("|", "case", "when", "over", "with", "window", "filter", "cast", "iif", "glob")


def tree_expresses(text: str) -> bool:
    """Whether Spider's tree can hold everything in this query text: no function but the five
    aggregates, no CASE, CTE, window, cast or string concatenation (checked outside string literals
    and quoted names). Spider's parser rejects such queries, but a tree may come from elsewhere."""
    # The whole text first: literals and quoted names only add words, so a text that passes as it
    # is passes without them; only the few that do not are looked at again without them.
    if _expresses(text.lower()):
        return True
    return any(q in text for q in "'\"`[") and _expresses(_LITERALS.sub(" '' ", text).lower())


def _expresses(low: str) -> bool:
    # Substring tests first: the regular expressions run only on the few queries that need them.
    if any(hint in low for hint in _UNEXPRESSIBLE_HINTS) and _UNEXPRESSIBLE.search(low):
        return False
    return "(" not in low or all(name in _CALL_OK for name in _CALL.findall(low))


def _walk_queries(sql: dict[str, Any], nested: bool, out: list[tuple[dict[str, Any], bool]]) -> None:
    """Every query in the tree with whether it is a nested subquery (not the root or a set
    operation's operand)."""
    out.append((sql, nested))
    for op in _SET_OPS:
        if sql.get(op) is not None:
            _walk_queries(sql[op], nested, out)
    for kind, unit in sql["from"]["table_units"]:
        if kind == "sql" and isinstance(unit, dict):
            _walk_queries(unit, True, out)
    for conds in (sql["from"]["conds"], sql["where"], sql["having"]):
        for unit in conds[::2]:
            for value in (unit[3], unit[4]):
                if isinstance(value, dict):
                    _walk_queries(value, True, out)


def _col_units(val_unit: Any) -> list[Any]:
    if not isinstance(val_unit, list) or len(val_unit) != 3:
        return []
    return [c for c in val_unit[1:] if isinstance(c, list)]


def skills_from_tree(sql: dict[str, Any], text: str, checked: bool = False) -> list[str] | None:
    """The sorted skill names (as :func:`sqlfoundry.sql.skills.sql_skills` names them) of a query
    given Spider's tree for it, or None when :func:`tree_expresses` says the tree cannot hold the
    whole query or holds an IS condition (parse the text instead). ``checked``: the caller has
    already seen :func:`tree_expresses` say yes for ``text``."""
    if not checked and not tree_expresses(text):
        return None
    return _skills(sql)


def _skills(sql: dict[str, Any]) -> list[str] | None:
    queries: list[tuple[dict[str, Any], bool]] = []
    _walk_queries(sql, False, queries)
    found = {"projection"}
    for query, nested in queries:
        if nested:
            found.add("nested")
        distinct, items = query["select"]
        if distinct:
            found.add("distinct")
        val_units = []
        for agg, val_unit in items:
            if agg != _AGG_NONE:
                found.add("aggregation")
            val_units.append(val_unit)
        if len(query["from"]["table_units"]) > 1:
            found.add("join")
        if query["where"]:
            found.add("filter")
        if query["groupBy"]:
            found.add("group_by")
        if query["having"]:
            found.add("having")
        if query["orderBy"]:
            found.add("order_by")
            val_units += query["orderBy"][1]
        if query["limit"] is not None:
            found.add("limit")
        if any(query.get(op) is not None for op in _SET_OPS):
            found.add("set_operation")
        col_units = list(query["groupBy"])
        for conds in (query["from"]["conds"], query["where"], query["having"]):
            for negated, op, val_unit, value1, value2 in conds[::2]:
                val_units.append(val_unit)
                if negated:
                    found.add("negation")
                if op == _OP_BETWEEN:
                    found.add("between")
                elif op == _OP_IN:
                    found.add("in")
                elif op == _OP_LIKE:
                    found.add("like")
                elif op == _OP_IS:
                    # How Spider's parser holds IS [NOT] NULL is not pinned down by any data here.
                    return None
                for value in (value1, value2):
                    if isinstance(value, list):  # a column compared with
                        col_units.append(value)
        for val_unit in val_units:
            if isinstance(val_unit, list) and val_unit and val_unit[0] != 0:
                found.add("arithmetic")
            col_units += _col_units(val_unit)
        for agg, _column, col_distinct in col_units:
            if agg != _AGG_NONE:
                found.add("aggregation")
            if col_distinct:
                found.add("distinct")
    return sorted(found)


# ---------------------------------------------------------------------------------------------------
# row order


def orders_rows_from_tree(sql: dict[str, Any]) -> bool:
    """The default row-order rule (:func:`sqlfoundry.sql.compare.gold_orders_rows`): the outermost
    query or set operation has an ORDER BY. Spider's parser hangs a set operation's trailing ORDER BY
    on its last operand, so that one counts too."""
    node: dict[str, Any] | None = sql
    while node is not None:
        if node["orderBy"]:
            return True
        node = next((node[op] for op in _SET_OPS if node.get(op) is not None), None)
    return False


__all__ = [
    "HARDNESS_LEVELS",
    "HardnessCounts",
    "hardness_counts_from_parsed",
    "hardness_from_counts",
    "orders_rows_from_tree",
    "skills_from_tree",
    "spider_hardness_from_parsed",
    "tree_expresses",
]
