"""The page cache serves anonymous visitors fast and never serves a page older than the data."""

from __future__ import annotations

from sqlalchemy import select, update

from consultation.consultations.models import Consultation, Phase
from consultation.core.cache import DataVersion, current_version
from tests import factories


def test_a_cached_page_costs_one_query(app, db, client, count_queries):
    app.config["QUERY_COUNT_HEADER"] = True
    factories.make_consultation(slug="rapide", title="Avant")
    db.session.commit()
    assert client.get("/consultations/rapide/").status_code == 200
    with count_queries() as statements:
        response = client.get("/consultations/rapide/")
    assert response.status_code == 200
    assert statements == []  # nothing through SQLAlchemy...
    assert response.headers["X-Query-Count"] == "1"  # ...only the data version, on the driver
    assert "Avant" in response.get_data(as_text=True)


def test_a_change_is_seen_on_the_next_request(db, client):
    consultation = factories.make_consultation(slug="fraiche", title="Avant")
    db.session.commit()
    assert "Avant" in client.get("/consultations/fraiche/").get_data(as_text=True)
    consultation.title = "Après"
    db.session.commit()
    assert "Après" in client.get("/consultations/fraiche/").get_data(as_text=True)
    listing = client.get("/api/v1/consultations").get_json()
    assert listing[0]["title"] == "Après"


def test_bulk_statements_and_deletes_raise_the_version(db):
    consultation = factories.make_consultation()
    db.session.commit()
    before = current_version()
    db.session.execute(update(Consultation).values(phase=Phase.JURY))
    db.session.commit()
    assert current_version() == before + 1
    db.session.delete(consultation)
    db.session.commit()
    assert current_version() == before + 2


def test_volatile_writes_and_rollbacks_keep_the_version(db, sign_in):
    before = current_version()
    sign_in("contributor")  # a sign-in session and an audit entry: nothing public
    factories.make_consultation()
    db.session.rollback()
    db.session.commit()
    assert current_version() == before + 1  # the user and organisation of sign_in, only


def test_another_app_server_change_is_seen(db, client):
    """A change committed elsewhere (another process) raises the shared counter."""
    factories.make_consultation(slug="partagee", title="Avant")
    db.session.commit()
    client.get("/consultations/partagee/")
    with db.engine.begin() as connection:  # as another server would, outside this session
        connection.execute(update(Consultation).values(title="Ailleurs"))
        connection.execute(update(DataVersion).values(value=DataVersion.value + 1))
    assert "Ailleurs" in client.get("/consultations/partagee/").get_data(as_text=True)


def test_browsers_revalidate_with_the_etag(db, client):
    factories.make_consultation(slug="etag")
    db.session.commit()
    first = client.get("/consultations/etag/")
    assert first.headers["Cache-Control"] == "no-cache"
    etag = first.headers["ETag"]
    again = client.get("/consultations/etag/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    db.session.execute(update(Consultation).values(title="Changée"))
    db.session.commit()
    changed = client.get("/consultations/etag/", headers={"If-None-Match": etag})
    assert changed.status_code == 200


def test_signed_in_visitors_and_pages_with_forms_are_not_cached(db, sign_in, client):
    factories.make_consultation(slug="perso")
    db.session.commit()
    admin = sign_in("admin")
    page = admin.get("/consultations/perso/")
    assert "ETag" not in page.headers
    assert "/gestion/consultations/perso" in page.get_data(as_text=True)
    anonymous = client.get("/consultations/perso/").get_data(as_text=True)
    assert "/gestion/consultations/perso" not in anonymous


def test_a_cached_form_page_gives_each_visitor_a_working_token(app, db):
    import re

    app.config["WTF_CSRF_ENABLED"] = True
    factories.make_user(email="jeton@example.org")
    db.session.commit()
    first, second = app.test_client(), app.test_client()
    pages = [first.get("/connexion"), second.get("/connexion")]
    tokens = [
        re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)
        ).group(1)
        for page in pages
    ]
    assert tokens[0] != tokens[1]
    assert all("ETag" not in page.headers for page in pages)
    assert b"__csrf_token_placeholder__" not in pages[1].data
    response = second.post(
        "/connexion",
        data={
            "csrf_token": tokens[1],
            "email": "jeton@example.org",
            "password": factories.PASSWORD,
        },
    )
    assert response.status_code == 302


def test_languages_are_cached_apart(db, client):
    factories.make_consultation(slug="langues")
    db.session.commit()
    assert 'lang="fr"' in client.get("/consultations/langues/").get_data(as_text=True)
    client.get("/langue/en")
    assert 'lang="en"' in client.get("/consultations/langues/").get_data(as_text=True)


def test_the_version_row_exists_after_migrations(db):
    assert db.session.scalar(select(DataVersion.id)) == 1


def test_the_openapi_document_is_cached(client):
    first = client.get("/api/v1/openapi.json")
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_large_pages_are_sent_compressed_to_clients_that_accept_it(app, db, client):
    import gzip

    factories.make_consultation(slug="gros", summary="Une longue présentation. " * 400)
    db.session.commit()
    plain = client.get("/consultations/gros/")
    assert "Content-Encoding" not in plain.headers
    packed = client.get("/consultations/gros/", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert packed.headers["ETag"] != plain.headers["ETag"]
    again = client.get(
        "/consultations/gros/",
        headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]},
    )
    assert again.status_code == 304


def test_a_page_that_time_alone_changes_is_not_served_past_its_moment(app, db, client, monkeypatch):
    from datetime import timedelta

    from consultation.core.models import utcnow
    from tests.debates.helpers import make_debate

    consultation = factories.make_consultation(slug="horloge")
    debate = make_debate(consultation, starts_at=utcnow() + timedelta(hours=1))
    db.session.commit()
    url = f"/consultations/horloge/debats/{debate.id}"
    assert 'name="email"' in client.get(url).get_data(as_text=True)  # registration open

    later = utcnow() + timedelta(hours=2)  # the debate has started; no data has changed
    monkeypatch.setattr("consultation.core.cache.utcnow", lambda: later)
    monkeypatch.setattr("consultation.debates.views.utcnow", lambda: later)
    assert 'name="email"' not in client.get(url).get_data(as_text=True)


def test_a_vote_keeps_the_cached_pages_and_closing_the_round_does_not(db):
    """Visitors see a round's ballots only once it has closed: 100 jurors voting must not
    empty the page cache 25 times a second."""
    from consultation.core.models import utcnow
    from consultation.jury import ballots
    from consultation.jury.models import Choice
    from tests.jury.factories import open_voting_round

    voting_round, (juror,) = open_voting_round(jurors=1, articles=1)
    db.session.commit()
    before = current_version()
    item = ballots.round_items(voting_round)[0][0]
    ballots.cast_ballot(voting_round, juror, item, Choice.POUR, utcnow())
    db.session.commit()
    assert current_version() == before
    ballots.close_round(voting_round, None, utcnow())
    db.session.commit()
    assert current_version() == before + 1
