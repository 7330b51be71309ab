"""`make bench`: load each public page of a scaled demo and compare it with a bare Flask endpoint.

Both apps are served by gunicorn the same way in the same run, so the ratio of their request
rates says how much the application costs, whatever the machine. See bench/README.md.

To add a page or an operation, append to PAGES or OPERATIONS just below.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Page:
    """A public URL loaded with wrk; `status` is the answer it must give (anything else: 500...)."""

    path: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Operation:
    """A `flask --app consultation ...` command timed once on the scaled demo, after the pages."""

    name: str
    flask_args: tuple[str, ...]
    budget_s: float


# Pages of the demo (slugs from `demo load`). Later issues append theirs.
PAGES: list[Page] = [
    Page("/", status=302),
    Page("/consultations/"),
    Page("/consultations/utiles-ensemble-2/"),
    Page("/consultations/consultation-ouverte/"),
    Page("/connexion"),
    Page("/accessibilite"),
    Page("/confidentialite"),
    Page("/healthz"),
    Page("/api/v1/consultations"),
    Page("/api/v1/consultations/utiles-ensemble-2"),
    Page("/api/v1/openapi.json"),
]

# Exports, the jury draw, the tally, the log verification (DESIGN.md section 9), e.g.
# Operation("jury draw", ("jury", "draw", "utiles-ensemble-2"), budget_s=10.0),
OPERATIONS: list[Operation] = []

# Targets of issue 2, "Performance".
MIN_RATIO = 0.40
MAX_P95_MS = 30.0
DEMO_LOAD_BUDGET_S = 120.0  # at --scale 10
WORKERS = 2

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
LUA_SCRIPT = BENCH_DIR / "latency.lua"
RESULTS_DIR = BENCH_DIR / "results"
READY_TIMEOUT_S = 60.0
PROBES_PER_PAGE = 3  # one cold and warm requests, over both workers
WARM_UP_REQUESTS = 10  # enough for both workers to open their database connection


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


# --- Results ---------------------------------------------------------------------------------


@dataclass
class Load:
    """What wrk measured for one URL."""

    requests: int
    seconds: float
    socket_errors: int
    bad_statuses: int
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class PageResult:
    path: str
    expected_status: int
    statuses: list[int]
    queries: list[int | None]
    load: Load | None = None
    misses: list[str] = field(default_factory=list)


@dataclass
class OperationResult:
    name: str
    seconds: float
    budget_s: float | None
    ok: bool
    output: str


# --- Processes -------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    """A port the kernel says is free; gunicorn binds it a moment later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def gunicorn(
    name: str, app: str, chdir: Path, env: Mapping[str, str], log_dir: Path, workers: int
) -> Iterator[Server]:
    """Serve `app` on loopback for the duration of the block, then stop master and workers."""
    port = free_port()
    log = log_dir / f"{name}.log"
    command = [sys.executable, "-m", "gunicorn", "--workers", str(workers)]
    command += ["--bind", f"127.0.0.1:{port}", "--chdir", str(chdir), "--log-level", "warning"]
    command += ["--graceful-timeout", "5", app]
    with log.open("wb") as out:
        # A session of its own: Ctrl+C reaches us only, and we can signal master and workers.
        process = subprocess.Popen(
            command, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, port, process, log)
    try:
        wait_until_ready(server)
        yield server
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left (a stuck or orphaned worker)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def log_tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until_ready(server: Server) -> None:
    """Poll until the server answers; fail early with its log if it died."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"{server.name} exited while starting:\n{log_tail(server.log)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if fetch(server.port, "/").status < 500:
                for _ in range(WARM_UP_REQUESTS):
                    fetch(server.port, "/")
                return
        time.sleep(0.2)
    raise BenchError(f"{server.name} did not answer in {READY_TIMEOUT_S:.0f} s")


def run_flask(env: Mapping[str, str], *args: str, timeout: float = 900) -> str:
    """Run one Flask CLI command of the app; its output, or an error with its output."""
    command = [sys.executable, "-m", "flask", "--app", "consultation", *args]
    completed = subprocess.run(
        command, env=dict(env), cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    if completed.returncode != 0:
        raise BenchError(f"`flask {' '.join(args)}` failed:\n{completed.stdout}{completed.stderr}")
    return completed.stdout.strip()


# --- Instances of the app --------------------------------------------------------------------


def app_env(instance: Path, database_url: str, secret_key: str) -> dict[str, str]:
    """Production settings, with the query counter on; REDIS_URL passes through when set."""
    env = {key: value for key, value in os.environ.items() if key != "FLASK_DEBUG"}
    env.update(
        APP_ENV="production",
        SECRET_KEY=secret_key,
        QUERY_COUNT_HEADER="1",
        INSTANCE_PATH=str(instance),
        DATABASE_URL=database_url,
    )
    return env


def prepare_instance(env: Mapping[str, str], scale: int) -> OperationResult:
    """Migrate and load the demo; the load is timed since it has its own target."""
    run_flask(env, "db", "upgrade")
    started = time.perf_counter()
    output = run_flask(env, "demo", "load", "--scale", str(scale))
    elapsed = time.perf_counter() - started
    budget = DEMO_LOAD_BUDGET_S if scale <= 10 else None
    ok = budget is None or elapsed <= budget
    return OperationResult(f"demo load --scale {scale}", elapsed, budget, ok, output)


@contextlib.contextmanager
def scratch_database(like: str | None, instance: Path) -> Iterator[str]:
    """A fresh, empty database of the same kind as `like`: SQLite file, or PostgreSQL database."""
    if like is None or not like.startswith("postgres"):
        yield f"sqlite:///{instance / 'app.db'}"
        return
    # Imported here: only runs that target PostgreSQL need them.
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    url = make_url(like)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            connection.execute(drop.format(sql.Identifier(name)))


# --- Measuring -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    status: int
    queries: int | None


def fetch(port: int, path: str, headers: Sequence[tuple[str, str]] = ()) -> Probe:
    """One GET without following redirects, so `/` shows its own 302 and query count."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=dict(headers))
        response = connection.getresponse()
        response.read()
        count = response.getheader("X-Query-Count")
        return Probe(response.status, int(count) if count is not None else None)
    finally:
        connection.close()


