"""The final text: the articles the jury adopted, renumbered, under the title and the exposé des
motifs, with its annexes — the jury's results, the provenance of each article, the figures of the
consultation. Every export format renders this one model.

It is built from data that no longer moves: the bill version the jury voted on (its snapshot)
and the results recorded when the round closed. Only the figures annex reads the live tables.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from consultation.accounts.models import Region
from consultation.bill import figures as bill_figures
from consultation.bill.models import BillVersion, DivisionKind
from consultation.bill.numbering import article_label, article_number, division_label
from consultation.consultations.models import Consultation
from consultation.core.errors import Conflict
from consultation.core.typography import sort_key
from consultation.debates.models import Debate, DebateStatus
from consultation.extensions import db
from consultation.jury.models import WHOLE_TEXT, RoundStatus, VotingRound
from consultation.proposals.models import SourceKind

FORMAT = "utiles-ensemble/final-text/1"


@dataclass(frozen=True)
class Source:
    """A proposal an article came from, and who made it."""

    proposal_id: int
    title: str
    organisation: str
    source_kind: str  # a SourceKind value
    region: str | None
    debate: str | None


@dataclass(frozen=True)
class Result:
    """The jury's vote on one item of the voted version (an article or the whole text)."""

    item: int  # the article's id in the voted version; WHOLE_TEXT for the whole text
    voted_label: str  # "Article 3" as numbered in the voted version
    heading: str
    final_label: str | None  # "Article 2" in the final text; None when not adopted
    registered: int
    voted: int
    pour: int
    contre: int
    abstention: int
    quorum_reached: bool
    adopted: bool
    large_support: bool


@dataclass(frozen=True)
class Article:
    number: int  # continuous across the text, from 1
    num: str  # as written after "Article": "1er", "2", "unique"
    label: str  # "Article 1er"
    heading: str
    body: str  # Markdown
    voted_label: str  # its label in the voted version
    sources: tuple[Source, ...]
    result: Result


@dataclass(frozen=True)
class Division:
    kind: str  # a DivisionKind value
    number: int  # among its siblings, from 1
    label: str  # "TITRE Ier"
    heading: str
    articles: tuple[Article, ...]
    divisions: tuple[Division, ...]

    def all_articles(self) -> list[Article]:
        """Its articles and those of its subdivisions, in order."""
        found = list(self.articles)
        for child in self.divisions:
            found.extend(child.all_articles())
        return found


@dataclass(frozen=True)
class RegionDebates:
    region: str
    held: int


@dataclass(frozen=True)
class Figures:
    """The consultation in numbers, for the last annex."""

    debates_held: int
    debates_by_region: tuple[RegionDebates, ...]
    proposals: int
    proposals_by_source: dict[str, int]  # SourceKind value -> public proposals
    organisations: int
    jurors: int


@dataclass(frozen=True)
class FinalText:
    consultation: str  # slug
    consultation_title: str
    title: str
    preamble: str  # Markdown, its figures resolved ("Mesdames, Messieurs, …")
    version_number: int
    version_checksum: str
    round_number: int
    round_opens_at: datetime
    round_closes_at: datetime
    quorum_percent: int
    threshold_percent: int
    articles: tuple[Article, ...]  # outside any division, first
    divisions: tuple[Division, ...]
    results: tuple[Result, ...]  # every article of the voted version, in its order
    whole_text: Result
    figures: Figures
    dated: datetime  # when the text was settled: the round's closing

    def all_articles(self) -> list[Article]:
        """Every article of the final text, in order."""
        found = list(self.articles)
        for division in self.divisions:
            found.extend(division.all_articles())
        return found

    @property
    def article_count(self) -> int:
        return len(self.all_articles())


class NotExportable(Conflict):
    """The final text does not exist yet (no closed round, or nothing adopted)."""


# --- Building ----------------------------------------------------------------------------------


def voted_round(consultation: Consultation) -> VotingRound:
    """The last closed round: its version and results make the final text."""
    voting_round = db.session.scalar(
        select(VotingRound)
        .where(
            VotingRound.consultation_id == consultation.id,
            VotingRound.status == RoundStatus.CLOSED,
        )
        .order_by(VotingRound.number.desc())
        .limit(1)
    )
    if voting_round is None or not voting_round.results:
        raise NotExportable(
            _l("The final text does not exist yet: the jury's voting round has not closed.")
        )
    return voting_round


def _result(row: dict[str, Any], heading: str, final_label: str | None) -> Result:
    return Result(
        item=int(row["item"]),
        voted_label=str(row["label"]),
        heading=heading,
        final_label=final_label,
        registered=int(row["registered"]),
        voted=int(row["voted"]),
        pour=int(row["pour"]),
        contre=int(row["contre"]),
        abstention=int(row["abstention"]),
        quorum_reached=bool(row["quorum_reached"]),
        adopted=bool(row["adopted"]),
        large_support=bool(row["large_support"]),
    )


def _sources(article: dict[str, Any]) -> tuple[Source, ...]:
    return tuple(
        Source(
            proposal_id=int(source["proposal_id"]),
            title=source["title"],
            organisation=source["organisation"],
            source_kind=source["source_kind"],
            region=source.get("region"),
            debate=source.get("debate_title"),
        )
        for source in article.get("sources", [])
    )


