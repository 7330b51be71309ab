"""Fixtures of the export tests: messages in English, as written in the code (the msgids)."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    app_config["BABEL_DEFAULT_LOCALE"] = "en"
    return app_config
