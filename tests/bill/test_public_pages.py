"""The public bill pages: the current draft with its sources, the versions, a version and the
differences between two; the staff freeze button."""

from __future__ import annotations

import pytest

from consultation.bill import versions
from consultation.bill.models import BillVersion
from consultation.core.models import utcnow
from tests.bill.helpers import (
    accepted_proposals,
    add_article,
    make_bill,
    synthesis_consultation,
)
from tests.bill.test_versions import cite, complete_bill


def test_the_draft_shows_divisions_articles_anchors_and_sources(db, client):
    bill, articles, accepted = complete_bill(db)
    db.session.commit()
    response = client.get("/consultations/c/texte")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert bill.title.replace("'", "&#39;") in page
    assert "Mesdames, Messieurs, 2 propositions." in page
    assert "TITRE Ier" in page and "CHAPITRE II" in page and "Construire" in page
    assert "Article 1er" in page and "Article 3" in page
    assert f'id="article-{articles[0].id}"' in page
    assert f"/consultations/c/propositions/{accepted[0].id}" in page
    assert f"Proposal no. {accepted[0].id}" in page
    assert accepted[0].organisation.name.replace("'", "&#39;") in page
    assert "print.css" in page and 'media="print"' in page
    assert "/consultations/c/texte/versions" in page


def test_a_lone_article_is_the_article_unique(db, client):
    consultation = synthesis_consultation()
    bill = make_bill(consultation)
    add_article(bill, None, body="Le seul article.")
    db.session.commit()
    page = client.get("/consultations/c/texte").get_data(as_text=True)
    assert "Article unique" in page
    assert "No source proposal." in page


def test_without_a_bill_the_page_says_the_synthesis_has_not_started(db, client):
    synthesis_consultation()
    db.session.commit()
    response = client.get("/consultations/c/texte")
    assert response.status_code == 200
    assert "The synthesis has not started yet" in response.get_data(as_text=True)
    versions_page = client.get("/consultations/c/texte/versions")
    assert versions_page.status_code == 200
    assert client.get("/api/v1/consultations/c/bill").status_code == 404


def test_the_draft_page_keeps_a_constant_number_of_queries(app, db, client, count_queries):
    app.config["PAGE_CACHE_ENABLED"] = False
    consultation = synthesis_consultation()
    bill, _articles, accepted = complete_bill(db, consultation, articles=2, proposals=2)
    db.session.commit()
    counts = []
    for more in (0, 20):
        for _ in range(more):
            cite(add_article(bill, bill.divisions[1]), accepted[1], db)
        db.session.commit()
        db.session.expire_all()
        with count_queries() as statements:
            assert client.get("/consultations/c/texte").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_versions_list_a_version_and_the_diff(db, client):
    bill, articles, accepted = complete_bill(db)
    versions.freeze_bill_version(bill, "Pour relecture", None, utcnow())
    articles[0].body = "Texte zéro entièrement revu."
    db.session.flush()
    cite(add_article(bill, bill.divisions[2], body="Nouvel article."), accepted[0], db)
    versions.freeze_bill_version(bill, "", None, utcnow())
    db.session.commit()

    listing = client.get("/consultations/c/texte/versions").get_data(as_text=True)
    assert "Version 1" in listing and "Version 2" in listing and "Pour relecture" in listing
    assert "/consultations/c/texte/versions/1/diff/2" in listing

    # The version shows the text as frozen, not as edited since.
    articles[0].body = "Texte modifié après le gel."
    db.session.commit()
    first = client.get("/consultations/c/texte/versions/1").get_data(as_text=True)
    assert "Texte 0." in first and "modifié après" not in first
    assert f'id="article-{articles[0].id}"' in first
    assert "SHA-256" in first

    diff = client.get("/consultations/c/texte/versions/1/diff/2")
    assert diff.status_code == 200
    page = diff.get_data(as_text=True)
    assert "<ins>" in page and "<del>" in page
    assert "Nouvel article." in page
    assert "added" in page and "changed" in page

    redirect = client.get("/consultations/c/texte/versions?a=1&b=2")
    assert redirect.status_code == 303
    assert redirect.headers["Location"].endswith("/consultations/c/texte/versions/1/diff/2")


@pytest.mark.parametrize(
    "path",
    [
        "/consultations/c/texte/versions/3",
        "/consultations/c/texte/versions/1/diff/3",
        "/consultations/c/texte/versions/9/diff/1",
        "/consultations/nowhere/texte",
    ],
)
def test_unknown_versions_are_404(db, client, path):
    bill, _articles, _accepted = complete_bill(db)
    versions.freeze_bill_version(bill, "", None, utcnow())
    db.session.commit()
    assert client.get(path).status_code == 404


def test_staff_freeze_a_version_from_the_versions_page(db, admin_client):
    complete_bill(db)
    db.session.commit()
    page = admin_client.get("/consultations/c/texte/versions").get_data(as_text=True)
    assert "Freeze this version" in page and "Coverage: 100%" in page
    response = admin_client.post(
        "/gestion/consultations/c/texte/figer",
        data={"note": "Pour le jury"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/consultations/c/texte/versions")
    assert db.session.query(BillVersion).one().note == "Pour le jury"
    followed = admin_client.get("/consultations/c/texte/versions").get_data(as_text=True)
    assert "Version 1 is frozen (3 articles)." in followed


def test_a_refused_freeze_shows_the_reason_with_a_409(db, admin_client):
    bill, _articles, _accepted = complete_bill(db)
    accepted_proposals(bill.consultation, 1)
    db.session.commit()
    response = admin_client.post("/gestion/consultations/c/texte/figer", data={"note": ""})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "1 accepted proposal has no disposition yet" in page
    assert db.session.query(BillVersion).count() == 0


def test_only_staff_may_freeze(db, client, contributor_client):
    complete_bill(db)
    db.session.commit()
    assert client.post("/gestion/consultations/c/texte/figer").status_code in (302, 401, 403)
    assert contributor_client.post("/gestion/consultations/c/texte/figer").status_code in (
        403,
        404,
    )
    assert db.session.query(BillVersion).count() == 0
