"""Step-by-step rationales derived from SQL alone (no LLM): which tables and keys, filters, grouping,
aggregation, ordering, set operations and subqueries, in execution order, then the final SQL.

Distilling step-by-step and Orca train on such explanation traces; these are exact by construction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlglot import exp

from ..db.schema_model import Schema, Table
from ..sql.normalize import SQLParseError, parse_sql
from . import names

_AGG_WORDS = {"count": "number", "sum": "total", "avg": "average", "max": "largest", "min": "smallest"}
_SET_WORDS = {
    "union": "UNION: rows from either part, duplicates removed",
    "intersect": "INTERSECT: only rows found in every part",
    "except": "EXCEPT: rows of the first part that are not in the later parts",
}


@dataclass
class _Steps:
    """Steps as a tree: the steps of a subquery or CTE nest under the step that introduces it."""

    lines: list[tuple[int, str]] = field(default_factory=list)
    subqueries: int = 0
    depth: int = 0

    def add(self, text: str) -> None:
        self.lines.append((self.depth, text))

    @contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def render(self) -> str:
        out: list[str] = []
        counters: list[int] = []
        for depth, text in self.lines:
            del counters[depth + 1 :]
            while len(counters) <= depth:
                counters.append(0)
            counters[depth] += 1
            number = ".".join(str(c) for c in counters[: depth + 1])
            out.append(f"{'   ' * depth}{number}. {text}")
        return "\n".join(out)


def rationale_from_sql(sql: str, schema: Schema) -> str:
    """Numbered reasoning steps that lead to ``sql`` (SQLite) over ``schema``, ending with the SQL.

    Deterministic: the same statement and schema always give the same text. SQL that cannot be parsed
    gets a single step saying so, followed by the SQL as given.
    """
    steps = _Steps()
    try:
        tree = parse_sql(sql, "sqlite", copy=False)
    except SQLParseError:
        return f"1. The statement could not be analysed; it is used as written.\n\n```sql\n{sql.strip()}\n```"
    _Explainer(schema, steps).query(tree, top=True)
    body = steps.render()
    # the statement exactly as given, so the rationale ends in the record's own SQL
    return f"{body}\n\n```sql\n{sql.strip().rstrip(';').strip()}\n```"


class _Explainer:
    def __init__(self, schema: Schema, steps: _Steps):
        self.schema = schema
        self.steps = steps
        self.tables = {t.name.lower(): t for t in schema.tables}
        self.ctes: set[str] = set()

    @staticmethod
    def sql(node: exp.Expression) -> str:
        if isinstance(node, exp.Not) and isinstance(node.this, (exp.In, exp.Between)):
            # sqlglot writes NOT x IN (…); SQL readers expect x NOT IN (…)
            inner = node.this
            left = inner.this.sql(dialect="sqlite")
            text = inner.sql(dialect="sqlite")
            if text.startswith(left + " "):
                return f"{left} NOT {text[len(left) + 1 :]}"
        return node.sql(dialect="sqlite")

    # ---- queries -----------------------------------------------------------------------------
    def query(self, node: exp.Expression, top: bool = False, label: str = "") -> None:
        with_ = node.args.get("with_") or node.args.get("with")
        if with_ is not None:
            for cte in with_.expressions:
                name = cte.alias_or_name
                self.steps.add(f"Build the common table expression `{name}` (a named intermediate result):")
                with self.steps.nested():
                    self.query(cte.this, label=f"`{name}`")
                self.ctes.add(name.lower())
            if top:
                self.steps.add("Now answer the question from the intermediate results:")
        if isinstance(node, exp.SetOperation):
            self.set_operation(node, top)
        elif isinstance(node, exp.Select):
            self.select(node, top, label)
        elif isinstance(node, exp.Subquery):
            self.query(node.this, top, label)
        else:
            self.steps.add(f"Run the statement `{self.sql(node)}`.")

    def set_operation(self, node: exp.SetOperation, top: bool) -> None:
        parts = _flatten_set(node)
        for i, part in enumerate(parts, start=1):
            self.steps.add(f"Part {i} of the {node.key.upper()}:")
            with self.steps.nested():
                self.query(part)
        word = _SET_WORDS.get(node.key.lower(), node.key.upper())
        if node.key.lower() == "union" and node.args.get("distinct") is False:
            word = "UNION ALL: rows from every part, duplicates kept"
        self.steps.add(f"Combine the {len(parts)} parts with {word}.")
        self.order_limit(node, None)

    def select(self, node: exp.Select, top: bool, label: str) -> None:
        sources = self.sources(node)
        self.from_and_joins(node, sources)
        where = node.args.get("where")
        if where is not None:
            self.subqueries_of(where.this)
            conds = _conjuncts(where.this)
            if len(conds) == 1:
                self.steps.add(
                    f"Keep only the rows where `{self.sql(conds[0])}`{self.gloss_condition(conds[0])}."
                )
            else:
                joined = "; ".join(f"`{self.sql(c)}`" for c in conds)
                self.steps.add(f"Keep only the rows that satisfy all of: {joined}.")
        group = node.args.get("group")
        aggregates = [a for e in node.expressions for a in _own_aggregates(e)]
        if group is not None:
            keys = ", ".join(f"`{self.sql(k)}`" for k in group.expressions)
            self.steps.add(
                f"Group the rows by {keys}, one group per distinct value{'s' if len(group.expressions) > 1 else ''}."
            )
        having = node.args.get("having")
        if aggregates or having is not None:
            where_word = "in each group" if group is not None else "over all remaining rows"
            funcs = _unique([self.sql(a) for a in aggregates])
            if funcs:
                glosses = "; ".join(
                    f"`{f}`{self.gloss_aggregate(a)}"
                    for f, a in zip(funcs, _unique_nodes(aggregates), strict=False)
                )
                self.steps.add(f"Compute {glosses} {where_word}.")
        if having is not None:
            self.subqueries_of(having.this)
            self.steps.add(f"Keep only the groups where `{self.sql(having.this)}`.")
        windows = [w for e in node.expressions for w in e.find_all(exp.Window)]
        for w in windows:
            self.steps.add(f"Compute the window function `{self.sql(w)}`{self.gloss_window(w)}.")
        for e in node.expressions:
            for sub in e.find_all(exp.Subquery):
                if sub.find_ancestor(exp.Subquery) is None or sub.parent is e:
                    self.subquery(sub, "used in the output")
        self.projection(node, label)
        self.order_limit(node, node)

    def sources(self, node: exp.Select) -> dict[str, Table | None]:
        out: dict[str, Table | None] = {}
        items = []
        from_ = node.args.get("from_") or node.args.get("from")
        if from_ is not None:
            items.append(from_.this)
        items.extend(j.this for j in node.args.get("joins") or [])
        for item in items:
            if isinstance(item, exp.Table):
                out[(item.alias or item.name).lower()] = self.tables.get(item.name.lower())
            elif isinstance(item, exp.Subquery) and item.alias:
                out[item.alias.lower()] = None
        return out

    def describe_source(self, item: exp.Expression) -> str:
        if isinstance(item, exp.Table):
            table = self.tables.get(item.name.lower())
            alias = f" AS {item.alias}" if item.alias else ""
            if item.name.lower() in self.ctes:
                return f"the intermediate result `{item.name}`{alias}"
            what = f" ({names.table_noun(table, plural=True)})" if table is not None else ""
            return f"`{item.name}`{alias}{what}"
        if isinstance(item, exp.Subquery):
            return f"the derived table `{item.alias}`"
        return f"`{self.sql(item)}`"

    def from_and_joins(self, node: exp.Select, sources: dict[str, Table | None]) -> None:
        from_ = node.args.get("from_") or node.args.get("from")
        if from_ is None:
            self.steps.add("There is no table: the values are computed directly.")
            return
        first = from_.this
        if isinstance(first, exp.Subquery):
            self.steps.add(f"Build the derived table `{first.alias}`:")
            with self.steps.nested():
                self.query(first.this)
        self.steps.add(f"Start from {self.describe_source(first)}.")
        for join in node.args.get("joins") or []:
            target = join.this
            if isinstance(target, exp.Subquery):
                self.steps.add(f"Build the derived table `{target.alias}`:")
                with self.steps.nested():
                    self.query(target.this)
            side = f"{join.side.upper()} " if join.side else ""
            on = join.args.get("on")
            using = join.args.get("using")
            if on is not None:
                how = f" on `{self.sql(on)}`{self.gloss_join(on, sources)}"
            elif using:
                how = f" using ({', '.join(i.name for i in using)})"
            else:
                how = " (every combination of rows; the WHERE clause links them)"
            self.steps.add(
                f"{side.title()}Join {self.describe_source(target)}{how}.".replace("  ", " ").strip()
            )

    def projection(self, node: exp.Select, label: str) -> None:
        cols = ", ".join(self.gloss_output(e) for e in node.expressions)
        distinct = " and remove duplicate rows (DISTINCT)" if node.args.get("distinct") is not None else ""
        target = f" for {label}" if label else ""
        self.steps.add(f"Return {cols}{target}{distinct}.")

    def order_limit(self, node: exp.Expression, select: exp.Select | None) -> None:
        order = node.args.get("order")
        limit = node.args.get("limit")
        offset = node.args.get("offset")
        if order is not None:
            keys = []
            for o in order.expressions:
                direction = "descending" if o.args.get("desc") else "ascending"
                keys.append(f"`{self.sql(o.this)}` ({direction})")
            self.steps.add(f"Sort the rows by {', then by '.join(keys)}.")
        if limit is not None:
            n = self.sql(limit.expression)
            rows = "row" if n == "1" else "rows"
            skip = f" after skipping the first {self.sql(offset.expression)}" if offset is not None else ""
            top = " (the top of the sorted list)" if order is not None else ""
            self.steps.add(f"Keep only {n} {rows}{skip}{top}.")
        elif offset is not None:
            self.steps.add(f"Skip the first {self.sql(offset.expression)} rows.")

    # ---- subqueries ----------------------------------------------------------------------------
    def subqueries_of(self, node: exp.Expression) -> None:
        for sub in _direct_subqueries(node):
            parent = sub.parent
            if isinstance(parent, exp.Exists) or isinstance(sub, exp.Exists):
                role = "for EXISTS (it only matters whether it returns a row)"
            elif isinstance(parent, exp.In):
                role = "for the IN list"
            else:
                role = "as a single value to compare with"
            self.subquery(sub, role)

    def subquery(self, sub: exp.Expression, role: str) -> None:
        self.steps.subqueries += 1
        n = self.steps.subqueries
        query = sub.this if isinstance(sub, (exp.Subquery, exp.Exists)) else sub
        correlated = _is_correlated(query)
        note = "; it is correlated, so it runs again for each row of the outer query" if correlated else ""
        self.steps.add(f"Subquery {n}, {role}{note}:")
        with self.steps.nested():
            self.query(query)

    # ---- glosses ------------------------------------------------------------------------------
    def gloss_output(self, node: exp.Expression) -> str:
        inner = node.this if isinstance(node, exp.Alias) else node
        text = f"`{self.sql(node)}`"
        if isinstance(inner, exp.Star):
            return "every column (`*`)"
        if isinstance(inner, exp.Column) and isinstance(inner.this, exp.Star):
            return f"every column of `{inner.table}` (`{self.sql(inner)}`)"
        if (
            isinstance(inner, (exp.Mul, exp.Div))
            and "100" in self.sql(inner)
            and inner.find(exp.AggFunc) is not None
        ):
            return f"{text} (a percentage)"
        return text

    def gloss_join(self, on: exp.Expression, sources: dict[str, Table | None]) -> str:
        for cond in _conjuncts(on):
            if not isinstance(cond, exp.EQ):
                continue
            a, b = cond.this, cond.expression
            if not (isinstance(a, exp.Column) and isinstance(b, exp.Column)):
                continue
            ta, tb = sources.get(a.table.lower()), sources.get(b.table.lower())
            if ta is None or tb is None:
                continue
            for (t1, c1), (t2, c2) in (((ta, a.name), (tb, b.name)), ((tb, b.name), (ta, a.name))):
                if _fk(t1, c1, t2, c2):
                    n1, n2 = names.table_noun(t1), names.table_noun(t2)
                    return (f" (foreign key {t1.name}.{c1} → {t2.name}.{c2}: each {n1} has one {n2})"
                            if t1 is not t2 else f" (foreign key {t1.name}.{c1} → {t2.name}.{c2}, a self-reference)")  # fmt: skip
        return ""

    def gloss_condition(self, cond: exp.Expression) -> str:
        node = cond.this if isinstance(cond, exp.Not) else cond
        if isinstance(node, exp.Like):
            return " (a text pattern: % stands for any text)"
        if isinstance(node, exp.In) and node.args.get("query") is not None:
            if isinstance(cond, exp.Not):
                return " (the value must not appear in the subquery's result)"
            return " (the value must appear in the subquery's result)"
        if isinstance(node, exp.Exists):
            return (
                " (a matching row must exist)"
                if not isinstance(cond, exp.Not)
                else " (no matching row may exist)"
            )
        if isinstance(node, exp.Is):
            return " (a missing value)" if not isinstance(cond, exp.Not) else " (a value is present)"
        return ""

    def gloss_aggregate(self, node: exp.Expression) -> str:
        name = node.key.lower()
        arg = node.this
        if name == "count" and (arg is None or isinstance(arg, exp.Star)):
            return " (the number of rows)"
        if isinstance(arg, exp.Distinct):
            return " (the number of distinct values)" if name == "count" else " (over distinct values)"
        word = _AGG_WORDS.get(name)
        if word is None:
            return ""
        case = arg.this if isinstance(arg, exp.Paren) else arg
        if name == "sum" and isinstance(case, exp.Case) and len(case.args.get("ifs") or []) == 1:
            then = case.args["ifs"][0].args.get("true")
            if isinstance(then, exp.Literal) and str(then.this) == "1":
                return f" (the number of rows where `{self.sql(case.args['ifs'][0].this)}`)"
        if isinstance(arg, exp.Column):
            return (
                f" (the {word} {names.humanize(arg.name)})"
                if name != "count"
                else f" (rows with a {names.humanize(arg.name)})"
            )
        return f" (the {word})"

    def gloss_window(self, node: exp.Window) -> str:
        parts = node.args.get("partition_by") or []
        within = f" within each {', '.join(self.sql(p) for p in parts)}" if parts else " over all rows"
        func = node.this
        order = node.args.get("order")
        by = ""
        if order is not None:
            keys = [
                f"`{self.sql(o.this)}` ({'descending' if o.args.get('desc') else 'ascending'})"
                for o in order.expressions
            ]
            by = f" by {', then '.join(keys)}"
        if isinstance(func, (exp.Rank, exp.DenseRank, exp.RowNumber)):
            verb = "numbers" if isinstance(func, exp.RowNumber) else "ranks"
            return f": {verb} the rows{within}{by}"
        if isinstance(func, exp.AggFunc):
            running = (
                " as a running total in the window's order" if node.args.get("order") is not None else ""
            )
            return f": the {_AGG_WORDS.get(func.key.lower(), func.key.lower())}{within}{running}, kept on every row"
        return ""


# ---- AST helpers ---------------------------------------------------------------------------------
def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


def _flatten_set(node: exp.Expression) -> list[exp.Expression]:
    kind = type(node)
    out: list[exp.Expression] = []

    def walk(n: exp.Expression) -> None:
        if (
            type(n) is kind
            and n.args.get("distinct") == node.args.get("distinct")
            and not n.args.get("order")
        ):
            walk(n.this)
            walk(n.expression)
        else:
            out.append(n.this if isinstance(n, exp.Subquery) else n)

    walk(node.this)
    walk(node.expression)
    return out


def _own_aggregates(node: exp.Expression) -> list[exp.Expression]:
    found = []
    for agg in node.find_all(exp.AggFunc):
        parent, inside = agg.parent, False
        while parent is not None and parent is not node.parent:
            if isinstance(parent, (exp.Window, exp.Subquery)):
                inside = True
                break
            parent = parent.parent
        if not inside:
            found.append(agg)
    return found


def _unique(items: list[str]) -> list[str]:
    seen: list[str] = []
    for i in items:
        if i not in seen:
            seen.append(i)
    return seen


def _unique_nodes(nodes: list[exp.Expression]) -> list[exp.Expression]:
    seen: dict[str, exp.Expression] = {}
    for n in nodes:
        seen.setdefault(n.sql(dialect="sqlite"), n)
    return list(seen.values())


def _direct_subqueries(node: exp.Expression) -> list[exp.Expression]:
    """Subqueries of a condition that are not inside another subquery of it."""
    out = []
    for sub in node.find_all(exp.Subquery, exp.Exists):
        if isinstance(sub, exp.Subquery) and isinstance(sub.parent, exp.Exists):
            continue
        parent, nested = sub.parent, False
        while parent is not None and parent is not node:
            if isinstance(parent, (exp.Subquery, exp.Exists)):
                nested = True
                break
            parent = parent.parent
        if not nested:
            out.append(sub)
    if isinstance(node, exp.In) and node.args.get("query") is not None and node.args["query"] not in out:
        out.append(node.args["query"])
    return out


def _is_correlated(query: exp.Expression) -> bool:
    if not isinstance(query, exp.Select):
        return False
    local = set()
    from_ = query.args.get("from_") or query.args.get("from")
    items = ([from_.this] if from_ is not None else []) + [j.this for j in query.args.get("joins") or []]
    for item in items:
        local.add(
            (item.alias or item.name).lower() if isinstance(item, exp.Table) else (item.alias or "").lower()
        )
        if isinstance(item, exp.Table):
            local.add(item.name.lower())
    for col in query.find_all(exp.Column):
        if col.table and col.table.lower() not in local:
            inner = col.find_ancestor(exp.Select)
            if inner is query:
                return True
    return False


def _fk(table: Table, column: str, ref: Table, ref_column: str) -> bool:
    for fk in table.foreign_keys:
        if fk.ref_table.lower() != ref.name.lower():
            continue
        for c, r in zip(fk.columns, fk.ref_columns, strict=False):
            if c.lower() == column.lower() and r.lower() == ref_column.lower():
                return True
    return False
