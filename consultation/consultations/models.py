"""A consultation moves through phases; each phase has planned dates shown on a timeline."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultation.core.errors import InvalidTransition
from consultation.core.models import (
    Base,
    TimestampMixin,
    UTCDateTime,
    enum_type,
    intpk,
    str80,
    str200,
    text,
)


class Phase(enum.StrEnum):
    PREPARATION = "preparation"
    CONCERTATION = "concertation"
    SYNTHESE = "synthese"
    JURY = "jury"
    REMISE = "remise"
    ARCHIVED = "archived"

    @property
    def index(self) -> int:
        return list(Phase).index(self)

    @property
    def next(self) -> Phase | None:
        members = list(Phase)
        return members[self.index + 1] if self.index + 1 < len(members) else None


PHASE_LABELS = {
    Phase.PREPARATION: _l("Preparation"),
    Phase.CONCERTATION: _l("Regional debates and proposals"),
    Phase.SYNTHESE: _l("Synthesis into a draft bill"),
    Phase.JURY: _l("Citizen jury"),
    Phase.REMISE: _l("Final text handed over"),
    Phase.ARCHIVED: _l("Archived"),
}

# Phases with planned dates on the timeline (archiving has no end).
SCHEDULED_PHASES = (Phase.CONCERTATION, Phase.SYNTHESE, Phase.JURY, Phase.REMISE)


class Consultation(TimestampMixin, Base):
    """One national consultation, such as "Utiles ensemble 2"."""

    __tablename__ = "consultation"

    id: Mapped[intpk]
    slug: Mapped[str80] = mapped_column(unique=True)
    title: Mapped[str200]
    summary: Mapped[text] = mapped_column(default="")
    phase: Mapped[Phase] = mapped_column(enum_type(Phase), default=Phase.PREPARATION)
    phase_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    proposal_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_fictional: Mapped[bool] = mapped_column(default=False)

    periods: Mapped[list[PhasePeriod]] = relationship(
        back_populates="consultation",
        cascade="all, delete-orphan",
        order_by="PhasePeriod.starts_on",
        lazy="selectin",
    )
    themes: Mapped[list[Theme]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan", order_by="Theme.position"
    )

    @property
    def is_public(self) -> bool:
        """A consultation in preparation is only visible to staff."""
        return self.phase is not Phase.PREPARATION

    @property
    def is_read_only(self) -> bool:
        return self.phase is Phase.ARCHIVED

    def period(self, phase: Phase) -> PhasePeriod | None:
        return next((period for period in self.periods if period.phase is phase), None)

    def move_to(self, target: Phase, now: datetime) -> None:
        """Go to the next phase; anything else is refused with its reason."""
        if self.phase is Phase.ARCHIVED:
            raise InvalidTransition(_l("An archived consultation is read-only."))
        if target.index <= self.phase.index:
            raise InvalidTransition(_l("A consultation never goes back to an earlier phase."))
        if target is not self.phase.next:
            raise InvalidTransition(
                _l(
                    "Phases follow one another: the next phase is “%(phase)s”.",
                    phase=PHASE_LABELS[self.phase.next],
                )
            )
        self.phase = target
        self.phase_changed_at = now

    def __repr__(self) -> str:
        return f"<Consultation {self.slug} {self.phase}>"


class PhasePeriod(Base):
    """The planned dates of one phase of a consultation."""

    __tablename__ = "phase_period"
    __table_args__ = (
        UniqueConstraint("consultation_id", "phase"),
        CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    phase: Mapped[Phase] = mapped_column(enum_type(Phase))
    starts_on: Mapped[date]
    ends_on: Mapped[date]

    consultation: Mapped[Consultation] = relationship(back_populates="periods")

    def __repr__(self) -> str:
        return f"<PhasePeriod {self.phase} {self.starts_on}..{self.ends_on}>"


class Theme(Base):
    """A theme proposals are filed under, per consultation."""

    __tablename__ = "theme"
    __table_args__ = (UniqueConstraint("consultation_id", "slug"),)

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str200]
    position: Mapped[int] = mapped_column(default=0)

    consultation: Mapped[Consultation] = relationship(back_populates="themes")

    def __repr__(self) -> str:
        return f"<Theme {self.slug}>"
