"""Voting rounds, secret ballots, receipts and the hash-chained ballot log.

Secrecy: a ballot is stored under a voter key, HMAC-SHA-256 of `"voter:<user id>"` under the
round's secret key; the receipt of a cast is HMAC-SHA-256 of
`"receipt:<voter key>:<item>:<cast number>"` under the same key, and only its SHA-256 (the
receipt hash) is stored and published. Without the secret key no ballot can be linked to a juror.

The log: the genesis hash of a round is SHA-256 of the canonical JSON (sorted keys, no spaces,
UTF-8) of `{"round", "consultation", "version", "checksum"}`. Each cast appends the entry
`{"seq", "round", "article", "choice", "receipt_hash", "replaces"}` whose hash is

    entry_hash = SHA-256( previous_hash as 64 ASCII hexadecimal bytes
                          || canonical JSON bytes of the entry )

where previous_hash is the hash of the previous entry (the genesis hash for the first one), and
every hash is written in lowercase hexadecimal. `verify_log` recomputes all of it from the
published export alone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from consultation.accounts.models import User
from consultation.bill.models import Bill, BillVersion
from consultation.bill.versions import canonical_json, walk_snapshot
from consultation.consultations.models import Consultation, Phase
from consultation.core import audit
from consultation.core.cache import INVISIBLE_WRITE
from consultation.core.errors import Conflict, DomainError, Forbidden, InvalidTransition, NotFound
from consultation.extensions import db
from consultation.jury.models import (
    WHOLE_TEXT,
    Ballot,
    BallotLogEntry,
    Choice,
    Juror,
    JurorStatus,
    RoundStatus,
    VotingRound,
)

CHOICES = tuple(choice.value for choice in Choice)
MAX_PROBLEMS = 100  # verify_log reports at most this many problems, then how many more


# --- Hashes ------------------------------------------------------------------------------------


def genesis_hash(round_number: int, consultation: str, version: int, checksum: str) -> str:
    """The hash the log of a round starts from: it binds the round to its frozen text."""
    content = {
        "round": round_number,
        "consultation": consultation,
        "version": version,
        "checksum": checksum,
    }
    return hashlib.sha256(canonical_json(content)).hexdigest()


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(previous_hash: str, entry: dict[str, Any]) -> str:
    """SHA-256 of the previous hash (ASCII hexadecimal) followed by the entry's canonical JSON."""
    # The same bytes as canonical_json, with one shared encoder (verify_log hashes many).
    return hashlib.sha256(
        previous_hash.encode("ascii") + _ENCODER.encode(entry).encode()
    ).hexdigest()


