"""`flask --app consultation users create EMAIL --role ROLE [--organisation NAME]`."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consultation.accounts import services
from consultation.accounts.models import OrganisationKind, Role, User
from tests import factories
from tests.accounts.helpers import audit_entries, post_sign_in, row_count

PASSWORD = "a long enough passphrase"


@pytest.fixture
def users_create(app):
    """Run `users create ARGS...` with `password` on standard input."""
    runner = app.test_cli_runner()

    def run(*args: str, password: str = PASSWORD):
        return runner.invoke(args=["users", "create", *args], input=f"{password}\n")

    return run


def test_create_an_admin(app, db, users_create):
    result = users_create("New.Admin@Example.org", "--role", "admin", "--name", "Équipe USH")

    assert result.exit_code == 0, result.output
    assert "Created new.admin@example.org (admin)." in result.output
    user = db.session.scalars(select(User)).one()
    assert user.email == "new.admin@example.org"
    assert user.display_name == "Équipe USH"
    assert user.role is Role.ADMIN
    assert user.organisation is None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in result.output
    [entry] = audit_entries("account.created")
    assert entry.object_id == str(user.id)
    assert entry.actor_id is None
    # The account works.
    assert post_sign_in(app.test_client(), "new.admin@example.org", PASSWORD).status_code == 302


def test_create_a_contributor_of_an_organisation_named_in_any_case(db, users_create):
    organisation = factories.make_organisation(name="Habitat Atlantique")
    db.session.commit()

    result = users_create(
        "membre@example.org", "--role", "contributor", "--organisation", "habitat atlantique"
    )

    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User)).one()
    assert user.organisation_id == organisation.id
    assert user.display_name == "membre@example.org"  # no --name: the email stands in


def test_create_a_regional_editor(db, users_create):
    factories.make_organisation(name="AR Hlm Bretagne", kind=OrganisationKind.ASSOCIATION_REGIONALE)
    db.session.commit()

    result = users_create(
        "bzh@example.org", "--role", "regional_editor", "--organisation", "AR Hlm Bretagne"
    )

    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(User)).one().region_code == "52"


def _fails_cleanly(result, message: str) -> None:
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unknown_organisation(db, users_create):
    result = users_create("x@example.org", "--role", "contributor", "--organisation", "Nowhere")

    _fails_cleanly(result, "No organisation is named 'Nowhere'.")
    assert row_count(User) == 0


@pytest.mark.parametrize("password", ["short", "", "eleven char"])
def test_short_password(db, users_create, password):
    result = users_create("x@example.org", "--role", "admin", password=password)

    _fails_cleanly(result, "The password must have at least 12 characters.")
    assert row_count(User) == 0


def test_duplicate_email(db, users_create):
    factories.make_user(email="taken@example.org")
    db.session.commit()

    result = users_create("Taken@Example.org", "--role", "admin")

    _fails_cleanly(result, "An account already exists for taken@example.org.")
    assert row_count(User) == 1
    assert audit_entries("account.created") == []


@pytest.mark.parametrize("role", ["contributor", "regional_editor"])
def test_member_roles_need_an_organisation(db, users_create, role):
    result = users_create("x@example.org", "--role", role)

    _fails_cleanly(result, "This role needs an organisation.")
    assert row_count(User) == 0


def test_a_regional_editor_needs_a_regional_association(db, users_create):
    factories.make_organisation(name="Habitat Atlantique")
    db.session.commit()

    result = users_create(
        "x@example.org", "--role", "regional_editor", "--organisation", "Habitat Atlantique"
    )

    _fails_cleanly(result, "A regional editor belongs to a regional Hlm association.")
    assert row_count(User) == 0


@pytest.mark.parametrize("email", ["not-an-email", "two@@example.org", "@example.org"])
def test_invalid_email(db, users_create, email):
    result = users_create(email, "--role", "admin")

    _fails_cleanly(result, "is not a valid e-mail address")
    assert row_count(User) == 0


def test_unknown_role_is_a_usage_error(db, users_create):
    result = users_create("x@example.org", "--role", "emperor")

    assert result.exit_code == 2
    assert "emperor" in result.output
    assert row_count(User) == 0


def test_the_service_checks_the_same_rules(db):
    with pytest.raises(services.DomainError):
        services.create_user("x@example.org", "X", Role.CONTRIBUTOR, PASSWORD, None)
