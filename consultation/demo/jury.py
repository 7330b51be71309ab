"""The demo's citizen jury: a pool of fictional volunteers with quotas by zone, gender, age
band and housing situation; for the historical consultation, the draw of 30 jurors in February
2022, two who declined and their replacements, and the closed round on the text put to the vote;
the open consultation's quotas, and a few applications already received.

Everything is replayed through the services (draws, ballots), so that the demo's draw replays
and its ballot log verifies like real ones.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time

from sqlalchemy import select

from consultation.accounts.models import Role, User
from consultation.bill.models import BillVersion
from consultation.bill.services import find_bill
from consultation.consultations.models import Consultation, Phase
from consultation.core.i18n import PARIS
from consultation.extensions import db
from consultation.jury import ballots
from consultation.jury import draw as draws
from consultation.jury.models import (
    WHOLE_TEXT,
    Category,
    Choice,
    DrawKind,
    JurorStatus,
    MemberFeature,
    MemberSource,
    PoolContact,
    PoolMember,
    Quota,
)

JURY_SIZE = 30
POOL_SIZE = 300  # whatever --scale: a larger pool would only slow the draw down
OPEN_APPLICATIONS = 24
DECLINED = 2
DEMO_JUROR_EMAIL = "jure@example.org"

# Six zones rather than the eighteen regions: as many quotas as a jury of 30 can bear.
# category -> (label, [(feature, label, min, max, weight in the pool)])
CATEGORIES: dict[str, tuple[str, list[tuple[str, str, int, int, int]]]] = {
    "zone": (
        "Zone",
        [
            ("idf", "Île-de-France", 4, 7, 18),
            (
                "nord-est",
                "Nord et Est (Hauts-de-France, Grand Est, Bourgogne-Franche-Comté)",
                4,
                7,
                22,
            ),
            (
                "ouest",
                "Ouest (Bretagne, Normandie, Pays de la Loire, Centre-Val de Loire)",
                4,
                7,
                20,
            ),
            ("sud-ouest", "Sud-Ouest (Nouvelle-Aquitaine, Occitanie)", 4, 7, 18),
            (
                "sud-est",
                "Sud-Est (Auvergne-Rhône-Alpes, Provence-Alpes-Côte d'Azur, Corse)",
                5,
                8,
                19,
            ),
            ("outre-mer", "Outre-mer", 1, 2, 3),
        ],
    ),
    "genre": ("Genre", [("femme", "Femme", 14, 16, 52), ("homme", "Homme", 14, 16, 48)]),
    "age": (
        "Tranche d'âge",
        [
            ("18-39", "18 à 39 ans", 8, 12, 34),
            ("40-59", "40 à 59 ans", 8, 12, 33),
            ("60+", "60 ans et plus", 7, 11, 33),
        ],
    ),
    "logement": (
        "Situation de logement",
        [
            ("hlm", "Locataire Hlm", 10, 14, 36),
            ("prive", "Locataire du parc privé", 7, 11, 28),
            ("autre", "Propriétaire, hébergé ou autre situation", 7, 11, 36),
        ],
    ),
}
FIRST_NAMES = (
    "Camille", "Dominique", "Claude", "Alix", "Sacha", "Maxime", "Morgane", "Yannick", "Lou",
    "Noa", "Charlie", "Andréa", "Gaël", "Eden", "Stéphane", "Frédérique", "Ange", "Élie",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
)  # fmt: skip


def _paris(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def _add_quotas(consultation: Consultation) -> dict[tuple[str, str], Quota]:
    """The categories of the demo's draws, and their quotas for a jury of 30."""
    quotas = {}
    for position, (name, (label, features)) in enumerate(CATEGORIES.items()):
        category = Category(
            consultation_id=consultation.id, name=name, label=label, position=position
        )
        for index, (feature, feature_label, low, high, _weight) in enumerate(features):
            quota = Quota(
                feature=feature,
                label=feature_label,
                min_count=low,
                max_count=high,
                position=index,
            )
            category.quotas.append(quota)
            quotas[name, feature] = quota
        db.session.add(category)
    db.session.flush()
    return quotas


def _add_volunteers(
    consultation: Consultation,
    quotas: dict[tuple[str, str], Quota],
    count: int,
    rng: random.Random,
    applied_on: datetime,
) -> list[PoolMember]:
    """Fictional volunteers: features drawn with the weights above, made-up names."""
    members = []
    for number in range(1, count + 1):
        held = {}
        for name, (_label, features) in CATEGORIES.items():
            held[name] = rng.choices([f[0] for f in features], [f[4] for f in features])[0]
        member = PoolMember(
            consultation_id=consultation.id,
            reference=f"V{number:04d}",
            source=MemberSource.APPLICATION,
            created_at=applied_on,
        )
        member.features = [
            MemberFeature(
                category_id=quotas[name, value].category.id, quota_id=quotas[name, value].id
            )
            for name, value in held.items()
        ]
        member.contact = PoolContact(
            consultation_id=consultation.id,
            full_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} (fictif)",
            email=f"volontaire-{consultation.id}-{number:04d}@example.org",
            consented_at=applied_on,
        )
        members.append(member)
    db.session.add_all(members)
    db.session.flush()
    return members


