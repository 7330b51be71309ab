"""`flask --app consultation jury ...`: the citizen jury's selection probabilities."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from consultation.core.errors import DomainError
from consultation.jury.allocation import Allocation, Progress
from consultation.jury.legacy import DEFAULT_DRAWS, LegacyFailed, legacy
from consultation.jury.leximin import Distribution, leximin
from consultation.jury.pool import Pool, read_pool

jury_cli = AppGroup("jury", help="The citizen jury: selection probabilities and the draw.")

PROBABILITY_COLUMN = "probability"


@contextmanager
def _progress_bar(label: str) -> Iterator[Progress]:
    """A progress callback that opens a click progress bar on its first call."""
    state: dict[str, Any] = {}

    def report(done: int, total: int) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr)
            state["bar"].__enter__()
            state["done"] = 0
        state["bar"].update(done - state["done"])
        state["done"] = done

    try:
        yield report
    finally:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)


def _solve(pool: Pool, size: int, algorithm: str, draws: int, seed: int) -> Allocation:
    """Run the chosen method with a progress bar; input problems become click errors."""
    label = "LEXIMIN: types fixed" if algorithm == "leximin" else "LEGACY: panels drawn"
    try:
        with _progress_bar(label) as progress:
            if algorithm == "leximin":
                return leximin(pool, size, progress)
            return legacy(pool, size, draws, seed, progress)
    except (DomainError, LegacyFailed) as error:
        raise click.ClickException(str(error)) from None


def write_probabilities(pool: Pool, allocation: Allocation, out: Path) -> None:
    """Write the respondents' rows, in order, with their probability as a last column."""
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=pool.delimiter, lineterminator="\n")
        writer.writerow([*pool.columns, PROBABILITY_COLUMN])
        for member, probability in zip(pool.members, allocation.member_probabilities, strict=True):
            writer.writerow([*(member.row[c] for c in pool.columns), f"{probability:.9f}"])


@jury_cli.command("distribution")
@click.option(
    "--categories",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The quotas: categories.csv (category,feature,min,max).",
)
@click.option(
    "--respondents",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The pool: respondents.csv, one row per member, one column per category.",
)
@click.option("--size", "-k", required=True, type=int, help="The panel size k.")
@click.option(
    "--algorithm",
    type=click.Choice(["leximin", "legacy"]),
    default="leximin",
    show_default=True,
    help="LEXIMIN (fair, exact) or LEGACY (the greedy draw, estimated by Monte-Carlo).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The CSV file to write: the respondents' rows with a probability column.",
)
@click.option("--draws", default=DEFAULT_DRAWS, show_default=True, help="LEGACY: panels drawn.")
@click.option("--seed", default=0, show_default=True, help="LEGACY: the random seed.")
def distribution(
    categories: Path,
    respondents: Path,
    size: int,
    algorithm: str,
    out: Path,
    draws: int,
    seed: int,
) -> None:
    """Compute each respondent's probability of selection for a panel of the given size,
    and write them next to the respondents' rows."""
    if draws < 1:
        raise click.BadParameter("must be at least 1", param_hint="--draws")
    try:
        pool = read_pool(categories, respondents)
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    allocation = _solve(pool, size, algorithm, draws, seed)
    try:
        write_probabilities(pool, allocation, out)
    except OSError as error:
        raise click.ClickException(f"Cannot write {out}: {error.strerror}") from None
    _report(allocation, out)


def _report(allocation: Allocation, out: Path) -> None:
    click.echo(f"{allocation.algorithm.upper()} for a panel of {allocation.k} among {allocation.n}")
    click.echo(f"minimum probability: {allocation.minimum:.4%}")
    click.echo(f"maximum probability: {allocation.maximum:.4%}")
    click.echo(f"k/n: {allocation.mean:.4%}")
    if isinstance(allocation, Distribution):
        click.echo(f"panels in the lottery: {len(allocation.panels)}")
    click.echo(f"time: {allocation.seconds:.2f} s")
    click.echo(f"Wrote {allocation.n} rows to {out}.")


@jury_cli.command("verify")
@click.argument("log_file", type=click.Path(dir_okay=False, path_type=Path))
def verify(log_file: Path) -> None:
    """Recompute a published ballot log: its hash chain, its replacements and its tally."""
    from consultation.jury.ballots import verify_log

    try:
        data = json.loads(log_file.read_text(encoding="utf-8"))
    except OSError as error:
        raise click.ClickException(f"Cannot read {log_file}: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"{log_file} is not a valid JSON file: {error}") from None
    result = verify_log(data)
    if result.tally is not None and result.head is not None:
        if result.ok:
            click.echo(f"chain OK: {result.entries} entries, head {result.head}")
        for row in result.tally["items"]:
            verdict = "adopted" if row["adopted"] else "not adopted"
            if not row["quorum_reached"]:
                verdict += " (no quorum)"
            click.echo(
                f"{row['label']}: pour {row['pour']}, contre {row['contre']}, "
                f"abstention {row['abstention']}: {verdict}"
            )
    if not result.ok:
        click.echo(f"{len(result.problems)} problem(s) found:", err=True)
        for problem in result.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(1)
