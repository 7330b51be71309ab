"""Consistent online backups of the database and their restore: SQLite through its backup API,
PostgreSQL through pg_dump and pg_restore. The application keeps serving and writing meanwhile.

A backup is one file, written beside its destination under a temporary name and renamed when
complete, so that a failed or interrupted backup never leaves a partial file behind. A restore
first checks that the file is a backup of this application (its `alembic_version` table names a
revision of our migrations), then replaces what the database holds in one transaction.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import current_app
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError

from consultation.core.errors import DomainError
from consultation.extensions import db

SQLITE = "SQLite"
POSTGRESQL = "PostgreSQL"
SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"  # the custom format of pg_dump
# How long an SQLite restore waits for a writer to finish before giving up.
SQLITE_BUSY_SECONDS = 30
# `-csearch_path=a,b` (or `-c search_path=a`) in the libpq options of DATABASE_URL.
SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*(\S+)")
# A line of `pg_restore --list`: "215; 1259 16388 TABLE DATA myschema alembic_version owner".
PG_TABLES = (
    "SELECT table_schema, table_name FROM information_schema.tables "
    "WHERE table_type = 'BASE TABLE' AND {} ORDER BY 1, 2"
)
PG_TABLES_IN = PG_TABLES.format("table_schema = ANY(:schemas)")
PG_TABLES_ALL = PG_TABLES.format(
    "table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg\\_%'"
)
TOC_ALEMBIC_DATA = re.compile(r"^\d+; \d+ \d+ TABLE DATA (\S+) alembic_version\b", re.MULTILINE)


class BackupError(DomainError):
    """A backup or a restore was refused or failed; the message says why, and what to do."""


@dataclass(frozen=True)
class BackupResult:
    """A backup written: where, its size, and what it holds (counted in the copied snapshot)."""

    path: Path
    database: str
    size: int
    tables: int
    rows: int
    seconds: float


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds, read from the file alone."""

    path: Path
    database: str
    revision: str  # the Alembic revision of its schema
    is_latest: bool  # that revision is the head of this version's migrations
    schema: str | None  # PostgreSQL: the schema of its tables


@dataclass(frozen=True)
class RestoreResult:
    """A backup restored, and what the database holds afterwards."""

    info: BackupInfo
    tables: int
    rows: int
    seconds: float


@dataclass(frozen=True)
class _Postgres:
    """How pg_dump and pg_restore reach the database of DATABASE_URL."""

    conninfo: str  # libpq parameters, without the password
    password: str | None
    schemas: tuple[str, ...]  # the URL's search_path; empty when it sets none

    @property
    def schema(self) -> str:
        """The schema where the application's tables live."""
        return self.schemas[0] if self.schemas else "public"

    def environment(self) -> dict[str, str]:
        """The tools' environment: the password goes there, never on a command line."""
        environment = dict(os.environ)
        if self.password:
            environment["PGPASSWORD"] = self.password
        return environment


def create_backup(out: Path, *, overwrite: bool = False) -> BackupResult:
    """Write a consistent backup of the whole database to `out`, while the app keeps working."""
    started = time.perf_counter()
    url = db.engine.url
    database = _database_name(url)
    if database == SQLITE:
        source = _sqlite_file(url)
        if not source.is_file():
            raise BackupError(f"The database file {source} does not exist: nothing to back up.")
        with _atomic_output(out, overwrite) as temporary:
            tables, rows = _sqlite_backup(source, temporary)
    else:
        target = _postgres(url)
        pg_dump = _tool("pg_dump")
        with _atomic_output(out, overwrite) as temporary:
            tables, rows = _pg_dump(pg_dump, target, temporary)
    out = out.absolute()
    return BackupResult(
        out, database, out.stat().st_size, tables, rows, time.perf_counter() - started
    )


