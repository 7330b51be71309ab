"""Every form of the accounts domain needs its CSRF token; without it, 400 and nothing written."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from consultation.accounts import services
from consultation.accounts.models import (
    Invitation,
    Organisation,
    PasswordReset,
    Role,
    User,
    UserSession,
)
from tests import factories
from tests.accounts.helpers import (
    assert_error_page,
    audit_entries,
    is_signed_in,
    row_count,
    session_count,
)

EXPIRED_FORM = "The form has expired or was not sent from this site."


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def _csrf_token(client, path: str) -> str:
    body = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)


def test_sign_in_without_token_is_refused(client, db):
    factories.make_user(email="alice@example.org")
    db.session.commit()

    response = client.post(
        "/connexion", data={"email": "alice@example.org", "password": factories.PASSWORD}
    )

    assert_error_page(response, 400, EXPIRED_FORM)
    assert session_count() == 0
    assert audit_entries("auth.signed_in") == []


def test_sign_in_with_its_token_works(client, db):
    factories.make_user(email="alice@example.org")
    db.session.commit()
    token = _csrf_token(client, "/connexion")

    response = client.post(
        "/connexion",
        data={"email": "alice@example.org", "password": factories.PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 302
    assert session_count() == 1


def test_a_wrong_token_is_refused(client, db):
    factories.make_user(email="alice@example.org")
    db.session.commit()
    client.get("/connexion")

    response = client.post(
        "/connexion",
        data={
            "email": "alice@example.org",
            "password": factories.PASSWORD,
            "csrf_token": "forged",
        },
    )

    assert_error_page(response, 400, EXPIRED_FORM)
    assert session_count() == 0


def test_sign_out_without_token_keeps_the_session(admin_client):
    assert_error_page(admin_client.post("/deconnexion"), 400)
    assert is_signed_in(admin_client)


def test_password_change_without_token_changes_nothing(db, sign_in):
    user = factories.make_user()
    db.session.commit()
    client = sign_in(user)
    before = user.password_hash

    response = client.post(
        "/compte/mot-de-passe",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
    )

    assert_error_page(response, 400)
    db.session.refresh(user)
    assert user.password_hash == before


def test_revoking_a_session_without_token_keeps_it(db, sign_in):
    user = factories.make_user()
    db.session.commit()
    here, elsewhere = sign_in(user), sign_in(user)
    session_ids = sorted(db.session.scalars(select(UserSession.id)))

    assert_error_page(here.post(f"/compte/sessions/{session_ids[1]}/fermer"), 400)
    assert is_signed_in(elsewhere)


def test_staff_forms_without_token_write_nothing(admin_client, db, outbox):
    user = factories.make_user(role="juror")
    db.session.commit()

    assert_error_page(
        admin_client.post("/gestion/organisations", data={"name": "X", "kind": "organisme"}),
        400,
        EXPIRED_FORM,
    )
    assert_error_page(
        admin_client.post("/gestion/invitations", data={"email": "x@example.org", "role": "juror"}),
        400,
    )
    assert_error_page(
        admin_client.post(f"/gestion/utilisateurs/{user.id}/activation", data={"active": "0"}),
        400,
    )

    assert row_count(Organisation) == 0
    assert row_count(Invitation) == 0
    assert outbox() == []
    db.session.refresh(user)
    assert user.is_active


def test_staff_forms_with_their_token_work(admin_client, db):
    token = _csrf_token(admin_client, "/gestion/organisations")

    response = admin_client.post(
        "/gestion/organisations", data={"name": "X", "kind": "organisme", "csrf_token": token}
    )

    assert response.status_code == 302
    assert row_count(Organisation) == 1


def test_accepting_an_invitation_without_token_keeps_it_unused(client, db):
    invitation, token = services.invite_user(
        "new@example.org", Role.JUROR, None, None, timedelta(days=1)
    )
    db.session.commit()
    password = "a long enough passphrase"

    response = client.post(
        f"/invitation/{token}",
        data={"display_name": "New", "new_password": password, "confirm_password": password},
    )

    assert_error_page(response, 400, EXPIRED_FORM)
    assert row_count(User) == 0
    db.session.refresh(invitation)
    assert invitation.accepted_at is None


def test_asking_for_a_password_reset_without_token_sends_nothing(client, db, outbox):
    factories.make_user(email="alice@example.org")
    db.session.commit()

    response = client.post("/mot-de-passe-oublie", data={"email": "alice@example.org"})

    assert_error_page(response, 400, EXPIRED_FORM)
    assert row_count(PasswordReset) == 0
    assert outbox() == []


def test_asking_for_a_password_reset_with_its_token_works(client, db, outbox):
    factories.make_user(email="alice@example.org")
    db.session.commit()
    token = _csrf_token(client, "/mot-de-passe-oublie")

    response = client.post(
        "/mot-de-passe-oublie", data={"email": "alice@example.org", "csrf_token": token}
    )

    assert response.status_code == 200
    assert len(outbox()) == 1


def test_a_password_reset_without_token_keeps_the_link_unused(client, db, outbox):
    user = factories.make_user(email="alice@example.org")
    db.session.commit()
    client.post(
        "/mot-de-passe-oublie",
        data={"email": "alice@example.org", "csrf_token": _csrf_token(client, "/connexion")},
    )
    link = re.search(r"/mot-de-passe/[\w-]+", outbox()[0].get_content()).group(0)
    before = user.password_hash
    password = "a brand new passphrase"

    response = client.post(link, data={"new_password": password, "confirm_password": password})

    assert_error_page(response, 400, EXPIRED_FORM)
    db.session.refresh(user)
    assert user.password_hash == before
    assert db.session.scalar(select(PasswordReset.used_at)) is None
    assert audit_entries("account.password_reset") == []
