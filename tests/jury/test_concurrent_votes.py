"""Many jurors voting at once through the ballot page: one ballot per juror and item, every cast
in the log, a chain that verifies, and the last vote of each juror counted (issue "The citizen
jury", "Bad input": two votes sent at the same instant by one juror).

Each thread drives its own test client, so each request has its own application context and
database session, and goes through the real POST path: the view, the service and the commit.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from consultation.accounts.models import User
from consultation.core.models import utcnow
from consultation.jury import ballots
from consultation.jury.models import Ballot, BallotLogEntry, Choice, VotingRound
from tests import factories
from tests.jury.factories import open_voting_round

JURORS = 20
ARTICLES = 3
CHOICES = list(Choice)
RECEIPT = re.compile(r"[0-9a-f]{64}")
JOIN_TIMEOUT_S = 60


@dataclass(frozen=True)
class Cast:
    """One vote sent by a thread, with the receipt the page gave back."""

    user_id: int
    item: int
    choice: Choice
    receipt_hash: str


def _client(app: Flask, user: User) -> FlaskClient:
    return factories.signed_in_client(app, user)


def _cast(client: FlaskClient, slug: str, number: int, item: int, choice: Choice) -> str:
    """POST one vote as the ballot form does; the receipt of the flash message."""
    response = client.post(
        f"/consultations/{slug}/jury/vote",
        data={"round": number, "item": item, "choice": choice.value},
    )
    assert response.status_code == 303, (response.status_code, response.text[:500])
    with client.session_transaction() as session:
        flashes = session.pop("_flashes", [])
    found = RECEIPT.search(flashes[-1][1])
    assert found, flashes
    return found.group()


def _run(threads: list[Callable[[], None]]) -> list[BaseException]:
    """Run the callables in threads at once; the errors they raised."""
    errors: list[BaseException] = []

    def guarded(target: Callable[[], None]) -> None:
        try:
            target()
        except BaseException as error:  # reported by the caller's assert
            errors.append(error)

    running = [threading.Thread(target=guarded, args=(target,)) for target in threads]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=JOIN_TIMEOUT_S)
    assert not any(thread.is_alive() for thread in running), "a vote never came back"
    return errors


def _log(db, voting_round: VotingRound) -> list[BallotLogEntry]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            select(BallotLogEntry)
            .where(BallotLogEntry.round_id == voting_round.id)
            .order_by(BallotLogEntry.seq)
        )
    )


def _check_round(db, voting_round: VotingRound, users: list[User], casts: list[Cast]) -> None:  # type: ignore[no-untyped-def]
    """The invariants: one ballot per (juror, item) holding their latest cast; the log has
    every cast in order; once closed, the exported log verifies and gives the same tally."""
    db.session.expire_all()
    voting_round = db.session.get(VotingRound, voting_round.id)
    items = [item for item, _label in ballots.round_items(voting_round)]
    entries = _log(db, voting_round)
    assert [entry.seq for entry in entries] == list(range(1, len(casts) + 1))
    assert voting_round.log_length == len(casts)
    seq_of = {entry.receipt_hash: entry.seq for entry in entries}
    assert set(seq_of) == {cast.receipt_hash for cast in casts}, "a cast is missing in the log"

    # The latest cast of each juror on each item, by its place in the log.
    latest: dict[tuple[int, int], Cast] = {}
    number_of_casts: Counter[tuple[int, int]] = Counter()
    for cast in sorted(casts, key=lambda cast: seq_of[cast.receipt_hash]):
        latest[cast.user_id, cast.item] = cast
        number_of_casts[cast.user_id, cast.item] += 1

    rows = db.session.scalars(select(Ballot).where(Ballot.round_id == voting_round.id)).all()
    assert len(rows) == len(users) * len(items)
    by_key = {(row.voter_key, row.item): row for row in rows}
    assert len(by_key) == len(rows), "two ballots for one juror and item"
    for user in users:
        key = ballots.voter_key(voting_round, user.id)
        for item in items:
            row, cast = by_key[key, item], latest[user.id, item]
            assert (row.choice, row.receipt_hash) == (cast.choice, cast.receipt_hash)
            assert row.casts == number_of_casts[user.id, item]

    ballots.close_round(voting_round, None, utcnow())
    db.session.commit()
    verification = ballots.verify_log(ballots.export_log(voting_round))
    assert verification.ok, verification.problems
    assert verification.entries == len(casts)
    expected = Counter((cast.item, cast.choice.value) for cast in latest.values())
    for row in voting_round.results["items"]:
        counted = (row["pour"], row["contre"], row["abstention"])
        assert counted == tuple(expected[row["item"], choice.value] for choice in CHOICES)


def test_twenty_jurors_voting_at_once_lose_no_ballot(app: Flask, db):
    voting_round, users = open_voting_round(JURORS, ARTICLES)
    slug, number = voting_round.consultation.slug, voting_round.number
    items = [item for item, _label in ballots.round_items(voting_round)]
    first, *_, whole = items
    clients = {user.id: _client(app, user) for user in users}
    # Every fourth juror sends their vote on the whole text twice at the same instant, from a
    # second session (a double click, or a second device), with another choice.
    racers = users[::4]
    twins = {user.id: _client(app, user) for user in racers}
    pairs = {user.id: threading.Barrier(2, timeout=JOIN_TIMEOUT_S) for user in racers}
    start = threading.Barrier(len(users) + len(racers), timeout=JOIN_TIMEOUT_S)
    casts: list[Cast] = []  # list.append is atomic: the threads share it

    def send(client: FlaskClient, user_id: int, item: int, choice: Choice) -> None:
        receipt = _cast(client, slug, number, item, choice)
        casts.append(Cast(user_id, item, choice, ballots.receipt_hash(receipt)))

    def juror(index: int, user_id: int) -> Callable[[], None]:
        def vote() -> None:
            client = clients[user_id]
            start.wait()
            for position, item in enumerate(items[:-1]):
                send(client, user_id, item, CHOICES[(index + position) % 3])
            # A change of mind, sent after the first vote came back: this one must count.
            send(client, user_id, first, CHOICES[(index + 1) % 3])
            if user_id in pairs:
                pairs[user_id].wait()
            send(client, user_id, whole, CHOICES[index % 3])

        return vote

    def twin(index: int, user_id: int) -> Callable[[], None]:
        def vote() -> None:
            start.wait()
            pairs[user_id].wait()
            send(twins[user_id], user_id, whole, CHOICES[(index + 2) % 3])

        return vote

    threads = [juror(index, user.id) for index, user in enumerate(users)]
    threads += [twin(users.index(user), user.id) for user in racers]
    errors = _run(threads)
    assert not errors, errors
    assert len(casts) == JURORS * (len(items) + 1) + len(racers)

    # The change of mind, sent after the first vote, is what counts on the first article.
    by_user = {user.id: index for index, user in enumerate(users)}
    changed = {cast.user_id: cast for cast in casts if cast.item == first}
    db.session.expire_all()
    for user_id, index in by_user.items():
        key = ballots.voter_key(voting_round, user_id)
        row = db.session.scalar(
            select(Ballot).where(
                Ballot.round_id == voting_round.id, Ballot.voter_key == key, Ballot.item == first
            )
        )
        assert row.choice is CHOICES[(index + 1) % 3] and row.casts == 2
        assert changed[user_id].choice is row.choice
    _check_round(db, voting_round, users, casts)


def test_one_juror_sending_ten_votes_on_one_item_at_once_keeps_one_ballot(app: Flask, db):
    voting_round, (user,) = open_voting_round(1, 1)
    slug, number = voting_round.consultation.slug, voting_round.number
    article, whole = (item for item, _label in ballots.round_items(voting_round))
    clients = [_client(app, user) for _ in range(10)]
    user_id = user.id  # read here: the threads have no session to load it
    start = threading.Barrier(len(clients), timeout=JOIN_TIMEOUT_S)
    casts: list[Cast] = []

    def sender(index: int, client: FlaskClient) -> Callable[[], None]:
        def vote() -> None:
            start.wait()
            choice = CHOICES[index % 3]
            receipt = _cast(client, slug, number, article, choice)
            casts.append(Cast(user_id, article, choice, ballots.receipt_hash(receipt)))

        return vote

    errors = _run([sender(index, client) for index, client in enumerate(clients)])
    assert not errors, errors
    receipt = _cast(clients[0], slug, number, whole, Choice.POUR)
    casts.append(Cast(user_id, whole, Choice.POUR, ballots.receipt_hash(receipt)))
    _check_round(db, voting_round, [user], casts)
