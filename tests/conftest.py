"""Fixtures: an application per test on a migrated database (SQLite, or PostgreSQL when
TEST_DATABASE=postgresql), clients signed in per role, factories and a query counter."""

from __future__ import annotations

import email
import email.policy
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text

from consultation import create_app
from consultation.extensions import db as _db
from tests import factories

# Reference data loaded by migrations survives between tests.
KEPT_TABLES = {"region", "alembic_version", "data_version"}


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database per test worker, migrated once with `flask db upgrade`."""
    schema = None
    if os.environ.get("TEST_DATABASE") == "postgresql":
        base = os.environ["TEST_DATABASE_URL"]
        # The process id keeps two runs sharing one server (two checkouts) out of each other's way.
        schema = f"test_{re.sub(r'[^a-z0-9]', '', _worker())}_{os.getpid()}"
        _run_on(base, f"DROP SCHEMA IF EXISTS {schema} CASCADE", f"CREATE SCHEMA {schema}")
        separator = "&" if "?" in base else "?"
        url = f"{base}{separator}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app(_test_config(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        _db.engine.dispose()
    yield url
    if schema is not None:
        _run_on(os.environ["TEST_DATABASE_URL"], f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def _run_on(base_url: str, *statements: str) -> None:
    engine = create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def _test_config(url: str, instance: Path) -> dict[str, object]:
    os.environ["INSTANCE_PATH"] = str(instance)
    return {
        "APP_ENV": "testing",
        "DATABASE_URL": url,
        "SECRET_KEY": "tests-only-secret",
        "WTF_CSRF_ENABLED": False,
        "MAIL_OUTBOX": str(instance / "outbox"),
        "SERVER_NAME": None,
    }


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, object]:
    """Settings for this test's application; tests may change them before using `app`."""
    return _test_config(database_url, tmp_path)


class RequestIsolatingClient(FlaskClient):
    """Requests made while the test holds an app context reuse it, and so its `g`: clear `g`
    before each request so that nothing (such as Flask-Login's cached user) leaks between them."""

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(g):
                g.pop(name)
        return super().open(*args, **kwargs)


@pytest.fixture
def app(app_config: dict[str, object]) -> Iterator[Flask]:
    """An application on the migrated database, emptied after the test."""
    application = create_app(app_config)
    application.test_client_class = RequestIsolatingClient
    with application.app_context():
        yield application
        _db.session.remove()
        _empty_tables()
        _db.engine.dispose()


def _empty_tables() -> None:
    tables = [t for t in reversed(_db.metadata.sorted_tables) if t.name not in KEPT_TABLES]
    with _db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(f'"{table.name}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
            connection.execute(text("DELETE FROM fts_proposal"))  # PostgreSQL's cascades


@pytest.fixture
def db(app: Flask):
    """The database extension, inside the test's application context."""
    return _db


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def sign_in(app: Flask) -> Callable[..., FlaskClient]:
    """Return a new client signed in as the given user (or a new user with that role)."""

    def make(user_or_role: object = "admin", **user_fields: object) -> FlaskClient:
        user = (
            factories.make_user(role=str(user_or_role), **user_fields)
            if isinstance(user_or_role, str)
            else user_or_role
        )
        return factories.signed_in_client(app, user)

    return make


@pytest.fixture
def admin_client(sign_in) -> FlaskClient:
    return sign_in("admin")


@pytest.fixture
def contributor_client(sign_in) -> FlaskClient:
    """A contributor of an Hlm organisation in Pays de la Loire."""
    return sign_in("contributor")


@pytest.fixture
def editor_client(sign_in) -> FlaskClient:
    """A regional editor of the Pays de la Loire association (region 52)."""
    return sign_in("regional_editor")


@pytest.fixture
def juror_client(sign_in) -> FlaskClient:
    return sign_in("juror")


@pytest.fixture
def count_queries(app: Flask):
    """Count the SQL statements run inside a `with count_queries() as counter:` block."""

    @contextmanager
    def counting() -> Iterator[list[str]]:
        statements: list[str] = []

        def record(_conn, _cursor, statement, *_args) -> None:
            statements.append(statement)

        engine = _db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


@pytest.fixture
def outbox(app: Flask) -> Callable[[], list[EmailMessage]]:
    """The messages written to the test outbox so far, oldest first."""

    def messages() -> list[EmailMessage]:
        folder = Path(app.config["MAIL_OUTBOX"])
        files = sorted(folder.glob("*.eml")) if folder.exists() else []
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
            for path in files
        ]

    return messages


from tests.smtp_server import smtp  # noqa: E402, F401 (a fixture: a real SMTP server)
