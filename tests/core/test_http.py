"""Security headers, error pages, the health check and the API."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from consultation.consultations.models import Phase
from tests import factories


def test_security_headers_on_every_response(client):
    for url in ("/connexion", "/healthz", "/inexistante", "/static/css/app.css"):
        response = client.get(url)
        response.close()
        csp = response.headers["Content-Security-Policy"]
        assert "object-src 'none'" in csp
        assert "base-uri 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_script(db, client):
    factories.make_consultation(slug="csp")
    db.session.commit()
    for url in ("/consultations/csp/", "/connexion", "/accessibilite"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>" not in page and " on" + "click=" not in page


def test_error_pages_are_readable_html_and_json(client):
    page = client.get("/nulle-part")
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert '<main id="contenu"' in page.get_data(as_text=True)
    api = client.get("/api/v1/nulle-part")
    assert api.status_code == 404
    assert api.get_json()["error"]["status"] == 404
    wrong_method = client.delete("/connexion")
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["Allow"]


def test_unexpected_errors_become_a_500_page(app, client):
    from consultation.core.permissions import access, public

    @access(public)
    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/casse", "broken", broken)
    response = client.get("/casse")
    assert response.status_code == 500
    assert "boom" not in response.get_data(as_text=True)


def test_too_large_requests_get_a_413(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 10
    response = client.post("/connexion", data={"email": "x" * 100, "password": "y"})
    assert response.status_code == 413


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_healthz_says_when_the_database_is_down(client, monkeypatch):
    from consultation.extensions import db

    def fail(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("down"))

    monkeypatch.setattr(db.session, "execute", fail)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        **response.get_json(),
        "status": "error",
        "database": "unavailable",
    }


def test_api_lists_public_consultations(db, client):
    factories.make_consultation(slug="publique", title="Publique")
    factories.make_consultation(slug="cachee", phase=Phase.PREPARATION)
    db.session.commit()
    body = client.get("/api/v1/consultations").get_json()
    assert [item["slug"] for item in body] == ["publique"]
    assert body[0]["phase"] == "concertation"
    assert body[0]["url"].endswith("/consultations/publique/")
    assert {period["phase"] for period in body[0]["periods"]} >= {"concertation", "jury"}
    detail = client.get("/api/v1/consultations/publique").get_json()
    assert detail["title"] == "Publique"


def test_openapi_document_is_generated_from_the_code(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/consultations" in spec["paths"]
    assert "/api/v1/consultations/{slug}" in spec["paths"]
    assert "Consultation" in spec["components"]["schemas"]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_language_switch(client, language):
    response = client.get(f"/langue/{language}?next=/connexion")
    assert response.headers["Location"] == "/connexion"
    page = client.get("/connexion").get_data(as_text=True)
    assert f'<html lang="{language}">' in page


def test_language_switch_never_redirects_off_site(client):
    response = client.get("/langue/en?next=//evil.example/")
    assert response.headers["Location"] == "/"
