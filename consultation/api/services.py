"""Queries behind the API endpoints: public data only, a constant number of queries per page."""

from __future__ import annotations

from sqlalchemy import func, select

from consultation.consultations.models import Consultation
from consultation.debates.models import Debate, DebateStatus
from consultation.extensions import db

# Drafts are never public; cancelled debates stay listed so that people learn of the cancellation.
PUBLIC_DEBATE_STATUSES = (DebateStatus.PUBLISHED, DebateStatus.CANCELLED, DebateStatus.HELD)


def public_debates_page(
    consultation: Consultation, *, region_code: str | None, page: int, per_page: int
) -> tuple[int, list[Debate]]:
    """The number of public debates matching the filter, and one page of them by start time."""
    conditions = [
        Debate.consultation_id == consultation.id,
        Debate.status.in_(PUBLIC_DEBATE_STATUSES),
    ]
    if region_code is not None:
        conditions.append(Debate.region_code == region_code)
    total = db.session.scalar(select(func.count(Debate.id)).where(*conditions)) or 0
    debates = db.session.scalars(
        select(Debate)
        .where(*conditions)
        .order_by(Debate.starts_at, Debate.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).unique()
    return total, list(debates)
