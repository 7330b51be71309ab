"""Builders of bills for the bill tests: a consultation in synthesis, accepted proposals, a bill
with divisions and articles."""

from __future__ import annotations

import itertools

from consultation.bill.models import Article, Bill, Division, DivisionKind
from consultation.consultations.models import Consultation, Phase
from consultation.extensions import db
from consultation.proposals.models import Proposal, ProposalStatus
from tests import factories
from tests.proposals.helpers import make_proposal

_sequence = itertools.count(1)


def synthesis_consultation(slug: str = "c") -> Consultation:
    """A consultation in its synthesis phase (where the bill is written)."""
    return factories.make_consultation(slug=slug, phase=Phase.SYNTHESE)


def accepted_proposals(consultation: Consultation, count: int, **fields: object) -> list[Proposal]:
    """Accepted proposals, written while the consultation was in concertation."""
    phase = consultation.phase
    consultation.phase = Phase.CONCERTATION
    proposals = [
        make_proposal(
            consultation,
            status=ProposalStatus.ACCEPTED,
            title=str(fields.get("title", f"Proposition {next(_sequence)}")),
            **{key: value for key, value in fields.items() if key != "title"},
        )
        for _ in range(count)
    ]
    consultation.phase = phase
    db.session.flush()
    return proposals


def make_bill(consultation: Consultation, **fields: object) -> Bill:
    bill = Bill(
        consultation_id=consultation.id,
        title=str(fields.pop("title", "Proposition de loi d'essai")),
        preamble=str(fields.pop("preamble", "Mesdames, Messieurs,")),
        **fields,
    )
    db.session.add(bill)
    db.session.flush()
    return bill


def add_division(
    bill: Bill,
    kind: DivisionKind | str = DivisionKind.CHAPITRE,
    parent: Division | None = None,
    heading: str | None = None,
) -> Division:
    siblings = [d for d in bill.divisions if d.parent_id == (parent.id if parent else None)]
    division = Division(
        bill=bill,
        parent_id=parent.id if parent else None,
        kind=DivisionKind(kind),
        heading=heading or f"Division {next(_sequence)}",
        position=len(siblings),
    )
    db.session.add(division)
    db.session.flush()
    return division


def add_article(
    bill: Bill, division: Division | None = None, heading: str = "", body: str | None = None
) -> Article:
    siblings = [a for a in bill.articles if a.division_id == (division.id if division else None)]
    article = Article(
        bill=bill,
        division_id=division.id if division else None,
        position=len(siblings),
        heading=heading,
        body=body or f"Le code de la construction est ainsi modifié ({next(_sequence)}).",
    )
    db.session.add(article)
    db.session.flush()
    return article