def inspect_backup(path: Path) -> BackupInfo:
    """Check that `path` is a backup of this application for this database, and describe it."""
    path = path.absolute()
    if not path.exists():
        raise BackupError(f"{path} does not exist.")
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise BackupError(f"Cannot read {path}: {error.strerror}.") from None
    url = db.engine.url
    database = _database_name(url)
    schema = None
    if database == SQLITE:
        if header.startswith(PG_DUMP_HEADER):
            raise BackupError(f"{path} is a PostgreSQL backup, but this database is SQLite.")
        if header != SQLITE_HEADER:
            raise BackupError(f"{path} is not an SQLite database, so not a backup of this app.")
        revision = _sqlite_revision(path)
    else:
        if header == SQLITE_HEADER:
            raise BackupError(f"{path} is an SQLite backup, but this database is PostgreSQL.")
        if not header.startswith(PG_DUMP_HEADER):
            raise BackupError(
                f"{path} is not a PostgreSQL backup (made by pg_dump --format=custom)."
            )
        target = _postgres(url)
        schema, revision = _pg_revision(path, target)
        if schema != target.schema:
            raise BackupError(
                f"{path} holds the schema {schema!r}, but DATABASE_URL uses the schema "
                f"{target.schema!r}: a backup is restored into the schema it was taken from."
            )
    revisions, heads = _migration_revisions()
    if revision not in revisions:
        raise BackupError(
            f"{path} has the schema revision {revision!r}, which this version of the application "
            "does not know: it is not a backup of this application, or comes from a newer version."
        )
    return BackupInfo(path, database, revision, revision in heads, schema)


def restore_backup(path: Path) -> RestoreResult:
    """Replace everything the database holds with the backup at `path`, once checked.

    This process's sessions and pooled connections are closed before and after, since the
    tables they knew are replaced; other app servers and workers should be stopped meanwhile.
    """
    info = inspect_backup(path)
    started = time.perf_counter()
    url = db.engine.url
    live = _sqlite_file(url) if info.database == SQLITE else None
    if live is not None and live.exists() and live.samefile(info.path):
        raise BackupError(f"{info.path} is the database itself, not a backup of it.")
    db.session.remove()
    db.engine.dispose()
    try:
        if live is not None:
            tables, rows = _sqlite_restore(info.path, live)
        else:
            target = _postgres(url)
            _pg_restore(_tool("pg_restore"), target, info.path)
            db.engine.dispose()  # connections may hold plans of the dropped tables
            with _reaching_postgres(), db.engine.connect() as connection:
                tables, rows = _pg_counts(connection, target)
    finally:
        db.engine.dispose()
    return RestoreResult(info, tables, rows, time.perf_counter() - started)


def describe_database() -> str:
    """The database of DATABASE_URL in words (never with its password)."""
    url = db.engine.url
    if _database_name(url) == SQLITE:
        return f"the SQLite database {_sqlite_file(url)}"
    target = _postgres(url)
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    described = f"the PostgreSQL database {url.database!r} on {where}"
    return f"{described}, schema {target.schema!r}" if target.schemas else described


# Files


@contextmanager
def _atomic_output(out: Path, overwrite: bool) -> Iterator[Path]:
    """A temporary file beside `out`, renamed onto it when the block succeeds, else removed."""
    out = out.absolute()
    folder = out.parent
    if out.is_dir():
        raise BackupError(f"{out} is a folder: give the path of the file to write.")
    if out.exists() and not overwrite:
        raise BackupError(f"{out} already exists: choose another file, or --force to replace it.")
    if not folder.exists():
        raise BackupError(f"Cannot write {out}: the folder {folder} does not exist.")
    if not folder.is_dir():
        raise BackupError(f"Cannot write {out}: {folder} is not a folder.")
    try:
        # Private (mode 0600): a backup holds every account and every personal datum.
        handle, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=folder)
    except OSError as error:
        raise BackupError(f"Cannot write in the folder {folder}: {error.strerror}.") from None
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        _move(temporary, out, overwrite)
        _fsync_folder(folder)
    finally:
        for leftover in (temporary, *(Path(f"{name}{end}") for end in ("-journal", "-wal"))):
            leftover.unlink(missing_ok=True)


def _move(temporary: Path, out: Path, overwrite: bool) -> None:
    """Put the finished file in place in one step, replacing `out` only when allowed."""
    if overwrite:
        os.replace(temporary, out)
        return
    try:
        os.link(temporary, out)  # atomic, and fails if a file appeared there meanwhile
    except FileExistsError:
        raise BackupError(f"{out} already exists: choose another file, or --force.") from None
    except OSError:  # a file system without hard links
        if out.exists():
            raise BackupError(f"{out} already exists: choose another file, or --force.") from None
        os.replace(temporary, out)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (not every file system lets a folder be opened)."""
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _database_name(url: URL) -> str:
    backend = url.get_backend_name()
    if backend == "sqlite":
        return SQLITE
    if backend == "postgresql":
        return POSTGRESQL
    raise BackupError(f"Backups of {backend} databases are not supported (SQLite, PostgreSQL).")


def _migration_revisions() -> tuple[set[str], set[str]]:
    """Every revision of this version's migrations, and its heads."""
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config()
    scripts = ScriptDirectory.from_config(config)
    return {script.revision for script in scripts.walk_revisions()}, set(scripts.get_heads())


