"""Curricula for training: which examples go into the next batch.

``UCBDistributionScheduler`` (DUMP) picks the data distribution whose recent GRPO advantages are
largest, with a UCB exploration bonus; ``DifficultySchedule`` (DeepDistill) filters and orders
examples by measured pass rate, easy to hard over epochs. The batch samplers are plain iterables of
index lists (no torch import), usable as a ``batch_sampler`` later. See ``docs/rewards.md``.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DifficultyBatchSampler",
    "DifficultySchedule",
    "UCBBatchSampler",
    "UCBDistributionScheduler",
    "group_advantages",
    "record_field",
]


def record_field(record: Any, name: str, default: Any = None) -> Any:
    """A field of a record: an attribute (``Record``) or a key (a ``datasets`` row, a dict)."""
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def group_advantages(rewards: Sequence[float], group_size: int, *, scale: bool = True) -> list[float]:
    """GRPO's advantages: each reward minus its group's mean, divided by the group's standard
    deviation plus 1e-4 when ``scale`` (the sample standard deviation, as TRL's ``tensor.std()``
    computes it; 0 for a group of one). Rewards come grouped as TRL orders them: ``group_size``
    consecutive completions per prompt."""
    if group_size < 1 or len(rewards) % group_size:
        raise ValueError(f"{len(rewards)} rewards do not split into groups of {group_size}")
    out: list[float] = []
    for start in range(0, len(rewards), group_size):
        group = [float(r) for r in rewards[start : start + group_size]]
        mean = sum(group) / group_size
        std = math.sqrt(sum((r - mean) ** 2 for r in group) / (group_size - 1)) if group_size > 1 else 0.0
        out.extend((r - mean) / (std + 1e-4) if scale else r - mean for r in group)
    return out


# ------------------------------------------------------------------------------------------------
# DUMP: UCB over distributions on mean absolute advantage
# ------------------------------------------------------------------------------------------------


class UCBDistributionScheduler:
    """Choose the distribution of the next batch by UCB on the mean absolute advantage.

    The data is partitioned by ``keys`` (one hashable per example: its skill, complexity or
    database). After each step the trainer reports the examples it trained on and their advantages
    (:meth:`update`); each distribution keeps the absolute advantages of its last ``window`` samples.
    :meth:`select` returns a distribution never reported yet if there is one (the least picked
    one, then in order of first appearance in ``keys``), else the one maximising ``mean|A|_i + c * sqrt(2 ln N / n_i)`` where
    ``n_i`` counts the samples reported for distribution ``i`` and ``N`` all samples (ties go to the
    earlier distribution). A large mean |A| means the policy still learns there; the bonus keeps
    rarely seen distributions from being starved. Examples are drawn from a distribution without
    replacement, reshuffled (seeded) when it runs out, so a given ``seed`` gives the same batches.
    """

    def __init__(self, keys: Sequence[Hashable], *, c: float = 1.0, window: int = 256, seed: int = 0):
        if not keys:
            raise ValueError("UCBDistributionScheduler needs at least one example")
        if window < 1:
            raise ValueError(f"window must be positive, got {window}")
        self.c = float(c)
        self.window = window
        self.seed = seed
        self._rng = random.Random(seed)
        self.members: dict[Hashable, list[int]] = {}
        for i, k in enumerate(keys):
            self.members.setdefault(k, []).append(i)
        self.distributions: list[Hashable] = list(self.members)
        self._key_of = list(keys)
        self._recent: dict[Hashable, deque[float]] = {d: deque(maxlen=window) for d in self.distributions}
        self.counts: dict[Hashable, int] = {d: 0 for d in self.distributions}
        self.picks: dict[Hashable, int] = {d: 0 for d in self.distributions}
        self._order: dict[Hashable, list[int]] = {}
        self._pos: dict[Hashable, int] = {}

    @classmethod
    def from_records(
        cls, records: Sequence[Any], key: Callable[[Any], Hashable] | str = "complexity", **options: Any
    ) -> UCBDistributionScheduler:
        """Partition ``records`` by ``key``: a field name (``complexity``, ``db_id``, ...) or a function
        of a record (e.g. ``lambda r: r.skills[0]``)."""
        fn = (lambda r: record_field(r, key)) if isinstance(key, str) else key
        return cls([fn(r) for r in records], **options)

    # -- statistics --------------------------------------------------------------------------------
    def mean_abs_advantage(self, distribution: Hashable) -> float | None:
        """Mean |A| over the distribution's window, None before any report."""
        recent = self._recent[distribution]
        return sum(recent) / len(recent) if recent else None

    def scores(self) -> dict[Hashable, float]:
        """Each distribution's UCB score (``inf`` for one never reported)."""
        total = sum(self.counts.values())
        out = {}
        for d in self.distributions:
            n = self.counts[d]
            mean = self.mean_abs_advantage(d)
            if n == 0 or mean is None:
                out[d] = math.inf
            else:
                out[d] = mean + self.c * math.sqrt(2.0 * math.log(max(total, 1)) / n)
        return out

    # -- choosing ----------------------------------------------------------------------------------
    def select(self) -> Hashable:
        """The distribution to draw the next batch from."""
        scores = self.scores()

        def rank(d: Hashable) -> tuple[float, int]:
            # Among distributions not reported yet, the least picked: when advantages arrive a step
            # late, every unseen distribution is still tried once before any is tried twice.
            return (scores[d], -self.picks[d] if scores[d] == math.inf else 0)

        best = self.distributions[0]
        for d in self.distributions[1:]:
            if rank(d) > rank(best):
                best = d
        return best

    def draw(self, distribution: Hashable, n: int) -> list[int]:
        """``n`` example indices of ``distribution``, without replacement until it is used up."""
        pool = self.members[distribution]
        out: list[int] = []
        while len(out) < n:
            order = self._order.get(distribution)
            pos = self._pos.get(distribution, 0)
            if order is None or pos >= len(order):
                order = list(pool)
                self._rng.shuffle(order)
                self._order[distribution] = order
                pos = 0
            take = min(n - len(out), len(order) - pos)
            out.extend(order[pos : pos + take])
            self._pos[distribution] = pos + take
        return out

    def next_batch(self, batch_size: int) -> list[int]:
        """Select a distribution and draw ``batch_size`` example indices from it."""
        d = self.select()
        self.picks[d] += 1
        return self.draw(d, batch_size)

    # -- feedback ----------------------------------------------------------------------------------
    def update(self, indices: Sequence[int], advantages: Sequence[float]) -> None:
        """Report the advantages of the samples trained on (an index may repeat: one per completion
        of a GRPO group)."""
        if len(indices) != len(advantages):
            raise ValueError(f"{len(indices)} indices but {len(advantages)} advantages")
        for i, a in zip(indices, advantages, strict=True):
            d = self._key_of[i]
            self._recent[d].append(abs(float(a)))
            self.counts[d] += 1

    def update_from_rewards(self, indices: Sequence[int], rewards: Sequence[float], group_size: int) -> None:
        """:meth:`update` with advantages computed from grouped rewards (:func:`group_advantages`)."""
        self.update(indices, group_advantages(rewards, group_size))

    # -- checkpointing -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume with the same future batches (positions, RNG, statistics)."""
        return {
            "recent": {i: list(self._recent[d]) for i, d in enumerate(self.distributions)},
            "counts": [self.counts[d] for d in self.distributions],
            "picks": [self.picks[d] for d in self.distributions],
            "order": {i: self._order[d] for i, d in enumerate(self.distributions) if d in self._order},
            "pos": {i: self._pos[d] for i, d in enumerate(self.distributions) if d in self._pos},
            "rng": self._rng.getstate(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        ds = self.distributions
        for i, values in state["recent"].items():
            self._recent[ds[int(i)]] = deque(values, maxlen=self.window)
        self.counts = {d: int(n) for d, n in zip(ds, state["counts"], strict=True)}
        self.picks = {d: int(n) for d, n in zip(ds, state["picks"], strict=True)}
        self._order = {ds[int(i)]: list(v) for i, v in state["order"].items()}
        self._pos = {ds[int(i)]: int(v) for i, v in state["pos"].items()}
        rng = state["rng"]
        self._rng.setstate((rng[0], tuple(rng[1]), rng[2]))


class UCBBatchSampler:
    """``steps`` batches of ``batch_size`` indices, each from the distribution the scheduler picks
    at the moment it is asked (so advantages reported in between steer the next batch)."""

    def __init__(self, scheduler: UCBDistributionScheduler, batch_size: int, steps: int):
        if batch_size < 1 or steps < 0:
            raise ValueError("batch_size must be positive and steps non-negative")
        self.scheduler = scheduler
        self.batch_size = batch_size
        self.steps = steps

    def __iter__(self) -> Iterator[list[int]]:
        for _ in range(self.steps):
            yield self.scheduler.next_batch(self.batch_size)

    def __len__(self) -> int:
        return self.steps


# ------------------------------------------------------------------------------------------------
# DeepDistill: difficulty graded by pass rate, easy to hard
# ------------------------------------------------------------------------------------------------


@dataclass
class DifficultySchedule:
    """Filter and order examples by measured pass rate (``record.difficulty``, in [0, 1]).

    ``drop_solved`` drops pass rate 1.0 (nothing left to learn), ``drop_unsolvable`` pass rate 0.0
    (no signal for GRPO, often a wrong gold). ``edges`` are descending pass-rate thresholds that cut
    the kept examples into buckets, easiest first: with ``(2/3, 1/3)`` a pass rate >= 2/3 is easy,
    >= 1/3 medium, below hard. Examples without a measured pass rate go to ``unknown_bucket`` (default
    the hardest). Epoch ``e`` trains on buckets ``0..e`` (the whole set from epoch ``len(edges)``
    on), bucket by bucket, each shuffled with ``seed`` and the epoch.
    """

    drop_solved: bool = True
    drop_unsolvable: bool = True
    edges: tuple[float, ...] = (2 / 3, 1 / 3)
    unknown_bucket: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if list(self.edges) != sorted(self.edges, reverse=True):
            raise ValueError(f"edges must be descending pass rates, got {self.edges}")

    @property
    def n_buckets(self) -> int:
        return len(self.edges) + 1

    def bucket_of(self, pass_rate: float | None) -> int | None:
        """The bucket of one pass rate (0 = easiest), None when the example is dropped."""
        if pass_rate is None:
            return self.n_buckets - 1 if self.unknown_bucket is None else self.unknown_bucket
        if self.drop_solved and pass_rate >= 1.0:
            return None
        if self.drop_unsolvable and pass_rate <= 0.0:
            return None
        for b, edge in enumerate(self.edges):
            if pass_rate >= edge:
                return b
        return len(self.edges)

    def buckets(self, records: Sequence[Any]) -> list[list[int]]:
        """Indices of the kept records per bucket, easiest first, in input order."""
        out: list[list[int]] = [[] for _ in range(self.n_buckets)]
        for i, r in enumerate(records):
            b = self.bucket_of(record_field(r, "difficulty"))
            if b is not None:
                out[b].append(i)
        return out

    def kept(self, records: Sequence[Any]) -> list[int]:
        """Indices of the records the filters keep, in input order."""
        return sorted(i for bucket in self.buckets(records) for i in bucket)

    def epoch_indices(self, records: Sequence[Any], epoch: int) -> list[int]:
        """The example order of one epoch: buckets ``0..epoch``, easiest first, each shuffled."""
        rng = random.Random(f"{self.seed}:{epoch}")
        out: list[int] = []
        for bucket in self.buckets(records)[: epoch + 1]:
            part = list(bucket)
            rng.shuffle(part)
            out.extend(part)
        return out


class DifficultyBatchSampler:
    """Batches of indices following a :class:`DifficultySchedule`: ``set_epoch(e)`` selects the
    epoch (as with torch's ``DistributedSampler``); iteration yields that epoch's order cut into
    ``batch_size`` batches (the last one short unless ``drop_last``)."""

    def __init__(
        self,
        schedule: DifficultySchedule,
        records: Sequence[Any],
        batch_size: int,
        *,
        drop_last: bool = False,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.schedule = schedule
        self.records = records
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[list[int]]:
        order = self.schedule.epoch_indices(self.records, self.epoch)
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            yield order[start : start + self.batch_size]

    def __len__(self) -> int:
        n = len(self.schedule.epoch_indices(self.records, self.epoch))
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