def probe_page(port: int, page: Page) -> PageResult:
    """Fetch a page a few times: the status to check, and its SQL queries (cold and warm)."""
    probes = [fetch(port, page.path, page.headers) for _ in range(PROBES_PER_PAGE)]
    return PageResult(
        path=page.path,
        expected_status=page.status,
        statuses=[probe.status for probe in probes],
        queries=[probe.queries for probe in probes],
    )


def run_wrk(url: str, duration: int, connections: int, page: Page | None = None) -> Load:
    """Load one URL with wrk; the Lua hook prints the exact percentiles as JSON."""
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s"]
    command += ["--timeout", "5s", "-s", str(LUA_SCRIPT)]
    for name, value in page.headers if page else ():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    marker = next(
        (line for line in completed.stdout.splitlines() if line.startswith("BENCH_JSON ")), None
    )
    if completed.returncode != 0 or marker is None:
        raise BenchError(f"wrk failed on {url}:\n{completed.stdout}{completed.stderr}")
    data = json.loads(marker.removeprefix("BENCH_JSON "))
    errors, latency = data["errors"], data["latency_us"]
    return Load(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        bad_statuses=errors["status"],
        p50_ms=latency["p50"] / 1000,
        p95_ms=latency["p95"] / 1000,
        p99_ms=latency["p99"] / 1000,
    )


def judge(result: PageResult, bare_rps: float) -> None:
    """Name the targets the page misses."""
    if any(status != result.expected_status for status in result.statuses):
        result.misses.append(f"status (expected {result.expected_status})")
    if None in result.queries:
        result.misses.append("no X-Query-Count")
    load = result.load
    if load is None:
        return
    if load.rps < MIN_RATIO * bare_rps:
        result.misses.append(f"ratio < {MIN_RATIO:.0%}")
    if load.p95_ms > MAX_P95_MS:
        result.misses.append(f"p95 > {MAX_P95_MS:.0f} ms")
    if load.socket_errors or load.bad_statuses:
        result.misses.append(f"{load.socket_errors + load.bad_statuses} errors")


def run_operation(env: Mapping[str, str], operation: Operation) -> OperationResult:
    started = time.perf_counter()
    try:
        output, ok = run_flask(env, *operation.flask_args), True
    except BenchError as error:
        output, ok = str(error), False
    elapsed = time.perf_counter() - started
    ok = ok and elapsed <= operation.budget_s
    return OperationResult(operation.name, elapsed, operation.budget_s, ok, output)


# --- Report ----------------------------------------------------------------------------------


def query_range(queries: Sequence[int | None]) -> tuple[int, int] | None:
    known = [count for count in queries if count is not None]
    return (min(known), max(known)) if known else None


def format_queries(queries: Sequence[int | None]) -> str:
    span = query_range(queries)
    if span is None:
        return "?"
    return str(span[0]) if span[0] == span[1] else f"{span[0]}–{span[1]}"


