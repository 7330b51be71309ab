"""The demo's draft bill: the historical consultation's "proposition de loi", written from its
accepted proposals, with two frozen versions.

The historical consultation is past its synthesis (phase `remise`), so the bill services, which
only write during the synthesis, would refuse: the rows are written here directly and the versions
through `create_version`, the freeze without its phase rule. The rules the phase guards protect
still hold: every accepted proposal gets a disposition (100% coverage) before version 1 is frozen.
The phase itself is not changed, so the demo stays the consultation as it ended.

At scale 1 the bill has 20 articles; beyond, 30 per unit of scale (300 at scale 10, for the
benchmark). Rows are inserted in bulk; loading is idempotent (a consultation with a bill is left
alone).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time

from sqlalchemy import select, update

from consultation.bill.models import (
    Article,
    ArticleRevision,
    ArticleSource,
    Bill,
    DispositionKind,
    Division,
    DivisionKind,
    ProposalDisposition,
)
from consultation.bill.services import accepted_in
from consultation.bill.versions import create_version
from consultation.consultations.models import Consultation, Theme
from consultation.core.i18n import PARIS
from consultation.extensions import db
from consultation.proposals.importing import insert_many
from consultation.proposals.models import Proposal

HISTORICAL_SLUG = "utiles-ensemble-2"
SMALL_BILL = 20  # articles at --scale 1
PER_SCALE = 30  # articles per unit of scale beyond 1
SOURCES_PER_ARTICLE = 5  # the most proposals one article is written from

TITLE = "Proposition de loi pour une politique du logement ambitieuse, juste et écologique"

PREAMBLE = """\
Mesdames, Messieurs,

De novembre 2021 à janvier 2022, le Mouvement Hlm a conduit la concertation « Utiles ensemble ».
[[debats_tenus]] débats régionaux se sont tenus dans [[regions]] régions, avec les associations
régionales Hlm ; [[organisations]] organisations y ont pris part. [[propositions]] propositions
ont été déposées : [[propositions_organisme]] par les organismes Hlm,
[[propositions_commission]] par les commissions de l'Union sociale pour l'habitat,
[[propositions_conseil_social]] par son Conseil social et [[propositions_debat_regional]] à
l'issue des débats régionaux.

La présente proposition de loi en est la synthèse. Chacun de ses articles cite les propositions
dont il procède ; celles qui n'ont pas été retenues l'ont été pour un motif public.

Le titre Ier vise à produire davantage de logements abordables et à accélérer la rénovation du
parc. Le titre II garantit un accès plus juste au logement social et renforce l'accompagnement
des locataires. Le titre III donne aux territoires et au financement du logement social les
moyens de cette ambition.

