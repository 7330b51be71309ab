"""Public debate pages: the list and its filters, the month calendar, the detail page."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from consultation.core.models import utcnow
from consultation.debates import services
from consultation.debates.models import DebateFormat
from consultation.debates.services import PARIS
from tests import factories
from tests.debates.helpers import make_debate, registration


@pytest.fixture
def consultation(db):
    return factories.make_consultation(slug="ue2")


def _text(response, status: int = 200) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def test_the_list_shows_upcoming_and_past_debates_but_no_draft(client, db, consultation):
    make_debate(consultation, title="À venir")
    make_debate(consultation, title="Passé", starts_at=utcnow() - timedelta(days=2))
    make_debate(consultation, title="Brouillon secret", status="draft")
    db.session.commit()
    page = _text(client.get("/consultations/ue2/debats"))
    upcoming, past = page.split("Past debates")
    assert "À venir" in upcoming and "Passé" not in upcoming
    assert "Passé" in past
    assert "Brouillon secret" not in page


def test_filters_by_region_month_and_format(client, db, consultation):
    start = utcnow() + timedelta(days=5)
    make_debate(consultation, title="Nantes", region_code="52", starts_at=start)
    make_debate(consultation, title="Paris", region_code="11", starts_at=start)
    make_debate(
        consultation,
        title="En ligne",
        format=DebateFormat.ONLINE,
        venue="",
        online_url="https://visio.example",
    )
    db.session.commit()
    page = _text(client.get("/consultations/ue2/debats?region=11"))
    assert "Paris" in page and "Nantes" not in page
    page = _text(client.get("/consultations/ue2/debats?format=online"))
    assert "En ligne" in page and "Nantes" not in page
    month = start.astimezone(PARIS)
    following = (month.replace(day=28) + timedelta(days=4)).strftime("%Y-%m")
    page = _text(client.get(f"/consultations/ue2/debats?month={month:%Y-%m}"))
    assert "Nantes" in page
    page = _text(client.get(f"/consultations/ue2/debats?month={following}"))
    assert "Nantes" not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("region=99", "There is no region with the code “99”."),
        ("month=2021-13", "is not a month"),
        ("month=novembre", "is not a month"),
        ("format=pigeon", "is not a debate format"),
    ],
)
def test_bad_filters_are_a_readable_400(client, db, consultation, query, message):
    db.session.commit()
    for path in ("/consultations/ue2/debats", "/consultations/ue2/debats/calendrier"):
        assert message in _text(client.get(f"{path}?{query}"), 400)


def test_the_month_calendar_places_debates_on_their_day(client, db, consultation):
    start = datetime(2026, 12, 1, 18, 30, tzinfo=PARIS)
    make_debate(consultation, title="Premier décembre", starts_at=start)
    db.session.commit()
    page = _text(client.get("/consultations/ue2/debats/calendrier?month=2026-12"))
    assert "<caption>December 2026</caption>" in page
    assert "18:30 Premier décembre" in page
    assert "month=2026-11" in page and "month=2027-01" in page
    assert "Premier décembre" not in _text(
        client.get("/consultations/ue2/debats/calendrier?month=2027-01")
    )


def test_the_detail_page_gives_practical_details_and_the_calendar_link(client, db, consultation):
    debate = make_debate(consultation, title="Habiter demain", capacity=3)
    registration(debate)
    db.session.commit()
    page = _text(client.get(f"/consultations/ue2/debats/{debate.id}"))
    assert "Habiter demain" in page
    assert debate.venue in page
    assert "2 left of 3" in page
    assert f"/consultations/ue2/debats/{debate.id}.ics" in page
    assert 'name="email"' in page
    assert "Manage this debate" not in page


def test_a_draft_is_not_found_for_the_public_and_other_regions(client, db, consultation, sign_in):
    debate = make_debate(consultation, status="draft", region_code="52")
    db.session.commit()
    url = f"/consultations/ue2/debats/{debate.id}"
    assert client.get(url).status_code == 404
    assert sign_in("contributor").get(url).status_code == 404
    assert sign_in("regional_editor", region_code="11").get(url).status_code == 404
    page = _text(sign_in("regional_editor").get(url))
    assert "Manage this debate" in page and "Draft" in page
    assert sign_in("admin").get(url).status_code == 200


def test_a_debate_of_another_consultation_is_not_found(client, db, consultation):
    other = factories.make_consultation()
    debate = make_debate(other)
    db.session.commit()
    assert client.get(f"/consultations/ue2/debats/{debate.id}").status_code == 404


def test_a_held_debate_shows_its_minutes_and_no_form(client, db, consultation):
    debate = make_debate(consultation, starts_at=utcnow() - timedelta(days=1))
    partner = factories.make_organisation(name="Habitat 44")
    services.record_minutes(
        debate, "Les **propositions** retenues.", 35, [partner], factories.make_user("admin")
    )
    db.session.commit()
    page = _text(client.get(f"/consultations/ue2/debats/{debate.id}"))
    assert "<strong>propositions</strong>" in page
    assert "35 participants." in page and "Habitat 44" in page
    assert 'name="email"' not in page


def test_a_cancelled_debate_says_so(client, db, consultation):
    debate = make_debate(consultation)
    services.cancel_debate(debate, "Salle fermée", factories.make_user("admin"))
    db.session.commit()
    page = _text(client.get(f"/consultations/ue2/debats/{debate.id}"))
    assert "This debate is cancelled." in page and "Salle fermée" in page
    assert 'name="email"' not in page


def test_the_cached_list_is_never_stale(client, db, consultation):
    make_debate(consultation, title="Premier")
    db.session.commit()
    assert "Second" not in _text(client.get("/consultations/ue2/debats"))
    assert "Premier" in _text(client.get("/consultations/ue2/debats"))
    debate = make_debate(consultation, title="Second", capacity=2)
    db.session.commit()
    assert "Second" in _text(client.get("/consultations/ue2/debats"))
    page = _text(client.get(f"/consultations/ue2/debats/{debate.id}"))
    assert "2 left of 2" in page
    registration(debate)
    db.session.commit()
    assert "1 left of 2" in _text(client.get(f"/consultations/ue2/debats/{debate.id}"))


@pytest.mark.parametrize(
    "path",
    [
        "/consultations/ue2/debats",
        "/consultations/ue2/debats?region=52",
        "/consultations/ue2/debats/calendrier?month={month}",
    ],
)
def test_public_pages_cost_a_constant_number_of_queries(
    app, client, db, consultation, count_queries, path
):
    app.config["PAGE_CACHE_ENABLED"] = False
    month = (utcnow() + timedelta(days=5)).astimezone(PARIS).strftime("%Y-%m")
    path = path.format(month=month)
    make_debate(consultation, capacity=5)
    make_debate(consultation, starts_at=utcnow() - timedelta(days=3))
    db.session.commit()
    with count_queries() as few:
        _text(client.get(path))
    for region in ("52", "11", "84"):
        for _ in range(4):
            debate = make_debate(consultation, region_code=region, capacity=3)
            registration(debate)
        make_debate(consultation, region_code=region, starts_at=utcnow() - timedelta(days=2))
    db.session.commit()
    with count_queries() as many:
        _text(client.get(path))
    assert len(many) == len(few)


def test_an_unknown_consultation_is_not_found(client, db):
    assert client.get("/consultations/nope/debats").status_code == 404
    assert client.get("/consultations/nope/debats.ics").status_code == 404


def test_dates_are_french_for_french_visitors(client, db):
    consultation = factories.make_consultation(slug="historique", starts_on=date(2021, 11, 1))
    debate = make_debate(
        consultation, starts_at=datetime(2021, 11, 15, 18, 30, tzinfo=PARIS), status="held"
    )
    db.session.commit()
    client.get("/langue/fr?next=/")
    page = _text(client.get(f"/consultations/historique/debats/{debate.id}"))
    assert "lundi 15 novembre 2021, 18\u00a0h\u00a030" in page
    calendar = _text(client.get("/consultations/historique/debats/calendrier?month=2021-11"))
    assert "<caption>Novembre 2021</caption>" in calendar


def test_past_debates_show_no_places_left(client, db, consultation):
    make_debate(consultation, title="Fini", capacity=10, starts_at=utcnow() - timedelta(days=2))
    make_debate(consultation, title="Bientôt", capacity=10)
    db.session.commit()
    page = _text(client.get("/consultations/ue2/debats"))
    assert page.count("10 places left") == 1


def test_the_detail_page_costs_a_constant_number_of_queries(
    app, client, db, consultation, count_queries
):
    app.config["PAGE_CACHE_ENABLED"] = False
    debate = make_debate(consultation, capacity=50)
    registration(debate)
    db.session.commit()
    with count_queries() as few:
        _text(client.get(f"/consultations/ue2/debats/{debate.id}"))
    for _ in range(20):
        registration(debate)
    db.session.commit()
    with count_queries() as many:
        _text(client.get(f"/consultations/ue2/debats/{debate.id}"))
    assert len(many) == len(few)
