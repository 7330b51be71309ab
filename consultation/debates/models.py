"""Regional debates and the registrations of the people who attend them."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultation.accounts.models import Organisation, Region
from consultation.consultations.models import Consultation
from consultation.core.errors import InvalidTransition
from consultation.core.models import (
    Base,
    TimestampMixin,
    UTCDateTime,
    enum_type,
    intpk,
    str200,
    str320,
    text,
)


class DebateFormat(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"

    @property
    def needs_venue(self) -> bool:
        return self is not DebateFormat.ONLINE

    @property
    def needs_link(self) -> bool:
        return self is not DebateFormat.IN_PERSON


class DebateStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"
    HELD = "held"


FORMAT_LABELS = {
    DebateFormat.IN_PERSON: _l("In person"),
    DebateFormat.ONLINE: _l("Online"),
    DebateFormat.HYBRID: _l("Hybrid"),
}

STATUS_LABELS = {
    DebateStatus.DRAFT: _l("Draft"),
    DebateStatus.PUBLISHED: _l("Published"),
    DebateStatus.CANCELLED: _l("Cancelled"),
    DebateStatus.HELD: _l("Held"),
}

# The organisations present at a debate, recorded with its minutes.
debate_attendee = Table(
    "debate_attendee",
    Base.metadata,
    Column("debate_id", ForeignKey("debate.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", ForeignKey("organisation.id", ondelete="CASCADE"), primary_key=True),
)


class Debate(TimestampMixin, Base):
    """A debate organised in one region during a consultation's concertation."""

    __tablename__ = "debate"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        CheckConstraint("attendance IS NULL OR attendance >= 0", name="attendance_not_negative"),
        CheckConstraint("format = 'online' OR venue != ''", name="venue_when_in_person"),
        CheckConstraint("format = 'in_person' OR online_url != ''", name="link_when_online"),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_has_time"
        ),
        CheckConstraint("status = 'draft' OR published_at IS NOT NULL", name="published_has_time"),
        Index("ix_debate_consultation_starts", "consultation_id", "starts_at"),
    )

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    organiser_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    title: Mapped[str200]
    description: Mapped[text] = mapped_column(default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    format: Mapped[DebateFormat] = mapped_column(enum_type(DebateFormat))
    venue: Mapped[text] = mapped_column(default="")
    online_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None]
    status: Mapped[DebateStatus] = mapped_column(
        enum_type(DebateStatus), default=DebateStatus.DRAFT, index=True
    )
    sequence: Mapped[int] = mapped_column(default=0)  # iCalendar SEQUENCE: raised on each change
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancellation_reason: Mapped[text] = mapped_column(default="")
    minutes: Mapped[text] = mapped_column(default="")
    attendance: Mapped[int | None]

    consultation: Mapped[Consultation] = relationship()
    region: Mapped[Region] = relationship(lazy="joined")
    organiser: Mapped[Organisation] = relationship(foreign_keys=[organiser_id], lazy="joined")
    partner: Mapped[Organisation | None] = relationship(foreign_keys=[partner_id])
    attendees: Mapped[list[Organisation]] = relationship(secondary=debate_attendee)
    # Tens of thousands at scale: count and list them with queries, never through this list.
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="debate", cascade="all, delete-orphan", passive_deletes=True
    )

    def publish(self, now: datetime) -> None:
        """Make a draft public."""
        if self.status is not DebateStatus.DRAFT:
            raise InvalidTransition(_l("Only a draft debate can be published."))
        self.status = DebateStatus.PUBLISHED
        self.published_at = now
        self.sequence += 1

    def cancel(self, now: datetime, reason: str) -> None:
        """Cancel a published debate that has not been held."""
        if self.status is not DebateStatus.PUBLISHED:
            raise InvalidTransition(_l("Only a published debate can be cancelled."))
        self.status = DebateStatus.CANCELLED
        self.cancelled_at = now
        self.cancellation_reason = reason
        self.sequence += 1

    def mark_held(self, now: datetime) -> None:
        """Record that a published debate took place (once it has started)."""
        if self.status is not DebateStatus.PUBLISHED:
            raise InvalidTransition(_l("Only a published debate can be marked as held."))
        if now < self.starts_at:
            raise InvalidTransition(_l("A debate can be marked as held once it has started."))
        self.status = DebateStatus.HELD
        self.sequence += 1

    def is_open_for_registration(self, now: datetime) -> bool:
        return self.status is DebateStatus.PUBLISHED and now < self.starts_at

    def __repr__(self) -> str:
        return f"<Debate {self.id} {self.region_code} {self.status} {self.starts_at:%Y-%m-%d}>"


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    CANCELLED = "cancelled"


class Registration(Base):
    """A person registered for a debate, or waiting for a place."""

    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("debate_id", "email"),
        CheckConstraint("email = lower(email)", name="email_is_lower_case"),
        CheckConstraint(
            "(status = 'cancelled') = (cancelled_at IS NOT NULL)", name="cancelled_has_time"
        ),
        Index("ix_registration_debate_status", "debate_id", "status"),
    )

    id: Mapped[intpk]
    debate_id: Mapped[int] = mapped_column(ForeignKey("debate.id", ondelete="CASCADE"))
    name: Mapped[str200]
    email: Mapped[str320]
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[RegistrationStatus] = mapped_column(enum_type(RegistrationStatus))
    cancel_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    debate: Mapped[Debate] = relationship(back_populates="registrations")

    def __repr__(self) -> str:
        return f"<Registration {self.id} debate={self.debate_id} {self.status}>"
