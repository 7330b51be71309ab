"""Builders of jury objects for the tests: quotas, pool members, a finished draw, jurors and a
frozen bill version to vote on. They write rows directly, without the services' rules."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping
from datetime import timedelta

from consultation.accounts.models import Role, User
from consultation.bill.models import BillVersion
from consultation.bill.versions import create_version
from consultation.consultations.models import Consultation, Phase
from consultation.core.models import utcnow
from consultation.extensions import db
from consultation.jury import ballots
from consultation.jury.models import (
    Category,
    Draw,
    DrawKind,
    DrawStatus,
    Juror,
    JurorStatus,
    MemberFeature,
    MemberSource,
    PoolContact,
    PoolMember,
    Quota,
    VotingRound,
)
from tests import factories
from tests.bill.helpers import add_article, make_bill

_sequence = itertools.count(1)

# category -> feature -> (min, max)
QuotaTable = Mapping[str, Mapping[str, tuple[int, int]]]

SMALL_QUOTAS: QuotaTable = {
    "genre": {"femme": (1, 3), "homme": (1, 3)},
    "age": {"18-34": (0, 2), "35-64": (0, 2), "65+": (0, 2)},
}


def make_quotas(consultation: Consultation, table: QuotaTable = SMALL_QUOTAS) -> list[Category]:
    """Categories and quotas from a {category: {feature: (min, max)}} table."""
    categories = []
    for position, (name, features) in enumerate(table.items()):
        category = Category(
            consultation_id=consultation.id, name=name, label=name.capitalize(), position=position
        )
        category.quotas = [
            Quota(feature=feature, label=feature, min_count=low, max_count=high, position=index)
            for index, (feature, (low, high)) in enumerate(features.items())
        ]
        db.session.add(category)
        categories.append(category)
    db.session.flush()
    return categories


def make_member(
    consultation: Consultation,
    features: Mapping[str, str],
    *,
    email: str | None = None,
    full_name: str | None = None,
    source: MemberSource = MemberSource.APPLICATION,
) -> PoolMember:
    """A pool member holding the given feature in each category (the quotas must exist)."""
    number = next(_sequence)
    quotas = {
        (quota.category.name, quota.feature): quota
        for quota in db.session.scalars(
            db.select(Quota).join(Category).where(Category.consultation_id == consultation.id)
        )
    }
    member = PoolMember(consultation_id=consultation.id, reference=f"V{number:05d}", source=source)
    member.features = [
        MemberFeature(category_id=quotas[name, value].category_id, quota_id=quotas[name, value].id)
        for name, value in features.items()
    ]
    member.contact = PoolContact(
        consultation_id=consultation.id,
        full_name=full_name or f"Volontaire {number}",
        email=email or f"volontaire{number}@example.org",
        consented_at=utcnow(),
    )
    db.session.add(member)
    db.session.flush()
    return member


def make_draw(consultation: Consultation, panel_size: int = 1, **fields: object) -> Draw:
    """A finished draw (its data is not a real distribution: enough for jurors to exist)."""
    number = fields.pop("number", None) or (
        1
        + len(
            db.session.scalars(db.select(Draw.id).filter_by(consultation_id=consultation.id)).all()
        )
    )
    seed = hashlib.sha256(f"seed {number}".encode()).hexdigest()
    draw = Draw(
        consultation_id=consultation.id,
        number=number,
        kind=fields.pop("kind", DrawKind.INITIAL),
        panel_size=panel_size,
        status=fields.pop("status", DrawStatus.DONE),
        pool_snapshot=fields.pop("pool_snapshot", {"quotas": [], "members": []}),
        pool_checksum=hashlib.sha256(b"{}").hexdigest(),
        seed_commitment=hashlib.sha256(seed.encode()).hexdigest(),
        seed=seed,
        drawn_at=utcnow(),
        distribution=fields.pop("distribution", {"types": [], "panels": []}),
        panel_index=0,
        **fields,
    )
    db.session.add(draw)
    db.session.flush()
    return draw


def make_juror(
    consultation: Consultation,
    user: User | None = None,
    *,
    status: JurorStatus = JurorStatus.ACCEPTED,
    draw: Draw | None = None,
    member: PoolMember | None = None,
) -> Juror:
    """A drawn pool member; accepted jurors get a juror account (or the given user)."""
    if member is None:
        if not db.session.scalar(
            db.select(Category.id).filter_by(consultation_id=consultation.id).limit(1)
        ):
            make_quotas(consultation)
        member = make_member(consultation, {"genre": "femme", "age": "35-64"})
    draw = (
        draw
        or db.session.scalar(
            db.select(Draw)
            .filter_by(consultation_id=consultation.id)
            .order_by(Draw.number)
            .limit(1)
        )
        or make_draw(consultation)
    )
    if user is None and status is JurorStatus.ACCEPTED:
        user = factories.make_user(role=Role.JUROR)
    juror = Juror(
        consultation_id=consultation.id,
        draw_id=draw.id,
        member_id=member.id,
        status=status,
        user_id=user.id if user is not None else None,
        invited_at=utcnow(),
        responded_at=utcnow() if status is not JurorStatus.INVITED else None,
    )
    db.session.add(juror)
    db.session.flush()
    return juror


def frozen_version(consultation: Consultation, articles: int = 3) -> BillVersion:
    """A bill with `articles` loose articles, frozen into a version (the phase is not checked)."""
    bill = make_bill(consultation)
    for _ in range(articles):
        add_article(bill)
    db.session.refresh(bill)
    return create_version(bill, "Pour le jury", None, utcnow())


def open_voting_round(
    jurors: int = 3, articles: int = 3, *, quorum_percent: int = 50, threshold_percent: int = 50
) -> tuple[VotingRound, list[User]]:
    """A consultation in its jury phase with `jurors` accepted jurors, and an open round (an
    hour ago until tomorrow) on a frozen version of `articles` articles; nothing committed."""
    consultation = factories.make_consultation(phase=Phase.JURY)
    version = frozen_version(consultation, articles)
    users = [make_juror(consultation).user for _ in range(jurors)]
    now = utcnow()
    voting_round = ballots.open_round(
        consultation,
        version,
        now - timedelta(hours=1),
        now + timedelta(days=1),
        quorum_percent,
        threshold_percent,
        None,
        now,
    )
    ballots.start_round(voting_round, None, now)
    return voting_round, users
