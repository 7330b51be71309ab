"""LEXIMIN on the shared instances, on small pools solved by hand, and on infeasible quotas."""

from __future__ import annotations

import itertools
import random

import highspy
import numpy as np
import pytest

from consultation.jury.leximin import Distribution, check_feasible, leximin
from consultation.jury.pool import InfeasibleQuotas, Pool, PoolError, parse_pool
from tests.jury.helpers import REFERENCE_MINIMUM, SORTITION_DATA, shared_pool

INSTANCES = {"example_small_20": 20, "example_large_200": 200}


@pytest.fixture(scope="module", params=sorted(INSTANCES))
def solved(request: pytest.FixtureRequest) -> tuple[Pool, Distribution]:
    """Each shared instance solved once for the whole module (the large one takes ~0.01 s)."""
    if not SORTITION_DATA.exists():
        pytest.skip("the shared sortition data is missing")
    pool = shared_pool(request.param)
    return pool, leximin(pool, INSTANCES[request.param])


def test_probabilities_sum_to_k(solved: tuple[Pool, Distribution]) -> None:
    pool, distribution = solved
    assert len(distribution.member_probabilities) == pool.size
    assert sum(distribution.member_probabilities) == pytest.approx(distribution.k, abs=1e-6)
    assert distribution.n == pool.size
    assert distribution.mean == pytest.approx(0.10)


def test_minimum_respects_the_readme_bounds(solved: tuple[Pool, Distribution]) -> None:
    pool, distribution = solved
    tolerance = 1e-9
    assert distribution.minimum <= distribution.k / pool.size + tolerance
    for quota in pool.quotas:
        assert distribution.minimum <= quota.max / pool.count(quota) + tolerance


def test_minimum_matches_the_reference(solved: tuple[Pool, Distribution]) -> None:
    _, distribution = solved
    assert distribution.minimum == pytest.approx(REFERENCE_MINIMUM, abs=0.001)
    # Both instances allow everyone exactly k/n.
    assert distribution.maximum == pytest.approx(REFERENCE_MINIMUM, abs=0.001)


def test_every_panel_respects_the_quotas(solved: tuple[Pool, Distribution]) -> None:
    pool, distribution = solved
    assert distribution.panels
    for panel in distribution.panels:
        assert_valid_panel(pool, distribution.k, panel)


def test_panel_probabilities_sum_to_one(solved: tuple[Pool, Distribution]) -> None:
    pool, distribution = solved
    probabilities = distribution.panel_probabilities
    assert len(probabilities) == len(distribution.panels)
    assert all(p > 0 for p in probabilities)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-9)
    # The type probabilities are what the lottery gives.
    for t, member_type in enumerate(pool.types):
        expected = sum(
            p * panel[t] for p, panel in zip(probabilities, distribution.panels, strict=True)
        )
        assert distribution.type_probabilities[t] == pytest.approx(expected / member_type.size)


def test_members_of_a_type_share_its_probability(solved: tuple[Pool, Distribution]) -> None:
    pool, distribution = solved
    for t, member_type in enumerate(pool.types):
        for member in member_type.members:
            assert distribution.member_probabilities[member] == distribution.type_probabilities[t]


def test_large_instance_is_fast(solved: tuple[Pool, Distribution]) -> None:
    _, distribution = solved
    assert distribution.seconds < 30


def assert_valid_panel(pool: Pool, k: int, panel: tuple[int, ...]) -> None:
    assert sum(panel) == k
    for count, member_type in zip(panel, pool.types, strict=True):
        assert 0 <= count <= member_type.size
    for quota in pool.quotas:
        seated = sum(panel[t] for t in pool.holders(quota))
        assert quota.min <= seated <= quota.max, quota


def test_handmade_instance_with_unequal_probabilities() -> None:
    """k = 2: Ann (the only x) must sit; one seat goes to the 3 y or the 6 z, at most one of
    each. Seating a y with probability q gives each y q/3 and each z (1-q)/6: the smallest is
    largest when q = 1/3, so every y and z gets 1/9 and Ann gets 1."""
    categories = "category,feature,min,max\ng,x,1,1\ng,y,0,1\ng,z,0,1\n"
    respondents = "id,g\n" + "".join(
        f"{i},{feature}\n" for i, feature in enumerate(["x"] + ["y"] * 3 + ["z"] * 6)
    )
    pool = parse_pool(categories, respondents)
    distribution = leximin(pool, 2)
    assert distribution.member_probabilities[0] == pytest.approx(1.0, abs=1e-6)
    for probability in distribution.member_probabilities[1:]:
        assert probability == pytest.approx(1 / 9, abs=1e-6)
    assert distribution.minimum == pytest.approx(1 / 9, abs=1e-6)
    assert distribution.maximum == pytest.approx(1.0, abs=1e-6)
    assert sum(distribution.panel_probabilities) == pytest.approx(1.0)


def test_handmade_instance_with_a_member_no_panel_can_take() -> None:
    """k = 2, one woman and one man, at most one old member: the men are all old, so the woman
    is the young one, always; the old woman is never seated and each of the 4 men gets 1/4."""
    categories = (
        "category,feature,min,max\ngender,female,1,1\ngender,male,1,1\nage,young,0,2\nage,old,0,1\n"
    )
    respondents = "gender,age\nfemale,young\nfemale,old\n" + "male,old\n" * 4
    pool = parse_pool(categories, respondents)
    steps: list[tuple[int, int]] = []
    distribution = leximin(pool, 2, progress=lambda done, total: steps.append((done, total)))
    assert distribution.member_probabilities == pytest.approx(
        [1.0, 0.0, 0.25, 0.25, 0.25, 0.25], abs=1e-6
    )
    assert sum(distribution.member_probabilities) == pytest.approx(2.0)
    assert steps[0] == (0, 3)
    assert steps[-1] == (3, 3)
    for panel in distribution.panels:
        assert_valid_panel(pool, 2, panel)


