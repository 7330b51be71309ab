"""LEGACY: seeded, quota-respecting panels, and frequencies that add up to k."""

from __future__ import annotations

import random

import pytest

from consultation.jury.legacy import LegacyFailed, _Drawer, legacy
from consultation.jury.pool import InfeasibleQuotas, parse_pool
from tests.jury.helpers import SORTITION_DATA, shared_pool

CATEGORIES = (
    "category,feature,min,max\n"
    "gender,female,2,3\ngender,male,2,3\nage,young,1,2\nage,middle,1,3\nage,old,1,2\n"
)
RESPONDENTS = "id,gender,age\n" + "".join(
    f"{i},{gender},{age}\n"
    for i, (gender, age) in enumerate(
        [("female", "young")] * 4
        + [("female", "old")] * 6
        + [("male", "middle")] * 7
        + [("male", "young")] * 2
        + [("female", "middle")] * 3
    )
)


def test_every_panel_respects_the_quotas() -> None:
    pool = parse_pool(CATEGORIES, RESPONDENTS)
    drawer = _Drawer(pool, 5)
    rng = random.Random(7)
    complete = 0
    for _ in range(500):
        panel = drawer.panel(rng)
        if panel is None:
            continue
        complete += 1
        assert sum(panel) == 5
        for count, member_type in zip(panel, pool.types, strict=True):
            assert 0 <= count <= member_type.size
        for quota in pool.quotas:
            assert quota.min <= sum(panel[t] for t in pool.holders(quota)) <= quota.max
    assert complete > 400


def test_frequencies_sum_to_k_and_are_seeded() -> None:
    pool = parse_pool(CATEGORIES, RESPONDENTS)
    steps: list[tuple[int, int]] = []
    first = legacy(pool, 5, draws=1000, seed=1, progress=lambda d, t: steps.append((d, t)))
    assert sum(first.member_probabilities) == pytest.approx(5)
    assert all(0 <= p <= 1 for p in first.member_probabilities)
    assert first.algorithm == "legacy"
    assert steps[-1] == (1000, 1000)
    again = legacy(pool, 5, draws=1000, seed=1)
    assert again.member_probabilities == first.member_probabilities
    other = legacy(pool, 5, draws=1000, seed=2)
    assert other.member_probabilities != first.member_probabilities


def test_small_instance_is_unfair_as_the_paper_reports() -> None:
    """The lone conservative woman is seated far less often than k/n (reference: 0.96% over
    10,000 draws), while the frequencies still add up to k."""
    if not SORTITION_DATA.exists():
        pytest.skip("the shared sortition data is missing")
    pool = shared_pool("example_small_20")
    allocation = legacy(pool, 20, draws=2000, seed=0)
    assert sum(allocation.member_probabilities) == pytest.approx(20)
    assert allocation.member_probabilities[0] < 0.03  # the (female, conservative) member
    assert allocation.mean == pytest.approx(0.10)


def test_refuses_infeasible_quotas() -> None:
    categories = "category,feature,min,max\ngender,female,3,3\ngender,male,0,3\n"
    pool = parse_pool(categories, "gender\nfemale\nfemale\nmale\nmale\n")
    with pytest.raises(InfeasibleQuotas):
        legacy(pool, 3, draws=10)


def test_gives_up_after_too_many_dead_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = parse_pool(CATEGORIES, RESPONDENTS)
    monkeypatch.setattr(_Drawer, "panel", lambda self, rng: None)
    with pytest.raises(LegacyFailed, match="dead ends in a row"):
        legacy(pool, 5, draws=10)
