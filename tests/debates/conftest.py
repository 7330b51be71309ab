"""Fixtures of the debate tests: pages in English, the outbox, and debates ready to use."""

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
    """Pages in English, so that tests read the messages as written in the code (the msgids)."""
    app_config["BABEL_DEFAULT_LOCALE"] = "en"
    app_config["BASE_URL"] = "https://debats.example.org"
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
