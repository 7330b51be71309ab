"""The bill editor: structure rules, moves and renumbering, deletions, revisions and their
diffs, the editor pages, the phase rule and the scope of every object."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from consultation.bill import editing, services
from consultation.bill.models import (
    Article,
    ArticleRevision,
    ArticleSource,
    DispositionKind,
    Division,
    DivisionKind,
    ProposalDisposition,
)
from consultation.bill.outline import load_outline
from consultation.consultations.models import Phase
from consultation.core.audit import AuditEntry
from consultation.core.errors import Conflict, DomainError, InvalidTransition
from consultation.core.models import utcnow
from tests.bill.helpers import (
    accepted_proposals,
    add_article,
    add_division,
    make_bill,
    synthesis_consultation,
)

EDITOR = "/gestion/consultations/c/texte"


def _labels(bill) -> list[str]:
    return [node.label for node in load_outline(bill).articles]


def _texts(bill) -> list[str]:
    return [node.article.body for node in load_outline(bill).articles]


def _positions(articles) -> list[int]:
    return [article.position for article in articles]


# --- Structure rules ------------------------------------------------------------------------


def test_divisions_nest_one_level_below_their_parent(db):
    bill = make_bill(synthesis_consultation())
    titre = editing.add_division(bill, DivisionKind.TITRE, "Dispositions générales", None, None)
    chapitre = editing.add_division(bill, DivisionKind.CHAPITRE, "Le logement", titre, None)
    section = editing.add_division(bill, DivisionKind.SECTION, "Les loyers", chapitre, None)
    outline = load_outline(bill)
    labels = [node.label for node in outline.walk()]
    assert labels == ["TITRE Ier", "CHAPITRE Ier", "Section 1"]
    with pytest.raises(DomainError, match="Inside a titre, add a chapitre") as refused:
        editing.add_division(bill, DivisionKind.SECTION, "Trop bas", titre, None)
    assert refused.value.field == "kind" and refused.value.status_code == 400
    with pytest.raises(DomainError, match="lowest level"):
        editing.add_division(bill, DivisionKind.SECTION, "Sous-section", section, None)
    with pytest.raises(DomainError, match="of the kind titre"):
        editing.add_division(bill, DivisionKind.CHAPITRE, "À côté", None, None)
    with pytest.raises(DomainError, match="heading"):
        editing.add_division(bill, DivisionKind.TITRE, "   ", None, None)
    second = editing.add_division(bill, DivisionKind.TITRE, "Dispositions finales", None, None)
    assert second.position == 1
    assert load_outline(bill).division_index[second.id].label == "TITRE II"


def test_a_top_level_division_may_be_of_any_kind(db):
    bill = make_bill(synthesis_consultation())
    section = editing.add_division(bill, DivisionKind.SECTION, "Seule", None, None)
    assert load_outline(bill).division_index[section.id].label == "Section 1"


def test_a_division_holding_articles_cannot_receive_subdivisions(db):
    bill = make_bill(synthesis_consultation())
    chapitre = add_division(bill, "chapitre")
    add_article(bill, chapitre)
    with pytest.raises(DomainError, match="holds articles") as refused:
        editing.add_division(bill, DivisionKind.SECTION, "Section", chapitre, None)
    assert refused.value.field == "parent_id"


def test_a_division_of_another_bill_is_refused_as_parent(db):
    bill = make_bill(synthesis_consultation())
    other = make_bill(synthesis_consultation("autre"))
    foreign = add_division(other, "titre")
    with pytest.raises(DomainError, match="this bill"):
        editing.add_division(bill, DivisionKind.CHAPITRE, "Ailleurs", foreign, None)


def test_divisions_are_renamed_and_moved_and_their_articles_renumber(db):
    bill = make_bill(synthesis_consultation())
    first, second = add_division(bill, "chapitre"), add_division(bill, "chapitre")
    add_article(bill, first, body="A")
    add_article(bill, second, body="B")
    add_article(bill, second, body="C")
    assert _texts(bill) == ["A", "B", "C"]
    editing.move_division(second, -1, None)
    assert _texts(bill) == ["B", "C", "A"]
    assert _labels(bill) == ["Article 1er", "Article 2", "Article 3"]
    outline = load_outline(bill)
    assert outline.division_index[second.id].label == "CHAPITRE Ier"
    assert outline.division_index[first.id].label == "CHAPITRE II"
    editing.move_division(second, -1, None)  # already first: nothing changes
    assert (second.position, first.position) == (0, 1)
    editing.rename_division(first, "  Nouveau nom  ", None)
    assert first.heading == "Nouveau nom"
    with pytest.raises(DomainError, match="heading"):
        editing.rename_division(first, "", None)


def test_only_an_empty_division_is_deleted_and_its_siblings_close_up(db):
    bill = make_bill(synthesis_consultation())
    first, second, third = (add_division(bill, "titre") for _ in range(3))
    child = add_division(bill, "chapitre", first)
    add_article(bill, child)
    with pytest.raises(Conflict, match="not empty") as refused:
        editing.delete_division(first, None)
    assert refused.value.status_code == 409
    with pytest.raises(Conflict, match="not empty"):
        editing.delete_division(child, None)
    editing.delete_division(second, None)
    assert db.session.get(Division, second.id) is None
    assert (first.position, third.position) == (0, 1)
    assert load_outline(bill).division_index[third.id].label == "TITRE II"


# --- Articles: moves, deletions, numbering -----------------------------------------------------


def test_one_article_is_article_unique_and_numbering_continues_across_divisions(db):
    bill = make_bill(synthesis_consultation())
    first, second = add_division(bill), add_division(bill)
    now = utcnow()
    article = editing.add_article(bill, first, "", "Seul article.", None, now)
    assert _labels(bill) == ["Article unique"]
    editing.add_article(bill, second, "", "Deuxième.", None, now)
    editing.add_article(bill, first, "", "Premier bis.", None, now)
    assert _texts(bill) == ["Seul article.", "Premier bis.", "Deuxième."]
    assert _labels(bill) == ["Article 1er", "Article 2", "Article 3"]
    assert article.version_id == 1


def test_articles_move_up_and_down_within_their_division(db):
    bill = make_bill(synthesis_consultation())
    chapitre = add_division(bill)
    a, b, c = (add_article(bill, chapitre, body=text) for text in "ABC")
    editing.move_article(c, -1, None)
    assert _texts(bill) == ["A", "C", "B"]
    editing.move_article(a, 1, None)
    assert _texts(bill) == ["C", "A", "B"]
    editing.move_article(b, 1, None)  # already last
    assert sorted(_positions([a, b, c])) == [0, 1, 2]
    # A move is not an edit of the text: a colleague's open edit does not become stale.
    assert (a.version_id, b.version_id, c.version_id) == (1, 1, 1)


def test_an_article_moves_to_the_end_of_another_division(db):
    bill = make_bill(synthesis_consultation())
    first, second = add_division(bill), add_division(bill)
    a, b = add_article(bill, first, body="A"), add_article(bill, first, body="B")
    c = add_article(bill, second, body="C")
    editing.move_article_to(a, second, None)
    assert a.division_id == second.id
    assert _texts(bill) == ["B", "C", "A"]
    assert (b.position, c.position, a.position) == (0, 0, 1)
    assert a.version_id == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "article.moved"))
    assert entry.details["to_division"] == second.id


def test_a_move_that_would_empty_a_division_is_refused(db):
    bill = make_bill(synthesis_consultation())
    first, second = add_division(bill), add_division(bill)
    lonely = add_article(bill, first)
    add_article(bill, second)
    with pytest.raises(DomainError, match="Delete the division instead") as refused:
        editing.move_article_to(lonely, second, None)
    assert refused.value.status_code == 400
    assert lonely.division_id == first.id


def test_an_article_cannot_leave_its_bill_nor_go_into_a_division_of_divisions(db):
    bill = make_bill(synthesis_consultation())
    titre = add_division(bill, "titre")
    chapitre = add_division(bill, "chapitre", titre)
    article, _other = add_article(bill, chapitre), add_article(bill, chapitre)
    with pytest.raises(DomainError, match="holds divisions"):
        editing.move_article_to(article, titre, None)
    foreign = add_division(make_bill(synthesis_consultation("autre")))
    with pytest.raises(DomainError, match="cannot leave its bill"):
        editing.move_article_to(article, foreign, None)
    with pytest.raises(DomainError, match="already in this division"):
        editing.move_article_to(article, chapitre, None)


def test_deleting_an_article_renumbers_and_drops_the_last_source_disposition(db):
    consultation = synthesis_consultation()
    bill = make_bill(consultation)
    chapitre = add_division(bill)
    a, b, c = (add_article(bill, chapitre, body=text) for text in "ABC")
    only_here, also_elsewhere = accepted_proposals(consultation, 2)
    for article, proposal in ((b, only_here), (b, also_elsewhere), (c, also_elsewhere)):
        db.session.add(ArticleSource(article_id=article.id, proposal_id=proposal.id))
    for proposal in (only_here, also_elsewhere):
        db.session.add(
            ProposalDisposition(proposal_id=proposal.id, kind=DispositionKind.INTEGRATED)
        )
    db.session.flush()
    assert services.coverage(consultation).percent == 100
    editing.delete_article(b, None)
    assert _texts(bill) == ["A", "C"]
    assert (a.position, c.position) == (0, 1)
    assert _labels(bill) == ["Article 1er", "Article 2"]
    remaining = db.session.scalars(select(ProposalDisposition.proposal_id)).all()
    assert remaining == [also_elsewhere.id]
    assert services.coverage(consultation).percent == 50
    assert db.session.scalar(select(func.count(ArticleSource.id))) == 1
    editing.delete_article(a, None)
    assert _labels(bill) == ["Article unique"]


# --- Text saves and revisions -------------------------------------------------------------


def test_each_save_is_a_revision_and_a_stale_save_is_a_conflict(db):
    bill = make_bill(synthesis_consultation())
    article = editing.add_article(bill, add_division(bill), "Objet", "Premier.", None, utcnow())
    revision = editing.update_article(article, 1, "Objet", "Deuxième.", None, utcnow())
    assert (revision.number, article.version_id, article.body) == (2, 2, "Deuxième.")
    with pytest.raises(editing.ArticleConflict) as conflict:
        editing.update_article(article, 1, "Mien", "Troisième.", None, utcnow())
    assert conflict.value.status_code == 409
    assert conflict.value.theirs.body == "Deuxième."
    assert (conflict.value.heading, conflict.value.body) == ("Mien", "Troisième.")
    assert article.body == "Deuxième."
    assert len(editing.article_revisions(article)) == 2
    with pytest.raises(DomainError, match="text"):
        editing.update_article(article, 2, "", "  ", None, utcnow())


def test_the_bill_title_is_saved_under_optimistic_locking(db):
    bill = make_bill(synthesis_consultation())
    editing.update_bill(bill, 1, " Nouveau titre ", "Exposé.", None)
    assert (bill.title, bill.preamble, bill.version_id) == ("Nouveau titre", "Exposé.", 2)
    with pytest.raises(editing.BillConflict):
        editing.update_bill(bill, 1, "Ancien", "", None)
    with pytest.raises(DomainError, match="title"):
        editing.update_bill(bill, 2, "", "", None)


def test_nothing_is_edited_outside_the_synthesis(db):
    consultation = synthesis_consultation()
    bill = make_bill(consultation)
    chapitre = add_division(bill)
    article, _other = add_article(bill, chapitre), add_article(bill, chapitre)
    consultation.phase = Phase.JURY
    attempts = [
        lambda: editing.update_bill(bill, 1, "T", "", None),
        lambda: editing.add_division(bill, DivisionKind.CHAPITRE, "X", None, None),
        lambda: editing.rename_division(chapitre, "X", None),
        lambda: editing.move_division(chapitre, 1, None),
        lambda: editing.delete_division(chapitre, None),
        lambda: editing.add_article(bill, chapitre, "", "X", None, utcnow()),
        lambda: editing.move_article(article, 1, None),
        lambda: editing.delete_article(article, None),
        lambda: editing.update_article(article, 1, "", "X", None, utcnow()),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidTransition, match="synthesis phase only"):
            attempt()


# --- Pages ------------------------------------------------------------------------------


@pytest.fixture
def bill(db):
    consultation = synthesis_consultation()
    bill = make_bill(consultation)
    db.session.commit()
    return bill


def test_an_admin_builds_the_bill_through_the_editor(db, admin_client):
    consultation = synthesis_consultation()
    db.session.commit()
    page = admin_client.get(EDITOR)
    assert page.status_code == 200
    assert "no division and no article yet" in page.text
    response = admin_client.post(
        f"{EDITOR}/divisions", data={"kind": "titre", "heading": "Premier titre"}
    )
    assert response.status_code == 302
    titre = db.session.scalar(select(Division))
    response = admin_client.post(
        f"{EDITOR}/divisions",
        data={"kind": "chapitre", "heading": "Premier chapitre", "parent_id": str(titre.id)},
    )
    assert response.status_code == 302
    chapitre = db.session.scalar(select(Division).where(Division.parent_id == titre.id))
    for body in ("Texte un.", "Texte deux."):
        response = admin_client.post(
            f"{EDITOR}/articles", data={"division_id": str(chapitre.id), "body": body}
        )
        assert response.status_code == 302
    page = admin_client.get(EDITOR).text
    assert "TITRE Ier" in page and "CHAPITRE Ier" in page
    assert "Article 1er" in page and "Article 2" in page
    assert "Move to" not in page  # one division of articles: nowhere else to go
    second = db.session.scalar(select(Article).where(Article.body == "Texte deux."))
    response = admin_client.post(
        f"{EDITOR}/articles/{second.id}/deplacer", data={"direction": "up"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#article-{second.id}")
    db.session.expire_all()
    assert [
        node.article.body for node in load_outline(services.find_bill(consultation)).articles
    ] == [
        "Texte deux.",
        "Texte un.",
    ]
    # Accessible names say which item a control acts on.
    page = admin_client.get(EDITOR).text
    assert re.search(r"Down<span class=\"visually-hidden\"> Article 1er", page)
    assert 'Rename<span class="visually-hidden"> CHAPITRE Ier — Premier chapitre' in page


def test_the_title_form_saves_and_a_stale_one_keeps_the_typed_text(db, bill, admin_client):
    response = admin_client.post(
        EDITOR, data={"title": "Titre A", "preamble": "Motifs A", "version_id": "1"}
    )
    assert response.status_code == 302
    response = admin_client.post(
        EDITOR, data={"title": "Titre B", "preamble": "Motifs B", "version_id": "1"}
    )
    assert response.status_code == 409
    assert "Someone saved the title" in response.text
    assert 'value="Titre B"' in response.text and "Motifs B" in response.text
    assert 'name="version_id" type="hidden" value="2"' in response.text
    db.session.expire_all()
    assert (bill.title, bill.version_id) == ("Titre A", 2)
    response = admin_client.post(EDITOR, data={"title": "", "preamble": "", "version_id": "2"})
    assert response.status_code == 400


def test_refused_structure_changes_show_their_message_and_status(db, bill, admin_client):
    first, second = add_division(bill), add_division(bill)
    lonely = add_article(bill, first)
    add_article(bill, second)
    db.session.commit()
    response = admin_client.post(
        f"{EDITOR}/articles/{lonely.id}/deplacer", data={"division_id": str(second.id)}
    )
    assert response.status_code == 400
    assert "Delete the division instead" in response.text
    response = admin_client.post(f"{EDITOR}/divisions/{first.id}/supprimer")
    assert response.status_code == 409
    assert "is not empty" in response.text
    response = admin_client.post(f"{EDITOR}/divisions", data={"kind": "titre", "heading": "X"})
    assert response.status_code == 400
    assert "of the kind chapitre" in response.text
    response = admin_client.post(f"{EDITOR}/divisions/{first.id}", data={"heading": ""})
    assert response.status_code == 400
    response = admin_client.post(
        f"{EDITOR}/articles", data={"division_id": str(first.id), "heading": "Gardé", "body": ""}
    )
    assert response.status_code == 400
    assert 'value="Gardé"' in response.text
    response = admin_client.post(f"{EDITOR}/articles/{lonely.id}/deplacer", data={})
    assert response.status_code == 400
    foreign = add_division(make_bill(synthesis_consultation("autre")))
    db.session.commit()
    response = admin_client.post(
        f"{EDITOR}/articles/{lonely.id}/deplacer", data={"division_id": str(foreign.id)}
    )
    assert response.status_code == 400
    assert "cannot leave its bill" in response.text


def test_rename_move_and_delete_through_the_pages(db, bill, admin_client):
    first, second = add_division(bill), add_division(bill)
    a, b = add_article(bill, first, body="A"), add_article(bill, first, body="B")
    db.session.commit()
    assert (
        admin_client.post(
            f"{EDITOR}/divisions/{second.id}", data={"heading": "Renommé"}
        ).status_code
        == 302
    )
    assert (
        admin_client.post(
            f"{EDITOR}/divisions/{second.id}/deplacer", data={"direction": "up"}
        ).status_code
        == 302
    )
    assert (
        admin_client.post(
            f"{EDITOR}/articles/{a.id}/deplacer", data={"division_id": str(second.id)}
        ).status_code
        == 302
    )
    assert admin_client.post(f"{EDITOR}/articles/{b.id}/supprimer").status_code == 302
    assert admin_client.post(f"{EDITOR}/divisions/{first.id}/supprimer").status_code == 302
    db.session.expire_all()
    outline = load_outline(bill)
    assert [node.label for node in outline.walk()] == ["CHAPITRE Ier", "Article unique"]
    assert outline.divisions[0].division.heading == "Renommé"
    assert (
        admin_client.post(
            f"{EDITOR}/divisions/{second.id}/deplacer", data={"direction": "sideways"}
        ).status_code
        == 400
    )


def test_the_article_page_saves_and_lists_its_sources(db, bill, admin_client):
    consultation = bill.consultation
    article = editing.add_article(bill, add_division(bill), "Objet", "Premier.", None, utcnow())
    (proposal,) = accepted_proposals(consultation, 1, title="Encadrer les loyers")
    db.session.add(ArticleSource(article_id=article.id, proposal_id=proposal.id))
    db.session.commit()
    page = admin_client.get(f"{EDITOR}/articles/{article.id}")
    assert page.status_code == 200
    assert "Encadrer les loyers" in page.text
    assert f"/consultations/c/propositions/{proposal.id}" in page.text
    response = admin_client.post(
        f"{EDITOR}/articles/{article.id}",
        data={"heading": "Objet", "body": "Second.", "version_id": "1"},
    )
    assert response.status_code == 302
    response = admin_client.post(
        f"{EDITOR}/articles/{article.id}", data={"heading": "Objet", "body": "", "version_id": "2"}
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert (article.body, article.version_id) == ("Second.", 2)


def test_revisions_and_their_word_diff(db, bill, admin_client):
    author = admin_client.user
    article = editing.add_article(
        bill, add_division(bill), "Objet", "Le loyer est libre.", author, utcnow()
    )
    editing.update_article(article, 1, "Objet", "Le loyer est encadré.", author, utcnow())
    editing.update_article(
        article, 2, "Objet précisé", "Le loyer est encadré partout.", author, utcnow()
    )
    db.session.commit()
    url = f"{EDITOR}/articles/{article.id}/revisions"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert author.display_name in page.text
    assert "Changes from revision 2 to revision 3" in page.text
    assert "<ins> partout</ins>" in page.text or "<ins>partout</ins>" in page.text
    page = admin_client.get(f"{url}?a=1&b=3")
    assert "<del>libre</del>" in page.text and "<ins>encadré partout</ins>" in page.text
    assert admin_client.get(f"{url}?a=1&b=9").status_code == 404
    assert admin_client.get(f"{url}?a=x").status_code == 404


def test_outside_the_synthesis_the_editor_is_read_only_and_posts_answer_409(db, bill, admin_client):
    chapitre = add_division(bill)
    article = add_article(bill, chapitre, body="Texte figé.")
    services.record_revision(article, None, utcnow())
    bill.consultation.phase = Phase.JURY
    db.session.commit()
    page = admin_client.get(EDITOR)
    assert page.status_code == 200
    assert "Read only." in page.text and "synthesis phase only" in page.text
    assert "Texte figé." in page.text
    assert "Rename" not in page.text and "Add the division" not in page.text
    posts = {
        EDITOR: {"title": "T", "version_id": "1"},
        f"{EDITOR}/divisions": {"kind": "chapitre", "heading": "X"},
        f"{EDITOR}/divisions/{chapitre.id}": {"heading": "X"},
        f"{EDITOR}/divisions/{chapitre.id}/deplacer": {"direction": "down"},
        f"{EDITOR}/divisions/{chapitre.id}/supprimer": {},
        f"{EDITOR}/articles": {"division_id": str(chapitre.id), "body": "X"},
        f"{EDITOR}/articles/{article.id}/deplacer": {"direction": "up"},
        f"{EDITOR}/articles/{article.id}/supprimer": {},
    }
    for url, data in posts.items():
        response = admin_client.post(url, data=data)
        assert response.status_code == 409, url
        assert "synthesis phase only" in response.text, url
    response = admin_client.post(
        f"{EDITOR}/articles/{article.id}",
        data={"heading": "", "body": "Mon texte tapé.", "version_id": str(article.version_id)},
    )
    assert response.status_code == 409
    assert "synthesis phase only" in response.text and "Mon texte tapé." in response.text
    db.session.expire_all()
    assert article.body == "Texte figé."


def test_objects_of_another_consultation_answer_404(db, bill, admin_client):
    other = make_bill(synthesis_consultation("autre"))
    division = add_division(other)
    article = add_article(other, division)
    db.session.commit()
    for url in (
        f"{EDITOR}/articles/{article.id}",
        f"{EDITOR}/articles/{article.id}/revisions",
    ):
        assert admin_client.get(url).status_code == 404, url
    for url in (
        f"{EDITOR}/divisions/{division.id}",
        f"{EDITOR}/divisions/{division.id}/deplacer",
        f"{EDITOR}/divisions/{division.id}/supprimer",
        f"{EDITOR}/articles/{article.id}",
        f"{EDITOR}/articles/{article.id}/deplacer",
        f"{EDITOR}/articles/{article.id}/supprimer",
    ):
        assert (
            admin_client.post(url, data={"heading": "X", "direction": "up"}).status_code == 404
        ), url


def test_non_staff_are_refused(db, bill, sign_in, client):
    for role in ("contributor", "regional_editor", "juror"):
        assert sign_in(role).get(EDITOR).status_code == 403
        assert (
            sign_in(role)
            .post(f"{EDITOR}/divisions", data={"kind": "titre", "heading": "X"})
            .status_code
            == 403
        )
    assert client.get(EDITOR).status_code == 302
    assert db.session.scalar(select(func.count(Division.id))) == 0


def test_the_editor_runs_a_constant_number_of_queries(app, db, bill, admin_client, count_queries):
    app.config["PAGE_CACHE_ENABLED"] = False
    chapitre = add_division(bill)
    (proposal,) = accepted_proposals(bill.consultation, 1)

    def grow(count: int) -> None:
        for _ in range(count):
            article = add_article(bill, chapitre)
            db.session.add(ArticleSource(article_id=article.id, proposal_id=proposal.id))
        add_division(bill)
        db.session.commit()

    def measure() -> int:
        with count_queries() as statements:
            assert admin_client.get(EDITOR).status_code == 200
        return len(statements)

    grow(2)
    small = measure()
    grow(20)
    assert measure() == small


def test_revision_rows_are_kept_per_save(db, bill):
    article = editing.add_article(bill, add_division(bill), "", "Un.", None, utcnow())
    for version in range(1, 4):
        editing.update_article(article, version, "", f"Texte {version}.", None, utcnow())
    numbers = db.session.scalars(
        select(ArticleRevision.number).where(ArticleRevision.article_id == article.id)
    ).all()
    assert sorted(numbers) == [1, 2, 3, 4]


def test_a_save_is_part_of_its_request_transaction(db, bill):
    """No savepoint commits behind the request's back: rolling back undoes the save."""
    article = editing.add_article(bill, add_division(bill), "", "Un.", None, utcnow())
    db.session.commit()
    editing.update_article(article, 1, "", "Deux.", None, utcnow())
    editing.update_bill(bill, bill.version_id, "Autre titre", "", None)
    db.session.rollback()
    assert db.session.scalar(select(Article.body).where(Article.id == article.id)) == "Un."
    assert bill.title != "Autre titre"
    assert len(editing.article_revisions(article)) == 1


def test_the_add_division_form_proposes_the_kind_expected_there(db, bill, admin_client):
    titre = add_division(bill, "titre")
    db.session.commit()
    page = admin_client.get(f"{EDITOR}?parent={titre.id}").text
    assert re.search(r'<option selected value="chapitre">', page)
    assert re.search(rf'<option selected value="{titre.id}">', page)
    page = admin_client.get(EDITOR).text
    assert re.search(r'<option selected value="titre">', page)


def test_the_editor_points_out_placeholders_that_are_not_figures(db, bill, admin_client):
    bill.preamble = "Déjà [[debats_tenus]] débats et [[debat_tenus]] coquilles."
    db.session.commit()
    page = admin_client.get(EDITOR).text
    assert "shown as typed: [[debat_tenus]]." in page
    bill.preamble = "Seulement [[debats_tenus]] débats."
    db.session.commit()
    assert "shown as typed" not in admin_client.get(EDITOR).text
