"""Demo debates: the historical consultation's regional debates, held and minuted, and the open
consultation's upcoming ones with their registrations.

Debates are found by their natural key (consultation, title): a debate that exists is left as it
is, with its registrations. Registrations and the organisations present are bulk-inserted, so
that `--scale 10` (hundreds of debates, tens of thousands of registrations) stays fast.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, select

from consultation.accounts.models import Organisation, OrganisationKind, Region
from consultation.consultations.models import Consultation, Phase
from consultation.core.i18n import PARIS
from consultation.core.models import utcnow
from consultation.debates.models import (
    Debate,
    DebateFormat,
    DebateStatus,
    Registration,
    RegistrationStatus,
    debate_attendee,
)
from consultation.extensions import db

FIRST_DEBATE_REGION = "52"  # Pays de la Loire, 15 November 2021 at 18:30, Paris time
FIRST_DEBATE_TIME = time(18, 30)
BATCH_SIZE = 5000  # rows per bulk INSERT

# Debates per region in the historical consultation (one for the regions not listed), per scale.
HISTORICAL_PER_REGION = {
    "52": 3,
    "11": 3,
    "84": 2,
    "32": 2,
    "75": 2,
    "76": 2,
    "93": 2,
    "44": 2,
    "53": 2,
}
# Regions with upcoming debates in the open consultation, and how many each, per scale.
OPEN_PER_REGION = {
    "52": 4,
    "11": 4,
    "84": 3,
    "53": 3,
    "32": 3,
    "76": 3,
    "75": 3,
    "93": 3,
    "44": 3,
    "28": 2,
    "27": 2,
    "04": 2,
}

TOPICS = (
    "Produire des logements abordables : quelles priorités ?",
    "Rénover et décarboner le parc Hlm",
    "Attributions et mixité sociale",
    "Accompagner les locataires face à la hausse des charges",
    "Le logement social dans les territoires ruraux",
    "Financer le logement social demain",
)
FINDINGS = (
    "Relancer la production dans les zones tendues en sécurisant le foncier.",
    "Accompagner la rénovation énergétique par des aides stables sur dix ans.",
    "Rendre les attributions plus lisibles pour les demandeurs.",
    "Renforcer la présence de proximité auprès des locataires âgés.",
    "Maintenir un parc de qualité dans les villes moyennes et les bourgs.",
    "Garantir des ressources pérennes aux organismes pour investir.",
    "Associer les locataires aux projets de renouvellement urbain.",
    "Adapter les logements au vieillissement et au handicap.",
)
CITIES = {
    "01": "Pointe-à-Pitre",
    "02": "Fort-de-France",
    "03": "Cayenne",
    "04": "Saint-Denis",
    "06": "Mamoudzou",
    "11": "Paris",
    "24": "Orléans",
    "27": "Dijon",
    "28": "Caen",
    "32": "Lille",
    "44": "Strasbourg",
    "52": "Nantes",
    "53": "Rennes",
    "75": "Bordeaux",
    "76": "Toulouse",
    "84": "Lyon",
    "93": "Marseille",
    "94": "Ajaccio",
}
FIRST_NAMES = (
    "Camille",
    "Dominique",
    "Claude",
    "Alix",
    "Sacha",
    "Morgane",
    "Yanis",
    "Inès",
    "Louis",
    "Nadia",
    "Hugo",
    "Awa",
    "Léa",
    "Karim",
    "Zoé",
    "Théo",
)
LAST_NAMES = (
    "Martin",
    "Bernard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Garcia",
    "Roux",
    "Fournier",
    "Nguyen",
    "Mercier",
    "Diallo",
)
FORMATS = (DebateFormat.IN_PERSON, DebateFormat.IN_PERSON, DebateFormat.HYBRID, DebateFormat.ONLINE)
CAPACITIES = (30, 40, 60, 80, 120)
START_TIMES = (time(9, 30), time(14, 0), time(18, 0), time(18, 30))


@dataclass
class _Planned:
    """A debate to create, with what goes with it once it has an id."""

    debate: Debate
    registrations: int  # confirmed places taken
    waiting: int
    cancelled: int
    attendee_ids: list[int]


def load_debates(
    organisations: dict[str, Organisation],
    association_names: dict[str, str],
    scale: int,
    count: Callable[[str, int], None],
) -> None:
    """Create the demo debates that are missing, with their registrations and attendees."""
    consultations = {
        consultation.slug: consultation for consultation in db.session.scalars(select(Consultation))
    }
    regions = {code: name for code, name in db.session.execute(select(Region.code, Region.name))}
    existing = {
        (row[0], row[1]) for row in db.session.execute(select(Debate.consultation_id, Debate.title))
    }
    organismes: dict[str, list[int]] = {}
    for organisation in organisations.values():
        if organisation.kind is OrganisationKind.ORGANISME and organisation.region_code:
            organismes.setdefault(organisation.region_code, []).append(organisation.id)
    context = _Context(
        regions=regions,
        associations={code: organisations[name] for code, name in association_names.items()},
        organismes=organismes,
        now=utcnow(),
    )
    planned: list[_Planned] = []
    historical = consultations.get("utiles-ensemble-2")
    if historical is not None:
        planned += _historical(historical, context, scale)
    open_consultation = consultations.get("consultation-ouverte")
    if open_consultation is not None:
        planned += _upcoming(open_consultation, context, scale)
    planned = [p for p in planned if (p.debate.consultation_id, p.debate.title) not in existing]
    if not planned:
        return
    db.session.add_all(p.debate for p in planned)
    db.session.flush()
    count("debates", len(planned))
    count("registrations", _insert_registrations(planned, context.now))
    attendees = [
        {"debate_id": p.debate.id, "organisation_id": organisation_id}
        for p in planned
        for organisation_id in p.attendee_ids
    ]
    for start in range(0, len(attendees), BATCH_SIZE):
        db.session.execute(insert(debate_attendee), attendees[start : start + BATCH_SIZE])


@dataclass
class _Context:
    regions: dict[str, str]
    associations: dict[str, Organisation]
    organismes: dict[str, list[int]]
    now: datetime


def _rng(seed: str) -> random.Random:
    """A reproducible generator: the same demo on every load."""
    return random.Random(seed)  # noqa: S311 (demo data, not secrets)


def _paris(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)


def _title(topic_index: int, region_name: str, batch: int, first: bool) -> str:
    title = (
        f"Débat régional {region_name}"
        if first
        else f"{TOPICS[topic_index % len(TOPICS)]} ({region_name})"
    )
    return f"{title} – {batch + 1}" if batch else title


def _venue(code: str, rng: random.Random) -> str:
    return f"Maison de l'habitat, {rng.randint(1, 120)} rue de la République, {CITIES[code]}"


def _new_debate(
    consultation: Consultation,
    code: str,
    context: _Context,
    *,
    title: str,
    starts_at: datetime,
    debate_format: DebateFormat,
    capacity: int | None,
    rng: random.Random,
) -> Debate:
    region_name = context.regions[code]
    association = context.associations[code]
    return Debate(
        consultation_id=consultation.id,
        region_code=code,
        organiser_id=association.id,
        title=title,
        description=(
            f"Un débat ouvert aux locataires, aux élus et aux organismes Hlm de la région "
            f"{region_name}, organisé par {association.name}.\n\n"
            "Au programme : un état des lieux, des tables rondes, puis la rédaction de "
            "propositions."
        ),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2, minutes=30 if rng.random() < 0.5 else 0),
        format=debate_format,
        venue=_venue(code, rng) if debate_format.needs_venue else "",
        online_url=(
            f"https://visio.example.org/debat-{code}-{rng.randint(1000, 9999)}"
            if debate_format.needs_link
            else ""
        ),
        capacity=capacity,
    )


def _historical(consultation: Consultation, context: _Context, scale: int) -> list[_Planned]:
    """Held debates between 15 November 2021 and 31 January 2022, each with its minutes."""
    period = consultation.period(Phase.CONCERTATION)
    first_day = period.starts_on if period else date(2021, 11, 15)
    last_day = period.ends_on if period else date(2022, 1, 31)
    span = (last_day - first_day).days
    planned = []
    for batch in range(scale):
        for code in sorted(context.regions):
            for index in range(HISTORICAL_PER_REGION.get(code, 1)):
                rng = _rng(f"historical-{batch}-{code}-{index}")
                first = batch == 0 and index == 0
                if first and code == FIRST_DEBATE_REGION:
                    starts_at = _paris(first_day, FIRST_DEBATE_TIME)
                else:  # later than the first debate: from the second day on
                    day = first_day + timedelta(days=rng.randint(1, span))
                    starts_at = _paris(day, rng.choice(START_TIMES))
                debate_format = rng.choice(FORMATS)
                capacity = rng.choice(CAPACITIES)
                debate = _new_debate(
                    consultation,
                    code,
                    context,
                    title=_title(index + batch, context.regions[code], batch, first),
                    starts_at=starts_at,
                    debate_format=debate_format,
                    capacity=capacity,
                    rng=rng,
                )
                registered = rng.randint(capacity // 2, capacity)
                attendance = max(0, registered - rng.randint(0, registered // 5))
                present = [
                    context.associations[code].id,
                    *rng.sample(
                        context.organismes.get(code, []),
                        k=min(2, len(context.organismes.get(code, []))),
                    ),
                ]
                debate.status = DebateStatus.HELD
                debate.published_at = starts_at - timedelta(days=21)
                debate.sequence = 2  # published, then marked as held
                debate.attendance = attendance
                debate.minutes = _minutes(debate, context, attendance, rng)
                planned.append(
                    _Planned(
                        debate,
                        registrations=registered,
                        waiting=0,
                        cancelled=rng.randint(0, 3),
                        attendee_ids=list(dict.fromkeys(present)),
                    )
                )
    return planned


def _minutes(debate: Debate, context: _Context, attendance: int, rng: random.Random) -> str:
    findings = rng.sample(FINDINGS, k=3)
    local = debate.starts_at.astimezone(PARIS)
    return (
        "## Compte rendu\n\n"
        f"Débat tenu le {local:%d/%m/%Y} à {local:%H} h {local:%M}, organisé par "
        f"{context.associations[debate.region_code].name} : {attendance} participants, "
        "locataires, administrateurs et salariés d'organismes Hlm.\n\n"
        "### Ce qui ressort des échanges\n\n"
        + "".join(f"- {finding}\n" for finding in findings)
        + "\n### Suites\n\n"
        "Les propositions issues du débat ont été rédigées par les participants et déposées "
        "sur la plateforme par l'association régionale.\n"
    )


def _upcoming(consultation: Consultation, context: _Context, scale: int) -> list[_Planned]:
    """Published debates to come, some full with a waiting list, one cancelled, one draft."""
    period = consultation.period(Phase.CONCERTATION)
    if period is None:
        return []
    today = context.now.astimezone(PARIS).date()
    first_day = max(period.starts_on, today + timedelta(days=2))
    span = (period.ends_on - first_day).days
    if span < 1:
        return []
    planned = []
    for batch in range(scale):
        for code, per_region in OPEN_PER_REGION.items():
            for index in range(per_region):
                rng = _rng(f"open-{batch}-{code}-{index}")
                day = first_day + timedelta(days=rng.randint(0, span))
                debate_format = rng.choice(FORMATS)
                capacity = None if debate_format is DebateFormat.ONLINE else rng.choice(CAPACITIES)
                debate = _new_debate(
                    consultation,
                    code,
                    context,
                    title=_title(index + 2 * batch, context.regions[code], batch, index == 0),
                    starts_at=_paris(day, rng.choice(START_TIMES)),
                    debate_format=debate_format,
                    capacity=capacity,
                    rng=rng,
                )
                debate.status = DebateStatus.PUBLISHED
                debate.published_at = context.now - timedelta(days=rng.randint(1, 10))
                debate.sequence = 1
                full = capacity is not None and index % 3 == 0
                if capacity is None:
                    registered = rng.randint(20, 90)
                elif full:
                    registered = capacity
                else:
                    registered = rng.randint(capacity // 5, capacity * 9 // 10)
                planned.append(
                    _Planned(
                        debate,
                        registrations=registered,
                        waiting=rng.randint(3, 8) if full else 0,
                        cancelled=rng.randint(0, 2),
                        attendee_ids=[],
                    )
                )
    planned += _cancelled_and_draft(consultation, context, first_day, period.ends_on)
    return planned


def _cancelled_and_draft(
    consultation: Consultation, context: _Context, first_day: date, last_day: date
) -> list[_Planned]:
    rng = _rng("open-extra")
    cancelled = _new_debate(
        consultation,
        "11",
        context,
        title="Débat annulé : le logement étudiant (Île-de-France)",
        starts_at=_paris(min(first_day + timedelta(days=5), last_day), time(18, 0)),
        debate_format=DebateFormat.IN_PERSON,
        capacity=50,
        rng=rng,
    )
    cancelled.status = DebateStatus.CANCELLED
    cancelled.published_at = context.now - timedelta(days=12)
    cancelled.cancelled_at = context.now - timedelta(days=2)
    cancelled.cancellation_reason = "La salle n'est plus disponible ; le débat sera reprogrammé."
    cancelled.sequence = 2
    draft = _new_debate(
        consultation,
        "52",
        context,
        title="Brouillon : débat sur l'habitat inclusif (Pays de la Loire)",
        starts_at=_paris(min(first_day + timedelta(days=20), last_day), time(14, 0)),
        debate_format=DebateFormat.HYBRID,
        capacity=40,
        rng=rng,
    )
    return [
        _Planned(cancelled, registrations=0, waiting=0, cancelled=12, attendee_ids=[]),
        _Planned(draft, registrations=0, waiting=0, cancelled=0, attendee_ids=[]),
    ]


def _insert_registrations(planned: list[_Planned], now: datetime) -> int:
    """Bulk-insert the registrations of the new debates; returns how many."""
    rows: list[dict[str, object]] = []
    total = 0
    for item in planned:
        debate = item.debate
        rng = _rng(f"registrations-{debate.title}")
        opened = debate.published_at or now
        closes = min(debate.starts_at, now)
        window = max(1.0, (closes - opened).total_seconds())
        # Confirmed and cancelled registrations come first (a cancelled place went to the next
        # person), the waiting list last: the order of `created_at` is the waiting list's order.
        settled = [RegistrationStatus.CONFIRMED] * item.registrations + [
            RegistrationStatus.CANCELLED
        ] * item.cancelled
        rng.shuffle(settled)
        statuses = settled + [RegistrationStatus.WAITING] * item.waiting
        offsets = sorted(rng.uniform(0, window) for _ in statuses)
        for number, (status, offset) in enumerate(zip(statuses, offsets, strict=True)):
            created_at = opened + timedelta(seconds=offset)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            rows.append(
                {
                    "debate_id": debate.id,
                    "name": f"{first} {last}",
                    "email": f"{first}.{last}.{number}@example.org".lower()
                    .replace("é", "e")
                    .replace("è", "e")
                    .replace("ï", "i"),
                    "organisation_name": "" if number % 3 else "Association de locataires",
                    "status": status,
                    "cancel_token_hash": hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                    "created_at": created_at,
                    "cancelled_at": (
                        min(now, created_at + timedelta(days=1))
                        if status is RegistrationStatus.CANCELLED
                        else None
                    ),
                }
            )
        if len(rows) >= BATCH_SIZE:
            db.session.execute(insert(Registration), rows)
            total += len(rows)
            rows = []
    if rows:
        db.session.execute(insert(Registration), rows)
        total += len(rows)
    return total
