"""The citizen jury: the pool of volunteers and the quotas, the draws by lot, the jurors, the
voting rounds, their secret ballots and the hash-chained ballot log.

Contact data (`PoolContact`) lives apart from the features the draw uses (`MemberFeature`), so
that the draw, its published data and its replay never touch a name or an address.
"""

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

from consultation.accounts.models import Invitation, User
from consultation.bill.models import BillVersion
from consultation.consultations.models import Consultation
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
    utcnow,
)

HASH_LENGTH = 64  # a SHA-256 or HMAC-SHA-256 digest in hexadecimal
WHOLE_TEXT = 0  # the ballot item of the vote on the whole text (articles use their id)


# --- The pool and its quotas -----------------------------------------------------------------


class Category(Base):
    """A criterion of the draw (region, gender, age band, housing situation…)."""

    __tablename__ = "jury_category"
    __table_args__ = (UniqueConstraint("consultation_id", "name"),)

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    # The column name in the pool files (`region`, `gender`…), and what people read.
    name: Mapped[str80]
    label: Mapped[str200]
    position: Mapped[int] = mapped_column(default=0)

    consultation: Mapped[Consultation] = relationship()
    quotas: Mapped[list[Quota]] = relationship(
        back_populates="category", cascade="all, delete-orphan", order_by="Quota.position"
    )

    def __repr__(self) -> str:
        return f"<Category {self.id} {self.name}>"


class Quota(Base):
    """A feature of a category, and how many panel members must (min) and may (max) hold it."""

    __tablename__ = "jury_quota"
    __table_args__ = (
        UniqueConstraint("category_id", "feature"),
        CheckConstraint("min_count >= 0", name="min_not_negative"),
        CheckConstraint("max_count >= min_count", name="max_not_below_min"),
    )

    id: Mapped[intpk]
    category_id: Mapped[int] = mapped_column(ForeignKey("jury_category.id", ondelete="CASCADE"))
    feature: Mapped[str80]  # as written in the pool files
    label: Mapped[str200]
    min_count: Mapped[int] = mapped_column(default=0)
    max_count: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)

    category: Mapped[Category] = relationship(back_populates="quotas")

    def __repr__(self) -> str:
        return f"<Quota {self.category_id} {self.feature} {self.min_count}..{self.max_count}>"


class MemberSource(enum.StrEnum):
    APPLICATION = "application"  # the public form
    IMPORT = "import"  # a pool file imported by staff


class PoolMember(Base):
    """A volunteer of the jury pool, known to the draw by a pseudonymous reference only."""

    __tablename__ = "pool_member"
    __table_args__ = (UniqueConstraint("consultation_id", "reference"),)

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    # Published with the draw's data (it names no one): the pool file's id, or generated.
    reference: Mapped[str80]
    source: Mapped[MemberSource] = mapped_column(enum_type(MemberSource))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    consultation: Mapped[Consultation] = relationship()
    features: Mapped[list[MemberFeature]] = relationship(
        back_populates="member", cascade="all, delete-orphan"
    )
    contact: Mapped[PoolContact | None] = relationship(
        back_populates="member", cascade="all, delete-orphan", uselist=False
    )

    def __repr__(self) -> str:
        return f"<PoolMember {self.id} {self.reference}>"


class MemberFeature(Base):
    """The feature a pool member holds in one category (one per category)."""

    __tablename__ = "pool_member_feature"
    __table_args__ = (UniqueConstraint("member_id", "category_id"),)

    id: Mapped[intpk]
    member_id: Mapped[int] = mapped_column(ForeignKey("pool_member.id", ondelete="CASCADE"))
    category_id: Mapped[int] = mapped_column(ForeignKey("jury_category.id", ondelete="CASCADE"))
    # RESTRICT: a feature that members hold cannot be deleted from under them.
    quota_id: Mapped[int] = mapped_column(
        ForeignKey("jury_quota.id", ondelete="RESTRICT"), index=True
    )

    member: Mapped[PoolMember] = relationship(back_populates="features")
    quota: Mapped[Quota] = relationship()

    def __repr__(self) -> str:
        return f"<MemberFeature member={self.member_id} quota={self.quota_id}>"


class PoolContact(Base):
    """How to reach a pool member, and their consent; never read by the draw."""

    __tablename__ = "pool_contact"
    __table_args__ = (UniqueConstraint("consultation_id", "email"),)

    id: Mapped[intpk]
    member_id: Mapped[int] = mapped_column(
        ForeignKey("pool_member.id", ondelete="CASCADE"), unique=True
    )
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id", ondelete="CASCADE"))
    full_name: Mapped[str200]
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    member: Mapped[PoolMember] = relationship(back_populates="contact")

    def __repr__(self) -> str:
        return f"<PoolContact member={self.member_id}>"


