"""Curricula with exact expectations: DUMP's UCB scheduler on synthetic advantage streams, DeepDistill's
difficulty schedule on hand-made pass rates, and the batch samplers."""

from __future__ import annotations

import math

import pytest

from sqlfoundry.records import Record
from sqlfoundry.train.curriculum import (
    DifficultyBatchSampler,
    DifficultySchedule,
    UCBBatchSampler,
    UCBDistributionScheduler,
    group_advantages,
)


def run_stream(sched: UCBDistributionScheduler, magnitude: dict, steps: int, batch: int = 2) -> list:
    """Train for ``steps``: every sample of distribution d reports advantage magnitude[d]."""
    picked = []
    for _ in range(steps):
        d = sched.select()
        idx = sched.next_batch(batch)
        picked.append(d)
        sched.update(idx, [magnitude[d]] * len(idx))
    return picked


def test_group_advantages_match_trl():
    adv = group_advantages([1.0, 0.0, 1.0, 1.0], group_size=2)
    s = math.sqrt(0.5)  # sample std of (1, 0)
    assert adv == [pytest.approx(0.5 / (s + 1e-4)), pytest.approx(-0.5 / (s + 1e-4)), 0.0, 0.0]
    assert group_advantages([3.0, 1.0], 2, scale=False) == [1.0, -1.0]
    with pytest.raises(ValueError):
        group_advantages([1.0, 2.0, 3.0], 2)


def test_unseen_distributions_are_explored_first():
    sched = UCBDistributionScheduler(["a", "a", "b", "b", "c", "c"], c=1.0)
    assert sched.scores() == {"a": math.inf, "b": math.inf, "c": math.inf}
    assert run_stream(sched, {"a": 0.0, "b": 0.0, "c": 0.0}, 3) == ["a", "b", "c"]


def test_ucb_exact_sequence():
    # a: |A| = 1, b: |A| = 0, c = 1, batches of 2. After a and b are seen (N = 4), a wins while
    # 1 + sqrt(2 ln N / n_a) > sqrt(2 ln N / 2); at N = 16, n_a = 14 it no longer does: b is tried again.
    sched = UCBDistributionScheduler(["a"] * 4 + ["b"] * 4, c=1.0)
    picked = run_stream(sched, {"a": 1.0, "b": 0.0}, 9)
    assert picked == ["a", "b", "a", "a", "a", "a", "a", "a", "b"]
    assert sched.counts == {"a": 14, "b": 4}
    assert sched.scores()["b"] == pytest.approx(math.sqrt(2 * math.log(18) / 4))


def test_larger_advantage_is_picked_more_and_c_zero_is_greedy():
    sched = UCBDistributionScheduler(["easy"] * 10 + ["learning"] * 10 + ["hard"] * 10, c=0.5, seed=3)
    run_stream(sched, {"easy": 0.05, "learning": 0.9, "hard": 0.2}, 200, batch=4)
    assert sched.picks["learning"] > sched.picks["hard"] > sched.picks["easy"] >= 1
    greedy = UCBDistributionScheduler(["x", "y", "z"], c=0.0)
    assert run_stream(greedy, {"x": 0.1, "y": 0.5, "z": 0.3}, 6, batch=1) == ["x", "y", "z", "y", "y", "y"]


def test_sliding_window_forgets_old_advantages():
    sched = UCBDistributionScheduler(["a", "b"], c=0.0, window=3)
    sched.update([0, 0, 0], [5.0, -5.0, 5.0])
    sched.update([1], [1.0])
    assert sched.select() == "a"
    sched.update([0, 0, 0], [0.1, -0.1, 0.1])  # a's window now holds only the small ones
    assert sched.mean_abs_advantage("a") == pytest.approx(0.1)
    assert sched.select() == "b"


def test_draws_without_replacement_and_seeded_determinism():
    keys = ["a"] * 5 + ["b"] * 3
    one = UCBDistributionScheduler(keys, seed=7)
    first = one.draw("a", 5)
    assert sorted(first) == [0, 1, 2, 3, 4]  # every member once before any repeats
    assert sorted(one.draw("a", 5)) == [0, 1, 2, 3, 4]
    two = UCBDistributionScheduler(keys, seed=7)
    assert two.draw("a", 5) == first
    batches = [UCBDistributionScheduler(keys, seed=s).draw("a", 5) for s in range(6)]
    assert len({tuple(b) for b in batches}) > 1  # the seed matters


