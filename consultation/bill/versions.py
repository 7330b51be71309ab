"""Frozen versions of the bill and the differences between two of them.

A version's `content` is a self-contained JSON snapshot: the title, the exposé des motifs with its
figures resolved, the divisions and articles with their numbers, labels, texts and sources, the
coverage and the figures, as they stood when frozen. Version pages read the snapshot only, never
the current rows, so that later edits (or a deleted proposal) never change a published version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consultation.accounts.models import Organisation, Region, User
from consultation.bill import figures as bill_figures
from consultation.bill.models import Article, ArticleSource, Bill, BillVersion
from consultation.bill.outline import ArticleNode, DivisionNode, Outline, load_outline
from consultation.bill.services import check_editable, coverage, find_bill
from consultation.consultations.models import Consultation, Phase
from consultation.consultations.services import phase_guard
from consultation.core import audit
from consultation.core.diff import diff_html
from consultation.core.errors import Conflict, NotFound
from consultation.debates.models import Debate
from consultation.extensions import db
from consultation.proposals.models import Proposal, SourceKind

SNAPSHOT_FORMAT = 1


# --- Snapshot ------------------------------------------------------------------------------


def _load_sources(bill: Bill) -> dict[int, list[dict[str, Any]]]:
    """The sources of every article of the bill, as snapshot dicts, in one query of plain
    columns: loading ORM proposals with their organisation, region and debate cost ten times
    more for a 300-article bill, and a snapshot needs none of their other columns."""
    rows = db.session.execute(
        select(
            ArticleSource.article_id,
            Proposal.id,
            Proposal.title,
            Organisation.name,
            Proposal.source_kind,
            Proposal.region_code,
            Region.name,
            Proposal.debate_id,
            Debate.title,
        )
        .join(Article, Article.id == ArticleSource.article_id)
        .join(Proposal, Proposal.id == ArticleSource.proposal_id)
        .join(Organisation, Organisation.id == Proposal.organisation_id)
        .outerjoin(Region, Region.code == Proposal.region_code)
        .outerjoin(Debate, Debate.id == Proposal.debate_id)
        .where(Article.bill_id == bill.id)
        .order_by(ArticleSource.article_id, Proposal.id)
    )
    sources: dict[int, list[dict[str, Any]]] = {}
    for article_id, *values in rows:
        sources.setdefault(article_id, []).append(
            {
                "proposal_id": values[0],
                "title": values[1],
                "organisation": values[2],
                "source_kind": SourceKind(values[3]).value,
                "region_code": values[4],
                "region": values[5],
                "debate_id": values[6],
                "debate_title": values[7],
            }
        )
    return sources


def _article_data(node: ArticleNode, sources: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    article = node.article
    return {
        "id": article.id,
        "number": node.number,
        "label": node.label,
        "heading": article.heading,
        "body": article.body,
        "division_id": article.division_id,
        "sources": sources.get(article.id, []),
    }


def _division_data(node: DivisionNode, sources: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "id": node.id,
        "kind": node.division.kind.value,
        "number": node.number,
        "label": node.label,
        "heading": node.division.heading,
        "articles": [_article_data(article, sources) for article in node.articles],
        "divisions": [_division_data(child, sources) for child in node.children],
    }


def build_snapshot(bill: Bill, outline: Outline | None = None) -> dict[str, Any]:
    """The bill as it stands, as a JSON-ready dict (a fixed number of queries: the outline,
    the sources, the figures and the coverage)."""
    outline = outline or load_outline(bill)
    sources = _load_sources(bill)
    consultation = bill.consultation
    figures = bill_figures.compute_figures(consultation)
    covered = coverage(consultation)
    return {
        "format": SNAPSHOT_FORMAT,
        "consultation": consultation.slug,
        "title": bill.title,
        "preamble": bill_figures.resolve_figures(bill.preamble, figures),
        "preamble_source": bill.preamble,  # with its placeholders, as the editor wrote it
        "figures": figures,
        "coverage": {
            "accepted": covered.accepted,
            "decided": covered.decided,
            "percent": covered.percent,
        },
        "article_count": len(outline.articles),
        "articles": [_article_data(node, sources) for node in outline.loose_articles],
        "divisions": [_division_data(node, sources) for node in outline.divisions],
    }


def canonical_json(content: dict[str, Any]) -> bytes:
    """The one byte form of a snapshot: sorted keys, no spaces, UTF-8."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def checksum(content: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON: anyone holding the JSON can check the version."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


# --- Freezing ------------------------------------------------------------------------------


def check_freezable(bill: Bill, outline: Outline) -> None:
    """Freezing needs an article and every accepted proposal decided on (integrity rule)."""
    if outline.is_empty:
        raise Conflict(_l("The bill has no article yet: write at least one before freezing it."))
    covered = coverage(bill.consultation)
    if not covered.is_complete:
        raise Conflict(
            lazy_ngettext(
                "The coverage is %(percent)d%%: %(num)d accepted proposal has no disposition "
                "yet. Integrate it into an article or mark it not retained, then freeze.",
                "The coverage is %(percent)d%%: %(num)d accepted proposals have no "
                "disposition yet. Integrate them into articles or mark them not retained, "
                "then freeze.",
                covered.undecided,
                percent=covered.percent,
            )
        )