# SQLite


def _sqlite_file(url: URL) -> Path:
    name = url.database or ""
    in_memory = name.startswith("file::memory:") or url.query.get("mode") == "memory"
    if name in ("", ":memory:") or in_memory:
        raise BackupError("The database is in memory: there is no file to back up or restore.")
    return Path(name).absolute()


def _sqlite_open(path: Path, mode: str) -> sqlite3.Connection:
    """Open an existing database file (`mode` ro or rw), never creating one."""
    return sqlite3.connect(
        f"file:{quote(str(path))}?mode={mode}", uri=True, timeout=SQLITE_BUSY_SECONDS
    )


def _sqlite_backup(source_path: Path, temporary: Path) -> tuple[int, int]:
    """Copy the live database into `temporary`; return its tables and rows."""
    try:
        with (
            closing(_sqlite_open(source_path, "rw")) as source,
            closing(sqlite3.connect(temporary)) as target,
        ):
            # One step (pages=-1) copies every page within one read transaction: the snapshot
            # of the last commit, while other connections keep writing to the WAL. (In several
            # steps, each write of another connection would restart the copy.)
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
            return _sqlite_counts(target)
    except sqlite3.Error as error:
        raise BackupError(f"Cannot back up the SQLite database {source_path}: {error}.") from None


def _sqlite_restore(backup: Path, live: Path) -> tuple[int, int]:
    """Copy the backup over the live database; return its tables and rows."""
    try:
        with (
            closing(_sqlite_open(backup, "ro")) as source,
            closing(sqlite3.connect(live, timeout=SQLITE_BUSY_SECONDS)) as target,
        ):
            # The backup API replaces the destination in one write transaction: other
            # connections see the old database or the restored one, never a mix.
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=WAL")  # as the application opens it
            return _sqlite_counts(target)
    except sqlite3.Error as error:
        raise BackupError(
            f"Cannot restore into the SQLite database {live}: {error} (nothing was changed)."
        ) from None


def _sqlite_revision(path: Path) -> str:
    """The schema revision of an SQLite backup, after checking the file is sound."""
    try:
        with closing(_sqlite_open(path, "ro")) as connection:
            check = connection.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"{path} is a damaged SQLite database: {check}.")
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            if found is None:
                raise BackupError(
                    f"{path} is an SQLite database without an alembic_version table, "
                    "so not a backup of this application."
                )
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error as error:
        raise BackupError(f"{path} cannot be read as an SQLite database: {error}.") from None
    if row is None:
        raise BackupError(f"{path} has an empty alembic_version table: its schema is unknown.")
    return str(row[0])


def _sqlite_counts(connection: sqlite3.Connection) -> tuple[int, int]:
    """The ordinary tables (neither SQLite's own nor a search index's shadow tables), and the
    rows they hold."""
    names = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM pragma_table_list "
            "WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite%'"
        )
    ]
    rows = 0
    for name in names:
        quoted = '"' + name.replace('"', '""') + '"'
        rows += connection.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0]  # noqa: S608 (a quoted name from the catalogue)
    return len(names), rows


# PostgreSQL


def _postgres(url: URL) -> _Postgres:
    """Turn the SQLAlchemy URL into libpq parameters; keep the password apart."""
    from psycopg.conninfo import make_conninfo

    parameters: dict[str, object] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "dbname": url.database,
    }
    for key, value in url.query.items():  # sslmode, options, application_name…
        parameters[key] = value[-1] if isinstance(value, tuple) else value
    kept = {key: str(value) for key, value in parameters.items() if value not in (None, "")}
    schemas: tuple[str, ...] = ()
    match = SEARCH_PATH.search(kept.get("options", ""))
    if match:
        names = (name.strip().strip('"') for name in match.group(1).split(","))
        schemas = tuple(name for name in names if name and name != "$user")
    return _Postgres(make_conninfo("", **kept), url.password, schemas)


@contextmanager
def _reaching_postgres() -> Iterator[None]:
    """Turn a failure to reach or query the database into a readable error."""
    try:
        yield
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip()
        raise BackupError(f"Cannot use the PostgreSQL database: {reason}") from None


