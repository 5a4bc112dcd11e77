"""Spider's easy/medium/hard/extra hardness, as the official ``evaluation.py`` (``eval_hardness``)
computes it, from a sqlglot parse of any SQL (here) or from Spider's own parse tree (``sql`` in
dev.json; :mod:`sqlfoundry.sql.spider_tree`, re-exported here).

The official rule counts three things on the *top-level* query only (a set operation's right-hand
side and the inside of subqueries are not looked at; a trailing ORDER BY/LIMIT after a set operation
belongs to the right-hand side there, so it is not counted either):

- component 1: +1 each for WHERE, GROUP BY, ORDER BY, LIMIT; +1 per table beyond the first in FROM
  (joins); +1 per ``OR`` and +1 per ``LIKE`` condition in the ON, WHERE and HAVING conditions.
- component 2: +1 per condition value in ON/WHERE/HAVING that is a subquery, +1 for a set operation
  (INTERSECT/UNION/EXCEPT). Subqueries in FROM are *not* counted.
- others: +1 if the "aggregate count" > 1, +1 for more than one SELECT item, +1 for more than one
  WHERE condition, +1 for more than one GROUP BY item.

The official aggregate count has a quirk that we reproduce because it decides buckets: it reads the
first field of each condition unit, which is the condition's NOT flag, so in WHERE and HAVING it
counts negated conditions (``NOT IN``, ``NOT LIKE``, ``NOT BETWEEN``) rather than aggregates, and in
HAVING it also counts each AND/OR connective. Aggregates are counted in SELECT (one per item),
GROUP BY and ORDER BY.

Where Spider's parser cannot read a construct, we choose: ``x IS NOT NULL`` is an ``IS`` condition
(not a NOT-flagged one), a prefix ``NOT cond`` sets the NOT flag, ``EXISTS (subquery)`` is a condition
whose value is a subquery, parentheses around AND/OR groups are flattened, a SELECT item or ORDER BY
item counts the aggregates it contains (outside subqueries), and a CTE's body is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from .normalize import parse_sql
from .spider_tree import (
    HARDNESS_LEVELS,
    HardnessCounts,
    hardness_counts_from_parsed,
    hardness_from_counts,
    spider_hardness_from_parsed,
)

_AGGREGATES = (exp.Max, exp.Min, exp.Count, exp.Sum, exp.Avg)

# ---------------------------------------------------------------------------------------------------
# sqlglot path: any SQL


@dataclass
class _Condition:
    """One condition unit of Spider's flat ``[cond, 'and'/'or', cond, ...]`` list."""

    node: exp.Expression
    negated: bool


