"""Fixtures of the backup tests: a CLI runner, and the database's kind."""

from __future__ import annotations

import pytest
from click.testing import Result
from flask import Flask

from consultation.backups.cli import backup_cli


@pytest.fixture
def backup(app: Flask):
    """Run `backup ARGS...` and return click's result (`input` answers the prompts)."""
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(backup_cli, list(args), input=input)

    return invoke


@pytest.fixture
def is_postgresql(db) -> bool:
    return db.engine.dialect.name == "postgresql"
