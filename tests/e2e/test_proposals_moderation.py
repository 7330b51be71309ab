"""Moderation in a real browser: staff open the queue of the open consultation, accept one
proposal and reject another with a reason; axe-core finds no serious violation on the queue,
the moderation page (also when it shows an error) and the import pages."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from consultation.consultations.models import Consultation
from consultation.demo.services import OPEN_SLUG
from consultation.extensions import db
from consultation.proposals.models import Proposal, ProposalStatus
from tests.e2e.conftest import click_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

QUEUE = f"/gestion/consultations/{OPEN_SLUG}/moderation"


def _submitted() -> list[Proposal]:
    """The open consultation's submitted proposals, the oldest first (the queue's order)."""
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Proposal)
            .join(Consultation)
            .where(Consultation.slug == OPEN_SLUG, Proposal.status == ProposalStatus.SUBMITTED)
            .order_by(Proposal.submitted_at, Proposal.id)
        )
    )


def _moderation_link(browser, proposal: Proposal):
    path = f"/gestion/consultations/{OPEN_SLUG}/propositions/{proposal.id}/moderation"
    return browser.find_element(By.CSS_SELECTOR, f"main table a[href$='{path}']")


def _action_form(browser, action: str):
    return browser.find_element(
        By.XPATH, f"//main//form[input[@name='action' and @value='{action}']]"
    )


def test_staff_accept_one_proposal_and_reject_another(
    browser, live_server, demo, open_session, axe
):
    first, second = _submitted()[:2]
    open_session("admin@example.org")
    browser.get(live_server(QUEUE))
    axe(browser)
    assert first.title in browser.find_element(By.TAG_NAME, "main").text

    click_and_wait(browser, _moderation_link(browser, first))
    axe(browser)
    accept = _action_form(browser, "accept")
    click_and_wait(browser, accept.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert urlsplit(browser.current_url).path == QUEUE
    db.session.expire_all()
    assert db.session.get(Proposal, first.id).status is ProposalStatus.ACCEPTED

    click_and_wait(browser, _moderation_link(browser, second))
    reject = _action_form(browser, "reject")
    # Without a reason, the refusal shows beside the field and the page stays accessible.
    click_and_wait(browser, reject.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert browser.find_element(By.ID, "reason-errors").is_displayed()
    axe(browser)
    reject = _action_form(browser, "reject")
    reject.find_element(By.NAME, "reason").send_keys("Déjà satisfaite par le droit en vigueur.")
    click_and_wait(browser, reject.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert urlsplit(browser.current_url).path == QUEUE
    db.session.expire_all()
    rejected = db.session.get(Proposal, second.id)
    assert rejected.status is ProposalStatus.REJECTED
    assert rejected.reason == "Déjà satisfaite par le droit en vigueur."

    browser.get(live_server(f"{QUEUE}?status=rejected"))
    assert second.title in browser.find_element(By.TAG_NAME, "main").text
    axe(browser)


def test_the_import_pages_are_accessible(browser, live_server, demo, open_session, axe, tmp_path):
    spreadsheet = tmp_path / "propositions.csv"
    spreadsheet.write_bytes(
        "titre;résumé;texte;thème;organisation\r\n"
        "Loger les apprentis;Des places pour les apprentis.;Le texte.;produire;"
        "Conseil social de l'USH\r\n"
        "Sans thème;Un résumé.;Un texte.;;Conseil social de l'USH\r\n".encode("cp1252")
    )
    open_session("admin@example.org")
    browser.get(live_server(f"/gestion/consultations/{OPEN_SLUG}/propositions/import"))
    axe(browser)
    browser.find_element(By.CSS_SELECTOR, "input[type=file][name=file]").send_keys(str(spreadsheet))
    form = browser.find_element(By.CSS_SELECTOR, "main form[enctype='multipart/form-data']")
    click_and_wait(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert "/propositions/import/" in browser.current_url
    main = browser.find_element(By.TAG_NAME, "main").text
    assert "Loger les apprentis" in main and "Sans thème" in main
    axe(browser)
