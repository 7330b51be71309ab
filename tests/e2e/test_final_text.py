"""The final text in a browser, from the jury's closed round to the public download: staff
preview the final-text page and export it in every format, move the consultation to the remise
phase, add a candidate and send them the text (to the test outbox); an anonymous visitor then
downloads the PDF, whose SHA-256 matches the one the page shows, and finds the candidate's name,
not their address, on the public record of the dispatches. Each page is checked with axe-core."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from consultation.accounts.models import Role
from consultation.consultations.models import Consultation, Phase
from consultation.core.models import utcnow
from consultation.extensions import db
from consultation.jury import ballots
from consultation.jury.models import WHOLE_TEXT, Choice
from tests import factories
from tests.e2e.conftest import click_and_wait
from tests.jury.factories import frozen_version, make_juror

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# Rendering the PDF (WeasyPrint) takes a few seconds, more on a loaded machine.
EXPORT_SECONDS = 60
PDF = "proposition-de-loi.pdf"
CANDIDATE_NAME = "Camille Martin"
CANDIDATE_EMAIL = "camille.martin@example.org"
SHA256 = re.compile(r"[0-9a-f]{64}")

# The file fetched as the browser downloads it, and its SHA-256 computed in the page.
FETCH_SHA256 = """
const [url, done] = [arguments[0], arguments[arguments.length - 1]];
fetch(url, {credentials: "same-origin"})
  .then(async (response) => {
    const bytes = await response.arrayBuffer();
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"));
    done({
      status: response.status,
      type: response.headers.get("Content-Type"),
      header: response.headers.get("X-Checksum-SHA256"),
      start: String.fromCharCode(...new Uint8Array(bytes.slice(0, 5))),
      sha256: hex.join(""),
    });
  })
  .catch((error) => done({error: String(error)}));
"""


def _closed_round() -> Consultation:
    """A consultation in its jury phase whose round closed: articles 1 and 3 adopted."""
    consultation = factories.make_consultation(phase=Phase.JURY)
    version = frozen_version(consultation, 3)
    juror = make_juror(consultation).user
    now = utcnow()
    voting_round = ballots.open_round(
        consultation, version, now - timedelta(hours=1), now + timedelta(hours=1), 50, 50, None, now
    )
    ballots.start_round(voting_round, None, now)
    items = [item for item, _label in ballots.round_items(voting_round)]
    choices = {WHOLE_TEXT: Choice.POUR}
    articles = [item for item in items if item != WHOLE_TEXT]
    choices.update(zip(articles, (Choice.POUR, Choice.CONTRE, Choice.POUR), strict=True))
    for item in items:
        ballots.cast_ballot(voting_round, juror, item, choices[item], now)
    ballots.close_round(voting_round, None, now)
    db.session.commit()
    return consultation


def _downloads(browser: WebDriver) -> dict[str, str]:
    """The downloads table: each file's name and the SHA-256 shown beside it."""
    rows = browser.find_elements(By.CSS_SELECTOR, ".downloads-table tbody tr")
    return {
        row.find_element(By.CSS_SELECTOR, "td a").text: row.find_element(
            By.CSS_SELECTOR, "code"
        ).text
        for row in rows
    }


