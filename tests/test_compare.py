"""Result comparison modes, case by case: the exact verdict of every mode (spec: docs/comparison.md)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import time
from collections import Counter
from decimal import Decimal

import pytest

from sqlfoundry.db.outcome import ExecutionOutcome, OutcomeStatus, canonical_row
from sqlfoundry.sql import compare as cmp
from sqlfoundry.sql.compare import Mode, compare_results, gold_orders_rows, remove_distinct

NAN_A = float("nan")
NAN_B = float("nan")  # a different object: the references' verdict would depend on identity
INF = float("inf")


def case(name, gold, pred, spider, bird, strict, *, order_matters=False, tol=None):
    expected = {Mode.SPIDER: spider, Mode.BIRD: bird, Mode.STRICT: strict}
    return pytest.param(gold, pred, order_matters, tol, expected, id=name)


# gold, pred, then the verdict of spider, bird, strict.
# fmt: off
EDGE_CASES = [
    # NULLs
    case("null_vs_null", [(None,)], [(None,)], True, True, True),
    case("null_vs_zero", [(None,)], [(0,)], False, False, False),
    case("null_vs_empty_string", [(None,)], [("",)], False, False, False),
    case("null_vs_string_None", [(None,)], [("None",)], False, False, False),
    # types: 1 == 1.0 == Decimal('1') == True, but '1' != 1
    case("int_vs_integral_float", [(1,)], [(1.0,)], True, True, True),
    case("int_vs_decimal", [(2,)], [(Decimal("2.000"),)], True, True, True),
    case("decimal_fraction_vs_float", [(Decimal("0.5"),)], [(0.5,)], True, True, True),
    case("bool_vs_int", [(True,)], [(1,)], True, True, True),
    case("negative_zero_vs_zero", [(0,)], [(-0.0,)], True, True, True),
    case("int_vs_str", [(1,)], [("1",)], False, False, False),
    case("float_vs_str", [(1.5,)], [("1.5",)], False, False, False),
    case("int_vs_float_beyond_2_53", [(2**53 + 1,)], [(float(2**53 + 1),)], False, False, False),
    case("mixed_int_float_row", [(1, 1.5)], [(1.0, 1.5)], True, True, True),
    # floats are exact by default
    case("float_sum_vs_literal", [(0.3,)], [(0.1 + 0.2,)], False, False, False),
    case("nan_vs_nan", [(NAN_A,)], [(NAN_B,)], True, True, True),
    case("nan_vs_null", [(NAN_A,)], [(None,)], False, False, False),
    case("nan_vs_string_nan", [(NAN_A,)], [("nan",)], False, False, False),
    case("inf_vs_inf", [(INF,)], [(INF,)], True, True, True),
    case("inf_vs_minus_inf", [(INF,)], [(-INF,)], False, False, False),
    # empty results
    case("both_empty", [], [], True, True, True),
    case("gold_empty", [], [(1,)], False, False, False),
    case("pred_empty", [(1,)], [], False, False, False),
    case("empty_vs_row_of_null", [], [(None,)], False, False, False),
    # duplicates: spider counts them, bird ignores them
    case("duplicate_dropped", [(1,), (1,)], [(1,)], False, True, False),
    case("duplicate_added", [(1,)], [(1,), (1,)], False, True, False),
    case("same_length_other_multiplicity", [(1,), (1,), (2,)], [(1,), (2,), (2,)], False, True, False),
    case("duplicates_shuffled", [(1,), (2,), (1,)], [(1,), (1,), (2,)], True, True, False),
    case("duplicates_in_order", [(1,), (1,)], [(1,), (1,)], True, True, True, order_matters=True),
    # columns
    case("column_permutation", [(1, "a")], [("a", 1)], True, False, False),
    case("column_permutation_two_rows", [(1, "a"), (2, "b")], [("a", 1), ("b", 2)], True, False, False),
    case("values_swapped_in_one_row_only", [(1, 2), (3, 4)], [(2, 1), (3, 4)], False, False, False),
    case("column_count_differs", [(1,)], [(1, 1)], False, False, False),
    case("duplicate_column_values", [(1, 1)], [(1, 1)], True, True, True),
    case("wide_permutation_5_columns", [(1, 2, 3, 4, 5), (6, 7, 8, 9, 10)],
         [(5, 4, 3, 2, 1), (10, 9, 8, 7, 6)], True, False, False),
    case("wide_shared_values", [(1, 1, 2, 2), (2, 2, 1, 1)], [(1, 2, 1, 2), (2, 1, 2, 1)], True, False, False),
    case("wide_not_a_permutation", [(1, 2, 3, 4), (5, 6, 7, 8)], [(1, 2, 3, 4), (5, 6, 8, 7)],
         False, False, False),
    # row order
    case("row_order_unordered", [(1,), (2,)], [(2,), (1,)], True, True, False),
    case("row_order_ordered", [(1,), (2,)], [(2,), (1,)], False, True, False, order_matters=True),
    case("same_order_ordered", [(1,), (2,)], [(1,), (2,)], True, True, True, order_matters=True),
    case("column_permutation_ordered", [(1, "a"), (2, "b")], [("a", 1), ("b", 2)], True, False, False,
         order_matters=True),
    case("column_permutation_wrong_order", [(1, "a"), (2, "b")], [("b", 2), ("a", 1)], False, False, False,
         order_matters=True),
    # bytes and mixed types (sorting must never raise)
    case("bytes_vs_bytes", [(b"\x00\xff",)], [(b"\x00\xff",)], True, True, True),
    case("bytes_vs_str", [(b"abc",)], [("abc",)], False, False, False),
    case("bytes_vs_its_repr", [(b"abc",)], [("b'abc'",)], False, False, False),
    case("mixed_type_column_shuffled", [(1,), ("a",), (None,), (b"x",), (2.5,)],
         [(2.5,), (b"x",), (None,), ("a",), (1,)], True, True, False),
    case("mixed_type_row_4_columns", [(1, "1", None, b"1")], [(b"1", None, "1", 1)], True, False, False),
]

TOLERANCE_CASES = [
    case("tol_float_sum", [(0.3,)], [(0.1 + 0.2,)], True, True, True, tol=1e-9),
    case("tol_int_vs_near_float", [(3,)], [(3.0000000001,)], True, True, True, tol=1e-9),
    case("tol_ints_stay_exact", [(1_000_000_000,)], [(1_000_000_001,)], False, False, False, tol=1e-6),
    case("tol_str_not_a_number", [("0.3",)], [(0.3,)], False, False, False, tol=1e-9),
    case("tol_beyond", [(0.3,)], [(0.31,)], False, False, False, tol=1e-3),
    case("tol_nan_vs_nan", [(NAN_A,)], [(NAN_B,)], True, True, True, tol=1e-9),
    case("tol_nan_vs_number", [(NAN_A,)], [(0.5,)], False, False, False, tol=1e-9),
    case("tol_inf_vs_huge", [(INF,)], [(1e308,)], False, False, False, tol=1e-9),
    case("tol_non_transitive_pairing", [(0.0,), (0.09,)], [(0,), (-0.09,)], True, True, False, tol=0.1),
    case("tol_two_numeric_columns", [(0, 1), (0.05, 0)], [(0.05, 1), (0, 0)], True, True, True, tol=0.06),
    case("tol_column_permutation", [(0.3, "a")], [("a", 0.1 + 0.2)], True, False, False, tol=1e-9),
    case("tol_wide_permutation", [(0.3, 1, 2, "x")], [("x", 2, 1, 0.1 + 0.2)], True, False, False, tol=1e-9),
    case("tol_duplicates", [(0.3,), (0.3,)], [(0.1 + 0.2,)], False, True, False, tol=1e-9),
    case("tol_row_order_ordered", [(0.1,), (0.2,)], [(0.2000000001,), (0.1,)], False, True, False,
         order_matters=True, tol=1e-6),
    case("tol_row_order_unordered", [(0.1,), (0.2,)], [(0.2000000001,), (0.1,)], True, True, False,
         tol=1e-6),
]
# fmt: on


@pytest.mark.parametrize("mode", list(Mode), ids=lambda m: m.value)
@pytest.mark.parametrize(("gold", "pred", "order_matters", "tol", "expected"), EDGE_CASES + TOLERANCE_CASES)
def test_edge_case_verdict_per_mode(gold, pred, order_matters, tol, expected, mode):
    for exact in (False, True):
        verdict = compare_results(
            gold, pred, mode, order_matters=order_matters, exact_permutations=exact, float_tolerance=tol
        )
        assert verdict is expected[mode]


@pytest.mark.parametrize("mode", list(Mode), ids=lambda m: m.value)
@pytest.mark.parametrize(("gold", "pred", "order_matters", "tol", "expected"), EDGE_CASES + TOLERANCE_CASES)
def test_verdict_is_symmetric(gold, pred, order_matters, tol, expected, mode):
    assert (
        compare_results(pred, gold, mode, order_matters=order_matters, float_tolerance=tol) is expected[mode]
    )


# --- canonical values from the executor -------------------------------------------------------------


def test_dates_compare_after_executor_canonicalisation():
    gold = [canonical_row((dt.date(2020, 1, 2), dt.datetime(2020, 1, 2, 3, 4, 5)))]
    pred = [("2020-01-02", "2020-01-02 03:04:05")]
    assert [compare_results(gold, pred, m) for m in Mode] == [True, True, True]


def test_raw_dates_are_not_canonicalised_here():
    # Temporal values are the executor's job (db.outcome.canonical_value); compare only redoes numbers.
    assert compare_results([(dt.date(2020, 1, 2),)], [("2020-01-02",)], "strict") is False


def test_official_sort_key_on_raw_numbers_is_why_numbers_are_canonicalised_first():
    # The official unorder_row sorts (1, 1.5) and (1.0, 1.5) differently ('1.' < '1<'), so its quick
    # rejection calls them different; after canonicalisation 1.0 is 1 and they agree.
    assert cmp._unordered_row((1, 1.5)) == (1.5, 1)
    assert cmp._unordered_row((1.0, 1.5)) == (1.0, 1.5)
    assert compare_results([(1, 1.5)], [(1.0, 1.5)]) is True


def test_lists_and_tuples_are_interchangeable():
    gold = [[1, "a"], [2, "b"]]
    pred = [("a", 1), ("b", 2)]
    assert compare_results(gold, pred, "spider") is True
    assert compare_results(gold, [tuple(r) for r in gold], "strict") is True
    assert compare_results(gold, [list(r) for r in gold], "bird") is True


# --- execution outcomes ---------------------------------------------------------------------------


def outcome(columns, rows):
    return ExecutionOutcome(OutcomeStatus.OK, columns=columns, rows=rows, row_count=len(rows))


def test_empty_outcomes_with_different_column_counts():
    gold, pred = outcome(["a"], []), outcome(["a", "b"], [])
    # spider: the official result_eq returns True for two empty results before looking at columns.
    assert compare_results(gold, pred, "spider") is True
    assert compare_results(gold, pred, "bird") is True  # set() == set()
    assert compare_results(gold, pred, "strict") is False


def test_duplicate_column_names_are_ignored():
    gold = outcome(["name", "name"], [("x", "y")])
    pred = outcome(["name", "other"], [("x", "y")])
    assert [compare_results(gold, pred, m) for m in Mode] == [True, True, True]


def test_outcome_and_rows_mix():
    assert compare_results(outcome(["a"], [(1,)]), [(1.0,)], "strict") is True


def test_failed_outcome_is_rejected():
    failed = ExecutionOutcome(OutcomeStatus.RUNTIME_ERROR, message="no such table")
    with pytest.raises(ValueError, match="did not run"):
        compare_results(failed, [(1,)])


def test_fingerprint_only_outcome_is_rejected():
    with pytest.raises(ValueError, match="fingerprints only"):
        compare_results(ExecutionOutcome(OutcomeStatus.OK, columns=["a"], rows=None), [(1,)])


# --- arguments ------------------------------------------------------------------------------------


def test_mode_accepts_enum_and_string():
    assert Mode("bird") is Mode.BIRD
    assert compare_results([(1,)], [(1,), (1,)], Mode.BIRD) is compare_results([(1,)], [(1,), (1,)], "bird")


def test_unknown_mode():
    with pytest.raises(ValueError, match="spider, bird, strict"):
        compare_results([], [], "exact")


@pytest.mark.parametrize("tol", [-0.1, 1, 1.5, float("nan"), "0.1"])
def test_bad_tolerance(tol):
    with pytest.raises(ValueError, match="float_tolerance"):
        compare_results([(1,)], [(1,)], float_tolerance=tol)


def test_zero_tolerance_is_exact():
    assert compare_results([(0.3,)], [(0.1 + 0.2,)], float_tolerance=0.0) is False


def test_ragged_rows_are_an_error_in_spider_mode():
    with pytest.raises(ValueError, match="same number of values"):
        compare_results([(1, 2), (3, 4)], [(1, 2), (3,)])


# --- spider internals: quick rejection, candidate columns, permutation search -------------------------


def test_quick_rejection_compares_sets_not_bags():
    gold, pred = [(1,), (1,), (2,)], [(1,), (2,), (2,)]
    assert cmp._quick_accept(gold, pred, order_matters=False) is True
    assert compare_results(gold, pred) is False  # the final multiset check rejects


def test_narrow_results_are_not_pruned_unless_exact():
    gold, pred = [(1, "a", None)], [(None, 1, "a")]
    assert cmp._candidate_columns(gold, pred, exact=False, tol=None) == [[0, 1, 2]] * 3
    assert cmp._candidate_columns(gold, pred, exact=True, tol=None) == [[1], [2], [0]]


# A value that only one prediction row in 100 shows: the 20 sampled rows (seeded) miss it, so the
# sampled constraint keeps a candidate that the exact constraint removes. The verdict agrees.
RARE_GOLD = [(0, 0, 1, 2, 3)] * 99 + [(7, 0, 1, 2, 3)]
RARE_PRED = [tuple(reversed(r)) for r in RARE_GOLD]


def test_sampling_keeps_candidates_that_exact_search_removes():
    sampled = cmp._candidate_columns(RARE_GOLD, RARE_PRED, exact=False, tol=None)
    exact = cmp._candidate_columns(RARE_GOLD, RARE_PRED, exact=True, tol=None)
    assert exact == [[3, 4], [3], [2], [1], [0]]
    assert sampled == [[3, 4], [3, 4], [2], [1], [0]]
    assert all(set(e) <= set(s) for e, s in zip(exact, sampled, strict=True))
    assert compare_results(RARE_GOLD, RARE_PRED) is True
    assert compare_results(RARE_GOLD, RARE_PRED, exact_permutations=True) is True


def test_sampling_and_exact_agree_when_unequal():
    pred = [(3, 2, 1, 0, 0)] * 99 + [(3, 2, 1, 7, 7)]  # the 7 moved to a second column
    assert compare_results(RARE_GOLD, pred) is False
    assert compare_results(RARE_GOLD, pred, exact_permutations=True) is False


def test_sampling_is_deterministic():
    first = cmp._candidate_columns(RARE_GOLD, RARE_PRED, exact=False, tol=None)
    assert all(cmp._candidate_columns(RARE_GOLD, RARE_PRED, exact=False, tol=None) == first for _ in range(5))


def brute_force_result_eq(gold, pred, order_matters):
    """The test-suite definition, spelled out: some column permutation makes the bags (lists) equal."""
    if not gold and not pred:
        return True
    if len(gold) != len(pred) or len(gold[0]) != len(pred[0]):
        return False
    for perm in itertools.permutations(range(len(gold[0]))):
        permuted = [tuple(row[i] for i in perm) for row in pred]
        if (gold == permuted) if order_matters else (Counter(gold) == Counter(permuted)):
            return True
    return False


def random_pair(rng):
    pool = [None, 0, 1, 2, "1", "a", 2.5, b"x"]
    ncols, nrows = rng.randint(1, 5), rng.randint(0, 6)
    gold = [tuple(rng.choice(pool) for _ in range(ncols)) for _ in range(nrows)]
    perm = list(range(ncols))
    rng.shuffle(perm)
    pred = [tuple(row[i] for i in perm) for row in gold]
    if rng.random() < 0.5:
        rng.shuffle(pred)
    if pred and rng.random() < 0.4:  # mutate one value, duplicate or drop a row
        choice = rng.randrange(3)
        r = rng.randrange(len(pred))
        if choice == 0:
            row = list(pred[r])
            row[rng.randrange(ncols)] = rng.choice(pool)
            pred[r] = tuple(row)
        elif choice == 1:
            pred[r] = pred[(r + 1) % len(pred)]
        else:
            del pred[r]
    return gold, pred


@pytest.mark.parametrize("seed", range(4))
def test_spider_matches_the_brute_force_definition(seed):
    rng = random.Random(seed)
    for _ in range(150):
        gold, pred = random_pair(rng)
        for order_matters in (False, True):
            expected = brute_force_result_eq(gold, pred, order_matters)
            for exact in (False, True):
                got = compare_results(gold, pred, order_matters=order_matters, exact_permutations=exact)
                assert got is expected, (gold, pred, order_matters, exact)


def test_latin_squares_are_rejected_quickly():
    # Every row holds the same values and every column the same set, so neither the quick rejection
    # nor the candidate constraint prunes; the official product would enumerate 8**8 tuples.
    n = 8
    cyclic = [tuple((k + c) % n for c in range(n)) for k in range(n)]
    xor = [tuple(k ^ c for c in range(n)) for k in range(n)]
    start = time.perf_counter()
    assert compare_results(cyclic, xor) is False
    assert compare_results(cyclic, xor, exact_permutations=True) is False
    assert compare_results(cyclic, xor, float_tolerance=1e-9) is False
    assert time.perf_counter() - start < 5


def test_tolerant_matching_beyond_sorted_pairing():
    gold, pred = [(0, 1), (0.05, 0)], [(0.05, 1), (0, 0)]
    assert cmp._match_bucket(gold, pred, 0.06) is True
    assert cmp._match_bucket(gold, [(0.5, 1), (0, 0)], 0.06) is False


# --- gold_orders_rows -----------------------------------------------------------------------------

ORDER_CASES = [
    # sql, default, official
    ("SELECT a FROM t ORDER BY a", True, True),
    ("select a from t order by a desc", True, True),
    ("SELECT a FROM t ORDER BY a LIMIT 1", True, True),
    ("SELECT a FROM t ORDER BY a;", True, True),
    ("SELECT a FROM t", False, False),
    ("SELECT * FROM (SELECT a FROM t ORDER BY a LIMIT 3)", False, True),
    ("WITH x AS (SELECT a FROM t ORDER BY a LIMIT 3) SELECT a FROM x", False, True),
    ("SELECT a FROM t WHERE b IN (SELECT b FROM u ORDER BY b LIMIT 1)", False, True),
    ("SELECT RANK() OVER (ORDER BY a) FROM t", False, True),
    ("SELECT a FROM t WHERE b = 'order by'", False, True),
    ("SELECT a FROM t UNION SELECT b FROM u ORDER BY a", True, True),
    ("(SELECT a FROM t ORDER BY a)", True, True),
    ("SELECT a FROM t ORDER\nBY a", True, False),
    ("SELECT a FROM t ORDER  BY a", True, False),
    ("SELECT 1; SELECT a FROM t ORDER BY a", True, True),
    ("SELECT a FROM t WHERE ORDER BY a", True, True),  # unparseable: top-level ORDER BY token
    ("SELECT a FROM t WHERE x IN (SELECT b FROM u ORDER BY b) AND", False, True),  # unparseable
]


@pytest.mark.parametrize(("sql", "default", "official"), ORDER_CASES)
def test_gold_orders_rows(sql, default, official):
    assert gold_orders_rows(sql) is default
    assert gold_orders_rows(sql, compat="official") is official


def test_gold_orders_rows_dialect():
    assert gold_orders_rows("SELECT `order by` FROM t", dialect="mysql") is False
    assert gold_orders_rows("SELECT `order by` FROM t", dialect="mysql", compat="official") is True


def test_gold_orders_rows_unknown_compat():
    with pytest.raises(ValueError, match="compat"):
        gold_orders_rows("SELECT 1", compat="spider")


# --- remove_distinct ------------------------------------------------------------------------------

DISTINCT_CASES = [
    ("SELECT DISTINCT a FROM t", "SELECT  a FROM t"),
    ("select distinct a from t", "select  a from t"),
    ("SELECT COUNT(DISTINCT a) FROM t", "SELECT COUNT( a) FROM t"),
    ("SELECT DISTINCT a FROM t UNION SELECT DISTINCT b FROM u", "SELECT  a FROM t UNION SELECT  b FROM u"),
    ("SELECT a FROM t WHERE x IS DISTINCT FROM y", "SELECT a FROM t WHERE x IS  FROM y"),
    ("SELECT a FROM t WHERE b = 'distinct'", "SELECT a FROM t WHERE b = 'distinct'"),
    ('SELECT "distinct" FROM t', 'SELECT "distinct" FROM t'),
    ("SELECT [distinct], `distinct` FROM t", "SELECT [distinct], `distinct` FROM t"),
    ("SELECT distinct_count FROM t", "SELECT distinct_count FROM t"),
    ("SELECT a -- distinct\nFROM t", "SELECT a -- distinct\nFROM t"),
    ("SELECT a FROM t", "SELECT a FROM t"),
    ("SELECT DISTINCT 'a  distinct  b'", "SELECT  'a  distinct  b'"),
]


@pytest.mark.parametrize(("sql", "expected"), DISTINCT_CASES)
def test_remove_distinct(sql, expected):
    assert remove_distinct(sql) == expected


def test_remove_distinct_on_untokenizable_text_drops_the_word():
    assert remove_distinct("SELECT DISTINCT 'unterminated") == "SELECT  'unterminated"
