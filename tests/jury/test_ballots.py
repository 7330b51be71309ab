"""Voting rounds and secret ballots: casting, re-voting, receipts, the tally, the hash-chained
log and its verifier, and two casts racing on one ballot."""

from __future__ import annotations

import copy
import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from consultation.consultations.models import Phase
from consultation.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidTransition,
    NotFound,
)
from consultation.core.models import utcnow
from consultation.extensions import db as _db
from consultation.jury import ballots
from consultation.jury.models import (
    WHOLE_TEXT,
    Ballot,
    BallotLogEntry,
    Choice,
    JurorStatus,
    RoundStatus,
    VotingRound,
)
from tests import factories
from tests.jury.factories import frozen_version, make_juror

POUR, CONTRE, ABST = Choice.POUR, Choice.CONTRE, Choice.ABSTENTION


def _round(db, jurors: int = 3, articles: int = 2, **fields):  # type: ignore[no-untyped-def]
    consultation = factories.make_consultation(phase=Phase.JURY)
    version = frozen_version(consultation, articles)
    users = [make_juror(consultation).user for _ in range(jurors)]
    now = utcnow()
    voting_round = ballots.open_round(
        consultation,
        version,
        fields.pop("opens_at", now - timedelta(hours=1)),
        fields.pop("closes_at", now + timedelta(hours=1)),
        fields.pop("quorum_percent", 50),
        fields.pop("threshold_percent", 50),
        None,
        now,
    )
    ballots.start_round(voting_round, None, now)
    return voting_round, users


def _articles(voting_round: VotingRound) -> list[int]:
    return [item for item, _ in ballots.round_items(voting_round) if item != WHOLE_TEXT]


def _entries(voting_round: VotingRound) -> list[BallotLogEntry]:
    return list(
        _db.session.scalars(
            select(BallotLogEntry)
            .where(BallotLogEntry.round_id == voting_round.id)
            .order_by(BallotLogEntry.seq)
        )
    )


# --- Rounds ------------------------------------------------------------------------------------


def test_a_round_is_numbered_and_starts_from_the_genesis_hash(db):
    voting_round, _ = _round(db)
    version = voting_round.bill_version
    assert voting_round.number == 1
    assert voting_round.status is RoundStatus.OPEN
    assert len(voting_round.secret_key) == 64
    assert voting_round.log_head == ballots.genesis_hash(
        1, voting_round.consultation.slug, version.number, version.checksum
    )
    items = ballots.round_items(voting_round)
    assert [label for _, label in items][-1] == "the whole text"
    assert len(items) == 3
    second = ballots.open_round(
        voting_round.consultation,
        version,
        utcnow(),
        utcnow() + timedelta(days=1),
        0,
        100,
        None,
        utcnow(),
    )
    assert second.number == 2 and second.status is RoundStatus.SCHEDULED


def test_opening_a_round_checks_its_rules(db):
    consultation = factories.make_consultation(phase=Phase.JURY)
    version = frozen_version(consultation)
    now = utcnow()
    later = now + timedelta(hours=1)
    with pytest.raises(DomainError, match="close after"):
        ballots.open_round(consultation, version, later, now, 50, 50, None, now)
    with pytest.raises(DomainError, match="quorum"):
        ballots.open_round(consultation, version, now, later, 101, 50, None, now)
    with pytest.raises(DomainError, match="threshold"):
        ballots.open_round(consultation, version, now, later, 50, 49, None, now)
    other = factories.make_consultation(phase=Phase.JURY)
    with pytest.raises(NotFound):
        ballots.open_round(other, version, now, later, 50, 50, None, now)
    consultation.phase = Phase.SYNTHESE
    with pytest.raises(InvalidTransition, match="jury phase"):
        ballots.open_round(consultation, version, now, later, 50, 50, None, now)


def test_illegal_transitions_are_refused(db):
    voting_round, _ = _round(db)
    with pytest.raises(InvalidTransition, match="scheduled"):
        ballots.start_round(voting_round, None, utcnow())
    ballots.close_round(voting_round, None, utcnow())
    assert voting_round.status is RoundStatus.CLOSED and voting_round.results is not None
    with pytest.raises(InvalidTransition, match="open round"):
        ballots.close_round(voting_round, None, utcnow())


# --- Casting -----------------------------------------------------------------------------------


