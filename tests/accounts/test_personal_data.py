"""Personal data from the account page: the JSON export of everything held about the user, and
the erasure of the account (anonymised, signed out everywhere, proposals kept)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from consultation.accounts import personal_data, services
from consultation.accounts.models import PasswordReset, Role, User
from consultation.core.audit import AuditEntry
from consultation.core.errors import Conflict, DomainError
from consultation.core.models import utcnow
from consultation.debates.models import Registration
from consultation.jury.models import PoolContact, PoolMember
from consultation.proposals.models import Cosignature, Proposal, ProposalRevision
from consultation.proposals.services import cosign_proposal
from tests import factories
from tests.accounts.helpers import (
    audit_entries,
    copy_session_cookie,
    is_signed_in,
    post_sign_in,
    session_count,
)
from tests.debates.helpers import make_debate, registration
from tests.jury.factories import make_member, make_quotas
from tests.proposals.helpers import make_proposal

EMAIL = "camille.martin@example.org"
NAME = "Camille Martin"


@pytest.fixture
def person(app, db):
    """A contributor with a proposal, a co-signature, a debate registration and a jury
    application under their address, a password reset link and a failed sign-in."""
    consultation = factories.make_consultation(slug="donnees")
    user = factories.make_user("contributor", email=EMAIL, display_name=NAME)
    proposal = make_proposal(consultation, author=user, title="Rénover les logements anciens")
    other = make_proposal(consultation, title="Une proposition d'une autre organisation")
    cosign_proposal(other, user, utcnow())
    registration(make_debate(consultation), email=EMAIL, name=NAME)
    make_quotas(consultation)
    make_member(consultation, {"genre": "femme", "age": "35-64"}, email=EMAIL, full_name=NAME)
    db.session.add(
        PasswordReset(
            token_hash=services.token_hash_of("a reset token"),
            user=user,
            expires_at=utcnow(),
        )
    )
    with pytest.raises(services.InvalidCredentials):
        services.authenticate(EMAIL, "not the password")
    db.session.commit()
    return {"user": user, "proposal": proposal, "other": other, "consultation": consultation}


def _export(client) -> dict:
    response = client.get("/compte/donnees.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    return json.loads(response.get_data(as_text=True))


# --- Export ------------------------------------------------------------------------------------


def test_the_export_holds_the_users_data(person, sign_in):
    client = sign_in(person["user"])
    data = _export(client)
    account = data["account"]
    assert account["email"] == EMAIL
    assert account["display_name"] == NAME
    assert account["role"] == "contributor"
    assert account["organisation"]["name"] == person["user"].organisation.name
    assert len(data["sessions"]) == 1
    assert data["sessions"][0]["user_agent"] == "pytest"
    assert [p["title"] for p in data["proposals"]] == ["Rénover les logements anciens"]
    assert data["proposal_revisions"][0]["proposal_id"] == person["proposal"].id
    assert [c["proposal_id"] for c in data["cosignatures"]] == [person["other"].id]
    [registered] = data["debate_registrations"]
    assert registered["email"] == EMAIL
    assert registered["name"] == NAME
    [application] = data["jury_applications"]
    assert application["full_name"] == NAME
    assert application["features"] == {"Genre": "femme", "Age": "35-64"}
    assert len(data["password_resets"]) == 1
    actions = {entry["action"] for entry in data["audit_log"]}
    assert {"auth.sign_in_failed", "auth.signed_in"} <= actions


def test_the_export_holds_no_secret(person, sign_in, db):
    client = sign_in(person["user"])
    body = client.get("/compte/donnees.json").get_data(as_text=True)
    user = db.session.get(User, person["user"].id)
    assert "password_hash" not in body
    assert "token_hash" not in body
    assert "$argon2" not in body
    assert user.password_hash not in body
    for token_hash in db.session.scalars(select(PasswordReset.token_hash)):
        assert token_hash not in body
    from consultation.accounts.models import UserSession

    for token_hash in db.session.scalars(select(UserSession.token_hash)):
        assert token_hash not in body
    cookie = client.get_cookie("ue_session").value
    assert cookie not in body
    assert "cancel_token" not in body


def test_the_export_leaves_out_other_peoples_details(app, db, sign_in):
    admin = factories.make_user("admin")
    other = factories.make_user("contributor", display_name="Dominique Autre")
    services.update_user(other, "Dominique Nouveau", other.role, other.organisation, admin)
    db.session.commit()
    data = _export(sign_in(admin))
    body = json.dumps(data)
    assert "Dominique" not in body
    assert other.email not in body
    updated = next(e for e in data["audit_log"] if e["action"] == "account.updated")
    assert updated["by_you"] is True
    assert updated["details"] is None


def test_the_export_lists_the_staff_work_of_an_admin(app, db, sign_in):
    from consultation.bill.models import Article, ArticleRevision, Bill

    admin = factories.make_user("admin")
    consultation = factories.make_consultation()
    bill = Bill(consultation_id=consultation.id, title="Projet", preamble="")
    bill.articles = [Article(position=0, body="Texte.")]
    db.session.add(bill)
    db.session.flush()
    revision = ArticleRevision(
        article_id=bill.articles[0].id, number=1, heading="", body="Texte.", author_id=admin.id
    )
    db.session.add(revision)
    db.session.commit()
    data = _export(sign_in(admin))
    assert {"table": "article_revision", "column": "author_id", "ids": [revision.id]} in data[
        "other_records"
    ]


def test_the_export_needs_a_sign_in(client):
    response = client.get("/compte/donnees.json")
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


# --- Erasure -----------------------------------------------------------------------------------


def test_erasure_anonymises_the_account_and_keeps_the_proposals(person, sign_in, db, app):
    user_id = person["user"].id
    organisation_id = person["user"].organisation_id
    client = sign_in(person["user"])
    thief = copy_session_cookie(client, app)
    other_browser = sign_in(person["user"])
    assert session_count(user_id) == 2

    response = client.post("/compte/effacer", data={"password": factories.PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    page = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert "Your account is erased" in page

    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert user.is_erased
    assert user.email != EMAIL
    assert re.fullmatch(r"erased-user-\d+-[0-9a-f]{8}@erased\.invalid", user.email)
    assert user.display_name == ""
    assert user.password_hash is None
    assert not user.is_active
    # Every session ended: this browser, a copied cookie and another browser.
    assert session_count(user_id) == 0
    for browser in (client, thief, other_browser):
        assert not is_signed_in(browser)
    assert post_sign_in(app.test_client(), EMAIL).status_code == 401

    # The organisation's proposal stays, without its author.
    proposal = db.session.get(Proposal, person["proposal"].id)
    assert proposal is not None
    assert proposal.organisation_id == organisation_id
    assert proposal.author_id is None
    assert (
        db.session.scalar(select(ProposalRevision.id).where(ProposalRevision.author_id == user_id))
        is None
    )
    cosignature = db.session.scalar(select(Cosignature))
    assert cosignature.organisation_id == organisation_id
    assert cosignature.user_id is None

    # The registration and the pool contact under the address are erased.
    registered = db.session.scalar(select(Registration))
    assert registered.name == ""
    assert registered.email.endswith("@erased.invalid")
    assert db.session.scalar(select(PoolContact)) is None
    assert db.session.scalar(select(PoolMember)) is not None  # the draw's data stays
    assert db.session.scalar(select(PasswordReset)) is None


def test_erasure_is_audited_without_personal_data(person, sign_in, db):
    user_id = person["user"].id
    client = sign_in(person["user"])
    client.post("/compte/effacer", data={"password": factories.PASSWORD})
    db.session.expire_all()
    [entry] = audit_entries("account.erased")
    assert entry.object_type == "User"
    assert entry.object_id == str(user_id)
    assert entry.actor_id == user_id
    assert entry.details["registrations_erased"] == 1
    assert entry.details["pool_contacts_erased"] == 1
    assert entry.details["sessions_ended"] == 1
    everything = json.dumps(
        [e.details for e in db.session.scalars(select(AuditEntry))], ensure_ascii=False
    )
    assert EMAIL not in everything
    assert NAME not in everything
    [failed] = audit_entries("auth.sign_in_failed")
    assert failed.details["email"] == "[erased]"


@pytest.mark.parametrize("password", ["", "the wrong password"])
def test_erasure_needs_the_password(person, sign_in, db, password):
    user_id = person["user"].id
    client = sign_in(person["user"])
    response = client.post("/compte/effacer", data={"password": password})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    expected = "Type your password to confirm." if not password else "The password is incorrect"
    assert expected in body
    db.session.expire_all()
    user = db.session.get(User, user_id)
    assert user.email == EMAIL
    assert user.display_name == NAME
    assert user.is_active
    assert is_signed_in(client)
    assert audit_entries("account.erased") == []
    assert db.session.scalar(select(Proposal.author_id).where(Proposal.id == person["proposal"].id))


def test_the_account_page_explains_the_erasure(sign_in):
    body = sign_in("contributor").get("/compte").get_data(as_text=True)
    assert "Erase my account" in body
    assert "cannot be undone" in body
    assert 'action="/compte/effacer"' in body
    assert 'href="/compte/donnees.json"' in body


def test_the_last_active_admin_cannot_erase_their_account(app, db, sign_in):
    admin = factories.make_user("admin")
    factories.make_user("admin", is_active=False)
    client = sign_in(admin)
    response = client.post("/compte/effacer", data={"password": factories.PASSWORD})
    assert response.status_code == 409
    assert "You are the last active administrator" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_active
    assert is_signed_in(client)


def test_an_admin_can_erase_their_account_when_another_admin_remains(app, db, sign_in):
    admin = factories.make_user("admin")
    factories.make_user("admin")
    client = sign_in(admin)
    response = client.post("/compte/effacer", data={"password": factories.PASSWORD})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_erased


def test_an_erased_account_cannot_be_reactivated_nor_changed(app, db):
    admin = factories.make_user("admin")
    factories.make_user("admin")
    user = factories.make_user("juror")
    personal_data.erase_account(user, factories.PASSWORD)
    with pytest.raises(Conflict):
        services.set_user_active(user, True, admin)
    with pytest.raises(Conflict):
        services.update_user(user, "Quelqu'un", Role.JUROR, None, admin)
    with pytest.raises(Conflict):
        personal_data.erase_account(user, factories.PASSWORD)


def test_the_staff_list_shows_erased_accounts(app, db, admin_client):
    user = factories.make_user("juror")
    personal_data.erase_account(user, factories.PASSWORD)
    db.session.commit()
    body = admin_client.get("/gestion/utilisateurs").get_data(as_text=True)
    assert "Erased account" in body
    page = admin_client.get(f"/gestion/utilisateurs/{user.id}").get_data(as_text=True)
    assert "cannot be reactivated" in page
    assert "Reactivate" not in page


def test_the_service_refuses_a_wrong_password_with_a_field_error(app, db):
    user = factories.make_user("contributor")
    with pytest.raises(DomainError) as caught:
        personal_data.erase_account(user, "nope")
    assert caught.value.field == "password"
    assert not user.is_erased


class TestCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["WTF_CSRF_ENABLED"] = True
        return app_config

    def test_erasure_without_the_csrf_token_is_refused(self, app, db, sign_in):
        user = factories.make_user("contributor", email=EMAIL)
        client = sign_in(user)
        response = client.post("/compte/effacer", data={"password": factories.PASSWORD})
        assert response.status_code == 400
        db.session.expire_all()
        assert db.session.get(User, user.id).email == EMAIL

    def test_erasure_with_the_csrf_token_works(self, app, db, sign_in):
        user = factories.make_user("contributor", email=EMAIL)
        client = sign_in(user)
        body = client.get("/compte").get_data(as_text=True)
        token = re.search(
            r'action="/compte/effacer".*?name="csrf_token" value="([^"]+)"', body, re.S
        ).group(1)
        response = client.post(
            "/compte/effacer", data={"password": factories.PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303
        db.session.expire_all()
        assert db.session.get(User, user.id).is_erased
