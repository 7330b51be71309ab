"""Load the demo data. Loading is idempotent: rows are found by natural key or created once."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources

from sqlalchemy import select

from consultation.accounts.models import Organisation, OrganisationKind, Region, Role, User
from consultation.accounts.services import hash_password
from consultation.consultations.models import Consultation, Phase, PhasePeriod, Theme
from consultation.core.database import refresh_statistics
from consultation.core.i18n import PARIS
from consultation.demo.bill import load_bill
from consultation.demo.debates import load_debates
from consultation.demo.exports import load_exports
from consultation.demo.jury import load_jury
from consultation.demo.proposals import load_proposals
from consultation.extensions import db

HISTORICAL_SLUG = "utiles-ensemble-2"
OPEN_SLUG = "consultation-ouverte"
ORGANISMES_PER_REGION = 2
DEMO_PASSWORD = "utiles-ensemble"  # noqa: S105 (documented in the README, demo only)

FEDERATIONS = (
    "Fédération nationale des Offices publics de l'habitat",
    "Fédération des entreprises sociales pour l'habitat",
    "Fédération nationale des sociétés coopératives d'Hlm (Coop'Hlm)",
    "PROCIVIS",
    "Fédération nationale des associations régionales d'organismes d'habitat social (FNAR)",
)
# The names of the USH working commissions are not public: these are fictional.
COMMISSIONS = (
    "Commission Politiques sociales (fictive)",
    "Commission Patrimoine et transition écologique (fictive)",
    "Commission Territoires et renouvellement urbain (fictive)",
)
CONSEIL_SOCIAL = "Conseil social de l'USH"
USH = "Union sociale pour l'habitat"
ORGANISME_PREFIXES = ("Habitat", "Logis", "Office public de l'habitat", "Foyer", "Coop")

THEMES = (
    ("produire", "Produire des logements abordables"),
    ("renover", "Rénover et décarboner le parc"),
    ("attributions", "Attributions, mixité et droit au logement"),
    ("locataires", "Accompagner les locataires"),
    ("territoires", "Territoires et renouvellement urbain"),
    ("financement", "Financer le logement social"),
)

HISTORICAL_SUMMARY = """\
Concertation du Mouvement Hlm « Pour une politique du logement ambitieuse, juste et écologique ».

De novembre 2021 à janvier 2022, des débats régionaux organisés avec la FNAR et les associations
régionales Hlm, les propositions des organismes, des commissions de l'USH et de son Conseil social
ont été rassemblées en une proposition de loi, soumise à un jury citoyen puis adressée aux
candidats à l'élection présidentielle en février 2022.
"""

OPEN_SUMMARY = """\
Une consultation ouverte pour essayer la plateforme : ses dates sont fictives et suivent la date
du jour. Débattez, proposez, suivez la synthèse.
"""


@dataclass
class DemoSummary:
    created: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, number: int = 1) -> None:
        self.created[kind] = self.created.get(kind, 0) + number


def demo_accounts() -> list[tuple[str, str, Role, str | None]]:
    """(email, display name, role, organisation name) of the demo's named accounts."""
    associations = _association_names()
    return [
        ("admin@example.org", "Équipe USH", Role.ADMIN, USH),
        ("pdl@example.org", "Éditrice Pays de la Loire", Role.REGIONAL_EDITOR, associations["52"]),
        ("idf@example.org", "Éditeur Île-de-France", Role.REGIONAL_EDITOR, associations["11"]),
        (
            "organisme@example.org",
            "Contributrice organisme",
            Role.CONTRIBUTOR,
            _organisme_name(0, "Pays de la Loire", 0),
        ),
        ("commission@example.org", "Contributeur commission", Role.CONTRIBUTOR, COMMISSIONS[0]),
        (
            "conseil-social@example.org",
            "Contributrice Conseil social",
            Role.CONTRIBUTOR,
            CONSEIL_SOCIAL,
        ),
        ("jure@example.org", "Juré citoyen", Role.JUROR, None),
    ]