def test_a_revote_replaces_the_ballot_and_appends_to_the_log(db):
    voting_round, (user, *_) = _round(db)
    article = _articles(voting_round)[0]
    first = ballots.cast_ballot(voting_round, user, article, POUR, utcnow())
    second = ballots.cast_ballot(voting_round, user, article, CONTRE, utcnow())
    assert first != second

    rows = db.session.scalars(select(Ballot).where(Ballot.round_id == voting_round.id)).all()
    assert len(rows) == 1
    assert (rows[0].choice, rows[0].casts) == (CONTRE, 2)
    assert rows[0].voter_key == ballots.voter_key(voting_round, user.id)
    assert len(rows[0].voter_key) == 64  # a pseudonym, not the user id

    one, two = _entries(voting_round)
    assert (one.seq, one.replaces) == (1, None)
    assert (two.seq, two.replaces) == (2, one.receipt_hash)
    assert one.receipt_hash == ballots.receipt_hash(first)
    assert two.receipt_hash == ballots.receipt_hash(second)
    assert two.previous_hash == one.entry_hash
    assert voting_round.log_length == 2 and voting_round.log_head == two.entry_hash
    db.session.expire_all()
    assert db.session.get(VotingRound, voting_round.id).log_head == two.entry_hash


def test_the_receipts_of_a_juror_are_found_in_the_log(db):
    voting_round, (user, other, _) = _round(db)
    a, b = _articles(voting_round)
    ballots.cast_ballot(voting_round, user, a, POUR, utcnow())
    ballots.cast_ballot(voting_round, user, a, ABST, utcnow())
    ballots.cast_ballot(voting_round, user, WHOLE_TEXT, POUR, utcnow())
    ballots.cast_ballot(voting_round, other, b, CONTRE, utcnow())

    mine = ballots.my_receipts(voting_round, user)
    assert [(r.item, r.choice) for r in mine] == [(a, ABST), (WHOLE_TEXT, POUR)]
    log = ballots.export_log(voting_round)
    published = {entry["receipt_hash"]: entry for entry in log["entries"]}
    for item in mine:
        entry = published[ballots.receipt_hash(item.receipt)]
        assert (entry["article"], entry["choice"]) == (item.item, item.choice.value)
    assert ballots.progress(voting_round, user) == (2, 3)
    assert ballots.progress(voting_round, other) == (1, 3)
    assert ballots.verify_log(log).ok


def test_who_and_when_and_what_can_be_voted_on(db):
    voting_round, (user, *_) = _round(db)
    article = _articles(voting_round)[0]
    consultation = voting_round.consultation

    with pytest.raises(Forbidden):
        ballots.cast_ballot(voting_round, factories.make_user(), article, POUR, utcnow())
    invited = make_juror(consultation, factories.make_user(), status=JurorStatus.DECLINED)
    with pytest.raises(Forbidden):
        ballots.cast_ballot(voting_round, invited.user, article, POUR, utcnow())
    with pytest.raises(NotFound, match="not part of the text"):
        ballots.cast_ballot(voting_round, user, 999_999, POUR, utcnow())
    with pytest.raises(Conflict, match="not open"):
        ballots.cast_ballot(voting_round, user, article, POUR, utcnow() - timedelta(hours=2))
    with pytest.raises(Conflict, match="closed"):
        ballots.cast_ballot(voting_round, user, article, POUR, utcnow() + timedelta(hours=2))

    ballots.close_round(voting_round, None, utcnow())
    with pytest.raises(Conflict, match="closed"):
        ballots.cast_ballot(voting_round, user, article, POUR, utcnow())
    assert db.session.scalar(select(func.count(BallotLogEntry.id))) == 0


def test_a_scheduled_round_refuses_votes(db):
    consultation = factories.make_consultation(phase=Phase.JURY)
    version = frozen_version(consultation)
    user = make_juror(consultation).user
    now = utcnow()
    voting_round = ballots.open_round(
        consultation, version, now - timedelta(hours=1), now + timedelta(hours=1), 50, 50, None, now
    )
    with pytest.raises(Conflict, match="not open"):
        ballots.cast_ballot(voting_round, user, WHOLE_TEXT, POUR, now)


# --- Tally -------------------------------------------------------------------------------------


def _item(results: dict, item: int) -> dict:
    return next(row for row in results["items"] if row["item"] == item)


def test_the_tally_applies_quorum_threshold_and_large_support(db):
    voting_round, users = _round(db, jurors=10, articles=2, quorum_percent=50)
    a, b = _articles(voting_round)
    now = utcnow()
    # a: 4 pour, 2 contre, 1 abstention -> adopted (4 > 3), 4*3 >= 2*6: large support
    for user, choice in zip(users, [POUR] * 4 + [CONTRE] * 2 + [ABST], strict=False):
        ballots.cast_ballot(voting_round, user, a, choice, now)
    # b: 2 pour, 2 contre, 1 abstention: quorum reached (5 of 10), not adopted (tie)
    for user, choice in zip(users, [POUR] * 2 + [CONTRE] * 2 + [ABST], strict=False):
        ballots.cast_ballot(voting_round, user, b, choice, now)
    # the whole text: 3 pour, 1 contre: no quorum (4 of 10)
    for user, choice in zip(users, [POUR] * 3 + [CONTRE], strict=False):
        ballots.cast_ballot(voting_round, user, WHOLE_TEXT, choice, now)

    results = ballots.close_round(voting_round, None, now).results
    assert results["registered"] == 10
    row = _item(results, a)
    assert (row["voted"], row["pour"], row["contre"], row["abstention"], row["cast"]) == (
        7,
        4,
        2,
        1,
        6,
    )
    assert row["quorum_reached"] and row["adopted"] and row["large_support"]
    row = _item(results, b)
    assert row["quorum_reached"] and not row["adopted"] and not row["large_support"]
    row = _item(results, WHOLE_TEXT)
    assert not row["quorum_reached"] and not row["adopted"]
    assert [r["item"] for r in results["items"]] == [a, b, WHOLE_TEXT]


