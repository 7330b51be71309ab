"""`flask --app consultation backup ...`: a consistent online backup of the database, and its
restore."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from consultation.backups import services
from consultation.backups.services import BackupError

backup_cli = AppGroup("backup", help="Consistent online backups of the database, and restores.")


def _size(size: int) -> str:
    """A file size for people: 1.2 MB (1,234,567 bytes)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit} ({size:,} bytes)"
    return f"{size:,} bytes"


@backup_cli.command("create")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The backup file to write.",
)
@click.option("--force", is_flag=True, help="Replace the file if it exists.")
def create(out: Path, force: bool) -> None:
    """Write a consistent backup of the whole database to a file, while the application keeps
    serving and writing: the state of the last commit before the backup started."""
    try:
        result = services.create_backup(out, overwrite=force)
    except BackupError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(
        f"Wrote the {result.database} backup {result.path}: {_size(result.size)}, "
        f"{result.tables} tables, {result.rows:,} rows, in {result.seconds:.2f} s."
    )


@backup_cli.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(file: Path, yes: bool) -> None:
    """Replace everything the database holds with a backup made by `backup create`.

    Stop the app servers and workers first: their connections would otherwise see the tables
    change under them.
    """
    try:
        info = services.inspect_backup(file)
        if not yes:
            click.confirm(
                f"Replace everything in {services.describe_database()} with the backup "
                f"{info.path} (schema revision {info.revision})?",
                abort=True,
            )
        result = services.restore_backup(file)
    except BackupError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo(
        f"Restored {result.info.path} into {services.describe_database()}: "
        f"{result.tables} tables, {result.rows:,} rows, in {result.seconds:.2f} s."
    )
    if not result.info.is_latest:
        click.echo(
            "The backup's schema is older than this version of the application: run "
            "`flask --app consultation db upgrade` before starting it."
        )
