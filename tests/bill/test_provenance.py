"""Provenance forward: each accepted proposal's public page says where it went in the bill
("Integrated into Article N", linked to the article) or why it was not retained, with a
constant number of queries whatever the size of the bill."""

from __future__ import annotations

import pytest

from consultation.bill import synthesis
from consultation.consultations.models import Phase
from consultation.core.models import utcnow
from tests.bill.helpers import (
    accepted_proposals,
    add_article,
    add_division,
    make_bill,
    synthesis_consultation,
)
from tests.proposals.helpers import make_proposal

SLUG = "provenance"


@pytest.fixture
def consultation(db):
    return synthesis_consultation(SLUG)


def _page(client, proposal) -> str:
    response = client.get(f"/consultations/{SLUG}/propositions/{proposal.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _link(app, label: str, article_id: int) -> str:
    """The link to the article on the public draft (its label alone while that page is not
    there)."""
    if "bill.text" not in app.view_functions:
        return label
    return f'<a href="/consultations/{SLUG}/texte#article-{article_id}">{label}</a>'


def test_an_integrated_proposal_links_to_its_articles(app, client, db, consultation):
    proposal, other = accepted_proposals(consultation, 2)
    bill = make_bill(consultation)
    chapter = add_division(bill)
    add_article(bill, chapter)  # Article 1er, not from this proposal
    second = synthesis.create_article_from_proposals(
        bill, chapter, [proposal.id, other.id], None, utcnow()
    )
    add_article(bill, chapter)
    fourth = add_article(bill, chapter)
    synthesis.attach_proposals(fourth, [proposal.id], None, utcnow())
    db.session.commit()

    html = _page(client, proposal)
    assert "In the draft bill" in html and "Integrated into" in html
    assert _link(app, "Article 2", second.id) in html
    assert _link(app, "Article 4", fourth.id) in html
    assert html.index("Article 2") < html.index("Article 4")
    assert "Article 3" not in html


def test_a_not_retained_proposal_says_why(client, db, consultation):
    (proposal,) = accepted_proposals(consultation, 1)
    synthesis.mark_not_retained(proposal, "Relève du domaine réglementaire.", None, utcnow())
    db.session.commit()
    html = _page(client, proposal)
    assert "Not retained: Relève du domaine réglementaire." in html
    assert "Integrated into" not in html


def test_an_undecided_proposal_says_so_and_others_say_nothing(client, db, consultation):
    (accepted,) = accepted_proposals(consultation, 1)
    consultation.phase = Phase.CONCERTATION
    rejected = make_proposal(consultation, status="rejected")
    submitted = make_proposal(consultation)
    consultation.phase = Phase.SYNTHESE
    db.session.commit()
    assert "has not decided yet" in _page(client, accepted)
    for proposal in (rejected, submitted):
        assert "In the draft bill" not in _page(client, proposal)


def test_the_proposal_page_keeps_a_constant_number_of_queries(
    app, client, db, consultation, count_queries
):
    app.config["PAGE_CACHE_ENABLED"] = False  # count the queries of rendering the page
    proposal, *others = accepted_proposals(consultation, 3)
    bill = make_bill(consultation)
    chapter = add_division(bill)
    article = synthesis.create_article_from_proposals(bill, chapter, [proposal.id], None, utcnow())
    db.session.commit()
    with count_queries() as few:
        assert "Article unique" in _page(client, proposal)

    for number in range(30):
        extra = add_article(bill, add_division(bill) if number % 10 == 0 else chapter)
        synthesis.attach_proposals(extra, [proposal.id], None, utcnow())
    more = accepted_proposals(consultation, 20)
    synthesis.attach_proposals(article, [p.id for p in more + others], None, utcnow())
    db.session.commit()
    with count_queries() as many:
        html = _page(client, proposal)
    assert html.count("#article-") == 31 or "bill.text" not in app.view_functions
    assert len(many) == len(few)
