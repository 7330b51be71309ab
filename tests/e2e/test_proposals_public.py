"""Public proposal pages in a real browser: stored Markdown payloads never run nor leave a
dangerous link in the page; the list's filters work; axe-core finds no serious violation."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from consultation.accounts.models import OrganisationKind
from consultation.core.models import utcnow
from consultation.extensions import db
from consultation.proposals import services
from tests import factories
from tests.e2e.conftest import click_and_wait
from tests.proposals.helpers import make_proposal, theme

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

SLUG = "propositions-e2e"
LIST = f"/consultations/{SLUG}/propositions"

# Each payload tries to set window.pwned; none may succeed.
PAYLOADS = [
    "[clic](javascript:window.pwned=1)",
    "[clic](JaVaScRiPt:window.pwned=1)",
    "[clic]( javascript:window.pwned=1)",
    "[clic](java\tscript:window.pwned=1)",
    "[clic](java&#x09;script:window.pwned=1)",
    "[clic](&#106;avascript:window.pwned=1)",
    "[clic](&#0000106&#0000097vascript:window.pwned=1)",
    "[clic](javascript&colon;window.pwned=1)",
    "[clic](%6Aavascript:window.pwned=1)",
    "[clic](<javascript:window.pwned=1>)",
    '[clic](javascript:window.pwned=1 "titre")',
    "[clic][ref]\n\n[ref]: javascript:window.pwned=1\n",
    "![image](javascript:window.pwned=1)",
    "![image](data:image/svg+xml,<svg onload=window.pwned=1>)",
    "[clic](data:text/html,<script>window.pwned=1</script>)",
    "[clic](vbscript:window.pwned=1)",
    "<javascript:window.pwned=1>",
    "<script>window.pwned=1</script>",
    "<scr<script>ipt>window.pwned=1</script>",
    '<img src=x onerror="window.pwned=1">',
    "<img src=x onerror=window.pwned=1//",
    '<a href="javascript:window.pwned=1">clic</a>',
    '<iframe src="javascript:window.pwned=1"></iframe>',
    "<svg onload=window.pwned=1>",
    "<svg><script>window.pwned=1</script></svg>",
    '<div style="background:url(javascript:window.pwned=1)">x</div>',
    "<details open ontoggle=window.pwned=1>x</details>",
    '<form action="javascript:window.pwned=1"><button>x</button></form>',
    "`<img src=x onerror=window.pwned=1>`",
]

# What the page holds that could run: inline scripts, event handler attributes, style
# attributes, and URLs with a dangerous scheme (as the browser resolved them).
INSPECT = """
const found = [];
for (const script of document.querySelectorAll("script")) {
  if (!script.src) found.push("inline script: " + script.textContent.slice(0, 80));
}
for (const element of document.querySelectorAll("*")) {
  for (const attribute of element.attributes) {
    const name = attribute.name.toLowerCase();
    if (name.startsWith("on")) found.push("handler " + name + " on " + element.tagName);
    if (name === "style") found.push("style on " + element.tagName);
  }
  for (const property of ["href", "src", "action", "formAction", "data"]) {
    const value = element[property];
    if (typeof value === "string" && /^\\s*(javascript|data|vbscript):/i.test(value)) {
      found.push(property + "=" + value.slice(0, 80) + " on " + element.tagName);
    }
  }
}
for (const tag of ["iframe", "svg", "img", "object", "embed", "form[action^='javascript']"]) {
  for (const element of document.querySelectorAll("main .prose " + tag)) {
    found.push("element " + element.outerHTML.slice(0, 80));
  }
}
return found;
"""


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    """Pages in English, so that the test reads the messages as written in the code."""
    app_config["BABEL_DEFAULT_LOCALE"] = "en"
    return app_config


@pytest.fixture
def stored_payloads(app) -> list[int]:
    """Proposals carrying the payloads in every text, in the title too, and a co-signature."""
    consultation = factories.make_consultation(slug=SLUG)
    ids = []
    for start in range(0, len(PAYLOADS), 6):
        chunk = "\n\n".join(PAYLOADS[start : start + 6])
        proposal = make_proposal(
            consultation,
            title=f"Charge {start} <script>window.pwned=1</script>",
            summary=chunk[:1000],
            body=f"Texte **normal**.\n\n{chunk}",
            rationale=chunk,
        )
        ids.append(proposal.id)
    target = db.session.get(type(proposal), ids[0])
    services.cosign_proposal(target, factories.make_user("contributor"), utcnow())
    db.session.commit()
    return ids


def _assert_nothing_ran(browser) -> None:
    assert browser.execute_script("return typeof window.pwned") == "undefined"
    assert browser.execute_script(INSPECT) == []


def test_stored_payloads_never_run(browser, live_server, stored_payloads, axe):
    pages = [LIST, f"{LIST}?q=clic", f"{LIST}?q=script&sort=recent"]
    for proposal_id in stored_payloads:
        pages += [f"{LIST}/{proposal_id}", f"{LIST}/{proposal_id}/versions"]
    for path in pages:
        browser.get(live_server(path))
        assert browser.find_element(By.TAG_NAME, "h1").text, path
        _assert_nothing_ran(browser)
    # The inspection sees what it looks for (a check of the check).
    browser.execute_script(
        "document.body.insertAdjacentHTML('beforeend',"
        ' \'<a href=" JaVa&#9;script:void(0)" onclick="void(0)">x</a>\')'
    )
    assert len(browser.execute_script(INSPECT)) == 2
    # The texts were there, rendered: the payloads were shown as harmless text or plain links.
    browser.get(live_server(f"{LIST}/{stored_payloads[0]}"))
    prose = browser.find_element(By.CSS_SELECTOR, "main .prose strong").text
    assert prose == "normal"
    assert "<script>window.pwned=1</script>" in browser.find_element(By.TAG_NAME, "h1").text
    # Following every link of the texts runs nothing either.
    links = browser.find_elements(By.CSS_SELECTOR, "main .prose a[href]")
    for href in [link.get_attribute("href") for link in links]:
        assert re.match(r"https?://", href), href
    for index in range(len(links)):
        browser.get(live_server(f"{LIST}/{stored_payloads[0]}"))
        link = browser.find_elements(By.CSS_SELECTOR, "main .prose a[href]")[index]
        browser.execute_script("arguments[0].click()", link)
        assert browser.execute_script("return typeof window.pwned") == "undefined"


def test_the_list_filters_in_a_browser_and_passes_axe(browser, live_server, app, axe):
    consultation = factories.make_consultation(slug=SLUG)
    theme(consultation, "habitat", "Habitat")
    commission = factories.make_organisation(kind=OrganisationKind.COMMISSION, name="Commission")
    make_proposal(consultation, title="Des logements sociaux", organisation=commission)
    make_proposal(consultation, title="Rénover les logements", summary="Isoler.", body="Isoler.")
    make_proposal(consultation, title="Mobilité", summary="Autre.", body="Autre.")
    db.session.commit()
    browser.get(live_server(LIST))
    axe(browser)
    browser.find_element(By.NAME, "q").send_keys("logement")
    Select(browser.find_element(By.NAME, "source")).select_by_value("commission")
    form = browser.find_element(By.CSS_SELECTOR, "main form.proposal-filters")
    click_and_wait(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    titles = [element.text for element in browser.find_elements(By.CSS_SELECTOR, "main h3 a")]
    assert titles == ["Des logements sociaux"]
    assert "q=logement" in browser.current_url and "source=commission" in browser.current_url
    axe(browser)
    click_and_wait(browser, browser.find_element(By.LINK_TEXT, "Des logements sociaux"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Des logements sociaux"
    axe(browser)


def test_a_contributor_co_signs_in_a_browser(browser, live_server, app, open_session, axe):
    consultation = factories.make_consultation(slug=SLUG)
    proposal = make_proposal(consultation, title="À soutenir")
    signer = factories.make_user(
        "contributor", organisation=factories.make_organisation(name="Office de Nantes")
    )
    db.session.commit()
    open_session(signer)
    browser.get(live_server(f"{LIST}/{proposal.id}"))
    axe(browser)
    button = browser.find_element(
        By.XPATH, "//button[normalize-space()='Co-sign on behalf of Office de Nantes']"
    )
    click_and_wait(browser, button)
    assert "Office de Nantes" in browser.find_element(By.CSS_SELECTOR, ".cosignature-list").text
    assert browser.find_element(By.CSS_SELECTOR, ".flash-success").text
    axe(browser)
    button = browser.find_element(
        By.XPATH, "//button[normalize-space()='Withdraw our co-signature']"
    )
    click_and_wait(browser, button)
    assert not browser.find_elements(By.CSS_SELECTOR, ".cosignature-list")


def _fetch(url: str) -> tuple[str, bytes]:
    """The content type and body of a page of the live server."""
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (the live server)
        return response.headers["Content-Type"], response.read()


def test_exports_stream_from_a_real_server(live_server, app):
    """The exports are streamed after the view returns, outside its database session: read
    them from the server as a script would."""
    consultation = factories.make_consultation(slug=SLUG)
    for index in range(250):
        make_proposal(consultation, title=f"=Proposition {index}")
    db.session.commit()
    content_type, data = _fetch(live_server(f"{LIST}.csv?q=logement"))
    assert content_type == "text/csv; charset=utf-8"
    text = data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(rows) == 250 and all(row["title"].startswith("'=") for row in rows)
    body = json.loads(_fetch(live_server(f"{LIST}.json?sort=recent"))[1])
    assert body["count"] == 250 and body["filters"] == {"sort": "recent"}
