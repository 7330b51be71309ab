"""Debate use cases: scheduling, publishing, cancelling and minuting debates, and registering
for them (with a waiting list), as well as the queries the public and management pages use."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, select
from sqlalchemy.exc import IntegrityError

from consultation.accounts.models import Organisation, OrganisationKind, Region, User
from consultation.consultations.models import Consultation, Phase
from consultation.core import audit
from consultation.core.errors import Conflict, DomainError, InvalidTransition, NotFound
from consultation.core.i18n import PARIS
from consultation.core.mail import send_mail
from consultation.core.models import utcnow
from consultation.core.permissions import Rule, is_admin, is_regional_editor, same_region
from consultation.core.spreadsheet import csv_cell
from consultation.debates.models import (
    Debate,
    DebateFormat,
    DebateStatus,
    Registration,
    RegistrationStatus,
)
from consultation.extensions import db

MONTH = re.compile(r"^(\d{4})-(\d{2})$")

# Staff act on every debate; a regional editor on the debates of their own region only.
manages_debate: Rule = is_admin | (is_regional_editor & same_region)

ACTIVE_REGISTRATION = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITING)


@dataclass(frozen=True)
class DebateInput:
    """What an editor types in the debate form."""

    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    format: DebateFormat
    venue: str = ""
    online_url: str = ""
    capacity: int | None = None
    region_code: str | None = None  # staff choose it; an editor's is their own region
    partner_id: int | None = None


@dataclass(frozen=True)
class DebateFilters:
    """The public list's filters, checked."""

    region: Region | None = None
    month: date | None = None  # the first day of the month
    format: DebateFormat | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query parameters, for links and pagination."""
        args = {}
        if self.region is not None:
            args["region"] = self.region.code
        if self.month is not None:
            args["month"] = f"{self.month:%Y-%m}"
        if self.format is not None:
            args["format"] = self.format.value
        return args


@dataclass(frozen=True)
class Counts:
    confirmed: int = 0
    waiting: int = 0


# --- Reading -------------------------------------------------------------------------------


def parse_month(value: str | None) -> date | None:
    """A YYYY-MM month as its first day; anything else is refused with a readable message."""
    if not value:
        return None
    match = MONTH.match(value)
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise DomainError(
            _l("“%(value)s” is not a month: write it as YYYY-MM, like 2021-11.", value=value),
            field="month",
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


def find_region(code: str | None) -> Region | None:
    """The region with this INSEE code; an unknown code is refused (400)."""
    if not code:
        return None
    region = db.session.get(Region, code)
    if region is None:
        raise DomainError(
            _l("There is no region with the code “%(code)s”.", code=code), field="region"
        )
    return region


def parse_filters(region: str | None, month: str | None, format: str | None) -> DebateFilters:
    """Check the public list's query parameters."""
    if format and format not in DebateFormat.__members__.values():
        raise DomainError(_l("“%(value)s” is not a debate format.", value=format), field="format")
    return DebateFilters(
        region=find_region(region),
        month=parse_month(month),
        format=DebateFormat(format) if format else None,
    )


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next one, in Paris time."""
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (
        datetime.combine(month, time(), tzinfo=PARIS),
        datetime.combine(following, time(), tzinfo=PARIS),
    )


def public_debates_query(consultation: Consultation, filters: DebateFilters) -> Select:
    """The consultation's public debates (published, held, cancelled) matching the filters."""
    query = select(Debate).where(
        Debate.consultation_id == consultation.id, Debate.status != DebateStatus.DRAFT
    )
    if filters.region is not None:
        query = query.where(Debate.region_code == filters.region.code)
    if filters.format is not None:
        query = query.where(Debate.format == filters.format)
    if filters.month is not None:
        start, end = month_bounds(filters.month)
        query = query.where(Debate.starts_at >= start, Debate.starts_at < end)
    return query


def upcoming_debates_query(
    consultation: Consultation, filters: DebateFilters, now: datetime
) -> Select:
    """Public debates not yet over, soonest first."""
    return (
        public_debates_query(consultation, filters)
        .where(Debate.ends_at >= now)
        .order_by(Debate.starts_at, Debate.id)
    )


