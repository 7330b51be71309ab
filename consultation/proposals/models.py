"""Proposals submitted by organisations and debates, their revisions, co-signatures and imports."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultation.accounts.models import Organisation, OrganisationKind, Region, User
from consultation.consultations.models import Consultation, Theme
from consultation.core.errors import InvalidTransition
from consultation.core.models import (
    Base,
    TimestampMixin,
    UTCDateTime,
    enum_type,
    intpk,
    str200,
    text,
    utcnow,
)
from consultation.debates.models import Debate

# Field lengths, shared by the model, the forms and the import.
TITLE_MAX = 200
SUMMARY_MAX = 1_000
BODY_MAX = 20_000
RATIONALE_MAX = 10_000
REASON_MAX = 2_000


class ProposalStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    MERGED = "merged"

    @property
    def is_public(self) -> bool:
        return self is not ProposalStatus.DRAFT


PUBLIC_STATUSES = tuple(status for status in ProposalStatus if status.is_public)


class SourceKind(enum.StrEnum):
    """Where a proposal comes from, as the consultation names its sources."""

    ORGANISME = "organisme"
    COMMISSION = "commission"
    CONSEIL_SOCIAL = "conseil_social"
    DEBAT_REGIONAL = "debat_regional"


STATUS_LABELS = {
    ProposalStatus.DRAFT: _l("Draft"),
    ProposalStatus.SUBMITTED: _l("Submitted"),
    ProposalStatus.ACCEPTED: _l("Accepted"),
    ProposalStatus.REJECTED: _l("Rejected"),
    ProposalStatus.MERGED: _l("Merged"),
}

SOURCE_LABELS = {
    SourceKind.ORGANISME: _l("Hlm organisation"),
    SourceKind.COMMISSION: _l("USH working commission"),
    SourceKind.CONSEIL_SOCIAL: _l("USH Conseil social"),
    SourceKind.DEBAT_REGIONAL: _l("Regional debate"),
}


def source_kind_of(organisation_kind: OrganisationKind, has_debate: bool) -> SourceKind:
    """A proposal that came out of a debate is the debate's; otherwise its organisation's kind
    decides (federations and USH itself speak for the Hlm organisations)."""
    if has_debate:
        return SourceKind.DEBAT_REGIONAL
    if organisation_kind is OrganisationKind.COMMISSION:
        return SourceKind.COMMISSION
    if organisation_kind is OrganisationKind.CONSEIL_SOCIAL:
        return SourceKind.CONSEIL_SOCIAL
    return SourceKind.ORGANISME


class Proposal(TimestampMixin, Base):
    """A proposal for the bill, on behalf of an organisation (or of a debate it organised)."""

    __tablename__ = "proposal"
    __table_args__ = (
        CheckConstraint(
            "(status = 'merged') = (merged_into_id IS NOT NULL)", name="merged_has_target"
        ),
        CheckConstraint(
            "merged_into_id IS NULL OR merged_into_id != id", name="not_merged_in_self"
        ),
        CheckConstraint("status != 'rejected' OR reason != ''", name="rejected_has_reason"),
        CheckConstraint("status = 'draft' OR submitted_at IS NOT NULL", name="submitted_has_time"),
        CheckConstraint("status = 'draft' OR theme_id IS NOT NULL", name="submitted_has_theme"),
        CheckConstraint(
            "(source_kind = 'debat_regional') = (debate_id IS NOT NULL)",
            name="debate_source_has_debate",
        ),
        Index("ix_proposal_consultation_status", "consultation_id", "status"),
        Index("ix_proposal_consultation_submitted", "consultation_id", "submitted_at"),
    )

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    debate_id: Mapped[int | None] = mapped_column(ForeignKey("debate.id"), index=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id"), index=True)
    # Derived when saved (from the debate, or else the organisation), kept for the filters.
    source_kind: Mapped[SourceKind] = mapped_column(enum_type(SourceKind), index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    title: Mapped[str200]
    summary: Mapped[text] = mapped_column(default="")
    body: Mapped[text] = mapped_column(default="")
    rationale: Mapped[text] = mapped_column(default="")
    status: Mapped[ProposalStatus] = mapped_column(
        enum_type(ProposalStatus), default=ProposalStatus.DRAFT
    )
    reason: Mapped[text] = mapped_column(default="")  # the moderator's, shown publicly
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposal.id"), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revision_count: Mapped[int] = mapped_column(default=0)

    consultation: Mapped[Consultation] = relationship()
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    author: Mapped[User | None] = relationship()
    debate: Mapped[Debate | None] = relationship()
    theme: Mapped[Theme | None] = relationship(lazy="joined")
    region: Mapped[Region | None] = relationship()
    merged_into: Mapped[Proposal | None] = relationship(remote_side="Proposal.id")
    revisions: Mapped[list[ProposalRevision]] = relationship(
        back_populates="proposal",
        cascade="all, delete-orphan",
        order_by="ProposalRevision.number",
    )

    @property
    def is_public(self) -> bool:
        return self.status.is_public

    @property
    def is_editable(self) -> bool:
        """Its authors may still change it (the deadline is checked by the services)."""
        return self.status in (ProposalStatus.DRAFT, ProposalStatus.SUBMITTED)

    def submit(self, now: datetime) -> None:
        """Make a draft public."""
        if self.status is not ProposalStatus.DRAFT:
            raise InvalidTransition(_l("This proposal has already been submitted."))
        self.status = ProposalStatus.SUBMITTED
        self.submitted_at = now

    def _check_moderable(self) -> None:
        if self.status is ProposalStatus.DRAFT:
            raise InvalidTransition(_l("A draft is not moderated: it has not been submitted."))
        if self.status is ProposalStatus.MERGED:
            raise InvalidTransition(_l("This proposal is merged: moderate the one it went into."))

    def accept(self, now: datetime) -> None:
        """Keep the proposal for the synthesis."""
        self._check_moderable()
        self.status = ProposalStatus.ACCEPTED
        self.reason = ""
        self.moderated_at = now

    def reject(self, reason: str, now: datetime) -> None:
        """Refuse the proposal, saying why."""
        self._check_moderable()
        if not reason.strip():
            raise InvalidTransition(_l("Say why the proposal is rejected."), field="reason")
        self.status = ProposalStatus.REJECTED
        self.reason = reason.strip()
        self.moderated_at = now

    def merge_into(self, target: Proposal, reason: str, now: datetime) -> None:
        """Fold the proposal into a similar one; it keeps its page and points to the target."""
        self._check_moderable()
        if target.id == self.id:
            raise InvalidTransition(_l("A proposal cannot be merged into itself."), field="target")
        if target.consultation_id != self.consultation_id:
            raise InvalidTransition(
                _l("Both proposals must belong to the same consultation."), field="target"
            )
        if target.status not in (ProposalStatus.SUBMITTED, ProposalStatus.ACCEPTED):
            raise InvalidTransition(
                _l("Merge into a submitted or accepted proposal."), field="target"
            )
        self.status = ProposalStatus.MERGED
        self.merged_into = target
        self.merged_into_id = target.id
        self.reason = reason.strip()
        self.moderated_at = now

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.source_kind} {self.status}>"


class ProposalRevision(Base):
    """The text of a submitted proposal as it stood after one save."""

    __tablename__ = "proposal_revision"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    number: Mapped[int]
    title: Mapped[str200]
    summary: Mapped[text]
    body: Mapped[text]
    rationale: Mapped[text]
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proposal: Mapped[Proposal] = relationship(back_populates="revisions")
    theme: Mapped[Theme | None] = relationship()
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ProposalRevision {self.proposal_id}#{self.number}>"


class Cosignature(Base):
    """Another organisation's support of a submitted proposal, given once."""

    __tablename__ = "cosignature"
    __table_args__ = (UniqueConstraint("proposal_id", "organisation_id"),)

    id: Mapped[intpk]
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    proposal: Mapped[Proposal] = relationship()
    organisation: Mapped[Organisation] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Cosignature {self.organisation_id} → {self.proposal_id}>"


class ProposalImport(Base):
    """A spreadsheet uploaded by staff, kept between its preview and its confirmation."""

    __tablename__ = "proposal_import"

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    imported_count: Mapped[int] = mapped_column(default=0)

    consultation: Mapped[Consultation] = relationship()

    def __repr__(self) -> str:
        return f"<ProposalImport {self.id} {self.filename!r}>"
