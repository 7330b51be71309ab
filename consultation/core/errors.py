"""Domain errors raised by services, and the French error pages and JSON bodies they become."""

from __future__ import annotations

import errno

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from consultation.core import audit
from consultation.core.logs import logged_path, request_id
from consultation.extensions import db


class DomainError(Exception):
    """A business rule refused the action; the message is safe to show to the user."""

    status_code = 400

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message  # may be a lazy string, translated when shown
        # The input the message is about (a service argument's name), so that a form can show
        # it beside that field; None when it is about the action as a whole.
        self.field = field


class InvalidTransition(DomainError):
    """A state change that the object's current state does not allow."""

    status_code = 409


class Conflict(DomainError):
    """The action clashes with the current data (a duplicate, a stale edit)."""

    status_code = 409


class Forbidden(DomainError):
    """The user may not do this."""

    status_code = 403


class NotFound(DomainError):
    """The object does not exist, or is out of the user's scope."""

    status_code = 404


class Gone(DomainError):
    """The object existed but can no longer be used (an expired link)."""

    status_code = 410


ERROR_TITLES = {
    400: _l("Bad request"),
    401: _l("Sign-in required"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    409: _l("Conflict"),
    410: _l("Link expired"),
    413: _l("File too large"),
    429: _l("Too many attempts"),
    500: _l("Server error"),
    507: _l("Storage full"),
}

ERROR_MESSAGES = {
    400: _l("The request could not be understood. Go back, check the form and try again."),
    401: _l("Sign in to continue."),
    403: _l("You do not have the rights needed to see this page or do this action."),
    404: _l("This page does not exist or is no longer available."),
    405: _l("This address does not accept this kind of request."),
    409: _l("This action conflicts with the current state of the data."),
    410: _l("This link has expired."),
    413: _l("The file you sent is too large."),
    429: _l("Too many attempts in a short time. Wait a minute, then try again."),
    500: _l("Something went wrong on our side. The team has been told; please try again later."),
    507: _l(
        "The server has no room left to store this. Nothing was saved; the team has been told. "
        "Please try again later."
    ),
}


def is_disk_full(error: BaseException) -> bool:
    """Whether an error is the disk running out of space (ENOSPC)."""
    return isinstance(error, OSError) and error.errno == errno.ENOSPC


def wants_json() -> bool:
    """API clients get JSON errors; people get pages."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes.accept_html


def error_response(status: int, message: object = None) -> tuple[Response | str, int]:
    """Render an error as JSON or as a French page, with the right status code."""
    title = str(ERROR_TITLES.get(status, ERROR_TITLES[500 if status >= 500 else 400]))
    detail = str(message or ERROR_MESSAGES.get(status, ERROR_MESSAGES[400]))
    # The request's id lets the team find the log lines of what went wrong.
    reference = request_id()
    if wants_json():
        body = {"status": status, "title": title, "message": detail, "request_id": reference}
        return jsonify(error=body), status
    page = render_template(
        "errors/error.html", status=status, title=title, message=detail, reference=reference
    )
    return page, status


def record_refusal(status: int) -> None:
    """Keep a trace of refused access, in its own transaction: the request's work is dropped."""
    db.session.rollback()
    audit.record(
        "access.refused" if status == 403 else "access.rate_limited",
        path=logged_path(),
        method=request.method,
        endpoint=request.endpoint,
    )
    db.session.commit()


def register_error_handlers(app: Flask) -> None:
    """Turn every HTTP and domain error into a readable page or JSON body."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return error_response(
            400,
            str(
                _l(
                    "The form has expired or was not sent from this site. "
                    "Reload the page and send it again."
                )
            ),
        )

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if error.status_code == 403:
            record_refusal(403)
        return error_response(error.status_code, error.message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in (403, 429):
            record_refusal(error.code)
        body, status = error_response(error.code or 500)
        headers = {}
        if getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        if error.code == 429 and error.response is not None:
            headers.update(error.response.headers)  # keep Retry-After and the rate-limit headers
        return body, status, headers

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()  # the error page must not run in a failed transaction
        if is_disk_full(error):
            # A full disk (an upload spooled to a file, an export's working files): the request's
            # work was rolled back; say so rather than "something went wrong".
            app.logger.error("Disk full on %s %s", request.method, logged_path(), exc_info=error)
            return error_response(507)
        app.logger.exception("Unhandled error on %s %s", request.method, logged_path())
        return error_response(500)