def past_debates_query(consultation: Consultation, filters: DebateFilters, now: datetime) -> Select:
    """Public debates already over, latest first."""
    return (
        public_debates_query(consultation, filters)
        .where(Debate.ends_at < now)
        .order_by(Debate.starts_at.desc(), Debate.id.desc())
    )


def managed_debates_query(consultation: Consultation, user: User) -> Select:
    """The debates a user manages: their region's for an editor, all for staff."""
    query = select(Debate).where(Debate.consultation_id == consultation.id)
    if not user.is_admin:
        query = query.where(Debate.region_code == user.region_code)
    return query.order_by(Debate.starts_at, Debate.id)


def registration_counts(debate_ids: Sequence[int]) -> dict[int, Counts]:
    """Confirmed and waiting registrations of each debate, in one grouped query."""
    if not debate_ids:
        return {}
    rows = db.session.execute(
        select(Registration.debate_id, Registration.status, func.count())
        .where(Registration.debate_id.in_(debate_ids), Registration.status.in_(ACTIVE_REGISTRATION))
        .group_by(Registration.debate_id, Registration.status)
    )
    found: dict[int, dict[str, int]] = {}
    for debate_id, status, number in rows:
        found.setdefault(debate_id, {})[RegistrationStatus(status).value] = number
    return {
        debate_id: Counts(confirmed=values.get("confirmed", 0), waiting=values.get("waiting", 0))
        for debate_id, values in found.items()
    }


def remaining_places(debate: Debate, counts: Counts) -> int | None:
    """Places left (None when the capacity is unlimited)."""
    if debate.capacity is None:
        return None
    return max(0, debate.capacity - counts.confirmed)


def may_manage(user: User, debate: Debate) -> bool:
    """Whether the user manages this debate (staff, or an editor of its region)."""
    return manages_debate(user, debate)


def find_debate(consultation: Consultation, debate_id: int, user: User) -> Debate:
    """A debate of the consultation as the public sees it: a draft only for its managers."""
    debate = db.session.get(Debate, debate_id)
    if debate is None or debate.consultation_id != consultation.id:
        raise NotFound(_l("This debate does not exist."))
    if debate.status is DebateStatus.DRAFT and not may_manage(user, debate):
        raise NotFound(_l("This debate does not exist."))
    return debate


def find_managed_debate(consultation: Consultation, debate_id: int, user: User) -> Debate:
    """A debate the user manages; another region's debate is not found (404)."""
    debate = db.session.get(Debate, debate_id)
    if debate is None or debate.consultation_id != consultation.id or not may_manage(user, debate):
        raise NotFound(_l("This debate does not exist."))
    return debate


def consultation_feed_debates(consultation: Consultation, region: Region | None) -> list[Debate]:
    """Debates a calendar subscribes to: published, held and cancelled (so calendars learn it)."""
    query = select(Debate).where(
        Debate.consultation_id == consultation.id, Debate.status != DebateStatus.DRAFT
    )
    if region is not None:
        query = query.where(Debate.region_code == region.code)
    return list(db.session.scalars(query.order_by(Debate.starts_at, Debate.id)))


def month_debates(consultation: Consultation, month: date, region: Region | None) -> list[Debate]:
    """The public debates starting in a month (Paris time), in order."""
    filters = DebateFilters(region=region, month=month)
    query = public_debates_query(consultation, filters).order_by(Debate.starts_at, Debate.id)
    return list(db.session.scalars(query))


# --- Scheduling ----------------------------------------------------------------------------


def _check_manages(actor: User, debate: Debate) -> None:
    if not may_manage(actor, debate):
        raise NotFound(_l("This debate does not exist."))


def _regional_association(region_code: str) -> Organisation:
    organisation = db.session.scalar(
        select(Organisation)
        .where(
            Organisation.region_code == region_code,
            Organisation.kind == OrganisationKind.ASSOCIATION_REGIONALE,
        )
        .order_by(Organisation.id)
        .limit(1)
    )
    if organisation is None:
        raise DomainError(
            _l("This region has no regional Hlm association to organise the debate."),
            field="region_code",
        )
    return organisation