def _hmac(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def _secret(voting_round: VotingRound) -> str:
    """The round's secret key, or a conflict once it has been purged."""
    if not voting_round.secret_key:
        raise Conflict(_l("The secret key of this round has been erased: ballots are sealed."))
    return voting_round.secret_key


def voter_key(voting_round: VotingRound, user_id: int) -> str:
    """The pseudonym of a juror in one round: HMAC of their id under the round's key."""
    return _hmac(_secret(voting_round), f"voter:{user_id}")


def receipt(voting_round: VotingRound, key: str, item: int, cast_number: int) -> str:
    """The receipt of one cast, shown to the juror only; the log publishes its SHA-256."""
    return _hmac(_secret(voting_round), f"receipt:{key}:{item}:{cast_number}")


def receipt_hash(value: str) -> str:
    """SHA-256 of a receipt, as published in the log."""
    return hashlib.sha256(value.encode()).hexdigest()


# --- Rounds ------------------------------------------------------------------------------------


def open_round(
    consultation: Consultation,
    version: BillVersion,
    opens_at: datetime,
    closes_at: datetime,
    quorum_percent: int,
    threshold_percent: int,
    actor: User | None,
    now: datetime,
) -> VotingRound:
    """Schedule the next voting round of the jury on a frozen version of the bill."""
    if consultation.phase is not Phase.JURY:
        raise InvalidTransition(_l("Voting rounds can only be opened during the jury phase."))
    if closes_at <= opens_at:
        raise DomainError(_l("The round must close after it opens."), field="closes_at")
    if not 0 <= quorum_percent <= 100:
        raise DomainError(_l("The quorum is a percentage, from 0 to 100."), field="quorum_percent")
    if not 50 <= threshold_percent <= 100:
        raise DomainError(
            _l("The adoption threshold is a majority, from 50 to 100 percent."),
            field="threshold_percent",
        )
    bill_consultation = db.session.scalar(
        select(Bill.consultation_id).where(Bill.id == version.bill_id)
    )
    if bill_consultation != consultation.id:
        raise NotFound(_l("This version of the bill does not belong to this consultation."))
    last = db.session.scalar(
        select(func.max(VotingRound.number)).where(VotingRound.consultation_id == consultation.id)
    )
    number = (last or 0) + 1
    voting_round = VotingRound(
        consultation_id=consultation.id,
        number=number,
        bill_version_id=version.id,
        opens_at=opens_at,
        closes_at=closes_at,
        quorum_percent=quorum_percent,
        threshold_percent=threshold_percent,
        status=RoundStatus.SCHEDULED,
        secret_key=secrets.token_hex(32),
        log_length=0,
        log_head=genesis_hash(number, consultation.slug, version.number, version.checksum),
        created_by_id=actor.id if actor is not None else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(voting_round)
    except IntegrityError:
        raise Conflict(
            _l("Another round was opened at the same moment. Reload the page and try again.")
        ) from None
    audit.record(
        "jury.round_scheduled",
        voting_round,
        actor=actor,
        number=number,
        version=version.number,
        opens_at=opens_at,
        closes_at=closes_at,
        quorum_percent=quorum_percent,
        threshold_percent=threshold_percent,
        genesis=voting_round.log_head,
    )
    return voting_round


def start_round(voting_round: VotingRound, actor: User | None, now: datetime) -> VotingRound:
    """Open a scheduled round to the jurors' votes."""
    if voting_round.status is not RoundStatus.SCHEDULED:
        raise InvalidTransition(
            _l("Only a scheduled round can be opened; this one is already open or closed.")
        )
    if now >= voting_round.closes_at:
        raise InvalidTransition(_l("The closing time of this round has passed: it cannot open."))
    voting_round.status = RoundStatus.OPEN
    voting_round.opened_at = now
    db.session.flush()
    audit.record("jury.round_opened", voting_round, actor=actor, number=voting_round.number)
    return voting_round


def close_round(voting_round: VotingRound, actor: User | None, now: datetime) -> VotingRound:
    """Close an open round and store its tally, the published results."""
    if voting_round.status is not RoundStatus.OPEN:
        raise InvalidTransition(_l("Only an open round can be closed."))
    # Take the round's lock (as a cast does) so that no cast slips in after the tally.
    locked = db.session.execute(
        update(VotingRound)
        .where(VotingRound.id == voting_round.id, VotingRound.status == RoundStatus.OPEN)
        .values(log_length=VotingRound.log_length)
        .returning(VotingRound.log_length, VotingRound.log_head)
        # Visitors see a round's log only once it has closed: a vote keeps cached pages.
        .execution_options(synchronize_session=False, **{INVISIBLE_WRITE: True})
    ).one_or_none()
    if locked is None:
        raise InvalidTransition(_l("This round was closed at the same moment."))
    set_committed_value(voting_round, "log_length", locked.log_length)
    set_committed_value(voting_round, "log_head", locked.log_head)
    voting_round.results = tally(voting_round)
    voting_round.status = RoundStatus.CLOSED
    voting_round.closed_at = now
    db.session.flush()
    audit.record(
        "jury.round_closed",
        voting_round,
        actor=actor,
        number=voting_round.number,
        entries=locked.log_length,
        head=locked.log_head,
    )
    return voting_round


# --- Items and jurors ---------------------------------------------------------------------------


def round_items(voting_round: VotingRound) -> list[tuple[int, str]]:
    """The items voted on, in document order: each article of the version, then the whole text."""
    content = voting_round.bill_version.content
    items = [(int(article["id"]), str(article["label"])) for article, _ in walk_snapshot(content)]
    items.append((WHOLE_TEXT, str(_l("the whole text"))))
    return items


def is_juror(user: User, consultation: Consultation) -> bool:
    """Whether the user is an accepted juror of this consultation."""
    return (
        db.session.scalar(
            select(Juror.id).where(
                Juror.consultation_id == consultation.id,
                Juror.user_id == user.id,
                Juror.status == JurorStatus.ACCEPTED,
            )
        )
        is not None
    )


def _registered(consultation_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(Juror.id)).where(
                Juror.consultation_id == consultation_id, Juror.status == JurorStatus.ACCEPTED
            )
        )
        or 0
    )


