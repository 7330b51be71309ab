"""Staff pages for organisations, accounts and invitations: admins only, rules enforced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from consultation.accounts import services
from consultation.accounts.models import Invitation, Organisation, OrganisationKind, Role, User
from tests import factories
from tests.accounts.helpers import (
    assert_error_page,
    audit_entries,
    is_signed_in,
    post_sign_in,
    row_count,
)

STAFF_PAGES = ["/gestion/organisations", "/gestion/utilisateurs", "/gestion/invitations"]
STAFF_POSTS = [
    ("/gestion/organisations", {"name": "Nouvel organisme", "kind": "organisme"}),
    ("/gestion/invitations", {"email": "new@example.org", "role": "juror"}),
]


# --- Who may see them --------------------------------------------------------------------


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_admins_see_the_staff_pages(admin_client, path):
    assert admin_client.get(path).status_code == 200


@pytest.mark.parametrize("role", ["contributor", "regional_editor", "juror"])
@pytest.mark.parametrize("path", STAFF_PAGES)
def test_other_roles_are_refused(sign_in, role, path):
    assert_error_page(sign_in(role).get(path), 403)


@pytest.mark.parametrize("role", ["contributor", "regional_editor", "juror"])
@pytest.mark.parametrize(("path", "data"), STAFF_POSTS)
def test_other_roles_cannot_post_and_nothing_is_written(db, sign_in, role, path, data):
    client = sign_in(role)
    organisations = row_count(Organisation)

    assert_error_page(client.post(path, data=data), 403)

    assert row_count(Organisation) == organisations
    assert row_count(Invitation) == 0


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/connexion?next=")
    assert location.endswith((path, path.replace("/", "%2F")))


@pytest.mark.parametrize(("path", "data"), STAFF_POSTS)
def test_anonymous_posts_are_refused(db, client, path, data):
    assert_error_page(client.post(path, data=data), 401)
    assert row_count(Organisation) == 0
    assert row_count(Invitation) == 0


def test_a_non_admin_cannot_deactivate_anyone(db, sign_in):
    target = factories.make_user()
    db.session.commit()
    client = sign_in("regional_editor")

    response = client.post(f"/gestion/utilisateurs/{target.id}/activation", data={"active": "0"})

    assert response.status_code == 403
    db.session.refresh(target)
    assert target.is_active


# --- Organisations -----------------------------------------------------------------------


def test_staff_create_an_organisation(admin_client, db):
    response = admin_client.post(
        "/gestion/organisations",
        data={"name": "  Habitat   Atlantique  ", "kind": "organisme", "region_code": "52"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/gestion/organisations"
    organisation = db.session.scalars(select(Organisation)).one()
    assert organisation.name == "Habitat Atlantique"
    assert organisation.kind is OrganisationKind.ORGANISME
    assert organisation.region_code == "52"
    [entry] = audit_entries("organisation.created")
    assert entry.actor_id == admin_client.user.id
    assert entry.object_id == str(organisation.id)
    assert "Habitat Atlantique" in admin_client.get("/gestion/organisations").get_data(as_text=True)


@pytest.mark.parametrize("typed", ["Habitat Atlantique", "habitat  ATLANTIQUE"])
def test_a_duplicate_organisation_name_is_refused(admin_client, db, typed):
    factories.make_organisation(name="Habitat Atlantique")
    db.session.commit()

    response = admin_client.post(
        "/gestion/organisations", data={"name": typed, "kind": "organisme"}
    )

    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert 'id="name-errors"' in body
    assert "already exists" in body
    assert row_count(Organisation) == 1
    assert audit_entries("organisation.created") == []


def test_a_regional_association_needs_its_region(admin_client, db):
    response = admin_client.post(
        "/gestion/organisations",
        data={"name": "AR Hlm Bretagne", "kind": "association_regionale", "region_code": ""},
    )

    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert 'id="region_code-errors"' in body  # beside the region field
    assert "A regional association needs its region." in body
    assert row_count(Organisation) == 0


def test_a_regional_association_with_its_region_is_created(admin_client, db):
    response = admin_client.post(
        "/gestion/organisations",
        data={"name": "AR Hlm Bretagne", "kind": "association_regionale", "region_code": "53"},
    )

    assert response.status_code == 302
    organisation = db.session.scalars(select(Organisation)).one()
    assert organisation.region.name == "Bretagne"


@pytest.mark.parametrize(
    "data",
    [
        {"name": "", "kind": "organisme"},
        {"name": "X", "kind": "cooperative"},
        {"name": "X", "kind": "organisme", "region_code": "99"},
        {"name": "X" * 201, "kind": "organisme"},
    ],
)
def test_invalid_organisation_forms_are_refused(admin_client, db, data):
    response = admin_client.post("/gestion/organisations", data=data)

    assert response.status_code == 400
    assert row_count(Organisation) == 0


def test_organisations_can_be_filtered_by_kind(admin_client, db):
    factories.make_organisation(name="Habitat Atlantique", kind="organisme")
    factories.make_organisation(name="Commission Europe", kind="commission", region_code=None)
    db.session.commit()

    body = admin_client.get("/gestion/organisations?kind=commission").get_data(as_text=True)
    assert "Commission Europe" in body
    assert "Habitat Atlantique" not in body
    body = admin_client.get("/gestion/organisations?kind=nonsense").get_data(as_text=True)
    assert "Commission Europe" in body
    assert "Habitat Atlantique" in body


# --- Accounts ----------------------------------------------------------------------------


def test_the_users_page_lists_accounts_and_filters_by_role(admin_client, db):
    factories.make_user(role="juror", email="jure@example.org")
    factories.make_user(role="contributor", email="contrib@example.org")
    db.session.commit()

    body = admin_client.get("/gestion/utilisateurs").get_data(as_text=True)
    assert "jure@example.org" in body
    assert "contrib@example.org" in body
    body = admin_client.get("/gestion/utilisateurs?role=juror").get_data(as_text=True)
    assert "jure@example.org" in body
    assert "contrib@example.org" not in body


def test_staff_deactivate_then_reactivate_an_account(app, admin_client, db):
    user = factories.make_user(email="alice@example.org")
    db.session.commit()
    url = f"/gestion/utilisateurs/{user.id}/activation"

    assert admin_client.post(url, data={"active": "0"}).status_code == 302
    db.session.refresh(user)
    assert not user.is_active
    assert post_sign_in(app.test_client(), "alice@example.org").status_code == 401

    assert admin_client.post(url, data={"active": "1"}).status_code == 302
    db.session.refresh(user)
    assert user.is_active
    assert post_sign_in(app.test_client(), "alice@example.org").status_code == 302
    assert [entry.action for entry in audit_entries("account.activated")] == ["account.activated"]


def test_an_admin_cannot_deactivate_themselves(admin_client, db):
    admin = admin_client.user

    response = admin_client.post(
        f"/gestion/utilisateurs/{admin.id}/activation", data={"active": "0"}
    )

    assert_error_page(response, 400, "You cannot deactivate your own account.")
    db.session.refresh(admin)
    assert admin.is_active
    assert is_signed_in(admin_client)
    assert audit_entries("account.deactivated") == []
    # The page offers no such button either.
    body = admin_client.get("/gestion/utilisateurs").get_data(as_text=True)
    assert f"/gestion/utilisateurs/{admin.id}/activation" not in body


def test_deactivating_an_unknown_account_is_not_found(admin_client):
    response = admin_client.post("/gestion/utilisateurs/999999/activation", data={"active": "0"})
    assert response.status_code == 404


@pytest.mark.parametrize("data", [{}, {"active": ""}, {"active": "yes"}])
def test_activation_needs_an_explicit_choice(admin_client, db, data):
    user = factories.make_user()
    db.session.commit()

    response = admin_client.post(f"/gestion/utilisateurs/{user.id}/activation", data=data)

    assert_error_page(response, 400)
    db.session.refresh(user)
    assert user.is_active


# --- A constant number of queries whatever the number of rows ---------------------------


def _queries_for(admin_client, count_queries, path: str) -> int:
    admin_client.get(path)  # warm up: the first request may load things once
    with count_queries() as statements:
        response = admin_client.get(path)
    assert response.status_code == 200
    return len(statements)


def _add_users(count: int, admin: User) -> None:
    for number in range(count):
        factories.make_user(role=("contributor", "regional_editor", "juror")[number % 3])


def _add_organisations(count: int, admin: User) -> None:
    for number in range(count):
        kind = ("organisme", "commission", "association_regionale")[number % 3]
        factories.make_user(organisation=factories.make_organisation(kind=kind))


def _add_invitations(count: int, admin: User) -> None:
    for _ in range(count):
        organisation = factories.make_organisation()
        services.invite_user(
            f"invited-{organisation.id}@example.org",
            Role.CONTRIBUTOR,
            organisation,
            admin,
            timedelta(days=1),
        )


@pytest.mark.parametrize(
    ("path", "add_rows"),
    [
        ("/gestion/utilisateurs", _add_users),
        ("/gestion/organisations", _add_organisations),
        ("/gestion/invitations", _add_invitations),
    ],
)
def test_staff_pages_run_a_constant_number_of_queries(
    admin_client, db, count_queries, path, add_rows
):
    add_rows(3, admin_client.user)
    db.session.commit()
    few = _queries_for(admin_client, count_queries, path)
    add_rows(27, admin_client.user)
    db.session.commit()
    many = _queries_for(admin_client, count_queries, path)

    assert few == many, (few, many)


def test_long_lists_are_paginated(app, db, sign_in):
    admin = sign_in("admin")
    for _ in range(55):
        factories.make_organisation()
    db.session.commit()
    first = admin.get("/gestion/organisations").get_data(as_text=True)
    assert 'rel="next"' in first
    second = admin.get("/gestion/organisations?page=2")
    assert second.status_code == 200
    assert admin.get("/gestion/organisations?page=99").status_code == 404
    assert admin.get("/gestion/utilisateurs?page=abc").status_code == 404