def _organiser_and_region(data: DebateInput, actor: User) -> tuple[Organisation, str]:
    """An editor's debates are their association's, in its region; staff choose the region."""
    if not actor.is_admin:
        if actor.organisation is None or actor.region_code is None:
            raise DomainError(_l("Your account has no regional association."))
        return actor.organisation, actor.region_code
    region = find_region(data.region_code)
    if region is None:
        raise DomainError(_l("Choose the region of the debate."), field="region_code")
    return _regional_association(region.code), region.code


def _check_schedule(consultation: Consultation, data: DebateInput) -> None:
    """The rules of every debate: dates inside the concertation, a place to meet, a capacity."""
    if not data.title.strip():
        raise DomainError(_l("A debate needs a title."), field="title")
    if data.starts_at.tzinfo is None or data.ends_at.tzinfo is None:
        raise DomainError(_l("Give the start and end with their time zone."), field="starts_at")
    if data.ends_at <= data.starts_at:
        raise DomainError(_l("The debate must end after it starts."), field="ends_at")
    period = consultation.period(Phase.CONCERTATION)
    if period is None:
        raise DomainError(_l("The consultation has no concertation dates yet."), field="starts_at")
    first_day = data.starts_at.astimezone(PARIS).date()
    last_day = data.ends_at.astimezone(PARIS).date()
    if first_day < period.starts_on or last_day > period.ends_on:
        raise DomainError(
            _l(
                "The debate must take place during the concertation, from %(start)s to %(end)s.",
                start=f"{period.starts_on:%d/%m/%Y}",
                end=f"{period.ends_on:%d/%m/%Y}",
            ),
            field="starts_at",
        )
    if data.capacity is not None and data.capacity <= 0:
        raise DomainError(
            _l("The capacity must be a positive number, or empty for no limit."), field="capacity"
        )
    if data.format.needs_venue and not data.venue.strip():
        raise DomainError(_l("Give the address of the venue."), field="venue")
    if data.format.needs_link and not data.online_url.strip():
        raise DomainError(_l("Give the link to join the debate online."), field="online_url")
    if data.online_url.strip() and not data.online_url.strip().startswith(("https://", "http://")):
        raise DomainError(
            _l("The online link must be a web address starting with https://."),
            field="online_url",
        )


def _partner(partner_id: int | None) -> Organisation | None:
    if partner_id is None:
        return None
    partner = db.session.get(Organisation, partner_id)
    if partner is None:
        raise DomainError(_l("This organisation does not exist."), field="partner_id")
    return partner


def overlap_warnings(debate: Debate) -> list[str]:
    """Other debates of the same region whose times overlap this one's (a warning, not a rule)."""
    others = db.session.scalars(
        select(Debate)
        .where(
            Debate.consultation_id == debate.consultation_id,
            Debate.region_code == debate.region_code,
            Debate.id != debate.id,
            Debate.status.in_((DebateStatus.DRAFT, DebateStatus.PUBLISHED)),
            Debate.starts_at < debate.ends_at,
            Debate.ends_at > debate.starts_at,
        )
        .order_by(Debate.starts_at)
    )
    return [
        str(_l("This debate overlaps “%(title)s” in the same region.", title=other.title))
        for other in others
    ]


def _apply(debate: Debate, data: DebateInput) -> None:
    debate.title = data.title.strip()
    debate.description = data.description.strip()
    debate.starts_at = data.starts_at
    debate.ends_at = data.ends_at
    debate.format = data.format
    debate.venue = data.venue.strip() if data.format.needs_venue else ""
    debate.online_url = data.online_url.strip() if data.format.needs_link else ""
    debate.capacity = data.capacity
    debate.partner = _partner(data.partner_id)


def create_debate(
    consultation: Consultation, data: DebateInput, actor: User
) -> tuple[Debate, list[str]]:
    """Schedule a draft debate; returns it with warnings about overlapping debates."""
    if consultation.is_read_only:
        raise InvalidTransition(_l("An archived consultation is read-only."))
    organiser, region_code = _organiser_and_region(data, actor)
    _check_schedule(consultation, data)
    debate = Debate(
        consultation=consultation,
        region_code=region_code,
        organiser=organiser,
        status=DebateStatus.DRAFT,
        sequence=0,
    )
    _apply(debate, data)
    db.session.add(debate)
    db.session.flush()
    audit.record("debate.created", debate, actor=actor, region=region_code)
    return debate, overlap_warnings(debate)


