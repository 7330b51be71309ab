"""The map of the regions: every region drawn from the shipped outlines, coloured by its number of
debates, linking to its list, and the same figures in an accessible table."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from importlib import resources

from consultation.debates.models import DebateStatus
from consultation.debates.regions_map import (
    debate_counts_by_region,
    region_map,
    region_names,
    region_outlines,
    render_region_map,
)
from tests import factories
from tests.debates.helpers import make_debate

CODES = [
    "01",
    "02",
    "03",
    "04",
    "06",
    "11",
    "24",
    "27",
    "28",
    "32",
    "44",
    "52",
    "53",
    "75",
    "76",
    "84",
    "93",
    "94",
]


def link(code: str) -> str:
    return f"/consultations/c/debats?region={code}"


class MapParser(HTMLParser):
    """Collects the map's links (with their title and path class) and the table's rows."""

    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, dict[str, str]] = {}
        self.rows: list[list[str]] = []
        self.row_links: list[str] = []
        self.styles = 0
        self._link: str | None = None
        self._in_title = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if "style" in values:
            self.styles += 1
        if tag == "a" and "data-region" in values:
            self._link = values["data-region"]
            self.links[self._link] = {"href": values["href"] or "", "label": values["aria-label"]}
        elif tag == "a" and self._cell is not None:
            self.row_links.append(values["href"] or "")
        elif tag == "title" and self._link:
            self._in_title = True
        elif tag == "path" and self._link:
            self.links[self._link]["class"] = values["class"] or ""
            self.links[self._link]["d"] = values["d"] or ""
        elif tag == "tr":
            self._cell = []
        elif tag in ("th", "td") and self._cell is not None:
            self._cell.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link and self._cell is None:
            self._link = None
        elif tag == "title":
            self._in_title = False
        elif tag == "tr" and self._cell is not None:
            self.rows.append([cell.strip() for cell in self._cell])
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._in_title and self._link:
            self.links[self._link]["title"] = self.links[self._link].get("title", "") + data
        elif self._cell:
            self._cell[-1] += data


def test_shipped_outlines_cover_the_eighteen_regions_and_stay_small():
    outlines = region_outlines()
    assert sorted(outlines["paths"]) == CODES
    assert [inset["code"] for inset in outlines["insets"]] == ["01", "02", "03", "04", "06"]
    for path in outlines["paths"].values():
        assert re.fullmatch(r"M[-0-9 mlz]+", path)
    data = resources.files("consultation.debates").joinpath("data/regions.json")
    assert len(data.read_bytes()) < 40_000
    source = resources.files("consultation.debates").joinpath("data/SOURCE.md").read_text()
    assert "MIT License" in source and "Copyright (c) 2021 DINUM" in source
    assert json.loads(data.read_text())["view_box"].startswith("0 0 ")


def test_region_map_has_every_region_with_its_count_and_link(db):
    names = region_names()
    assert sorted(names) == CODES
    result = region_map({"52": 8, "11": 1, "93": 4}, link, names)
    by_code = {region.code: region for region in result.regions}
    assert sorted(by_code) == CODES
    assert by_code["52"].count == 8 and by_code["52"].level == 4
    assert by_code["93"].level == 2  # steps of 2: 1-2, 3-4, 5-6, 7-8
    assert by_code["11"].level == 1
    assert by_code["24"].count == 0 and by_code["24"].level == 0
    assert by_code["52"].url == "/consultations/c/debats?region=52"
    assert by_code["52"].name == "Pays de la Loire"
    assert by_code["04"].is_overseas and not by_code["52"].is_overseas
    assert result.total == 13
    assert [(e.level, e.low, e.high) for e in result.legend] == [
        (1, 1, 2),
        (2, 3, 4),
        (3, 5, 6),
        (4, 7, 8),
    ]


def test_region_map_without_debates_has_no_legend(db):
    result = region_map({}, link, region_names())
    assert {region.level for region in result.regions} == {0}
    assert result.legend == [] and result.total == 0


def test_counts_take_published_and_held_debates_of_the_consultation(db, count_queries):
    consultation = factories.make_consultation()
    other = factories.make_consultation()
    make_debate(consultation, "52")
    make_debate(consultation, "52", status=DebateStatus.HELD)
    make_debate(consultation, "11")
    make_debate(consultation, "11", status=DebateStatus.DRAFT)
    make_debate(consultation, "84", status=DebateStatus.CANCELLED)
    make_debate(other, "53")
    db.session.commit()
    assert consultation.id  # loaded again after the commit, as a view would have it
    with count_queries() as statements:
        counts = debate_counts_by_region(consultation)
    assert counts == {"52": 2, "11": 1}
    assert len(statements) == 1


def test_rendered_map_and_table_say_the_same(app, db):
    with app.test_request_context("/"):
        html = str(render_region_map({"52": 3, "01": 1}, link))
    parser = MapParser()
    parser.feed(html)
    assert parser.styles == 0  # the CSP forbids style attributes
    assert sorted(parser.links) == CODES
    pdl = parser.links["52"]
    assert pdl["href"] == link("52")
    assert pdl["title"] == pdl["label"] == "Pays de la Loire: 3 debates"
    assert "region-map-level-4" in pdl["class"]
    assert parser.links["01"]["title"] == "Guadeloupe: 1 debate"
    assert "region-map-level-0" in parser.links["24"]["class"]
    assert all(entry["d"].startswith("M") for entry in parser.links.values())
    body = parser.rows[1:]  # the first row is the header
    assert len(body) == 18
    table = {name: int(count) for name, count, _ in body}
    names = region_names()
    assert table == {names[code]: {"52": 3, "01": 1}.get(code, 0) for code in CODES}
    assert sorted(parser.row_links) == sorted(link(code) for code in CODES)
    assert "<caption>Debates by region</caption>" in html


def test_the_map_page_shows_every_region_with_its_count(app, db, client):
    from consultation.consultations.models import Phase
    from tests import factories
    from tests.debates.helpers import make_debate

    consultation = factories.make_consultation(slug="carte", phase=Phase.CONCERTATION)
    make_debate(consultation, region_code="52", status="published")
    db.session.commit()
    page = client.get("/consultations/carte/debats/carte")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('class="region-map-link"') == 18
    assert "/consultations/carte/debats?region=52" in html
    assert "<table" in html  # the accessible equivalent
