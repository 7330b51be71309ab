"""Bad luck on real servers: a gunicorn worker killed in the middle of a ballot, and the
database cutting the app servers' connections during traffic. Nothing half-written stays, the
juror's retry counts once, and the service comes back by itself.

PostgreSQL only, like the other tests of several app servers.
"""

from __future__ import annotations

import http.client
import os
import signal
import threading
import time

import pytest
from sqlalchemy import create_engine, func, select, text

from consultation.extensions import db
from consultation.jury import ballots as ballot_services
from consultation.jury.models import Ballot, BallotLogEntry, Choice, VotingRound
from tests import factories
from tests.cluster.conftest import APPLICATION_NAME
from tests.cluster.servers import Visitor, worker_pids
from tests.jury.factories import open_voting_round

pytestmark = [pytest.mark.xdist_group("cluster")]

WAIT_S = 20


def _engine(database_url: str):
    return create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))


def _wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_worker_killed_in_the_middle_of_a_ballot_leaves_nothing_and_the_retry_counts_once(
    app, servers, fresh_redis, database_url
):
    a, b = servers
    voting_round, (juror,) = open_voting_round(jurors=1, articles=1)
    db.session.commit()
    slug, number, round_id = voting_round.consultation.slug, voting_round.number, voting_round.id
    item = ballot_services.round_items(voting_round)[0][0]
    visitor = Visitor.with_session(app, juror)
    vote_page = f"/consultations/{slug}/jury/vote"
    form = {"round": number, "item": item, "choice": Choice.POUR.value}
    form["csrf_token"] = visitor.csrf_token(a, vote_page)

    engine = _engine(database_url)
    outcome: dict[str, object] = {}
    with engine.connect() as blocker:
        # The cast has counted itself in the round and written the ballot; its log entry waits
        # behind this lock: the worker is killed there, in the middle of its transaction.
        blocker.execute(text("LOCK TABLE ballot_log_entry IN SHARE MODE"))

        def vote() -> None:
            try:
                outcome["answer"] = visitor.post(a, vote_page, form)
            except (http.client.HTTPException, OSError) as error:
                outcome["error"] = error

        thread = threading.Thread(target=vote)
        thread.start()
        _wait_for(
            lambda: (
                blocker.execute(
                    text(
                        "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid) "
                        "WHERE NOT granted AND relation = 'ballot_log_entry'::regclass "
                        "AND application_name = :name"
                    ),
                    {"name": APPLICATION_NAME},
                ).scalar()
                == 1
            ),
            "the cast to wait for its log entry",
        )
        for pid in worker_pids(a):
            os.kill(pid, signal.SIGKILL)
        thread.join(timeout=WAIT_S)
        blocker.rollback()  # releases the lock: the dead worker's transaction can only abort
    assert "error" in outcome, outcome  # the juror saw the connection drop, no answer

    # Its connection gone, PostgreSQL rolls the half-written cast back.
    def settled() -> bool:
        with engine.connect() as connection:
            return not connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
                    "AND state LIKE 'idle in transaction%'"
                ),
                {"name": APPLICATION_NAME},
            ).scalar()

    _wait_for(settled, "the killed worker's transaction to end")
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Ballot.id))) == 0
    assert db.session.scalar(select(func.count(BallotLogEntry.id))) == 0
    assert db.session.get(VotingRound, round_id).log_length == 0

    # The juror sends the vote again (B answers while A's master starts new workers).
    retry = visitor.post(b, vote_page, form)
    assert retry.status == 303, retry.text[:300]
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Ballot.id))) == 1
    assert db.session.scalar(select(func.count(BallotLogEntry.id))) == 1
    log = ballot_services.export_log(db.session.get(VotingRound, round_id))
    assert ballot_services.verify_log(log).problems == []
    a.wait_until_healthy()  # and A serves again
    engine.dispose()


def test_connections_cut_by_the_database_fail_at_most_the_requests_in_flight(
    app, servers, fresh_redis, database_url
):
    consultation = factories.make_consultation(slug="coupure")
    db.session.commit()
    pages = [f"/consultations/{consultation.slug}/", "/healthz", "/consultations/"]
    results: list[tuple[float, int]] = []
    stop = threading.Event()

    def browse(index: int) -> None:
        visitor = Visitor()
        count = 0
        while not stop.is_set():
            server = servers[(index + count) % 2]
            try:
                status = visitor.get(server, pages[count % len(pages)]).status
            except (http.client.HTTPException, OSError):
                status = 0
            results.append((time.monotonic(), status))
            count += 1

    threads = [threading.Thread(target=browse, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(2)
    engine = _engine(database_url)
    with engine.connect() as connection:
        cut_at = time.monotonic()
        cut = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": APPLICATION_NAME},
        ).scalar()
    time.sleep(3)
    stop.set()
    for thread in threads:
        thread.join(timeout=WAIT_S)
    engine.dispose()

    assert cut >= 2  # both servers had connections open
    before = [status for moment, status in results if moment < cut_at]
    after = [status for moment, status in results if moment >= cut_at]
    assert before and set(before) == {200}
    failed = [status for status in after if status != 200]
    # Only the requests that were using a connection when it was cut may fail (six browsers:
    # at most six), and they fail with the error page, not a dropped connection.
    assert len(failed) <= len(threads), failed
    assert set(failed) <= {500, 503}, failed
    assert after[-20:] == [200] * 20  # and the service came back by itself
    assert len(after) > 50
