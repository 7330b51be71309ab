"""Click-through journeys in a real browser, as a person would use the site."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from consultation.consultations.models import Consultation, Phase
from consultation.demo.services import DEMO_PASSWORD, OPEN_SLUG
from consultation.extensions import db
from tests.e2e.conftest import click_and_wait, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SIGN_OUT_BUTTON = "header form[action$='/deconnexion'] button"
SIGN_IN_LINK = "header a[href$='/connexion']"
ACCOUNT_LINK = "header a[href$='/compte']"


def path_of(browser) -> str:
    return urlsplit(browser.current_url).path


def is_signed_in(browser) -> bool:
    signed_in = bool(browser.find_elements(By.CSS_SELECTOR, SIGN_OUT_BUTTON))
    assert signed_in != bool(browser.find_elements(By.CSS_SELECTOR, SIGN_IN_LINK))
    return signed_in


def test_sign_in_then_sign_out(browser, live_server, demo, sign_in_as):
    sign_in_as("admin@example.org", DEMO_PASSWORD)
    assert path_of(browser) == f"/consultations/{OPEN_SLUG}/"
    assert is_signed_in(browser)
    assert browser.find_element(By.CSS_SELECTOR, ".flash-success").is_displayed()

    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, ACCOUNT_LINK))
    assert path_of(browser) == "/compte"
    assert "admin@example.org" in browser.find_element(By.TAG_NAME, "main").text

    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, SIGN_OUT_BUTTON))
    assert not is_signed_in(browser)
    browser.get(live_server("/compte"))
    assert path_of(browser) == "/connexion", "the account page needs a session again"


def test_wrong_password_keeps_you_out(browser, live_server, demo, sign_in_as):
    sign_in_as("admin@example.org", "not-the-password")
    assert path_of(browser) == "/connexion"
    assert not is_signed_in(browser)
    password = browser.find_element(By.NAME, "password")
    assert password.get_attribute("aria-invalid") == "true"
    assert password.get_attribute("value") == "", "a password is never sent back"
    assert browser.find_element(By.ID, "password-errors").text
    assert browser.find_element(By.NAME, "email").get_attribute("value") == "admin@example.org"

    browser.get(live_server("/gestion/"))
    assert path_of(browser) == "/connexion"


def test_skip_link_is_first_and_moves_focus_to_main(browser, live_server, demo):
    browser.get(live_server(f"/consultations/{OPEN_SLUG}/"))
    ActionChains(browser).send_keys(Keys.TAB).perform()
    link = browser.switch_to.active_element
    assert link.get_attribute("class") == "skip-link"
    assert link.get_attribute("href").endswith("#contenu")
    assert link.is_displayed()
    assert link.rect["x"] >= 0 and link.rect["y"] >= 0, "visible on screen when focused"

    link.send_keys(Keys.ENTER)
    focused = wait_for(
        browser,
        lambda b: (
            b.switch_to.active_element.get_attribute("id") == "contenu"
            and b.switch_to.active_element
        ),
    )
    assert focused.tag_name == "main"
    assert browser.current_url.endswith("#contenu")


def test_language_switch_goes_to_english_and_back(browser, live_server, demo):
    page = f"/consultations/{OPEN_SLUG}/"
    browser.get(live_server(page))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"

    for code in ("en", "fr"):
        switch = browser.find_element(By.CSS_SELECTOR, f".language-switch a[hreflang='{code}']")
        click_and_wait(browser, switch)
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == code
        assert path_of(browser) == page, "the switch brings you back to the same page"
        current = browser.find_element(By.CSS_SELECTOR, ".language-switch [aria-current]")
        assert current.get_attribute("lang") == code


def test_admin_moves_the_open_consultation_to_the_next_phase(
    browser, live_server, demo, open_session
):
    open_session("admin@example.org")
    browser.get(live_server("/gestion/consultations"))
    click_and_wait(
        browser,
        browser.find_element(
            By.CSS_SELECTOR, f"main a[href$='/gestion/consultations/{OPEN_SLUG}']"
        ),
    )
    assert path_of(browser) == f"/gestion/consultations/{OPEN_SLUG}"

    phase = Select(browser.find_element(By.ID, "phase"))
    assert phase.first_selected_option.get_attribute("value") == Phase.SYNTHESE.value
    form = browser.find_element(By.CSS_SELECTOR, "form[action$='/phase']")
    click_and_wait(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    assert browser.find_element(By.CSS_SELECTOR, ".flash-success").is_displayed()
    # The form now proposes the phase after the new one.
    phase = Select(browser.find_element(By.ID, "phase"))
    assert phase.first_selected_option.get_attribute("value") == Phase.JURY.value
    db.session.rollback()  # see what the server committed
    stored = db.session.scalar(select(Consultation.phase).where(Consultation.slug == OPEN_SLUG))
    assert stored is Phase.SYNTHESE

    click_and_wait(
        browser,
        browser.find_element(By.CSS_SELECTOR, f"main a[href$='/consultations/{OPEN_SLUG}/']"),
    )
    badge = browser.find_element(By.CSS_SELECTOR, ".phase-badge")
    assert "phase-synthese" in badge.get_attribute("class").split()
    current_step = browser.find_element(By.CSS_SELECTOR, ".timeline [aria-current='step']")
    assert "timeline-current" in current_step.get_attribute("class").split()


def test_illegal_phase_move_is_refused_with_its_reason(browser, live_server, demo, open_session):
    open_session("admin@example.org")
    browser.get(live_server(f"/gestion/consultations/{OPEN_SLUG}"))
    Select(browser.find_element(By.ID, "phase")).select_by_value(Phase.ARCHIVED.value)
    form = browser.find_element(By.CSS_SELECTOR, "form[action$='/phase']")
    click_and_wait(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    assert browser.find_element(By.CSS_SELECTOR, "#phase-title ~ [role=alert]").text
    db.session.rollback()
    stored = db.session.scalar(select(Consultation.phase).where(Consultation.slug == OPEN_SLUG))
    assert stored is Phase.CONCERTATION