# --- Casting -----------------------------------------------------------------------------------


def cast_ballot(
    voting_round: VotingRound, user: User, item: int, choice: Choice, now: datetime
) -> str:
    """Record a juror's vote on one item (a new vote replaces theirs) and return the receipt."""
    choice = Choice(choice)
    if not is_juror(user, voting_round.consultation):
        raise Forbidden(_l("Only the jurors of this consultation can vote."))
    if voting_round.status is RoundStatus.CLOSED or now >= voting_round.closes_at:
        raise Conflict(_l("This round is closed: votes are no longer accepted."))
    if voting_round.status is not RoundStatus.OPEN or now < voting_round.opens_at:
        raise Conflict(_l("This round is not open yet."))
    if item not in {item_id for item_id, _ in round_items(voting_round)}:
        raise NotFound(_l("This article is not part of the text put to the vote."))
    key = voter_key(voting_round, user.id)

    # The round's row is the lock: one cast of a round at a time, on SQLite (the write lock)
    # and PostgreSQL (the row lock). Everything below reads the data as the last cast left it.
    locked = db.session.execute(
        update(VotingRound)
        .where(VotingRound.id == voting_round.id, VotingRound.status == RoundStatus.OPEN)
        .values(log_length=VotingRound.log_length + 1)
        .returning(VotingRound.log_length, VotingRound.log_head)
        # Visitors see a round's log only once it has closed: a vote keeps cached pages.
        .execution_options(synchronize_session=False, **{INVISIBLE_WRITE: True})
    ).one_or_none()
    if locked is None:
        raise Conflict(_l("This round is closed: votes are no longer accepted."))
    seq, previous_hash = locked.log_length, locked.log_head

    value, hashed, replaces = _upsert_ballot(voting_round, key, item, choice)
    entry = {
        "seq": seq,
        "round": voting_round.number,
        "article": item,
        "choice": choice.value,
        "receipt_hash": hashed,
        "replaces": replaces,
    }
    digest = entry_hash(previous_hash, entry)
    db.session.add(
        BallotLogEntry(
            round_id=voting_round.id,
            seq=seq,
            item=item,
            choice=choice,
            receipt_hash=hashed,
            replaces=replaces,
            previous_hash=previous_hash,
            entry_hash=digest,
            created_at=now,
        )
    )
    db.session.execute(
        update(VotingRound)
        .where(VotingRound.id == voting_round.id)
        .values(log_head=digest)
        .execution_options(synchronize_session=False, **{INVISIBLE_WRITE: True})
    )
    db.session.flush()
    set_committed_value(voting_round, "log_length", seq)
    set_committed_value(voting_round, "log_head", digest)
    return value


def _find_ballot(round_id: int, key: str, item: int) -> Ballot | None:
    return db.session.scalar(
        select(Ballot)
        .where(Ballot.round_id == round_id, Ballot.voter_key == key, Ballot.item == item)
        .execution_options(populate_existing=True)
    )


