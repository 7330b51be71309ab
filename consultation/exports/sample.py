"""Final texts built in memory, with no database: for the renderers' tests and for
`export bench`, which times every format on a text of the issue's size."""

from __future__ import annotations

from datetime import UTC, datetime

from consultation.bill.models import DivisionKind
from consultation.bill.numbering import article_label, article_number, division_label
from consultation.exports.final_text import (
    Article,
    Division,
    Figures,
    FinalText,
    RegionDebates,
    Result,
    Source,
)

PREAMBLE = """Mesdames, Messieurs,

Pendant trois mois, **29 débats régionaux** ont réuni locataires, élus et organismes : voici
ce qui en est sorti. Le « logement d'abord » n'est pas un slogan ; c'est une politique !

- produire des logements abordables ;
- rénover le parc.
"""


def _result(item: int, voted_label: str, heading: str, final_label: str | None) -> Result:
    adopted = final_label is not None
    return Result(
        item=item,
        voted_label=voted_label,
        heading=heading,
        final_label=final_label,
        registered=30,
        voted=29,
        pour=22 if adopted else 9,
        contre=5 if adopted else 18,
        abstention=2,
        quorum_reached=True,
        adopted=adopted,
        large_support=adopted and item % 2 == 0,
    )


def sample_final_text(
    articles: int = 3,
    sources_per_article: int = 2,
    rejected: int = 1,
    divisions: int = 2,
) -> FinalText:
    """A final text of `articles` adopted articles spread over `divisions` titres (loose when
    0), each citing `sources_per_article` proposals; `rejected` articles of the voted version
    were not adopted and appear only in the results annex."""
    voted_total = articles + rejected
    results: list[Result] = []
    built: list[Article] = []
    number = 0
    # The rejected articles, spread over the voted version.
    refused = {(2 * r + 1) * voted_total // (2 * rejected) for r in range(rejected)}
    for index in range(voted_total):
        voted_label = article_label(index + 1, voted_total)
        heading = f"Objet n° {index + 1} : le « droit au logement »"
        if index in refused:
            results.append(_result(1000 + index, voted_label, heading, None))
            continue
        number += 1
        label = article_label(number, articles)
        result = _result(1000 + index, voted_label, heading, label)
        results.append(result)
        built.append(
            Article(
                number=number,
                num=article_number(number, articles),
                label=label,
                heading=heading,
                body=(
                    f"I. – Le code de la construction et de l'habitation est ainsi modifié : "
                    f"l'article L. 411-{number} est complété par un alinéa ainsi rédigé ;\n\n"
                    f"« Les organismes d'habitations à loyer modéré **peuvent** … » ?"
                ),
                voted_label=voted_label,
                sources=tuple(
                    Source(
                        proposal_id=number * 100 + s,
                        title=f"Proposition {number}.{s} : loger d'abord",
                        organisation=f"Habitat Pays de la Loire {s} (fictif)",
                        source_kind=("organisme", "commission", "conseil_social", "debat_regional")[
                            s % 4
                        ],
                        region="Pays de la Loire" if s % 2 else None,
                        debate="Débat de Nantes" if s % 4 == 3 else None,
                    )
                    for s in range(sources_per_article)
                ),
                result=result,
            )
        )
    if divisions:
        size = -(-len(built) // divisions)
        groups = [tuple(built[i : i + size]) for i in range(0, len(built), size)]
        tree = tuple(
            Division(
                kind=DivisionKind.TITRE.value,
                number=position + 1,
                label=division_label(DivisionKind.TITRE, position + 1),
                heading=f"Titre de la partie {position + 1}",
                articles=group,
                divisions=(),
            )
            for position, group in enumerate(groups)
        )
        loose: tuple[Article, ...] = ()
    else:
        tree, loose = (), tuple(built)
    closes = datetime(2022, 2, 17, 17, 0, tzinfo=UTC)
    return FinalText(
        consultation="utiles-ensemble-2",
        consultation_title="Utiles ensemble 2",
        title="Proposition de loi pour une politique du logement ambitieuse, juste et écologique",
        preamble=PREAMBLE,
        version_number=2,
        version_checksum="a" * 64,
        round_number=1,
        round_opens_at=datetime(2022, 2, 10, 8, 0, tzinfo=UTC),
        round_closes_at=closes,
        quorum_percent=50,
        threshold_percent=50,
        articles=loose,
        divisions=tree,
        results=tuple(results),
        whole_text=Result(0, "l'ensemble du texte", "", None, 30, 30, 25, 3, 2, True, True, True),
        figures=Figures(
            debates_held=29,
            debates_by_region=(RegionDebates("Pays de la Loire", 3), RegionDebates("Bretagne", 2)),
            proposals=300,
            proposals_by_source={
                "organisme": 162,
                "commission": 20,
                "conseil_social": 24,
                "debat_regional": 94,
            },
            organisations=58,
            jurors=30,
        ),
        dated=closes,
    )
