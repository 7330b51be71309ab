"""Oversized requests answer 413 with the readable French page (or a JSON error for API
clients), never a 500: on a form, on every file upload, and with too many form fields."""

from __future__ import annotations

import io

import pytest

from tests.core.test_permissions_table import SLUG
from tests.jury.factories import make_quotas
from tests.security.helpers import TOO_LARGE_FR, is_french_error_page

LIMIT = 32 * 1024  # lowered, to keep the test fast
TOO_MUCH = b"x" * (LIMIT + 1)
FORM_ROUTES = (
    ("anonymous", "/connexion", {"email": "a@example.org", "password": TOO_MUCH.decode()}),
    ("contributor", f"/gestion/consultations/{SLUG}/propositions/nouvelle", {"body": "x" * LIMIT}),
    ("anonymous", f"/consultations/{SLUG}/jury/candidature", {"full_name": "x" * LIMIT}),
)
UPLOAD_ROUTES = (
    (f"/gestion/consultations/{SLUG}/propositions/import", ("file",)),
    (f"/gestion/consultations/{SLUG}/jury/vivier/import", ("categories_file", "respondents_file")),
)


@pytest.fixture
def app_config(app_config):
    """With CSRF protection on, as in production: the body is read before any view runs."""
    app_config["MAX_CONTENT_LENGTH"] = LIMIT
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def _assert_too_large(response, where: str) -> None:
    assert is_french_error_page(response, 413), f"{where}: {response.status_code}"
    if not response.is_json:
        assert TOO_LARGE_FR in response.get_data(as_text=True), where


def test_an_oversized_form_is_refused(world, db):
    make_quotas(world.consultation)  # applications to the jury open: the form is read
    db.session.commit()
    for role, url, data in FORM_ROUTES:
        _assert_too_large(world.client(role).post(url, data=data), url)


def test_an_oversized_upload_is_refused(world):
    admin = world.client("admin")
    for url, fields in UPLOAD_ROUTES:
        for oversized in fields:
            data = {
                name: (io.BytesIO(TOO_MUCH if name == oversized else b"a;b\n"), f"{name}.csv")
                for name in fields
            }
            _assert_too_large(admin.post(url, data=data, content_type="multipart/form-data"), url)


def test_too_many_form_fields_are_refused(world):
    data = {f"field{number}": "x" for number in range(1_200)}  # Werkzeug's MAX_FORM_PARTS: 1000
    response = world.client("contributor").post(
        f"/gestion/consultations/{SLUG}/propositions/nouvelle",
        data=data,
        content_type="multipart/form-data",
    )
    _assert_too_large(response, "1,200 fields")


def test_an_api_client_gets_a_json_error(world):
    response = world.client("contributor").post(
        f"/gestion/consultations/{SLUG}/propositions/apercu",
        data=TOO_MUCH,
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 413
    assert response.is_json
    assert response.get_json()["error"]["status"] == 413