def _upsert_ballot(
    voting_round: VotingRound, key: str, item: int, choice: Choice
) -> tuple[str, str, str | None]:
    """Insert or update the ballot; return the receipt, its hash and the hash it replaces."""
    for _attempt in range(3):
        ballot = _find_ballot(voting_round.id, key, item)
        if ballot is not None:
            replaces = ballot.receipt_hash
            value = receipt(voting_round, key, item, ballot.casts + 1)
            ballot.choice = choice
            ballot.casts = ballot.casts + 1
            ballot.receipt_hash = receipt_hash(value)
            db.session.flush()
            return value, ballot.receipt_hash, replaces
        value = receipt(voting_round, key, item, 1)
        try:
            with db.session.begin_nested():
                db.session.add(
                    Ballot(
                        round_id=voting_round.id,
                        voter_key=key,
                        item=item,
                        choice=choice,
                        receipt_hash=receipt_hash(value),
                        casts=1,
                    )
                )
            return value, receipt_hash(value), None
        except IntegrityError:
            # Another cast of the same juror on the same item got in first: vote over it.
            continue
    raise Conflict(_l("Your vote could not be recorded. Try again."))


# --- What the juror sees ------------------------------------------------------------------------


@dataclass(frozen=True)
class Receipt:
    item: int
    choice: Choice
    receipt: str


def my_receipts(voting_round: VotingRound, user: User) -> list[Receipt]:
    """The receipts of the juror's current ballots of the round (the latest cast of each)."""
    key = voter_key(voting_round, user.id)
    ballots = db.session.scalars(
        select(Ballot)
        .where(Ballot.round_id == voting_round.id, Ballot.voter_key == key)
        .order_by(Ballot.id)
    )
    return [
        Receipt(ballot.item, ballot.choice, receipt(voting_round, key, ballot.item, ballot.casts))
        for ballot in ballots
    ]


def progress(voting_round: VotingRound, user: User) -> tuple[int, int]:
    """How many items the juror has voted on, out of all the items of the round."""
    voted = db.session.scalar(
        select(func.count(Ballot.id)).where(
            Ballot.round_id == voting_round.id,
            Ballot.voter_key == voter_key(voting_round, user.id),
        )
    )
    return voted or 0, len(round_items(voting_round))


# --- Tally -------------------------------------------------------------------------------------


def compute_tally(
    items: Iterable[tuple[int, str]],
    counts: Counter[tuple[int, str]],
    registered: int,
    quorum_percent: int,
    threshold_percent: int,
) -> dict[str, Any]:
    """The results from the counts per (item, choice): the one rule of the tally and the verifier.

    Abstentions count for participation (the quorum) only; the votes cast are pour + contre.
    """
    rows = []
    for item, label in items:
        pour = counts.get((item, Choice.POUR.value), 0)
        contre = counts.get((item, Choice.CONTRE.value), 0)
        abstention = counts.get((item, Choice.ABSTENTION.value), 0)
        voted = pour + contre + abstention
        cast = pour + contre
        quorum_reached = voted * 100 >= quorum_percent * registered
        adopted = quorum_reached and pour * 100 > threshold_percent * cast
        rows.append(
            {
                "item": item,
                "label": label,
                "registered": registered,
                "voted": voted,
                "pour": pour,
                "contre": contre,
                "abstention": abstention,
                "cast": cast,
                "quorum_reached": quorum_reached,
                "adopted": adopted,
                "large_support": adopted and pour * 3 >= 2 * cast,
            }
        )
    return {
        "registered": registered,
        "quorum_percent": quorum_percent,
        "threshold_percent": threshold_percent,
        "items": rows,
    }


def tally(voting_round: VotingRound) -> dict[str, Any]:
    """The count of the round's current ballots per item, with the quorum and adoption rules."""
    rows = db.session.execute(
        select(Ballot.item, Ballot.choice, func.count(Ballot.id))
        .where(Ballot.round_id == voting_round.id)
        .group_by(Ballot.item, Ballot.choice)
    )
    counts: Counter[tuple[int, str]] = Counter(
        {(item, Choice(choice).value): number for item, choice, number in rows}
    )
    return compute_tally(
        round_items(voting_round),
        counts,
        _registered(voting_round.consultation_id),
        voting_round.quorum_percent,
        voting_round.threshold_percent,
    )


