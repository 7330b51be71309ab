"""The public draft bill in a browser: the text with its sources, a frozen version and the
differences between two versions render and are accessible; staff freeze a version."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from consultation.demo.services import HISTORICAL_SLUG
from consultation.extensions import db
from tests.bill.test_versions import complete_bill
from tests.e2e.conftest import click_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_the_public_bill_and_a_version_diff(browser, live_server, demo, axe):
    browser.get(live_server(f"/consultations/{HISTORICAL_SLUG}/"))
    # Links are found by address, not by text: the pages may be in French.
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main a[href$='/texte']"))
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Proposition de loi")
    articles = browser.find_elements(By.CSS_SELECTOR, "article.bill-article")
    assert len(articles) == 21
    assert articles[0].get_attribute("id").startswith("article-")
    assert "Article 1er" in articles[0].text
    assert articles[0].find_elements(By.CSS_SELECTOR, ".article-sources a")
    preamble = browser.find_element(By.CSS_SELECTOR, ".bill-preamble .prose").text
    assert preamble.startswith("Mesdames, Messieurs,") and "[[" not in preamble
    axe(browser)

    click_and_wait(
        browser, browser.find_element(By.CSS_SELECTOR, "main a[href$='/texte/versions']")
    )
    axe(browser)
    click_and_wait(
        browser, browser.find_element(By.CSS_SELECTOR, "main a[href$='/versions/1/diff/2']")
    )
    assert browser.current_url.endswith("/texte/versions/1/diff/2")
    assert browser.find_elements(By.CSS_SELECTOR, ".diff-text ins")
    assert browser.find_elements(By.CSS_SELECTOR, ".diff-added")
    axe(browser)

    browser.get(live_server(f"/consultations/{HISTORICAL_SLUG}/texte/versions/1"))
    assert len(browser.find_elements(By.CSS_SELECTOR, "article.bill-article")) == 20
    axe(browser)


def test_staff_freeze_a_version(browser, live_server, demo, open_session, axe):
    complete_bill(db)  # a consultation "c" in synthesis, every accepted proposal integrated
    db.session.commit()
    open_session("admin@example.org")
    browser.get(live_server("/consultations/c/texte/versions"))
    assert "100" in browser.find_element(By.CSS_SELECTOR, ".freeze-panel").text
    axe(browser)
    browser.find_element(By.NAME, "note").send_keys("Texte soumis au jury")
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, ".freeze-panel button"))
    assert browser.find_elements(By.CSS_SELECTOR, ".flash-success")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".versions-table tbody tr")) == 1
    assert "Texte soumis au jury" in browser.find_element(By.CSS_SELECTOR, ".versions-table").text
    axe(browser)