# --- The draws -------------------------------------------------------------------------------


class DrawKind(enum.StrEnum):
    INITIAL = "initial"
    REPLACEMENT = "replacement"  # seats left by jurors who declined


class DrawStatus(enum.StrEnum):
    COMMITTED = "committed"  # pool frozen, seed committed (its hash published), not drawn yet
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


DRAW_STATUS_LABELS = {
    DrawStatus.COMMITTED: _l("Seed committed, draw to come"),
    DrawStatus.RUNNING: _l("Draw in progress"),
    DrawStatus.DONE: _l("Drawn"),
    DrawStatus.FAILED: _l("Failed"),
}


class Draw(Base):
    """One lottery: the pool and quotas frozen at commitment, the committed seed, the LEXIMIN
    distribution over panels, and the panel the revealed seed picked from it."""

    __tablename__ = "jury_draw"
    __table_args__ = (
        UniqueConstraint("consultation_id", "number"),
        CheckConstraint("panel_size >= 1", name="panel_size_positive"),
        CheckConstraint(
            "status != 'done' OR (drawn_at IS NOT NULL AND distribution IS NOT NULL "
            "AND panel_index IS NOT NULL)",
            name="done_has_result",
        ),
    )

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]  # 1 for the initial draw, then each replacement draw
    kind: Mapped[DrawKind] = mapped_column(enum_type(DrawKind))
    algorithm: Mapped[str] = mapped_column(String(20), default="leximin")
    panel_size: Mapped[int]
    status: Mapped[DrawStatus] = mapped_column(enum_type(DrawStatus), default=DrawStatus.COMMITTED)
    # The quotas and the members' references and features, as frozen at commitment (public).
    pool_snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    pool_checksum: Mapped[str] = mapped_column(String(HASH_LENGTH))
    # SHA-256 of the seed, published before the draw; the seed stays secret until drawn_at.
    seed_commitment: Mapped[str] = mapped_column(String(HASH_LENGTH))
    seed: Mapped[str] = mapped_column(String(HASH_LENGTH))
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    error: Mapped[text] = mapped_column(default="")
    # Types, their probabilities, the panels and their probabilities (public once drawn).
    distribution: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    panel_index: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    consultation: Mapped[Consultation] = relationship()
    jurors: Mapped[list[Juror]] = relationship(back_populates="draw", order_by="Juror.id")

    @property
    def is_drawn(self) -> bool:
        return self.status is DrawStatus.DONE

    def start(self) -> None:
        """The lottery begins: only a committed draw runs, and only once."""
        if self.status is not DrawStatus.COMMITTED:
            raise InvalidTransition(_l("Only a committed draw can be run."))
        self.status = DrawStatus.RUNNING
        self.error = ""

    def finish(self, distribution: dict[str, Any], panel_index: int, now: datetime) -> None:
        """The panel is drawn: the seed and the distribution become public."""
        if self.status is not DrawStatus.RUNNING:
            raise InvalidTransition(_l("Only a running draw can finish."))
        self.distribution = distribution
        self.panel_index = panel_index
        self.drawn_at = now
        self.status = DrawStatus.DONE

    def fail(self, error: str) -> None:
        """The lottery stopped on an error; the draw can be committed again from scratch."""
        if self.status is DrawStatus.DONE:
            raise InvalidTransition(_l("A finished draw cannot fail."))
        self.status = DrawStatus.FAILED
        self.error = error

    def __repr__(self) -> str:
        return f"<Draw {self.consultation_id}#{self.number} {self.status}>"