Tel est l'objet de la présente proposition de loi, que nous vous demandons d'adopter.
"""

# (titre heading, [(theme slug, chapitre heading), ...]), in the bill's order.
STRUCTURE = (
    (
        "Produire et rénover",
        (
            ("produire", "Produire des logements abordables"),
            ("renover", "Rénover et décarboner le parc"),
        ),
    ),
    (
        "Loger et accompagner",
        (
            ("attributions", "Attributions, mixité et droit au logement"),
            ("locataires", "Accompagner les locataires"),
        ),
    ),
    (
        "Donner les moyens aux territoires",
        (
            ("territoires", "Territoires et renouvellement urbain"),
            ("financement", "Financer le logement social"),
        ),
    ),
)

# Per theme: (heading, body) of its articles, cycled when a chapter has more articles.
ARTICLES = {
    "produire": (
        (
            "Objectif de production",
            "L'État et les collectivités territoriales fixent chaque année un objectif de "
            "production de logements locatifs sociaux d'au moins 150 000 logements, réparti "
            "par région après avis du comité régional de l'habitat et de l'hébergement.",
        ),
        (
            "Foncier public",
            "Les terrains de l'État et de ses établissements publics reconnus disponibles sont "
            "cédés en priorité, avec une décote pouvant atteindre la totalité de leur valeur, "
            "pour la réalisation de programmes comprenant au moins 50 % de logements sociaux.",
        ),
        (
            "Taux réduit de TVA",
            "Le taux réduit de taxe sur la valeur ajoutée de 5,5 % s'applique à la "
            "construction et à l'acquisition de l'ensemble des logements locatifs sociaux.",
        ),
        (
            "Accession sociale",
            "Le bail réel solidaire est étendu à l'ensemble des communes où s'applique la "
            "taxe sur les logements vacants.",
        ),
    ),
    "renover": (
        (
            "Plan de rénovation",
            "Un plan national de rénovation énergétique du parc social vise la disparition "
            "des logements des classes F et G du diagnostic de performance énergétique d'ici "
            "2028. Il est doté de crédits pluriannuels.",
        ),
        (
            "Matériaux biosourcés",
            "Les opérations de réhabilitation financées au titre du plan national recourent "
            "aux matériaux biosourcés pour au moins 30 % des matériaux d'isolation.",
        ),
        (
            "Confort d'été",
            "Le confort d'été des logements est pris en compte dans toute opération de "
            "réhabilitation lourde, après concertation avec les locataires.",
        ),
    ),
    "attributions": (
        (
            "Cotation de la demande",
            "La cotation de la demande de logement social est rendue publique dans chaque "
            "établissement public de coopération intercommunale ; chaque demandeur peut "
            "connaître les critères appliqués à sa demande.",
        ),
        (
            "Mixité sociale",
            "Au moins 25 % des attributions réalisées hors quartiers prioritaires bénéficient "
            "aux demandeurs du premier quartile de ressources.",
        ),
        (
            "Droit au logement opposable",
            "Les ménages reconnus prioritaires au titre du droit au logement opposable se "
            "voient proposer un logement dans un délai de six mois.",
        ),
    ),
    "locataires": (
        (
            "Gel des loyers",
            "Les loyers des logements sociaux ne peuvent augmenter plus que l'indice de "
            "référence des loyers ; l'aide personnalisée au logement est revalorisée chaque "
            "année selon le même indice.",
        ),
        (
            "Accompagnement social",
            "Les organismes d'habitations à loyer modéré mettent en place un accompagnement "
            "social pour tout locataire en situation d'impayé, avant toute procédure.",
        ),
        (
            "Représentation des locataires",
            "Les représentants des locataires disposent d'un crédit d'heures et d'une "
            "formation pris en charge par l'organisme.",
        ),
    ),
    "territoires": (
        (
            "Renouvellement urbain",
            "Le nouveau programme national de renouvellement urbain est prolongé jusqu'en "
            "2030 ; ses crédits sont portés à 14 milliards d'euros.",
        ),
        (
            "Territoires ruraux",
            "Un fonds de revitalisation finance la réhabilitation de logements sociaux dans "
            "les centres-bourgs des communes de moins de 10 000 habitants.",
        ),
        (
            "Outre-mer",
            "La ligne budgétaire unique consacrée au logement dans les outre-mer est "
            "sanctuarisée et indexée sur le coût de la construction.",
        ),
    ),
    "financement": (
        (
            "Réduction de loyer de solidarité",
            "La réduction de loyer de solidarité est supprimée ; sa compensation par l'État "
            "est intégrale pour les exercices en cours.",
        ),
        (
            "Livret A",
            "Les fonds d'épargne du livret A sont prêtés aux organismes à un taux qui ne peut "
            "excéder l'inflation majorée de 0,6 point.",
        ),
        (
            "Fonds national des aides à la pierre",
            "L'État contribue au Fonds national des aides à la pierre à hauteur d'au moins "
            "500 millions d'euros par an.",
        ),
    ),
}

NOT_RETAINED_REASONS = (
    "Satisfaite par un autre article : la proposition est couverte par les articles du même "
    "chapitre.",
    "Relève du pouvoir réglementaire : elle est transmise au Gouvernement.",
    "Déjà satisfaite par le droit en vigueur.",
    "Hors du champ de la proposition de loi.",
)

CHANGED_PARAGRAPH = (
    "\n\nUn rapport d'évaluation est remis chaque année au Parlement, après avis du Conseil "
    "national de l'habitat."
)
ADDED_ARTICLE = (
    "Évaluation",
    "La mise en œuvre de la présente loi fait l'objet d'une évaluation publique trois ans "
    "après sa promulgation, associant les locataires et les organismes.",
)


def _paris(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def article_count(scale: int) -> int:
    """20 articles at scale 1, 30 per unit of scale beyond (300 at scale 10)."""
    return SMALL_BILL if scale <= 1 else PER_SCALE * scale


def load_bill(scale: int, count: Callable[[str, int], None]) -> None:
    """Write the historical consultation's bill and its two versions, once."""
    consultation = db.session.scalar(
        select(Consultation).where(Consultation.slug == HISTORICAL_SLUG)
    )
    if consultation is None:
        return
    if db.session.scalar(select(Bill.id).where(Bill.consultation_id == consultation.id)):
        return  # idempotent: an existing bill is left as it is
    themes = {
        theme.slug: theme.id
        for theme in db.session.scalars(
            select(Theme).where(Theme.consultation_id == consultation.id)
        )
    }
    accepted: dict[int, list[int]] = {}
    for proposal_id, theme_id in db.session.execute(
        select(Proposal.id, Proposal.theme_id)
        .where(accepted_in(consultation))
        .order_by(Proposal.id)
    ):
        accepted.setdefault(theme_id, []).append(proposal_id)

    bill = Bill(consultation_id=consultation.id, title=TITLE, preamble=PREAMBLE)
    db.session.add(bill)
    db.session.flush()
    chapters = _divisions(bill)
    articles = _articles(bill, chapters, article_count(scale))
    sources, dispositions = _provenance(articles, chapters, themes, accepted)
    count("bill articles", len(articles))

    version_one = _paris(date(2022, 2, 7), 18)
    create_version(bill, "Version soumise à la relecture", None, version_one)
    _second_draft(bill, chapters, articles, sources)
    db.session.flush()
    db.session.expire(bill)
    create_version(bill, "Texte soumis au jury citoyen", None, _paris(date(2022, 2, 9), 18))
    count("bill versions", 2)
    count("proposal dispositions", dispositions)


