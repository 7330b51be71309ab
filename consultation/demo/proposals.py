"""Demo proposals: the historical consultation's, from every kind of source and every region,
moderated during the synthesis; and a few in the open consultation, which accepts more.

The texts are put together from a few dozen measures, targets and means with a seeded
generator, so that every load writes the same demo. A consultation that already has proposals
is left alone; rows are bulk-inserted so that `--scale 10` (20,000 proposals) stays fast.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from consultation.accounts.models import Organisation, OrganisationKind
from consultation.consultations.models import Consultation, Phase, Theme
from consultation.core.i18n import PARIS
from consultation.core.models import utcnow
from consultation.debates.models import Debate, DebateStatus
from consultation.extensions import db
from consultation.proposals import search
from consultation.proposals.importing import insert_many, insert_proposals
from consultation.proposals.models import (
    Cosignature,
    Proposal,
    ProposalRevision,
    ProposalStatus,
    source_kind_of,
)

HISTORICAL_SLUG = "utiles-ensemble-2"
OPEN_SLUG = "consultation-ouverte"
BATCH_SIZE = 2_000  # rows per bulk INSERT
SMALL_DEMO = 300  # proposals at --scale 1
PER_SCALE = 2_000  # proposals per unit of scale beyond 1
OPEN_SUBMITTED = 6

# Shares of the sources and of the moderation outcomes in the historical consultation.
SOURCE_WEIGHTS = (("organisme", 55), ("debat", 25), ("commission", 10), ("conseil_social", 10))
REJECTED_SHARE = 0.12
MERGED_SHARE = 0.13
COSIGNED_SHARE = 0.3


@dataclass(frozen=True)
class Measure:
    """A measure the proposals ask for: its theme, its title, and what it would do."""

    theme: str
    title: str
    detail: str


MEASURES = (
    Measure(
        "produire",
        "Relancer la construction de logements sociaux",
        "porter la production à 150 000 logements sociaux par an pendant cinq ans",
    ),
    Measure(
        "produire",
        "Mobiliser le foncier public pour le logement abordable",
        "céder en priorité aux organismes Hlm les terrains de l'État et des collectivités, "
        "avec une décote",
    ),
    Measure(
        "produire",
        "Développer le bail réel solidaire",
        "dissocier le foncier du bâti pour rendre l'accession à la propriété abordable",
    ),
    Measure(
        "produire",
        "Simplifier les règles d'urbanisme pour les opérations Hlm",
        "réduire les délais d'instruction des permis de construire des logements sociaux",
    ),
    Measure(
        "produire",
        "Transformer les bureaux vacants en logements",
        "faciliter le changement d'usage des bureaux vides au profit de logements sociaux",
    ),
    Measure(
        "renover",
        "Accélérer la rénovation énergétique du parc Hlm",
        "rénover en priorité les logements classés F et G d'ici 2030",
    ),
    Measure(
        "renover",
        "Sécuriser les aides à la rénovation sur dix ans",
        "inscrire dans la loi un programme d'aides stable sur dix ans",
    ),
    Measure(
        "renover",
        "Développer les réseaux de chaleur renouvelable",
        "raccorder les résidences Hlm aux réseaux de chaleur alimentés par des énergies "
        "renouvelables",
    ),
    Measure(
        "renover",
        "Adapter les logements au vieillissement",
        "financer l'adaptation des salles de bains et des accès pour les locataires âgés",
    ),
    Measure(
        "renover",
        "Lutter contre la précarité énergétique des locataires",
        "garantir un chèque énergie revalorisé et des travaux d'isolation rapides",
    ),
    Measure(
        "attributions",
        "Rendre les attributions de logements plus transparentes",
        "publier les critères de cotation des demandes et les délais d'attente",
    ),
    Measure(
        "attributions",
        "Favoriser la mixité sociale dans les quartiers",
        "répartir les ménages les plus modestes sur l'ensemble des quartiers d'une agglomération",
    ),
    Measure(
        "attributions",
        "Rendre effectif le droit au logement opposable",
        "donner aux commissions de médiation les moyens de reloger les ménages reconnus "
        "prioritaires",
    ),
    Measure(
        "attributions",
        "Faciliter les échanges de logements entre locataires",
        "créer une bourse d'échanges commune à tous les bailleurs d'un territoire",
    ),
    Measure(
        "attributions",
        "Loger en priorité les travailleurs essentiels",
        "réserver une part des attributions aux soignants, enseignants et agents des services "
        "publics",
    ),
    Measure(
        "locataires",
        "Renforcer la présence de proximité auprès des locataires",
        "maintenir un gardien ou un agent de proximité dans chaque résidence",
    ),
    Measure(
        "locataires",
        "Limiter la hausse des charges locatives",
        "plafonner la hausse annuelle des charges et en détailler le décompte",
    ),
    Measure(
        "locataires",
        "Associer les locataires aux décisions de leur bailleur",
        "renforcer le rôle des représentants des locataires dans les conseils d'administration",
    ),
    Measure(
        "locataires",
        "Accompagner les locataires en difficulté de paiement",
        "prévenir les expulsions par un accompagnement social dès le premier impayé",
    ),
    Measure(
        "locataires",
        "Améliorer l'accessibilité des logements",
        "rendre accessibles aux personnes handicapées les logements neufs et les parties communes",
    ),
    Measure(
        "territoires",
        "Soutenir le logement social dans les villes moyennes",
        "aider les organismes à réhabiliter le parc ancien des villes moyennes",
    ),
    Measure(
        "territoires",
        "Revitaliser les centres-bourgs par le logement",
        "financer l'acquisition et l'amélioration de logements vacants en centre-bourg",
    ),
    Measure(
        "territoires",
        "Poursuivre le renouvellement urbain des quartiers prioritaires",
        "prolonger le programme national de renouvellement urbain au-delà de 2030",
    ),
    Measure(
        "territoires",
        "Adapter l'offre de logements aux territoires ruraux",
        "construire de petites opérations adaptées aux besoins des communes rurales",
    ),
    Measure(
        "territoires",
        "Renforcer le logement social dans les outre-mer",
        "adapter les normes de construction et les financements aux réalités ultramarines",
    ),
    Measure(
        "financement",
        "Revaloriser les aides personnelles au logement",
        "indexer chaque année les aides personnelles au logement sur les loyers et les charges",
    ),
    Measure(
        "financement",
        "Supprimer la réduction de loyer de solidarité",
        "rendre aux organismes Hlm les ressources prélevées par la réduction de loyer de "
        "solidarité",
    ),
    Measure(
        "financement",
        "Ramener la TVA sur le logement social à 5,5 %",
        "appliquer le taux réduit de TVA à toutes les opérations de logement social",
    ),
    Measure(
        "financement",
        "Sécuriser la ressource du Livret A",
        "garantir que l'épargne du Livret A finance d'abord le logement social",
    ),
    Measure(
        "financement",
        "Renforcer les fonds propres des organismes Hlm",
        "permettre aux organismes de reconstituer leurs fonds propres pour investir",
    ),
)
TARGETS = (
    "en priorité dans les zones tendues",
    "en particulier pour les ménages modestes",
    "en particulier pour les jeunes actifs",
    "en particulier pour les familles monoparentales",
    "en particulier pour les personnes âgées",
    "en priorité dans les quartiers prioritaires de la ville",
    "en priorité dans les territoires ruraux",
    "en particulier pour les étudiants",
    "dans toutes les régions",
    "en priorité dans les villes moyennes",
)
MEANS = (
    "par une loi de programmation sur cinq ans",
    "en s'appuyant sur les associations régionales Hlm",
    "grâce à un fonds national dédié",
    "par un contrat entre l'État et les organismes Hlm",
    "en associant les collectivités locales",
    "par une expérimentation dans trois régions",
    "en mobilisant la Caisse des dépôts",
    "par une simplification des normes",
)
FINDINGS = (
    "Plus de 2,2 millions de ménages attendent un logement social.",
    "Les coûts de construction ont augmenté de plus de 15 % en deux ans.",
    "Un ménage sur cinq consacre plus du tiers de ses revenus à se loger.",
    "Le parc Hlm loge plus de 10 millions de personnes.",
    "Les délais d'attente dépassent souvent trois ans dans les grandes agglomérations.",
    "Les charges d'énergie ont fortement augmenté pour les locataires.",
    "Les organismes Hlm ont perdu une part importante de leurs fonds propres depuis 2018.",
    "Les élus locaux peinent à trouver du foncier abordable.",
)
STEPS = (
    "un objectif chiffré, suivi chaque année par le Parlement",
    "un bilan régional établi avec les associations régionales Hlm",
    "une évaluation indépendante au bout de trois ans",
    "un financement garanti pour toute la durée du programme",
    "la consultation des représentants des locataires",
    "des indicateurs publiés en données ouvertes",
)
REJECTION_REASONS = (
    "Relève du domaine réglementaire et non de la loi.",
    "Déjà satisfaite par le droit en vigueur.",
    "Hors du champ de la consultation.",
    "Trop imprécise pour être traduite en article de loi.",
)
MERGE_NOTE = "Fusionnée avec une proposition proche, qui reprend la même mesure."
OPEN_DRAFT_TITLE = "Loger les saisonniers dans les communes touristiques"


@dataclass(frozen=True)
class _Source:
    """Who a proposal comes from: an organisation, and the debate for a debate's proposal."""

    organisation: Organisation
    debate: Debate | None = None

    @property
    def region_code(self) -> str | None:
        return self.debate.region_code if self.debate else self.organisation.region_code


