"""Background jobs: immediate in development and tests, queued on SQLite or Redis in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from huey.storage import RedisStorage, SqliteStorage

from consultation import create_app
from consultation.core import jobs
from consultation.core.mail import send_mail


@pytest.fixture
def restore_queue():
    yield
    jobs.huey.immediate = True


def test_mail_goes_to_the_outbox_at_once_in_tests(app):
    send_mail("someone@example.org", "Objet", "Corps du message")
    written = list(Path(app.config["MAIL_OUTBOX"]).glob("*.eml"))
    assert len(written) == 1
    assert b"someone@example.org" in written[0].read_bytes()


def test_production_queues_jobs_on_sqlite_by_default(tmp_path, monkeypatch, restore_queue):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    create_app(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "k" * 32,
            "DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
        }
    )
    assert isinstance(jobs.huey.storage, SqliteStorage)
    assert (tmp_path / "jobs.db").exists()


def test_production_queues_jobs_on_redis_when_configured(tmp_path, monkeypatch, restore_queue):
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    create_app(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "k" * 32,
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
        }
    )
    assert isinstance(jobs.huey.storage, RedisStorage)


def test_the_worker_command_exists(app):
    result = app.test_cli_runner().invoke(args=["jobs", "--help"])
    assert result.exit_code == 0
    assert "worker" in result.output