def _region_rows() -> list[dict[str, str]]:
    source = resources.files("consultation.demo").joinpath("data/regions.csv")
    with source.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _association_names() -> dict[str, str]:
    """The regional association of each region; one association may speak for two regions."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for row in _region_rows():
        name = row["association"]
        if name in used:
            name = f"{name} ({row['name']})"
        used.add(name)
        names[row["code"]] = name
    return names


def _organisme_name(index: int, region_name: str, batch: int) -> str:
    prefix = ORGANISME_PREFIXES[(index + batch) % len(ORGANISME_PREFIXES)]
    suffix = f" {batch + 1}" if batch else ""
    return f"{prefix} {region_name}{suffix} (fictif)"


def load_demo(
    scale: int = 1, password: str = DEMO_PASSWORD, *, complete: bool = True
) -> DemoSummary:
    """Create what is missing of the demo; existing rows are left as they are.

    Without `complete`, the jury and the final text are left out: their draws, ballots and
    exports are most of the loading time, which tests of the other domains need not pay."""
    summary = DemoSummary()
    organisations = _load_organisations(scale, summary)
    _load_accounts(organisations, password, summary)
    _load_consultations(summary)
    db.session.flush()
    load_debates(organisations, _association_names(), scale, summary.count)
    db.session.flush()
    contributor = {email: name for email, _, _, name in demo_accounts()}["organisme@example.org"]
    load_proposals(organisations, scale, summary.count, open_draft_organisation=contributor)
    db.session.flush()
    load_bill(scale, summary.count)  # from the accepted proposals just loaded
    db.session.flush()
    if complete:
        load_jury(summary.count)  # votes on the bill's last version
        db.session.flush()
        load_exports(summary.count)  # the final text of the jury's round
        db.session.flush()
    refresh_statistics(
        "debate",
        "registration",
        "proposal",
        "cosignature",
        "proposal_revision",
        "article",
        "article_source",
        "proposal_disposition",
        "pool_member",
        "ballot",
        "ballot_log_entry",
    )
    return summary


def _load_organisations(scale: int, summary: DemoSummary) -> dict[str, Organisation]:
    existing = {org.name: org for org in db.session.scalars(select(Organisation))}
    regions = {region.code: region for region in db.session.scalars(select(Region))}

    def ensure(
        name: str,
        kind: OrganisationKind,
        region_code: str | None = None,
        is_fictional: bool = False,
    ) -> None:
        if name in existing:
            return
        organisation = Organisation(
            name=name, kind=kind, region_code=region_code, is_fictional=is_fictional
        )
        db.session.add(organisation)
        existing[name] = organisation
        summary.count("organisations")

    ensure(USH, OrganisationKind.USH)
    for name in FEDERATIONS:
        ensure(name, OrganisationKind.FEDERATION)
    for code, name in _association_names().items():
        ensure(name, OrganisationKind.ASSOCIATION_REGIONALE, code)
    for name in COMMISSIONS:
        ensure(name, OrganisationKind.COMMISSION, is_fictional=True)
    ensure(CONSEIL_SOCIAL, OrganisationKind.CONSEIL_SOCIAL)
    for batch in range(scale):
        for code, region in sorted(regions.items()):
            for index in range(ORGANISMES_PER_REGION):
                ensure(
                    _organisme_name(index, region.name, batch),
                    OrganisationKind.ORGANISME,
                    code,
                    is_fictional=True,
                )
    db.session.flush()
    return existing


def _load_accounts(
    organisations: dict[str, Organisation], password: str, summary: DemoSummary
) -> None:
    existing = set(db.session.scalars(select(User.email)))
    password_hash = None  # hashed once: argon2 is slow on purpose
    for email, name, role, organisation_name in demo_accounts():
        if email in existing:
            continue
        password_hash = password_hash or hash_password(password)
        organisation = organisations[organisation_name] if organisation_name else None
        db.session.add(
            User(
                email=email,
                display_name=name,
                role=role,
                organisation=organisation,
                password_hash=password_hash,
            )
        )
        summary.count("accounts")


def _paris(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def _load_consultations(summary: DemoSummary) -> None:
    slugs = set(db.session.scalars(select(Consultation.slug)))
    if HISTORICAL_SLUG not in slugs:
        _add_consultation(
            slug=HISTORICAL_SLUG,
            title="Utiles ensemble 2",
            summary=HISTORICAL_SUMMARY,
            phase=Phase.REMISE,
            periods={
                Phase.CONCERTATION: (date(2021, 11, 15), date(2022, 1, 31)),
                Phase.SYNTHESE: (date(2022, 2, 1), date(2022, 2, 9)),
                Phase.JURY: (date(2022, 2, 10), date(2022, 2, 17)),
                Phase.REMISE: (date(2022, 2, 18), date(2022, 2, 28)),
            },
            deadline=_paris(date(2022, 1, 31), 23, 59),
            phase_changed_at=_paris(date(2022, 2, 18), 9),
            is_fictional=False,
        )
        summary.count("consultations")
    if OPEN_SLUG not in slugs:
        today = date.today()  # noqa: DTZ011 (the demo's dates follow the local calendar)
        starts = today - timedelta(days=14)
        _add_consultation(
            slug=OPEN_SLUG,
            title="Consultation ouverte (démonstration)",
            summary=OPEN_SUMMARY,
            phase=Phase.CONCERTATION,
            periods={
                Phase.CONCERTATION: (starts, today + timedelta(days=75)),
                Phase.SYNTHESE: (today + timedelta(days=76), today + timedelta(days=100)),
                Phase.JURY: (today + timedelta(days=101), today + timedelta(days=115)),
                Phase.REMISE: (today + timedelta(days=116), today + timedelta(days=130)),
            },
            deadline=_paris(today + timedelta(days=75), 23, 59),
            phase_changed_at=_paris(starts, 9),
            is_fictional=True,
        )
        summary.count("consultations")


def _add_consultation(
    *,
    slug: str,
    title: str,
    summary: str,
    phase: Phase,
    periods: dict[Phase, tuple[date, date]],
    deadline: datetime,
    phase_changed_at: datetime,
    is_fictional: bool,
) -> Consultation:
    consultation = Consultation(
        slug=slug,
        title=title,
        summary=summary,
        phase=phase,
        proposal_deadline=deadline,
        phase_changed_at=phase_changed_at,
        is_fictional=is_fictional,
        periods=[
            PhasePeriod(phase=period_phase, starts_on=starts, ends_on=ends)
            for period_phase, (starts, ends) in periods.items()
        ],
        themes=[
            Theme(slug=theme_slug, name=name, position=position)
            for position, (theme_slug, name) in enumerate(THEMES)
        ],
    )
    db.session.add(consultation)
    return consultation