def update_debate(debate: Debate, data: DebateInput, actor: User) -> list[str]:
    """Correct a draft or published debate (its SEQUENCE rises); returns overlap warnings.

    People registered for a published debate whose time or place changes are told, with the
    updated `.ics`; places added to a full debate go to its waiting list, in order."""
    _check_manages(actor, debate)
    if debate.status not in (DebateStatus.DRAFT, DebateStatus.PUBLISHED):
        raise InvalidTransition(_l("A cancelled or held debate can no longer be edited."))
    _check_schedule(debate.consultation, data)
    _partner(data.partner_id)  # refuse an unknown partner before changing anything
    region, organiser = None, debate.organiser
    if actor.is_admin and data.region_code and data.region_code != debate.region_code:
        region = find_region(data.region_code)
        organiser = _regional_association(region.code) if region else None
    before = _practical_details(debate)
    if region is not None:
        debate.region_code = region.code
        debate.organiser = organiser
    _apply(debate, data)
    debate.sequence += 1
    db.session.flush()
    audit.record("debate.updated", debate, actor=actor)
    if debate.status is DebateStatus.PUBLISHED:
        if _practical_details(debate) != before:
            _tell_registrants_of_change(debate)
        while debate.capacity is None or _confirmed_count(debate) < debate.capacity:
            if not _promote_waiting(debate):
                break
    return overlap_warnings(debate)


def _practical_details(debate: Debate) -> tuple[object, ...]:
    return (debate.starts_at, debate.ends_at, debate.format, debate.venue, debate.online_url)


def _tell_registrants_of_change(debate: Debate) -> None:
    """E-mail the updated time and place, with the `.ics` that updates calendars."""
    registrations = db.session.scalars(
        select(Registration)
        .where(Registration.debate_id == debate.id, Registration.status.in_(ACTIVE_REGISTRATION))
        .order_by(Registration.id)
    ).all()
    if not registrations:
        return
    ics = _ics_attachment(debate)
    subject = str(_l("Debate changed: %(title)s", title=debate.title))
    for registration in registrations:
        body = _render_mail(
            "debates/mail/debate_changed.txt",
            debate=debate,
            registration=registration,
            debate_link=debate_url(debate),
        )
        send_mail(registration.email, subject, body, ics)


def _confirmed_count(debate: Debate) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Registration.debate_id == debate.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
    )


def publish_debate(debate: Debate, actor: User) -> list[str]:
    """Make a draft debate public; returns overlap warnings."""
    _check_manages(actor, debate)
    if debate.ends_at <= utcnow():
        raise InvalidTransition(_l("A debate that is already over cannot be published."))
    debate.publish(utcnow())
    db.session.flush()
    audit.record("debate.published", debate, actor=actor)
    return overlap_warnings(debate)


def cancel_debate(debate: Debate, reason: str, actor: User) -> int:
    """Cancel a published debate and tell everyone registered; returns how many were told."""
    _check_manages(actor, debate)
    reason = reason.strip()
    if not reason:
        raise DomainError(_l("Say why the debate is cancelled."), field="reason")
    debate.cancel(utcnow(), reason)
    db.session.flush()
    audit.record("debate.cancelled", debate, actor=actor, reason=reason)
    registrations = db.session.scalars(
        select(Registration)
        .where(Registration.debate_id == debate.id, Registration.status.in_(ACTIVE_REGISTRATION))
        .order_by(Registration.id)
    ).all()
    if registrations:
        ics = _ics_attachment(debate)
        subject = str(_l("Debate cancelled: %(title)s", title=debate.title))
        for registration in registrations:
            body = _render_mail(
                "debates/mail/debate_cancelled.txt", debate=debate, registration=registration
            )
            send_mail(registration.email, subject, body, ics)
    return len(registrations)


