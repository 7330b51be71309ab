"""The audit log: who did what to which object, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consultation.core.models import Base, UTCDateTime, intpk, utcnow
from consultation.extensions import db


class AuditEntry(Base):
    """One recorded action. Rows are only ever added."""

    __tablename__ = "audit_entry"

    id: Mapped[intpk]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor = relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.object_type}:{self.object_id}>"


def record(
    action: str,
    target: Any = None,
    *,
    actor: Any = None,
    **details: Any,
) -> AuditEntry:
    """Add an audit entry to the session; the caller's transaction commits it."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    entry = AuditEntry(
        action=action,
        actor_id=getattr(actor, "id", None),
        object_type=type(target).__name__ if target is not None else None,
        object_id=str(_identity(target)) if target is not None else None,
        ip_address=request.remote_addr if has_request_context() else None,
        details={key: _jsonable(value) for key, value in details.items()},
    )
    db.session.add(entry)
    return entry


def _identity(target: Any) -> Any:
    return getattr(target, "id", None) or getattr(target, "code", None) or target


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return str(value)
