"""Fixtures of the security tests: a consultation with one object of each kind the routes of
the permissions table act on, and clients signed in for each role.

Pages stay in French (the default for visitors): the tests read the error pages people see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from consultation.accounts import services as account_services
from consultation.accounts.models import Role, User, UserSession
from consultation.consultations.models import Consultation
from consultation.extensions import db
from tests import factories
from tests.core.test_permissions_table import ROLES, SLUG
from tests.debates.helpers import make_debate
from tests.exports.factories import make_candidate
from tests.proposals.helpers import make_proposal, theme

PLACEHOLDER_ID = "999999"
PLACEHOLDER_TOKEN = "unknown-token"


@dataclass
class World:
    """The table's consultation with real objects, and one user per role."""

    app: Flask
    consultation: Consultation
    users: dict[str, User]
    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, role: str) -> FlaskClient:
        """A new browser, signed in as the role's user (anonymous: signed in as nobody)."""
        if role == "anonymous":
            return self.app.test_client()
        return factories.signed_in_client(self.app, self.users[role])

    def url(self, endpoint: str, url: str) -> str:
        """The table's example URL, on this world's objects where the route acts on one."""
        kind = OBJECT_OF.get(endpoint)
        if kind is not None:
            url = url.replace(PLACEHOLDER_ID, str(self.ids[kind]), 1)
        token = TOKEN_OF.get(endpoint)
        if token is not None:
            url = url.replace(PLACEHOLDER_TOKEN, self.tokens[token])
        return url


# The kind of object each route's first id names (other routes keep the table's unknown ids:
# their answer comes before any object is loaded, or is a 404 that writes nothing).
OBJECT_OF = {
    "accounts.revoke_session": "session",
    "accounts.edit_organisation": "organisation",
    "accounts.edit_user": "user",
    "accounts.set_user_active": "user",
    "consultations.rename_theme": "theme",
    "consultations.move_theme": "theme",
    "consultations.delete_theme": "theme",
    **{
        f"debates.{name}": "debate"
        for name in ("detail", "register", "debate_ics", "edit", "publish", "cancel", "minutes")
    },
    "debates.registrations_csv": "debate",
    **{
        f"proposals.{name}": "proposal"
        for name in (
            "detail",
            "revisions",
            "cosign",
            "withdraw_cosignature",
            "edit",
            "submit",
            "moderate",
        )
    },
    "api.ConsultationProposal": "proposal",
    "dispatch.edit_candidate": "candidate",
    "dispatch.delete_candidate": "candidate",
}
TOKEN_OF = {
    "accounts.accept_invitation": "invitation",
    "accounts.reset_password": "reset",
}


@pytest.fixture
def world(app: Flask) -> World:
    """One object of each kind, so that a request that wrongly got through would change
    something the database fingerprint sees."""
    consultation = factories.make_consultation(slug=SLUG)
    users = {role: factories.make_user(role) for role in ROLES if role != "anonymous"}
    contributor = users["contributor"]
    target = factories.make_user("contributor", email="cible@example.org")
    subject = theme(consultation, "produire", "Produire")
    proposal = make_proposal(consultation, contributor, organisation=contributor.organisation)
    debate = make_debate(consultation, region_code=users["regional_editor"].region_code or "52")
    candidate = make_candidate(consultation)
    _invitation, invitation_token = account_services.invite_user(
        "invitee@example.org", Role.JUROR, None, users["admin"], timedelta(days=7)
    )
    reset_tokens: list[str] = []
    with app.test_request_context():  # the message is rendered from a template
        account_services.request_password_reset(
            target.email, lambda token: reset_tokens.append(token) or "/"
        )
    account_services.start_session(users["admin"], "127.0.0.1", "another browser")
    db.session.commit()
    return World(
        app=app,
        consultation=consultation,
        users={**users, "target": target},
        ids={
            "session": db.session.scalar(
                select(func.max(UserSession.id)).where(UserSession.user_id == users["admin"].id)
            ),
            "organisation": contributor.organisation_id,
            "user": target.id,
            "theme": subject.id,
            "debate": debate.id,
            "proposal": proposal.id,
            "candidate": candidate.id,
        },
        tokens={"invitation": invitation_token, "reset": reset_tokens[0]},
    )
