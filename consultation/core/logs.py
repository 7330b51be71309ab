"""Structured logs: one JSON object per line in production (text elsewhere), each carrying the
id of the request it belongs to, so that a user's error page, the access line and the traceback
can be found together. The id comes from the reverse proxy's `X-Request-ID` when it sends a sane
one, and is sent back in the response."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy may hand us: a uuid, a hex string... never arbitrary text that would end up
# in log lines and response headers.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
_HANDLER_NAME = "consultation"
access_logger = logging.getLogger("consultation.access")


def logged_path() -> str:
    """The request's path as logs show it: a one-time token in it (an invitation, a password
    reset, a registration's cancel link) is a secret, and logs are read by more people."""
    path = request.path
    token = (request.view_args or {}).get("token")
    if isinstance(token, str) and token:
        path = path.replace(token, "[token]")
    return path


def request_id() -> str | None:
    """The current request's id, None outside a request."""
    return g.get("request_id") if has_request_context() else None


class RequestContext(logging.Filter):
    """Adds the request's id, method, path and user to every record logged during it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = g.get("request_id")
            record.method = request.method
            record.path = logged_path()
            record.remote_addr = request.remote_addr
            user = g.get("_login_user")  # only if already loaded: logging must not query
            record.user_id = getattr(user, "id", None) if user is not None else None
        return True


def _handler(log_format: str) -> logging.Handler:
    handler = logging.StreamHandler()
    handler.set_name(_HANDLER_NAME)
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(levelname)s %(name)s %(message)s",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",  # ISO 8601, in UTC
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
        handler.addFilter(_DefaultRequestId())
    handler.addFilter(RequestContext())
    return handler


class _DefaultRequestId(logging.Filter):
    """The text format names the request id even outside requests."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return True


def init_app(app: Flask) -> None:
    """Give each request an id and log one access line per request; in production and
    development, the application's loggers write to standard error in the configured format
    (tests leave the records to pytest)."""
    logger = logging.getLogger("consultation")
    if app.config["APP_ENV"] != "testing":
        app.logger.removeHandler(default_handler)
        for handler in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
            logger.removeHandler(handler)
        logger.addHandler(_handler(app.config["LOG_FORMAT"]))
        logger.setLevel(app.config["LOG_LEVEL"])
        logger.propagate = False

    @app.before_request
    def start_request() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    # The development server writes its own line per request already.
    access_lines = app.config["APP_ENV"] != "development"

    @app.after_request
    def log_request(response: Response) -> Response:
        identifier = g.get("request_id")
        if identifier:
            response.headers[REQUEST_ID_HEADER] = identifier
        started = g.get("request_started")
        if access_lines and started is not None and access_logger.isEnabledFor(logging.INFO):
            access_logger.info(
                "%s %s %s",
                request.method,
                logged_path(),
                response.status_code,
                extra={
                    "request_id": identifier,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
        return response