def load_proposals(
    organisations: dict[str, Organisation],
    scale: int,
    count: Callable[[str, int], None],
    open_draft_organisation: str | None = None,
) -> None:
    """Create the demo proposals of the consultations that have none yet."""
    consultations = {
        consultation.slug: consultation
        for consultation in db.session.scalars(
            select(Consultation).where(Consultation.slug.in_((HISTORICAL_SLUG, OPEN_SLUG)))
        )
    }
    by_kind: dict[OrganisationKind, list[Organisation]] = {}
    for organisation in sorted(organisations.values(), key=lambda org: org.name):
        by_kind.setdefault(organisation.kind, []).append(organisation)
    historical = consultations.get(HISTORICAL_SLUG)
    if historical is not None and not _has_proposals(historical):
        number = SMALL_DEMO if scale <= 1 else PER_SCALE * scale
        count("proposals", _historical(historical, by_kind, number))
    open_consultation = consultations.get(OPEN_SLUG)
    if open_consultation is not None and not _has_proposals(open_consultation):
        draft_organisation = organisations.get(open_draft_organisation or "")
        count("proposals", _open(open_consultation, by_kind, draft_organisation))


def _has_proposals(consultation: Consultation) -> bool:
    return bool(
        db.session.scalar(
            select(func.count(Proposal.id)).where(Proposal.consultation_id == consultation.id)
        )
    )