class JurorStatus(enum.StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"  # has a juror account
    DECLINED = "declined"


JUROR_STATUS_LABELS = {
    JurorStatus.INVITED: _l("Invitation sent"),
    JurorStatus.ACCEPTED: _l("Accepted the invitation"),
    JurorStatus.DECLINED: _l("Declined the invitation"),
}


class Juror(Base):
    """A pool member a draw selected, and what became of their invitation."""

    __tablename__ = "juror"
    __table_args__ = (
        CheckConstraint("status != 'accepted' OR user_id IS NOT NULL", name="accepted_has_account"),
    )

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    draw_id: Mapped[int] = mapped_column(ForeignKey("jury_draw.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("pool_member.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[JurorStatus] = mapped_column(enum_type(JurorStatus), default=JurorStatus.INVITED)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitation.id", ondelete="SET NULL")
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), unique=True
    )
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    draw: Mapped[Draw] = relationship(back_populates="jurors")
    member: Mapped[PoolMember] = relationship()
    invitation: Mapped[Invitation | None] = relationship()
    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Juror {self.id} member={self.member_id} {self.status}>"


# --- Voting ----------------------------------------------------------------------------------


class RoundStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


ROUND_STATUS_LABELS = {
    RoundStatus.SCHEDULED: _l("Scheduled"),
    RoundStatus.OPEN: _l("Open"),
    RoundStatus.CLOSED: _l("Closed"),
}


class Choice(enum.StrEnum):
    POUR = "pour"
    CONTRE = "contre"
    ABSTENTION = "abstention"


CHOICE_LABELS = {
    Choice.POUR: _l("For"),
    Choice.CONTRE: _l("Against"),
    Choice.ABSTENTION: _l("Abstention"),
}


class VotingRound(Base):
    """Jurors vote on each article of a frozen bill version, then on the whole text."""

    __tablename__ = "voting_round"
    __table_args__ = (
        UniqueConstraint("consultation_id", "number"),
        CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        CheckConstraint("quorum_percent BETWEEN 0 AND 100", name="quorum_is_a_percentage"),
        CheckConstraint("threshold_percent BETWEEN 50 AND 100", name="threshold_is_a_majority"),
        CheckConstraint(
            "status != 'closed' OR (closed_at IS NOT NULL AND results IS NOT NULL)",
            name="closed_has_results",
        ),
    )

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    bill_version_id: Mapped[int] = mapped_column(ForeignKey("bill_version.id"))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Share of the registered jurors who must vote on an item for its result to count.
    quorum_percent: Mapped[int] = mapped_column(default=50)
    # An item is adopted when "pour" exceeds this share of the votes cast.
    threshold_percent: Mapped[int] = mapped_column(default=50)
    status: Mapped[RoundStatus] = mapped_column(
        enum_type(RoundStatus), default=RoundStatus.SCHEDULED
    )
    # The per-round secret of the voter keys and receipts; purged once the consultation is
    # archived, after which no ballot can be linked to a juror.
    secret_key: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    # The ballot log's length and the hash of its last entry (the genesis hash when empty);
    # updating them first is what serialises the casts of one round.
    log_length: Mapped[int] = mapped_column(default=0)
    log_head: Mapped[str] = mapped_column(String(HASH_LENGTH))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the tally, at closing
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    consultation: Mapped[Consultation] = relationship()
    bill_version: Mapped[BillVersion] = relationship()

    def __repr__(self) -> str:
        return f"<VotingRound {self.consultation_id}#{self.number} {self.status}>"


class Ballot(TimestampMixin, Base):
    """A juror's current choice on one item of a round; a new vote replaces it until closing.

    The voter key is an HMAC of the juror under the round's secret key: the table says how
    each key voted, never who holds the key.
    """

    __tablename__ = "ballot"
    __table_args__ = (
        UniqueConstraint("round_id", "voter_key", "item"),
        Index("ix_ballot_round_item_choice", "round_id", "item", "choice"),
    )

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(ForeignKey("voting_round.id", ondelete="CASCADE"))
    voter_key: Mapped[str] = mapped_column(String(HASH_LENGTH))
    item: Mapped[int]  # an article id of the round's version, or WHOLE_TEXT
    choice: Mapped[Choice] = mapped_column(enum_type(Choice))
    receipt_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))  # of the latest cast
    casts: Mapped[int] = mapped_column(default=1)  # how many times this juror voted on it

    def __repr__(self) -> str:
        return f"<Ballot round={self.round_id} item={self.item} {self.choice}>"


class BallotLogEntry(Base):
    """One cast, appended to the round's public log: its hash covers the previous entry's hash
    and its own canonical JSON, so that no entry can be changed, removed or inserted unseen."""

    __tablename__ = "ballot_log_entry"
    __table_args__ = (UniqueConstraint("round_id", "seq"),)

    id: Mapped[intpk]
    round_id: Mapped[int] = mapped_column(ForeignKey("voting_round.id", ondelete="CASCADE"))
    seq: Mapped[int]
    item: Mapped[int]
    choice: Mapped[Choice] = mapped_column(enum_type(Choice))
    receipt_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    # The receipt hash of the cast this one replaces (a changed vote), None for a first vote.
    replaces: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    previous_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    entry_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<BallotLogEntry round={self.round_id} #{self.seq}>"


@event.listens_for(BallotLogEntry, "before_update")
def _log_is_append_only(_mapper: Any, _connection: Any, entry: BallotLogEntry) -> None:
    """The ballot log only grows: an entry once written never changes."""
    raise InvalidTransition(_l("An entry of the ballot log cannot be changed."))
