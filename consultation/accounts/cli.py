"""`flask --app consultation users ...`: create accounts from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from consultation.accounts import services
from consultation.accounts.models import Organisation, Role
from consultation.core.errors import DomainError
from consultation.extensions import db

users_cli = AppGroup("users", help="User accounts.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--organisation", "organisation_name", help="Name of the user's organisation.")
@click.option("--name", "display_name", default="", help="Display name (default: the email).")
def create_user(email: str, role: str, organisation_name: str | None, display_name: str) -> None:
    """Create an account; the password is read from a prompt or from standard input."""
    organisation = None
    if organisation_name:
        organisation = db.session.scalar(
            select(Organisation).where(func.lower(Organisation.name) == organisation_name.lower())
        )
        if organisation is None:
            raise click.ClickException(f"No organisation is named {organisation_name!r}.")
    password = _read_password()
    try:
        user = services.create_user(email, display_name, Role(role), password, organisation)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    click.echo(f"Created {user.email} ({user.role.value}).")
