"""Public consultation pages: `/`, the list, each home with its timeline and key figures."""

from __future__ import annotations

from datetime import date

from consultation.consultations.models import Phase
from tests import factories


def test_root_leads_to_the_latest_active_consultation(db, client):
    factories.make_consultation(slug="ancienne", phase=Phase.REMISE, starts_on=date(2021, 11, 15))
    factories.make_consultation(slug="ouverte", phase=Phase.CONCERTATION)
    factories.make_consultation(slug="en-preparation", phase=Phase.PREPARATION)
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/consultations/ouverte/")


def test_root_shows_the_list_when_no_consultation_is_active(db, client):
    factories.make_consultation(slug="archivee", phase=Phase.ARCHIVED)
    db.session.commit()
    response = client.get("/")
    assert response.headers["Location"].endswith("/consultations/")
    listing = client.get("/consultations/").get_data(as_text=True)
    assert "/consultations/archivee/" in listing


def test_home_shows_timeline_and_figures(db, client):
    factories.make_consultation(slug="accueil", title="Utiles ensemble test", phase=Phase.SYNTHESE)
    factories.make_organisation()
    db.session.commit()
    response = client.get("/consultations/accueil/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Utiles ensemble test" in page
    assert page.count('class="timeline-step') == 4
    assert 'class="timeline-step timeline-done"' in page
    assert 'aria-current="step"' in page
    assert 'class="figure-value"' in page


def test_unknown_slug_is_a_404_page(client):
    response = client.get("/consultations/inexistante/")
    assert response.status_code == 404
    assert "<h1>" in response.get_data(as_text=True)


def test_a_consultation_in_preparation_is_hidden_from_the_public(db, client, sign_in):
    factories.make_consultation(slug="secrete", phase=Phase.PREPARATION)
    db.session.commit()
    assert client.get("/consultations/secrete/").status_code == 404
    assert sign_in("contributor").get("/consultations/secrete/").status_code == 404
    assert sign_in("admin").get("/consultations/secrete/").status_code == 200
    assert "/consultations/secrete/" not in client.get("/consultations/").get_data(as_text=True)
    assert client.get("/api/v1/consultations/secrete").status_code == 404


def test_home_runs_a_constant_number_of_queries(app, db, client, count_queries):
    app.config["PAGE_CACHE_ENABLED"] = False  # count the queries of rendering the page
    factories.make_consultation(slug="mesure")
    db.session.commit()
    client.get("/consultations/mesure/")  # warm up
    with count_queries() as few:
        assert client.get("/consultations/mesure/").status_code == 200
    for _ in range(30):
        factories.make_organisation()
        factories.make_consultation()
    db.session.commit()
    with count_queries() as many:
        assert client.get("/consultations/mesure/").status_code == 200
    assert len(many) == len(few)


def test_list_runs_a_constant_number_of_queries(app, db, client, count_queries):
    app.config["PAGE_CACHE_ENABLED"] = False  # count the queries of rendering the page
    factories.make_consultation()
    db.session.commit()
    with count_queries() as few:
        client.get("/consultations/")
    for _ in range(20):
        factories.make_consultation()
    db.session.commit()
    with count_queries() as many:
        client.get("/consultations/")
    assert len(many) == len(few)
