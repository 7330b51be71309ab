"""The object column of the (role × route × object) table: a user whose role lets them use a
route, but on objects of their own scope only, asks for another's: a regional editor for a
debate of another region, a contributor for a draft of another organisation, a member for
another person's session, a juror of another consultation for this one's ballot. Each gets a
404 (or 403) and nothing changes in the database."""

from __future__ import annotations

import pytest

from consultation.proposals.models import ProposalStatus
from tests import factories
from tests.core.test_permissions_table import TABLE
from tests.jury.factories import make_juror
from tests.proposals.helpers import make_proposal
from tests.security.helpers import changed_tables, database_fingerprint

# The routes acting on one object of a scope, and who is outside that scope.
OUTSIDER_OF = {
    **{
        f"debates.{name}": "editor_elsewhere"
        for name in ("edit", "publish", "cancel", "minutes", "registrations_csv")
    },
    **{f"proposals.{name}": "contributor_elsewhere" for name in ("edit", "submit", "revisions")},
    "proposals.detail": "contributor_elsewhere",
    "accounts.revoke_session": "contributor_elsewhere",
    "jury.vote": "juror_elsewhere",
    "jury.receipts": "juror_elsewhere",
}
REFUSED = (403, 404)


@pytest.fixture
def outsiders(world) -> dict[str, object]:
    """One user per scope next to the world's: another region, another organisation, another
    consultation's jury. The world's proposal becomes a draft (a draft is its writers' only)."""
    from consultation.extensions import db
    from consultation.proposals.models import Proposal

    draft = make_proposal(
        world.consultation,
        world.users["contributor"],
        status=ProposalStatus.DRAFT,
        organisation=world.users["contributor"].organisation,
    )
    world.ids["proposal"] = draft.id
    elsewhere = factories.make_consultation(slug="ailleurs")
    users = {
        "editor_elsewhere": factories.make_user("regional_editor", region_code="11"),
        "contributor_elsewhere": factories.make_user("contributor", region_code="52"),
        "juror_elsewhere": make_juror(elsewhere).user,
    }
    db.session.commit()
    assert db.session.get(Proposal, draft.id).status is ProposalStatus.DRAFT
    return users


def _routes() -> list[tuple[str, str]]:
    return sorted(key for key in TABLE if key[0] in OUTSIDER_OF)


def test_every_scoped_route_of_the_table_is_swept():
    assert {endpoint for endpoint, _method in _routes()} == set(OUTSIDER_OF)


@pytest.mark.parametrize(("endpoint", "method"), _routes())
def test_an_object_out_of_the_users_scope_is_not_found_and_unchanged(
    app, world, outsiders, endpoint, method
):
    url = world.url(endpoint, TABLE[(endpoint, method)][0])
    client = factories.signed_in_client(app, outsiders[OUTSIDER_OF[endpoint]])
    before = database_fingerprint()
    form = {"title": "Pris", "status": "published", "choice": "pour", "item": "1", "round": "1"}
    response = client.get(url) if method == "GET" else client.post(url, data=form)
    assert response.status_code in REFUSED, (endpoint, method, url, response.status_code)
    changed = changed_tables(before, database_fingerprint())
    # Refusals are written to the audit log and sessions touched; nothing else.
    assert set(changed) <= {"audit_entry", "user_session"}, (endpoint, method, changed)


@pytest.mark.parametrize(
    ("endpoint", "insider"),
    [("debates.edit", "regional_editor"), ("proposals.edit", "contributor")],
)
def test_the_same_pages_open_for_a_user_of_the_scope(app, world, outsiders, endpoint, insider):
    """The check of the check: the refusals above come from the scope, not from the URL."""
    url = world.url(endpoint, TABLE[(endpoint, "GET")][0])
    client = factories.signed_in_client(app, world.users[insider])
    assert client.get(url).status_code == 200, url
