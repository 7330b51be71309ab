"""Proposals in a real browser: a contributor drafts a proposal, sees the live preview render
their Markdown and the similar proposals as they type, saves the draft, submits it and finds it
on its public page; axe-core finds no serious violation on the form."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from consultation.accounts.services import find_user_by_email
from consultation.consultations.models import Consultation
from consultation.demo.services import OPEN_SLUG
from consultation.extensions import db
from consultation.proposals.models import Proposal, ProposalStatus
from tests.e2e.conftest import click_and_wait, wait_for
from tests.proposals.helpers import make_proposal

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

MINE = f"/gestion/consultations/{OPEN_SLUG}/propositions"
TITLE = "Garantir un accès au logement pour les apprentis"


@pytest.fixture
def existing(demo) -> Proposal:
    """A submitted proposal of another organisation, close to the one the test writes."""
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == OPEN_SLUG))
    proposal = make_proposal(
        consultation,
        author=find_user_by_email("commission@example.org"),
        title="Un logement pour chaque apprenti",
        summary="Des résidences pour les apprentis et les alternants.",
    )
    db.session.commit()
    return proposal


def _type(browser, name: str, text: str) -> None:
    field = browser.find_element(By.NAME, name)
    field.clear()
    field.send_keys(text)


def _button(browser, action: str):
    return browser.find_element(By.CSS_SELECTOR, f"form.proposal-form button[value='{action}']")


def test_a_contributor_drafts_previews_and_submits_a_proposal(
    browser, live_server, existing, open_session, axe
):
    open_session("organisme@example.org")
    browser.get(live_server(MINE))
    axe(browser)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, f"a[href$='{MINE}/nouvelle']"))
    axe(browser)

    _type(browser, "title", TITLE)
    _type(browser, "summary", "Des logements *abordables* près des centres de formation.")
    _type(browser, "body", "Chaque apprenti **trouve** un logement.\n\n- près du CFA\n- abordable")

    # The previews fill in as the author types, rendered as the public page will show them.
    body_preview = browser.find_element(By.ID, "body-preview")
    wait_for(browser, lambda _: body_preview.find_elements(By.CSS_SELECTOR, "strong"))
    assert body_preview.find_element(By.CSS_SELECTOR, "strong").text == "trouve"
    assert len(body_preview.find_elements(By.CSS_SELECTOR, "li")) == 2
    summary_preview = browser.find_element(By.ID, "summary-preview")
    wait_for(browser, lambda _: summary_preview.find_elements(By.CSS_SELECTOR, "em"))
    assert summary_preview.get_attribute("aria-live") == "polite"

    # The similar proposals follow the title and summary.
    similar = browser.find_element(By.ID, "similar-list")
    wait_for(browser, lambda _: "Un logement pour chaque apprenti" in similar.text)
    link = similar.find_element(By.LINK_TEXT, "Un logement pour chaque apprenti")
    assert urlsplit(link.get_attribute("href")).path == (
        f"/consultations/{OPEN_SLUG}/propositions/{existing.id}"
    )
    axe(browser)  # with the previews and the similar list shown

    Select(browser.find_element(By.NAME, "theme_id")).select_by_index(1)
    click_and_wait(browser, _button(browser, "draft"))
    proposal = db.session.scalar(select(Proposal).where(Proposal.title == TITLE))
    assert proposal is not None and proposal.status is ProposalStatus.DRAFT
    assert urlsplit(browser.current_url).path == f"{MINE}/{proposal.id}/modifier"
    assert "Brouillon enregistré" in browser.find_element(By.CSS_SELECTOR, ".flash-success").text
    # The saved text is previewed again when the page opens.
    wait_for(
        browser,
        lambda driver: driver.find_elements(By.CSS_SELECTOR, "#body-preview strong"),
    )
    axe(browser)

    click_and_wait(browser, _button(browser, "submit"))
    db.session.expire_all()
    proposal = db.session.get(Proposal, proposal.id)
    assert proposal.status is ProposalStatus.SUBMITTED
    assert "Proposition déposée" in browser.find_element(By.CSS_SELECTOR, ".flash-success").text

    public_link = browser.find_element(
        By.CSS_SELECTOR, f"a[href$='/consultations/{OPEN_SLUG}/propositions/{proposal.id}']"
    )
    click_and_wait(browser, public_link)
    main = browser.find_element(By.TAG_NAME, "main")
    assert TITLE in browser.find_element(By.TAG_NAME, "h1").text
    assert "près du CFA" in main.text

    browser.get(live_server(MINE))
    assert TITLE in browser.find_element(By.TAG_NAME, "main").text
    axe(browser)


def test_the_no_javascript_preview_and_a_refused_submission(
    browser, live_server, demo, open_session, axe
):
    """The "Preview" button renders the previews on the server; an incomplete submission comes
    back with its message beside the field, the typed text kept, and stays accessible."""
    open_session("organisme@example.org")
    browser.get(live_server(f"{MINE}/nouvelle"))
    _type(browser, "title", TITLE)
    _type(browser, "body", "Un *texte* sans résumé.")
    click_and_wait(browser, _button(browser, "preview"))
    assert browser.find_element(By.CSS_SELECTOR, "#body-preview em").text == "texte"
    assert db.session.scalar(select(Proposal).where(Proposal.title == TITLE)) is None

    click_and_wait(browser, _button(browser, "submit"))
    errors = browser.find_element(By.ID, "summary-errors")
    assert "Rédigez un court résumé avant de déposer." in errors.text
    assert browser.find_element(By.NAME, "title").get_attribute("value") == TITLE
    assert db.session.scalar(select(Proposal).where(Proposal.title == TITLE)) is None
    axe(browser)