def _rng(seed: str) -> random.Random:
    """A reproducible generator: the same demo on every load."""
    return random.Random(seed)  # noqa: S311 (demo data, not secrets)


def _themes(consultation: Consultation) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(Theme.slug, Theme.id).where(Theme.consultation_id == consultation.id)
        ).all()
    )


def _sources(
    consultation: Consultation, by_kind: dict[OrganisationKind, list[Organisation]]
) -> dict[str, list[_Source]]:
    debates = db.session.scalars(
        select(Debate)
        .where(Debate.consultation_id == consultation.id, Debate.status == DebateStatus.HELD)
        .order_by(Debate.starts_at, Debate.id)
    ).all()
    organisers = {org.id: org for orgs in by_kind.values() for org in orgs}
    return {
        "organisme": [_Source(org) for org in by_kind.get(OrganisationKind.ORGANISME, [])],
        "commission": [_Source(org) for org in by_kind.get(OrganisationKind.COMMISSION, [])],
        "conseil_social": [
            _Source(org) for org in by_kind.get(OrganisationKind.CONSEIL_SOCIAL, [])
        ],
        "debat": [
            _Source(organisers[debate.organiser_id], debate)
            for debate in debates
            if debate.organiser_id in organisers
        ],
    }


def _pick_sources(sources: dict[str, list[_Source]], number: int, rng: random.Random) -> list:
    """`number` sources: first each one once (so that every region and kind shows), then
    drawn by the weights of SOURCE_WEIGHTS."""
    available = [(kind, weight) for kind, weight in SOURCE_WEIGHTS if sources.get(kind)]
    everyone = [source for kind, _weight in available for source in sources[kind]]
    picked = everyone[:number]
    kinds = [kind for kind, _weight in available]
    weights = [weight for _kind, weight in available]
    while len(picked) < number:
        kind = rng.choices(kinds, weights)[0]
        picked.append(rng.choice(sources[kind]))
    rng.shuffle(picked)
    return picked