def _divisions(bill: Bill) -> list[tuple[str, Division]]:
    """The titres and their chapitres; returns (theme slug, chapitre) in the bill's order."""
    chapters: list[tuple[str, Division]] = []
    for titre_position, (titre_heading, chapter_rows) in enumerate(STRUCTURE):
        titre = Division(
            bill_id=bill.id, kind=DivisionKind.TITRE, heading=titre_heading, position=titre_position
        )
        db.session.add(titre)
        db.session.flush()
        for position, (slug, heading) in enumerate(chapter_rows):
            chapter = Division(
                bill_id=bill.id,
                parent_id=titre.id,
                kind=DivisionKind.CHAPITRE,
                heading=heading,
                position=position,
            )
            db.session.add(chapter)
            chapters.append((slug, chapter))
    db.session.flush()
    return chapters


def _articles(
    bill: Bill, chapters: list[tuple[str, Division]], total: int
) -> list[tuple[int, Article]]:
    """`total` articles spread over the chapitres (the first ones get the remainder); returns
    (chapter index, article) in order, each with its first revision."""
    share, extra = divmod(total, len(chapters))
    made: list[tuple[int, Article]] = []
    created_at = _paris(date(2022, 2, 3), 10)
    for index, (slug, chapter) in enumerate(chapters):
        models = ARTICLES[slug]
        for position in range(share + (1 if index < extra else 0)):
            heading, body = models[position % len(models)]
            if position >= len(models):  # more articles than models at large scales
                round_number = position // len(models) + 1
                heading = f"{heading} ({round_number})"
                body = f"{body}\n\nCes dispositions s'appliquent à la tranche {round_number}."
            article = Article(
                bill_id=bill.id,
                division_id=chapter.id,
                position=position,
                heading=heading,
                body=body,
                created_at=created_at,
                updated_at=created_at,
            )
            made.append((index, article))
    db.session.add_all([article for _, article in made])
    db.session.flush()
    insert_many(
        ArticleRevision,
        [
            {
                "article_id": article.id,
                "number": 1,
                "heading": article.heading,
                "body": article.body,
                "author_id": None,
                "created_at": created_at,
            }
            for _, article in made
        ],
    )
    return made


