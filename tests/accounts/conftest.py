"""Fixtures of the accounts tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    """Pages in English, so that tests read the messages as written in the code (the msgids),
    whatever the state of the French catalogue; visitors still get French by default."""
    app_config["BABEL_DEFAULT_LOCALE"] = "en"
    return app_config