class _Numbering:
    """Renumbers the adopted articles: first the total (for "Article unique"), then in order."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.next = 1

    def take(self) -> tuple[int, str, str]:
        number = self.next
        self.next += 1
        return number, article_number(number, self.total), article_label(number, self.total)


def _articles(
    rows: list[dict[str, Any]], by_item: dict[int, dict[str, Any]], numbering: _Numbering
) -> tuple[list[Article], dict[int, str]]:
    kept, labels = [], {}
    for article in rows:
        row = by_item.get(int(article["id"]))
        if row is None or not row["adopted"]:
            continue
        number, num, label = numbering.take()
        labels[int(article["id"])] = label
        kept.append(
            Article(
                number=number,
                num=num,
                label=label,
                heading=article.get("heading") or "",
                body=article.get("body") or "",
                voted_label=str(article["label"]),
                sources=_sources(article),
                result=_result(row, article.get("heading") or "", label),
            )
        )
    return kept, labels


def _divisions(
    rows: list[dict[str, Any]], by_item: dict[int, dict[str, Any]], numbering: _Numbering
) -> tuple[list[Division], dict[int, str]]:
    """The divisions that keep an adopted article, renumbered among their siblings."""
    kept: list[Division] = []
    labels: dict[int, str] = {}
    counters: dict[str, int] = {}
    for row in rows:
        articles, article_labels = _articles(row.get("articles", []), by_item, numbering)
        children, child_labels = _divisions(row.get("divisions", []), by_item, numbering)
        labels |= article_labels | child_labels
        if not articles and not children:
            continue  # a division whose articles were all rejected disappears
        kind = DivisionKind(row["kind"])
        counters[kind.value] = counters.get(kind.value, 0) + 1
        number = counters[kind.value]
        kept.append(
            Division(
                kind=kind.value,
                number=number,
                label=division_label(kind, number),
                heading=row.get("heading") or "",
                articles=tuple(articles),
                divisions=tuple(children),
            )
        )
    return kept, labels


def _headings(content: dict[str, Any]) -> dict[int, str]:
    from consultation.bill.versions import walk_snapshot

    return {
        int(article["id"]): article.get("heading") or "" for article, _ in walk_snapshot(content)
    }


def compute_figures(consultation: Consultation, jurors: int) -> Figures:
    """The consultation's figures as they stand (three queries and those of the bill's
    figures)."""
    figures = bill_figures.compute_figures(consultation)
    by_region = db.session.execute(
        select(Region.name, func.count(Debate.id))
        .join(Debate, Debate.region_code == Region.code)
        .where(Debate.consultation_id == consultation.id, Debate.status == DebateStatus.HELD)
        .group_by(Region.code, Region.name)
    ).all()
    by_region = sorted(by_region, key=lambda row: sort_key(row[0]))
    return Figures(
        debates_held=figures["debats_tenus"],
        debates_by_region=tuple(RegionDebates(name, count) for name, count in by_region),
        proposals=figures["propositions"],
        proposals_by_source={
            kind.value: figures[f"propositions_{kind.value}"] for kind in SourceKind
        },
        organisations=figures["organisations"],
        jurors=jurors,
    )


def build_final_text(consultation: Consultation) -> FinalText:
    """The final text of the consultation, from its last closed round; refused (409) before a
    round has closed or when the jury adopted no article."""
    voting_round = voted_round(consultation)
    version: BillVersion = voting_round.bill_version
    content = version.content
    results = voting_round.results
    by_item = {int(row["item"]): row for row in results["items"]}
    adopted = sum(1 for item, row in by_item.items() if item != WHOLE_TEXT and row["adopted"])
    if adopted == 0:
        raise NotExportable(_l("The jury adopted no article: there is no final text to export."))
    numbering = _Numbering(adopted)
    loose, labels = _articles(content.get("articles", []), by_item, numbering)
    divisions, division_labels = _divisions(content.get("divisions", []), by_item, numbering)
    labels |= division_labels
    headings = _headings(content)
    ordered = [
        _result(row, headings.get(int(row["item"]), ""), labels.get(int(row["item"])))
        for row in results["items"]
        if int(row["item"]) != WHOLE_TEXT
    ]
    whole = next(row for row in results["items"] if int(row["item"]) == WHOLE_TEXT)
    return FinalText(
        consultation=consultation.slug,
        consultation_title=consultation.title,
        title=content.get("title") or "",
        preamble=content.get("preamble") or "",
        version_number=version.number,
        version_checksum=version.checksum,
        round_number=voting_round.number,
        round_opens_at=voting_round.opens_at,
        round_closes_at=voting_round.closes_at,
        quorum_percent=voting_round.quorum_percent,
        threshold_percent=voting_round.threshold_percent,
        articles=tuple(loose),
        divisions=tuple(divisions),
        results=tuple(ordered),
        whole_text=_result(whole, "", None),
        figures=compute_figures(consultation, int(results["registered"])),
        dated=voting_round.closed_at or voting_round.closes_at,
    )


def to_data(text: FinalText) -> dict[str, Any]:
    """The final text as JSON-ready data (the JSON export, and the model of the others)."""
    data = asdict(text)
    data["format"] = FORMAT
    for key in ("round_opens_at", "round_closes_at", "dated"):
        data[key] = data[key].isoformat()
    data["article_count"] = text.article_count
    return data