def freeze_bill_version(bill: Bill, note: str, actor: User | None, now: datetime) -> BillVersion:
    """Freeze the bill as it stands into the next numbered, immutable version; refused outside
    the synthesis, on an empty bill or while coverage is below 100%."""
    check_editable(bill.consultation)
    outline = load_outline(bill)  # the sources are read by the snapshot, as plain columns
    check_freezable(bill, outline)
    return create_version(bill, note, actor, now, outline=outline)


def create_version(
    bill: Bill,
    note: str,
    actor: User | None,
    now: datetime,
    *,
    outline: Outline | None = None,
) -> BillVersion:
    """Write the next version of the bill, without the phase and coverage rules: for
    `freeze_bill_version`, which checked them, and for the demo, which rebuilds a past
    consultation's versions after its synthesis phase has ended."""
    content = build_snapshot(bill, outline)
    last = db.session.scalar(
        select(func.max(BillVersion.number)).where(BillVersion.bill_id == bill.id)
    )
    version = BillVersion(
        bill_id=bill.id,
        number=(last or 0) + 1,
        note=note.strip()[:500],
        frozen_at=now,
        frozen_by_id=actor.id if actor is not None else None,
        content=content,
        checksum=checksum(content),
    )
    db.session.add(version)
    try:
        db.session.flush()
    except IntegrityError:
        # Two people froze at the same moment and the other took this number; the session
        # cannot go on after a failed flush, and nothing of this request is worth keeping.
        db.session.rollback()
        raise Conflict(
            _l("Another version was frozen at the same moment. Reload the page and try again.")
        ) from None
    audit.record(
        "bill.version_frozen",
        version,
        actor=actor,
        number=version.number,
        checksum=version.checksum,
        articles=content["article_count"],
    )
    return version


def list_versions(bill: Bill) -> list[BillVersion]:
    """The bill's versions, newest first."""
    return list(
        db.session.scalars(
            select(BillVersion)
            .where(BillVersion.bill_id == bill.id)
            .order_by(BillVersion.number.desc())
        )
    )


def find_version(consultation: Consultation, number: int) -> BillVersion:
    """The consultation's bill version with this number, or 404."""
    version = db.session.scalar(
        select(BillVersion)
        .join(Bill, Bill.id == BillVersion.bill_id)
        .where(Bill.consultation_id == consultation.id, BillVersion.number == number)
    )
    if version is None:
        raise NotFound(_l("This version of the bill does not exist."))
    return version


@phase_guard(Phase.JURY)
def _jury_needs_a_frozen_version(consultation: Consultation) -> str | None:
    """Jurors vote on a frozen text: refuse the jury phase without one."""
    bill = find_bill(consultation)
    if bill is None or not db.session.scalar(
        select(func.count(BillVersion.id)).where(BillVersion.bill_id == bill.id)
    ):
        return str(_l("Freeze a version of the bill first: the jury votes on a frozen text."))
    return None


# --- Reading a snapshot --------------------------------------------------------------------


