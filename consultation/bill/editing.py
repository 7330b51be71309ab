"""The bill editor's use cases: the title and exposé des motifs, the divisions (add, rename,
move, delete), the articles (add, move, delete) and the save of an article's text under
optimistic locking, with its revision.

Every write checks first that the consultation is in its synthesis phase, is audited, flushes and
never commits. Positions among siblings are kept compact (0..n-1), so that "up" and "down" always
swap two neighbours and numbering follows from the order alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from consultation.accounts.models import User
from consultation.bill import services
from consultation.bill.models import (
    HEADING_MAX,
    PREAMBLE_MAX,
    Article,
    ArticleRevision,
    ArticleSource,
    Bill,
    DispositionKind,
    Division,
    DivisionKind,
    ProposalDisposition,
)
from consultation.core import audit
from consultation.core.errors import Conflict, DomainError
from consultation.extensions import db

# --- Conflicts -----------------------------------------------------------------------------


def _drop_refused_transaction() -> None:
    """Roll back a request whose save lost a race: its flush failed, so the session cannot
    go on, and the request answers 409 (which rolls back anyway)."""
    db.session.rollback()


@dataclass(frozen=True)
class SavedText:
    """An article's text as last saved, with who saved it and when (from its last revision)."""

    heading: str
    body: str
    version_id: int
    author_name: str | None
    saved_at: datetime | None


class ArticleConflict(Conflict):
    """A save made on a stale version: both texts travel with the error, so that the conflict
    page shows them side by side and nothing typed is lost."""

    def __init__(self, article: Article, theirs: SavedText, heading: str, body: str) -> None:
        super().__init__(
            _l(
                "Someone saved this article since you opened it. Your text was not saved: "
                "compare both versions below."
            )
        )
        self.article = article
        self.theirs = theirs
        self.heading = heading
        self.body = body


class BillConflict(Conflict):
    """The title or exposé des motifs was saved by someone else since the form was opened."""

    def __init__(self, bill: Bill) -> None:
        super().__init__(
            _l(
                "Someone saved the title or the exposé des motifs since you opened this page. "
                "Your text is kept below and the saved one is shown beside it: save again to "
                "replace it."
            )
        )
        self.bill = bill


def saved_text(article: Article) -> SavedText:
    """The article's current text with the author and time of its last revision."""
    revision = db.session.scalar(
        select(ArticleRevision)
        .where(ArticleRevision.article_id == article.id)
        .options(joinedload(ArticleRevision.author))
        .order_by(ArticleRevision.number.desc())
        .limit(1)
    )
    return SavedText(
        heading=article.heading,
        body=article.body,
        version_id=article.version_id,
        author_name=revision.author.display_name if revision and revision.author else None,
        saved_at=revision.created_at if revision else None,
    )


# --- The bill's title and exposé des motifs ------------------------------------------------


def update_bill(
    bill: Bill, expected_version: int, title: str, preamble: str, actor: User | None
) -> None:
    """Save the bill's title and exposé des motifs, unless someone saved them since the form
    was opened (optimistic locking, as for articles)."""
    services.check_editable(bill.consultation)
    title = title.strip()
    if not title:
        raise DomainError(_l("Give the bill a title."), field="title")
    if len(title) > HEADING_MAX:
        raise DomainError(_l("At most %(limit)d characters.", limit=HEADING_MAX), field="title")
    if len(preamble) > PREAMBLE_MAX:
        raise DomainError(_l("At most %(limit)d characters.", limit=PREAMBLE_MAX), field="preamble")
    if expected_version != bill.version_id:
        raise BillConflict(bill)
    bill.title = title
    bill.preamble = preamble.strip()
    try:
        db.session.flush()
    except StaleDataError:
        # Another request saved between our read and our write: the request is refused as a
        # whole, so drop its transaction (a failed flush leaves no other choice) and reload
        # what was saved.
        _drop_refused_transaction()
        db.session.refresh(bill)
        raise BillConflict(bill) from None
    audit.record("bill.updated", bill, actor=actor)


# --- Divisions ------------------------------------------------------------------------------


def _siblings(bill: Bill, parent_id: int | None) -> list[Division]:
    return list(
        db.session.scalars(
            select(Division)
            .where(
                Division.bill_id == bill.id,
                Division.parent_id == parent_id
                if parent_id is not None
                else Division.parent_id.is_(None),
            )
            .order_by(Division.position, Division.id)
        )
    )


def _articles_in(bill_id: int, division_id: int | None) -> list[Article]:
    return list(
        db.session.scalars(
            select(Article)
            .where(
                Article.bill_id == bill_id,
                Article.division_id == division_id
                if division_id is not None
                else Article.division_id.is_(None),
            )
            .order_by(Article.position, Article.id)
        )
    )


def _holds_articles(division: Division) -> bool:
    return (
        db.session.scalar(select(Article.id).where(Article.division_id == division.id).limit(1))
        is not None
    )