def test_staff_publish_and_send_the_final_text_the_public_downloads_it(
    browser, live_server, open_session, axe, outbox
):
    consultation = _closed_round()
    slug = consultation.slug
    page = live_server(f"/consultations/{slug}/texte-final")

    # Before the remise phase the page is a staff preview, not yet exported.
    open_session(factories.make_user(role=Role.ADMIN))
    browser.get(page)
    assert browser.find_elements(By.CSS_SELECTOR, "main p.notice"), "the preview notice"
    assert not browser.find_elements(By.CSS_SELECTOR, ".downloads-table")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".bill-articles .bill-article")) == 2
    axe(browser)

    export = browser.find_element(
        By.CSS_SELECTOR,
        f"form[action$='/gestion/consultations/{slug}/texte-final/exporter'] button",
    )
    export.click()
    # The export runs at once in tests: the page comes back with its table once it is done.
    WebDriverWait(browser, EXPORT_SECONDS).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, ".downloads-table")
    )
    assert browser.find_elements(By.CSS_SELECTOR, ".flash-success")
    files = _downloads(browser)
    assert {PDF, "proposition-de-loi.odt", "proposition-de-loi.docx"} <= files.keys(), files
    assert all(SHA256.fullmatch(sha) for sha in files.values()), files
    staff_pdf_sha256 = files[PDF]
    axe(browser)  # with the flash message and the downloads

    # Staff move the consultation to the remise phase from its management page.
    browser.get(live_server(f"/gestion/consultations/{slug}"))
    phase_form = browser.find_element(By.CSS_SELECTOR, "form[action$='/phase']")
    Select(phase_form.find_element(By.NAME, "phase")).select_by_value(Phase.REMISE.value)
    click_and_wait(browser, phase_form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert browser.find_elements(By.CSS_SELECTOR, ".flash-success")
    db.session.expire_all()
    assert db.session.get(Consultation, consultation.id).phase is Phase.REMISE

    # A candidate, then the final text sent to every candidate.
    browser.get(live_server(f"/gestion/consultations/{slug}/candidats"))
    axe(browser)  # no candidate yet
    add = browser.find_element(By.CSS_SELECTOR, f"form[action$='/consultations/{slug}/candidats']")
    add.find_element(By.NAME, "name").send_keys(CANDIDATE_NAME)
    add.find_element(By.NAME, "party").send_keys("Mouvement des communs")
    add.find_element(By.NAME, "email").send_keys(CANDIDATE_EMAIL)
    click_and_wait(browser, add.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    row = browser.find_element(By.CSS_SELECTOR, ".candidates-table tbody tr")
    assert CANDIDATE_NAME in row.text and CANDIDATE_EMAIL in row.text
    axe(browser)

    send = browser.find_element(By.CSS_SELECTOR, "#send-form button[name=everyone]")
    click_and_wait(browser, send)
    assert browser.find_elements(By.CSS_SELECTOR, ".flash-success")
    dispatch = browser.find_element(By.CSS_SELECTOR, ".dispatches-table tbody tr")
    assert "dispatch-sent" in dispatch.find_element(
        By.CSS_SELECTOR, ".dispatch-status"
    ).get_attribute("class")
    assert staff_pdf_sha256 in dispatch.text, "the checksum of the PDF sent"
    axe(browser)  # with the dispatch

    messages = outbox()
    assert len(messages) == 1, "one message, in the outbox folder"
    message = messages[0]
    assert CANDIDATE_EMAIL in message["To"]
    attachments = {part.get_filename() for part in message.iter_attachments()}
    assert {PDF, "proposition-de-loi.odt"} <= attachments, attachments

    # An anonymous visitor: the page is public now, without the preview notice.
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get(page)
    assert not browser.find_elements(By.CSS_SELECTOR, "form[action$='/exporter']")
    assert not browser.find_elements(By.CSS_SELECTOR, "main p.notice")
    public_files = _downloads(browser)
    assert public_files == files
    axe(browser)

    link = browser.find_element(By.CSS_SELECTOR, f".downloads-table a[href$='/{PDF}']")
    assert link.get_attribute("download") is not None
    fetched = browser.execute_async_script(FETCH_SHA256, link.get_attribute("href"))
    assert "error" not in fetched, fetched
    assert fetched["status"] == 200 and fetched["type"] == "application/pdf", fetched
    assert fetched["start"] == "%PDF-"
    assert fetched["sha256"] == public_files[PDF] == fetched["header"]

    # The public record of the dispatches: the candidate's name, never their address.
    click_and_wait(
        browser, browser.find_element(By.CSS_SELECTOR, "main a[href$='/texte-final/envois']")
    )
    rows = browser.find_elements(By.CSS_SELECTOR, ".sent-table tbody tr")
    assert len(rows) == 1 and CANDIDATE_NAME in rows[0].text
    assert public_files[PDF] in rows[0].text
    assert CANDIDATE_EMAIL not in browser.page_source
    axe(browser)