# --- The published log --------------------------------------------------------------------------


def export_log(voting_round: VotingRound) -> dict[str, Any]:
    """The round's public log as a JSON-ready dict: metadata, entries, head and results."""
    version = voting_round.bill_version
    slug = voting_round.consultation.slug
    # Plain rows, not ORM objects: a log of 90,000 entries loads three times faster.
    entries = db.session.execute(
        select(
            BallotLogEntry.seq,
            BallotLogEntry.item,
            BallotLogEntry.choice,
            BallotLogEntry.receipt_hash,
            BallotLogEntry.replaces,
            BallotLogEntry.entry_hash,
        )
        .where(BallotLogEntry.round_id == voting_round.id)
        .order_by(BallotLogEntry.seq)
    )
    return {
        "round": {
            "number": voting_round.number,
            "consultation": slug,
            "version": version.number,
            "checksum": version.checksum,
            "opens_at": voting_round.opens_at.isoformat(),
            "closes_at": voting_round.closes_at.isoformat(),
            "quorum_percent": voting_round.quorum_percent,
            "threshold_percent": voting_round.threshold_percent,
            "registered": (
                voting_round.results["registered"]
                if voting_round.results
                else _registered(voting_round.consultation_id)
            ),
            "items": [{"item": i, "label": label} for i, label in round_items(voting_round)],
            "genesis_hash": genesis_hash(
                voting_round.number, slug, version.number, version.checksum
            ),
        },
        "entries": [
            {
                "seq": entry.seq,
                "round": voting_round.number,
                "article": entry.item,
                "choice": entry.choice.value,
                "receipt_hash": entry.receipt_hash,
                "replaces": entry.replaces,
                "entry_hash": entry.entry_hash,
            }
            for entry in entries
        ],
        "head": voting_round.log_head,
        "results": voting_round.results,
    }


@dataclass
class Verification:
    """What `verify_log` found: the problems (none when the log holds), the recomputed tally."""

    problems: list[str] = field(default_factory=list)
    tally: dict[str, Any] | None = None
    entries: int = 0
    head: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_HEX = frozenset("0123456789abcdef")


