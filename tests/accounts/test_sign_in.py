"""Signing in: credentials, the `next` target, one message for every failure, audit entries."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from consultation.accounts import services
from consultation.accounts.models import UserSession
from tests import factories
from tests.accounts.helpers import audit_entries, is_signed_in, post_sign_in, session_count

FAILURE_MESSAGE = "Incorrect email or password."


def test_good_credentials_open_a_session_and_redirect_home(client, db):
    user = factories.make_user(email="alice@example.org")
    db.session.commit()

    response = post_sign_in(client, "alice@example.org", address="192.0.2.7")

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user_session = db.session.scalars(db.select(UserSession)).one()
    assert user_session.user_id == user.id
    assert user_session.ip_address == "192.0.2.7"
    assert user.last_login_at is not None
    [entry] = audit_entries("auth.signed_in")
    assert entry.actor_id == user.id
    assert entry.object_id == str(user.id)
    assert is_signed_in(client)


def test_the_cookie_holds_a_session_token_not_the_user_id(client, db):
    user = factories.make_user(email="alice@example.org")
    db.session.commit()
    post_sign_in(client, "alice@example.org")

    with client.session_transaction() as session:
        token = session["_user_id"]
    assert token != str(user.id)
    assert len(token) >= 40
    stored = db.session.scalars(db.select(UserSession.token_hash)).one()
    assert stored != token  # only its hash is kept


@pytest.mark.parametrize("typed", ["ALICE@Example.ORG", "  alice@example.org  "])
def test_email_is_case_and_space_insensitive(client, db, typed):
    factories.make_user(email="alice@example.org")
    db.session.commit()

    response = post_sign_in(client, typed)

    assert response.status_code == 302
    assert session_count() == 1


def test_next_is_followed_to_a_local_path(client, db):
    factories.make_user(email="alice@example.org")
    db.session.commit()

    response = post_sign_in(client, "alice@example.org", next_url="/compte")

    assert response.status_code == 302
    assert response.headers["Location"] == "/compte"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "http://evil.example/compte",
        "///evil.example",
        "/\\evil.example",
        "/%09/evil.example",  # a tab, which browsers drop: //evil.example
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_next_never_leads_off_site(client, db, target):
    factories.make_user(email="alice@example.org")
    db.session.commit()

    response = post_sign_in(client, "alice@example.org", next_url=target)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_anonymous_visitor_of_a_private_page_comes_back_after_sign_in(client, db):
    factories.make_user(email="alice@example.org")
    db.session.commit()

    response = client.get("/compte")
    assert response.status_code == 302
    sign_in_url = response.headers["Location"]
    assert sign_in_url.startswith("/connexion?next=")

    response = client.post(
        sign_in_url, data={"email": "alice@example.org", "password": factories.PASSWORD}
    )
    assert response.headers["Location"] == "/compte"


def test_wrong_password_and_unknown_email_get_the_same_answer(app, db):
    user = factories.make_user(email="alice@example.org")
    db.session.commit()

    wrong_password = post_sign_in(app.test_client(), "alice@example.org", "not the password")
    unknown_email = post_sign_in(app.test_client(), "nobody@example.org", "not the password")

    assert wrong_password.status_code == unknown_email.status_code == 401
    first = wrong_password.get_data(as_text=True)
    second = unknown_email.get_data(as_text=True)
    assert FAILURE_MESSAGE in first
    # Byte for byte the same page once the typed address is set aside: nothing to probe.
    assert first.replace("alice@example.org", "X") == second.replace("nobody@example.org", "X")
    assert session_count() == 0
    failures = audit_entries("auth.sign_in_failed")
    assert [entry.details["email"] for entry in failures] == [
        "alice@example.org",
        "nobody@example.org",
    ]
    assert failures[0].object_id == str(user.id)
    assert failures[1].object_id is None
    assert all(entry.actor_id is None for entry in failures)
    assert audit_entries("auth.signed_in") == []


def test_deactivated_user_cannot_sign_in(client, db):
    factories.make_user(email="alice@example.org", is_active=False)
    db.session.commit()

    response = post_sign_in(client, "alice@example.org")

    assert response.status_code == 401
    assert FAILURE_MESSAGE in response.get_data(as_text=True)
    assert session_count() == 0
    assert len(audit_entries("auth.sign_in_failed")) == 1
    assert not is_signed_in(client)


def test_user_without_password_cannot_sign_in(client, db):
    factories.make_user(email="alice@example.org", password_hash=None)
    db.session.commit()

    for password in (factories.PASSWORD, ""):
        response = post_sign_in(client, "alice@example.org", password)
        assert response.status_code in (400, 401)
    assert post_sign_in(client, "alice@example.org").status_code == 401
    assert session_count() == 0


def test_a_hash_that_is_not_argon2_is_refused_not_a_crash(client, db):
    factories.make_user(email="alice@example.org", password_hash="md5$abc$def")
    db.session.commit()

    assert post_sign_in(client, "alice@example.org").status_code == 401


def test_incomplete_form_is_a_bad_request_and_not_an_attempt(client, db):
    response = client.post("/connexion", data={"email": "alice@example.org"})

    assert response.status_code == 400
    assert session_count() == 0
    assert audit_entries("auth.sign_in_failed") == []


def test_sign_in_page_is_public(client):
    response = client.get("/connexion")

    assert response.status_code == 200
    assert 'name="email"' in response.get_data(as_text=True)
    assert 'name="password"' in response.get_data(as_text=True)


def test_signing_in_again_ends_the_previous_session_of_the_browser(client, db):
    first = factories.make_user(email="first@example.org")
    factories.make_user(email="second@example.org")
    db.session.commit()
    post_sign_in(client, "first@example.org")
    assert session_count(first.id) == 1

    post_sign_in(client, "second@example.org")

    assert session_count(first.id) == 0
    assert session_count() == 1


def test_the_chosen_language_survives_sign_in(client, db):
    factories.make_user(email="alice@example.org")
    db.session.commit()
    client.get("/langue/en")

    post_sign_in(client, "alice@example.org")

    with client.session_transaction() as session:
        assert session["lang"] == "en"


def test_an_outdated_hash_is_upgraded_on_sign_in(client, db):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    user = factories.make_user(
        email="alice@example.org", password_hash=weak.hash(factories.PASSWORD)
    )
    db.session.commit()

    assert post_sign_in(client, "alice@example.org").status_code == 302

    db.session.refresh(user)
    assert user.password_hash.startswith("$argon2id$")
    assert not services._hasher.check_needs_rehash(user.password_hash)
    assert services._hasher.verify(user.password_hash, factories.PASSWORD)


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "/%0A/evil.example"])
def test_the_language_switch_uses_the_same_guard(client, target):
    response = client.get(f"/langue/en?next={target}")

    assert response.headers["Location"] == "/"
    assert client.get("/langue/en?next=/compte").headers["Location"] == "/compte"
