"""The bill editor in a real browser: an admin adds a chapter and two articles, moves the second
one up with the keyboard and sees the numbers change; axe-core finds no serious violation on the
editor, the article page and the conflict page."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from consultation.bill.models import Article
from consultation.extensions import db
from tests import factories
from tests.bill.helpers import synthesis_consultation
from tests.e2e.conftest import click_and_wait, is_gone, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SLUG = "texte-e2e"
EDITOR = f"/gestion/consultations/{SLUG}/texte"


def _submit_section(browser, section_id: str) -> None:
    form = browser.find_element(By.CSS_SELECTOR, f"#{section_id} form")
    click_and_wait(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))


def _article_titles(browser) -> list[str]:
    return [
        element.text for element in browser.find_elements(By.CSS_SELECTOR, ".editor-article-title")
    ]


def _add_article(browser, heading: str, body: str) -> None:
    browser.find_element(By.CSS_SELECTOR, "#new-article input[name=heading]").send_keys(heading)
    browser.find_element(By.CSS_SELECTOR, "#new-article textarea[name=body]").send_keys(body)
    _submit_section(browser, "new-article")


def test_an_admin_builds_and_reorders_the_bill(browser, live_server, open_session, axe):
    synthesis_consultation(SLUG)
    admin = factories.make_user(role="admin", display_name="Camille Admin")
    db.session.commit()
    open_session(admin)

    browser.get(live_server(EDITOR))
    axe(browser)
    Select(
        browser.find_element(By.CSS_SELECTOR, "#new-division select[name=kind]")
    ).select_by_value("chapitre")
    browser.find_element(By.CSS_SELECTOR, "#new-division input[name=heading]").send_keys(
        "Le droit au logement"
    )
    _submit_section(browser, "new-division")
    assert "CHAPITRE Ier" in browser.find_element(By.CSS_SELECTOR, ".editor-outline").text

    _add_article(browser, "Objet", "Le présent texte garantit un logement digne.")
    assert _article_titles(browser) == ["Article unique Objet"]
    _add_article(browser, "Loyers", "Les loyers sont encadrés dans les zones tendues.")
    assert _article_titles(browser) == ["Article 1er Objet", "Article 2 Loyers"]
    axe(browser)

    # The "Up" control of Article 2, reached and pressed with the keyboard.
    loyers = db.session.scalar(select(Article).where(Article.heading == "Loyers"))
    item = browser.find_element(By.ID, f"article-{loyers.id}")
    up = item.find_element(By.XPATH, ".//form[input[@name='direction' and @value='up']]//button")
    assert "Article 2" in up.get_attribute("textContent")
    page = browser.find_element(By.TAG_NAME, "html")
    up.send_keys(Keys.ENTER)
    wait_for(browser, is_gone(page))
    wait_for(browser, lambda driver: driver.find_elements(By.CSS_SELECTOR, ".editor-outline"))
    assert _article_titles(browser) == ["Article 1er Loyers", "Article 2 Objet"]
    axe(browser)

    # The article page, and the conflict page when the version read is stale.
    click_and_wait(
        browser,
        browser.find_element(By.CSS_SELECTOR, f"#article-{loyers.id} a[href$='/{loyers.id}']"),
    )
    axe(browser)
    db.session.expire_all()
    article = db.session.get(Article, loyers.id)
    article.body = "Les loyers sont plafonnés."  # someone else saves meanwhile
    db.session.commit()
    body = browser.find_element(By.NAME, "body")
    body.clear()
    body.send_keys("Les loyers sont gelés.")
    form = browser.find_element(By.CSS_SELECTOR, "form.editor-article-form")
    click_and_wait(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    # Both texts side by side: theirs as saved, yours still in the form.
    assert browser.find_element(By.ID, "theirs-body").text == "Les loyers sont plafonnés."
    assert browser.find_element(By.NAME, "body").get_attribute("value") == "Les loyers sont gelés."
    axe(browser)
