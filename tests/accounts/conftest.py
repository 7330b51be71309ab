"""Fixtures of the accounts tests."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    """Pages in English, so that tests read the messages as written in the code (the msgids),
    whatever the state of the French catalogue; visitors still get French by default."""
    app_config["BABEL_DEFAULT_LOCALE"] = "en"
    return app_config


@pytest.fixture
def outbox(app: Flask) -> Callable[[], list[EmailMessage]]:
    """The messages written to the test outbox so far, oldest first."""

    def messages() -> list[EmailMessage]:
        folder = Path(app.config["MAIL_OUTBOX"])
        files = sorted(folder.glob("*.eml")) if folder.exists() else []
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for path in files
        ]

    return messages
