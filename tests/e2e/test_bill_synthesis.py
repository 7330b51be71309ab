"""The synthesis workspace in a real browser: staff tick three accepted proposals (two of
them as a suggested group), make an article of them, and see the coverage meter rise; axe-core
finds no serious violation on the workspace, before and after, nor on the list of proposals
without a disposition."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from consultation.bill.models import Article, ArticleSource
from consultation.extensions import db
from tests import factories
from tests.bill.helpers import accepted_proposals, synthesis_consultation
from tests.e2e.conftest import click_and_wait
from tests.proposals.helpers import theme

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SLUG = "synthese-navigateur"
WORKSPACE = f"/gestion/consultations/{SLUG}/synthese"


def _meter(browser) -> tuple[str, str]:
    meter = browser.find_element(By.ID, "coverage-meter")
    return meter.get_attribute("value"), meter.get_attribute("max")


def _tick(browser, element_id: str) -> None:
    box = browser.find_element(By.ID, element_id)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    assert box.is_selected()


def test_staff_make_an_article_from_three_proposals(browser, live_server, open_session, axe):
    consultation = synthesis_consultation(SLUG)
    loyers = theme(consultation, "loyers", "Loyers")
    similar = [
        accepted_proposals(consultation, 1, title=title, theme_id=loyers.id)[0]
        for title in (
            "Plafonner les loyers du parc privé",
            "Plafonnement des loyers du parc privé",
        )
    ]
    others = accepted_proposals(consultation, 2, title="Rénover les logements anciens")
    admin = factories.make_user("admin")
    db.session.commit()
    open_session(admin)

    browser.get(live_server(WORKSPACE))
    axe(browser)
    assert _meter(browser) == ("0", "4")
    # The suggested group's two proposals in one click (ticked in the list too), one more
    # from the list.
    group = browser.find_element(By.CSS_SELECTOR, ".synthesis-group")
    select_group = group.find_element(By.CSS_SELECTOR, "[data-select-group]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", select_group)
    select_group.click()
    for proposal in similar:
        assert browser.find_element(By.ID, f"group-1-{proposal.id}").is_selected()
        assert browser.find_element(By.ID, f"select-{proposal.id}").is_selected()
    _tick(browser, f"select-{others[0].id}")
    create = browser.find_element(
        By.CSS_SELECTOR, "form#selection button[type=submit]:not([formaction])"
    )
    click_and_wait(browser, create)

    db.session.expire_all()
    article = db.session.scalar(select(Article))
    assert article is not None
    sources = db.session.scalars(
        select(ArticleSource.proposal_id).where(ArticleSource.article_id == article.id)
    ).all()
    assert sorted(sources) == sorted([similar[0].id, similar[1].id, others[0].id])
    assert similar[0].title in article.body and others[0].title in article.body

    browser.get(live_server(WORKSPACE))
    assert _meter(browser) == ("3", "4")
    row = browser.find_element(By.ID, f"proposal-{similar[0].id}")
    assert "Article unique" in row.text
    axe(browser)

    undecided = browser.find_element(By.CSS_SELECTOR, ".synthesis-coverage a")
    click_and_wait(browser, undecided)
    assert others[1].title in browser.find_element(By.TAG_NAME, "main").text
    assert similar[0].title not in browser.find_element(By.TAG_NAME, "main").text
    axe(browser)
