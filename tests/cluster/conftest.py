"""Fixtures of the tests of several app servers: Redis, production settings, two gunicorn
instances serving the test database."""

from __future__ import annotations

import os

import pytest

from tests.cluster.servers import AppServer

SECRET_KEY = "tests-only-secret"  # the test application's, so that its cookies open sessions
APPLICATION_NAME = "utiles-ensemble-cluster"  # the servers' connections, for pg_stat_activity


@pytest.fixture(scope="module")
def redis_url() -> str:
    """A Redis database of this test worker's own, emptied before and after."""
    import redis

    if os.environ.get("TEST_DATABASE") != "postgresql":
        pytest.skip("several app servers share PostgreSQL: run with TEST_DATABASE=postgresql")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = 8 + int("".join(c for c in worker if c.isdigit()) or 0) % 8
    url = f"redis://127.0.0.1:6379/{index}"
    try:
        connection = redis.Redis.from_url(url, socket_connect_timeout=2)
        connection.flushdb()
    except redis.RedisError:
        if os.environ.get("REQUIRE_BROWSER") == "1":  # CI: every service must be there
            pytest.fail("Redis does not answer on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379")
    yield url
    connection.flushdb()
    connection.close()


@pytest.fixture(scope="module")
def environment(database_url: str, redis_url: str, tmp_path_factory) -> dict[str, str]:
    """Production settings for every process: one database, one Redis, one instance folder
    (its outbox receives the e-mails)."""
    instance = tmp_path_factory.mktemp("cluster-instance")
    env = {key: value for key, value in os.environ.items() if key != "FLASK_DEBUG"}
    env.update(
        APP_ENV="production",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=f"{database_url}&application_name={APPLICATION_NAME}",
        REDIS_URL=redis_url,
        INSTANCE_PATH=str(instance),
        LOG_LEVEL="WARNING",
        BASE_URL="http://127.0.0.1",
    )
    env.pop("MAIL_URL", None)
    return env


@pytest.fixture(scope="module")
def servers(environment: dict[str, str], tmp_path_factory):
    """Two gunicorn instances, two workers each."""
    logs = tmp_path_factory.mktemp("cluster-logs")
    started = [AppServer.start(name, environment, logs) for name in ("a", "b")]
    try:
        for server in started:
            server.wait_until_healthy()
        yield started
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def fresh_redis(redis_url: str) -> None:
    """Rate-limit counters of an earlier test must not leak into this one."""
    import redis

    with redis.Redis.from_url(redis_url) as connection:
        connection.flushdb()
