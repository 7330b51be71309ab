"""Debates in a real browser: an editor schedules and publishes a debate, a visitor registers;
axe-core finds no serious violation on the debate pages."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from consultation.consultations.models import Consultation, Phase
from consultation.core.models import utcnow
from consultation.debates.models import Debate, DebateFormat, DebateStatus, Registration
from consultation.demo.services import OPEN_SLUG
from consultation.extensions import db
from tests.e2e.conftest import click_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

MANAGE = f"/gestion/consultations/{OPEN_SLUG}/debats"


def _debate_day() -> date:
    """A day inside the open consultation's concertation, in the future."""
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == OPEN_SLUG))
    period = consultation.period(Phase.CONCERTATION)
    day = max(date.today() + timedelta(days=3), period.starts_on)  # noqa: DTZ011
    assert day <= period.ends_on, "the demo's concertation must still be open"
    return day


def _set_value(browser, name: str, value: str) -> None:
    """Date pickers differ between browsers: set the value as the picker would."""
    element = browser.find_element(By.NAME, name)
    browser.execute_script("arguments[0].value = arguments[1];", element, value)


def _submit(browser) -> None:
    form = browser.find_element(By.CSS_SELECTOR, "main form[method=post]:not(.inline-form)")
    click_and_wait(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))


def test_an_editor_schedules_a_debate_and_a_visitor_registers(
    browser, live_server, demo, open_session, axe
):
    day = _debate_day()
    open_session("pdl@example.org")
    browser.get(live_server(MANAGE))
    axe(browser)
    click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, f"a[href$='{MANAGE}/nouveau']"))
    axe(browser)
    browser.find_element(By.NAME, "title").send_keys("Habiter demain à Angers")
    _set_value(browser, "starts_at", f"{day:%Y-%m-%d}T18:30")
    _set_value(browser, "ends_at", f"{day:%Y-%m-%d}T20:30")
    Select(browser.find_element(By.NAME, "format")).select_by_value("in_person")
    browser.find_element(By.NAME, "venue").send_keys("Salle Chemellier, Angers")
    browser.find_element(By.NAME, "capacity").send_keys("1")
    _submit(browser)

    debate = db.session.scalar(select(Debate).where(Debate.title == "Habiter demain à Angers"))
    assert debate is not None and debate.status is DebateStatus.DRAFT
    assert urlsplit(browser.current_url).path == f"{MANAGE}/{debate.id}"
    axe(browser)
    publish = browser.find_element(
        By.CSS_SELECTOR, f"form[action$='{MANAGE}/{debate.id}/publier'] button"
    )
    click_and_wait(browser, publish)
    db.session.expire_all()
    assert db.session.get(Debate, debate.id).status is DebateStatus.PUBLISHED

    # A visitor, without a session, finds it and registers.
    browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
    browser.get(live_server(f"/consultations/{OPEN_SLUG}/debats?region=52"))
    axe(browser)
    link = browser.find_element(By.LINK_TEXT, "Habiter demain à Angers")
    click_and_wait(browser, link)
    assert "Salle Chemellier, Angers" in browser.find_element(By.TAG_NAME, "main").text
    axe(browser)
    browser.find_element(By.NAME, "name").send_keys("Camille Martin")
    browser.find_element(By.NAME, "email").send_keys("camille@example.org")
    _submit(browser)
    assert browser.find_element(By.CSS_SELECTOR, ".flash-success").is_displayed()
    registration = db.session.scalar(
        select(Registration).where(Registration.email == "camille@example.org")
    )
    assert registration is not None and registration.status == "confirmed"
    axe(browser)  # the full debate now offers its waiting list

    browser.get(live_server(f"/consultations/{OPEN_SLUG}/debats/calendrier?month={day:%Y-%m}"))
    assert "Habiter demain à Angers" in browser.find_element(By.TAG_NAME, "main").text
    axe(browser)


@pytest.fixture
def debates(demo):
    """A published debate with a registration, and a held one with minutes, in region 52."""
    from datetime import datetime, time

    from consultation.accounts.services import find_user_by_email
    from consultation.debates import services
    from consultation.debates.services import PARIS, DebateInput

    editor = find_user_by_email("pdl@example.org")
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == OPEN_SLUG))
    start = datetime.combine(_debate_day(), time(18, 30), tzinfo=PARIS)
    data = DebateInput(
        title="Débat pour axe",
        description="Un **débat** de test.",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        format=DebateFormat.HYBRID,
        venue="Angers",
        online_url="https://visio.example.org/debat",
        capacity=1,
    )
    debate, _ = services.create_debate(consultation, data, editor)
    services.publish_debate(debate, editor)
    token = services.register(debate, "Camille", "camille@example.org", "", utcnow()).cancel_token
    db.session.commit()
    return {"debate": debate, "token": token}


def test_debate_pages_are_accessible(browser, live_server, debates, open_session, axe):
    debate = debates["debate"]
    public = [
        f"/consultations/{OPEN_SLUG}/debats/{debate.id}",
        f"/inscriptions/{debates['token']}/annuler",
        f"/consultations/{OPEN_SLUG}/debats?region=99",
    ]
    for path in public:
        browser.get(live_server(path))
        assert browser.find_element(By.TAG_NAME, "h1").text
        axe(browser)
    open_session("pdl@example.org")
    for path in (
        f"{MANAGE}/{debate.id}",
        f"{MANAGE}/{debate.id}/annuler",
        f"{MANAGE}/{debate.id}/compte-rendu",
        f"/consultations/{OPEN_SLUG}/debats/{debate.id}",
    ):
        browser.get(live_server(path))
        assert browser.find_element(By.TAG_NAME, "h1").text
        axe(browser)