def _holds_divisions(division: Division) -> bool:
    return (
        db.session.scalar(select(Division.id).where(Division.parent_id == division.id).limit(1))
        is not None
    )


def _check_heading(heading: str) -> str:
    heading = heading.strip()
    if not heading:
        raise DomainError(_l("Give the division a heading."), field="heading")
    if len(heading) > HEADING_MAX:
        raise DomainError(_l("At most %(limit)d characters.", limit=HEADING_MAX), field="heading")
    return heading


def add_division(
    bill: Bill,
    kind: DivisionKind,
    heading: str,
    parent: Division | None,
    actor: User | None,
) -> Division:
    """Add a division at the end of its parent (or of the bill): one level below its parent,
    of the same kind as its siblings, never inside a division that holds articles."""
    services.check_editable(bill.consultation)
    heading = _check_heading(heading)
    if parent is not None:
        if parent.bill_id != bill.id:
            raise DomainError(_l("Choose a division of this bill."), field="parent_id")
        if kind.level != parent.kind.level + 1:
            expected = list(DivisionKind)[parent.kind.level + 1 :]
            if not expected:
                raise DomainError(
                    _l("A section is the lowest level: it cannot hold divisions."),
                    field="kind",
                )
            raise DomainError(
                _l(
                    "Inside a %(parent)s, add a %(kind)s.",
                    parent=parent.kind.value,
                    kind=expected[0].value,
                ),
                field="kind",
            )
        if _holds_articles(parent):
            raise DomainError(
                _l(
                    "This division holds articles: it cannot also hold divisions. Move its "
                    "articles out first."
                ),
                field="parent_id",
            )
    siblings = _siblings(bill, parent.id if parent else None)
    if siblings and siblings[0].kind is not kind:
        raise DomainError(
            _l(
                "The divisions at this level are of the kind %(kind)s: add another one of "
                "that kind.",
                kind=siblings[0].kind.value,
            ),
            field="kind",
        )
    division = Division(
        bill_id=bill.id,
        parent_id=parent.id if parent else None,
        kind=kind,
        heading=heading,
        position=len(siblings),
    )
    db.session.add(division)
    db.session.flush()
    audit.record("division.created", division, actor=actor, kind=kind.value)
    return division


def rename_division(division: Division, heading: str, actor: User | None) -> None:
    """Change a division's heading (its number follows from its place, not from its name)."""
    services.check_editable(division.bill.consultation)
    division.heading = _check_heading(heading)
    db.session.flush()
    audit.record("division.renamed", division, actor=actor)


def move_division(division: Division, offset: int, actor: User | None) -> None:
    """Move a division up (-1) or down (+1) among its siblings; at either end nothing
    changes. Its articles move with it, so the articles renumber."""
    services.check_editable(division.bill.consultation)
    siblings = _siblings(division.bill, division.parent_id)
    index = siblings.index(division)
    target = index + offset
    if not 0 <= target < len(siblings):
        return
    siblings[index], siblings[target] = siblings[target], siblings[index]
    for position, each in enumerate(siblings):
        each.position = position
    db.session.flush()
    audit.record("division.moved", division, actor=actor, position=target)


def delete_division(division: Division, actor: User | None) -> None:
    """Delete an empty division; one that holds divisions or articles must be emptied first,
    so that no article is lost by accident."""
    services.check_editable(division.bill.consultation)
    if _holds_divisions(division) or _holds_articles(division):
        raise Conflict(
            _l("This division is not empty: move or delete what it holds before deleting it.")
        )
    bill, parent_id = division.bill, division.parent_id
    audit.record("division.deleted", division, actor=actor, heading=division.heading)
    db.session.delete(division)
    db.session.flush()
    for position, each in enumerate(_siblings(bill, parent_id)):
        each.position = position
    db.session.flush()


# --- Articles: place in the bill ------------------------------------------------------------


def _set_article_positions(articles: Sequence[Article], division_id: int | None = None) -> None:
    """Renumber articles 0..n-1 (and give them a division) without touching their version:
    a move is not an edit of their text, and must not make a colleague's open edit stale."""
    for position, article in enumerate(articles):
        target_division = article.division_id if division_id is None else division_id
        if article.position == position and article.division_id == target_division:
            continue
        db.session.execute(
            update(Article)
            .where(Article.id == article.id)
            .values(position=position, division_id=target_division),
            execution_options={"synchronize_session": False},
        )
        set_committed_value(article, "position", position)
        set_committed_value(article, "division_id", target_division)


def add_article(
    bill: Bill,
    division: Division | None,
    heading: str,
    body: str,
    actor: User | None,
    now: datetime,
) -> Article:
    """Add an article at the end of a division; its text is its first revision."""
    return services.add_article(bill, division, heading, body, actor, now)


