"""Factory functions: build valid objects with sensible defaults, overridable per test."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from functools import cache

from flask import Flask
from flask.testing import FlaskClient

from consultation.accounts import services as account_services
from consultation.accounts.models import Organisation, OrganisationKind, Role, User
from consultation.consultations.models import Consultation, Phase, PhasePeriod
from consultation.extensions import db

PASSWORD = "correct horse battery staple"
_sequence = itertools.count(1)


@cache
def password_hash() -> str:
    """Hashing with argon2 is slow on purpose: hash the test password once."""
    return account_services.hash_password(PASSWORD)


def make_organisation(
    kind: str | OrganisationKind = OrganisationKind.ORGANISME,
    region_code: str | None = "52",
    **fields: object,
) -> Organisation:
    number = next(_sequence)
    organisation = Organisation(
        name=str(fields.pop("name", f"Organisation {number}")),
        kind=OrganisationKind(kind),
        region_code=region_code,
        **fields,
    )
    db.session.add(organisation)
    db.session.flush()
    return organisation


def make_user(
    role: str | Role = Role.CONTRIBUTOR,
    organisation: Organisation | None = None,
    **fields: object,
) -> User:
    role = Role(role)
    if organisation is None and role.needs_organisation:
        kind = (
            OrganisationKind.ASSOCIATION_REGIONALE
            if role is Role.REGIONAL_EDITOR
            else OrganisationKind.ORGANISME
        )
        organisation = make_organisation(kind=kind, region_code=fields.pop("region_code", "52"))
    number = next(_sequence)
    user = User(
        email=str(fields.pop("email", f"user{number}@example.org")),
        display_name=str(fields.pop("display_name", f"User {number}")),
        role=role,
        organisation=organisation,
        password_hash=fields.pop("password_hash", password_hash()),
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    return user


def make_consultation(
    phase: str | Phase = Phase.CONCERTATION,
    starts_on: date | None = None,
    **fields: object,
) -> Consultation:
    number = next(_sequence)
    start = starts_on or date.today() - timedelta(days=10)  # noqa: DTZ011
    consultation = Consultation(
        slug=str(fields.pop("slug", f"consultation-{number}")),
        title=str(fields.pop("title", f"Consultation {number}")),
        summary=str(fields.pop("summary", "Une consultation de test.")),
        phase=Phase(phase),
        periods=[
            PhasePeriod(
                phase=Phase.CONCERTATION, starts_on=start, ends_on=start + timedelta(days=60)
            ),
            PhasePeriod(
                phase=Phase.SYNTHESE,
                starts_on=start + timedelta(days=61),
                ends_on=start + timedelta(days=80),
            ),
            PhasePeriod(
                phase=Phase.JURY,
                starts_on=start + timedelta(days=81),
                ends_on=start + timedelta(days=90),
            ),
            PhasePeriod(
                phase=Phase.REMISE,
                starts_on=start + timedelta(days=91),
                ends_on=start + timedelta(days=100),
            ),
        ],
        **fields,
    )
    db.session.add(consultation)
    db.session.flush()
    return consultation


def signed_in_client(app: Flask, user: User) -> FlaskClient:
    """A client with a real sign-in session for `user` (without paying for argon2)."""
    token = account_services.start_session(user, "127.0.0.1", "pytest")
    db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    client.user = user  # type: ignore[attr-defined]
    return client
