"""100 jurors voting at once on PostgreSQL: no ballot lost, and the latency of a vote.

A scratch PostgreSQL database is migrated and given a consultation in its jury phase, a frozen
bill of N articles, one juror account per juror with a signed-in session, and an open round.
The app is served by gunicorn; one client thread per juror loads its ballot page (for the CSRF
token, as a browser does), then all start together and each votes on every article and on the
whole text through the real form POST, pausing before each vote as a person reading the article
would (the session, judged on the p95 target). Then all change their vote on the whole text at
the same instant (the burst, reported). Each POST is timed. Afterwards the round is closed and
the database checked: ballots == jurors × items, one log entry per vote, the tally equals the
jurors' last choices, and the exported log verifies.

Run alone (`bench/jury_votes.py --help`) or from `bench/run.py` (`make bench`). Without
PostgreSQL it says so and skips. The setup and the check run in subprocesses under the app's
environment (`_setup`, `_check`), as the other operations run the Flask CLI.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from harness import (
    ROOT,
    BenchError,
    Server,
    app_env,
    gunicorn,
    run_flask,
    scratch_database,
    server_cpu_seconds,
)

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/postgres"
JURORS = 100
ARTICLES = 10
WORKERS = 2  # as the pages' bench; more workers only queue on the round's lock
# The pause between two votes of a juror, drawn uniformly: a brisk reader of a short article.
# Casts of one round are serialised (the hash chain orders them), so the offered rate, about
# jurors / mean pause, must stay under what one round can take; README.md gives both regimes.
THINK_MS = (2000, 6000)
MAX_P95_MS = 200.0  # issue "The citizen jury", "Performance"
CHOICES = ("pour", "contre", "abstention")
REQUEST_TIMEOUT_S = 30
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
NAME = "jury: 100 jurors voting at once (PostgreSQL)"


@dataclass
class VoteLoad:
    """What the clients measured and the database held afterwards."""

    jurors: int
    items: int
    workers: int
    think_ms: tuple[int, int]
    votes: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    # The burst: every juror changes a vote at the same instant (reported, not judged).
    burst_votes: int = 0
    burst_seconds: float = 0.0
    burst_p50_ms: float = 0.0
    burst_p95_ms: float = 0.0
    burst_max_ms: float = 0.0
    cpu_ms: float | None = None  # CPU time of the gunicorn workers per vote
    queries: list[int] = field(default_factory=list)  # SQL statements per vote, distinct counts
    statuses: dict[str, int] = field(default_factory=dict)
    ballots: int = 0
    log_entries: int = 0
    log_verifies: bool = False
    problems: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.votes / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        return not self.misses

    def summary(self) -> str:
        lines = [
            f"{self.votes} votes by {self.jurors} jurors × {self.items} items in "
            f"{self.seconds:.1f} s: {self.rps:.0f} votes/s, gunicorn {self.workers} workers, "
            f"{self.think_ms[0]}–{self.think_ms[1]} ms between a juror's votes",
            f"latency of a vote (POST): p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms, "
            f"p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms (target p95 < "
            f"{MAX_P95_MS:.0f} ms)",
            f"burst: {self.burst_votes} jurors change a vote at the same instant: p50 "
            f"{self.burst_p50_ms:.1f} ms, p95 {self.burst_p95_ms:.1f} ms, max "
            f"{self.burst_max_ms:.1f} ms, all answered in {self.burst_seconds:.1f} s "
            "(reported, not judged: the casts of a round take turns)",
            f"server: {_cpu(self.cpu_ms)} CPU ms per vote, SQL statements per vote: "
            f"{'/'.join(map(str, self.queries)) or '?'}",
            f"statuses: {', '.join(f'{k}: {v}' for k, v in sorted(self.statuses.items()))}",
            f"database: {self.ballots} ballots (expected {self.jurors * self.items}), "
            f"{self.log_entries} log entries for {self.votes + self.burst_votes} votes, "
            f"log verifies: {'yes' if self.log_verifies else 'NO'}",
        ]
        if self.misses:
            lines.append("missed: " + "; ".join(self.misses))
        return "\n".join(lines)


def _cpu(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "?"


# --- In the app's environment (subprocesses) ------------------------------------------------------


def _setup(jurors: int, articles: int) -> dict[str, Any]:
    """The consultation, its bill, jurors with sessions and an open round; committed."""
    from datetime import timedelta

    from consultation import create_app
    from consultation.accounts.models import Role, User
    from consultation.accounts.services import start_session
    from consultation.bill.models import Article, Bill
    from consultation.bill.versions import create_version
    from consultation.consultations.models import Consultation, Phase
    from consultation.core.models import utcnow
    from consultation.extensions import db
    from consultation.jury import ballots
    from consultation.jury.models import (
        Draw,
        DrawKind,
        DrawStatus,
        Juror,
        JurorStatus,
        MemberSource,
        PoolMember,
    )

    app = create_app()
    with app.app_context():
        now = utcnow()
        token = secrets.token_hex(4)
        consultation = Consultation(
            slug=f"banc-jury-{token}", title="Banc d'essai du jury", phase=Phase.JURY
        )
        db.session.add(consultation)
        db.session.flush()
        bill = Bill(consultation_id=consultation.id, title="Banc d'essai", preamble="")
        bill.articles = [
            Article(position=index, body=f"Article de banc d'essai numéro {index + 1}.")
            for index in range(articles)
        ]
        db.session.add(bill)
        db.session.flush()
        version = create_version(bill, "banc d'essai", None, now)
        seed = secrets.token_hex(32)
        draw = Draw(
            consultation_id=consultation.id,
            number=1,
            kind=DrawKind.INITIAL,
            panel_size=jurors,
            status=DrawStatus.DONE,
            pool_snapshot={"quotas": [], "members": []},
            pool_checksum="0" * 64,
            seed_commitment="0" * 64,
            seed=seed,
            drawn_at=now,
            distribution={"types": [], "panels": []},
            panel_index=0,
        )
        db.session.add(draw)
        db.session.flush()
        users = []
        for number in range(jurors):
            user = User(
                email=f"jure-{token}-{number}@banc.invalid",
                display_name=f"Juré {number + 1}",
                role=Role.JUROR,
                password_hash=None,  # never signs in with a password: the session is given
            )
            member = PoolMember(
                consultation_id=consultation.id,
                reference=f"B{number:05d}",
                source=MemberSource.IMPORT,
            )
            db.session.add_all([user, member])
            db.session.flush()
            db.session.add(
                Juror(
                    consultation_id=consultation.id,
                    draw_id=draw.id,
                    member_id=member.id,
                    status=JurorStatus.ACCEPTED,
                    user_id=user.id,
                    invited_at=now,
                    responded_at=now,
                )
            )
            users.append(user)
        voting_round = ballots.open_round(
            consultation,
            version,
            now - timedelta(minutes=5),
            now + timedelta(hours=2),
            50,
            50,
            None,
            now,
        )
        ballots.start_round(voting_round, None, now)
        items = [item for item, _label in ballots.round_items(voting_round)]
        tokens = [start_session(user, "127.0.0.1", "bench") for user in users]
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)
        return {
            "slug": consultation.slug,
            "round": voting_round.number,
            "items": items,
            "cookie_name": app.config["SESSION_COOKIE_NAME"],
            "cookies": [serializer.dumps({"_user_id": t, "_fresh": True}) for t in tokens],
        }


def _check(slug: str, number: int) -> dict[str, Any]:
    """Close the round, then count its ballots and log entries and verify the exported log."""
    from sqlalchemy import func, select

    from consultation import create_app
    from consultation.consultations.models import Consultation
    from consultation.core.models import utcnow
    from consultation.extensions import db
    from consultation.jury import ballots
    from consultation.jury.models import Ballot, BallotLogEntry, VotingRound

    app = create_app()
    with app.app_context():
        voting_round = db.session.scalar(
            select(VotingRound)
            .join(Consultation, Consultation.id == VotingRound.consultation_id)
            .where(Consultation.slug == slug, VotingRound.number == number)
        )
        ballots.close_round(voting_round, None, utcnow())
        db.session.commit()

        def counted(model: Any) -> int:
            return db.session.scalar(
                select(func.count(model.id)).where(model.round_id == voting_round.id)
            )

        per_voter = db.session.execute(
            select(Ballot.voter_key, func.count(Ballot.id))
            .where(Ballot.round_id == voting_round.id)
            .group_by(Ballot.voter_key)
        ).all()
        verification = ballots.verify_log(ballots.export_log(voting_round))
        return {
            "ballots": counted(Ballot),
            "log_entries": counted(BallotLogEntry),
            "log_length": voting_round.log_length,
            "voters": len(per_voter),
            "ballots_per_voter": sorted({n for _key, n in per_voter}),
            "counts": {
                str(row["item"]): [row["pour"], row["contre"], row["abstention"]]
                for row in voting_round.results["items"]
            },
            "verifies": verification.ok,
            "problems": verification.problems[:5],
        }


def _in_app(env: Mapping[str, str], *args: str) -> dict[str, Any]:
    """Run `_setup` or `_check` of this file under the app's environment; its JSON answer."""
    command = [sys.executable, str(Path(__file__).resolve()), *args]
    completed = subprocess.run(
        command, env=dict(env), cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    if completed.returncode != 0:
        raise BenchError(f"`jury_votes.py {' '.join(args)}` failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- The clients ---------------------------------------------------------------------------------


class JurorClient:
    """One juror's browser, reduced to what the vote needs: the session cookie, the CSRF token."""

    def __init__(self, port: int, slug: str, cookie_name: str, cookie: str) -> None:
        self.port, self.path = port, f"/consultations/{slug}/jury/vote"
        self.cookie_name, self.cookie = cookie_name, cookie
        self.csrf_token = ""

    def _request(
        self, method: str, body: str | None = None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        # A new connection per request: gunicorn's sync workers close it after each response.
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT_S)
        headers = {"Cookie": f"{self.cookie_name}={self.cookie}"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, self.path, body=body, headers=headers)
            response = connection.getresponse()
            return response, response.read()
        finally:
            connection.close()

    def open_ballot(self) -> None:
        """GET the ballot page: the session then holds a CSRF token, which the form carries."""
        response, body = self._request("GET")
        if response.status != 200:
            raise BenchError(f"the ballot page answered {response.status}")
        found = CSRF_FIELD.search(body.decode())
        if found is None:
            raise BenchError("the ballot page has no CSRF token")
        self.csrf_token = found.group(1)
        for header in response.msg.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            if name.strip() == self.cookie_name:
                self.cookie = rest.split(";", 1)[0]

    def vote(self, number: int, item: int, choice: str) -> tuple[int, float, int | None]:
        """POST one vote as the ballot form does: its status, latency in milliseconds and SQL
        statement count (X-Query-Count).

        The 303's cookie (which carries the flash message) is not kept, as if the juror never
        read the next page: the session and its token stay the same for every vote."""
        form = {"csrf_token": self.csrf_token, "round": number, "item": item, "choice": choice}
        started = time.perf_counter()
        response, _body = self._request("POST", urlencode(form))
        elapsed = (time.perf_counter() - started) * 1000
        count = response.getheader("X-Query-Count")
        return response.status, elapsed, int(count) if count is not None else None


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of the values (`share` from 0 to 1)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def load(
    server: Server, setup: Mapping[str, Any], think_ms: tuple[int, int], result: VoteLoad
) -> None:
    """One thread per juror. The session: they start together and each votes on every item
    once, a pause before each vote. Then the burst: they all change their vote on the whole
    text at the same instant."""
    clients = [
        JurorClient(server.port, setup["slug"], setup["cookie_name"], cookie)
        for cookie in setup["cookies"]
    ]
    for client in clients:
        client.open_ballot()
    items, number = list(setup["items"]), setup["round"]
    start = threading.Barrier(len(clients) + 1, timeout=60)
    burst = threading.Barrier(len(clients) + 1, timeout=3600)
    # list.append is atomic: the threads share these.
    session: list[tuple[int, float, int | None]] = []
    at_once: list[tuple[int, float, int | None]] = []
    errors: list[BaseException] = []

    def juror(index: int, client: JurorClient) -> None:
        rng = random.Random(index)
        order = items[:-1]
        rng.shuffle(order)  # jurors read in their own order; the whole text comes last
        try:
            start.wait()
            for item in [*order, items[-1]]:
                time.sleep(rng.uniform(*think_ms) / 1000)  # reading the article
                session.append(client.vote(number, item, CHOICES[(index + item) % 3]))
        except BaseException as error:
            errors.append(error)
            burst.abort()  # the main thread and the others stop waiting
            return
        try:
            burst.wait()
            at_once.append(
                client.vote(number, items[-1], final_choice(index, items[-1], items[-1]))
            )
        except BaseException as error:
            errors.append(error)

    threads = [
        threading.Thread(target=juror, args=(index, client), daemon=True)
        for index, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    cpu_before = server_cpu_seconds(server)
    start.wait()
    started = time.perf_counter()
    with contextlib.suppress(threading.BrokenBarrierError):
        burst.wait()
    result.seconds = time.perf_counter() - started
    cpu_after = server_cpu_seconds(server)
    burst_started = time.perf_counter()
    for thread in threads:
        thread.join()
    result.burst_seconds = time.perf_counter() - burst_started
    if errors:
        raise BenchError(f"{len(errors)} jurors could not vote: {errors[0]!r}")
    if cpu_before is not None and cpu_after is not None and session:
        result.cpu_ms = (cpu_after - cpu_before) * 1000 / len(session)
    latencies = [milliseconds for _status, milliseconds, _count in session]
    result.votes = len(session)
    result.p50_ms, result.p95_ms, result.p99_ms = (
        percentile(latencies, share) for share in (0.50, 0.95, 0.99)
    )
    result.max_ms = max(latencies, default=0.0)
    burst_latencies = [milliseconds for _status, milliseconds, _count in at_once]
    result.burst_votes = len(at_once)
    result.burst_p50_ms, result.burst_p95_ms = (
        percentile(burst_latencies, share) for share in (0.50, 0.95)
    )
    result.burst_max_ms = max(burst_latencies, default=0.0)
    result.queries = sorted({count for _s, _ms, count in session if count is not None})
    for status, _milliseconds, _count in [*session, *at_once]:
        result.statuses[str(status)] = result.statuses.get(str(status), 0) + 1


def final_choice(index: int, item: int, whole_text: int) -> str:
    """What juror `index` last sent on `item`: the burst changed their vote on the whole text."""
    return CHOICES[(index + 1) % 3] if item == whole_text else CHOICES[(index + item) % 3]


def judge(result: VoteLoad, check: Mapping[str, Any], items: Sequence[int]) -> None:
    """Name the targets missed: a ballot lost or doubled, a last vote not counted, a bad
    chain, a slow p95."""
    expected = result.jurors * result.items
    casts = result.votes + result.burst_votes
    result.ballots, result.log_entries = check["ballots"], check["log_entries"]
    result.log_verifies, result.problems = check["verifies"], check["problems"]
    if set(result.statuses) != {"303"}:
        result.misses.append(f"statuses other than 303: {result.statuses}")
    if result.ballots != expected or check["ballots_per_voter"] != [result.items]:
        result.misses.append(f"{result.ballots} ballots, expected {expected}")
    if result.log_entries != casts or check["log_length"] != casts:
        result.misses.append(f"{result.log_entries} log entries for {casts} votes")
    counts = {
        item: [
            sum(final_choice(index, item, items[-1]) == choice for index in range(result.jurors))
            for choice in CHOICES
        ]
        for item in items
    }
    if check["counts"] != {str(item): count for item, count in counts.items()}:
        result.misses.append("the tally is not the jurors' last votes")
    if not result.log_verifies:
        result.misses.append(f"the log does not verify: {result.problems}")
    if result.p95_ms > MAX_P95_MS:
        result.misses.append(f"p95 {result.p95_ms:.0f} ms > {MAX_P95_MS:.0f} ms")


def postgres_reachable(url: str) -> str | None:
    """None when PostgreSQL answers at `url`; else why not."""
    try:
        import psycopg
        from sqlalchemy.engine import make_url
    except ImportError as error:
        return f"psycopg is not installed ({error})"
    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(admin, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


def run(
    work: Path,
    database_url: str | None = None,
    jurors: int = JURORS,
    articles: int = ARTICLES,
    workers: int = WORKERS,
    think_ms: tuple[int, int] = THINK_MS,
) -> VoteLoad | None:
    """The whole bench in `work`; None (with a message) when PostgreSQL is not there."""
    like = database_url if (database_url or "").startswith("postgres") else None
    like = like or os.environ.get("JURY_BENCH_DATABASE_URL") or DEFAULT_DATABASE
    missing = postgres_reachable(like)
    if missing is not None:
        print(f"   skipped {NAME}: PostgreSQL is not reachable at {like}: {missing}", flush=True)
        return None
    instance = work / "jury-votes"
    instance.mkdir(exist_ok=True)
    result = VoteLoad(jurors, articles + 1, workers, think_ms)
    with scratch_database(like, instance) as url:
        env = app_env(instance, url, secrets.token_hex(32))
        run_flask(env, "db", "upgrade")
        setup = _in_app(env, "_setup", "--jurors", str(jurors), "--articles", str(articles))
        with gunicorn("app-jury-votes", "wsgi:app", ROOT, env, work, workers) as server:
            load(server, setup, think_ms, result)
        check = _in_app(env, "_check", setup["slug"], str(setup["round"]))
        judge(result, check, setup["items"])
    return result


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    setup = commands.add_parser("_setup")  # internal: under the app's environment
    setup.add_argument("--jurors", type=int, required=True)
    setup.add_argument("--articles", type=int, required=True)
    check = commands.add_parser("_check")  # internal: under the app's environment
    check.add_argument("slug")
    check.add_argument("round", type=int)
    parser.add_argument("--jurors", type=int, default=JURORS, help=f"default {JURORS}")
    parser.add_argument("--articles", type=int, default=ARTICLES, help=f"default {ARTICLES}")
    parser.add_argument("--workers", type=int, default=WORKERS, help=f"default {WORKERS}")
    parser.add_argument(
        "--think-ms",
        type=int,
        nargs=2,
        default=THINK_MS,
        metavar=("MIN", "MAX"),
        help=f"pause between a juror's votes (default {THINK_MS[0]} {THINK_MS[1]}; 0 0: none)",
    )
    parser.add_argument(
        "--database-url",
        help=f"a PostgreSQL server to make the scratch database on (default {DEFAULT_DATABASE}, "
        "or JURY_BENCH_DATABASE_URL)",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.command is None and (args.jurors < 1 or args.articles < 1 or args.workers < 1):
        parser.error("--jurors, --articles and --workers must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl+C, so the `finally` blocks stop the server and drop the database.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    if args.command in ("_setup", "_check"):
        sys.path.insert(0, str(ROOT))  # this checkout's app, as `python -m flask` would import
    if args.command == "_setup":
        print(json.dumps(_setup(args.jurors, args.articles)))
        return 0
    if args.command == "_check":
        print(json.dumps(_check(args.slug, args.round)))
        return 0
    try:
        with tempfile.TemporaryDirectory(prefix="bench-jury-") as work:
            result = run(
                Path(work),
                args.database_url,
                args.jurors,
                args.articles,
                args.workers,
                tuple(args.think_ms),
            )
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped", file=sys.stderr)
        return 130
    if result is None:
        return 0
    print(result.summary())
    print(json.dumps({**asdict(result), "rps": result.rps}))
    return 1 if args.strict and not result.ok else 0


if __name__ == "__main__":
    sys.exit(main())