def move_article(article: Article, offset: int, actor: User | None) -> None:
    """Move an article up (-1) or down (+1) within its division; at either end nothing
    changes."""
    services.check_editable(article.bill.consultation)
    siblings = _articles_in(article.bill_id, article.division_id)
    index = siblings.index(article)
    target = index + offset
    if not 0 <= target < len(siblings):
        return
    siblings[index], siblings[target] = siblings[target], siblings[index]
    _set_article_positions(siblings)
    audit.record("article.moved", article, actor=actor, position=target)


def move_article_to(article: Article, division: Division, actor: User | None) -> None:
    """Move an article to the end of another division of its bill."""
    services.check_editable(article.bill.consultation)
    if division.bill_id != article.bill_id:
        raise DomainError(
            _l("Choose a division of this bill: an article cannot leave its bill."),
            field="division_id",
        )
    if division.id == article.division_id:
        raise DomainError(_l("The article is already in this division."), field="division_id")
    if _holds_divisions(division):
        raise DomainError(
            _l("This division holds divisions: move the article into one of them."),
            field="division_id",
        )
    origin = _articles_in(article.bill_id, article.division_id)
    if article.division_id is not None and len(origin) == 1:
        raise DomainError(
            _l(
                "This is the only article of its division: moving it would leave the division "
                "empty. Delete the division instead once the article is elsewhere, or add "
                "another article to it first."
            ),
            field="division_id",
        )
    destination = _articles_in(article.bill_id, division.id)
    previous = article.division_id
    _set_article_positions([*destination, article], division.id)
    _set_article_positions([each for each in origin if each is not article])
    audit.record(
        "article.moved", article, actor=actor, from_division=previous, to_division=division.id
    )


def delete_article(article: Article, actor: User | None) -> None:
    """Delete an article with its sources; a proposal it was the last article of loses its
    "integrated" disposition, so that coverage drops and the proposal shows as undecided."""
    services.check_editable(article.bill.consultation)
    proposal_ids = list(
        db.session.scalars(
            select(ArticleSource.proposal_id).where(ArticleSource.article_id == article.id)
        )
    )
    bill_id, division_id = article.bill_id, article.division_id
    audit.record(
        "article.deleted", article, actor=actor, heading=article.heading, sources=proposal_ids
    )
    db.session.delete(article)
    db.session.flush()
    if proposal_ids:
        still_cited = set(
            db.session.scalars(
                select(ArticleSource.proposal_id).where(ArticleSource.proposal_id.in_(proposal_ids))
            )
        )
        orphans = [pid for pid in proposal_ids if pid not in still_cited]
        if orphans:
            db.session.execute(
                delete(ProposalDisposition).where(
                    ProposalDisposition.proposal_id.in_(orphans),
                    ProposalDisposition.kind == DispositionKind.INTEGRATED,
                ),
                execution_options={"synchronize_session": "fetch"},
            )
            audit.record("disposition.cleared", None, actor=actor, proposals=orphans)
    _set_article_positions(_articles_in(bill_id, division_id))
    db.session.flush()


# --- Articles: their text ------------------------------------------------------------------


def update_article(
    article: Article,
    expected_version: int,
    heading: str,
    body: str,
    actor: User | None,
    now: datetime,
) -> ArticleRevision:
    """Save an article's heading and body if nobody saved it since `expected_version` was
    read; otherwise raise an ArticleConflict carrying both texts (after a race lost at the
    database, the request's transaction is rolled back first). Each save is a revision."""
    services.check_editable(article.bill.consultation)
    heading = heading.strip()
    body = body.strip()
    services._check_article_text(heading, body)
    if expected_version != article.version_id:
        raise ArticleConflict(article, saved_text(article), heading, body)
    article.heading = heading
    article.body = body
    # Touch the row even when the text is unchanged: a save is a save, and the version it
    # bumps is what tells a second editor that someone saved before them.
    article.updated_at = now
    try:
        db.session.flush()
    except StaleDataError:
        # Two requests passed the check at once; the database let only one UPDATE through
        # (its WHERE names the version read). Refuse this one, then read the winner's text.
        _drop_refused_transaction()
        db.session.refresh(article)
        raise ArticleConflict(article, saved_text(article), heading, body) from None
    revision = services.record_revision(article, actor, now)
    db.session.flush()
    audit.record("article.updated", article, actor=actor, revision=revision.number)
    return revision


# --- Revisions ------------------------------------------------------------------------------


def article_revisions(article: Article) -> list[ArticleRevision]:
    """The article's revisions, oldest first, with their authors (one query)."""
    return list(
        db.session.scalars(
            select(ArticleRevision)
            .where(ArticleRevision.article_id == article.id)
            .options(joinedload(ArticleRevision.author))
            .order_by(ArticleRevision.number)
        )
    )


def revision_count(article: Article) -> int:
    """How many times the article's text was saved."""
    return db.session.scalar(
        select(func.count(ArticleRevision.id)).where(ArticleRevision.article_id == article.id)
    )