def _is_hash(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and _HEX.issuperset(value)


class _Problems(list[str]):
    """A problem list that stops growing after MAX_PROBLEMS, counting the rest."""

    more = 0

    def add(self, message: str) -> None:
        if len(self) < MAX_PROBLEMS:
            self.append(message)
        else:
            self.more += 1


def verify_log(data: Any) -> Verification:
    """Recompute a published log: genesis, chain, sequence, replacements and the tally."""
    problems = _Problems()
    result = Verification()
    if not isinstance(data, dict):
        result.problems = ["the log is not a JSON object"]
        return result
    meta = data.get("round")
    if not isinstance(meta, dict):
        result.problems = ["the log has no round metadata"]
        return result
    expected = {
        "number": _is_int,
        "consultation": lambda v: isinstance(v, str),
        "version": _is_int,
        "checksum": lambda v: isinstance(v, str),
        "quorum_percent": lambda v: _is_int(v) and 0 <= v <= 100,
        "threshold_percent": lambda v: _is_int(v) and 50 <= v <= 100,
        "registered": lambda v: _is_int(v) and v >= 0,
        "items": lambda v: isinstance(v, list),
    }
    bad = [name for name, check in expected.items() if not check(meta.get(name))]
    if bad:
        result.problems = [f"round metadata: missing or invalid {name}" for name in bad]
        return result
    items: list[tuple[int, str]] = []
    for index, entry in enumerate(meta["items"]):
        if not (isinstance(entry, dict) and _is_int(entry.get("item"))):
            problems.add(f"round metadata: item {index + 1} is invalid")
            continue
        items.append((entry["item"], str(entry.get("label", ""))))
    item_ids = {item for item, _ in items}
    number = meta["number"]

    genesis = genesis_hash(number, meta["consultation"], meta["version"], meta["checksum"])
    if meta.get("genesis_hash") != genesis:
        problems.add(f"genesis hash: expected {genesis}, found {meta.get('genesis_hash')!r}")

    entries = data.get("entries")
    if not isinstance(entries, list):
        problems.add("the log has no list of entries")
        entries = []
    previous = genesis
    live: dict[str, tuple[int, str]] = {}  # receipt hash -> (article, choice), not yet replaced
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        position = index + 1
        if not isinstance(entry, dict):
            problems.add(f"entry {position}: not an object")
            continue
        seq, article, choice = entry.get("seq"), entry.get("article"), entry.get("choice")
        hashed, replaces, stored = (
            entry.get("receipt_hash"),
            entry.get("replaces"),
            entry.get("entry_hash"),
        )
        if not (
            _is_int(seq)
            and _is_int(entry.get("round"))
            and _is_int(article)
            and isinstance(choice, str)
            and _is_hash(hashed)
            and (replaces is None or isinstance(replaces, str))
            and isinstance(stored, str)
        ):
            problems.add(f"entry {position}: missing or invalid fields")
            continue
        if seq != position:
            problems.add(f"entry {position}: sequence number {seq}, expected {position}")
        if entry["round"] != number:
            problems.add(f"entry {position}: belongs to round {entry['round']}, not {number}")
        if article not in item_ids:
            problems.add(f"entry {position}: article {article} is not put to the vote")
        if choice not in CHOICES:
            problems.add(f"entry {position}: unknown choice {choice!r}")
        content = {
            "seq": seq,
            "round": entry["round"],
            "article": article,
            "choice": choice,
            "receipt_hash": hashed,
            "replaces": replaces,
        }
        computed = entry_hash(previous, content)
        if computed != stored:
            problems.add(f"entry {position}: hash mismatch (changed, removed or moved entry)")
        # Go on from the published hash, so that one bad entry does not taint all the next.
        previous = stored
        if hashed in seen:
            problems.add(f"entry {position}: receipt hash used twice")
        seen.add(hashed)
        if replaces is not None:
            replaced = live.pop(replaces, None)
            if replaced is None:
                problems.add(
                    f"entry {position}: replaces a cast that is not an earlier, current vote"
                )
            elif replaced[0] != article:
                problems.add(f"entry {position}: replaces a vote on another article")
        live[hashed] = (article, choice)
    result.entries = len(entries)
    result.head = previous
    if data.get("head") != previous:
        problems.add(
            f"head: the log ends with {previous}, the published head is {data.get('head')!r}"
        )

    counts: Counter[tuple[int, str]] = Counter(live.values())
    recomputed = compute_tally(
        items, counts, meta["registered"], meta["quorum_percent"], meta["threshold_percent"]
    )
    result.tally = recomputed
    published = data.get("results")
    if published is not None:
        _compare_results(recomputed, published, problems)
    if problems.more:
        problems.append(f"… and {problems.more} more problems")
    result.problems = list(problems)
    return result


def _compare_results(recomputed: dict[str, Any], published: Any, problems: _Problems) -> None:
    """Report every figure of the published results that the log does not give."""
    if not isinstance(published, dict) or not isinstance(published.get("items"), list):
        problems.add("results: not a valid tally")
        return
    if published.get("registered") != recomputed["registered"]:
        problems.add("results: the number of registered jurors differs from the round's")
    by_item = {row.get("item"): row for row in published["items"] if isinstance(row, dict)}
    if len(by_item) != len(recomputed["items"]):
        problems.add("results: the items differ from the round's")
    for row in recomputed["items"]:
        other = by_item.get(row["item"])
        if other is None:
            problems.add(f"results: article {row['item']} is missing")
            continue
        for name, value in row.items():
            if name != "label" and other.get(name) != value:
                problems.add(
                    f"results: article {row['item']} {name} is {other.get(name)!r}, "
                    f"the log gives {value!r}"
                )
