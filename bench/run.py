"""`make bench`: load each public page of a scaled demo and compare it with a bare Flask endpoint.

Both apps are served by gunicorn the same way in the same run, so the ratio of their request
rates says how much the application costs, whatever the machine. See bench/README.md.

To add a page or an operation, append to PAGES or OPERATIONS just below.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jury_votes
import load as load_test
from harness import (
    BENCH_DIR,
    ROOT,
    BenchError,
    Load,
    Server,
    app_env,
    combine,
    fetch,
    gunicorn,
    load_server,
    require_wrk,
    run_flask,
    scratch_database,
)

# What browsers and calendar clients send; the bare endpoint gets the same.
CLIENT_HEADERS: tuple[tuple[str, str], ...] = (("Accept-Encoding", "gzip, deflate"),)


@dataclass(frozen=True)
class Page:
    """A public URL loaded with wrk; `status` is the answer it must give (anything else: 500...)."""

    path: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = CLIENT_HEADERS


@dataclass(frozen=True)
class Operation:
    """A `flask --app consultation ...` command timed once on the scaled demo, after the pages."""

    name: str
    flask_args: tuple[str, ...]
    budget_s: float
    requires: Path | None = None  # an input outside the repository; skipped when absent


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
    # Regional debates (issue 3)
    Page("/consultations/utiles-ensemble-2/debats"),
    Page("/consultations/utiles-ensemble-2/debats?region=52"),
    Page("/consultations/utiles-ensemble-2/debats/carte"),
    Page("/consultations/utiles-ensemble-2/debats.ics"),
    Page("/consultations/consultation-ouverte/debats/calendrier"),
    Page("/api/v1/consultations/utiles-ensemble-2/debates"),
    # Proposals (issue 4): the list with a search and filters, the bare list, one proposal (the
    # demo inserts the historical consultation's proposals first: number 1 exists at any scale).
    Page(
        "/consultations/utiles-ensemble-2/propositions?q=logements&theme=produire&source=organisme"
    ),
    Page("/consultations/utiles-ensemble-2/propositions"),
    Page("/consultations/utiles-ensemble-2/propositions/1"),
    # The draft bill (issue 5): the current draft with its sources (300 articles at scale 10),
    # a frozen version, the differences between the demo's two versions, and the API.
    Page("/consultations/utiles-ensemble-2/texte"),
    Page("/consultations/utiles-ensemble-2/texte/versions/1"),
    Page("/consultations/utiles-ensemble-2/texte/versions/1/diff/2"),
    Page("/api/v1/consultations/utiles-ensemble-2/bill"),
    # The citizen jury and the final text (target: at least 25% of the bare endpoint's rate).
    Page("/consultations/utiles-ensemble-2/jury"),
    Page("/consultations/utiles-ensemble-2/jury/scrutins/1"),
    Page("/api/v1/consultations/utiles-ensemble-2/jury"),
    Page("/consultations/utiles-ensemble-2/texte-final"),
    Page("/consultations/utiles-ensemble-2/texte-final/envois"),
]

HISTORICAL = "utiles-ensemble-2"
BILL_BENCH = "bill: freeze 300 articles, render a diff"
JURY_BENCH = "jury distribution: LEXIMIN, n = 2000, k = 200"
BALLOTS_BENCH = "jury: tally and log verification, 300 jurors × 300 articles"
EXPORT_BENCH = "final text: every format, 300 articles and 20,000 proposals in its annex"
# The shared instance of Flanigan et al. (Nature 2021), read in place next to the checkout.
SORTITION_LARGE = ROOT.parent / "shared" / "data" / "sortition" / "example_large_200"

# `{work}` in an argument is the run's scratch folder, where `write_inputs` puts input files.
OPERATIONS: list[Operation] = [
    Operation(
        "import 20,000 proposals (CSV)",
        ("proposals", "import", "consultation-ouverte", "{work}/propositions-20000.csv"),
        budget_s=20.0,
    ),
    # Times freezing the historical bill as it stands (300 articles at scale 10, target < 2 s)
    # and rendering the diff page between its two versions (target < 500 ms); the command
    # prints both and saves nothing. The budget covers the whole command, start-up included.
    Operation(BILL_BENCH, ("bill", "bench", HISTORICAL), budget_s=10.0),
    # The jury's selection probabilities (issue "The citizen jury"): LEXIMIN on the pool of
    # 2,000 for a panel of 200; the command prints the minimum, maximum, k/n and its own time.
    Operation(
        JURY_BENCH,
        (
            "jury",
            "distribution",
            "--categories",
            str(SORTITION_LARGE / "categories.csv"),
            "--respondents",
            str(SORTITION_LARGE / "respondents.csv"),
            "--size",
            "200",
            "--algorithm",
            "leximin",
            "--out",
            "{work}/jury-probabilities.csv",
        ),
        budget_s=30.0,
        requires=SORTITION_LARGE,
    ),
    # The tally and the verification of the ballot log of a round where 300 jurors voted on
    # 300 articles and the whole text (targets: under 1 s each); nothing is saved.
    Operation(
        BALLOTS_BENCH, ("jury", "bench", "--jurors", "300", "--articles", "300"), budget_s=60.0
    ),
    # The final text of 300 articles citing 20,000 proposals, in each format (issue "The final
    # text": PDF under 10 s, the others under 2 s, memory under 500 MB); nothing is saved.
    Operation(EXPORT_BENCH, ("export", "bench"), budget_s=40.0),
]
IMPORT_ROWS = 20_000
REPORTED_OUTPUTS = {
    BILL_BENCH,
    JURY_BENCH,
    BALLOTS_BENCH,
    EXPORT_BENCH,
    jury_votes.NAME,
}  # operations whose output the report quotes
# Organisations and a theme of the demo (consultation/demo/services.py), as the file names them.
IMPORT_ORGANISATIONS = (
    "Habitat Pays de la Loire (fictif)",
    "Logis Bretagne (fictif)",
    "Commission Politiques sociales (fictive)",
    "Conseil social de l'USH",
)

# Targets of issue 2, "Performance".
MIN_RATIO = 0.40
MAX_P95_MS = 30.0
DEMO_LOAD_BUDGET_S = 120.0  # at --scale 10

WORKERS = 2
RESULTS_DIR = BENCH_DIR / "results"
PROBES_PER_PAGE = 3  # the first may find cold caches, the others show the steady state


@dataclass
class PageResult:
    """What we learnt about one page: probes (status, SQL count), then the load under wrk."""

    path: str
    expected_status: int
    statuses: list[int]
    queries: list[int | None]
    load: Load | None = None
    bare: Load | None = None  # the bare endpoint, loaded just before this page
    misses: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.load is None or self.bare is None or not self.bare.rps:
            return None
        return self.load.rps / self.bare.rps


@dataclass
class OperationResult:
    """One timed command, against its budget."""

    name: str
    seconds: float
    budget_s: float | None
    ok: bool
    output: str


def prepare_instance(env: Mapping[str, str], scale: int) -> OperationResult:
    """Migrate and load the demo; the load is timed since it has its own target."""
    run_flask(env, "db", "upgrade")
    started = time.perf_counter()
    output = run_flask(env, "demo", "load", "--scale", str(scale))
    elapsed = time.perf_counter() - started
    budget = DEMO_LOAD_BUDGET_S if scale <= 10 else None
    ok = budget is None or elapsed <= budget
    return OperationResult(f"demo load --scale {scale}", elapsed, budget, ok, output)


def probe_page(port: int, page: Page) -> PageResult:
    """Fetch a page a few times: the status to check, and its SQL queries (cold and warm)."""
    probes = [fetch(port, page.path, page.headers) for _ in range(PROBES_PER_PAGE)]
    return PageResult(
        path=page.path,
        expected_status=page.status,
        statuses=[probe.status for probe in probes],
        queries=[probe.queries for probe in probes],
    )


def judge(result: PageResult) -> None:
    """Name the targets the page misses."""
    if any(status != result.expected_status for status in result.statuses):
        result.misses.append(f"status (expected {result.expected_status})")
    if None in result.queries:
        result.misses.append("no X-Query-Count")
    load = result.load
    if load is None:
        return
    if result.ratio is not None and result.ratio < MIN_RATIO:
        result.misses.append(f"ratio < {MIN_RATIO:.0%}")
    if load.p95_ms > MAX_P95_MS:
        result.misses.append(f"p95 > {MAX_P95_MS:.0f} ms")
    if load.socket_errors or load.bad_statuses:
        result.misses.append(f"{load.socket_errors + load.bad_statuses} errors")


def write_inputs(work: Path) -> None:
    """The input files of OPERATIONS: a spreadsheet of IMPORT_ROWS proposals as Excel writes it
    in France (semicolons, Windows-1252). Its titles carry a token of the run, so that a
    database kept between runs (--database-url) takes them again."""
    token = secrets.token_hex(3)
    lines = ["titre;résumé;texte;exposé des motifs;thème;organisation;date de dépôt"]
    for number in range(IMPORT_ROWS):
        organisation = IMPORT_ORGANISATIONS[number % len(IMPORT_ORGANISATIONS)]
        lines.append(
            f"Proposition importée {token}-{number};"
            "Relancer la construction de logements sociaux.;"
            f"Porter la production à {100_000 + number} logements sociaux par an, en "
            "priorité dans les zones tendues, par une loi de programmation.;"
            "Plus de 2,2 millions de ménages attendent un logement social.;"
            f"produire;{organisation};15/01/2022"
        )
    (work / "propositions-20000.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def vote_load(work: Path, database_url: str | None) -> list[OperationResult]:
    """100 jurors voting at once on PostgreSQL (bench/jury_votes.py): one row, judged on its
    own targets (no ballot lost, p95 of a vote under 200 ms); none when PostgreSQL is absent."""
    return _judged_run(jury_votes.NAME, lambda: jury_votes.run(work, database_url))


def two_servers_load(work: Path, database_url: str | None) -> list[OperationResult]:
    """200 visitors and 100 jurors on two app servers (bench/load.py): one row, judged on its
    own targets (no error, no ballot lost or doubled); none without PostgreSQL and Redis."""
    return _judged_run(load_test.NAME, lambda: load_test.run(work, database_url))


def _judged_run(name: str, run: Callable[[], Any]) -> list[OperationResult]:
    """A bench of its own as one row of the operations: `run` returns None when it skipped,
    else a result with `ok` and `summary()`."""
    print(f"== {name}", flush=True)
    started = time.perf_counter()
    try:
        result = run()
    except BenchError as error:
        return [OperationResult(name, time.perf_counter() - started, None, False, str(error))]
    if result is None:
        return []
    elapsed = time.perf_counter() - started
    return [OperationResult(name, elapsed, None, result.ok, result.summary())]


def runnable(operations: Sequence[Operation]) -> list[Operation]:
    """The operations whose outside input is there; the others are skipped, with a message."""
    kept = []
    for operation in operations:
        if operation.requires is not None and not operation.requires.exists():
            print(f"   skipped {operation.name}: {operation.requires} is missing", flush=True)
            continue
        kept.append(operation)
    return kept


def run_operation(env: Mapping[str, str], operation: Operation, work: Path) -> OperationResult:
    started = time.perf_counter()
    try:
        args = tuple(arg.format(work=work) for arg in operation.flask_args)
        output, ok = run_flask(env, *args), True
    except BenchError as error:
        output, ok = str(error), False
    elapsed = time.perf_counter() - started
    ok = ok and elapsed <= operation.budget_s
    return OperationResult(operation.name, elapsed, operation.budget_s, ok, output)


# --- Report --------------------------------------------------------------------------------------


def query_range(queries: Sequence[int | None]) -> tuple[int, int] | None:
    known = [count for count in queries if count is not None]
    return (min(known), max(known)) if known else None


def format_queries(queries: Sequence[int | None]) -> str:
    span = query_range(queries)
    if span is None:
        return "?"
    return str(span[0]) if span[0] == span[1] else f"{span[0]}–{span[1]}"


def table_row(
    name: str, status: str, load: Load | None, queries: str, ratio: str, misses: str
) -> str:
    """A Markdown row of the page table."""
    rps = p50 = p95 = p99 = cpu = "–"
    if load is not None:
        rps = f"{load.rps:.0f}"
        p50, p95, p99 = (f"{ms:.1f}" for ms in (load.p50_ms, load.p95_ms, load.p99_ms))
        cpu = f"{load.cpu_ms:.2f}" if load.cpu_ms is not None else "–"
    cells = [name, status, rps, p50, p95, p99, queries, cpu, ratio, misses]
    return "| " + " | ".join(cells) + " |"


def page_table(bare: Load, results: Sequence[PageResult]) -> str:
    lines = [
        "| page | status | req/s | p50 ms | p95 ms | p99 ms | SQL/request | CPU ms/request "
        "| vs bare | misses |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|---|",
        table_row("bare Flask endpoint", "200", bare, "–", "100%", ""),
    ]
    for result in results:
        statuses = "/".join(str(status) for status in sorted(set(result.statuses)))
        # Rounded down, so that a page flagged below 40% never reads "40%".
        ratio = f"{math.floor(result.ratio * 100)}%" if result.ratio is not None else "–"
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
        small_span, large_span = query_range(before.queries), query_range(result.queries)
        if small_span is None or large_span is None:
            continue
        if large_span[0] > small_span[0] or large_span[1] > small_span[1]:
            grown.append(
                (result.path, format_queries(before.queries), format_queries(result.queries))
            )
    return grown


def git_commit() -> str:
    """The commit measured; `+dirty` when the working tree has uncommitted changes."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    if head.returncode != 0:
        return "unknown"
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=ROOT).returncode != 0
    return head.stdout.strip() + ("+dirty" if dirty else "")