def _text(source: _Source, rng: random.Random, themes: dict[str, int]) -> dict[str, object]:
    """A proposal's title, summary, body and rationale, in French."""
    measure = rng.choice(MEASURES)
    target = rng.choice(TARGETS)
    means = rng.choice(MEANS)
    steps = rng.sample(STEPS, k=2)
    findings = rng.sample(FINDINGS, k=2)
    if source.debate is not None:
        origin = f"Proposition issue du débat régional « {source.debate.title} »."
    else:
        origin = f"Proposition présentée par {source.organisation.name}."
    body = (
        f"**Proposition.** Il est proposé de {measure.detail}, {target}, {means}.\n\n"
        f"{origin}\n\n"
        "La loi prévoirait :\n\n"
        f"- {steps[0]} ;\n"
        f"- {steps[1]}.\n"
    )
    rationale = (
        f"{findings[0]} {findings[1]}\n\n"
        "Les organismes Hlm, les locataires et les élus rencontrés pendant la concertation "
        "partagent ce constat."
    )
    return {
        "theme_id": themes.get(measure.theme),
        "title": f"{measure.title}, {target}",
        "summary": f"{measure.title} {means}.",
        "body": body,
        "rationale": rationale,
    }


def _paris(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)


def _historical(
    consultation: Consultation,
    by_kind: dict[OrganisationKind, list[Organisation]],
    number: int,
) -> int:
    """The historical consultation's proposals, all moderated; returns how many."""
    rng = _rng(f"proposals-{consultation.slug}-{number}")
    themes = _themes(consultation)
    concertation = consultation.period(Phase.CONCERTATION)
    synthesis = consultation.period(Phase.SYNTHESE)
    first_day = concertation.starts_on if concertation else date(2021, 11, 15)
    last_day = concertation.ends_on if concertation else date(2022, 1, 31)
    moderation_day = synthesis.starts_on if synthesis else date(2022, 2, 1)
    span = (last_day - first_day).days
    available = _sources(consultation, by_kind)
    sources = _pick_sources(available, number, rng)
    # The first proposal (number 1 on a fresh database) is the same at every scale: an accepted
    # proposal of the first Hlm organisation, which the benchmark loads at scale 1 and 10.
    if available["organisme"]:
        sources.insert(0, sources.pop(sources.index(available["organisme"][0])))
    rows: list[dict[str, object]] = []
    merged: list[dict[str, object]] = []
    for index, source in enumerate(sources):
        rng = _rng(f"proposal-{consultation.slug}-{index}")  # a row does not depend on the scale
        if source.debate is not None:  # after the debate it came out of
            start = source.debate.starts_at + timedelta(days=1)
            end = _paris(last_day, time(23, 0))
            submitted_at = start + (end - start) * rng.random() if start < end else end
        else:
            submitted_at = _paris(
                first_day + timedelta(days=rng.randint(0, span)),
                time(rng.randint(8, 19), rng.choice((0, 15, 30, 45))),
            )
        moderated_at = _paris(
            moderation_day + timedelta(days=rng.randint(0, 6)), time(rng.randint(9, 18))
        )
        row = _row(consultation, source, _text(source, rng, themes), submitted_at)
        row["moderated_at"] = moderated_at
        row["updated_at"] = moderated_at
        draw = rng.random() if index else 1.0
        if draw < REJECTED_SHARE:
            row["status"] = ProposalStatus.REJECTED
            row["reason"] = rng.choice(REJECTION_REASONS)
        elif draw < REJECTED_SHARE + MERGED_SHARE:
            row["status"] = ProposalStatus.MERGED
            row["reason"] = MERGE_NOTE
            merged.append(row)
            continue
        else:
            row["status"] = ProposalStatus.ACCEPTED
        rows.append(row)
    ids = _insert(rows)
    rng = _rng(f"merges-{consultation.slug}")
    # Merged proposals go into an accepted one of the same theme (inserted just above), but
    # the first, kept alike at every scale.
    accepted: dict[object, list[int]] = {}
    for proposal_id, row in list(zip(ids, rows, strict=True))[1:]:
        if row["status"] is ProposalStatus.ACCEPTED:
            accepted.setdefault(row["theme_id"], []).append(proposal_id)
    every_accepted = [proposal_id for group in accepted.values() for proposal_id in group]
    for row in merged:
        row["merged_into_id"] = rng.choice(accepted.get(row["theme_id"]) or every_accepted)
    merged_ids = _insert(merged)
    _cosign(
        list(zip(ids, rows, strict=True)) + list(zip(merged_ids, merged, strict=True)),
        by_kind,
        rng,
    )
    return len(ids) + len(merged_ids)


