"""Regions, organisations, users, their sign-in sessions, invitations and password resets."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultation.core.models import (
    Base,
    TimestampMixin,
    UTCDateTime,
    enum_type,
    intpk,
    str200,
    str320,
    utcnow,
)

# Erased accounts and records get an address under this reserved, non-routable domain
# (RFC 2606): no message can reach it, and real addresses under it are refused.
ERASED_EMAIL_DOMAIN = "erased.invalid"


class OrganisationKind(enum.StrEnum):
    ORGANISME = "organisme"
    ASSOCIATION_REGIONALE = "association_regionale"
    FEDERATION = "federation"
    COMMISSION = "commission"
    CONSEIL_SOCIAL = "conseil_social"
    USH = "ush"


class Role(enum.StrEnum):
    CONTRIBUTOR = "contributor"
    REGIONAL_EDITOR = "regional_editor"
    JUROR = "juror"
    ADMIN = "admin"

    @property
    def needs_organisation(self) -> bool:
        return self in (Role.CONTRIBUTOR, Role.REGIONAL_EDITOR)


class Region(Base):
    """A French region, identified by its INSEE code (reference data loaded by a migration)."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class Organisation(TimestampMixin, Base):
    """A body that takes part: an Hlm organisation, an association, a commission, USH itself."""

    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint(
            "kind != 'association_regionale' OR region_code IS NOT NULL",
            name="regional_association_has_region",
        ),
    )

    id: Mapped[intpk]
    name: Mapped[str200] = mapped_column(unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(enum_type(OrganisationKind))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    is_fictional: Mapped[bool] = mapped_column(default=False)

    region: Mapped[Region | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Organisation {self.id} {self.name!r} {self.kind}>"


class User(TimestampMixin, Base):
    """A person with an account. Anonymous visitors are the public and have no row."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "role NOT IN ('contributor', 'regional_editor') OR organisation_id IS NOT NULL",
            name="member_role_has_organisation",
        ),
        CheckConstraint("email = lower(email)", name="email_is_lower_case"),
    )

    id: Mapped[intpk]
    email: Mapped[str320] = mapped_column(unique=True)
    display_name: Mapped[str200]
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")

    # Flask-Login reads these; the session id is set when the user is loaded from a session.
    is_authenticated = True
    is_anonymous = False
    session_token = None  # the token of the session this user object was loaded from

    def get_id(self) -> str | None:
        """Flask-Login stores this in the cookie: the sign-in session's token, not the user id."""
        return self.session_token

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def region_code(self) -> str | None:
        return self.organisation.region_code if self.organisation else None

    @property
    def is_erased(self) -> bool:
        """Erased at its owner's request: the row stays only for what refers to it."""
        return self.email.endswith("@" + ERASED_EMAIL_DOMAIN)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class UserSession(Base):
    """A signed-in browser. Deleting the row signs that browser out, whatever its cookie says."""

    __tablename__ = "user_session"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    def __repr__(self) -> str:
        return f"<UserSession {self.id} user={self.user_id}>"


class Invitation(Base):
    """A one-time, expiring link that lets a person create an account with a given role."""

    __tablename__ = "invitation"
    __table_args__ = (
        CheckConstraint(
            "role NOT IN ('contributor', 'regional_editor') OR organisation_id IS NOT NULL",
            name="member_role_has_organisation",
        ),
    )

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str320] = mapped_column(index=True)
    role: Mapped[Role] = mapped_column(enum_type(Role))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id], lazy="joined")

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None

    def __repr__(self) -> str:
        return f"<Invitation {self.id} {self.email} {self.role}>"


class PasswordReset(Base):
    """A one-time, expiring link that lets the owner of an account choose a new password."""

    __tablename__ = "password_reset"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    @property
    def is_used(self) -> bool:
        return self.used_at is not None

    def __repr__(self) -> str:
        return f"<PasswordReset {self.id} user={self.user_id}>"