def _provenance(
    articles: list[tuple[int, Article]],
    chapters: list[tuple[str, Division]],
    themes: dict[str, int],
    accepted: dict[int, list[int]],
) -> tuple[list[dict[str, object]], int]:
    """Each accepted proposal of a theme becomes a source of one of its chapter's articles (in
    turn, at most SOURCES_PER_ARTICLE each), or is not retained with a reason: coverage is 100%.
    Returns the sources written and the number of dispositions."""
    decided_at = _paris(date(2022, 2, 5), 12)
    sources: list[dict[str, object]] = []
    dispositions: list[dict[str, object]] = []
    by_chapter: dict[int, list[Article]] = {}
    for index, article in articles:
        by_chapter.setdefault(index, []).append(article)
    theme_ids = set()
    for index, (slug, _chapter) in enumerate(chapters):
        theme_id = themes.get(slug)
        theme_ids.add(theme_id)
        chapter_articles = by_chapter.get(index, [])
        capacity = len(chapter_articles) * SOURCES_PER_ARTICLE
        for rank, proposal_id in enumerate(accepted.get(theme_id, [])):
            if rank < capacity:
                article = chapter_articles[rank % len(chapter_articles)]
                sources.append(
                    {"article_id": article.id, "proposal_id": proposal_id, "created_at": decided_at}
                )
                dispositions.append(
                    _disposition(proposal_id, DispositionKind.INTEGRATED, "", decided_at)
                )
            else:
                reason = NOT_RETAINED_REASONS[rank % len(NOT_RETAINED_REASONS)]
                dispositions.append(
                    _disposition(proposal_id, DispositionKind.NOT_RETAINED, reason, decided_at)
                )
    # Proposals of a theme without a chapter (none in the demo, but themes may be added).
    for theme_id, proposal_ids in accepted.items():
        if theme_id not in theme_ids:
            dispositions += [
                _disposition(
                    proposal_id, DispositionKind.NOT_RETAINED, NOT_RETAINED_REASONS[3], decided_at
                )
                for proposal_id in proposal_ids
            ]
    insert_many(ArticleSource, sources)
    insert_many(ProposalDisposition, dispositions)
    return sources, len(dispositions)


def _disposition(
    proposal_id: int, kind: DispositionKind, reason: str, decided_at: datetime
) -> dict[str, object]:
    return {
        "proposal_id": proposal_id,
        "kind": kind,
        "reason": reason,
        "decided_by_id": None,
        "decided_at": decided_at,
    }


def _second_draft(
    bill: Bill,
    chapters: list[tuple[str, Division]],
    articles: list[tuple[int, Article]],
    sources: list[dict[str, object]],
) -> None:
    """The changes between versions 1 and 2: the last article of the first chapter moves to the
    end of the second, the first article's text is completed, and an evaluation article is
    added at the end of the bill (written from a proposal its chapter already integrates)."""
    changed_at = _paris(date(2022, 2, 8), 15)
    first_chapter = [article for index, article in articles if index == 0]
    second_chapter = [article for index, article in articles if index == 1]
    moved = first_chapter[-1]
    db.session.execute(
        update(Article)
        .where(Article.id == moved.id)
        .values(
            division_id=chapters[1][1].id,
            position=len(second_chapter),
            updated_at=changed_at,
            version_id=Article.version_id + 1,
        )
    )
    edited = first_chapter[0]
    db.session.execute(
        update(Article)
        .where(Article.id == edited.id)
        .values(body=edited.body + CHANGED_PARAGRAPH, updated_at=changed_at, version_id=2)
    )
    db.session.add(
        ArticleRevision(
            article_id=edited.id,
            number=2,
            heading=edited.heading,
            body=edited.body + CHANGED_PARAGRAPH,
            created_at=changed_at,
        )
    )
    last_index, last_article = articles[-1]
    last_chapter = chapters[last_index][1]
    last_position = sum(1 for index, _ in articles if index == last_index)
    heading, body = ADDED_ARTICLE
    added = Article(
        bill_id=bill.id,
        division_id=last_chapter.id,
        position=last_position,
        heading=heading,
        body=body,
        created_at=changed_at,
        updated_at=changed_at,
    )
    db.session.add(added)
    db.session.flush()
    db.session.add(
        ArticleRevision(
            article_id=added.id, number=1, heading=heading, body=body, created_at=changed_at
        )
    )
    cited = next(
        (source["proposal_id"] for source in sources if source["article_id"] == last_article.id),
        None,
    )
    if cited is not None:
        db.session.add(ArticleSource(article_id=added.id, proposal_id=cited, created_at=changed_at))
    db.session.flush()
    # The bulk updates bypassed the ORM: reload the articles the next snapshot reads.
    db.session.expire_all()
