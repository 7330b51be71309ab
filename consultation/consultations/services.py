"""Consultation use cases: create, edit, move through phases, and what the home page shows."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from consultation.accounts.models import Organisation, OrganisationKind, Region, User
from consultation.consultations.models import (
    PHASE_LABELS,
    SCHEDULED_PHASES,
    Consultation,
    Phase,
    PhasePeriod,
    Theme,
)
from consultation.core import audit
from consultation.core.errors import Conflict, DomainError, InvalidTransition, NotFound
from consultation.core.models import utcnow
from consultation.extensions import db

# Checks that must pass before a consultation may enter a phase. Later domains add theirs
# (for example, the jury phase needs a frozen version of the bill).
PhaseGuard = Callable[[Consultation], str | None]

THEME_NAME_MAX = 200
PHASE_GUARDS: dict[Phase, list[PhaseGuard]] = {phase: [] for phase in Phase}


def phase_guard(phase: Phase) -> Callable[[PhaseGuard], PhaseGuard]:
    """Register a check run before entering `phase`; it returns a reason to refuse, or None."""

    def decorator(guard: PhaseGuard) -> PhaseGuard:
        PHASE_GUARDS[phase].append(guard)
        return guard

    return decorator


@phase_guard(Phase.CONCERTATION)
def _concertation_needs_dates(consultation: Consultation) -> str | None:
    if consultation.period(Phase.CONCERTATION) is None:
        return str(_l("Give the planned dates of the concertation first."))
    return None


@dataclass(frozen=True)
class PeriodInput:
    phase: Phase
    starts_on: date | None
    ends_on: date | None


@dataclass(frozen=True)
class ConsultationInput:
    slug: str
    title: str
    summary: str
    proposal_deadline: datetime | None
    periods: list[PeriodInput]


def visible_consultations(user: User | None) -> list[Consultation]:
    """Consultations the user may see, newest first: staff also see those in preparation."""
    query = select(Consultation).order_by(Consultation.created_at.desc(), Consultation.id.desc())
    if not (user is not None and user.is_authenticated and user.is_admin):
        query = query.where(Consultation.phase != Phase.PREPARATION)
    return list(db.session.scalars(query))


def find_current_consultation() -> Consultation | None:
    """The consultation `/` leads to: the latest one with an active phase."""
    active = (Phase.CONCERTATION, Phase.SYNTHESE, Phase.JURY, Phase.REMISE)
    starts = (
        select(func.min(PhasePeriod.starts_on))
        .where(PhasePeriod.consultation_id == Consultation.id)
        .scalar_subquery()
    )
    query = (
        select(Consultation)
        .where(Consultation.phase.in_(active))
        .order_by(Consultation.phase == Phase.REMISE, starts.desc(), Consultation.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def get_consultation(slug: str, user: User | None) -> Consultation | None:
    """The consultation with this slug if the user may see it."""
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        return None
    if not consultation.is_public and not (
        user is not None and user.is_authenticated and user.is_admin
    ):
        return None
    return consultation


def _check_periods(periods: list[PeriodInput]) -> list[PeriodInput]:
    """Each phase ends after it starts, and starts once the previous one has ended."""
    filled = []
    for period in periods:
        if (period.starts_on is None) != (period.ends_on is None):
            raise DomainError(
                _l(
                    "Give both dates of the phase “%(phase)s”, or neither.",
                    phase=PHASE_LABELS[period.phase],
                )
            )
        if period.starts_on is None:
            continue
        assert period.ends_on is not None
        if period.ends_on < period.starts_on:
            raise DomainError(
                _l("The phase “%(phase)s” ends before it starts.", phase=PHASE_LABELS[period.phase])
            )
        filled.append(period)
    for previous, following in pairwise(filled):
        assert previous.ends_on is not None and following.starts_on is not None
        if following.starts_on < previous.ends_on:
            raise DomainError(
                _l(
                    "The phase “%(phase)s” starts before the previous phase ends.",
                    phase=PHASE_LABELS[following.phase],
                )
            )
    return filled


def _apply(consultation: Consultation, data: ConsultationInput) -> None:
    periods = _check_periods(data.periods)
    concertation = next((p for p in periods if p.phase is Phase.CONCERTATION), None)
    if data.proposal_deadline is not None and concertation is not None:
        assert concertation.starts_on is not None
        if data.proposal_deadline.date() < concertation.starts_on:
            raise DomainError(_l("The proposal deadline falls before the concertation starts."))
    clash = db.session.scalar(
        select(Consultation.id).where(
            Consultation.slug == data.slug, Consultation.id != (consultation.id or 0)
        )
    )
    if clash is not None:
        raise Conflict(_l("The address “%(slug)s” is already used.", slug=data.slug))
    consultation.slug = data.slug
    consultation.title = data.title.strip()
    consultation.summary = data.summary.strip()
    consultation.proposal_deadline = data.proposal_deadline
    existing = {period.phase: period for period in consultation.periods}
    wanted = {period.phase for period in periods}
    for phase, period in existing.items():
        if phase not in wanted:
            consultation.periods.remove(period)
    for period in periods:
        row = existing.get(period.phase)
        if row is None:
            row = PhasePeriod(phase=period.phase)
            consultation.periods.append(row)
        row.starts_on = period.starts_on  # type: ignore[assignment]
        row.ends_on = period.ends_on  # type: ignore[assignment]


def create_consultation(data: ConsultationInput, actor: User | None) -> Consultation:
    """Create a consultation in preparation."""
    consultation = Consultation(phase=Phase.PREPARATION)
    _apply(consultation, data)
    db.session.add(consultation)
    db.session.flush()
    audit.record("consultation.created", consultation, actor=actor, slug=consultation.slug)
    return consultation


def update_consultation(
    consultation: Consultation, data: ConsultationInput, actor: User | None
) -> None:
    """Edit a consultation's texts and dates; an archived one is read-only."""
    if consultation.is_read_only:
        raise InvalidTransition(_l("An archived consultation is read-only."))
    _apply(consultation, data)
    db.session.flush()
    audit.record("consultation.updated", consultation, actor=actor)


