"""Session fixation and planted cookies, beyond tests/accounts/test_sessions.py (which covers
a copied cookie after sign-out, password change and deactivation, and a cookie holding a user
id): signing in always starts a new session, and no cookie the server did not issue for a
live session signs anyone in."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from consultation.accounts import services as account_services
from consultation.accounts.models import UserSession
from tests import factories
from tests.accounts.helpers import SESSION_COOKIE, is_signed_in, post_sign_in, session_count


def _cookie(client) -> str:
    cookie = client.get_cookie(SESSION_COOKIE)
    assert cookie is not None
    return cookie.value


def _read(app: Flask, value: str) -> dict:
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    assert serializer is not None
    return serializer.loads(value)


def _plant(app: Flask, value: str):
    browser = app.test_client()
    browser.set_cookie(SESSION_COOKIE, value)
    return browser


def test_signing_in_replaces_the_anonymous_session(app, db):
    """The cookie a visitor had before signing in (which an attacker may have set) is not the
    one signed in: its contents (a CSRF secret too) are gone, only the language is kept."""
    factories.make_user(email="alice@example.org")
    db.session.commit()
    browser = app.test_client()
    browser.get("/langue/en?next=/connexion")
    before = _cookie(browser)
    with browser.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["csrf_token"] = "known to the attacker"
    planted = _cookie(browser)

    assert post_sign_in(browser, "alice@example.org").status_code == 302

    after = _cookie(browser)
    assert after not in (before, planted)
    contents = _read(app, after)
    assert "planted" not in contents
    assert contents.get("csrf_token") != "known to the attacker"
    assert contents["lang"] == "en"
    assert not is_signed_in(_plant(app, planted))  # the pre-sign-in cookie is still anonymous


def test_an_attackers_signed_in_cookie_does_not_become_the_victims_session(app, db):
    """Login fixation: the attacker plants their own signed-in cookie in the victim's browser;
    when the victim signs in, the attacker's copy does not follow them into the account."""
    factories.make_user(email="mallory@example.org")
    victim_user = factories.make_user(email="alice@example.org")
    db.session.commit()
    attacker = app.test_client()
    assert post_sign_in(attacker, "mallory@example.org").status_code == 302
    planted = _cookie(attacker)
    victim = _plant(app, planted)

    assert post_sign_in(victim, "alice@example.org").status_code == 302

    assert _cookie(victim) != planted
    assert victim.get("/compte").get_data(as_text=True).count("alice@example.org") >= 1
    # The attacker's session ended when the victim signed in over it: the copy is anonymous.
    assert not is_signed_in(_plant(app, planted))
    assert session_count(victim_user.id) == 1


def test_planted_session_cookies_never_sign_in(app, db):
    user = factories.make_user()
    token = account_services.start_session(user, "127.0.0.1", "pytest")
    db.session.commit()
    stored_hash = db.session.scalar(db.select(UserSession.token_hash))
    other_key = URLSafeTimedSerializer(
        "not-the-secret-key",
        salt="cookie-session",
        serializer=SecureCookieSessionInterface.serializer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": "sha1"},
    )
    genuine = app.session_interface.get_signing_serializer(app)

    planted_values = {
        "signed with another key": other_key.dumps({"_user_id": token, "_fresh": True}),
        "the stored hash, not the token": genuine.dumps({"_user_id": stored_hash}),
        "a guessed token": genuine.dumps({"_user_id": "A" * 43}),
        "the user's email": genuine.dumps({"_user_id": user.email}),
        "an empty token": genuine.dumps({"_user_id": ""}),
        "unsigned contents": "eyJfdXNlcl9pZCI6IjEifQ",
        "garbage": "%%%not-a-cookie%%%",
        "a truncated cookie": genuine.dumps({"_user_id": token})[:-5],
    }
    for label, value in planted_values.items():
        browser = _plant(app, value)
        response = browser.get("/gestion/utilisateurs")
        assert response.status_code == 302, label  # to the sign-in page, never a 500
        assert not is_signed_in(browser), label
    # A planted Flask-Login "remember me" cookie (user id and a made-up digest) neither.
    browser = app.test_client()
    browser.set_cookie("remember_token", f"{user.id}|{'0' * 128}")
    assert not is_signed_in(browser)
    # The genuine cookie works, so the refusals above are the planting's doing.
    assert is_signed_in(_plant(app, genuine.dumps({"_user_id": token, "_fresh": True})))


def test_a_cookie_replayed_after_sign_out_reaches_no_staff_page(app, db, sign_in):
    admin = sign_in("admin")
    copy = _cookie(admin)

    assert admin.post("/deconnexion").status_code == 302

    replayed = _plant(app, copy)
    assert replayed.get("/gestion/utilisateurs").status_code == 302
    assert replayed.post("/gestion/organisations", data={"name": "X"}).status_code == 401
    assert db.session.scalar(db.select(db.func.count()).select_from(UserSession)) == 0


def test_the_session_cookie_is_http_only_and_same_site(app, db):
    factories.make_user(email="alice@example.org")
    db.session.commit()

    response = post_sign_in(app.test_client(), "alice@example.org")

    [cookie] = [
        header for header in response.headers.getlist("Set-Cookie") if SESSION_COOKIE in header
    ]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
