"""The demo's debates: held and minuted in every region for the historical consultation, upcoming
with registrations (some full, with a waiting list) for the open one; loading is idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from consultation.accounts.models import OrganisationKind, Region
from consultation.consultations.models import Consultation
from consultation.core.models import utcnow
from consultation.debates.models import (
    Debate,
    DebateStatus,
    Registration,
    RegistrationStatus,
)
from consultation.demo.debates import HISTORICAL_PER_REGION, OPEN_PER_REGION
from consultation.demo.services import load_demo

PARIS = ZoneInfo("Europe/Paris")
HISTORICAL_PER_SCALE = sum(HISTORICAL_PER_REGION.values()) + (18 - len(HISTORICAL_PER_REGION))
OPEN_PER_SCALE = sum(OPEN_PER_REGION.values())


def _debates(db, slug: str) -> list[Debate]:
    return list(
        db.session.scalars(
            select(Debate)
            .join(Consultation)
            .where(Consultation.slug == slug)
            .order_by(Debate.starts_at, Debate.id)
        )
    )


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_historical_debates_are_held_in_every_region_from_15_november_2021(db):
    load_demo(complete=False)
    db.session.commit()
    debates = _debates(db, "utiles-ensemble-2")
    assert len(debates) == HISTORICAL_PER_SCALE
    first = debates[0]
    assert first.region_code == "52"
    assert first.starts_at.astimezone(PARIS) == datetime(2021, 11, 15, 18, 30, tzinfo=PARIS)
    assert first.title == "Débat régional Pays de la Loire"
    assert first.organiser.kind is OrganisationKind.ASSOCIATION_REGIONALE
    assert first.organiser.region_code == "52"
    regions = set(db.session.scalars(select(Region.code)))
    assert {debate.region_code for debate in debates} == regions
    for debate in debates:
        day = debate.starts_at.astimezone(PARIS).date()
        assert date(2021, 11, 15) <= day <= date(2022, 1, 31)
        assert debate.ends_at.astimezone(PARIS).date() == day
        assert debate.status is DebateStatus.HELD
        assert debate.sequence >= 1 and debate.published_at < debate.starts_at
        assert debate.minutes.startswith("## Compte rendu")
        assert debate.attendance is not None and debate.attendance > 0
        assert debate.organiser.region_code == debate.region_code
        assert debate.organiser in debate.attendees
        assert all(org.region_code == debate.region_code for org in debate.attendees)


def test_open_consultation_has_upcoming_debates_with_registrations(db):
    load_demo(complete=False)
    db.session.commit()
    debates = _debates(db, "consultation-ouverte")
    by_status: dict[DebateStatus, list[Debate]] = {}
    for debate in debates:
        by_status.setdefault(debate.status, []).append(debate)
    assert len(by_status[DebateStatus.DRAFT]) == 1
    assert len(by_status[DebateStatus.CANCELLED]) == 1
    published = by_status[DebateStatus.PUBLISHED]
    assert len(published) == OPEN_PER_SCALE
    assert len({debate.region_code for debate in published}) >= 10
    now = utcnow()
    assert all(debate.starts_at > now and debate.sequence == 1 for debate in published)
    counts = {
        (debate_id, status): number
        for debate_id, status, number in db.session.execute(
            select(Registration.debate_id, Registration.status, func.count()).group_by(
                Registration.debate_id, Registration.status
            )
        )
    }
    full = [
        debate
        for debate in published
        if debate.capacity is not None
        and counts.get((debate.id, RegistrationStatus.CONFIRMED)) == debate.capacity
    ]
    assert full and all(counts.get((d.id, RegistrationStatus.WAITING), 0) > 0 for d in full)
    for debate in published:
        confirmed = counts.get((debate.id, RegistrationStatus.CONFIRMED), 0)
        assert confirmed > 0
        assert debate.capacity is None or confirmed <= debate.capacity
        if debate not in full:
            assert counts.get((debate.id, RegistrationStatus.WAITING), 0) == 0
    draft = by_status[DebateStatus.DRAFT][0]
    assert draft.published_at is None
    assert not any(debate_id == draft.id for debate_id, _ in counts)


def test_registrations_are_well_formed(db):
    load_demo(complete=False)
    db.session.commit()
    spans = {
        (debate_id, status): (first, last)
        for debate_id, status, first, last in db.session.execute(
            select(
                Registration.debate_id,
                Registration.status,
                func.min(Registration.created_at),
                func.max(Registration.created_at),
            ).group_by(Registration.debate_id, Registration.status)
        )
    }
    waiting = [key for key in spans if key[1] == RegistrationStatus.WAITING]
    assert waiting
    for debate_id, _ in waiting:  # the waiting list comes after everyone who got a place
        confirmed = spans[(debate_id, RegistrationStatus.CONFIRMED)]
        assert confirmed[1] <= spans[(debate_id, RegistrationStatus.WAITING)][0]
    tokens = db.session.scalar(select(func.count(func.distinct(Registration.cancel_token_hash))))
    assert tokens == _count(db, Registration)
    lengths = set(db.session.scalars(select(func.length(Registration.cancel_token_hash))))
    assert lengths == {64}
    now = datetime.now(UTC)
    for registration in db.session.scalars(select(Registration).limit(500)):
        assert registration.created_at <= now
        assert registration.email == registration.email.lower()
        assert (registration.status is RegistrationStatus.CANCELLED) == (
            registration.cancelled_at is not None
        )


def test_loading_twice_adds_no_debate(db):
    first = load_demo(complete=False)  # the whole demo's idempotence: tests/core/test_demo.py
    db.session.commit()
    assert first.created["debates"] and first.created["registrations"]
    counts = (_count(db, Debate), _count(db, Registration))
    second = load_demo(complete=False)
    db.session.commit()
    assert not second.created.get("debates") and not second.created.get("registrations")
    assert (_count(db, Debate), _count(db, Registration)) == counts


def test_scale_multiplies_debates_and_registrations(db):
    load_demo(complete=False)
    db.session.commit()
    registrations = _count(db, Registration)
    load_demo(scale=3, complete=False)  # adds the second and third batches to the first
    db.session.commit()
    assert len(_debates(db, "utiles-ensemble-2")) == 3 * HISTORICAL_PER_SCALE
    assert len(_debates(db, "consultation-ouverte")) == 3 * OPEN_PER_SCALE + 2
    assert _count(db, Registration) > 2.5 * registrations
    keys = db.session.execute(select(Debate.consultation_id, Debate.title)).all()
    assert len(keys) == len(set(keys))  # the natural key of a demo debate
