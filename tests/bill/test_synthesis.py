"""The synthesis workspace: articles made from accepted proposals, attaching and detaching
sources, "not retained" with a reason, the coverage meter and the suggested groups; refusals
with a clear message and the right status, and pages with a constant number of queries."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from consultation.bill import services, synthesis
from consultation.bill.models import (
    ARTICLE_BODY_MAX,
    Article,
    ArticleRevision,
    ArticleSource,
    DispositionKind,
    ProposalDisposition,
)
from consultation.consultations.models import Phase
from consultation.core.audit import AuditEntry
from consultation.core.errors import Conflict, DomainError, InvalidTransition, NotFound
from consultation.core.models import utcnow
from consultation.extensions import db as _db
from consultation.proposals.models import Proposal
from tests import factories
from tests.bill.helpers import (
    accepted_proposals,
    add_article,
    add_division,
    make_bill,
    synthesis_consultation,
)
from tests.proposals.helpers import make_proposal, theme

SLUG = "synthese"
WORKSPACE = f"/gestion/consultations/{SLUG}/synthese"


@pytest.fixture
def consultation(db):
    return synthesis_consultation(SLUG)


@pytest.fixture
def admin(db):
    return factories.make_user("admin")


def _disposition(proposal: Proposal) -> ProposalDisposition | None:
    return _db.session.scalar(
        select(ProposalDisposition).where(ProposalDisposition.proposal_id == proposal.id)
    )


def _sources(article: Article) -> list[int]:
    return list(
        _db.session.scalars(
            select(ArticleSource.proposal_id)
            .where(ArticleSource.article_id == article.id)
            .order_by(ArticleSource.id)
        )
    )


def _actions(action: str) -> int:
    return _db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action))


# --- Services ------------------------------------------------------------------------------


def test_an_article_is_made_from_three_proposals_with_their_provenance(db, consultation, admin):
    first, second, third = accepted_proposals(consultation, 3)
    first.body = "Plafonner les loyers dans les zones tendues."
    bill = make_bill(consultation)
    chapter = add_division(bill)
    assert services.coverage(consultation).decided == 0

    article = synthesis.create_article_from_proposals(
        bill, chapter, [third.id, first.id, second.id], admin, utcnow()
    )

    assert article.division_id == chapter.id
    assert _sources(article) == [third.id, first.id, second.id]
    for proposal in (first, second, third):
        disposition = _disposition(proposal)
        assert disposition is not None and disposition.kind is DispositionKind.INTEGRATED
        assert disposition.decided_by_id == admin.id
    coverage = services.coverage(consultation)
    assert (coverage.accepted, coverage.decided, coverage.percent) == (3, 3, 100)
    # The texts are gathered in the order given, each with its attribution.
    body = article.body
    assert body.index(third.title) < body.index(first.title) < body.index(second.title)
    assert "Plafonner les loyers dans les zones tendues." in body
    assert f"Proposition n° {first.id}, {first.organisation.name}" in body
    assert db.session.scalar(
        select(func.count(ArticleRevision.id)).where(ArticleRevision.article_id == article.id)
    )
    assert _actions("article.created_from_proposals") == 1


def test_a_not_retained_proposal_becomes_integrated_when_made_into_an_article(
    db, consultation, admin
):
    (proposal,) = accepted_proposals(consultation, 1)
    synthesis.mark_not_retained(proposal, "Hors du champ de la loi.", admin, utcnow())
    bill = make_bill(consultation)
    synthesis.create_article_from_proposals(bill, None, [proposal.id], admin, utcnow())
    disposition = _disposition(proposal)
    assert disposition.kind is DispositionKind.INTEGRATED and disposition.reason == ""


def test_long_texts_are_cut_to_fit_one_article(db, consultation, admin):
    proposals = accepted_proposals(consultation, 3, body="Très long texte. " * 1_100)
    article = synthesis.create_article_from_proposals(
        make_bill(consultation), None, [p.id for p in proposals], admin, utcnow()
    )
    assert len(article.body) <= ARTICLE_BODY_MAX
    assert article.body.count("Proposition n° ") == 3


def test_attaching_adds_sources_and_leaves_the_text_alone(db, consultation, admin):
    first, second, third = accepted_proposals(consultation, 3)
    bill = make_bill(consultation)
    article = synthesis.create_article_from_proposals(bill, None, [first.id], admin, utcnow())
    text, version = article.body, article.version_id

    done = synthesis.attach_proposals(article, [second.id, first.id, third.id], admin, utcnow())

    assert [p.id for p in done.attached] == [second.id, third.id]
    assert [p.id for p in done.already] == [first.id]
    assert _sources(article) == [first.id, second.id, third.id]
    assert _disposition(third).kind is DispositionKind.INTEGRATED
    db.session.refresh(article)
    assert (article.body, article.version_id) == (text, version)
    with pytest.raises(Conflict, match="already sources"):
        synthesis.attach_proposals(article, [first.id], admin, utcnow())


def test_detaching_the_last_source_makes_a_proposal_undecided_again(db, consultation, admin):
    first, second = accepted_proposals(consultation, 2)
    bill = make_bill(consultation)
    one = synthesis.create_article_from_proposals(
        bill, None, [first.id, second.id], admin, utcnow()
    )
    other = synthesis.create_article_from_proposals(bill, None, [first.id], admin, utcnow())
    assert services.coverage(consultation).decided == 2

    synthesis.detach_proposal(one, first.id, admin, utcnow())
    assert _disposition(first).kind is DispositionKind.INTEGRATED  # still in the other article
    synthesis.detach_proposal(other, first.id, admin, utcnow())
    assert _disposition(first) is None
    synthesis.detach_proposal(one, second.id, admin, utcnow())
    assert services.coverage(consultation).decided == 0
    with pytest.raises(NotFound):
        synthesis.detach_proposal(one, second.id, admin, utcnow())


def test_not_retained_needs_a_reason_and_is_refused_for_a_source(db, consultation, admin):
    source, other = accepted_proposals(consultation, 2)
    synthesis.create_article_from_proposals(
        make_bill(consultation), None, [source.id], admin, utcnow()
    )
    with pytest.raises(DomainError, match="Say why") as refused:
        synthesis.mark_not_retained(other, "   ", admin, utcnow())
    assert refused.value.field == "reason"
    with pytest.raises(Conflict, match="detach it"):
        synthesis.mark_not_retained(source, "Redondante.", admin, utcnow())

    synthesis.mark_not_retained(other, "  Relève du règlement.  ", admin, utcnow())
    disposition = _disposition(other)
    assert disposition.kind is DispositionKind.NOT_RETAINED
    assert disposition.reason == "Relève du règlement."
    assert _actions("proposal.not_retained") == 1

    synthesis.clear_disposition(other, admin, utcnow())
    assert _disposition(other) is None
    with pytest.raises(InvalidTransition, match="no disposition"):
        synthesis.clear_disposition(other, admin, utcnow())
    with pytest.raises(Conflict, match="detach"):
        synthesis.clear_disposition(source, admin, utcnow())


def test_only_accepted_proposals_of_the_consultation_are_taken(db, consultation, admin):
    (accepted,) = accepted_proposals(consultation, 1)
    consultation.phase = Phase.CONCERTATION
    rejected = make_proposal(consultation, status="rejected")
    merged = make_proposal(consultation, status="merged", merged_into=accepted)
    draft = make_proposal(consultation, status="draft")
    submitted = make_proposal(consultation)
    elsewhere = make_proposal(factories.make_consultation(slug="ailleurs"), status="accepted")
    consultation.phase = Phase.SYNTHESE
    bill = make_bill(consultation)
    expected = {
        rejected.id: (InvalidTransition, "was rejected"),
        merged.id: (InvalidTransition, f"use the proposal it was merged into.*|.*{accepted.id}"),
        draft.id: (InvalidTransition, "is a draft"),
        submitted.id: (InvalidTransition, "has not been moderated"),
        elsewhere.id: (DomainError, "no proposal no"),
        999_999: (DomainError, "no proposal no. 999999"),
    }
    for proposal_id, (error, message) in expected.items():
        with pytest.raises(error, match=message) as refused:
            synthesis.create_article_from_proposals(
                bill, None, [accepted.id, proposal_id], admin, utcnow()
            )
        assert refused.value.field == "proposal_ids"
    assert db.session.scalar(select(func.count(Article.id))) == 0
    with pytest.raises(DomainError, match="at least one"):
        synthesis.create_article_from_proposals(bill, None, [], admin, utcnow())
    with pytest.raises(InvalidTransition, match="rejected"):
        synthesis.mark_not_retained(rejected, "Non.", admin, utcnow())


def test_nothing_is_written_outside_the_synthesis_phase(db, consultation, admin):
    first, second = accepted_proposals(consultation, 2)
    bill = make_bill(consultation)
    article = synthesis.create_article_from_proposals(bill, None, [first.id], admin, utcnow())
    synthesis.mark_not_retained(second, "Hors champ.", admin, utcnow())
    consultation.phase = Phase.JURY
    attempts = [
        lambda: synthesis.create_article_from_proposals(bill, None, [second.id], admin, utcnow()),
        lambda: synthesis.attach_proposals(article, [second.id], admin, utcnow()),
        lambda: synthesis.detach_proposal(article, first.id, admin, utcnow()),
        lambda: synthesis.mark_not_retained(first, "Non.", admin, utcnow()),
        lambda: synthesis.clear_disposition(second, admin, utcnow()),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidTransition, match="synthesis phase only"):
            attempt()


def test_similar_undecided_proposals_of_a_theme_are_suggested_together(db, consultation, admin):
    loyers = theme(consultation, "loyers", "Loyers")
    renovation = theme(consultation, "renovation", "Rénovation")
    titles = [
        ("Plafonner les loyers du parc privé", loyers),
        ("Plafonnement des loyers du parc privé", loyers),
        ("Plafonner les loyers privés", loyers),
        ("Simplifier les démarches des locataires", loyers),
        ("Plafonner les loyers du parc privé", renovation),  # same words, other theme
        ("Créer un fonds pour la rénovation thermique", renovation),
        ("Financer la rénovation thermique des logements", renovation),  # too far apart
    ]
    proposals = [
        accepted_proposals(consultation, 1, title=title, theme_id=item.id)[0]
        for title, item in titles
    ]
    groups = synthesis.similar_groups(consultation)
    assert [[pid for pid, _ in group.proposals] for group in groups] == [
        [proposals[0].id, proposals[1].id, proposals[2].id]
    ]
    assert groups[0].theme_name == "Loyers"
    # Once decided, a proposal is no longer suggested.
    synthesis.mark_not_retained(proposals[0], "Déjà en vigueur.", admin, utcnow())
    synthesis.mark_not_retained(proposals[1], "Déjà en vigueur.", admin, utcnow())
    assert synthesis.similar_groups(consultation) == []


# --- Pages ---------------------------------------------------------------------------------


def _ids(html: str, name: str = "proposal_ids") -> list[int]:
    return [int(value) for value in re.findall(rf'name="{name}" value="(\d+)"', html)]


def test_the_workspace_shows_the_coverage_and_the_proposals_by_theme(
    admin_client, db, consultation
):
    loyers = theme(consultation, "loyers", "Loyers")
    first, second = accepted_proposals(
        consultation, 2, title="Plafonner les loyers privés", theme_id=loyers.id
    )
    third = accepted_proposals(consultation, 1, title="Rénover les logements")[0]
    consultation.phase = Phase.CONCERTATION
    rejected = make_proposal(consultation, status="rejected", title="Une proposition rejetée")
    consultation.phase = Phase.SYNTHESE
    synthesis.mark_not_retained(third, "Relève du règlement.", None, utcnow())
    db.session.commit()

    response = admin_client.get(WORKSPACE)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "1 of 3 accepted proposals have a disposition (33 %)" in html
    assert '<meter id="coverage-meter" min="0" max="3" value="1"' in html
    assert f'href="/gestion/consultations/{SLUG}/synthese/sans-disposition"' in html
    assert "See the 2 proposals without a disposition" in html
    assert rejected.title not in html
    assert first.organisation.name in html and "Hlm organisation" in html
    assert "Pays de la Loire" in html and "Loyers" in html
    assert "Not retained: Relève du règlement." in html
    assert "Suggested groups of similar proposals" in html
    assert f'id="group-1-{first.id}"' in html and f'id="group-1-{second.id}"' in html
    assert sorted(set(_ids(html))) == sorted([first.id, second.id, third.id])
    assert "Create an article from the selected proposals" in html
    assert "Attach the selected proposals to the article" in html


def test_the_workspace_filters_by_theme_and_disposition(admin_client, db, consultation):
    loyers = theme(consultation, "loyers", "Loyers")
    in_theme = accepted_proposals(consultation, 1, title="Encadrer les loyers", theme_id=loyers.id)
    other = accepted_proposals(consultation, 1, title="Bâtir plus")[0]
    decided = accepted_proposals(consultation, 1, title="Une proposition écartée")[0]
    synthesis.mark_not_retained(decided, "Non.", None, utcnow())
    db.session.commit()

    html = admin_client.get(f"{WORKSPACE}?theme=loyers").get_data(as_text=True)
    assert "Encadrer les loyers" in html and "Bâtir plus" not in html
    assert '<option value="loyers" selected>' in html
    undecided = admin_client.get(f"{WORKSPACE}?etat=undecided").get_data(as_text=True)
    assert sorted(_ids(undecided)) == sorted([in_theme[0].id, other.id])
    not_retained = admin_client.get(f"{WORKSPACE}?etat=not_retained").get_data(as_text=True)
    assert "Une proposition écartée" in not_retained and "Bâtir plus" not in not_retained
    assert "No accepted proposal matches" in admin_client.get(
        f"{WORKSPACE}?etat=integrated"
    ).get_data(as_text=True)
    for query in ("theme=inconnu", "etat=perdu"):
        response = admin_client.get(f"{WORKSPACE}?{query}")
        assert response.status_code == 400
        assert "is not a" in response.get_data(as_text=True)


def test_an_article_is_created_from_the_workspace_and_the_coverage_rises(
    app, admin_client, db, consultation
):
    proposals = accepted_proposals(consultation, 4)
    db.session.commit()
    chosen = [proposals[2].id, proposals[0].id, proposals[1].id]

    response = admin_client.post(
        f"{WORKSPACE}/articles",
        data={"proposal_ids": [str(pid) for pid in chosen], "division_id": "", "heading": "Objet"},
    )

    assert response.status_code == 302
    article = db.session.scalar(select(Article))
    if "bill.edit_article" in app.view_functions:
        assert response.location.endswith(f"/articles/{article.id}")
    else:
        assert response.location.endswith("/synthese")
    assert _sources(article) == chosen and article.heading == "Objet"
    assert "Article created from 3 proposals" in admin_client.get(response.location).get_data(
        as_text=True
    )
    html = admin_client.get(WORKSPACE).get_data(as_text=True)
    assert "3 of 4 accepted proposals have a disposition (75 %)" in html
    assert "Integrated into" in html and "Article unique" in html
    assert "See the 1 proposal without a disposition" in html


def test_a_refused_creation_says_why_and_keeps_the_selection(admin_client, db, consultation):
    (accepted,) = accepted_proposals(consultation, 1)
    consultation.phase = Phase.CONCERTATION
    rejected = make_proposal(consultation, status="rejected")
    target = accepted_proposals(consultation, 1)[0]
    merged = make_proposal(consultation, status="merged", merged_into=target)
    consultation.phase = Phase.SYNTHESE
    db.session.commit()
    url = f"{WORKSPACE}/articles"

    empty = admin_client.post(url, data={"heading": "Mon intitulé"})
    html = empty.get_data(as_text=True)
    assert empty.status_code == 400
    assert "Select at least one proposal." in html and 'value="Mon intitulé"' in html

    cases = [
        (rejected.id, 409, f"Proposal no. {rejected.id} was rejected"),
        (merged.id, 409, "use the proposal it was merged into"),
        (999_999, 400, "There is no proposal no. 999999 in this consultation."),
        ("abc", 400, "There is no proposal no. 0"),
    ]
    for proposal_id, status, message in cases:
        response = admin_client.post(
            url, data={"proposal_ids": [str(accepted.id), str(proposal_id)]}
        )
        html = response.get_data(as_text=True)
        assert response.status_code == status, proposal_id
        assert message in html
        assert f'value="{accepted.id}" id="select-{accepted.id}" checked' in html
    assert db.session.scalar(select(func.count(Article.id))) == 0


def test_attaching_and_detaching_from_the_workspace(admin_client, db, consultation):
    first, second = accepted_proposals(consultation, 2)
    bill = make_bill(consultation)
    article = synthesis.create_article_from_proposals(bill, None, [first.id], None, utcnow())
    db.session.commit()

    missing = admin_client.post(f"{WORKSPACE}/rattacher", data={"proposal_ids": [str(second.id)]})
    assert missing.status_code == 400
    assert "Choose the article to attach the proposals to." in missing.get_data(as_text=True)
    html = admin_client.get(WORKSPACE).get_data(as_text=True)
    assert f'<option value="{article.id}">Article unique</option>' in html

    attached = admin_client.post(
        f"{WORKSPACE}/rattacher",
        data={"proposal_ids": [str(second.id)], "article_id": str(article.id)},
    )
    assert attached.status_code == 302
    assert "1 proposal attached to the article." in admin_client.get(WORKSPACE).get_data(
        as_text=True
    )
    assert services.coverage(consultation).decided == 2
    again = admin_client.post(
        f"{WORKSPACE}/rattacher",
        data={"proposal_ids": [str(second.id)], "article_id": str(article.id)},
    )
    assert again.status_code == 409
    assert "already sources of this article" in again.get_data(as_text=True)

    detach = f"{WORKSPACE}/propositions/{second.id}/detacher/{article.id}"
    assert f'action="{detach}"' in admin_client.get(WORKSPACE).get_data(as_text=True)
    assert admin_client.post(detach).status_code == 302
    db.session.expire_all()
    assert services.coverage(consultation).decided == 1
    gone = admin_client.post(detach)
    assert gone.status_code == 404
    assert "is not a source of this article" in gone.get_data(as_text=True)


def test_not_retained_from_the_workspace(admin_client, db, consultation):
    source, other = accepted_proposals(consultation, 2)
    synthesis.create_article_from_proposals(
        make_bill(consultation), None, [source.id], None, utcnow()
    )
    db.session.commit()

    empty = admin_client.post(f"{WORKSPACE}/propositions/{other.id}/non-retenue", data={})
    html = empty.get_data(as_text=True)
    assert empty.status_code == 400
    assert "Say why the proposal is not retained." in html
    assert '<details class="not-retained" open>' in html

    refused = admin_client.post(
        f"{WORKSPACE}/propositions/{source.id}/non-retenue", data={"reason": "Redondante."}
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "detach it from its articles" in html and ">Redondante.</textarea>" in html

    done = admin_client.post(
        f"{WORKSPACE}/propositions/{other.id}/non-retenue?etat=undecided",
        data={"reason": "Hors champ."},
    )
    assert done.status_code == 302 and done.location.endswith("/synthese?etat=undecided")
    db.session.expire_all()
    assert _disposition(other).reason == "Hors champ."

    cleared = admin_client.post(f"{WORKSPACE}/propositions/{other.id}/reexaminer")
    assert cleared.status_code == 302
    db.session.expire_all()
    assert _disposition(other) is None
    again = admin_client.post(f"{WORKSPACE}/propositions/{other.id}/reexaminer")
    assert again.status_code == 409
    assert "no disposition to reconsider" in again.get_data(as_text=True)
    unknown = admin_client.post(
        f"{WORKSPACE}/propositions/999999/non-retenue", data={"reason": "Non."}
    )
    assert unknown.status_code == 404


def test_outside_the_synthesis_the_workspace_is_read_only(admin_client, db, consultation):
    (proposal,) = accepted_proposals(consultation, 1)
    consultation.phase = Phase.JURY
    db.session.commit()

    page = admin_client.get(WORKSPACE)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Read only." in html and "synthesis phase only" in html
    assert 'name="proposal_ids"' not in html and "Mark as not retained" not in html
    posts = [
        (f"{WORKSPACE}/articles", {"proposal_ids": [str(proposal.id)]}),
        (f"{WORKSPACE}/propositions/{proposal.id}/non-retenue", {"reason": "Non."}),
        (f"{WORKSPACE}/propositions/{proposal.id}/reexaminer", {}),
    ]
    for url, data in posts:
        response = admin_client.post(url, data=data)
        assert response.status_code == 409, url
        assert "synthesis phase only" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ProposalDisposition.id))) == 0


def test_the_workspace_is_for_staff_only(db, consultation, contributor_client, editor_client):
    (proposal,) = accepted_proposals(consultation, 1)
    db.session.commit()
    for client in (contributor_client, editor_client):
        assert client.get(WORKSPACE).status_code == 403
        response = client.post(
            f"{WORKSPACE}/propositions/{proposal.id}/non-retenue", data={"reason": "Non."}
        )
        assert response.status_code == 403
    assert _disposition(proposal) is None


def test_the_undecided_list_is_one_click_from_the_meter(admin_client, db, consultation):
    waiting, decided = accepted_proposals(consultation, 2)
    synthesis.mark_not_retained(decided, "Non.", None, utcnow())
    db.session.commit()
    page = admin_client.get(f"{WORKSPACE}/sans-disposition")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert waiting.title in html and decided.title not in html
    assert "1 of 2 accepted proposals have a disposition (50 %)" in html
    assert f"{WORKSPACE}?etat=undecided" in html


def _grow(consultation, count: int) -> None:
    """More accepted proposals, from several regions and themes, some decided."""
    bill = services.get_or_create_bill(consultation, None)
    chapter = bill.divisions[0] if bill.divisions else add_division(bill)
    for number in range(count):
        organisation = factories.make_organisation(region_code="11" if number % 2 else "84")
        proposal = accepted_proposals(
            consultation,
            1,
            organisation=organisation,
            theme_id=theme(consultation, f"theme-{number % 4}").id,
            title=f"Mesure {number} pour le logement",
        )[0]
        if number % 3 == 0:
            article = add_article(bill, chapter, heading=f"Article {number}")
            synthesis.attach_proposals(article, [proposal.id], None, utcnow())
        elif number % 3 == 1:
            synthesis.mark_not_retained(proposal, "Non.", None, utcnow())


def test_the_workspace_and_undecided_pages_keep_a_constant_number_of_queries(
    app, admin_client, db, consultation, count_queries
):
    app.config["PAGE_CACHE_ENABLED"] = False
    _grow(consultation, 3)
    db.session.commit()
    urls = [WORKSPACE, f"{WORKSPACE}?etat=integrated", f"{WORKSPACE}/sans-disposition"]
    few = {}
    for url in urls:
        with count_queries() as queries:
            assert admin_client.get(url).status_code == 200
        few[url] = len(queries)
    _grow(consultation, 60)
    db.session.commit()
    for url in urls:
        with count_queries() as queries:
            assert admin_client.get(url).status_code == 200
        assert len(queries) == few[url], url


def test_a_division_or_article_of_another_bill_is_refused_beside_its_field(
    admin_client, db, consultation
):
    (proposal,) = accepted_proposals(consultation, 1)
    elsewhere = make_bill(factories.make_consultation(slug="autre", phase=Phase.SYNTHESE))
    foreign_division = add_division(elsewhere)
    foreign_article = add_article(elsewhere)
    db.session.commit()

    created = admin_client.post(
        f"{WORKSPACE}/articles",
        data={"proposal_ids": [str(proposal.id)], "division_id": str(foreign_division.id)},
    )
    assert created.status_code == 400
    assert '<ul class="field-errors" id="division_id-errors">' in created.get_data(as_text=True)
    attached = admin_client.post(
        f"{WORKSPACE}/rattacher",
        data={"proposal_ids": [str(proposal.id)], "article_id": str(foreign_article.id)},
    )
    assert attached.status_code == 400
    assert "Choose an article of this bill." in attached.get_data(as_text=True)
    too_many = admin_client.post(
        f"{WORKSPACE}/articles", data={"proposal_ids": [str(n) for n in range(1, 60)]}
    )
    assert too_many.status_code == 400
    assert "Select at most 50 proposals at a time." in too_many.get_data(as_text=True)
    assert _disposition(proposal) is None


def test_deciding_at_the_same_moment_as_someone_else_is_a_conflict(
    db, consultation, admin, monkeypatch
):
    (proposal,) = accepted_proposals(consultation, 1)
    synthesis.mark_not_retained(proposal, "Non.", admin, utcnow())
    db.session.commit()
    # As if another request wrote its disposition between our read and our write.
    monkeypatch.setattr(synthesis, "_dispositions", lambda ids: {})
    with pytest.raises(Conflict, match="at the same moment"):
        synthesis.create_article_from_proposals(
            make_bill(consultation), None, [proposal.id], admin, utcnow()
        )
    db.session.rollback()
    with pytest.raises(Conflict, match="at the same moment"):
        synthesis.mark_not_retained(proposal, "Toujours non.", admin, utcnow())
    db.session.rollback()
