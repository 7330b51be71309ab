"""No `next` value leads a browser off the site: not on any route of the permissions table,
not after signing in, not from the language switch nor the staff's account activation."""

from __future__ import annotations

import itertools
import re
from urllib.parse import urlencode, urlsplit

from tests import factories
from tests.core.test_permissions_table import ROLES, TABLE
from tests.security.helpers import allowed_role, table_routes

HOSTILE_NEXT = (
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "javascript:alert(1)",
    "http:evil.example",
    "/%2F%2Fevil.example",
    " //evil.example",
    "https:/evil.example",
    "/\t/evil.example",
    "///evil.example",
    "https://localhost@evil.example/",
)
LOCAL_BUT_ODD = "/%2F%2Fevil.example"  # a path of this site (its slashes are escaped)
MARKER = "/marqueur-de-retour"
SITE_HOST = "localhost"  # the test client's host


def leads_off_site(location: str) -> bool:
    """Whether a browser would leave the site following this Location: it drops tabs and
    newlines, trims spaces and controls, and reads a backslash as a slash."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("\x00\x20").replace("\\", "/")
    if cleaned.startswith("//"):
        return True  # any number of slashes: another host
    parts = urlsplit(cleaned)
    if parts.scheme and parts.scheme not in ("http", "https"):
        return True  # javascript:, data:…
    if parts.scheme and not parts.netloc:
        return True  # "http:evil.example": read differently by different browsers
    return bool(parts.netloc) and parts.hostname != SITE_HOST


def test_the_off_site_check_itself():
    assert not leads_off_site("/")
    assert not leads_off_site("/consultations/x?next=https://evil.example/")
    assert not leads_off_site(LOCAL_BUT_ODD)
    assert not leads_off_site("http://localhost/compte")
    for value in HOSTILE_NEXT:
        if value != LOCAL_BUT_ODD:
            assert leads_off_site(value), value


def _with_next(url: str, value: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode({"next": value})


def _send(world, clients, endpoint: str, method: str, value: str) -> tuple[str, str | None]:
    table_url, expected = TABLE[endpoint, method]
    role = allowed_role(expected)
    url = world.url(endpoint, table_url.replace("?next=/", ""))
    # Signing out ends the browser's session: give that route a new one each time.
    client = world.client(role) if endpoint == "accounts.sign_out" else clients[role]
    body = {"next": value} if method != "GET" else None
    response = client.open(_with_next(url, value), method=method, data=body)
    response.close()
    return f"{method} {url} as {role}", response.headers.get("Location")


def test_no_route_redirects_off_site(world):
    """Every route of the table, as a role allowed to use it, with `next` in its query string
    and (for forms) in its body: first a local marker and one hostile value on every route,
    then every hostile value on the routes that followed the marker (those that read `next`)."""
    problems = []
    clients = {role: world.client(role) for role in ROLES}
    following = []
    for endpoint, method in table_routes():
        where, location = _send(world, clients, endpoint, method, MARKER)
        if location is not None and urlsplit(location).path == MARKER:
            following.append((endpoint, method))
        where, location = _send(world, clients, endpoint, method, HOSTILE_NEXT[0])
        if location is not None and leads_off_site(location):
            problems.append(f"{where}, next={HOSTILE_NEXT[0]!r}: to {location}")
    # The routes known to follow `next` must be among those found, or the sweep is blind.
    assert {("pages.set_language", "GET")} <= set(following), following
    for endpoint, method in following:
        for value in HOSTILE_NEXT[1:]:
            where, location = _send(world, clients, endpoint, method, value)
            if location is not None and leads_off_site(location):
                problems.append(f"{where}, next={value!r}: to {location}")
    assert not problems, "\n".join(problems)


def test_signing_in_never_follows_a_hostile_next(app, db):
    factories.make_user(email="alice@example.org")
    db.session.commit()

    for value in HOSTILE_NEXT:
        response = app.test_client().post(
            _with_next("/connexion", value),
            data={"email": "alice@example.org", "password": factories.PASSWORD, "next": value},
        )

        assert response.status_code == 302, value  # signed in…
        location = response.headers["Location"]
        assert not leads_off_site(location), value
        if value != LOCAL_BUT_ODD:
            assert location == "/", value  # …and sent home, not to `next`


def test_signing_in_follows_a_local_next(app, db):
    factories.make_user(email="alice@example.org")
    db.session.commit()

    response = app.test_client().post(
        _with_next("/connexion", "/compte?onglet=1"),
        data={"email": "alice@example.org", "password": factories.PASSWORD},
    )

    assert response.headers["Location"] == "/compte?onglet=1"


def test_the_language_switch_never_follows_a_hostile_next(client):
    for code, value in itertools.product(("en", "fr", "xx"), HOSTILE_NEXT):
        response = client.get(_with_next(f"/langue/{code}", value))
        assert response.status_code == 302
        assert not leads_off_site(response.headers["Location"]), value
        if value != LOCAL_BUT_ODD:
            assert response.headers["Location"] == "/", value
    assert client.get("/langue/en?next=/consultations/").headers["Location"] == "/consultations/"


def test_the_account_activation_never_follows_a_hostile_next(world):
    admin = world.client("admin")
    user_id = world.ids["user"]
    for value in HOSTILE_NEXT:
        response = admin.post(
            f"/gestion/utilisateurs/{user_id}/activation", data={"active": "1", "next": value}
        )
        assert response.status_code == 302, value
        assert not leads_off_site(response.headers["Location"]), value
        if value != LOCAL_BUT_ODD:
            assert response.headers["Location"] == "/gestion/utilisateurs", value
