"""Sign-in attempts are limited to five a minute per address and per account."""

from __future__ import annotations

import pytest

from tests import factories
from tests.accounts.helpers import assert_error_page, post_sign_in, session_count

TOO_MANY = "Too many attempts in a short time. Wait a minute, then try again."


@pytest.fixture
def app_config(app_config):
    app_config["RATELIMIT_ENABLED"] = True
    return app_config


def test_sixth_attempt_from_one_address_gets_429_with_a_readable_page(client, db):
    factories.make_user(email="alice@example.org")
    db.session.commit()
    for number in range(5):  # a different account each time: only the address limit counts
        response = post_sign_in(
            client, f"guess{number}@example.org", "wrong", address="198.51.100.1"
        )
        assert response.status_code == 401

    # Even the right password is refused once the address is over its limit.
    response = post_sign_in(client, "alice@example.org", address="198.51.100.1")

    assert_error_page(response, 429, TOO_MANY)
    assert "Retry-After" in response.headers
    assert session_count() == 0


def test_another_address_is_not_held_back_by_the_first(client, db):
    factories.make_user(email="alice@example.org")
    db.session.commit()
    for number in range(6):
        post_sign_in(client, f"guess{number}@example.org", "wrong", address="198.51.100.1")

    response = post_sign_in(client, "alice@example.org", address="198.51.100.2")

    assert response.status_code == 302


def test_sixth_attempt_on_one_account_from_new_addresses_gets_429(client, db):
    factories.make_user(email="alice@example.org")
    db.session.commit()
    for number in range(5):
        response = post_sign_in(client, "alice@example.org", "wrong", address=f"203.0.113.{number}")
        assert response.status_code == 401

    # The account is held back whatever the address and however its email is typed.
    response = post_sign_in(client, " ALICE@example.org", address="203.0.113.99")

    assert_error_page(response, 429, TOO_MANY)
    assert session_count() == 0
    # Other accounts can still sign in from that address.
    factories.make_user(email="bob@example.org")
    db.session.commit()
    assert post_sign_in(client, "bob@example.org", address="203.0.113.99").status_code == 302


def test_showing_the_sign_in_page_is_not_limited(client):
    for _ in range(8):
        assert client.get("/connexion").status_code == 200