def advance_phase(consultation: Consultation, target: Phase, actor: User | None) -> None:
    """Move the consultation to the next phase, after its guards pass; recorded in the audit log."""
    previous = consultation.phase
    if target is previous.next:
        reasons = [reason for guard in PHASE_GUARDS[target] if (reason := guard(consultation))]
        if reasons:
            raise InvalidTransition(" ".join(reasons))
    consultation.move_to(target, utcnow())
    db.session.flush()
    audit.record(
        "consultation.phase_changed",
        consultation,
        actor=actor,
        previous=previous.value,
        phase=target.value,
    )


@dataclass(frozen=True)
class TimelineStep:
    phase: Phase
    label: str
    period: PhasePeriod | None
    state: str  # "done", "current" or "upcoming"


def timeline(consultation: Consultation) -> list[TimelineStep]:
    """The phases in order, each with its planned dates and whether it is past or to come."""
    steps = []
    for phase in SCHEDULED_PHASES:
        if phase.index < consultation.phase.index:
            state = "done"
        elif phase is consultation.phase:
            state = "current"
        else:
            state = "upcoming"
        steps.append(
            TimelineStep(phase, str(PHASE_LABELS[phase]), consultation.period(phase), state)
        )
    return steps


@dataclass(frozen=True)
class Figure:
    label: str
    value: int


FigureSource = Callable[[Consultation], list[Figure]]
FIGURE_SOURCES: list[FigureSource] = []


def figure_source(source: FigureSource) -> FigureSource:
    """Register a function adding key figures to a consultation's home page."""
    FIGURE_SOURCES.append(source)
    return source


@figure_source
def _organisation_figures(consultation: Consultation) -> list[Figure]:
    counts = dict(
        db.session.execute(
            select(Organisation.kind, func.count(Organisation.id)).group_by(Organisation.kind)
        ).all()
    )
    regions = db.session.scalar(select(func.count(Region.code))) or 0
    return [
        Figure(str(_l("regions")), regions),
        Figure(str(_l("Hlm organisations")), counts.get(OrganisationKind.ORGANISME, 0)),
        Figure(
            str(_l("regional associations")),
            counts.get(OrganisationKind.ASSOCIATION_REGIONALE, 0),
        ),
    ]