def record_minutes(
    debate: Debate,
    minutes: str,
    attendance: int | None,
    organisations: Sequence[Organisation],
    actor: User,
) -> None:
    """Record what a debate produced; a published debate that has started becomes held."""
    _check_manages(actor, debate)
    now = utcnow()
    if debate.status not in (DebateStatus.PUBLISHED, DebateStatus.HELD):
        raise InvalidTransition(_l("Minutes are recorded for a published debate once held."))
    if attendance is not None and attendance < 0:
        raise DomainError(_l("The attendance cannot be negative."), field="attendance")
    if not minutes.strip():
        raise DomainError(_l("Write the minutes."), field="minutes")
    if debate.status is DebateStatus.PUBLISHED:
        debate.mark_held(now)
    else:
        debate.sequence += 1
    debate.minutes = minutes.strip()
    debate.attendance = attendance
    debate.attendees = list(dict.fromkeys(organisations))
    db.session.flush()
    audit.record(
        "debate.minuted",
        debate,
        actor=actor,
        attendance=attendance,
        organisations=[organisation.id for organisation in debate.attendees],
    )


# --- Registration --------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_open(debate: Debate, now: datetime) -> None:
    if debate.status is DebateStatus.DRAFT:
        raise Conflict(_l("This debate is not published yet: registration is not open."))
    if debate.status is DebateStatus.CANCELLED:
        raise Conflict(_l("This debate is cancelled: registration is closed."))
    if debate.status is DebateStatus.HELD or now >= debate.starts_at:
        raise Conflict(_l("This debate has started: registration is closed."))


def _normalised_email(email: str) -> str:
    email = email.strip().lower()
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        raise DomainError(
            _l("“%(email)s” is not a valid e-mail address.", email=email), field="email"
        ) from None
    return email


def register(
    debate: Debate, name: str, email: str, organisation_name: str, now: datetime
) -> Registration:
    """Register someone: confirmed while places remain, else on the waiting list.

    The new registration carries its secret cancellation token in `cancel_token` (only its
    hash is stored); the confirmation e-mail sends the link and the `.ics`."""
    name = " ".join(name.split())
    if not name:
        raise DomainError(_l("Give your name."), field="name")
    email = _normalised_email(email)
    _check_open(debate, now)
    # Lock the debate row (PostgreSQL) so that two registrations cannot take the last place.
    db.session.execute(select(Debate.id).where(Debate.id == debate.id).with_for_update())
    existing = db.session.scalar(
        select(Registration).where(Registration.debate_id == debate.id, Registration.email == email)
    )
    if existing is not None and existing.status is not RegistrationStatus.CANCELLED:
        raise Conflict(
            _l("%(email)s is already registered for this debate.", email=email), field="email"
        )
    confirmed = _confirmed_count(debate)
    status = (
        RegistrationStatus.CONFIRMED
        if debate.capacity is None or confirmed < debate.capacity
        else RegistrationStatus.WAITING
    )
    token = secrets.token_urlsafe(32)
    registration = existing or Registration(debate_id=debate.id, email=email)
    registration.debate = debate
    registration.name = name
    registration.organisation_name = " ".join(organisation_name.split())[:200]
    registration.status = status
    registration.cancel_token_hash = _token_hash(token)
    registration.created_at = now  # a returning person goes to the end of the waiting list
    registration.cancelled_at = None
    if existing is None:
        db.session.add(registration)
    try:
        db.session.flush()
    except IntegrityError:  # the same email registered at the same instant: the caller rolls back
        raise Conflict(
            _l("%(email)s is already registered for this debate.", email=email), field="email"
        ) from None
    registration.cancel_token = token  # type: ignore[attr-defined]
    _send_registration_mail(registration, token)
    return registration


def _send_registration_mail(registration: Registration, token: str) -> None:
    debate = registration.debate
    if registration.status is RegistrationStatus.CONFIRMED:
        subject = str(_l("Registration confirmed: %(title)s", title=debate.title))
    else:
        subject = str(_l("On the waiting list: %(title)s", title=debate.title))
    body = _render_mail(
        "debates/mail/registration.txt",
        debate=debate,
        registration=registration,
        cancel_link=absolute_url("debates.cancel_registration", token=token),
        debate_link=debate_url(debate),
    )
    send_mail(registration.email, subject, body, _ics_attachment(debate))


