"""The map of the regions coloured by their number of debates, and its equivalent table.

The outlines come from open data shipped with the code (data/regions.json, built by
data/build_regions_svg.py; source and licence in data/SOURCE.md): nothing is fetched at run time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select

from consultation.accounts.models import Region
from consultation.consultations.models import Consultation
from consultation.debates.models import Debate, DebateStatus
from consultation.extensions import db

# The debates a map counts: those the public sees as taking or having taken place.
COUNTED_STATUSES = (DebateStatus.PUBLISHED, DebateStatus.HELD)
LEVELS = 4  # colour classes region-map-level-1 .. -4; level 0 is a region without debates


@dataclass(frozen=True)
class MapRegion:
    code: str
    name: str
    count: int
    level: int
    url: str
    path: str
    is_overseas: bool


@dataclass(frozen=True)
class LegendEntry:
    level: int
    low: int
    high: int


@dataclass(frozen=True)
class Inset:
    code: str
    x: int
    y: int
    size: int


@dataclass(frozen=True)
class RegionMap:
    view_box: str
    regions: list[MapRegion]  # in INSEE code order, overseas regions first
    insets: list[Inset]
    legend: list[LegendEntry]

    @property
    def total(self) -> int:
        return sum(region.count for region in self.regions)


@cache
def region_outlines() -> dict:
    """The shipped outlines: view box, insets and SVG path data keyed by INSEE region code."""
    source = resources.files("consultation.debates").joinpath("data/regions.json")
    return json.loads(source.read_text(encoding="utf-8"))


def debate_counts_by_region(consultation: Consultation) -> dict[str, int]:
    """Published and held debates of the consultation per region code, in one grouped query.

    Regions without such debates are absent."""
    rows = db.session.execute(
        select(Debate.region_code, func.count(Debate.id))
        .where(
            Debate.consultation_id == consultation.id,
            Debate.status.in_(COUNTED_STATUSES),
        )
        .group_by(Debate.region_code)
    )
    return {code: count for code, count in rows}


def region_names() -> dict[str, str]:
    """INSEE code -> name of every region, from the region table."""
    return {code: name for code, name in db.session.execute(select(Region.code, Region.name))}


def _level(count: int, top: int) -> int:
    """The colour class of a count: the busiest region gets the darkest, none gets level 0."""
    return 0 if count <= 0 or top <= 0 else min(LEVELS, math.ceil(count * LEVELS / top))


def _legend(top: int) -> list[LegendEntry]:
    """The counts each colour class stands for (classes that no count can reach are left out)."""
    entries = []
    for level in range(1, LEVELS + 1):
        low, high = (level - 1) * top // LEVELS + 1, level * top // LEVELS
        if low <= high:
            entries.append(LegendEntry(level=level, low=low, high=high))
    return entries


def region_map(
    counts: Mapping[str, int],
    link_for: Callable[[str], str],
    names: Mapping[str, str],
) -> RegionMap:
    """Everything the map and its table show: one entry per region of `names`, with its shape.

    `link_for(code)` gives the address of the region's filtered list of debates."""
    outlines = region_outlines()
    overseas = {inset["code"] for inset in outlines["insets"]}
    top = max(counts.values(), default=0)
    regions = [
        MapRegion(
            code=code,
            name=names[code],
            count=counts.get(code, 0),
            level=_level(counts.get(code, 0), top),
            url=link_for(code),
            path=outlines["paths"][code],
            is_overseas=code in overseas,
        )
        for code in sorted(names)
    ]
    return RegionMap(
        view_box=outlines["view_box"],
        regions=regions,
        insets=[Inset(**inset) for inset in outlines["insets"]],
        legend=_legend(top),
    )


def render_region_map(
    counts: Mapping[str, int],
    link_for: Callable[[str], str],
    names: Mapping[str, str] | None = None,
) -> Markup:
    """The map and its equivalent table as HTML (templates/debates/_region_map.html)."""
    data = region_map(counts, link_for, names if names is not None else region_names())
    # The template autoescapes every value it inserts.
    return Markup(render_template("debates/_region_map.html", region_map=data))  # noqa: S704
