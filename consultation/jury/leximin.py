"""LEXIMIN selection probabilities (Flanigan, Gölz, Gupta, Hennig, Procaccia, Nature 596, 2021).

LEXIMIN is the probability distribution over quota-respecting panels that maximises the smallest
selection probability, then the next smallest, and so on. We work over *types* (members with the
same features, who get the same probability): a panel is a vector `c` of counts per type with
`0 <= c_t <= n_t`, `sum(c) = k` and every quota `min <= sum(c_t for t holding f) <= max`; a
member of type t is selected with probability `E[c_t] / n_t`.

Column generation, as in the paper: for the panels found so far, the dual of the master LP
("maximise the smallest probability z of the types not yet fixed, keeping the fixed ones")
gives type weights y; the pricing ILP (HiGHS MIP through highspy) looks for the panel of largest
weighted value; while one beats the dual bound, it joins the master. When none does, z is
optimal, and the types whose weight is positive cannot rise above z (complementary slackness):
they are fixed at z, and the next round maximises the next smallest probability.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

import highspy
import numpy as np
from flask_babel import lazy_gettext as _l

from consultation.jury.allocation import Allocation, Progress, member_probabilities
from consultation.jury.pool import InfeasibleQuotas, Pool, Quota, check_quotas

# A panel must beat the dual bound by this much to join the master; it bounds the error on
# each fixed probability, far below the 0.001 the issue asks for.
IMPROVEMENT_EPS = 1e-7
# A dual weight above this is taken as positive (the type is fixed).
FIX_EPS = 1e-7
# Fixed probabilities are kept within this slack, so that solver round-off never makes the
# master infeasible.
FIX_SLACK = 1e-9
MIP_GAP = 1e-9
# Panels whose probability is below this are dropped from the final distribution.
PANEL_EPS = 1e-12

Panel = tuple[int, ...]


@dataclass(frozen=True)
class Distribution(Allocation):
    """A lottery over panels (type-count vectors) and the probabilities it gives."""

    panels: tuple[Panel, ...] = ()
    panel_probabilities: tuple[float, ...] = ()


def _quiet_highs() -> highspy.Highs:
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    # One thread: the models are small, and the tests run on parallel workers.
    highs.setOptionValue("threads", 1)
    return highs


class PanelModel:
    """The pricing ILP: integer counts per type meeting the size and the quotas."""

    def __init__(self, pool: Pool, k: int, quotas: tuple[Quota, ...] | None = None) -> None:
        self.size = len(pool.types)
        self.highs = _quiet_highs()
        self.highs.setOptionValue("mip_rel_gap", MIP_GAP)
        self.highs.setOptionValue("mip_abs_gap", MIP_GAP)
        self.indices = np.arange(self.size, dtype=np.int32)
        upper = np.array([member_type.size for member_type in pool.types], dtype=np.float64)
        self.highs.addVars(self.size, np.zeros(self.size), upper)
        self.highs.changeColsIntegrality(
            self.size,
            self.indices,
            np.full(self.size, highspy.HighsVarType.kInteger.value, dtype=np.uint8),
        )
        self.highs.addRow(k, k, self.size, self.indices, np.ones(self.size))
        for quota in pool.quotas if quotas is None else quotas:
            holders = np.array(pool.holders(quota), dtype=np.int32)
            self.highs.addRow(quota.min, quota.max, len(holders), holders, np.ones(len(holders)))
        self.highs.changeObjectiveSense(highspy.ObjSense.kMaximize)

    def best(self, weights: np.ndarray) -> tuple[Panel, float] | None:
        """The panel of largest weighted value and that value; None when no panel exists."""
        self.highs.changeColsCost(self.size, self.indices, np.asarray(weights, dtype=np.float64))
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        values = self.highs.getSolution().col_value
        panel = tuple(round(value) for value in values)
        return panel, float(np.dot(weights, panel))


def check_feasible(pool: Pool, k: int) -> PanelModel:
    """Refuse quotas that no panel of size k meets, saying why; return the pricing model."""
    check_quotas(pool, k)
    model = PanelModel(pool, k)
    if model.best(np.zeros(len(pool.types))) is not None:
        return model
    raise InfeasibleQuotas([_conflict(pool, k)])


def _conflict(pool: Pool, k: int) -> str:
    """Name the smallest set of categories whose quotas cannot be met together."""
    for size in range(1, len(pool.categories) + 1):
        for categories in itertools.combinations(pool.categories, size):
            quotas = tuple(quota for quota in pool.quotas if quota.category in categories)
            if PanelModel(pool, k, quotas).best(np.zeros(len(pool.types))) is None:
                return str(
                    _l(
                        "No panel of k = %(k)s members meets the quotas of the categories "
                        "%(names)s together, given the members of the pool.",
                        k=k,
                        names=", ".join(categories),
                    )
                )
    return str(_l("No panel of k = %(k)s members meets the quotas.", k=k))  # pragma: no cover


class _Master:
    """The dual of the master LP for one round, over the panels found so far.

    Variables: a weight y_t >= 0 per type, and the bound ŷ (free, last). Minimise
    ŷ - sum(fixed_t * y_t) subject to, for every panel, sum(y_t * c_t / n_t) <= ŷ, and
    sum(y_t for unfixed t) = 1. Its optimum is the largest possible minimum probability z of
    the unfixed types, given the fixed ones.
    """

    def __init__(self, sizes: np.ndarray, fixed: dict[int, float], panels: list[Panel]) -> None:
        self.sizes = sizes
        count = len(sizes)
        self.highs = _quiet_highs()
        costs = np.zeros(count + 1)
        for index, value in fixed.items():
            costs[index] = -(value - FIX_SLACK)
        costs[count] = 1.0
        lower = np.zeros(count + 1)
        lower[count] = -highspy.kHighsInf
        self.highs.addVars(count + 1, lower, np.full(count + 1, highspy.kHighsInf))
        self.highs.changeColsCost(count + 1, np.arange(count + 1, dtype=np.int32), costs)
        unfixed = np.array([t for t in range(count) if t not in fixed], dtype=np.int32)
        self.highs.addRow(1.0, 1.0, len(unfixed), unfixed, np.ones(len(unfixed)))
        for panel in panels:
            self.add(panel)

    def add(self, panel: Panel) -> None:
        """A row for a panel: its weighted value cannot exceed ŷ."""
        count = len(self.sizes)
        indices = np.array([t for t in range(count) if panel[t]] + [count], dtype=np.int32)
        values = [panel[t] / self.sizes[t] for t in range(count) if panel[t]] + [-1.0]
        self.highs.addRow(-highspy.kHighsInf, 0.0, len(indices), indices, np.array(values))

    def solve(self) -> tuple[np.ndarray, float, float]:
        """The type weights y, the bound ŷ and the objective z."""
        self.highs.run()
        status = self.highs.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:  # pragma: no cover - solver failure
            raise RuntimeError(f"The master LP failed: {self.highs.modelStatusToString(status)}")
        values = np.array(self.highs.getSolution().col_value)
        return values[:-1], float(values[-1]), float(self.highs.getInfo().objective_function_value)


def _initial_panels(model: PanelModel, count: int) -> list[Panel]:
    """Panels that together include every type that any panel can include."""
    panels: list[Panel] = []
    covered = np.zeros(count, dtype=bool)
    # k >= 1, so the first panel always seats someone: the master never starts empty.
    while not covered.all():
        found = model.best((~covered).astype(np.float64))
        assert found is not None  # the model was checked feasible
        panel = found[0]
        newly = np.array(panel) > 0
        if not (newly & ~covered).any():
            break  # the types left out can never sit on a panel: their probability is 0
        panels.append(panel)
        covered |= newly
    return panels


def _round(
    model: PanelModel, sizes: np.ndarray, fixed: dict[int, float], panels: list[Panel]
) -> tuple[np.ndarray, float]:
    """Add improving panels until none is left; return the final type weights and z."""
    master = _Master(sizes, fixed, panels)
    known = set(panels)
    while True:
        weights, bound, objective = master.solve()
        found = model.best(weights / sizes)
        assert found is not None
        panel, value = found
        if value <= bound + IMPROVEMENT_EPS or panel in known:
            return weights, objective
        panels.append(panel)
        known.add(panel)
        master.add(panel)


def _lottery(sizes: np.ndarray, fixed: dict[int, float], panels: list[Panel]) -> np.ndarray:
    """Panel probabilities giving every type at least its fixed probability (up to a slack
    variable per type, whose sum is minimised, in case of solver round-off)."""
    count, columns = len(sizes), len(panels)
    highs = _quiet_highs()
    highs.addVars(columns + count, np.zeros(columns + count), np.full(columns + count, np.inf))
    costs = np.concatenate([np.zeros(columns), np.ones(count)])
    highs.changeColsCost(columns + count, np.arange(columns + count, dtype=np.int32), costs)
    highs.addRow(1.0, 1.0, columns, np.arange(columns, dtype=np.int32), np.ones(columns))
    for t in range(count):
        users = [p for p in range(columns) if panels[p][t]]
        indices = np.array([*users, columns + t], dtype=np.int32)
        values = np.array([panels[p][t] / sizes[t] for p in users] + [1.0])
        highs.addRow(fixed[t], highspy.kHighsInf, len(indices), indices, values)
    highs.run()
    weights = np.clip(np.array(highs.getSolution().col_value[:columns]), 0.0, None)
    return weights / weights.sum()


def leximin(pool: Pool, k: int, progress: Progress | None = None) -> Distribution:
    """The LEXIMIN distribution over panels of size k of the pool, by column generation."""
    started = time.perf_counter()
    model = check_feasible(pool, k)
    sizes = np.array([member_type.size for member_type in pool.types], dtype=np.float64)
    count = len(sizes)
    panels = _initial_panels(model, count)
    fixed: dict[int, float] = {}
    if progress is not None:
        progress(0, count)
    while len(fixed) < count:
        weights, objective = _round(model, sizes, fixed, panels)
        unfixed = [t for t in range(count) if t not in fixed]
        chosen = [t for t in unfixed if weights[t] > FIX_EPS]
        # Some weight is positive since they add up to 1; round-off could hide it.
        for t in chosen or [max(unfixed, key=lambda t: weights[t])]:
            fixed[t] = max(0.0, objective)
        if progress is not None:
            progress(len(fixed), count)
    lottery = _lottery(sizes, fixed, panels)
    kept = [p for p in range(len(panels)) if lottery[p] > PANEL_EPS]
    chosen_panels = [panels[p] for p in kept]
    probabilities = lottery[kept] / lottery[kept].sum()
    counts = np.array(chosen_panels, dtype=np.float64).T @ probabilities
    type_probabilities = [float(value) for value in counts / sizes]
    return Distribution(
        algorithm="leximin",
        k=k,
        n=pool.size,
        type_probabilities=tuple(type_probabilities),
        member_probabilities=member_probabilities(pool, type_probabilities),
        seconds=time.perf_counter() - started,
        panels=tuple(chosen_panels),
        panel_probabilities=tuple(float(value) for value in probabilities),
    )
