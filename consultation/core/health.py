"""What `/healthz` checks: the database, the job queue and, when configured, Redis. Each check
answers "ok" or says what is wrong; none takes more than a second or two."""

from __future__ import annotations

from functools import cache

import redis
from flask import current_app
from sqlalchemy import text

from consultation.core.jobs import huey, queue_name
from consultation.extensions import db

OK = "ok"
UNAVAILABLE = "unavailable"
NOT_CONFIGURED = "not configured"
TIMEOUT_SECONDS = 2


def check_database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure means the database cannot be used
        current_app.logger.exception("Health check: the database does not answer")
        db.session.rollback()
        return UNAVAILABLE
    return OK


def check_jobs() -> str:
    """The queue's storage answers (SQLite file or Redis); "immediate" runs jobs in-process."""
    if huey.immediate:
        return OK
    try:
        huey.pending_count()
    except Exception:  # the queue's storage is unreachable or broken
        current_app.logger.exception("Health check: the job queue (%s) fails", queue_name())
        return UNAVAILABLE
    return OK


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
    )


def check_redis() -> str:
    """Redis holds the rate limits (and the jobs) when `REDIS_URL` is set."""
    url = current_app.config["REDIS_URL"]
    if not url:
        return NOT_CONFIGURED
    try:
        _redis(url).ping()
    except redis.RedisError:
        current_app.logger.exception("Health check: Redis does not answer")
        return UNAVAILABLE
    return OK


def health() -> tuple[dict[str, str], bool]:
    """Every check, and whether all of them pass."""
    checks = {"database": check_database(), "jobs": check_jobs(), "redis": check_redis()}
    healthy = all(value in (OK, NOT_CONFIGURED) for value in checks.values())
    return {**checks, "queue": queue_name()}, healthy
