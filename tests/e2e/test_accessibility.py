"""axe-core on the key pages: no serious or critical accessibility violation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from consultation.accounts.models import Organisation, User
from consultation.consultations.models import Consultation
from consultation.core.models import utcnow
from consultation.demo.services import HISTORICAL_SLUG, OPEN_SLUG, USH
from consultation.extensions import db
from consultation.proposals import services as proposal_services
from tests import factories
from tests.e2e.conftest import click_and_wait
from tests.proposals.helpers import make_proposal

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PUBLIC_PAGES = [
    f"/consultations/{OPEN_SLUG}/",
    f"/consultations/{HISTORICAL_SLUG}/",
    "/consultations/",
    f"/consultations/{OPEN_SLUG}/propositions",
    f"/consultations/{HISTORICAL_SLUG}/propositions?q=logement&sort=recent",
    f"/consultations/{OPEN_SLUG}/propositions?region=99",  # a readable 400
    "/connexion",
    "/mot-de-passe-oublie",
    "/accessibilite",
    "/confidentialite",
    f"/consultations/{HISTORICAL_SLUG}/texte",
    f"/consultations/{HISTORICAL_SLUG}/texte/versions",
    f"/consultations/{HISTORICAL_SLUG}/texte/versions/2",
    f"/consultations/{HISTORICAL_SLUG}/texte/versions/1/diff/2",
    f"/consultations/{OPEN_SLUG}/texte",  # no bill yet
]

ADMIN_PAGES = [
    "/compte",
    "/gestion/",
    "/gestion/consultations",
    f"/gestion/consultations/{OPEN_SLUG}",
    "/gestion/consultations/nouvelle",
    "/gestion/organisations",
    "/gestion/utilisateurs",
    "/gestion/invitations",
    "/gestion/journal",
]


@pytest.fixture
def signed_in_admin(demo, open_session) -> None:
    open_session("admin@example.org")


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_page(browser, live_server, demo, axe, path):
    browser.get(live_server(path))
    assert browser.find_element(By.TAG_NAME, "h1").text
    axe(browser)
    # E2E_SCREENSHOTS=dir keeps a picture of the home page to look at (never committed).
    if path == PUBLIC_PAGES[0] and (directory := os.environ.get("E2E_SCREENSHOTS")):
        browser.save_screenshot(str(Path(directory) / "consultation-home.png"))


def test_consultation_home_in_english(browser, live_server, demo, axe):
    browser.get(live_server(f"/langue/en?next=/consultations/{OPEN_SLUG}/"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    axe(browser)


@pytest.mark.parametrize("path", ["/nulle-part", "/consultations/inconnue/"])
def test_not_found_page(browser, live_server, demo, axe, path):
    browser.get(live_server(path))
    assert "404" in browser.find_element(By.CSS_SELECTOR, ".error-code").text
    axe(browser)


def test_sign_in_page_with_wrong_password(browser, live_server, demo, axe):
    browser.get(live_server("/connexion"))
    browser.find_element(By.NAME, "email").send_keys("admin@example.org")
    browser.find_element(By.NAME, "password").send_keys("not the password")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))
    assert browser.find_element(By.ID, "password-errors").is_displayed()
    axe(browser)


def test_sign_in_page_with_empty_fields(browser, live_server, demo, axe):
    browser.get(live_server("/connexion"))
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main button[type=submit]"))
    for name in ("email", "password"):
        field = browser.find_element(By.NAME, name)
        assert field.get_attribute("aria-invalid") == "true"
        assert f"{name}-errors" in field.get_attribute("aria-describedby")
    axe(browser)


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_page(browser, live_server, signed_in_admin, axe, path):
    browser.get(live_server(path))
    assert browser.current_url == live_server(path), "the admin was sent elsewhere"
    assert browser.find_element(By.TAG_NAME, "h1").text
    axe(browser)


@pytest.mark.parametrize(
    ("model", "email_or_name", "prefix"),
    [
        (User, "pdl@example.org", "/gestion/utilisateurs"),
        (Organisation, USH, "/gestion/organisations"),
    ],
)
def test_staff_edit_page(browser, live_server, signed_in_admin, axe, model, email_or_name, prefix):
    column = model.email if model is User else model.name
    object_id = db.session.scalar(select(model.id).where(column == email_or_name))
    browser.get(live_server(f"{prefix}/{object_id}"))
    assert browser.find_element(By.TAG_NAME, "h1").text
    axe(browser)


def test_consultation_form_with_errors(browser, live_server, signed_in_admin, axe):
    browser.get(live_server(f"/gestion/consultations/{OPEN_SLUG}"))
    title = browser.find_element(By.ID, "title")
    title.clear()
    slug = browser.find_element(By.ID, "slug")
    slug.clear()
    slug.send_keys("Not A Slug")
    click_and_wait(browser, title.find_element(By.XPATH, "ancestor::form//button[@type='submit']"))
    assert browser.find_element(By.ID, "title").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "slug-errors").is_displayed()
    axe(browser)


@pytest.mark.parametrize(
    "path",
    [
        f"/consultations/{OPEN_SLUG}/",
        "/connexion",
        f"/consultations/{HISTORICAL_SLUG}/propositions",
    ],
)
def test_page_fits_a_phone_screen(browser, live_server, demo, axe, path):
    size = browser.get_window_size()
    browser.set_window_size(390, 844)
    try:
        browser.get(live_server(path))
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"
        axe(browser)
        if path == f"/consultations/{OPEN_SLUG}/" and (
            directory := os.environ.get("E2E_SCREENSHOTS")
        ):
            browser.save_screenshot(str(Path(directory) / "consultation-home-phone.png"))
    finally:
        browser.set_window_size(size["width"], size["height"])


def test_proposal_pages(browser, live_server, demo, open_session, axe):
    """A proposal's page (with co-signatures and a merged proposal), its versions, and the
    page a co-signer sees with the co-sign button."""
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == OPEN_SLUG))
    target = make_proposal(consultation, title="Accessible proposal")
    make_proposal(consultation, status="merged", merged_into=target, title="Merged in")
    proposal_services.cosign_proposal(target, factories.make_user("contributor"), utcnow())
    signer = factories.make_user("contributor")
    db.session.commit()
    base = f"/consultations/{OPEN_SLUG}/propositions/{target.id}"
    for path in (base, f"{base}/versions"):
        browser.get(live_server(path))
        assert browser.find_element(By.TAG_NAME, "h1").text
        axe(browser)
    size = browser.get_window_size()
    browser.set_window_size(390, 844)
    try:
        browser.get(live_server(base))
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the proposal page scrolls sideways by {overflow}px on a phone"
    finally:
        browser.set_window_size(size["width"], size["height"])
    open_session(signer)
    browser.get(live_server(base))
    assert browser.find_elements(By.CSS_SELECTOR, "main form.inline-form button")
    axe(browser)