def test_state_dict_resumes_the_same_batches():
    keys = ["a"] * 5 + ["b"] * 7
    sched = UCBDistributionScheduler(keys, seed=1, c=0.3)
    run_stream(sched, {"a": 0.4, "b": 0.6}, 5, batch=3)
    state = sched.state_dict()
    expected = run_stream(sched, {"a": 0.4, "b": 0.6}, 5, batch=3), sched.next_batch(3)
    resumed = UCBDistributionScheduler(keys, seed=99, c=0.3)
    resumed.load_state_dict(state)
    assert (run_stream(resumed, {"a": 0.4, "b": 0.6}, 5, batch=3), resumed.next_batch(3)) == expected


def test_from_records_and_batch_sampler():
    records = [
        Record(id=str(i), db_id="shop" if i % 2 else "zoo", question="q", sql="SELECT 1", complexity=c)
        for i, c in enumerate(["simple", "complex", "simple", "moderate"])
    ]
    by_complexity = UCBDistributionScheduler.from_records(records)
    assert by_complexity.members == {"simple": [0, 2], "complex": [1], "moderate": [3]}
    by_db = UCBDistributionScheduler.from_records([r.model_dump() for r in records], key=lambda r: r["db_id"])
    assert by_db.members == {"zoo": [0, 2], "shop": [1, 3]}
    sampler = UCBBatchSampler(by_db, batch_size=2, steps=3)
    assert len(sampler) == 3
    batches = list(sampler)
    assert [sorted(b) for b in batches[:2]] == [[0, 2], [1, 3]]  # unseen distributions first
    assert len(batches) == 3 and all(len(b) == 2 for b in batches)


# --- DeepDistill difficulty schedule --------------------------------------------------------------

PASS_RATES = [1.0, 0.0, 0.9, 0.5, 0.1, None, 0.7]


def test_difficulty_buckets_and_filters():
    sched = DifficultySchedule()
    assert sched.buckets([{"difficulty": d} for d in PASS_RATES]) == [[2, 6], [3], [4, 5]]
    assert sched.kept([{"difficulty": d} for d in PASS_RATES]) == [2, 3, 4, 5, 6]
    keep_all = DifficultySchedule(drop_solved=False, drop_unsolvable=False, unknown_bucket=1)
    assert keep_all.buckets([{"difficulty": d} for d in PASS_RATES]) == [[0, 2, 6], [3, 5], [1, 4]]
    assert DifficultySchedule(edges=(0.5,)).buckets([{"difficulty": d} for d in PASS_RATES]) == [
        [2, 3, 6],
        [4, 5],
    ]
    with pytest.raises(ValueError):
        DifficultySchedule(edges=(0.2, 0.8))


def test_difficulty_epochs_go_easy_to_hard():
    records = [
        Record(id=str(i), db_id="db", question="q", sql="SELECT 1", difficulty=d)
        for i, d in enumerate(PASS_RATES)
    ]
    sched = DifficultySchedule(seed=5)
    e0, e1, e2 = (sched.epoch_indices(records, e) for e in range(3))
    assert sorted(e0) == [2, 6]
    assert sorted(e1[:2]) == [2, 6] and e1[2:] == [3]
    assert sorted(e2[:2]) == [2, 6] and e2[2] == 3 and sorted(e2[3:]) == [4, 5]
    assert sched.epoch_indices(records, 7) == sched.epoch_indices(records, 7)  # deterministic
    sampler = DifficultyBatchSampler(sched, records, batch_size=2)
    assert len(sampler) == 1 and [sorted(b) for b in sampler] == [[2, 6]]
    sampler.set_epoch(2)
    assert len(sampler) == 3
    batches = list(sampler)
    assert [len(b) for b in batches] == [2, 2, 1]
    assert sum(batches, []) == e2
    sampler_drop = DifficultyBatchSampler(sched, records, batch_size=2, drop_last=True)
    sampler_drop.set_epoch(2)
    assert len(sampler_drop) == 2 and [len(b) for b in sampler_drop] == [2, 2]
