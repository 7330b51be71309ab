"""The shared bill rules: the synthesis phase, coverage, adding articles with a revision."""

from __future__ import annotations

import pytest

from consultation.bill import services
from consultation.bill.models import ArticleRevision, DispositionKind, ProposalDisposition
from consultation.bill.outline import load_outline
from consultation.consultations.models import Phase
from consultation.core.errors import DomainError, InvalidTransition
from consultation.core.models import utcnow
from tests.bill.helpers import (
    accepted_proposals,
    add_division,
    make_bill,
    synthesis_consultation,
)


def test_the_bill_is_created_on_first_use_during_the_synthesis(db):
    consultation = synthesis_consultation()
    assert services.find_bill(consultation) is None
    bill = services.get_or_create_bill(consultation, None)
    assert services.get_or_create_bill(consultation, None) is bill
    consultation.phase = Phase.JURY
    with pytest.raises(InvalidTransition):
        services.check_editable(consultation)


def test_coverage_counts_the_accepted_proposals_with_a_disposition(db):
    consultation = synthesis_consultation()
    proposals = accepted_proposals(consultation, 3)
    assert services.coverage(consultation).percent == 0
    db.session.add(
        ProposalDisposition(
            proposal_id=proposals[0].id, kind=DispositionKind.NOT_RETAINED, reason="Hors champ"
        )
    )
    db.session.flush()
    coverage = services.coverage(consultation)
    assert (coverage.accepted, coverage.decided, coverage.percent) == (3, 1, 33)
    assert not coverage.is_complete


def test_articles_are_added_at_the_end_of_their_division_with_a_first_revision(db):
    consultation = synthesis_consultation()
    bill = make_bill(consultation)
    chapter = add_division(bill)
    now = utcnow()
    first = services.add_article(bill, chapter, "Objet", "Premier texte.", None, now)
    second = services.add_article(bill, chapter, "", "Second texte.", None, now)
    assert (first.position, second.position) == (0, 1)
    assert [node.label for node in load_outline(bill).articles] == ["Article 1er", "Article 2"]
    assert db.session.query(ArticleRevision).filter_by(article_id=first.id).one().number == 1
    with pytest.raises(DomainError, match="text"):
        services.add_article(bill, chapter, "", "   ", None, now)
    titre = add_division(bill, "titre")
    add_division(bill, "chapitre", titre)
    with pytest.raises(DomainError, match="holds divisions"):
        services.add_article(bill, titre, "", "Texte.", None, now)
