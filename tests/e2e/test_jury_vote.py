"""A whole voting round in a browser: a juror votes on every article and on the whole text,
changes a vote and finds one receipt per item; staff close the round; the public results show
the counts. The ballot, receipts and results pages are checked with axe-core."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from consultation.accounts.models import Role
from consultation.core.models import utcnow
from consultation.extensions import db
from consultation.jury import ballots
from consultation.jury.models import WHOLE_TEXT, Choice
from tests import factories
from tests.e2e.conftest import click_and_wait
from tests.jury.factories import open_voting_round

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

RECEIPT = re.compile(r"\b[0-9a-f]{64}\b")


def _vote(browser: WebDriver, round_number: int, item: int, choice: str) -> str:
    """Tick a choice by its label and submit that item's form; the receipt the flash shows."""
    anchor = f"item-{round_number}-{item}"
    form = browser.find_element(By.ID, anchor)
    label = form.find_element(By.CSS_SELECTOR, f"label[for='{anchor}-{choice}']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", label)
    label.click()
    assert form.find_element(By.ID, f"{anchor}-{choice}").is_selected()
    click_and_wait(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    flash = browser.find_element(By.CSS_SELECTOR, ".flash-success").text
    found = RECEIPT.search(flash)
    assert found, flash
    return found.group()


def _progress(browser: WebDriver) -> tuple[int, int]:
    done, total = map(
        int, re.findall(r"\d+", browser.find_element(By.CSS_SELECTOR, ".progress").text)
    )
    return done, total


def test_a_juror_votes_a_whole_round(browser, live_server, open_session, axe):
    voting_round, (juror, *others) = open_voting_round(jurors=3, articles=3)
    consultation = voting_round.consultation
    items = [item for item, _label in ballots.round_items(voting_round)]
    first, second, third, whole = items
    assert whole == WHOLE_TEXT
    # The two other jurors vote through the service: the results then mix choices.
    now = utcnow()
    for other, choices in zip(
        others,
        (
            (Choice.POUR, Choice.POUR, Choice.CONTRE, Choice.POUR),
            (Choice.POUR, Choice.CONTRE, Choice.CONTRE, Choice.CONTRE),
        ),
        strict=True,
    ):
        for item, choice in zip(items, choices, strict=True):
            ballots.cast_ballot(voting_round, other, item, choice, now)
    db.session.commit()

    open_session(juror)
    browser.get(live_server(f"/consultations/{consultation.slug}/jury/vote"))
    assert _progress(browser) == (0, 4)
    axe(browser)

    number = voting_round.number
    plan = {first: "pour", second: "contre", third: "abstention", whole: "pour"}
    for done, (item, choice) in enumerate(plan.items(), start=1):
        _vote(browser, number, item, choice)
        assert _progress(browser) == (done, 4)
        checked = browser.find_element(By.ID, f"item-{number}-{item}-{choice}")
        assert checked.is_selected(), "the ballot shows the vote just recorded"
    axe(browser)  # with the flash message and every choice ticked

    # A change of mind on the second article: the new vote replaces the old one.
    last_receipt = _vote(browser, number, second, "pour")
    assert _progress(browser) == (4, 4)

    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, "main a[href$='/jury/recus']"))
    rows = browser.find_elements(By.CSS_SELECTOR, "main table tbody tr")
    assert len(rows) == 4, "one receipt per item"
    choices = [row.find_elements(By.TAG_NAME, "td")[0].text for row in rows]
    assert choices == ["Pour", "Pour", "Abstention", "Pour"], "the latest vote on each item"
    receipts = [row.find_element(By.TAG_NAME, "code").text for row in rows]
    assert len(set(receipts)) == 4 and all(RECEIPT.fullmatch(r) for r in receipts)
    assert last_receipt in receipts, "the receipt of the changed vote replaced the first one"
    axe(browser)

    # Staff close the round from their page.
    open_session(factories.make_user(role=Role.ADMIN))
    browser.get(live_server(f"/gestion/consultations/{consultation.slug}/jury/scrutins"))
    close = browser.find_element(
        By.CSS_SELECTOR, f"form[action$='/scrutins/{number}/fermer'] button"
    )
    click_and_wait(browser, close)
    assert browser.find_elements(By.CSS_SELECTOR, ".flash-success")

    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get(live_server(f"/consultations/{consultation.slug}/jury/scrutins/{number}"))
    table = browser.find_elements(By.CSS_SELECTOR, ".results-table tbody tr")
    counts = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in table]
    # registered, voted, pour, contre, abstention, result
    assert [row[:5] for row in counts] == [
        ["3", "3", "3", "0", "0"],  # pour, pour, pour
        ["3", "3", "2", "1", "0"],  # pour (changed), pour, contre
        ["3", "3", "0", "2", "1"],  # abstention, contre, contre
        ["3", "3", "2", "1", "0"],  # the whole text: pour, pour, contre
    ]
    results = [row[5] for row in counts]
    assert [text.startswith("Adopté") for text in results] == [True, True, False, True], results
    assert "large soutien" in results[0] and "large soutien" in results[1]  # 3/3 and 2/3
    assert results[2] == "Non adopté"
    axe(browser)
