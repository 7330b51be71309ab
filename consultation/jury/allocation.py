"""Selection probabilities of a pool's members, whatever the method that produced them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from consultation.jury.pool import Pool

# Called as progress(done, total) while a method works, e.g. to move a progress bar.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Allocation:
    """Each type's and each member's (respondents' order) probability of sitting on the panel."""

    algorithm: str
    k: int
    n: int
    type_probabilities: tuple[float, ...]
    member_probabilities: tuple[float, ...]
    seconds: float

    @property
    def minimum(self) -> float:
        """The smallest member probability."""
        return min(self.member_probabilities)

    @property
    def maximum(self) -> float:
        """The largest member probability."""
        return max(self.member_probabilities)

    @property
    def mean(self) -> float:
        """k/n: what every member would get if all were equal."""
        return self.k / self.n


def member_probabilities(pool: Pool, type_probabilities: list[float]) -> tuple[float, ...]:
    """Spread the types' probabilities over their members, in the respondents' order."""
    return tuple(type_probabilities[index] for index in pool.member_types)