def _seat_jurors(consultation: Consultation, when: datetime, declining: int) -> None:
    """The invited jurors answer: the first `declining` decline, the others get an account."""
    pending = [
        juror for juror in draws.kept_jurors(consultation) if juror.status is JurorStatus.INVITED
    ]
    demo_juror = db.session.scalar(select(User).where(User.email == DEMO_JUROR_EMAIL))
    for index, juror in enumerate(sorted(pending, key=lambda j: j.member.reference)):
        juror.invited_at = when
        juror.responded_at = when
        if index < declining:
            juror.status = JurorStatus.DECLINED
            continue
        user = None
        if demo_juror is not None and not ballots.is_juror(demo_juror, consultation):
            user = demo_juror  # the demo's named juror sits on the historical jury
        if user is None or user.id in {j.user_id for j in pending}:
            contact = juror.member.contact
            # No password: these jurors only exist to have voted; they cannot sign in.
            user = User(
                email=contact.email,
                display_name=contact.full_name,
                role=Role.JUROR,
                password_hash=None,
            )
            db.session.add(user)
            db.session.flush()
        juror.user_id = user.id
        juror.status = JurorStatus.ACCEPTED
        db.session.flush()


def _draw(consultation: Consultation, kind: DrawKind, committed: datetime, drawn: datetime) -> None:
    draw = draws.commit_draw(consultation, JURY_SIZE, None, committed, kind)
    draws.run_draw(draw, drawn)
    db.session.flush()


def _vote(consultation: Consultation, version: BillVersion, rng: random.Random) -> int:
    """The round of 10–17 February 2022: most articles adopted, one rejected; returns the casts."""
    opens, closes = _paris(date(2022, 2, 10), 9), _paris(date(2022, 2, 17), 18)
    voting_round = ballots.open_round(
        consultation, version, opens, closes, 50, 50, None, _paris(date(2022, 2, 9), 19)
    )
    ballots.start_round(voting_round, None, opens)
    items = [item for item, _label in ballots.round_items(voting_round)]
    support = {item: rng.choice((0.86, 0.8, 0.74, 0.62)) for item in items}
    articles = [item for item in items if item != WHOLE_TEXT]
    if len(articles) > 2:
        support[articles[len(articles) // 2]] = 0.3  # the jury rejects one article
    support[WHOLE_TEXT] = 0.84
    jurors = [j for j in draws.kept_jurors(consultation) if j.status is JurorStatus.ACCEPTED]
    users = db.session.scalars(select(User).where(User.id.in_([j.user_id for j in jurors]))).all()
    casts = 0
    for day, user in enumerate(sorted(users, key=lambda u: u.id)):
        moment = _paris(date(2022, 2, 10 + day % 7), 10 + day % 8)
        for item in items:
            if rng.random() < 0.04:
                continue  # a juror who did not vote on this item
            roll = rng.random()
            choice = (
                Choice.ABSTENTION
                if roll < 0.08
                else Choice.POUR
                if roll < 0.08 + 0.92 * support[item]
                else Choice.CONTRE
            )
            ballots.cast_ballot(voting_round, user, item, choice, moment)
            casts += 1
    ballots.close_round(voting_round, None, closes)
    return casts


def load_jury(count: Callable[[str, int], None]) -> None:
    """Create the demo's jury where it is missing."""
    from consultation.demo.services import HISTORICAL_SLUG, OPEN_SLUG

    consultations = {
        c.slug: c
        for c in db.session.scalars(
            select(Consultation).where(Consultation.slug.in_((HISTORICAL_SLUG, OPEN_SLUG)))
        )
    }
    rng = random.Random(2022)  # noqa: S311 (the same demo on every machine; no secret here)
    historical = consultations.get(HISTORICAL_SLUG)
    if historical is not None and not _has_quotas(historical):
        _historical_jury(historical, rng, count)
    opened = consultations.get(OPEN_SLUG)
    if opened is not None and not _has_quotas(opened):
        quotas = _add_quotas(opened)
        applied = datetime.now(PARIS).replace(microsecond=0)
        count(
            "jury pool members",
            len(_add_volunteers(opened, quotas, OPEN_APPLICATIONS, rng, applied)),
        )


def _has_quotas(consultation: Consultation) -> bool:
    return (
        db.session.scalar(select(Category.id).filter_by(consultation_id=consultation.id).limit(1))
        is not None
    )


def _historical_jury(
    consultation: Consultation, rng: random.Random, count: Callable[[str, int], None]
) -> None:
    bill = find_bill(consultation)
    version = (
        db.session.scalar(
            select(BillVersion)
            .where(BillVersion.bill_id == bill.id)
            .order_by(BillVersion.number.desc())
            .limit(1)
        )
        if bill is not None
        else None
    )
    quotas = _add_quotas(consultation)
    volunteers = _add_volunteers(
        consultation, quotas, POOL_SIZE, rng, _paris(date(2021, 12, 15), 12)
    )
    count("jury pool members", len(volunteers))
    _draw(
        consultation, DrawKind.INITIAL, _paris(date(2022, 2, 1), 10), _paris(date(2022, 2, 2), 10)
    )
    _seat_jurors(consultation, _paris(date(2022, 2, 4), 12), DECLINED)
    _draw(
        consultation,
        DrawKind.REPLACEMENT,
        _paris(date(2022, 2, 4), 14),
        _paris(date(2022, 2, 5), 10),
    )
    _seat_jurors(consultation, _paris(date(2022, 2, 7), 12), 0)
    count("jury draws", 2)
    count("jurors", draws.seated_juror_count(consultation))
    if version is None:
        return
    # The round is replayed as it happened, in the jury phase; then back to the remise.
    phase = consultation.phase
    consultation.phase = Phase.JURY
    count("ballots cast", _vote(consultation, version, rng))
    consultation.phase = phase
    count("voting rounds", 1)