def _tool(name: str) -> str:
    """The path of a PostgreSQL client program, or a clear error when it is not installed."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found on the PATH: install the PostgreSQL client programs "
            "(Debian: postgresql-client), of the server's major version or newer."
        )
    return found


def _run(command: list[str], target: _Postgres, failure: str) -> str:
    """Run a client program; its output, or an error carrying what it wrote on failure."""
    program = Path(command[0]).name
    try:
        completed = subprocess.run(  # noqa: S603 (no shell; the arguments are ours)
            command,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=target.environment(),
            check=False,
        )
    except OSError as error:
        raise BackupError(f"Cannot run {program}: {error.strerror}.") from None
    if completed.returncode != 0:
        said = completed.stderr.strip() or f"exit code {completed.returncode}"
        raise BackupError(f"{failure}. {program} said: {said}")
    return completed.stdout


def _pg_dump(pg_dump: str, target: _Postgres, temporary: Path) -> tuple[int, int]:
    """Dump the database (or the URL's schemas) into `temporary`; return its tables and rows.

    pg_dump reads the snapshot of a transaction held open here, so that the rows counted are
    exactly the rows dumped.
    """
    with _reaching_postgres(), db.engine.connect() as connection:
        connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
            tables, rows = _pg_counts(connection, target)
            command = [
                pg_dump,
                "--format=custom",
                "--no-password",  # fail rather than wait for a prompt (cron)
                f"--snapshot={snapshot}",
                f"--file={temporary}",
                *(f"--schema={_literal_pattern(schema)}" for schema in target.schemas),
                f"--dbname={target.conninfo}",
            ]
            _run(command, target, "pg_dump failed, no backup was written")
    return tables, rows


def _literal_pattern(name: str) -> str:
    """A pg_dump pattern matching exactly `name` (double-quoted: no wildcard, case kept)."""
    return '"' + name.replace('"', '""') + '"'


def _pg_restore(pg_restore: str, target: _Postgres, path: Path) -> None:
    """Drop what the backup holds, and recreate it from the backup, in one transaction."""
    command = [
        pg_restore,
        "--clean",
        "--if-exists",
        "--no-owner",  # the objects belong to the user of DATABASE_URL
        "--no-privileges",  # grants to roles that may not exist on this server
        "--single-transaction",  # all or nothing
        "--no-password",
        f"--dbname={target.conninfo}",
        str(path),
    ]
    _run(command, target, "pg_restore failed, and nothing was changed")


def _pg_revision(path: Path, target: _Postgres) -> tuple[str, str]:
    """The schema holding the backup's alembic_version table, and the revision it records."""
    pg_restore = _tool("pg_restore")
    listing = _run(
        [pg_restore, "--list", str(path)], target, f"{path} cannot be read as a PostgreSQL backup"
    )
    match = TOC_ALEMBIC_DATA.search(listing)
    if match is None:
        raise BackupError(
            f"{path} holds no alembic_version table, so it is not a backup of this application."
        )
    schema = match.group(1)
    script = _run(
        [
            pg_restore,
            "--data-only",
            f"--schema={schema}",
            "--table=alembic_version",
            "--file=-",
            str(path),
        ],
        target,
        f"Cannot read the schema revision of {path}",
    )
    lines = iter(script.splitlines())
    for line in lines:
        if line.startswith("COPY ") and "alembic_version" in line:
            first = next(lines, "\\.")
            if first != "\\.":
                return schema, first.split("\t")[0]
            break
    raise BackupError(f"{path} has an empty alembic_version table: its schema is unknown.")


def _pg_counts(connection: Connection, target: _Postgres) -> tuple[int, int]:
    """The tables of the schemas a backup holds, and their rows."""
    query = PG_TABLES_IN if target.schemas else PG_TABLES_ALL
    parameters = {"schemas": list(target.schemas)} if target.schemas else {}
    quote_name = connection.dialect.identifier_preparer.quote_identifier
    names = [(schema, name) for schema, name in connection.execute(text(query), parameters)]
    rows = 0
    for schema, name in names:
        quoted = f"{quote_name(schema)}.{quote_name(name)}"
        rows += connection.scalar(text(f"SELECT count(*) FROM {quoted}")) or 0  # noqa: S608 (quoted names from the catalogue)
    return len(names), rows