def key_figures(consultation: Consultation) -> list[Figure]:
    """The figures shown on a consultation's home page."""
    return [figure for source in FIGURE_SOURCES for figure in source(consultation)]


# --- Themes --------------------------------------------------------------------------------


def _slugify(name: str) -> str:
    """ "Rénover le parc" → "renover-le-parc": the stable address of a theme in filters."""
    decomposed = unicodedata.normalize("NFKD", name.replace("œ", "oe").replace("Œ", "oe"))
    ascii_name = "".join(char for char in decomposed if not unicodedata.combining(char)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:80].rstrip("-")


def _check_theme_name(consultation: Consultation, name: str, theme_id: int | None = None) -> str:
    name = " ".join(name.split())
    if not name:
        raise DomainError(_l("Give the theme a name."), field="name")
    if len(name) > THEME_NAME_MAX:
        raise DomainError(_l("At most %(limit)d characters.", limit=THEME_NAME_MAX), field="name")
    clash = db.session.scalar(
        select(Theme.id).where(
            Theme.consultation_id == consultation.id,
            func.lower(Theme.name) == name.lower(),
            Theme.id != (theme_id or 0),
        )
    )
    if clash is not None:
        raise Conflict(_l("The consultation already has a theme of this name."), field="name")
    return name


def _check_themes_editable(consultation: Consultation) -> None:
    if consultation.is_read_only:
        raise InvalidTransition(_l("An archived consultation is read-only."))


def add_theme(consultation: Consultation, name: str, actor: User | None) -> Theme:
    """Add a theme at the end of the consultation's list; its address comes from its name."""
    _check_themes_editable(consultation)
    name = _check_theme_name(consultation, name)
    taken = set(
        db.session.scalars(select(Theme.slug).where(Theme.consultation_id == consultation.id))
    )
    base = _slugify(name) or "theme"
    slug = base
    number = 2
    while slug in taken:
        slug = f"{base[:75]}-{number}"
        number += 1
    last = db.session.scalar(
        select(func.max(Theme.position)).where(Theme.consultation_id == consultation.id)
    )
    theme = Theme(
        consultation_id=consultation.id,
        slug=slug,
        name=name,
        position=(last + 1) if last is not None else 0,
    )
    db.session.add(theme)
    db.session.flush()
    audit.record("theme.created", theme, actor=actor, name=name)
    return theme


def rename_theme(theme: Theme, name: str, actor: User | None) -> None:
    """Rename a theme; its address stays, so that links and filters keep working."""
    _check_themes_editable(theme.consultation)
    previous = theme.name
    theme.name = _check_theme_name(theme.consultation, name, theme.id)
    db.session.flush()
    audit.record("theme.renamed", theme, actor=actor, previous=previous, name=theme.name)


def move_theme(theme: Theme, offset: int, actor: User | None) -> None:
    """Move a theme up (-1) or down (+1) in the list; at either end nothing changes."""
    _check_themes_editable(theme.consultation)
    themes = list(
        db.session.scalars(
            select(Theme)
            .where(Theme.consultation_id == theme.consultation_id)
            .order_by(Theme.position, Theme.id)
        )
    )
    index = themes.index(theme)
    target = index + offset
    if not 0 <= target < len(themes):
        return
    themes[index], themes[target] = themes[target], themes[index]
    for position, each in enumerate(themes):
        each.position = position
    db.session.flush()
    audit.record("theme.moved", theme, actor=actor, position=target)


def delete_theme(theme: Theme, actor: User | None) -> None:
    """Delete a theme nothing is filed under yet; one in use must be renamed instead."""
    _check_themes_editable(theme.consultation)
    try:
        with db.session.begin_nested():
            db.session.delete(theme)
    except IntegrityError:
        raise Conflict(
            _l("Proposals are filed under this theme: rename it rather than delete it.")
        ) from None
    audit.record("theme.deleted", theme, actor=actor, name=theme.name)


def find_theme(consultation: Consultation, theme_id: int) -> Theme:
    """One of the consultation's themes, or 404."""
    theme = db.session.get(Theme, theme_id)
    if theme is None or theme.consultation_id != consultation.id:
        raise NotFound(_l("This theme does not exist."))
    return theme
