"""Database session policy: SQLite pragmas, one commit per request, query counting."""

from __future__ import annotations

import sqlite3

from flask import Flask, Response, g, has_request_context
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from consultation.extensions import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers work while one writer writes; foreign keys are off by default in SQLite."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _sqlite_savepoint(connection, _name) -> None:
    """Open the transaction before a savepoint when none is open yet.

    The sqlite3 module begins a transaction only before the first write (so that reads never
    hold one, and writers do not trip over each other's snapshots), and never before a
    SAVEPOINT, which would then be the outer transaction: releasing it would commit the whole
    request so far.
    """
    dbapi_connection = connection.connection.dbapi_connection
    if isinstance(dbapi_connection, sqlite3.Connection) and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def count_query(*_args) -> None:
    """Count one SQL statement of the current request (shown by QUERY_COUNT_HEADER)."""
    if has_request_context():
        g.query_count = g.get("query_count", 0) + 1


def init_app(app: Flask) -> None:
    """Install the engine hooks and the request transaction policy."""
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)
        event.listen(Engine, "savepoint", _sqlite_savepoint)
        event.listen(Engine, "before_cursor_execute", count_query)

    @app.after_request
    def commit_or_roll_back(response: Response) -> Response:
        """A request commits once, only when it succeeded; any error rolls everything back."""
        session = db.session()
        if session.in_transaction() or session.new or session.dirty or session.deleted:
            if response.status_code < 400:
                session.commit()
            else:
                session.rollback()
        if app.config["QUERY_COUNT_HEADER"]:
            response.headers["X-Query-Count"] = str(g.get("query_count", 0))
        return response


def refresh_statistics(*tables: str) -> None:
    """After a bulk load, let the query planner know the tables' new sizes.

    Without statistics SQLite guesses, and may read every proposal to check each against the
    search index instead of starting from the few the index finds (a search 10 to 20 times
    slower). Both databases sample rather than read everything, so this stays quick.
    """
    session = db.session
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA analysis_limit=1000"))
        session.execute(text("ANALYZE"))
    else:
        for table in tables:
            session.execute(text(f'ANALYZE "{table}"'))
