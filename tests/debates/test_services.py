"""Debate use cases: scheduling rules, the region of editors, publication, cancellation, minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from consultation.core.audit import AuditEntry
from consultation.core.errors import DomainError, InvalidTransition, NotFound
from consultation.core.models import utcnow
from consultation.debates import services
from consultation.debates.models import Debate, DebateFormat, DebateStatus
from tests import factories
from tests.debates.helpers import association, debate_input, make_debate, registration


def _debate_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Debate))


def _actions(db) -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def consultation(db):
    return factories.make_consultation()


@pytest.fixture
def editor(db):
    return factories.make_user("regional_editor")


def test_an_editor_schedules_a_draft_in_their_own_region(db, consultation, editor):
    debate, warnings = services.create_debate(consultation, debate_input(), editor)
    assert debate.status is DebateStatus.DRAFT
    assert debate.region_code == "52"
    assert debate.organiser == editor.organisation
    assert warnings == []
    assert "debate.created" in _actions(db)


def test_an_editor_cannot_choose_another_region(db, consultation, editor):
    debate, _ = services.create_debate(consultation, debate_input(region_code="11"), editor)
    assert debate.region_code == "52"


def test_staff_choose_the_region_and_its_association_organises(db, consultation):
    admin = factories.make_user("admin")
    idf = association("11")
    debate, _ = services.create_debate(consultation, debate_input(region_code="11"), admin)
    assert (debate.region_code, debate.organiser) == ("11", idf)
    with pytest.raises(DomainError) as error:
        services.create_debate(consultation, debate_input(region_code=None), admin)
    assert error.value.field == "region_code"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_at_offset": timedelta(hours=-1)}, "ends_at"),
        ({"ends_at_offset": timedelta(0)}, "ends_at"),
        ({"starts_at_offset": timedelta(days=-30)}, "starts_at"),
        ({"starts_at_offset": timedelta(days=100)}, "starts_at"),
        ({"capacity": -5}, "capacity"),
        ({"capacity": 0}, "capacity"),
        ({"venue": "  "}, "venue"),
        ({"format": DebateFormat.ONLINE, "online_url": ""}, "online_url"),
        ({"format": DebateFormat.HYBRID, "online_url": "", "venue": "Nantes"}, "online_url"),
        ({"format": DebateFormat.HYBRID, "online_url": "https://x.org", "venue": ""}, "venue"),
        ({"format": DebateFormat.ONLINE, "online_url": "javascript:alert(1)"}, "online_url"),
        ({"title": "  "}, "title"),
    ],
)
def test_scheduling_rules_refuse_bad_input_and_create_nothing(
    db, consultation, editor, changes, field
):
    start = utcnow().replace(microsecond=0) + timedelta(days=7)
    start += changes.pop("starts_at_offset", timedelta(0))
    end = start + changes.pop("ends_at_offset", timedelta(hours=2))
    data = debate_input(starts_at=start, ends_at=end, **changes)
    with pytest.raises(DomainError) as error:
        services.create_debate(consultation, data, editor)
    assert error.value.status_code == 400
    assert error.value.field == field
    assert str(error.value.message)
    assert _debate_count(db) == 0


def test_an_online_debate_needs_no_venue(db, consultation, editor):
    data = debate_input(format=DebateFormat.ONLINE, venue="", online_url="https://visio.example")
    debate, _ = services.create_debate(consultation, data, editor)
    assert (debate.venue, debate.online_url) == ("", "https://visio.example")


def test_overlapping_debates_of_a_region_give_a_warning_not_a_refusal(db, consultation, editor):
    first, _ = services.create_debate(consultation, debate_input(title="Premier"), editor)
    second, warnings = services.create_debate(
        consultation, debate_input(starts_at=first.starts_at + timedelta(hours=1)), editor
    )
    assert second.id and len(warnings) == 1 and "Premier" in warnings[0]
    # Another region at the same time is no concern.
    other = factories.make_user("admin")
    association("11")
    _, warnings = services.create_debate(
        consultation, debate_input(region_code="11", starts_at=first.starts_at), other
    )
    assert warnings == []


def test_an_update_raises_the_sequence(db, consultation, editor):
    debate, _ = services.create_debate(consultation, debate_input(), editor)
    before = debate.sequence
    services.update_debate(debate, debate_input(title="Nouveau titre"), editor)
    assert debate.title == "Nouveau titre"
    assert debate.sequence == before + 1


def test_an_editor_of_another_region_gets_not_found(db, consultation):
    debate = make_debate(consultation, region_code="11")
    editor = factories.make_user("regional_editor")  # region 52
    title = debate.title
    with pytest.raises(NotFound):
        services.update_debate(debate, debate_input(title="Piraté"), editor)
    with pytest.raises(NotFound):
        services.cancel_debate(debate, "Parce que", editor)
    with pytest.raises(NotFound):
        services.record_minutes(debate, "CR", 3, [], editor)
    with pytest.raises(NotFound):
        services.find_managed_debate(consultation, debate.id, editor)
    assert debate.title == title and debate.status is DebateStatus.PUBLISHED


def test_publish_a_draft_once(db, consultation, editor):
    debate, _ = services.create_debate(consultation, debate_input(), editor)
    services.publish_debate(debate, editor)
    assert debate.status is DebateStatus.PUBLISHED and debate.published_at is not None
    assert debate.sequence == 1
    with pytest.raises(InvalidTransition) as error:
        services.publish_debate(debate, editor)
    assert error.value.status_code == 409
    assert "debate.published" in _actions(db)


def test_cancelling_tells_everyone_registered_with_a_cancelled_event(
    db, consultation, editor, outbox
):
    debate = make_debate(consultation, capacity=1)
    registration(debate, "un@example.org")
    registration(debate, "deux@example.org")  # waiting
    before = len(outbox())
    told = services.cancel_debate(debate, "Salle indisponible", editor)
    assert told == 2
    assert debate.status is DebateStatus.CANCELLED and debate.sequence == 1
    messages = outbox()[before:]
    assert sorted(str(m["To"]) for m in messages) == ["deux@example.org", "un@example.org"]
    for message in messages:
        assert "Salle indisponible" in message.get_body(("plain",)).get_content()
        [attachment] = list(message.iter_attachments())
        [event] = Calendar.from_ical(attachment.get_content()).walk("VEVENT")
        assert event["STATUS"] == "CANCELLED"
    assert "debate.cancelled" in _actions(db)


def test_cancelling_needs_a_reason_and_a_published_debate(db, consultation, editor):
    debate = make_debate(consultation)
    with pytest.raises(DomainError) as error:
        services.cancel_debate(debate, " ", editor)
    assert error.value.field == "reason"
    draft = make_debate(consultation, status="draft")
    with pytest.raises(InvalidTransition):
        services.cancel_debate(draft, "Raison", editor)


def test_minutes_mark_a_started_debate_as_held(db, consultation, editor):
    debate = make_debate(consultation, starts_at=utcnow() - timedelta(hours=3))
    partner = factories.make_organisation()
    services.record_minutes(debate, "## Compte rendu", 42, [partner, partner], editor)
    assert debate.status is DebateStatus.HELD
    assert (debate.minutes, debate.attendance, debate.attendees) == (
        "## Compte rendu",
        42,
        [partner],
    )
    services.record_minutes(debate, "Corrigé", 40, [], editor)
    assert debate.minutes == "Corrigé" and debate.status is DebateStatus.HELD
    assert "debate.minuted" in _actions(db)


def test_minutes_are_refused_before_the_start_or_with_a_negative_attendance(
    db, consultation, editor
):
    future = make_debate(consultation)
    with pytest.raises(InvalidTransition):
        services.record_minutes(future, "Trop tôt", 3, [], editor)
    assert future.status is DebateStatus.PUBLISHED and future.minutes == ""
    started = make_debate(consultation, starts_at=utcnow() - timedelta(hours=1))
    with pytest.raises(DomainError) as error:
        services.record_minutes(started, "CR", -1, [], editor)
    assert error.value.field == "attendance"
    assert started.status is DebateStatus.PUBLISHED


def test_registration_counts_come_from_one_grouped_query(db, consultation, count_queries):
    first = make_debate(consultation, capacity=1)
    second = make_debate(consultation)
    registration(first)
    registration(first)
    registration(second)
    with count_queries() as statements:
        counts = services.registration_counts([first.id, second.id, 999])
    assert len(statements) == 1
    assert counts[first.id] == services.Counts(confirmed=1, waiting=1)
    assert counts[second.id] == services.Counts(confirmed=1, waiting=0)
    assert 999 not in counts


@pytest.mark.parametrize("month", ["2021-13", "2021-1", "novembre", "2021-00", "0000-01"])
def test_a_malformed_month_is_refused(db, month):
    with pytest.raises(DomainError) as error:
        services.parse_filters(None, month, None)
    assert error.value.status_code == 400


def test_an_unknown_region_or_format_is_refused(db):
    with pytest.raises(DomainError):
        services.parse_filters("99", None, None)
    with pytest.raises(DomainError):
        services.parse_filters(None, None, "carrier-pigeon")
    filters = services.parse_filters("52", "2021-11", "online")
    assert filters.as_args() == {"region": "52", "month": "2021-11", "format": "online"}


def test_staff_may_move_a_debate_to_another_region(db, consultation):
    admin = factories.make_user("admin")
    debate = make_debate(consultation, region_code="52")
    idf = association("11")
    services.update_debate(debate, debate_input(region_code="11"), admin)
    assert (debate.region_code, debate.organiser) == ("11", idf)


def test_an_archived_consultation_takes_no_new_debate(db, editor):
    archived = factories.make_consultation(phase="archived")
    with pytest.raises(InvalidTransition):
        services.create_debate(archived, debate_input(), editor)
    assert _debate_count(db) == 0


def test_an_unknown_partner_changes_nothing(db, consultation, editor):
    debate = make_debate(consultation, title="Avant")
    with pytest.raises(DomainError) as error:
        services.update_debate(debate, debate_input(title="Après", partner_id=999999), editor)
    assert error.value.field == "partner_id"
    assert debate.title == "Avant" and debate.sequence == 0
