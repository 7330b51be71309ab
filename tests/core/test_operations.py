"""Operations: the request id in responses, logs and error pages; structured log lines; the
health check of the database, the job queue and Redis."""

from __future__ import annotations

import io
import json
import logging

import pytest

from consultation.core import logs
from consultation.core.jobs import huey


def test_every_response_carries_a_request_id(client):
    first = client.get("/healthz").headers[logs.REQUEST_ID_HEADER]
    second = client.get("/healthz").headers[logs.REQUEST_ID_HEADER]
    assert len(first) == 32 and first != second


def test_a_sane_request_id_from_the_proxy_is_kept_and_anything_else_replaced(client):
    kept = client.get("/healthz", headers={logs.REQUEST_ID_HEADER: "proxy-1234abcd"})
    assert kept.headers[logs.REQUEST_ID_HEADER] == "proxy-1234abcd"
    for hostile in ("short", "x" * 65, "a b c d e f g h", "abc\u00e9defgh", "<script>xx"):
        response = client.get("/healthz", headers={logs.REQUEST_ID_HEADER: hostile})
        assert response.headers[logs.REQUEST_ID_HEADER] != hostile


def test_each_request_is_logged_with_its_status_duration_and_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="consultation.access"):
        response = client.get("/nulle-part")
    record = next(r for r in caplog.records if r.name == "consultation.access")
    assert record.getMessage() == "GET /nulle-part 404"
    assert record.status == 404 and record.duration_ms >= 0
    assert record.request_id == response.headers[logs.REQUEST_ID_HEADER]


def test_one_time_tokens_in_paths_never_reach_the_logs(client, caplog):
    with caplog.at_level(logging.INFO, logger="consultation.access"):
        client.get("/mot-de-passe/un-jeton-secret-de-test")
        client.get("/invitation/autre-jeton-secret")
    lines = [r.getMessage() for r in caplog.records if r.name == "consultation.access"]
    assert len(lines) == 2, lines
    assert lines[0].startswith("GET /mot-de-passe/[token] ")
    assert lines[1].startswith("GET /invitation/[token] ")
    assert not any("secret" in line for line in lines)


def test_a_server_error_page_gives_the_reference_of_its_log_lines(app, client, caplog):
    from consultation.core.permissions import access, public

    @access(public)
    def broken():
        raise RuntimeError("boom")

    app.add_url_rule("/casse", "broken", broken)
    with caplog.at_level(logging.ERROR):
        page = client.get("/casse")
        api = client.get("/casse", headers={"Accept": "application/json"})
    reference = page.headers[logs.REQUEST_ID_HEADER]
    assert page.status_code == 500 and reference in page.get_data(as_text=True)
    assert api.get_json()["error"]["request_id"] == api.headers[logs.REQUEST_ID_HEADER]
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)


def test_json_log_lines_name_the_request(app):
    stream = io.StringIO()
    handler = logs._handler("json")
    handler.setStream(stream)
    logger = logging.getLogger("consultation.tests.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with app.test_request_context("/propositions?q=1", method="POST"):
            from flask import g

            g.request_id = "abcdef123456"
            logger.warning("refused: %s", "quota")
        logger.error("outside any request")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["message"] == "refused: quota" and inside["level"] == "WARNING"
    assert inside["request_id"] == "abcdef123456"
    assert inside["method"] == "POST" and inside["path"] == "/propositions"
    assert "time" in inside and inside["logger"] == "consultation.tests.json"
    assert outside["message"] == "outside any request" and "request_id" not in outside


def test_the_log_format_and_level_are_checked_at_start(tmp_path):
    from consultation.config import Config, ConfigError

    with pytest.raises(ConfigError, match="LOG_FORMAT"):
        Config.from_env({"APP_ENV": "testing", "SECRET_KEY": "x", "LOG_FORMAT": "xml"}, tmp_path)
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        Config.from_env({"APP_ENV": "testing", "SECRET_KEY": "x", "LOG_LEVEL": "loud"}, tmp_path)
    production = Config.from_env({"APP_ENV": "production", "SECRET_KEY": "x"}, tmp_path)
    assert production.log_format == "json"


def test_healthz_checks_the_job_queue(client, monkeypatch):
    def broken():
        raise OSError("disk I/O error")

    monkeypatch.setattr(huey, "immediate", False)
    monkeypatch.setattr(huey, "pending_count", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["jobs"] == "unavailable"
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_checks_redis_when_configured(app, client):
    assert client.get("/healthz").get_json()["redis"] == "not configured"
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["redis"] == "unavailable"


def test_healthz_with_a_live_redis(app, client):
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    app.config["REDIS_URL"] = url
    body = client.get("/healthz").get_json()
    assert body["redis"] == "ok" and body["status"] == "ok"
