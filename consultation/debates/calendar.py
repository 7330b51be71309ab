"""iCalendar (RFC 5545) files of debates, built with the `icalendar` library."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event

from consultation.core.models import utcnow
from consultation.debates.models import FORMAT_LABELS, Debate, DebateStatus
from consultation.debates.services import PARIS, debate_url

PRODID = "-//Union sociale pour l'habitat//Utiles ensemble//FR"


def debate_uid(debate: Debate) -> str:
    """A UID that stays the same across every change of the debate."""
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"
    return f"debate-{debate.id}@{host}"


def _location(debate: Debate) -> str:
    return ", ".join(part for part in (debate.venue, debate.online_url) if part)


def _description(debate: Debate) -> str:
    lines = [debate.description] if debate.description else []
    lines.append(f"{FORMAT_LABELS[debate.format]} · {debate.organiser.name}")
    if debate.online_url:
        lines.append(debate.online_url)
    if debate.status is DebateStatus.CANCELLED and debate.cancellation_reason:
        lines.append(debate.cancellation_reason)
    return "\n\n".join(lines)


def debate_event(debate: Debate) -> Event:
    """One VEVENT for a debate, its times in Paris time."""
    event = Event()
    event.add("uid", debate_uid(debate))
    event.add("dtstamp", utcnow())
    event.add("sequence", debate.sequence)
    event.add("dtstart", debate.starts_at.astimezone(PARIS))
    event.add("dtend", debate.ends_at.astimezone(PARIS))
    summary = debate.title
    if debate.status is DebateStatus.CANCELLED:
        summary = f"[{_cancelled_word()}] {summary}"
    event.add("summary", summary)
    event.add("description", _description(debate))
    location = _location(debate)
    if location:
        event.add("location", location)
    event.add("url", debate_url(debate))
    event.add("status", "CANCELLED" if debate.status is DebateStatus.CANCELLED else "CONFIRMED")
    if debate.updated_at is not None:
        event.add("last-modified", debate.updated_at)
    return event


def _cancelled_word() -> str:
    from consultation.debates.models import STATUS_LABELS

    return str(STATUS_LABELS[DebateStatus.CANCELLED])


def build_calendar(debates: Iterable[Debate], name: str | None = None) -> bytes:
    """A calendar of these debates, with the VTIMEZONE of Europe/Paris they refer to."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")  # published information, not an invitation to answer
    if name:
        calendar.add("x-wr-calname", name)
    debates = list(debates)
    for debate in debates:
        calendar.add_component(debate_event(debate))
    if debates:
        # Only the time-zone transitions around the debates: a smaller, faster file.
        first = min(debate.starts_at for debate in debates).date() - timedelta(days=366)
        last = max(debate.ends_at for debate in debates).date() + timedelta(days=366)
        calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar.to_ical()


def debate_calendar(debate: Debate) -> bytes:
    """The `.ics` file of one debate ("add to my calendar", and attached to e-mails)."""
    return build_calendar([debate], debate.title)
