"""Helpers for the accounts tests: signing in through the form, cookies, the audit log."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from consultation.accounts.models import UserSession
from consultation.core.audit import AuditEntry
from consultation.extensions import db as _db
from tests import factories

SESSION_COOKIE = "ue_session"


def post_sign_in(
    client: FlaskClient,
    email_address: str,
    password: str = factories.PASSWORD,
    address: str = "127.0.0.1",
    next_url: str | None = None,
) -> TestResponse:
    """Send the sign-in form from `address`."""
    return client.post(
        "/connexion" + (f"?next={next_url}" if next_url is not None else ""),
        data={"email": email_address, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def copy_session_cookie(source: FlaskClient, app: Flask) -> FlaskClient:
    """A new browser holding a copy of `source`'s session cookie (a stolen cookie)."""
    cookie = source.get_cookie(SESSION_COOKIE)
    assert cookie is not None, "the source client has no session cookie"
    thief = app.test_client()
    thief.set_cookie(SESSION_COOKIE, cookie.value)
    return thief


def is_signed_in(client: FlaskClient) -> bool:
    """The account page answers (200) only to a signed-in browser; others go to /connexion."""
    response = client.get("/compte")
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/connexion")
        return False
    assert response.status_code == 200
    return True


def row_count(model: type) -> int:
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


def session_count(user_id: int | None = None) -> int:
    query = select(func.count()).select_from(UserSession)
    if user_id is not None:
        query = query.where(UserSession.user_id == user_id)
    return _db.session.scalar(query) or 0


def audit_entries(action: str) -> list[AuditEntry]:
    """The audit entries of one action, oldest first."""
    return list(
        _db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def assert_error_page(response: TestResponse, status: int, message: str | None = None) -> None:
    """A readable HTML error page with its status (and the specific message, when given)."""
    assert response.status_code == status
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert 'class="error-page"' in body
    assert "<h1>" in body
    if message is not None:
        assert message in body, body
