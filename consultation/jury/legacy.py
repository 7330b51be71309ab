"""LEGACY: the greedy draw most organisers used, and its selection frequencies by Monte-Carlo.

This is the Sortition Foundation's method as described by Flanigan et al. (Nature 596, 2021)
and their replication code. A panel is filled one member at a time:

1. Among the features whose holders are not all gone (a feature that reached its maximum has
   had its holders removed), take the most "urgent": the largest ratio
   `(min - selected) / remaining holders` (the first one in the quota file on a tie). A ratio
   above 1, or a feature whose remaining holders are fewer than it still needs, is a dead end.
2. Pick one of that feature's remaining holders uniformly at random, and seat them.
3. For each feature of the seated member that has now reached its maximum, remove every
   remaining holder of that feature from the pool.
4. After k members, a panel that misses a minimum is also a dead end. On a dead end, start the
   whole panel again.

Drawing many panels with a seeded generator (10,000 by default) estimates each member's
selection probability by how often they are seated. Members with the same features (one type)
are treated alike by the method, so a type's frequency is its seats over (draws × size): this
is the same estimate, with less noise than counting each member separately.
"""

from __future__ import annotations

import random
import time

from consultation.jury.allocation import Allocation, Progress, member_probabilities
from consultation.jury.pool import Pool, check_quotas

DEFAULT_DRAWS = 10_000
# Dead ends allowed per panel before giving up: quotas so tight that LEGACY almost never
# completes a panel would otherwise loop for ever.
MAX_ATTEMPTS = 1_000
PROGRESS_EVERY = 100  # draws between two progress reports


class LegacyFailed(Exception):
    """LEGACY kept reaching dead ends: the quotas are too tight for it."""


class _Drawer:
    """The pool reduced to what the greedy draw needs: type sizes and who holds which quota."""

    def __init__(self, pool: Pool, k: int) -> None:
        self.k = k
        self.sizes = [member_type.size for member_type in pool.types]
        self.minimums = [quota.min for quota in pool.quotas]
        self.maximums = [quota.max for quota in pool.quotas]
        self.holders = [pool.holders(quota) for quota in pool.quotas]
        self.quotas_of: list[list[int]] = [[] for _ in self.sizes]
        for index, holders in enumerate(self.holders):
            for t in holders:
                self.quotas_of[t].append(index)

    def panel(self, rng: random.Random) -> list[int] | None:
        """One greedy panel as counts per type, or None on a dead end."""
        remaining = list(self.sizes)
        held = [sum(remaining[t] for t in holders) for holders in self.holders]
        selected = [0] * len(self.holders)
        counts = [0] * len(self.sizes)
        for _ in range(self.k):
            urgent = self._most_urgent(held, selected)
            if urgent is None:
                return None
            t = self._pick(urgent, remaining, held, rng)
            counts[t] += 1
            remaining[t] -= 1
            for quota in self.quotas_of[t]:
                held[quota] -= 1
                selected[quota] += 1
            for quota in self.quotas_of[t]:
                if selected[quota] >= self.maximums[quota]:
                    self._remove_holders(quota, remaining, held)
        if any(selected[q] < self.minimums[q] for q in range(len(selected))):
            return None
        return counts

    def _most_urgent(self, held: list[int], selected: list[int]) -> int | None:
        best, best_ratio = None, -float("inf")
        for quota, remaining in enumerate(held):
            needed = self.minimums[quota] - selected[quota]
            if remaining < needed:
                return None
            if remaining == 0 or self.maximums[quota] == 0:
                continue
            ratio = needed / remaining
            if ratio > best_ratio:
                best, best_ratio = quota, ratio
        return best

    def _pick(self, quota: int, remaining: list[int], held: list[int], rng: random.Random) -> int:
        """The type of a uniformly drawn remaining holder of the quota's feature."""
        position = rng.randrange(held[quota])
        for t in self.holders[quota]:
            if position < remaining[t]:
                return t
            position -= remaining[t]
        raise AssertionError("the holder counts are out of step")  # pragma: no cover

    def _remove_holders(self, quota: int, remaining: list[int], held: list[int]) -> None:
        for t in self.holders[quota]:
            if remaining[t]:
                for other in self.quotas_of[t]:
                    held[other] -= remaining[t]
                remaining[t] = 0


def legacy(
    pool: Pool,
    k: int,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    progress: Progress | None = None,
) -> Allocation:
    """LEGACY's selection frequencies over `draws` panels drawn with a seeded generator."""
    started = time.perf_counter()
    check_quotas(pool, k)
    if draws < 1:
        raise ValueError("draws must be at least 1")
    drawer = _Drawer(pool, k)
    # A reproducible estimate, not the real draw (which uses a committed, published seed).
    rng = random.Random(seed)  # noqa: S311
    seats = [0] * len(pool.types)
    for draw in range(draws):
        counts = _complete_panel(drawer, rng)
        for t, count in enumerate(counts):
            seats[t] += count
        if progress is not None and ((draw + 1) % PROGRESS_EVERY == 0 or draw + 1 == draws):
            progress(draw + 1, draws)
    type_probabilities = [
        seats[t] / (draws * member_type.size) for t, member_type in enumerate(pool.types)
    ]
    return Allocation(
        algorithm="legacy",
        k=k,
        n=pool.size,
        type_probabilities=tuple(type_probabilities),
        member_probabilities=member_probabilities(pool, type_probabilities),
        seconds=time.perf_counter() - started,
    )


def _complete_panel(drawer: _Drawer, rng: random.Random) -> list[int]:
    """Draw again after each dead end, up to MAX_ATTEMPTS times."""
    for _ in range(MAX_ATTEMPTS):
        counts = drawer.panel(rng)
        if counts is not None:
            return counts
    raise LegacyFailed(
        f"LEGACY reached {MAX_ATTEMPTS} dead ends in a row: the quotas are too tight for it."
    )