def find_registration(token: str) -> Registration:
    """The registration behind a cancellation link; unknown → 404, already cancelled → 409."""
    registration = db.session.scalar(
        select(Registration).where(Registration.cancel_token_hash == _token_hash(token))
    )
    if registration is None:
        raise NotFound(_l("This cancellation link is not valid. Check that you copied it whole."))
    if registration.status is RegistrationStatus.CANCELLED:
        raise Conflict(_l("This registration is already cancelled."))
    return registration


def cancel_registration(token: str, now: datetime) -> Registration:
    """Cancel a registration from its link; the first person waiting takes the freed place."""
    registration = find_registration(token)
    debate = registration.debate
    if debate.status is not DebateStatus.CANCELLED and now >= debate.starts_at:
        raise Conflict(_l("This debate has started: the registration can no longer be cancelled."))
    db.session.execute(select(Debate.id).where(Debate.id == debate.id).with_for_update())
    was_confirmed = registration.status is RegistrationStatus.CONFIRMED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    db.session.flush()
    if was_confirmed and debate.status is DebateStatus.PUBLISHED:
        _promote_waiting(debate)
    return registration


def _promote_waiting(debate: Debate) -> bool:
    """Give a freed place to the first person on the waiting list, and tell them; returns
    whether someone was waiting."""
    promoted = db.session.scalar(
        select(Registration)
        .where(
            Registration.debate_id == debate.id, Registration.status == RegistrationStatus.WAITING
        )
        .order_by(Registration.created_at, Registration.id)
        .limit(1)
    )
    if promoted is None:
        return False
    promoted.status = RegistrationStatus.CONFIRMED
    db.session.flush()
    body = _render_mail(
        "debates/mail/promoted.txt",
        debate=debate,
        registration=promoted,
        debate_link=debate_url(debate),
    )
    subject = str(_l("A place is yours: %(title)s", title=debate.title))
    send_mail(promoted.email, subject, body, _ics_attachment(debate))
    return True


def registrations_query(debate: Debate) -> Select:
    """A debate's registrations: confirmed, then waiting in order, then cancelled."""
    order = {
        RegistrationStatus.CONFIRMED.value: 0,
        RegistrationStatus.WAITING.value: 1,
        RegistrationStatus.CANCELLED.value: 2,
    }
    return (
        select(Registration)
        .where(Registration.debate_id == debate.id)
        .order_by(case(order, value=Registration.status), Registration.created_at, Registration.id)
    )


def registrations_csv(debate: Debate) -> str:
    """The debate's registrations as CSV (semicolon-separated, for French spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["nom", "email", "organisation", "statut", "inscrit_le", "annule_le"])
    for registration in db.session.scalars(registrations_query(debate)):
        writer.writerow(
            [
                csv_cell(registration.name),
                csv_cell(registration.email),
                csv_cell(registration.organisation_name),
                registration.status.value,
                registration.created_at.astimezone(PARIS).isoformat(timespec="minutes"),
                registration.cancelled_at.astimezone(PARIS).isoformat(timespec="minutes")
                if registration.cancelled_at
                else "",
            ]
        )
    return out.getvalue()


# --- Links and attachments --------------------------------------------------------------


def _render_mail(name: str, **context: object) -> str:
    """A plain-text mail template, rendered also outside requests (CLI, jobs)."""
    return current_app.jinja_env.get_template(name).render(**context)


def absolute_url(endpoint: str, **values: object) -> str:
    """An absolute link from BASE_URL (never from the request's Host), also outside requests."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def debate_url(debate: Debate) -> str:
    """The public page of a debate."""
    return absolute_url("debates.detail", slug=debate.consultation.slug, debate_id=debate.id)


def _ics_attachment(debate: Debate) -> tuple[tuple[str, str, bytes], ...]:
    from consultation.debates.calendar import debate_calendar

    return ((f"debat-{debate.id}.ics", "text/calendar", debate_calendar(debate)),)


def search_organisations(ids: Sequence[int]) -> list[Organisation]:
    """The organisations with these ids (unknown ids are ignored)."""
    if not ids:
        return []
    return list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids))))
