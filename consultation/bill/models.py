"""The draft bill: its divisions and articles, their revisions and sources, the disposition of
every accepted proposal, and the frozen versions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultation.accounts.models import User
from consultation.consultations.models import Consultation
from consultation.core.errors import InvalidTransition
from consultation.core.models import (
    Base,
    TimestampMixin,
    UTCDateTime,
    enum_type,
    intpk,
    text,
    utcnow,
)
from consultation.proposals.models import Proposal

HEADING_MAX = 300
ARTICLE_BODY_MAX = 50_000
PREAMBLE_MAX = 100_000
REASON_MAX = 2_000


class DivisionKind(enum.StrEnum):
    """The levels of a French bill, from the highest."""

    TITRE = "titre"
    CHAPITRE = "chapitre"
    SECTION = "section"

    @property
    def level(self) -> int:
        return list(DivisionKind).index(self)


DIVISION_KIND_LABELS = {
    DivisionKind.TITRE: _l("Title (titre)"),
    DivisionKind.CHAPITRE: _l("Chapter (chapitre)"),
    DivisionKind.SECTION: _l("Section"),
}


class DispositionKind(enum.StrEnum):
    INTEGRATED = "integrated"
    NOT_RETAINED = "not_retained"


class Bill(TimestampMixin, Base):
    """The consultation's draft bill ("proposition de loi"): one per consultation."""

    __tablename__ = "bill"

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), unique=True
    )
    title: Mapped[str] = mapped_column(String(HEADING_MAX))
    # The "exposé des motifs"; [[figure]] placeholders are replaced by live figures.
    preamble: Mapped[text] = mapped_column(default="")
    version_id: Mapped[int] = mapped_column(default=1)

    consultation: Mapped[Consultation] = relationship()
    divisions: Mapped[list[Division]] = relationship(
        back_populates="bill", cascade="all, delete-orphan", order_by="Division.position"
    )
    articles: Mapped[list[Article]] = relationship(
        back_populates="bill", cascade="all, delete-orphan", order_by="Article.position"
    )
    versions: Mapped[list[BillVersion]] = relationship(
        back_populates="bill", cascade="all, delete-orphan", order_by="BillVersion.number"
    )

    __mapper_args__ = {"version_id_col": version_id}

    def __repr__(self) -> str:
        return f"<Bill {self.id} consultation={self.consultation_id}>"


class Division(Base):
    """A titre, chapitre or section. Divisions nest (a chapitre in a titre, a section in a
    chapitre); a division holds either divisions of the level below, or articles."""

    __tablename__ = "division"
    __table_args__ = (
        CheckConstraint("parent_id IS NULL OR parent_id != id", name="not_own_parent"),
        Index("ix_division_bill_parent_position", "bill_id", "parent_id", "position"),
    )

    id: Mapped[intpk]
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("division.id", ondelete="CASCADE"))
    kind: Mapped[DivisionKind] = mapped_column(enum_type(DivisionKind))
    heading: Mapped[str] = mapped_column(String(HEADING_MAX))
    position: Mapped[int] = mapped_column(default=0)  # among its siblings

    bill: Mapped[Bill] = relationship(back_populates="divisions")
    parent: Mapped[Division | None] = relationship(remote_side="Division.id")

    def __repr__(self) -> str:
        return f"<Division {self.id} {self.kind} {self.heading!r}>"


class Article(TimestampMixin, Base):
    """An article of the draft. Its number is not stored: it follows from its place in the bill
    (numbering is continuous across divisions), so moves renumber by themselves."""

    __tablename__ = "article"
    __table_args__ = (
        Index("ix_article_bill_division_position", "bill_id", "division_id", "position"),
    )

    id: Mapped[intpk]
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id", ondelete="CASCADE"))
    division_id: Mapped[int | None] = mapped_column(
        ForeignKey("division.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)  # within its division (or the bill)
    heading: Mapped[str] = mapped_column(String(HEADING_MAX), default="")
    body: Mapped[text] = mapped_column(default="")
    # Optimistic locking: an edit made on a stale version is refused, never silently applied.
    version_id: Mapped[int] = mapped_column(default=1)

    bill: Mapped[Bill] = relationship(back_populates="articles")
    division: Mapped[Division | None] = relationship()
    sources: Mapped[list[ArticleSource]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleSource.id"
    )
    revisions: Mapped[list[ArticleRevision]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleRevision.number"
    )

    __mapper_args__ = {"version_id_col": version_id}

    def __repr__(self) -> str:
        return f"<Article {self.id} division={self.division_id} position={self.position}>"


class ArticleRevision(Base):
    """An article's heading and body as one save left them."""

    __tablename__ = "article_revision"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[intpk]
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    number: Mapped[int]
    heading: Mapped[str] = mapped_column(String(HEADING_MAX))
    body: Mapped[text]
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    article: Mapped[Article] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ArticleRevision {self.article_id}#{self.number}>"


class ArticleSource(Base):
    """Provenance: a proposal an article was written from."""

    __tablename__ = "article_source"
    __table_args__ = (UniqueConstraint("article_id", "proposal_id"),)

    id: Mapped[intpk]
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    article: Mapped[Article] = relationship(back_populates="sources")
    proposal: Mapped[Proposal] = relationship()

    def __repr__(self) -> str:
        return f"<ArticleSource article={self.article_id} proposal={self.proposal_id}>"


class ProposalDisposition(Base):
    """What the synthesis did with an accepted proposal: integrated into the bill (its
    articles are its ArticleSource rows), or not retained, and why."""

    __tablename__ = "proposal_disposition"
    __table_args__ = (
        CheckConstraint("kind != 'not_retained' OR reason != ''", name="not_retained_has_reason"),
    )

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposal.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[DispositionKind] = mapped_column(enum_type(DispositionKind))
    reason: Mapped[text] = mapped_column(default="")
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proposal: Mapped[Proposal] = relationship()

    def __repr__(self) -> str:
        return f"<ProposalDisposition {self.proposal_id} {self.kind}>"


class BillVersion(Base):
    """An immutable, numbered snapshot of the bill: structure, numbering, texts and provenance
    as they stood when it was frozen (for the jury, or as the final text)."""

    __tablename__ = "bill_version"
    __table_args__ = (UniqueConstraint("bill_id", "number"),)

    id: Mapped[intpk]
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id", ondelete="CASCADE"))
    number: Mapped[int]
    note: Mapped[str] = mapped_column(String(500), default="")
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    frozen_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    checksum: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical JSON content

    bill: Mapped[Bill] = relationship(back_populates="versions")

    def __repr__(self) -> str:
        return f"<BillVersion {self.bill_id} v{self.number}>"


@event.listens_for(BillVersion, "before_update")
def _versions_are_immutable(_mapper: Any, _connection: Any, version: BillVersion) -> None:
    """A frozen version is a record: nothing changes it once written."""
    raise InvalidTransition(_l("A frozen version cannot be changed."))