def test_reports_a_quota_the_pool_cannot_meet() -> None:
    categories = "category,feature,min,max\ngender,female,9,20\ngender,male,0,20\n"
    respondents = "gender\n" + "female\n" * 5 + "male\n" * 30
    pool = parse_pool(categories, respondents)
    with pytest.raises(InfeasibleQuotas) as caught:
        leximin(pool, 20)
    assert caught.value.problems == ["gender/female: at least 9 needed but only 5 in the pool."]


def test_reports_categories_whose_quotas_clash() -> None:
    """Each category alone is fine, but the women are the young: 2 women, at least 3 young."""
    categories = (
        "category,feature,min,max\ngender,female,2,2\ngender,male,2,2\nage,young,3,4\nage,old,0,1\n"
    )
    respondents = "gender,age\n" + "female,young\n" * 5 + "male,old\n" * 5
    pool = parse_pool(categories, respondents)
    with pytest.raises(InfeasibleQuotas) as caught:
        check_feasible(pool, 4)
    assert caught.value.problems == [
        "No panel of k = 4 members meets the quotas of the categories gender, age together, "
        "given the members of the pool."
    ]


# --- Against a brute force on small random pools ------------------------------------------------


def all_panels(pool: Pool, k: int) -> list[tuple[int, ...]]:
    """Every quota-respecting panel, by enumerating the count vectors."""
    ranges = [range(member_type.size + 1) for member_type in pool.types]
    return [
        panel
        for panel in itertools.product(*ranges)
        if sum(panel) == k
        and all(
            quota.min <= sum(panel[t] for t in pool.holders(quota)) <= quota.max
            for quota in pool.quotas
        )
    ]


def best_value(
    panels: list[tuple[int, ...]], sizes: list[int], floors: dict[int, float], target: int | None
) -> float:
    """Over lotteries of `panels` giving each type t at least floors[t] (or at least z when
    floors[t] is NaN): the largest z if target is None, else the largest probability of type
    `target`."""
    count = len(panels)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.addVars(count + 1, np.zeros(count + 1), np.full(count + 1, highspy.kHighsInf))
    costs = np.zeros(count + 1)
    if target is None:
        costs[count] = 1.0
    else:
        costs[:count] = [panel[target] / sizes[target] for panel in panels]
    highs.changeColsCost(count + 1, np.arange(count + 1, dtype=np.int32), costs)
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    highs.addRow(1.0, 1.0, count, np.arange(count, dtype=np.int32), np.ones(count))
    for t, floor in floors.items():
        users = [p for p in range(count) if panels[p][t]]
        values = [panels[p][t] / sizes[t] for p in users]
        if np.isnan(floor):  # at least z
            indices, values, low = [*users, count], [*values, -1.0], 0.0
        else:
            indices, low = users, floor
        highs.addRow(
            low,
            highspy.kHighsInf,
            len(indices),
            np.array(indices, dtype=np.int32),
            np.array(values),
        )
    highs.run()
    return float(highs.getInfo().objective_function_value)


def brute_force_leximin(pool: Pool, k: int) -> list[float]:
    """LEXIMIN the plain way, without column generation nor dual weights: maximise the smallest
    unfixed probability z over all panels, then fix each type that cannot rise above z."""
    panels = all_panels(pool, k)
    sizes = [member_type.size for member_type in pool.types]
    fixed: dict[int, float] = {}
    while len(fixed) < len(sizes):
        unfixed = [t for t in range(len(sizes)) if t not in fixed]
        z = best_value(panels, sizes, {**fixed, **dict.fromkeys(unfixed, np.nan)}, None)
        floors = {**{t: v - 1e-9 for t, v in fixed.items()}, **dict.fromkeys(unfixed, z - 1e-9)}
        for t in unfixed:
            if best_value(panels, sizes, floors, t) <= z + 1e-7:
                fixed[t] = z
    return [fixed[t] for t in range(len(sizes))]


def random_pool(seed: int) -> tuple[Pool, int]:
    """A small random pool and panel size that some panel fits (drawn again until one does)."""
    rng = random.Random(seed)
    while True:
        categories = {"a": ["x", "y", "z"][: rng.randint(2, 3)], "b": ["p", "q"], "c": ["u", "v"]}
        lines = ["category,feature,min,max"]
        for category, features in categories.items():
            for feature in features:
                low = rng.randint(0, 2)
                lines.append(f"{category},{feature},{low},{low + rng.randint(0, 3)}")
        n = rng.randint(6, 12)
        rows = [",".join(rng.choice(fs) for fs in categories.values()) for _ in range(n)]
        try:
            pool = parse_pool("\n".join(lines), "a,b,c\n" + "\n".join(rows))
        except PoolError:
            continue  # a feature nobody holds in a row is fine, but e.g. min > max is not
        k = rng.randint(2, min(5, n - 1))
        if all_panels(pool, k):
            return pool, k


@pytest.mark.parametrize("seed", range(12))
def test_matches_a_brute_force_on_small_random_pools(seed: int) -> None:
    pool, k = random_pool(seed)
    distribution = leximin(pool, k)
    assert distribution.type_probabilities == pytest.approx(brute_force_leximin(pool, k), abs=1e-6)
    assert sum(distribution.member_probabilities) == pytest.approx(k)
    for panel in distribution.panels:
        assert_valid_panel(pool, k, panel)