def table_row(name: str, status: str, load: Load | None, *rest: str) -> str:
    """A Markdown row: name, status, the wrk figures, then `rest` (queries, ratio, misses)."""
    figures = ["–"] * 4
    if load is not None:
        figures = [
            f"{load.rps:.0f}",
            *(f"{ms:.1f}" for ms in (load.p50_ms, load.p95_ms, load.p99_ms)),
        ]
    return "| " + " | ".join([name, status, *figures, *rest]) + " |"


def page_table(bare: Load, results: Sequence[PageResult]) -> str:
    lines = [
        "| page | status | req/s | p50 ms | p95 ms | p99 ms | SQL/request | vs bare | misses |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|",
        table_row("bare Flask endpoint", "200", bare, "–", "100%", ""),
    ]
    for result in results:
        statuses = "/".join(str(status) for status in sorted(set(result.statuses)))
        ratio = f"{result.load.rps / bare.rps:.0%}" if result.load and bare.rps else "–"
        misses = ", ".join(f"**{miss}**" for miss in result.misses)
        queries = format_queries(result.queries)
        lines.append(table_row(f"`{result.path}`", statuses, result.load, queries, ratio, misses))
    return "\n".join(lines)


def operations_table(results: Sequence[OperationResult]) -> str:
    lines = ["| operation | seconds | budget | |", "|---|--:|--:|---|"]
    for result in results:
        budget = f"{result.budget_s:.0f} s" if result.budget_s is not None else "–"
        verdict = "ok" if result.ok else "**missed**"
        lines.append(f"| {result.name} | {result.seconds:.1f} | {budget} | {verdict} |")
    return "\n".join(lines)


def scale_growth(
    small: Mapping[str, PageResult], large: Sequence[PageResult]
) -> list[tuple[str, str, str]]:
    """Pages whose query count (cold or warm) is higher on the large demo than on the small."""
    grown = []
    for result in large:
        before = small.get(result.path)
        if before is None:
            continue
        span_small, span_large = query_range(before.queries), query_range(result.queries)
        if span_small and span_large and any(map(int.__gt__, span_large, span_small)):
            grown.append((result.path, *map(format_queries, (before.queries, result.queries))))
    return grown


def git_commit() -> str:
    completed = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=ROOT).returncode != 0
    return completed.stdout.strip() + ("+dirty" if dirty else "") or "unknown"


def save_results(report: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"bench-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path


# --- Main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10, help="demo scale (default 10)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument(
        "--database-url",
        help="database of the scaled demo (default: a fresh SQLite file); the scale-1 "
        "comparison uses a scratch database of the same kind",
    )
    parser.add_argument(
        "--pages", nargs="+", metavar="TEXT", help="only the pages whose path contains TEXT"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
    )
    args = parser.parse_args(argv)
    if args.scale < 1 or args.duration < 1 or args.connections < 1:
        parser.error("--scale, --duration and --connections must be positive")
    return args


def selected_pages(filters: Sequence[str] | None) -> list[Page]:
    pages = [page for page in PAGES if not filters or any(f in page.path for f in filters)]
    if not pages:
        raise BenchError(f"no page matches {' '.join(filters or [])}")
    return pages


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise BenchError(
            "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or see "
            "https://github.com/wg/wrk, then run `make bench` again"
        )


def measure_small_scale(
    pages: Sequence[Page], database_url: str | None, secret: str, work: Path
) -> dict[str, PageResult]:
    """Query counts on the scale-1 demo, to compare with the scaled one."""
    instance = work / "scale-1"
    instance.mkdir()
    with scratch_database(database_url, instance) as url:
        env = app_env(instance, url, secret)
        prepare_instance(env, 1)
        # One worker is enough here: nothing is timed, only queries are counted.
        with gunicorn("app-scale-1", "wsgi:app", ROOT, env, work, workers=1) as server:
            return {page.path: probe_page(server.port, page) for page in pages}


def bench(args: argparse.Namespace, work: Path) -> int:
    pages = selected_pages(args.pages)
    secret = secrets.token_hex(32)
    database = "PostgreSQL" if (args.database_url or "").startswith("postgres") else "SQLite"
    print(f"== Scale 1: query counts ({database})", flush=True)
    small = measure_small_scale(pages, args.database_url, secret, work)

    instance = work / f"scale-{args.scale}"
    instance.mkdir()
    database_url = args.database_url or f"sqlite:///{instance / 'app.db'}"
    env = app_env(instance, database_url, secret)
    print(f"== Scale {args.scale}: migrate and load the demo", flush=True)
    demo = prepare_instance(env, args.scale)
    print(f"   {demo.output}\n   took {demo.seconds:.1f} s (wall clock, target < 120 s)")

    bare_env = {key: value for key, value in os.environ.items() if key != "FLASK_DEBUG"}
    with (
        gunicorn("bare", "bare:app", BENCH_DIR, bare_env, work, WORKERS) as bare_server,
        gunicorn("app", "wsgi:app", ROOT, env, work, WORKERS) as app_server,
    ):
        bare, page_results = load_pages(args, pages, app_server, bare_server)
    operations = [demo, *(run_operation(env, operation) for operation in OPERATIONS)]
    grown = scale_growth(small, page_results)
    return report(args, database, bare, page_results, operations, grown)


