"""Two app servers, one PostgreSQL, one Redis: two gunicorn instances on their own ports serve
the same database and share Redis, as behind a load balancer. A visitor who signs in on one is
signed in on the other and signed out everywhere at once; the sign-in rate limit counts the
attempts made on both; two votes sent at the same instant to both servers leave one ballot; a
job queued by either server runs once, on a worker of its own.

PostgreSQL only (SQLite is for one machine): run with TEST_DATABASE=postgresql.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consultation.accounts.models import UserSession
from consultation.extensions import db
from consultation.jury import ballots as ballot_services
from consultation.jury.models import Ballot, BallotLogEntry, Choice
from tests import factories
from tests.cluster.servers import Visitor, start_process
from tests.jury.factories import open_voting_round

pytestmark = [pytest.mark.xdist_group("cluster")]


def test_a_session_opened_on_one_server_works_and_ends_on_the_other(app, servers, fresh_redis):
    a, b = servers
    user = factories.make_user("contributor", email="alice@example.org")
    db.session.commit()
    visitor = Visitor()
    visitor.sign_in(a, "alice@example.org", factories.PASSWORD)
    account = visitor.get(b, "/compte")
    assert account.status == 200 and "alice@example.org" in account.text
    # Signing out on B ends the session on A too: the session is a row, not a cookie.
    visitor.post_form(b, "/compte", "/deconnexion", {})
    assert visitor.get(a, "/compte").location_path == "/connexion"
    # Staff deactivating the account on A ends the sessions it opened on B.
    second = Visitor()
    second.sign_in(b, "alice@example.org", factories.PASSWORD)
    assert second.get(a, "/compte").status == 200
    admin = Visitor.with_session(app, factories.make_user("admin"))
    deactivated = admin.post_form(
        a,
        f"/gestion/utilisateurs/{user.id}",
        f"/gestion/utilisateurs/{user.id}/activation",
        {"active": "0"},
    )
    assert deactivated.status in (302, 303), deactivated.text[:300]
    assert second.get(b, "/compte").location_path == "/connexion"
    assert second.get(a, "/compte").location_path == "/connexion"
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count(UserSession.id)).where(UserSession.user_id == user.id))
        == 0
    )


def test_the_sign_in_limit_counts_the_attempts_made_on_both_servers(app, servers, fresh_redis):
    factories.make_user("contributor", email="bob@example.org")
    db.session.commit()
    statuses = []
    for attempt in range(7):
        server = servers[attempt % 2]
        visitor = Visitor()
        statuses.append(
            visitor.post_form(
                server,
                "/connexion",
                "/connexion",
                {"email": "bob@example.org", "password": "not the password"},
            ).status
        )
    # Five attempts a minute, wherever they land (three on A, two on B); then both refuse.
    assert statuses == [401] * 5 + [429, 429], statuses


def test_votes_sent_to_both_servers_at_once_leave_one_ballot(app, servers, fresh_redis):
    voting_round, (juror,) = open_voting_round(jurors=1, articles=1)
    db.session.commit()
    slug, number = voting_round.consultation.slug, voting_round.number
    item = ballot_services.round_items(voting_round)[0][0]
    visitors = [Visitor.with_session(app, juror) for _ in range(8)]
    tokens = [
        visitor.csrf_token(servers[i % 2], f"/consultations/{slug}/jury/vote")
        for i, visitor in enumerate(visitors)
    ]
    choices = [Choice.POUR, Choice.CONTRE] * 4
    answers: list[int] = []
    barrier = threading.Barrier(len(visitors))

    def vote(index: int) -> None:
        barrier.wait()
        response = visitors[index].post(
            servers[index % 2],
            f"/consultations/{slug}/jury/vote",
            {"round": number, "item": item, "choice": choices[index], "csrf_token": tokens[index]},
        )
        answers.append(response.status)

    threads = [threading.Thread(target=vote, args=(index,)) for index in range(len(visitors))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(answers) == {303: len(visitors)}, answers
    db.session.expire_all()
    ballots = db.session.scalars(select(Ballot).where(Ballot.round_id == voting_round.id)).all()
    assert len(ballots) == 1  # the last vote replaced the others
    entries = db.session.scalar(
        select(func.count(BallotLogEntry.id)).where(BallotLogEntry.round_id == voting_round.id)
    )
    assert entries == len(visitors)  # every cast is in the log, in one chain
    assert ballot_services.verify_log(ballot_services.export_log(voting_round)).problems == []


def test_a_job_queued_by_either_server_runs_once_on_the_worker(
    app, servers, environment, fresh_redis, tmp_path
):
    for name in ("carol", "dan"):
        factories.make_user("contributor", email=f"{name}@example.org")
    db.session.commit()
    outbox = Path(environment["INSTANCE_PATH"]) / "outbox"
    for server, name in zip(servers, ("carol", "dan"), strict=True):
        answer = Visitor().post_form(
            server, "/mot-de-passe-oublie", "/mot-de-passe-oublie", {"email": f"{name}@example.org"}
        )
        assert answer.status == 200
    time.sleep(1)
    assert not list(outbox.glob("*.eml")), "the servers queue e-mails, they do not send them"
    worker = start_process(
        "worker",
        ["-m", "flask", "--app", "consultation", "jobs", "worker", "--workers", "2"],
        environment,
        tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while len(list(outbox.glob("*.eml"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # a duplicate would come now
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    recipients = Counter(
        line.split(":", 1)[1].strip()
        for path in outbox.glob("*.eml")
        for line in path.read_text().splitlines()
        if line.startswith("To:")
    )
    assert recipients == {"carol@example.org": 1, "dan@example.org": 1}
