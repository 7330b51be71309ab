"""The load test: 200 visitors browsing and 100 jurors voting at once, for two minutes, on
PostgreSQL with two app servers sharing one Redis.

A scratch PostgreSQL database gets the demo (its pages for the visitors) and a consultation in
its jury phase with 100 signed-in jurors and an open round (bench/jury_votes.py's setup). Two
gunicorn instances serve it, as behind a load balancer: every request goes to one or the other.
Each visitor opens a public page, reads it for 1 to 3 seconds, opens another; each juror votes
on the articles in their own order, pausing to read, and starts again (changing their votes)
until the time is up. Every request is timed. Afterwards the round is closed and the database
checked: one ballot per juror and item, one log entry per vote, the tally equal to each juror's
last choices, a log that verifies. Targets: no error, no lost or doubled ballot; the p95 of
each page is reported.

Run alone (`bench/load.py --help`) or from `bench/run.py` (`make bench`). Without PostgreSQL
or Redis it says so and skips.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness import ROOT, BenchError, app_env, gunicorn, run_flask, scratch_database
from jury_votes import (
    CHOICES,
    DEFAULT_DATABASE,
    JurorClient,
    _in_app,
    percentile,
    postgres_reachable,
)

NAME = "load: 200 visitors and 100 jurors for 2 minutes, 2 app servers (PostgreSQL, Redis)"
VISITORS = 200
JURORS = 100
ARTICLES = 10
SECONDS = 120
WORKERS = 2  # per app server
READ_S = (1.0, 3.0)  # a visitor reads a page this long before the next
THINK_S = (2.0, 6.0)  # a juror reads an article this long before voting
REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/15")
DEMO = "utiles-ensemble-2"
# What visitors open, the home pages more often than the deep ones.
PAGES = (
    ("home", f"/consultations/{DEMO}/", 3),
    ("debates", f"/consultations/{DEMO}/debats", 2),
    ("debates map", f"/consultations/{DEMO}/debats/carte", 1),
    ("proposals", f"/consultations/{DEMO}/propositions", 2),
    ("proposals search", f"/consultations/{DEMO}/propositions?q=logement", 1),
    ("bill", f"/consultations/{DEMO}/texte", 2),
    ("jury", f"/consultations/{DEMO}/jury", 1),
    ("final text", f"/consultations/{DEMO}/texte-final", 2),
    ("open consultation", "/consultations/consultation-ouverte/propositions", 1),
    ("API", f"/api/v1/consultations/{DEMO}", 1),
)


@dataclass
class LoadResult:
    seconds: float = 0.0
    # Per page name (and "vote"): latencies in ms, statuses.
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    votes: int = 0
    ballots: int = 0
    log_entries: int = 0
    log_verifies: bool = False
    misses: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.misses

    def count(self, name: str, status: int) -> None:
        counts = self.statuses.setdefault(name, {})
        counts[str(status)] = counts.get(str(status), 0) + 1

    def summary(self) -> str:
        requests = sum(len(values) for values in self.latencies.values())
        lines = [
            f"{requests:,} requests in {self.seconds:.0f} s ({requests / self.seconds:.0f}/s) "
            f"by {VISITORS} visitors and {JURORS} jurors on 2 app servers × {WORKERS} workers",
        ]
        for name in sorted(self.latencies, key=lambda n: (n == "vote", n)):
            values = self.latencies[name]
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses[name].items()))
            lines.append(
                f"- {name}: {len(values):,} requests, p50 {percentile(values, 0.5):.0f} ms, "
                f"p95 {percentile(values, 0.95):.0f} ms, max {max(values):.0f} ms ({statuses})"
            )
        lines.append(
            f"database: {self.ballots} ballots (expected {JURORS * (ARTICLES + 1)}), "
            f"{self.log_entries} log entries for {self.votes} votes, log verifies: "
            f"{'yes' if self.log_verifies else 'NO'}"
        )
        if self.errors:
            lines.append(f"errors: {len(self.errors)}, first: {self.errors[0]}")
        if self.misses:
            lines.append("missed: " + "; ".join(self.misses))
        return "\n".join(lines)


def _get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def run_load(
    ports: Sequence[int], setup: Mapping[str, object], seconds: float, result: LoadResult
) -> dict[int, dict[int, str]]:
    """Visitors and jurors until the time is up; each juror's last choice per item."""
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    weighted = [page for page in PAGES for _ in range(page[2])]
    last_choices: dict[int, dict[int, str]] = defaultdict(dict)
    items = list(setup["items"])
    clients = [
        JurorClient(ports[index % 2], str(setup["slug"]), str(setup["cookie_name"]), cookie)
        for index, cookie in enumerate(setup["cookies"])
    ]
    for client in clients:
        client.open_ballot()

    def record(name: str, status: int, milliseconds: float) -> None:
        with lock:
            result.latencies[name].append(milliseconds)
            result.count(name, status)

    def visitor(index: int) -> None:
        rng = random.Random(index)
        time.sleep(rng.uniform(0, READ_S[1]))  # they do not all arrive at the same instant
        while time.monotonic() < deadline:
            name, path, _weight = rng.choice(weighted)
            started = time.perf_counter()
            try:
                status = _get(ports[rng.randrange(2)], path)
            except (OSError, http.client.HTTPException) as error:
                with lock:
                    result.errors.append(f"{name}: {error!r}")
                status = 0
            record(name, status, (time.perf_counter() - started) * 1000)
            time.sleep(rng.uniform(*READ_S))

    def juror(index: int, client: JurorClient) -> None:
        rng = random.Random(10_000 + index)
        number, round_pass = int(setup["round"]), 0
        while time.monotonic() < deadline:
            order = items[:-1]
            rng.shuffle(order)
            for item in [*order, items[-1]]:
                time.sleep(rng.uniform(*THINK_S))
                if time.monotonic() >= deadline and item in last_choices[index]:
                    return
                choice = CHOICES[(index + item + round_pass) % 3]
                client.port = ports[rng.randrange(2)]  # the load balancer's choice
                try:
                    status, milliseconds, _count = client.vote(number, item, choice)
                except (OSError, http.client.HTTPException) as error:
                    with lock:
                        result.errors.append(f"vote: {error!r}")
                    continue
                record("vote", status, milliseconds)
                if status == 303:
                    last_choices[index][item] = choice
                    with lock:
                        result.votes += 1
            round_pass += 1

    threads = [threading.Thread(target=visitor, args=(i,), daemon=True) for i in range(VISITORS)]
    threads += [
        threading.Thread(target=juror, args=(i, client), daemon=True)
        for i, client in enumerate(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    result.seconds = time.perf_counter() - started
    return last_choices


def judge(result: LoadResult, check: Mapping[str, object], last: Mapping[int, Mapping[int, str]]):
    expected = JURORS * (ARTICLES + 1)
    result.ballots, result.log_entries = int(check["ballots"]), int(check["log_entries"])
    result.log_verifies = bool(check["verifies"])
    bad = {
        name: counts
        for name, counts in result.statuses.items()
        if set(counts) - ({"303"} if name == "vote" else {"200"})
    }
    if bad or result.errors:
        result.misses.append(f"errors: {len(result.errors)}, other statuses: {bad}")
    if result.ballots != expected:
        result.misses.append(f"{result.ballots} ballots, expected {expected}")
    if result.log_entries != result.votes:
        result.misses.append(f"{result.log_entries} log entries for {result.votes} votes")
    tally: dict[str, list[int]] = {}
    for choices in last.values():
        for item, choice in choices.items():
            tally.setdefault(str(item), [0, 0, 0])[CHOICES.index(choice)] += 1
    if check["counts"] != tally:
        result.misses.append("the tally is not the jurors' last votes")
    if not result.log_verifies:
        result.misses.append("the log does not verify")


def redis_reachable(url: str) -> str | None:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except Exception as error:  # any failure: the load test cannot run
        return str(error)
    return None


def run(work: Path, database_url: str | None = None, seconds: float = SECONDS) -> LoadResult | None:
    like = database_url if (database_url or "").startswith("postgres") else None
    like = like or os.environ.get("JURY_BENCH_DATABASE_URL") or DEFAULT_DATABASE
    services = ((postgres_reachable(like), like), (redis_reachable(REDIS_URL), REDIS_URL))
    for missing, what in services:
        if missing is not None:
            print(f"   skipped {NAME}: {what} is not reachable: {missing}", flush=True)
            return None
    instance = work / "load"
    instance.mkdir(exist_ok=True)
    result = LoadResult()
    with scratch_database(like, instance) as url:
        env = {**app_env(instance, url, secrets.token_hex(32)), "REDIS_URL": REDIS_URL}
        env["LOG_LEVEL"] = "WARNING"  # two minutes of access lines would only fill the disk
        run_flask(env, "db", "upgrade")
        run_flask(env, "demo", "load")
        setup = _in_app(env, "_setup", "--jurors", str(JURORS), "--articles", str(ARTICLES))
        with (
            gunicorn("app-load-a", "wsgi:app", ROOT, env, work, WORKERS) as first,
            gunicorn("app-load-b", "wsgi:app", ROOT, env, work, WORKERS) as second,
        ):
            last = run_load([first.port, second.port], setup, seconds, result)
        check = _in_app(env, "_check", str(setup["slug"]), str(setup["round"]))
        judge(result, check, last)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL server to make a scratch database on")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="duration of the load")
    args = parser.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="load-") as folder:
        try:
            result = run(Path(folder), args.database_url, args.seconds)
        except BenchError as error:
            print(f"{NAME}: failed: {error}", file=sys.stderr)
            return 1
    if result is None:
        return 0
    print(f"{NAME}\n{result.summary()}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