def load_pages(
    args: argparse.Namespace, pages: Sequence[Page], app: Server, bare: Server
) -> tuple[Load, list[PageResult]]:
    """The bare endpoint first and last (averaged, to smooth drift), the pages in between."""
    duration, connections = args.duration, args.connections
    bare_url = f"http://127.0.0.1:{bare.port}/"
    print(f"== Load: {duration} s per page, {connections} connections", flush=True)
    first = run_wrk(bare_url, duration, connections)
    print(f"   bare endpoint: {first.rps:.0f} req/s", flush=True)
    results = []
    for page in pages:
        result = probe_page(app.port, page)
        if all(status == page.status for status in result.statuses):
            url = f"http://127.0.0.1:{app.port}{page.path}"
            result.load = run_wrk(url, duration, connections, page)
        rps = f"{result.load.rps:.0f} req/s" if result.load else f"status {result.statuses}"
        print(f"   {page.path}: {rps}", flush=True)
        results.append(result)
    last = run_wrk(bare_url, duration, connections)
    print(f"   bare endpoint again: {last.rps:.0f} req/s", flush=True)
    bare_load = average(first, last)
    for result in results:
        judge(result, bare_load.rps)
    return bare_load, results


def average(first: Load, last: Load) -> Load:
    """Both bare runs as one: total requests over total time, percentiles averaged."""
    return Load(
        requests=first.requests + last.requests,
        seconds=first.seconds + last.seconds,
        socket_errors=first.socket_errors + last.socket_errors,
        bad_statuses=first.bad_statuses + last.bad_statuses,
        p50_ms=(first.p50_ms + last.p50_ms) / 2,
        p95_ms=(first.p95_ms + last.p95_ms) / 2,
        p99_ms=(first.p99_ms + last.p99_ms) / 2,
    )


def report(
    args: argparse.Namespace,
    database: str,
    bare: Load,
    pages: Sequence[PageResult],
    operations: Sequence[OperationResult],
    grown: Sequence[tuple[str, str, str]],
) -> int:
    """Print the Markdown report and save the JSON; with --strict, a missed target fails."""
    commit = git_commit()
    print(
        f"\n### Benchmark: scale {args.scale}, {database}, gunicorn {WORKERS} workers, "
        f"wrk {args.connections} connections × {args.duration} s, {os.cpu_count()} CPUs, "
        f"commit {commit}\n"
    )
    print(page_table(bare, pages))
    print(f"\nTargets: ≥ {MIN_RATIO:.0%} of the bare endpoint's req/s, p95 ≤ {MAX_P95_MS:.0f} ms.")
    print("SQL/request: a range means cold and warm requests differ.\n")
    print(operations_table(operations))
    if grown:
        print(f"\nSQL queries that grow with the scale (scale 1 → scale {args.scale}):")
        for path, before, after in grown:
            print(f"- `{path}`: {before} → {after}")
    else:
        print(f"\nSQL queries per page: the same at scale 1 and scale {args.scale}.")
    saved = save_results(
        {
            "date": datetime.now(UTC).isoformat(),
            "commit": commit,
            "settings": {**vars(args), "database": database, "workers": WORKERS},
            "cpus": os.cpu_count(),
            "targets": {"min_ratio": MIN_RATIO, "max_p95_ms": MAX_P95_MS},
            "bare": {**asdict(bare), "rps": bare.rps},
            "pages": [page_json(page, bare) for page in pages],
            "operations": [asdict(operation) for operation in operations],
            "queries_growing_with_scale": [list(row) for row in grown],
        }
    )
    print(f"\nResults saved to {saved.relative_to(ROOT)}")
    missed = any(page.misses for page in pages) or grown or not all(o.ok for o in operations)
    return 1 if missed and args.strict else 0


def page_json(page: PageResult, bare: Load) -> dict[str, Any]:
    data = asdict(page)
    if page.load:
        data["load"]["rps"] = page.load.rps
        data["ratio"] = page.load.rps / bare.rps if bare.rps else None
    return data


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl+C, so the `finally` blocks stop every server we started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        require_wrk()
        with tempfile.TemporaryDirectory(prefix="bench-") as work:
            return bench(args, Path(work))
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