def test_adopted_without_large_support_and_a_higher_threshold(db):
    voting_round, users = _round(db, jurors=5, articles=1, quorum_percent=0, threshold_percent=60)
    (a,) = _articles(voting_round)
    now = utcnow()
    for user, choice in zip(users, [POUR, POUR, POUR, CONTRE, CONTRE], strict=True):
        ballots.cast_ballot(voting_round, user, a, choice, now)
    ballots.cast_ballot(voting_round, users[0], WHOLE_TEXT, ABST, now)
    results = ballots.tally(voting_round)
    row = _item(results, a)
    assert row["adopted"] is False  # 3 of 5 is 60%, not more
    row = _item(results, WHOLE_TEXT)
    assert row["quorum_reached"] and row["cast"] == 0 and not row["adopted"]

    voting_round.threshold_percent = 55
    row = _item(ballots.tally(voting_round), a)
    assert row["adopted"] and not row["large_support"]  # 3*3 < 2*5


# --- The published log and its verifier ---------------------------------------------------------


@pytest.fixture
def closed_log(db) -> dict:
    voting_round, users = _round(db, jurors=4)
    a, b = _articles(voting_round)
    now = utcnow()
    ballots.cast_ballot(voting_round, users[0], a, POUR, now)
    ballots.cast_ballot(voting_round, users[1], a, CONTRE, now)
    ballots.cast_ballot(voting_round, users[0], a, CONTRE, now)  # a re-vote
    ballots.cast_ballot(voting_round, users[2], b, ABST, now)
    ballots.cast_ballot(voting_round, users[3], WHOLE_TEXT, POUR, now)
    ballots.close_round(voting_round, None, now)
    return ballots.export_log(voting_round)


def test_the_exported_log_verifies(closed_log):
    result = ballots.verify_log(closed_log)
    assert result.ok, result.problems
    assert result.entries == 5 and result.head == closed_log["head"]
    assert result.tally == closed_log["results"]
    assert closed_log["entries"][2]["replaces"] == closed_log["entries"][0]["receipt_hash"]


def test_a_changed_choice_is_detected(closed_log):
    closed_log["entries"][1]["choice"] = "pour"
    result = ballots.verify_log(closed_log)
    assert not result.ok
    assert any("entry 2: hash mismatch" in p for p in result.problems)
    assert any(p.startswith("results:") for p in result.problems)


def test_a_removed_entry_is_detected(closed_log):
    del closed_log["entries"][3]
    problems = ballots.verify_log(closed_log).problems
    assert any("sequence number 5, expected 4" in p for p in problems)
    assert any("hash mismatch" in p for p in problems)


def test_a_removed_last_entry_is_detected_by_the_head(closed_log):
    closed_log["entries"].pop()
    problems = ballots.verify_log(closed_log).problems
    assert any(p.startswith("head:") for p in problems)


def test_reordered_entries_are_detected(closed_log):
    entries = closed_log["entries"]
    entries[0], entries[2] = entries[2], entries[0]
    problems = ballots.verify_log(closed_log).problems
    assert any("sequence number" in p for p in problems)
    assert any("not an earlier, current vote" in p for p in problems)


def test_wrong_results_are_detected(closed_log):
    tampered = copy.deepcopy(closed_log)
    row = tampered["results"]["items"][0]
    row["pour"], row["contre"] = row["contre"], row["pour"]
    problems = ballots.verify_log(tampered).problems
    assert problems and all(p.startswith("results:") for p in problems)


def test_a_forged_genesis_is_detected(closed_log):
    closed_log["round"]["checksum"] = "0" * 64
    problems = ballots.verify_log(closed_log).problems
    assert any(p.startswith("genesis hash") for p in problems)


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {},
        {"round": "x"},
        {"round": {"number": "1"}},
        {"round": {"number": True}, "entries": 3},
    ],
)
def test_malformed_logs_give_problems_not_exceptions(data):
    result = ballots.verify_log(data)
    assert not result.ok


