"""Bill use cases shared by the synthesis workspace, the editor and the versions: finding the
bill and the rule that it is written during the synthesis phase only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, select

from consultation.accounts.models import User
from consultation.bill.models import (
    ARTICLE_BODY_MAX,
    HEADING_MAX,
    Article,
    ArticleRevision,
    Bill,
    Division,
    ProposalDisposition,
)
from consultation.consultations.models import Consultation, Phase
from consultation.core import audit
from consultation.core.errors import DomainError, InvalidTransition
from consultation.extensions import db
from consultation.proposals.models import Proposal, ProposalStatus

DEFAULT_TITLE = "Proposition de loi pour une politique du logement ambitieuse, juste et écologique"


def check_editable(consultation: Consultation) -> None:
    """The bill is written during the synthesis; before, there is nothing to merge, and after,
    the jury votes on a frozen version."""
    if consultation.phase is not Phase.SYNTHESE:
        raise InvalidTransition(_l("The bill is written during the synthesis phase only."))


def find_bill(consultation: Consultation) -> Bill | None:
    """The consultation's bill, if the synthesis has started one."""
    return db.session.scalar(select(Bill).where(Bill.consultation_id == consultation.id))


def get_or_create_bill(consultation: Consultation, actor: User | None) -> Bill:
    """The consultation's bill, created empty on the first edit of the synthesis."""
    bill = find_bill(consultation)
    if bill is None:
        check_editable(consultation)
        bill = Bill(consultation_id=consultation.id, title=DEFAULT_TITLE)
        db.session.add(bill)
        db.session.flush()
        audit.record("bill.created", bill, actor=actor)
    return bill


# --- Coverage: every accepted proposal needs a disposition ---------------------------------


@dataclass(frozen=True)
class Coverage:
    """The share of the accepted proposals the synthesis has decided on."""

    accepted: int
    decided: int

    @property
    def undecided(self) -> int:
        return self.accepted - self.decided

    @property
    def percent(self) -> int:
        """Rounded down, so that 99.9% never shows as 100%."""
        return 100 if not self.accepted else self.decided * 100 // self.accepted

    @property
    def is_complete(self) -> bool:
        return self.decided >= self.accepted


def accepted_in(consultation: Consultation) -> ColumnElement[bool]:
    """The condition on Proposal of the consultation's accepted proposals: those the synthesis
    must dispose of."""
    return and_(
        Proposal.consultation_id == consultation.id,
        Proposal.status == ProposalStatus.ACCEPTED,
    )


def coverage(consultation: Consultation) -> Coverage:
    """How many accepted proposals have a disposition (one query)."""
    accepted, decided = db.session.execute(
        select(func.count(Proposal.id), func.count(ProposalDisposition.id))
        .select_from(Proposal)
        .outerjoin(ProposalDisposition, ProposalDisposition.proposal_id == Proposal.id)
        .where(accepted_in(consultation))
    ).one()
    return Coverage(accepted=accepted, decided=decided)


# --- Articles: creation and revisions -------------------------------------------------------


def record_revision(article: Article, actor: User | None, now: datetime) -> ArticleRevision:
    """Keep the article's heading and body as they are now, as its next revision."""
    number = (
        db.session.scalar(
            select(func.max(ArticleRevision.number)).where(ArticleRevision.article_id == article.id)
        )
        or 0
    ) + 1
    revision = ArticleRevision(
        article_id=article.id,
        number=number,
        heading=article.heading,
        body=article.body,
        author_id=actor.id if actor else None,
        created_at=now,
    )
    db.session.add(revision)
    return revision


def add_article(
    bill: Bill,
    division: Division | None,
    heading: str,
    body: str,
    actor: User | None,
    now: datetime,
) -> Article:
    """Add an article at the end of a division (or of the bill when it has no division);
    its text is its first revision."""
    check_editable(bill.consultation)
    if division is not None and division.bill_id != bill.id:
        raise DomainError(_l("Choose a division of this bill."), field="division_id")
    if division is not None and _has_subdivisions(division):
        raise DomainError(
            _l("This division holds divisions: add the article to one of them."),
            field="division_id",
        )
    _check_article_text(heading, body)
    last = db.session.scalar(
        select(func.max(Article.position)).where(
            Article.bill_id == bill.id,
            Article.division_id == division.id if division else Article.division_id.is_(None),
        )
    )
    article = Article(
        bill_id=bill.id,
        division_id=division.id if division else None,
        position=(last + 1) if last is not None else 0,
        heading=heading.strip(),
        body=body.strip(),
    )
    db.session.add(article)
    db.session.flush()
    record_revision(article, actor, now)
    audit.record("article.created", article, actor=actor)
    return article


def _has_subdivisions(division: Division) -> bool:
    return (
        db.session.scalar(select(Division.id).where(Division.parent_id == division.id).limit(1))
        is not None
    )


def _check_article_text(heading: str, body: str) -> None:
    if len(heading) > HEADING_MAX:
        raise DomainError(_l("At most %(limit)d characters.", limit=HEADING_MAX), field="heading")
    if not body.strip():
        raise DomainError(_l("Write the article's text."), field="body")
    if len(body) > ARTICLE_BODY_MAX:
        raise DomainError(
            _l(
                "At most %(limit)d characters (there are %(n)d).",
                limit=ARTICLE_BODY_MAX,
                n=len(body),
            ),
            field="body",
        )
