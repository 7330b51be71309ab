"""Fixtures of the bill tests: pages in English, links on a known public address."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    """Pages in English, so that tests read the messages as written in the code (the msgids)."""
    app_config["BABEL_DEFAULT_LOCALE"] = "en"
    app_config["BASE_URL"] = "https://texte.example.org"
    return app_config
