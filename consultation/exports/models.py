"""The final text's exports — each export action keeps the files it produced, with their
SHA-256 — and the candidates they are sent to, one recorded dispatch per candidate and export.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from consultation.consultations.models import Consultation
from consultation.core.models import (
    Base,
    UTCDateTime,
    enum_type,
    intpk,
    str200,
    str320,
    text,
    utcnow,
)

HASH_LENGTH = 64


class FinalTextExport(Base):
    """One "export the final text" action: every format, made at once from one voted round."""

    __tablename__ = "final_text_export"
    __table_args__ = (UniqueConstraint("consultation_id", "number"),)

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]  # 1, 2… per consultation; the latest is the one published
    round_number: Mapped[int]
    version_checksum: Mapped[str] = mapped_column(String(HASH_LENGTH))
    article_count: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    consultation: Mapped[Consultation] = relationship()
    files: Mapped[list[ExportFile]] = relationship(
        back_populates="export", cascade="all, delete-orphan", order_by="ExportFile.position"
    )

    def file(self, format_name: str) -> ExportFile | None:
        """The file of one format ("pdf", "odt", "zip"…), if this export made it."""
        return next((f for f in self.files if f.format == format_name), None)

    def __repr__(self) -> str:
        return f"<FinalTextExport {self.consultation_id}#{self.number}>"


class ExportFile(Base):
    """One file of an export: `proposition-de-loi.pdf` and its SHA-256."""

    __tablename__ = "export_file"
    __table_args__ = (
        UniqueConstraint("export_id", "format"),
        CheckConstraint("size >= 0", name="size_not_negative"),
    )

    id: Mapped[intpk]
    export_id: Mapped[int] = mapped_column(
        ForeignKey("final_text_export.id", ondelete="CASCADE"), index=True
    )
    format: Mapped[str] = mapped_column(String(10))  # pdf, odt, docx, md, akn, json, zip
    position: Mapped[int] = mapped_column(default=0)
    filename: Mapped[str200]
    mimetype: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(HASH_LENGTH))
    # Kept in the database, so that every app server serves the same bytes; read on demand.
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))

    export: Mapped[FinalTextExport] = relationship(back_populates="files")

    def __repr__(self) -> str:
        return f"<ExportFile {self.filename} {self.sha256[:12]}>"


class Candidate(Base):
    """A candidate the final text is sent to."""

    __tablename__ = "candidate"
    __table_args__ = (
        UniqueConstraint("consultation_id", "email"),
        CheckConstraint("email = lower(email)", name="email_is_lower_case"),
    )

    id: Mapped[intpk]
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str200]
    party: Mapped[str200]  # party or movement
    email: Mapped[str320]  # never published
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    consultation: Mapped[Consultation] = relationship()
    dispatches: Mapped[list[Dispatch]] = relationship(back_populates="candidate")

    def __repr__(self) -> str:
        return f"<Candidate {self.id} {self.name}>"


class DispatchStatus(enum.StrEnum):
    PENDING = "pending"  # queued, or waiting for its next attempt
    SENT = "sent"
    FAILED = "failed"  # every attempt failed; staff may try again


DISPATCH_STATUS_LABELS = {
    DispatchStatus.PENDING: _l("Pending"),
    DispatchStatus.SENT: _l("Sent"),
    DispatchStatus.FAILED: _l("Failed"),
}


class Dispatch(Base):
    """The sending of one export to one candidate: at most one per pair, so that sending again
    never sends twice what was delivered."""

    __tablename__ = "dispatch"
    __table_args__ = (
        UniqueConstraint("export_id", "candidate_id"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint(
            "status != 'sent' OR (sent_at IS NOT NULL AND message_id IS NOT NULL)",
            name="sent_has_proof",
        ),
    )

    id: Mapped[intpk]
    export_id: Mapped[int] = mapped_column(
        ForeignKey("final_text_export.id", ondelete="CASCADE"), index=True
    )
    candidate_id: Mapped[int] = mapped_column(
        ForeignKey("candidate.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[DispatchStatus] = mapped_column(
        enum_type(DispatchStatus), default=DispatchStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[text] = mapped_column(default="")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str | None] = mapped_column(String(250))
    # filename -> SHA-256 of what the message carried (the attachments)
    checksums: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    export: Mapped[FinalTextExport] = relationship()
    candidate: Mapped[Candidate] = relationship(back_populates="dispatches")

    def __repr__(self) -> str:
        return f"<Dispatch export={self.export_id} candidate={self.candidate_id} {self.status}>"