def save_results(report: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"bench-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path


# --- Main ----------------------------------------------------------------------------------------


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
    parser.add_argument(
        "--skip-jury-votes",
        action="store_true",
        help="leave out the 100 jurors voting at once (bench/jury_votes.py, about a minute)",
    )
    parser.add_argument(
        "--skip-load",
        action="store_true",
        help="leave out the load test of two app servers (bench/load.py, about three minutes)",
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


def measure_small_scale(
    pages: Sequence[Page], database_url: str | None, secret: str, work: Path
) -> dict[str, PageResult]:
    """Query counts on the scale-1 demo, to compare with the scaled one."""
    instance = work / "small"
    instance.mkdir()
    with scratch_database(database_url, instance) as url:
        env = app_env(instance, url, secret)
        prepare_instance(env, 1)
        # One worker is enough here: nothing is timed, only queries are counted.
        with gunicorn("app-scale-1", "wsgi:app", ROOT, env, work, workers=1) as server:
            return {page.path: probe_page(server.port, page) for page in pages}


def warn_if_busy() -> float:
    """Other processes steal CPU from the servers and wrk alike, and the figures get noisy."""
    load = os.getloadavg()[0]
    cpus = os.cpu_count() or 1
    if load > cpus / 2:
        print(f"bench: warning: load average {load:.1f} on {cpus} CPUs, figures will be noisy")
    return load


def bench(args: argparse.Namespace, work: Path) -> int:
    pages = selected_pages(args.pages)
    load_before = warn_if_busy()
    secret = secrets.token_hex(32)
    database = "PostgreSQL" if (args.database_url or "").startswith("postgres") else "SQLite"
    print(f"== Scale 1: query counts ({database})", flush=True)
    small = measure_small_scale(pages, args.database_url, secret, work)

    instance = work / "scaled"
    instance.mkdir()
    database_url = args.database_url or f"sqlite:///{instance / 'app.db'}"
    env = app_env(instance, database_url, secret)
    print(f"== Scale {args.scale}: migrate and load the demo", flush=True)
    demo = prepare_instance(env, args.scale)
    target = f", target < {demo.budget_s:.0f} s" if demo.budget_s else ""
    print(f"   {demo.output}\n   took {demo.seconds:.1f} s (wall clock{target})", flush=True)

    bare_env = {key: value for key, value in os.environ.items() if key != "FLASK_DEBUG"}
    with (
        gunicorn("bare", "bare:app", BENCH_DIR, bare_env, work, WORKERS) as bare_server,
        gunicorn("app", "wsgi:app", ROOT, env, work, WORKERS) as app_server,
    ):
        bare, page_results = load_pages(args, pages, app_server, bare_server)
    write_inputs(work)
    operations = [demo, *(run_operation(env, op, work) for op in runnable(OPERATIONS))]
    if not args.skip_jury_votes:
        operations.extend(vote_load(work, args.database_url))
    if not args.skip_load:
        operations.extend(two_servers_load(work, args.database_url))
    grown = scale_growth(small, page_results)
    machine = {"cpus": os.cpu_count(), "load_before": load_before, "load_after": warn_if_busy()}
    return report(args, database, machine, bare, page_results, operations, grown)


def load_pages(
    args: argparse.Namespace, pages: Sequence[Page], app: Server, bare: Server
) -> tuple[Load, list[PageResult]]:
    """Load each page right after a shorter run of the bare endpoint, and compare the two.

    Pairing them means both see the same background load, which drifts on a shared machine.
    """
    duration, connections = args.duration, args.connections
    bare_seconds = max(2, duration // 3)
    print(f"== Load: {duration} s per page, {connections} connections", flush=True)
    results = []
    for page in pages:
        result = probe_page(app.port, page)
        if all(status == page.status for status in result.statuses):
            result.bare = load_server(bare, "/", bare_seconds, connections, CLIENT_HEADERS)
            result.load = load_server(app, page.path, duration, connections, page.headers)
        judge(result)
        print(f"   {page.path}: {progress(result)}", flush=True)
        results.append(result)
    samples = [result.bare for result in results if result.bare is not None]
    return combine(samples or [load_server(bare, "/", duration, connections)]), results


def progress(result: PageResult) -> str:
    if result.load is None or result.bare is None:
        return f"status {result.statuses}, not loaded"
    return f"{result.load.rps:.0f} req/s, bare endpoint {result.bare.rps:.0f} req/s"


def report(
    args: argparse.Namespace,
    database: str,
    machine: Mapping[str, Any],
    bare: Load,
    pages: Sequence[PageResult],
    operations: Sequence[OperationResult],
    grown: Sequence[tuple[str, str, str]],
) -> int:
    """Print the Markdown report and save the JSON; with --strict, a missed target fails."""
    commit = git_commit()
    print(
        f"\n### Benchmark: scale {args.scale}, {database}, gunicorn {WORKERS} workers, "
        f"wrk {args.connections} connections × {args.duration} s, {machine['cpus']} CPUs "
        f"(load average {machine['load_before']:.1f} → {machine['load_after']:.1f}), "
        f"commit {commit}\n"
    )
    print(page_table(bare, pages))
    print(f"\nTargets: ≥ {MIN_RATIO:.0%} of the bare endpoint's req/s, p95 ≤ {MAX_P95_MS:.0f} ms.")
    print(
        "vs bare: req/s of the page over req/s of the bare endpoint loaded just before it; "
        "the bare row sums all its runs.\nSQL/request: a range means cold and warm requests "
        "differ.\nCPU ms/request: CPU time of the server's workers per request, steadier than "
        "req/s on a busy machine.\n"
    )
    print(operations_table(operations))
    # Commands that time their own inner steps (`bill bench`) print them: show those lines.
    for operation in operations:
        if operation.name in REPORTED_OUTPUTS and operation.output.strip():
            lines = operation.output.strip().splitlines()
            print(f"\n{operation.name}:\n" + "\n".join(f"- {line}" for line in lines))
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
            "machine": machine,
            "targets": {"min_ratio": MIN_RATIO, "max_p95_ms": MAX_P95_MS},
            "bare": {**asdict(bare), "rps": bare.rps},
            "pages": [page_json(page) for page in pages],
            "operations": [asdict(operation) for operation in operations],
            "queries_growing_with_scale": [list(row) for row in grown],
        }
    )
    print(f"\nResults saved to {saved.relative_to(ROOT)}")
    missed = any(page.misses for page in pages) or grown or not all(o.ok for o in operations)
    return 1 if missed and args.strict else 0


def page_json(page: PageResult) -> dict[str, Any]:
    data = asdict(page)
    for key in ("load", "bare"):
        if data[key] is not None:
            data[key]["rps"] = getattr(page, key).rps
    data["ratio"] = page.ratio
    return data


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM unwinds like Ctrl+C, so the `finally` blocks stop every server we started.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
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