def walk_snapshot(
    content: dict[str, Any],
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every article of a snapshot in document order, with its division (None when loose)."""
    for article in content.get("articles", []):
        yield article, None

    def visit(division: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        for article in division.get("articles", []):
            yield article, division
        for child in division.get("divisions", []):
            yield from visit(child)

    for division in content.get("divisions", []):
        yield from visit(division)


def walk_divisions(
    content: dict[str, Any],
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Every division of a snapshot in document order, with its parent (None at the top)."""

    def visit(
        division: dict[str, Any], parent: dict[str, Any] | None
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        yield division, parent
        for child in division.get("divisions", []):
            yield from visit(child, division)

    for division in content.get("divisions", []):
        yield from visit(division, None)


# --- Differences ---------------------------------------------------------------------------


@dataclass
class ArticleChange:
    """One article between two versions; `kind` is "added", "removed" or "kept"."""

    kind: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    before_division: str = ""  # "TITRE Ier — CHAPITRE II", where it stood
    after_division: str = ""
    is_moved: bool = False  # its number or its division changed
    # Moved itself (another division, or another place among the articles kept beside it),
    # rather than renumbered by an article added, removed or moved before it.
    is_relocated: bool = False
    is_changed: bool = False  # its heading or body changed
    heading_html: Markup | None = None
    body_html: Markup | None = None

    @property
    def article_id(self) -> int:
        return (self.after or self.before or {})["id"]

    @property
    def is_renumbered_only(self) -> bool:
        """Only its number changed, because of other articles: listed briefly."""
        return self.kind == "kept" and not self.is_relocated and not self.is_changed


@dataclass
class DivisionChange:
    kind: str  # "added", "removed", "renamed" or "moved"
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    heading_html: Markup | None = None


@dataclass
class VersionDiff:
    """What changed from version a to version b."""

    title_html: Markup | None = None
    preamble_html: Markup | None = None
    articles: list[ArticleChange] = field(default_factory=list)  # all but the unchanged ones
    divisions: list[DivisionChange] = field(default_factory=list)
    added: int = 0
    removed: int = 0
    moved: int = 0
    changed: int = 0
    unchanged: int = 0

    @property
    def has_changes(self) -> bool:
        return bool(self.articles or self.divisions or self.title_html or self.preamble_html)


def _division_paths(content: dict[str, Any]) -> dict[int, str]:
    """Each division's full label ("TITRE Ier — CHAPITRE II"), by id."""
    paths: dict[int, str] = {}
    for division, parent in walk_divisions(content):
        prefix = f"{paths[parent['id']]} — " if parent else ""
        paths[division["id"]] = prefix + division["label"]
    return paths


def _ranks(content: dict[str, Any], kept: set[int]) -> dict[int, int]:
    """Each kept article's rank among the kept articles of its division: it changes when the
    article itself moves, not when an article added or removed before it renumbers it."""
    ranks: dict[int, int] = {}
    counters: dict[int | None, int] = {}
    for article, division in walk_snapshot(content):
        if article["id"] in kept:
            key = division["id"] if division else None
            ranks[article["id"]] = counters.get(key, 0)
            counters[key] = ranks[article["id"]] + 1
    return ranks


def diff_versions(a: BillVersion, b: BillVersion) -> VersionDiff:
    """The changes from version a to version b, article by article (matched by article id):
    added, removed, moved (number or division), changed (heading or body, word by word);
    the divisions, the title and the exposé des motifs too. Reads the snapshots only."""
    return diff_contents(a.content, b.content)


def diff_contents(before: dict[str, Any], after: dict[str, Any]) -> VersionDiff:
    """The changes between two snapshots (see `diff_versions`)."""
    result = VersionDiff()
    if before.get("title") != after.get("title"):
        result.title_html = diff_html(before.get("title", ""), after.get("title", ""))
    if before.get("preamble") != after.get("preamble"):
        result.preamble_html = diff_html(before.get("preamble", ""), after.get("preamble", ""))

    old_paths, new_paths = _division_paths(before), _division_paths(after)
    old = {article["id"]: (article, division) for article, division in walk_snapshot(before)}
    new_ids = {article["id"] for article, _division in walk_snapshot(after)}
    old_ranks = _ranks(before, new_ids)
    new_ranks = _ranks(after, set(old))
    seen: set[int] = set()
    for article, division in walk_snapshot(after):
        new_division = new_paths.get(division["id"], "") if division else ""
        previous = old.get(article["id"])
        if previous is None:
            result.articles.append(
                ArticleChange("added", None, article, after_division=new_division)
            )
            result.added += 1
            continue
        seen.add(article["id"])
        old_article, old_division = previous
        change = ArticleChange(
            "kept",
            old_article,
            article,
            before_division=old_paths.get(old_division["id"], "") if old_division else "",
            after_division=new_division,
        )
        changed_division = (old_division or {}).get("id") != (division or {}).get("id")
        change.is_moved = changed_division or old_article["number"] != article["number"]
        change.is_relocated = changed_division or (
            old_ranks.get(article["id"]) != new_ranks.get(article["id"])
        )
        if old_article["heading"] != article["heading"]:
            change.heading_html = diff_html(old_article["heading"], article["heading"])
        if old_article["body"] != article["body"]:
            change.body_html = diff_html(old_article["body"], article["body"])
        change.is_changed = change.heading_html is not None or change.body_html is not None
        result.moved += change.is_moved
        result.changed += change.is_changed
        if change.is_moved or change.is_changed:
            result.articles.append(change)
        else:
            result.unchanged += 1
    for article_id, (article, division) in old.items():
        if article_id not in seen:
            result.articles.append(
                ArticleChange(
                    "removed",
                    article,
                    None,
                    before_division=old_paths.get(division["id"], "") if division else "",
                )
            )
            result.removed += 1

    old_divisions = {
        division["id"]: (division, parent) for division, parent in walk_divisions(before)
    }
    new_ids = set()
    for division, parent in walk_divisions(after):
        new_ids.add(division["id"])
        previous = old_divisions.get(division["id"])
        if previous is None:
            result.divisions.append(DivisionChange("added", None, division))
            continue
        old_division, old_parent = previous
        if old_division["heading"] != division["heading"]:
            result.divisions.append(
                DivisionChange(
                    "renamed",
                    old_division,
                    division,
                    diff_html(old_division["heading"], division["heading"]),
                )
            )
        elif old_division["label"] != division["label"] or (old_parent or {}).get("id") != (
            parent or {}
        ).get("id"):
            result.divisions.append(DivisionChange("moved", old_division, division))
    for division_id, (division, _parent) in old_divisions.items():
        if division_id not in new_ids:
            result.divisions.append(DivisionChange("removed", division, None))
    return result
