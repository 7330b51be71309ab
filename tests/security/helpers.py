"""Shared pieces of the security tests: the routes of the permissions table, the role to send
each one as, a fingerprint of the whole database, and readings of error pages."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from flask import Flask
from sqlalchemy import select
from werkzeug.test import TestResponse

from consultation.extensions import db
from tests.core.test_permissions_table import LOGIN, OK, TABLE

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
# Who sends a route when several roles may: staff first, then the narrower roles.
ROLE_PREFERENCE = ("admin", "regional_editor", "contributor", "juror", "anonymous")
CSRF_MESSAGE_FR = "Le formulaire a expiré ou n'a pas été envoyé depuis ce site."
TOO_LARGE_FR = "Fichier trop volumineux"


def allowed_role(expected: dict[str, object]) -> str:
    """A role the table lets through; for routes no role of the table may use (the ballot
    of a consultation's own jurors), the signed-in role the table names, so that the request
    still reaches the application as its real users' would."""
    for role in ROLE_PREFERENCE:
        if expected.get(role) == OK:
            return role
    for role in ROLE_PREFERENCE:
        if expected.get(role) != LOGIN and role != "anonymous":
            return role
    raise AssertionError(f"no role to send this route as: {expected}")


def table_routes(methods: tuple[str, ...] | None = None) -> Iterator[tuple[str, str]]:
    """The (endpoint, method) keys of the permissions table, optionally for some methods."""
    for endpoint, method in sorted(TABLE):
        if methods is None or method in methods:
            yield endpoint, method


def app_routes(app: Flask, methods: tuple[str, ...]) -> set[tuple[str, str]]:
    """The (endpoint, method) pairs the application really serves, for some methods."""
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method in methods
    }


def database_fingerprint() -> dict[str, str]:
    """A digest of every row of every table the models know, by table name: two equal
    fingerprints mean nothing was added, changed or deleted."""
    db.session.expire_all()
    digests = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = db.session.execute(select(table).order_by(*order)).all()
        digest = hashlib.sha256()
        for row in rows:
            digest.update(repr(tuple(row)).encode())
        digests[table.name] = f"{len(rows)}:{digest.hexdigest()}"
    db.session.rollback()
    return digests


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    names = before.keys() | after.keys()
    return sorted(name for name in names if before.get(name) != after.get(name))


_VOLATILE = (
    re.compile(r'name="csrf_token"[^>]*value="[^"]*"'),
    re.compile(r'content="[^"]*"(?=\s+name="csrf-token")'),
    re.compile(r'name="csrf-token"\s+content="[^"]*"'),
    re.compile(r'nonce="[^"]*"'),
    re.compile(r"[0-9a-f]{32}"),  # request ids
)


def without_tokens(body: str) -> str:
    """A page without what differs on every request: form tokens, nonces, request ids."""
    for pattern in _VOLATILE:
        body = pattern.sub("", body)
    return body


def is_french_error_page(response: TestResponse, status: int) -> bool:
    """The readable French error page (or, for API clients, a JSON error) with that status."""
    if response.status_code != status:
        return False
    if response.is_json:
        return response.get_json()["error"]["status"] == status
    body = response.get_data(as_text=True)
    return (
        response.mimetype == "text/html"
        and 'class="error-page"' in body
        and f"Erreur {status}" in body
        and '<html lang="fr"' in body
    )
