"""Optimistic locking on articles: two people edit the same article, the second save is refused
with a conflict page that shows both texts and keeps what was typed; nothing is overwritten.

Tested in process with two signed-in test clients, then with two real HTTP sessions racing
against the application served on a socket (no browser needed)."""

from __future__ import annotations

import html
import http.client
import re
import threading
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from consultation.accounts.services import start_session
from consultation.bill import editing, services
from consultation.bill.models import Article, ArticleRevision
from consultation.core.models import utcnow
from consultation.extensions import db
from tests import factories
from tests.bill.helpers import add_division, make_bill, synthesis_consultation
from tests.e2e.conftest import LiveServer, live_server  # noqa: F401 (the fixture)

VERSION = re.compile(r'name="version_id" type="hidden" value="(\d+)"')


def _url(article: Article) -> str:
    return f"/gestion/consultations/c/texte/articles/{article.id}"


def _revisions(article_id: int) -> int:
    return db.session.scalar(
        select(func.count(ArticleRevision.id)).where(ArticleRevision.article_id == article_id)
    )


@pytest.fixture
def article(db) -> Article:
    bill = make_bill(synthesis_consultation())
    article = editing.add_article(
        bill, add_division(bill), "Objet", "Le loyer est libre.", None, utcnow()
    )
    db.session.commit()
    return article


def test_the_second_save_on_a_stale_version_gets_the_conflict_page(db, sign_in, article):
    alice = sign_in("admin", display_name="Alice Martin")
    bruno = sign_in("admin", display_name="Bruno Petit")
    url = _url(article)
    versions = [VERSION.search(client.get(url).text).group(1) for client in (alice, bruno)]
    assert versions == ["1", "1"]

    saved = alice.post(
        url, data={"heading": "Objet", "body": "Le loyer est encadré.", "version_id": "1"}
    )
    assert saved.status_code == 302
    refused = bruno.post(
        url, data={"heading": "Mon objet", "body": "Le loyer est plafonné.", "version_id": "1"}
    )
    assert refused.status_code == 409
    page = html.unescape(refused.text)
    assert "Someone saved this article since you opened it." in page
    # Theirs, with who saved it; yours, in the form, so that nothing typed is lost.
    assert "Le loyer est encadré." in page and "Alice Martin" in page
    assert re.search(r"<textarea[^>]*>\s*Le loyer est plafonné.</textarea>", page)
    assert 'value="Mon objet"' in page
    assert "<del>encadré</del>" in page and "<ins>plafonné</ins>" in page
    # The form of the conflict page carries the current version: saving is now explicit.
    assert VERSION.search(refused.text).group(1) == "2"

    db.session.expire_all()
    current = db.session.get(Article, article.id)
    assert (current.body, current.version_id) == ("Le loyer est encadré.", 2)
    assert _revisions(article.id) == 2

    overwritten = bruno.post(
        url, data={"heading": "Mon objet", "body": "Le loyer est plafonné.", "version_id": "2"}
    )
    assert overwritten.status_code == 302
    db.session.expire_all()
    assert db.session.get(Article, article.id).body == "Le loyer est plafonné."
    revisions = editing.article_revisions(db.session.get(Article, article.id))
    assert [revision.author.display_name for revision in revisions[1:]] == [
        "Alice Martin",
        "Bruno Petit",
    ]


def test_a_stale_save_found_at_flush_is_the_same_conflict(db, article):
    """Two requests may both pass the version check; the UPDATE's version condition catches
    the second one: simulate it by letting the check see the version it expected."""
    # Someone else saves behind this session's back, on another connection.
    with db.engine.begin() as connection:
        connection.execute(
            Article.__table__.update()
            .where(Article.id == article.id)
            .values(body="Texte concurrent.", version_id=2)
        )
    assert article.version_id == 1  # this session did not reload
    with pytest.raises(editing.ArticleConflict) as conflict:
        editing.update_article(article, 1, "Objet", "Mon texte.", None, utcnow())
    assert conflict.value.theirs.body == "Texte concurrent."
    assert conflict.value.theirs.version_id == 2
    assert conflict.value.body == "Mon texte."
    assert db.session.get(Article, article.id).body == "Texte concurrent."
    assert _revisions(article.id) == 1


# --- Two real concurrent sessions ----------------------------------------------------------


class HttpSession:
    """A minimal HTTP client with a signed-in session cookie (the standard library only)."""

    def __init__(self, server: LiveServer, cookie: str) -> None:
        parts = urlsplit(server.url)
        self.host, self.port = parts.hostname, parts.port
        self.cookie = cookie

    def request(self, method: str, path: str, data: dict[str, str] | None = None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"Cookie": self.cookie, "Accept": "text/html"}
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()


def _signed_in(app, server: LiveServer, name: str) -> HttpSession:
    user = factories.make_user(role="admin", display_name=name)
    token = start_session(user, "127.0.0.1", "race")
    db.session.commit()
    serializer = app.session_interface.get_signing_serializer(app)
    value = serializer.dumps({"_user_id": token, "_fresh": True})
    return HttpSession(server, f"{app.config['SESSION_COOKIE_NAME']}={value}")


def test_two_real_sessions_saving_at_once_one_wins_the_other_gets_409(
    app,
    db,
    article,
    live_server,  # noqa: F811 (the fixture imported above)
    monkeypatch,
):
    url = _url(article)
    clients = [_signed_in(app, live_server, name) for name in ("Alice Martin", "Bruno Petit")]
    for client in clients:
        status, page = client.request("GET", url)
        assert status == 200
        assert VERSION.search(page).group(1) == "1"

    # Hold both requests after they have read the article (version 1) and passed the text
    # checks, so that both also pass the version check: only the database can then tell.
    barrier = threading.Barrier(2, timeout=10)
    check_text = services._check_article_text

    def wait_for_the_other(heading: str, body: str) -> None:
        check_text(heading, body)
        barrier.wait()

    monkeypatch.setattr(services, "_check_article_text", wait_for_the_other)
    texts = ["Le loyer est encadré.", "Le loyer est plafonné."]
    results: list[tuple[int, str] | None] = [None, None]

    def save(index: int) -> None:
        results[index] = clients[index].request(
            "POST", url, {"heading": "Objet", "body": texts[index], "version_id": "1"}
        )

    threads = [threading.Thread(target=save, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(result is not None for result in results)
    statuses = sorted(result[0] for result in results)  # type: ignore[index]
    assert statuses == [302, 409]
    winner = next(i for i, result in enumerate(results) if result[0] == 302)  # type: ignore[index]
    loser = 1 - winner
    page = html.unescape(results[loser][1])  # type: ignore[index]
    assert "Someone saved this article since you opened it." in page
    assert texts[loser] in page and texts[winner] in page

    db.session.expire_all()
    current = db.session.get(Article, article.id)
    assert (current.body, current.version_id) == (texts[winner], 2)
    assert _revisions(article.id) == 2  # the first text and exactly one new save


def test_a_save_on_a_deleted_article_gives_the_text_back(db, sign_in, article):
    alice, bruno = sign_in("admin"), sign_in("admin")
    url = _url(article)
    assert bruno.get(url).status_code == 200
    assert alice.post(f"{url}/supprimer").status_code == 302
    response = bruno.post(
        url, data={"heading": "Objet", "body": "Mon texte précieux.", "version_id": "1"}
    )
    assert response.status_code == 409
    assert "Someone deleted this article" in response.text
    assert "Mon texte précieux." in html.unescape(response.text)
