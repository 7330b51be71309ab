"""Builders of debates and registrations for the debate tests."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from consultation.accounts.models import Organisation, OrganisationKind
from consultation.consultations.models import Consultation
from consultation.core.models import utcnow
from consultation.debates import services
from consultation.debates.models import Debate, DebateFormat, DebateStatus, Registration
from consultation.extensions import db
from tests import factories

_sequence = itertools.count(1)


def association(region_code: str = "52") -> Organisation:
    """The regional association of a region (created on first use)."""
    found = (
        db.session.query(Organisation)
        .filter_by(region_code=region_code, kind=OrganisationKind.ASSOCIATION_REGIONALE)
        .first()
    )
    return found or factories.make_organisation(
        kind=OrganisationKind.ASSOCIATION_REGIONALE, region_code=region_code
    )


def make_debate(
    consultation: Consultation,
    region_code: str = "52",
    status: DebateStatus | str = DebateStatus.PUBLISHED,
    starts_at: datetime | None = None,
    hours: int = 2,
    **fields: object,
) -> Debate:
    """A debate in a region, published by default, a few days from now."""
    number = next(_sequence)
    start = starts_at or utcnow().replace(microsecond=0) + timedelta(days=5, hours=number)
    status = DebateStatus(status)
    debate = Debate(
        consultation=consultation,
        region_code=region_code,
        organiser=association(region_code),
        title=str(fields.pop("title", f"Débat {number}")),
        description=str(fields.pop("description", "Un débat **régional**.")),
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        format=DebateFormat(fields.pop("format", DebateFormat.IN_PERSON)),
        venue=str(fields.pop("venue", "1 rue de la Paix, Nantes")),
        online_url=str(fields.pop("online_url", "")),
        status=status,
        sequence=0,
        published_at=utcnow() if status is not DebateStatus.DRAFT else None,
        cancelled_at=utcnow() if status is DebateStatus.CANCELLED else None,
        **fields,
    )
    db.session.add(debate)
    db.session.flush()
    return debate


def registration(debate: Debate, email: str | None = None, **kw: str) -> Registration:
    """Register someone through the service (so mails and tokens are real)."""
    number = next(_sequence)
    return services.register(
        debate,
        kw.get("name", f"Personne {number}"),
        email or f"personne{number}@example.org",
        kw.get("organisation_name", ""),
        utcnow(),
    )


def debate_input(**fields: object) -> services.DebateInput:
    """A valid input for the debate form, a week from now, in person."""
    start = fields.pop("starts_at", utcnow().replace(microsecond=0) + timedelta(days=7))
    assert isinstance(start, datetime)
    values: dict[str, object] = {
        "title": "Habiter demain en Pays de la Loire",
        "description": "Un débat ouvert à tous.",
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "format": DebateFormat.IN_PERSON,
        "venue": "Salle des fêtes, Nantes",
    }
    values.update(fields)
    return services.DebateInput(**values)  # type: ignore[arg-type]