def test_malformed_entries_give_problems(closed_log):
    closed_log["entries"][0] = "nope"
    closed_log["entries"][1]["seq"] = None
    del closed_log["entries"][2]["receipt_hash"]
    closed_log["entries"].append({"seq": 6, "article": [], "choice": {}})
    closed_log["results"] = "nope"
    closed_log["round"]["items"].append("nope")
    result = ballots.verify_log(closed_log)
    assert not result.ok
    assert any("entry 1: not an object" in p for p in result.problems)


def _synthetic_log(count: int) -> dict:
    meta = {
        "number": 1,
        "consultation": "big",
        "version": 1,
        "checksum": "c" * 64,
        "quorum_percent": 50,
        "threshold_percent": 50,
        "registered": count,
        "items": [{"item": item, "label": f"Article {item}"} for item in range(1, 31)]
        + [{"item": WHOLE_TEXT, "label": "the whole text"}],
    }
    meta["genesis_hash"] = previous = ballots.genesis_hash(1, "big", 1, "c" * 64)
    entries = []
    for seq in range(1, count + 1):
        entry = {
            "seq": seq,
            "round": 1,
            "article": seq % 31,
            "choice": ballots.CHOICES[seq % 3],
            "receipt_hash": ballots.receipt_hash(str(seq)),
            "replaces": None,
        }
        previous = ballots.entry_hash(previous, entry)
        entries.append({**entry, "entry_hash": previous})
    return {"round": meta, "entries": entries, "head": previous, "results": None}


def test_the_verifier_checks_a_log_of_300_jurors_by_300_articles():
    """The size of the issue's benchmark (timed in `make bench`, not here)."""
    result = ballots.verify_log(_synthetic_log(90_000))
    assert result.ok, result.problems[:3]
    assert result.entries == 90_000


# --- Concurrency -------------------------------------------------------------------------------


def test_two_casts_at_once_on_one_ballot_leave_one_ballot_and_a_valid_chain(
    app: Flask, db, monkeypatch
):
    voting_round, (user, *_) = _round(db, jurors=2)
    # Hold each cast a moment once it has the round's lock, so that the other one arrives
    # while it is held and must wait for it.
    upsert = ballots._upsert_ballot

    def slow_upsert(*args):  # type: ignore[no-untyped-def]
        time.sleep(0.2)
        return upsert(*args)

    monkeypatch.setattr(ballots, "_upsert_ballot", slow_upsert)
    article = _articles(voting_round)[0]
    round_id, user_id = voting_round.id, user.id
    db.session.commit()

    barrier = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []
    receipts: list[str] = []

    def cast(choice: Choice) -> None:
        try:
            with app.app_context():
                session = _db.session
                own_round = session.get(VotingRound, round_id)
                own_user = session.get(type(user), user_id)
                ballots.round_items(own_round)  # load the version before racing
                barrier.wait()
                receipts.append(ballots.cast_ballot(own_round, own_user, article, choice, utcnow()))
                session.commit()
                session.remove()
        except BaseException as error:  # reported by the asserts below
            errors.append(error)

    threads = [threading.Thread(target=cast, args=(choice,)) for choice in (POUR, CONTRE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(receipts) == 2

    db.session.expire_all()
    rows = db.session.scalars(select(Ballot).where(Ballot.round_id == round_id)).all()
    assert len(rows) == 1 and rows[0].casts == 2
    voting_round = db.session.get(VotingRound, round_id)
    entries = _entries(voting_round)
    assert [entry.seq for entry in entries] == [1, 2]
    assert entries[1].replaces == entries[0].receipt_hash
    assert rows[0].choice is entries[1].choice
    log = ballots.export_log(voting_round)
    assert ballots.verify_log(log).ok
    assert {ballots.receipt_hash(r) for r in receipts} == {e.receipt_hash for e in entries}


def test_an_insert_that_loses_the_race_becomes_a_revote(db, monkeypatch):
    voting_round, (user, *_) = _round(db)
    article = _articles(voting_round)[0]
    ballots.cast_ballot(voting_round, user, article, POUR, utcnow())
    # The next cast does not see the ballot at first, as if another cast had just written it.
    find = ballots._find_ballot
    calls: list[int] = []

    def miss_once(*args: object) -> Ballot | None:
        calls.append(1)
        return None if len(calls) == 1 else find(*args)

    monkeypatch.setattr(ballots, "_find_ballot", miss_once)
    ballots.cast_ballot(voting_round, user, article, CONTRE, utcnow())
    rows = db.session.scalars(select(Ballot).where(Ballot.round_id == voting_round.id)).all()
    assert [(row.choice, row.casts) for row in rows] == [(CONTRE, 2)]
    assert len(calls) == 2  # the insert failed, the retry updated
    assert ballots.verify_log(ballots.export_log(voting_round)).ok