def _row(
    consultation: Consultation,
    source: _Source,
    text: dict[str, object],
    submitted_at: datetime | None,
) -> dict[str, object]:
    created_at = (submitted_at or utcnow()) - timedelta(hours=2)
    return {
        "consultation_id": consultation.id,
        "organisation_id": source.organisation.id,
        "author_id": None,
        "debate_id": source.debate.id if source.debate else None,
        "source_kind": source_kind_of(source.organisation.kind, source.debate is not None),
        "region_code": source.region_code,
        "status": ProposalStatus.SUBMITTED if submitted_at else ProposalStatus.DRAFT,
        "reason": "",
        "merged_into_id": None,
        "submitted_at": submitted_at,
        "moderated_at": None,
        "revision_count": 1 if submitted_at else 0,
        "created_at": created_at,
        "updated_at": submitted_at or created_at,
        **text,
    }


def _insert(rows: Sequence[dict[str, object]]) -> list[int]:
    """Insert proposals in bulk with their first revision (submitted ones) and their index
    entries; returns their ids in the order of the rows."""
    ids: list[int] = []
    for start in range(0, len(rows), BATCH_SIZE):
        chunk = rows[start : start + BATCH_SIZE]
        chunk_ids = insert_proposals(list(chunk))
        revisions = [
            {
                "proposal_id": proposal_id,
                "number": 1,
                "title": row["title"],
                "summary": row["summary"],
                "body": row["body"],
                "rationale": row["rationale"],
                "theme_id": row["theme_id"],
                "author_id": None,
                "created_at": row["submitted_at"],
            }
            for proposal_id, row in zip(chunk_ids, chunk, strict=True)
            if row["submitted_at"] is not None
        ]
        if revisions:
            insert_many(ProposalRevision, revisions)
        search.index(
            db.session,
            [
                search.Document(
                    proposal_id,
                    str(row["title"]),
                    "\n".join((str(row["summary"]), str(row["body"]), str(row["rationale"]))),
                )
                for proposal_id, row in zip(chunk_ids, chunk, strict=True)
            ],
        )
        ids += chunk_ids
    return ids


def _cosign(
    proposals: list[tuple[int, dict[str, object]]],
    by_kind: dict[OrganisationKind, list[Organisation]],
    rng: random.Random,
) -> None:
    """Some proposals get the support of one to three other organisations."""
    signers = [
        org
        for kind in (
            OrganisationKind.ORGANISME,
            OrganisationKind.COMMISSION,
            OrganisationKind.CONSEIL_SOCIAL,
            OrganisationKind.ASSOCIATION_REGIONALE,
        )
        for org in by_kind.get(kind, [])
    ]
    rows = []
    for proposal_id, row in proposals:
        if row["submitted_at"] is None or rng.random() >= COSIGNED_SHARE:
            continue
        chosen = rng.sample(signers, k=min(len(signers), rng.randint(1, 3)))
        for organisation in chosen:
            if organisation.id == row["organisation_id"]:
                continue
            rows.append(
                {
                    "proposal_id": proposal_id,
                    "organisation_id": organisation.id,
                    "user_id": None,
                    "created_at": row["submitted_at"] + timedelta(days=rng.randint(1, 10)),  # type: ignore[operator]
                }
            )
    for start in range(0, len(rows), BATCH_SIZE * 2):
        insert_many(Cosignature, rows[start : start + BATCH_SIZE * 2])


def _open(
    consultation: Consultation,
    by_kind: dict[OrganisationKind, list[Organisation]],
    draft_organisation: Organisation | None,
) -> int:
    """A few submitted proposals in the open consultation, and a draft of the demo
    contributor's organisation; returns how many."""
    rng = _rng(f"proposals-{consultation.slug}")
    themes = _themes(consultation)
    sources = [
        _Source(org)
        for kind in (
            OrganisationKind.ORGANISME,
            OrganisationKind.COMMISSION,
            OrganisationKind.CONSEIL_SOCIAL,
        )
        for org in by_kind.get(kind, [])[:3]
        if org is not draft_organisation
    ]
    now = utcnow()
    rows = []
    for source in sources[:OPEN_SUBMITTED]:
        submitted_at = now - timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 9))
        rows.append(_row(consultation, source, _text(source, rng, themes), submitted_at))
    if draft_organisation is not None:
        source = _Source(draft_organisation)
        draft = _row(consultation, source, _text(source, rng, themes), None)
        draft["title"] = OPEN_DRAFT_TITLE
        rows.append(draft)
    ids = _insert(rows)
    _cosign(list(zip(ids, rows, strict=True)), by_kind, rng)
    return len(ids)
