"""Configuration is read from the environment in the factory; production refuses unsafe set-ups."""

from __future__ import annotations

from pathlib import Path

import pytest

from consultation import create_app
from consultation.config import Config, ConfigError, normalise_database_url


def test_production_needs_a_secret_key(tmp_path: Path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Config.from_env({"APP_ENV": "production"}, tmp_path)


def test_production_refuses_debug(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="Debug"):
        create_app(
            {
                "APP_ENV": "production",
                "SECRET_KEY": "s" * 32,
                "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            }
        )


def test_development_generates_and_keeps_a_secret_key(tmp_path: Path):
    first = Config.from_env({}, tmp_path)
    second = Config.from_env({}, tmp_path)
    assert len(first.secret_key) == 64
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_unknown_environment_is_refused(tmp_path: Path):
    with pytest.raises(ConfigError):
        Config.from_env({"APP_ENV": "staging"}, tmp_path)


def test_settings_come_from_the_environment(tmp_path: Path):
    config = Config.from_env(
        {
            "APP_ENV": "production",
            "SECRET_KEY": "k" * 32,
            "DATABASE_URL": "postgres://u@db/app",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "MAIL_URL": "smtp://mail:25",
            "BASE_URL": "https://utiles-ensemble.example/",
        },
        tmp_path,
    )
    flask = config.as_flask()
    assert flask["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/app"
    assert flask["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    assert flask["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert flask["BASE_URL"] == "https://utiles-ensemble.example"
    assert flask["SESSION_COOKIE_SECURE"] is True
    assert flask["HUEY_IMMEDIATE"] is False
    default = Config.from_env({}, tmp_path).as_flask()
    assert default["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert default["SESSION_COOKIE_SECURE"] is False


def test_database_urls_use_psycopg_3():
    assert normalise_database_url("postgresql://x/y") == "postgresql+psycopg://x/y"
    assert normalise_database_url("sqlite:///a.db") == "sqlite:///a.db"


def test_sqlite_gets_wal_foreign_keys_and_a_busy_timeout(app, db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
