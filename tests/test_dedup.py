"""Dedup keys and indexes: exact statements, template quotas and answer-based redundancy."""

from __future__ import annotations

import pytest

from sqlfoundry.sql.normalize import normalize_sql, skeleton, sql_template
from sqlfoundry.synth.dedup import ResultIndex, ResultKey, TemplateIndex, complexity_rank, sql_keys
from sqlfoundry.synth.verify import Rejection


def test_sql_keys_exact_forms():
    keys = sql_keys("select T1.Name, count(*) as n from Book as T1 where T1.price > 10.5 and T1.genre = 'It''s' "
                    "group by T1.Name order by n desc limit 3;")  # fmt: skip
    assert keys.normalized == (
        "SELECT t1 . name , COUNT ( * ) AS n FROM book AS t1 WHERE t1 . price > 10.5 AND t1 . genre = 'It''s' "
        "GROUP BY t1 . name ORDER BY n DESC LIMIT 3"
    )
    assert keys.template == (
        "SELECT t1 . name , COUNT ( * ) AS n FROM book AS t1 WHERE t1 . price > ? AND t1 . genre = ? "
        "GROUP BY t1 . name ORDER BY n DESC LIMIT 3"
    )
    assert keys.skeleton == (
        "SELECT _ . _ , COUNT ( * ) AS _ FROM _ AS _ WHERE _ . _ > ? AND _ . _ = ? GROUP BY _ . _ ORDER BY _ DESC LIMIT ?"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("SELECT a FROM t", "select   A\nfrom T ;"),
        ('SELECT "a" FROM t', 'SELECT "A" FROM "T"'.replace('"T"', "t")),
    ],
)
def test_layout_and_case_do_not_matter(a, b):
    assert sql_keys(a).normalized == sql_keys(b).normalized


def test_values_are_abstracted_but_limits_kept():
    a, b = sql_keys("SELECT a FROM t WHERE b = 1 LIMIT 5"), sql_keys("SELECT a FROM t WHERE b = 'x' LIMIT 5")
    assert a.normalized != b.normalized and a.template == b.template
    assert sql_keys("SELECT a FROM t LIMIT 5").template != sql_keys("SELECT a FROM t LIMIT 6").template
    # other names: another template, the same skeleton
    c = sql_keys("SELECT c FROM u WHERE d = 2 LIMIT 1")
    assert c.template != a.template and c.skeleton == a.skeleton


def test_untokenizable_text_has_no_keys():
    assert sql_keys("SELECT 'unterminated") is None


CORPUS = [
    "SELECT name FROM book WHERE price > 10",
    "SELECT name FROM book WHERE price > 12",
    "SELECT name FROM book WHERE price>10",
    "select name from book where price > 10",
    "SELECT name FROM book WHERE genre = 'x'",
    "SELECT name FROM book WHERE genre = 'y' LIMIT 2",
    "SELECT name FROM book WHERE genre = 'y' LIMIT 3",
    "SELECT COUNT(*) FROM book WHERE genre IN ('a', 'b')",
    "SELECT COUNT(*) FROM book WHERE genre IN ('c', 'd')",
    "SELECT COUNT(*) FROM author WHERE genre IN ('c', 'd')",
    "SELECT strftime('%Y', d) AS y, COUNT(*) FROM sale GROUP BY strftime('%Y', d) ORDER BY 2 DESC LIMIT 1",
    "SELECT strftime('%m', d) AS y, COUNT(*) FROM sale GROUP BY strftime('%m', d) ORDER BY 2 DESC LIMIT 1",
    "SELECT T1.a FROM x AS T1 JOIN y AS T2 ON T1.id = T2.id WHERE T2.v BETWEEN 1 AND 5",
    "SELECT T1.b FROM x AS T1 JOIN y AS T2 ON T1.id = T2.id WHERE T2.v BETWEEN 1 AND 5",
]


def test_token_keys_group_statements_as_sql_normalize_does():
    """Equality of the cheap token keys agrees with equality of ``sql.normalize``'s forms on a corpus."""
    for i, a in enumerate(CORPUS):
        for b in CORPUS[i + 1 :]:
            ka, kb = sql_keys(a), sql_keys(b)
            assert (ka.normalized == kb.normalized) == (normalize_sql(a) == normalize_sql(b)), (a, b)
            assert (ka.template == kb.template) == (sql_template(a) == sql_template(b)), (a, b)
            if "strftime" in a and "strftime" in b:
                # sqlglot parses strftime's format into the function node, so its skeleton keeps it;
                # ours masks every literal: coarser, which only merges more in (skeleton, answer) dedup
                assert ka.skeleton == kb.skeleton
                continue
            assert (ka.skeleton == kb.skeleton) == (skeleton(a) == skeleton(b)), (a, b)


def test_template_index_exact_duplicates_and_quota():
    index = TemplateIndex(max_per_template=2)
    first = sql_keys("SELECT a FROM t WHERE b = 1")
    assert index.check(first.normalized, first.template) is None
    index.see(first.normalized)
    index.keep(first.template)
    assert index.check(first.normalized, first.template) is Rejection.DUPLICATE_SQL
    second = sql_keys("SELECT a FROM t WHERE b = 2")
    assert index.check(second.normalized, second.template) is None
    index.see(second.normalized)
    index.keep(second.template)
    third = sql_keys("SELECT a FROM t WHERE b = 3")
    assert index.check(third.normalized, third.template) is Rejection.DUPLICATE_TEMPLATE
    assert index.admit(third.template) is Rejection.DUPLICATE_TEMPLATE
    assert index.kept(third.template) == 2
    other = sql_keys("SELECT c FROM t WHERE b = 3")
    assert index.admit(other.template) is None


def key(fp, skel="S", template="T", tables=("t",), level="simple"):
    return ResultKey(fp, skel, template, frozenset(tables), level)


def test_result_index_reasons_in_order():
    index = ResultIndex(max_same_result=2)
    index.keep(key("fp1", "S1", "T1", level="moderate"))
    assert index.check(key("fp1", "S1", "T9", level="simple")) is Rejection.DUPLICATE_RESULT
    assert index.check(key("fp1", "S2", "T2", level="complex")) is Rejection.EQUIVALENT_TO_SIMPLER
    assert index.check(key("fp1", "S2", "T2", level="moderate")) is None  # same level: not simpler
    assert index.check(key("fp1", "S2", "T2", tables=("u",), level="complex")) is None  # other tables
    index.keep(key("fp1", "S2", "T2", tables=("u",), level="complex"))
    # two kept statements of other templates already answer fp1: a third template is a constant
    assert index.check(key("fp1", "S3", "T3", tables=("v",))) is Rejection.CONSTANT
    # … but a literal variant of a template that already gives it is not counted against itself
    assert index.check(key("fp1", "S4", "T2", tables=("w",), level="complex")) is None
    assert index.check(key("fp2", "S3", "T3")) is None
    assert len(index) == 2


def test_simplest_level_is_remembered():
    index = ResultIndex()
    index.keep(key("fp", "A", "TA", level="complex"))
    index.keep(key("fp", "B", "TB", level="simple"))
    assert index.check(key("fp", "C", "TC", level="moderate")) is Rejection.EQUIVALENT_TO_SIMPLER
    levels = ("simple", "moderate", "complex", "highly_complex", "?")
    assert [complexity_rank(c) for c in levels] == [0, 1, 2, 3, 4]
