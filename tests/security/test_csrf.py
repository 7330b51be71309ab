"""Every state-changing route of the permissions table refuses a request without its CSRF
token: 400, the readable French error page, and not one row of the database changed."""

from __future__ import annotations

import html
import re

import pytest

from tests.core.test_permissions_table import ROLES, TABLE
from tests.security.helpers import (
    CSRF_MESSAGE_FR,
    STATE_CHANGING,
    allowed_role,
    app_routes,
    changed_tables,
    database_fingerprint,
    is_french_error_page,
    table_routes,
)

ROUTES = list(table_routes(STATE_CHANGING))
# What a form of each kind would plausibly send, minus its token: the refusal must not depend
# on the body being empty.
FORM_DATA = {
    "email": "invitee@example.org",
    "password": "correct horse battery staple",
    "new_password": "une phrase de passe assez longue",
    "confirm_password": "une phrase de passe assez longue",
    "name": "Nom",
    "title": "Titre",
    "active": "0",
    "action": "submit",
    "reason": "Une raison.",
}


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


def test_the_sweep_covers_every_state_changing_route(app):
    missing = sorted(app_routes(app, STATE_CHANGING) - set(ROUTES))
    assert not missing, (
        "state-changing routes missing from the CSRF sweep (add them to the permissions "
        f"table, tests/core/test_permissions_table.py): {missing}"
    )


def test_every_state_changing_route_refuses_a_request_without_token(world):
    """One sweep on one world: a refusal writes nothing, so the routes cannot disturb each
    other, and every failing route is named at once."""
    clients = {role: world.client(role) for role in ROLES}
    before = database_fingerprint()
    problems = []
    for endpoint, method in ROUTES:
        table_url, expected = TABLE[endpoint, method]
        role = allowed_role(expected)
        url = world.url(endpoint, table_url)
        client = clients[role]
        where = f"{method} {url} ({endpoint}) as {role}"
        for body in ({}, FORM_DATA):
            response = client.open(url, method=method, data=body)
            if not is_french_error_page(response, 400):
                problems.append(f"{where}: {response.status_code}, not the 400 error page")
            elif CSRF_MESSAGE_FR not in html.unescape(response.get_data(as_text=True)):
                problems.append(f"{where}: a 400 that does not say the form expired")
        # The pages' scripts send JSON with the token in a header: without the header, refused.
        response = client.open(url, method=method, json={"text": "x"})
        if response.status_code != 400:
            problems.append(f"{where} as JSON: {response.status_code}")
        changed = changed_tables(before, database_fingerprint())
        if changed:
            problems.append(f"{where}: rows changed in {changed}")
            before = database_fingerprint()
    assert not problems, "\n".join(problems)


def test_a_token_from_another_session_is_refused(world):
    """A token is bound to its browser's session: an attacker's own valid token does not
    carry over to the victim's browser."""
    attacker = world.client("contributor")
    victim = world.client("admin")
    page = attacker.get(f"/consultations/{world.consultation.slug}/propositions").get_data(
        as_text=True
    )

    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    before = database_fingerprint()

    response = victim.post(
        f"/gestion/utilisateurs/{world.ids['user']}/activation",
        data={"active": "0", "csrf_token": token},
    )

    assert is_french_error_page(response, 400)
    assert changed_tables(before, database_fingerprint()) == []