def _unwrap_parens(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _flatten_condition(node: exp.Expression | None) -> tuple[list[_Condition], list[str]]:
    """Conditions and connectives of a boolean expression, left to right, parentheses flattened."""
    conds: list[_Condition] = []
    connectives: list[str] = []

    def walk(n: exp.Expression) -> None:
        n = _unwrap_parens(n)
        if isinstance(n, exp.Connector):  # And / Or (/ Xor)
            walk(n.this)
            connectives.append("or" if isinstance(n, exp.Or) else "and")
            walk(n.expression)
            return
        negated = False
        if isinstance(n, exp.Not):
            inner = _unwrap_parens(n.this)
            if isinstance(inner, exp.Is):
                # x IS NOT NULL: an IS condition, not a NOT-flagged one
                conds.append(_Condition(inner, False))
                return
            negated, n = True, inner
        if n.args.get("negate"):
            negated = True
        conds.append(_Condition(n, negated))

    if node is not None:
        walk(node)
    return _swallow_after_column_value(conds, connectives)


def _swallow_after_column_value(
    conds: list[_Condition], connectives: list[str]
) -> tuple[list[_Condition], list[str]]:
    """Reproduce Spider's parser on ``a = T2.b OR ...``: a value that is a column is read by scanning
    ahead to the next ``,``/``)``/AND/clause keyword, so conditions after such a value joined by OR are
    lost up to the next AND (and so are those ORs)."""
    kept: list[_Condition] = []
    kept_connectives: list[str] = []
    i = 0
    while i < len(conds):
        kept.append(conds[i])
        j = i
        if _value_is_column(conds[i].node):
            while j < len(connectives) and connectives[j] == "or":
                j += 1
        if j < len(connectives):
            kept_connectives.append(connectives[j])
        i = j + 1
    return kept, kept_connectives


def _value_is_column(node: exp.Expression) -> bool:
    if not isinstance(node, (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike)):
        return False
    value = _unwrap_parens(node.expression)
    if isinstance(value, exp.Column) and not value.table and value.this.args.get("quoted"):
        # Spider's tokenizer reads every "..." as a string value (SQLite falls back the same way)
        return False
    return isinstance(value, (exp.Column, *_AGGREGATES))


def _is_like(node: exp.Expression) -> bool:
    return isinstance(node, (exp.Like, exp.ILike))


def _count_queries(node: exp.Expression) -> int:
    """Subqueries directly inside ``node`` (a subquery's own subqueries are not counted)."""
    if isinstance(node, exp.Query):
        return 1
    return sum(_count_queries(child) for child in node.iter_expressions())


def _count_aggregates(node: exp.Expression) -> int:
    if isinstance(node, exp.Query):
        return 0
    own = 1 if isinstance(node, _AGGREGATES) else 0
    return own + sum(_count_aggregates(child) for child in node.iter_expressions())


def _top_select(tree: exp.Expression) -> tuple[exp.Expression, bool]:
    """The query whose clauses Spider counts, and whether a set operation follows it."""
    node = tree
    set_op = False
    while True:
        if isinstance(node, exp.Subquery):
            node = node.this
        elif isinstance(node, exp.SetOperation):
            set_op = True
            node = node.this
        else:
            return node, set_op


def hardness_counts(sql: str | exp.Expression, dialect: str = "sqlite") -> HardnessCounts:
    """The official (component1, component2, others) counts computed on a sqlglot parse."""
    tree = parse_sql(sql, dialect, copy=False) if isinstance(sql, str) else sql
    select, set_op = _top_select(tree)
    if not isinstance(select, exp.Select):
        # VALUES, a bare expression, DDL: nothing Spider would count
        return HardnessCounts(0, 1 if set_op else 0, 0)

    joins = select.args.get("joins") or []
    from_ = select.args.get("from_") or select.args.get("from")
    n_tables = (1 if from_ is not None else 0) + len(joins)

    on_conds: list[_Condition] = []
    on_connectives: list[str] = []
    for join in joins:
        conds, connectives = _flatten_condition(join.args.get("on"))
        if join.args.get("using"):
            conds.append(_Condition(exp.Tuple(expressions=list(join.args["using"])), False))
        if conds and on_conds:
            on_connectives.append("and")
        on_conds.extend(conds)
        on_connectives.extend(connectives)

    where = select.args.get("where")
    where_conds, where_connectives = _flatten_condition(where.this if where else None)
    having = select.args.get("having")
    having_conds, having_connectives = _flatten_condition(having.this if having else None)
    group = select.args.get("group")
    group_items = list(group.expressions) if group else []
    order = select.args.get("order")
    order_items = [o.this if isinstance(o, exp.Ordered) else o for o in (order.expressions if order else [])]
    limit = select.args.get("limit")

    all_conds = on_conds + where_conds + having_conds
    all_connectives = on_connectives + where_connectives + having_connectives

    component1 = (
        int(bool(where_conds))
        + int(bool(group_items))
        + int(bool(order_items))
        + int(limit is not None)
        + max(n_tables - 1, 0)
        + sum(1 for c in all_connectives if c == "or")
        + sum(1 for c in all_conds if _is_like(c.node))
    )

    component2 = sum(_count_queries(c.node) for c in all_conds) + (1 if set_op else 0)

    agg_count = sum(min(_count_aggregates(_strip_alias(e)), 1) for e in select.expressions)
    agg_count += sum(1 for c in where_conds if c.negated)
    agg_count += sum(_count_aggregates(g) for g in group_items)
    agg_count += sum(_count_aggregates(o) for o in order_items)
    agg_count += sum(1 for c in having_conds if c.negated) + len(having_connectives)
    others = (
        int(agg_count > 1)
        + int(len(select.expressions) > 1)
        + int(len(where_conds) > 1)
        + int(len(group_items) > 1)
    )
    return HardnessCounts(component1, component2, others)


def _strip_alias(node: exp.Expression) -> exp.Expression:
    return node.this if isinstance(node, exp.Alias) else node


def spider_hardness(sql: str | exp.Expression, dialect: str = "sqlite") -> str:
    """Spider's hardness level (easy, medium, hard or extra) of any SQL, from a sqlglot parse.

    Raises :class:`~sqlfoundry.sql.normalize.SQLParseError` when the SQL does not parse.
    """
    return hardness_counts(sql, dialect).level


__all__ = [
    "HARDNESS_LEVELS",
    "HardnessCounts",
    "hardness_counts",
    "hardness_counts_from_parsed",
    "hardness_from_counts",
    "spider_hardness",
    "spider_hardness_from_parsed",
]
