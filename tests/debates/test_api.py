"""`/api/v1/consultations/<slug>/debates`: public debates only, filtered by region, paginated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consultation.consultations.models import Phase
from consultation.debates.models import DebateFormat, DebateStatus
from tests import factories
from tests.debates.helpers import make_debate


@pytest.fixture
def consultation(db):
    return factories.make_consultation(slug="api-debats")


def test_lists_public_debates_with_their_fields(db, client, consultation):
    start = datetime(2021, 11, 15, 17, 30, tzinfo=UTC)  # 18:30 in Paris
    held = make_debate(
        consultation,
        "52",
        status=DebateStatus.HELD,
        starts_at=start,
        title="Débat régional Pays de la Loire",
        capacity=80,
    )
    cancelled = make_debate(consultation, "11", status=DebateStatus.CANCELLED)
    published = make_debate(
        consultation,
        "84",
        format=DebateFormat.ONLINE,
        venue="",
        online_url="https://visio.example.org/d",
    )
    make_debate(consultation, "52", status=DebateStatus.DRAFT, title="Brouillon")
    make_debate(factories.make_consultation(), "52", title="Ailleurs")
    db.session.commit()
    body = client.get("/api/v1/consultations/api-debats/debates").get_json()
    assert [item["id"] for item in body["items"]] == [held.id, cancelled.id, published.id]
    assert body["total"] == 3 and body["page"] == 1 and body["pages"] == 1
    first = body["items"][0]
    assert first == {
        "id": held.id,
        "title": "Débat régional Pays de la Loire",
        "region_code": "52",
        "region_name": "Pays de la Loire",
        "organiser_name": held.organiser.name,
        "starts_at": "2021-11-15T18:30:00+01:00",
        "ends_at": "2021-11-15T20:30:00+01:00",
        "format": "in_person",
        "venue": "1 rue de la Paix, Nantes",
        "online_url": "",
        "capacity": 80,
        "status": "held",
        "url": f"http://localhost/consultations/api-debats/debats/{held.id}",
    }
    assert body["items"][1]["status"] == "cancelled"
    online = body["items"][2]
    assert online["format"] == "online" and online["online_url"] == "https://visio.example.org/d"
    assert online["capacity"] is None


def test_filters_by_region(db, client, consultation):
    in_pdl = make_debate(consultation, "52")
    make_debate(consultation, "11")
    db.session.commit()
    body = client.get("/api/v1/consultations/api-debats/debates?region=52").get_json()
    assert [item["id"] for item in body["items"]] == [in_pdl.id]
    empty = client.get("/api/v1/consultations/api-debats/debates?region=94").get_json()
    assert empty["items"] == [] and empty["total"] == 0 and empty["pages"] == 1


@pytest.mark.parametrize("code", ["99", "pays-de-la-loire", ""])
def test_unknown_region_is_a_400_json_error(db, client, consultation, code):
    db.session.commit()
    response = client.get(f"/api/v1/consultations/api-debats/debates?region={code}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400
    assert error["message"] == f"There is no region with the code “{code}”."


def test_paginates(db, client, consultation):
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    debates = [
        make_debate(consultation, "52", starts_at=start + timedelta(hours=index))
        for index in range(5)
    ]
    db.session.commit()
    url = "/api/v1/consultations/api-debats/debates"
    body = client.get(f"{url}?per_page=2&page=2").get_json()
    assert [item["id"] for item in body["items"]] == [debates[2].id, debates[3].id]
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (2, 2, 5, 3)
    assert client.get(f"{url}?per_page=2&page=9").get_json()["items"] == []
    assert client.get(f"{url}?per_page=100").status_code == 200
    for bad in ("per_page=101", "per_page=0", "page=0", "page=deux"):
        response = client.get(f"{url}?{bad}")
        assert response.status_code == 422, bad
        assert response.get_json()["error"]["status"] == 422


def test_unknown_or_unpublished_consultation_is_a_404(db, client):
    factories.make_consultation(slug="en-preparation", phase=Phase.PREPARATION)
    db.session.commit()
    assert client.get("/api/v1/consultations/inconnue/debates").status_code == 404
    assert client.get("/api/v1/consultations/en-preparation/debates").status_code == 404


def test_query_count_does_not_grow_with_the_debates(app, db, client, consultation, count_queries):
    app.config["PAGE_CACHE_ENABLED"] = False  # count the queries of a rendering
    url = "/api/v1/consultations/api-debats/debates?region=52"
    make_debate(consultation, "52")
    db.session.commit()
    with count_queries() as few:
        assert len(client.get(url).get_json()["items"]) == 1
    for index in range(12):
        make_debate(consultation, ("52", "11")[index % 2], partner=None)
    db.session.commit()
    with count_queries() as many:
        assert len(client.get(url).get_json()["items"]) == 7
    assert len(many) == len(few) <= 5


def test_responses_are_served_from_the_page_cache(db, client, consultation, count_queries):
    make_debate(consultation, "52")
    db.session.commit()
    url = "/api/v1/consultations/api-debats/debates"
    first = client.get(url)
    with count_queries() as statements:
        second = client.get(url)
    assert second.get_data() == first.get_data()
    assert statements == []  # only the data version, read on a raw driver connection


def test_openapi_describes_the_endpoint(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/consultations/{slug}/debates"]["get"]
    parameters = {parameter["name"] for parameter in operation["parameters"]}
    assert {"region", "page", "per_page"} <= parameters
    assert {"200", "400", "404"} <= set(operation["responses"])
    schemas = spec["components"]["schemas"]
    assert {"Debate", "DebatePage"} <= set(schemas)
    properties = schemas["Debate"]["properties"]
    assert properties["starts_at"]["format"] == "date-time"
    assert {"id", "title", "region_code", "region_name", "organiser_name", "url"} <= set(properties)
