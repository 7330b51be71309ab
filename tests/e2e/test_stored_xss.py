"""Stored XSS across the site, in a real browser: payloads saved in every text and Markdown
field of the consultation, its debates, its proposals, its organisations and its bill are
shown on every public page that displays them; no script runs, nothing that could run is left
in the page, and the Content-Security-Policy has nothing to refuse (its refusals would show in
the browser's console)."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import select

from consultation.accounts.models import Organisation
from consultation.bill.models import Article, Bill, Division
from consultation.consultations.models import Consultation, Theme
from consultation.debates.models import Debate
from consultation.demo.services import HISTORICAL_SLUG, OPEN_SLUG
from consultation.extensions import db
from consultation.proposals.models import Proposal
from tests.e2e.test_proposals_public import INSPECT, PAYLOADS

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# A short text for fields with a length limit: an element, a handler, a scheme.
SHORT = (
    '<img src=x onerror=window.pwned=1><script>window.pwned=1</script>"><svg onload=window.pwned=1>'
)
LONG = "Texte **normal**.\n\n" + "\n\n".join(PAYLOADS)


def _short(limit: int = 200) -> str:
    return SHORT[:limit]


@pytest.fixture
def payloads(demo) -> None:
    """Every text of the demo's consultations replaced by payloads, as if typed by the users."""
    for consultation in db.session.scalars(select(Consultation)):
        consultation.title = "Consultation " + _short(180)
        consultation.summary = LONG
    for theme in db.session.scalars(select(Theme)):
        theme.name = f"Thème {theme.id} " + _short(150)
    for organisation in db.session.scalars(select(Organisation)):
        organisation.name = f"Organisme {organisation.id} " + _short(150)
    for debate in db.session.scalars(select(Debate)):
        debate.title = f"Débat {debate.id} " + _short(150)
        debate.description = LONG
        debate.venue = SHORT
        debate.minutes = LONG
        debate.cancellation_reason = LONG
    for proposal in db.session.scalars(select(Proposal)):
        proposal.title = f"Proposition {proposal.id} " + _short(150)
        proposal.summary = LONG[:1000]
        proposal.body = LONG
        proposal.rationale = LONG
    for bill in db.session.scalars(select(Bill)):
        bill.title = "Proposition de loi " + _short(150)
        bill.preamble = LONG
    for division in db.session.scalars(select(Division)):
        division.heading = _short(150)
    for article in db.session.scalars(select(Article)):
        article.heading = _short(150)
        article.body = LONG
    db.session.commit()


def _pages() -> list[str]:
    pages = ["/", "/consultations/"]
    for slug in (HISTORICAL_SLUG, OPEN_SLUG):
        base = f"/consultations/{slug}"
        pages += [
            f"{base}/",
            f"{base}/debats",
            f"{base}/debats/calendrier",
            f"{base}/debats/carte",
            f"{base}/propositions",
            f"{base}/propositions?q=script",
            f"{base}/texte",
            f"{base}/texte/versions",
            f"{base}/jury",
        ]
    debates = db.session.scalars(select(Debate.id).order_by(Debate.id).limit(4)).all()
    proposals = db.session.scalars(select(Proposal.id).order_by(Proposal.id).limit(4)).all()
    historical = f"/consultations/{HISTORICAL_SLUG}"
    pages += [f"{historical}/debats/{debate}" for debate in debates]
    pages += [f"{historical}/propositions/{proposal}" for proposal in proposals]
    return pages


def _csp_refusals(browser) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]


def _assert_shown_and_inert(browser, path: str) -> None:
    """The page itself (not an error page nor the sign-in form), and nothing ran in it."""
    assert browser.find_element(By.TAG_NAME, "h1").text, path
    assert not browser.find_elements(By.CSS_SELECTOR, ".error-page"), path
    assert "/connexion" not in browser.current_url, path
    assert browser.execute_script("return typeof window.pwned") == "undefined", path
    assert browser.execute_script(INSPECT) == [], path
    assert _csp_refusals(browser) == [], path


def test_stored_payloads_never_run_anywhere(browser, live_server, payloads):
    browser.get_log("browser")  # start from an empty console
    visited = 0
    for path in _pages():
        browser.get(live_server(path))
        _assert_shown_and_inert(browser, path)
        visited += 1
    assert visited >= 20
    # The payloads were shown, as text: the pages did display the fields under test.
    browser.get(live_server(f"/consultations/{HISTORICAL_SLUG}/debats"))
    assert "<script>window.pwned=1</script>" in browser.find_element(By.TAG_NAME, "main").text
    # A check of the check: an inline handler slipped into the page is refused and reported.
    browser.execute_script(
        "document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=\"window.pwned=1\">')"
    )
    refusals = []
    for _ in range(20):
        refusals += _csp_refusals(browser)
        if refusals:
            break
        browser.execute_script("return 1")
    assert refusals and browser.execute_script("return typeof window.pwned") == "undefined"


def test_stored_payloads_never_run_in_the_management_pages(
    browser, live_server, payloads, open_session
):
    """The staff read what everyone wrote: the payloads must not run for them either."""
    open_session("admin@example.org")
    browser.get_log("browser")
    pages = ["/gestion/", "/gestion/organisations", "/gestion/consultations"]
    for slug in (HISTORICAL_SLUG, OPEN_SLUG):
        manage = f"/gestion/consultations/{slug}"
        pages += [
            manage,
            f"{manage}/themes",
            f"{manage}/debats",
            f"{manage}/moderation",
            f"{manage}/synthese",
            f"{manage}/synthese/sans-disposition",
            f"{manage}/texte",
        ]
    debate = db.session.scalars(select(Debate.id).order_by(Debate.id)).first()
    article = db.session.scalars(select(Article.id).order_by(Article.id)).first()
    pages += [
        f"/gestion/consultations/{HISTORICAL_SLUG}/debats/{debate}",
        f"/gestion/consultations/{HISTORICAL_SLUG}/debats/{debate}/compte-rendu",
        f"/gestion/consultations/{HISTORICAL_SLUG}/texte/articles/{article}",
    ]
    for path in pages:
        browser.get(live_server(path))
        _assert_shown_and_inert(browser, path)
