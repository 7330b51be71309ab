"""Typed configuration, read from the environment inside the application factory."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ENVIRONMENTS = ("development", "production", "testing")


class ConfigError(RuntimeError):
    """The configuration is unsafe or incomplete: the application refuses to start."""


@dataclass(frozen=True)
class Config:
    """Settings of one application instance; `as_flask()` gives Flask's upper-case keys."""

    environment: str = "development"
    secret_key: str = ""
    database_url: str = ""
    redis_url: str | None = None
    mail_url: str | None = None
    base_url: str = "http://127.0.0.1:5000"
    instance_path: Path = field(default_factory=lambda: Path("instance"))
    proxy_count: int = 0
    query_count_header: bool = False
    log_format: str = "text"
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str], instance_path: Path) -> Config:
        """Build the configuration from environment variables, with safe defaults."""
        environment = environ.get("APP_ENV", "development")
        if environment not in ENVIRONMENTS:
            raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}")
        secret_key = environ.get("SECRET_KEY", "")
        if not secret_key:
            if environment == "production":
                raise ConfigError("SECRET_KEY must be set in production")
            secret_key = _instance_secret_key(instance_path)
        database_url = environ.get("DATABASE_URL") or f"sqlite:///{instance_path / 'app.db'}"
        return cls(
            environment=environment,
            secret_key=secret_key,
            database_url=normalise_database_url(database_url),
            redis_url=environ.get("REDIS_URL") or None,
            mail_url=environ.get("MAIL_URL") or None,
            base_url=environ.get("BASE_URL", cls.base_url).rstrip("/"),
            instance_path=instance_path,
            proxy_count=int(environ.get("PROXY_COUNT", "0")),
            query_count_header=environ.get("QUERY_COUNT_HEADER") == "1",
            log_format=_log_format(environ, environment),
            log_level=_log_level(environ),
        )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def as_flask(self) -> dict[str, object]:
        """The Flask and extension settings derived from this configuration."""
        secure = self.environment == "production"
        engine_options: dict[str, object] = {}
        if not self.is_sqlite:
            engine_options = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5}
        return {
            "APP_ENV": self.environment,
            "TESTING": self.environment == "testing",
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "REDIS_URL": self.redis_url,
            "MAIL_URL": self.mail_url,
            "MAIL_OUTBOX": str(self.instance_path / "outbox"),
            "MAIL_SENDER": "Utiles ensemble <ne-pas-repondre@utiles-ensemble.example>",
            "BASE_URL": self.base_url,
            "PROXY_COUNT": self.proxy_count,
            "QUERY_COUNT_HEADER": self.query_count_header,
            "LOG_FORMAT": self.log_format,
            "LOG_LEVEL": self.log_level,
            "SESSION_COOKIE_SECURE": secure,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_NAME": "ue_session",
            "REMEMBER_COOKIE_SECURE": secure,
            "PERMANENT_SESSION_LIFETIME": 60 * 60 * 12,
            "PREFERRED_URL_SCHEME": "https" if secure else "http",
            "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
            "WTF_CSRF_TIME_LIMIT": None,
            "BABEL_DEFAULT_LOCALE": "fr",
            "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
            "LANGUAGES": ("fr", "en"),
            "RATELIMIT_STORAGE_URI": self.redis_url or "memory://",
            "RATELIMIT_ENABLED": self.environment != "testing",
            "RATELIMIT_HEADERS_ENABLED": True,
            "HUEY_IMMEDIATE": self.environment != "production" and not self.redis_url,
            "INVITATION_DAYS": 7,
            "API_TITLE": "Utiles ensemble",
            "API_VERSION": "v1",
            "OPENAPI_VERSION": "3.1.0",
            "OPENAPI_URL_PREFIX": "/api/v1",
            "OPENAPI_JSON_PATH": "openapi.json",
        }


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret_key(instance_path: Path) -> str:
    """Read the development secret key from the instance folder, creating it on first run."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process of this instance wrote it first
        return key_file.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def _log_format(environ: Mapping[str, str], environment: str) -> str:
    """`LOG_FORMAT`: one JSON object per line by default in production, text elsewhere."""
    value = environ.get("LOG_FORMAT") or ("json" if environment == "production" else "text")
    if value not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
    return value


def _log_level(environ: Mapping[str, str]) -> str:
    value = (environ.get("LOG_LEVEL") or "INFO").upper()
    if value not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    return value
