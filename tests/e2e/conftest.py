"""Browser fixtures: the application served on loopback, one headless Chromium per test session,
and an axe-core check of the page the browser shows.

Chromium and chromedriver come from Debian (`chromium`, `chromium-driver`); axe-core from
`tests/e2e/package.json` (`make e2e-deps`). Without them the browser tests are skipped, unless
REQUIRE_BROWSER=1 (as in CI), where they fail.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from flask import Flask
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait
from werkzeug.serving import WSGIRequestHandler, make_server

from consultation.accounts.models import User
from consultation.accounts.services import find_user_by_email, hash_password, start_session
from consultation.demo import services as demo_services
from consultation.extensions import db

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_ARGUMENTS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--window-size=1280,900",
)
AXE_SCRIPT = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
WAIT_SECONDS = 10


def _unavailable(reason: str) -> None:
    """Skip, or fail when the browser tests are required (CI sets REQUIRE_BROWSER=1)."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


# --- The application on a real socket ------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    """One request per connection, so no keep-alive thread outlives the test; errors still
    reach the log, one line per request would only drown them."""

    protocol_version = "HTTP/1.0"

    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


class _ErrorLog(logging.Handler):
    """Keeps the errors the application logs while it serves the browser."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(self.format(record))


@dataclass(frozen=True)
class LiveServer:
    app: Flask
    url: str

    def __call__(self, path: str = "/") -> str:
        """The absolute address of `path` on this server."""
        return self.url + path


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    """The browser submits real forms: check their CSRF tokens as in production."""
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """This test's application served by werkzeug on 127.0.0.1 and a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    server.daemon_threads = False  # server_close() waits for requests still running
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll interval
        name="live-server",
        daemon=True,
    )
    # The browser only sees an error page: fail the test with the server's traceback instead.
    errors = _ErrorLog()
    loggers = [app.logger, logging.getLogger("werkzeug")]
    for logger in loggers:
        logger.addHandler(errors)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=WAIT_SECONDS)
        server.server_close()
        for logger in loggers:
            logger.removeHandler(errors)
    if errors.messages:
        pytest.fail("The server logged errors:\n" + "\n".join(errors.messages))


@cache
def _demo_password_hash(password: str) -> str:
    return hash_password(password)


@pytest.fixture
def demo(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo data (consultations, organisations, accounts), committed for the server; the
    jury and the final text are left out (the tests of those pages make their own)."""
    # Argon2 is slow on purpose: hash the demo password once per session, not once per test.
    monkeypatch.setattr(demo_services, "hash_password", _demo_password_hash)
    demo_services.load_demo(complete=False)
    db.session.commit()


# --- The browser ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """One headless Chromium for the whole session (starting it is the slow part)."""
    for program in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(program):
            _unavailable(
                f"{program} is missing: install Debian's chromium and chromium-driver "
                "(apt-get install chromium chromium-driver)"
            )
    options = Options()
    options.binary_location = CHROMIUM
    for argument in CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    # The console, where Chromium reports what the Content-Security-Policy refused.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver path is explicit, so selenium never downloads a browser or a driver.
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        driver.set_page_load_timeout(30)
        driver.set_script_timeout(30)
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: WebDriver, live_server: LiveServer) -> WebDriver:
    """The session's browser, without the cookies of an earlier test (same host, other port)."""
    chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})
    chromium.get("about:blank")
    return chromium


def wait_for(browser: WebDriver, condition: Callable[[WebDriver], object]) -> object:
    """Wait until `condition(browser)` is truthy, and return its value."""
    return WebDriverWait(browser, WAIT_SECONDS).until(condition)


def is_gone(element: WebElement) -> Callable[[WebDriver], bool]:
    """Whether a page element has left the document (the next page replaced it)."""

    def check(_browser: WebDriver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            # While the next page replaces this one, Chromium may say this instead of "stale".
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    return check


def click_and_wait(browser: WebDriver, element: WebElement) -> None:
    """Click a link or a submit button, and wait until the next page replaces this one."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()
    wait_for(browser, is_gone(page))
    # The old page is gone; wait for the new one to be whole before the test looks into it.
    wait_for(
        browser, lambda driver: driver.execute_script("return document.readyState") == "complete"
    )


@pytest.fixture
def sign_in_as(browser: WebDriver, live_server: LiveServer) -> Callable[[str, str], None]:
    """Sign in through the form, as a person would: type the email and password, submit."""

    def sign_in(email: str, password: str) -> None:
        browser.get(live_server("/connexion"))
        browser.find_element(By.NAME, "email").send_keys(email)
        browser.find_element(By.NAME, "password").send_keys(password)
        form = browser.find_element(By.CSS_SELECTOR, "main form")
        click_and_wait(browser, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))

    return sign_in


@pytest.fixture
def open_session(
    app: Flask, browser: WebDriver, live_server: LiveServer
) -> Callable[[User | str], None]:
    """Give the browser a signed-in session cookie for a user (or an email), without the
    sign-in form: for tests about other pages, so they do not each pay for argon2."""

    def open_for(user: User | str) -> None:
        if isinstance(user, str):
            user = find_user_by_email(user)
        token = start_session(user, "127.0.0.1", "selenium")
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)
        browser.execute_cdp_cmd(
            "Network.setCookie",
            {
                "name": app.config["SESSION_COOKIE_NAME"],
                "value": serializer.dumps({"_user_id": token, "_fresh": True}),
                "url": live_server.url,
                "httpOnly": True,
                "sameSite": "Lax",
            },
        )

    return open_for


# --- Accessibility -------------------------------------------------------------------------


@cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]})
  .then((results) => done({violations: results.violations}))
  .catch((error) => done({error: String(error)}));
"""


def format_violations(url: str, violations: list[dict]) -> str:
    """A readable report: each rule with its help and the offending nodes."""
    lines = [f"axe-core: {len(violations)} serious or critical violation(s) on {url}"]
    for violation in violations:
        lines.append(
            f"- [{violation['impact']}] {violation['id']}: {violation['help']}"
            f" ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html']}")
            summary = (node.get("failureSummary") or "").replace("\n", "\n      ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def axe(chromium: WebDriver) -> Callable[[WebDriver], list[dict]]:
    """Run axe-core on the browser's current page; fail on serious or critical violations.

    Returns every violation (including minor and moderate ones) for tests that want more.
    """
    if not AXE_SCRIPT.is_file():
        _unavailable(
            f"{AXE_SCRIPT} is missing: run `npm ci --prefix tests/e2e` (or `make e2e-deps`)"
        )

    def check(browser: WebDriver) -> list[dict]:
        # WebDriver scripts are not subject to the page's Content-Security-Policy.
        browser.execute_script(_axe_source())
        outcome = browser.execute_async_script(RUN_AXE)
        assert "error" not in outcome, f"axe-core failed: {outcome.get('error')}"
        violations = outcome["violations"]
        failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        if failing:
            pytest.fail(format_violations(browser.current_url, failing))
        return violations

    return check
