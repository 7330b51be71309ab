"""Processes and measurements for bench/run.py: gunicorn servers, the Flask CLI, wrk, probes.

Nothing here knows the pages or the targets; run.py does.
"""

from __future__ import annotations

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
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
LUA_SCRIPT = BENCH_DIR / "latency.lua"
READY_TIMEOUT_S = 60.0
WARM_UP_REQUESTS = 10  # enough for both workers to open their database connection

Headers = Sequence[tuple[str, str]]


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


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
    cpu_ms: float | None = None  # CPU time of the server's workers per request

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def combine(loads: Sequence[Load]) -> Load:
    """Several runs as one: total requests over total time; percentiles are averaged."""
    count = len(loads)
    cpus = [load.cpu_ms for load in loads if load.cpu_ms is not None]
    return Load(
        requests=sum(load.requests for load in loads),
        seconds=sum(load.seconds for load in loads),
        socket_errors=sum(load.socket_errors for load in loads),
        bad_statuses=sum(load.bad_statuses for load in loads),
        p50_ms=sum(load.p50_ms for load in loads) / count,
        p95_ms=sum(load.p95_ms for load in loads) / count,
        p99_ms=sum(load.p99_ms for load in loads) / count,
        cpu_ms=sum(cpus) / count if len(cpus) == count else None,
    )


# --- Processes -----------------------------------------------------------------------------------


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
    try:
        completed = subprocess.run(
            command, env=dict(env), cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:  # run() has killed it already
        raise BenchError(f"`flask {' '.join(args)}` took more than {timeout:.0f} s") from error
    if completed.returncode != 0:
        raise BenchError(f"`flask {' '.join(args)}` failed:\n{completed.stdout}{completed.stderr}")
    return completed.stdout.strip()


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise BenchError(
            "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or see "
            "https://github.com/wg/wrk, then run `make bench` again"
        )


# --- Instances of the app ------------------------------------------------------------------------


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


# --- Measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    status: int
    queries: int | None


def fetch(port: int, path: str, headers: Headers = ()) -> Probe:
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


def server_cpu_seconds(server: Server) -> float | None:
    """CPU time used so far by the server's master and workers (its process group), on Linux.

    It moves less than req/s when other programs compete for the CPU (not zero: they still
    evict caches), so it helps to read a run made on a busy machine.
    """
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (command)"
            if int(fields[2]) == server.process.pid:  # pgrp
                ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK") if ticks else None


def load_server(
    server: Server, path: str, duration: int, connections: int, headers: Headers = ()
) -> Load:
    """Load a URL of `server` with wrk, and count the CPU its workers spent meanwhile."""
    before = server_cpu_seconds(server)
    load = run_wrk(f"http://127.0.0.1:{server.port}{path}", duration, connections, headers)
    after = server_cpu_seconds(server)
    if before is not None and after is not None and load.requests:
        load.cpu_ms = (after - before) * 1000 / load.requests
    return load


def run_wrk(url: str, duration: int, connections: int, headers: Headers = ()) -> Load:
    """Load one URL with wrk; the Lua hook prints the exact percentiles as JSON."""
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s"]
    command += ["--timeout", "5s", "-s", str(LUA_SCRIPT)]
    for name, value in headers:
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
