"""The bill in the public API: /api/v1/consultations/<c>/bill, and its OpenAPI description."""

from __future__ import annotations

from consultation.bill import versions
from consultation.core.models import utcnow
from tests.bill.helpers import add_article, synthesis_consultation
from tests.bill.test_versions import complete_bill


def test_the_bill_endpoint_gives_divisions_articles_and_sources(db, client):
    bill, articles, accepted = complete_bill(db)
    version = versions.freeze_bill_version(bill, "Pour le jury", None, utcnow())
    db.session.commit()
    response = client.get("/api/v1/consultations/c/bill")
    assert response.status_code == 200
    data = response.get_json()
    assert data["title"] == bill.title
    assert data["preamble"] == "Mesdames, Messieurs, 2 propositions."
    assert data["article_count"] == 3 and data["articles"] == []
    titre = data["divisions"][0]
    assert (titre["kind"], titre["label"], titre["number"]) == ("titre", "TITRE Ier", 1)
    chapter = titre["divisions"][0]
    article = chapter["articles"][0]
    assert article["number"] == 1 and article["label"] == "Article 1er"
    assert article["heading"] == "Objet 0" and article["body"] == "Texte 0."
    assert article["id"] == articles[0].id
    source = article["sources"][0]
    assert source["proposal_id"] == accepted[0].id
    assert source["title"] == accepted[0].title
    assert source["organisation"] == accepted[0].organisation.name
    assert source["source_kind"] == "organisme"
    assert set(source) >= {"region", "debate_id"}
    assert data["versions"] == [
        {
            "number": 1,
            "note": "Pour le jury",
            "frozen_at": data["versions"][0]["frozen_at"],
            "checksum": version.checksum,
            "url": "https://texte.example.org/consultations/c/texte/versions/1",
        }
    ]
    assert data["url"] == "https://texte.example.org/consultations/c/texte"


def test_no_bill_or_no_consultation_is_a_json_404(db, client):
    synthesis_consultation()
    db.session.commit()
    for path in ("/api/v1/consultations/c/bill", "/api/v1/consultations/nowhere/bill"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json()["error"]["status"] == 404


def test_the_bill_endpoint_is_in_the_openapi_document(db, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/consultations/{slug}/bill"]["get"]
    assert "200" in operation["responses"] and "404" in operation["responses"]
    schemas = spec["components"]["schemas"]
    assert {"Bill", "BillArticle", "BillDivision", "BillSource"} <= set(schemas)
    assert schemas["BillArticle"]["properties"]["number"]["type"] == "integer"


def test_the_bill_endpoint_keeps_a_constant_number_of_queries(app, db, client, count_queries):
    app.config["PAGE_CACHE_ENABLED"] = False
    counts = []
    bill, _articles, _accepted = complete_bill(db, articles=2)
    db.session.commit()
    with count_queries() as statements:
        assert client.get("/api/v1/consultations/c/bill").status_code == 200
    counts.append(len(statements))
    for _ in range(15):
        add_article(bill, bill.divisions[1])
    db.session.commit()
    with count_queries() as statements:
        assert client.get("/api/v1/consultations/c/bill").status_code == 200
    counts.append(len(statements))
    assert counts[0] == counts[1]
