"""`flask --app consultation jury ...`: selection probabilities, log verification, benchmarks."""

from __future__ import annotations

import csv
import hashlib
import json
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import insert, select

from consultation.core.errors import DomainError
from consultation.core.models import utcnow
from consultation.extensions import db
from consultation.jury.allocation import Allocation, Progress
from consultation.jury.legacy import DEFAULT_DRAWS, LegacyFailed, legacy
from consultation.jury.leximin import Distribution, leximin
from consultation.jury.models import Ballot, BallotLogEntry, Choice, VotingRound
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


@jury_cli.command("replay")
@click.argument("draw_file", type=click.Path(dir_okay=False, path_type=Path))
def replay(draw_file: Path) -> None:
    """Replay a draw from its public data: check the pool's checksum and the seed's commitment,
    then print the references of the members the seed selects."""
    from consultation.jury.draw import replay_draw

    try:
        data = json.loads(draw_file.read_text(encoding="utf-8"))
    except OSError as error:
        raise click.ClickException(f"Cannot read {draw_file}: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"{draw_file} is not a valid JSON file: {error}") from None
    try:
        references = replay_draw(data)
    except DomainError as error:
        raise click.ClickException(str(error.message)) from None
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as error:
        raise click.ClickException(f"{draw_file} is not the data of a draw: {error!r}") from None
    click.echo(
        f"draw OK: pool checksum and seed commitment match; panel {data['panel_index']} "
        f"of {len(data['distribution']['panels'])}, {len(references)} members selected:"
    )
    for reference in references:
        click.echo(reference)


@jury_cli.command("purge")
@click.argument("slug")
def purge(slug: str) -> None:
    """Once the consultation is archived, erase the personal data its archive does not need:
    the jury pool's contact data, the jurors' invitation addresses, the debates' registrations
    and the rounds' secret keys, after which no ballot can be linked to a juror. The draws'
    public data, the ballot logs and the results stay. Running it again erases nothing more."""
    from consultation.consultations.models import Consultation
    from consultation.jury.retention import purge_consultation

    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise click.ClickException(f"No consultation has the slug {slug!r}.")
    try:
        summary = purge_consultation(consultation, None, utcnow())
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    if not summary.total:
        click.echo(f"Nothing to purge in {slug}: its personal data was purged already.")
        return
    click.echo(f"Purged the personal data of {slug}:")
    click.echo(f"  jury pool contacts erased: {summary.contacts}")
    click.echo(f"  juror invitation addresses erased: {summary.invitations}")
    click.echo(f"  debate registrations anonymised: {summary.registrations}")
    click.echo(
        f"  ballot secret keys erased: {summary.secret_keys} "
        "(ballots can no longer be linked to jurors)"
    )


@jury_cli.command("bench")
@click.option("--jurors", default=300, show_default=True, help="Jurors who vote on every item.")
@click.option("--articles", default=300, show_default=True, help="Articles of the voted text.")
def bench(jurors: int, articles: int) -> None:
    """Time the tally and the log verification of a round where every juror voted on every
    article and on the whole text; the round lives in a transaction that is rolled back."""
    from consultation.jury.ballots import (
        entry_hash,
        export_log,
        genesis_hash,
        receipt_hash,
        tally,
        verify_log,
    )

    if jurors < 1 or articles < 1:
        raise click.BadParameter("jurors and articles must be at least 1")
    started = time.perf_counter()
    voting_round, items = _bench_round(articles)
    ballots, entries = [], []
    head = genesis_hash(
        voting_round.number,
        voting_round.consultation.slug,
        voting_round.bill_version.number,
        voting_round.bill_version.checksum,
    )
    choices = list(Choice)
    for voter in range(jurors):
        key = hashlib.sha256(f"bench voter {voter}".encode()).hexdigest()
        for item in items:
            choice = choices[(voter + item) % 7 % 3]  # a mix, mostly pour
            receipt = receipt_hash(f"{key}:{item}")
            seq = len(entries) + 1
            entry = {
                "seq": seq,
                "round": voting_round.number,
                "article": item,
                "choice": choice.value,
                "receipt_hash": receipt,
                "replaces": None,
            }
            previous, head = head, entry_hash(head, entry)
            ballots.append(
                {
                    "round_id": voting_round.id,
                    "voter_key": key,
                    "item": item,
                    "choice": choice,
                    "receipt_hash": receipt,
                    "casts": 1,
                }
            )
            entries.append(
                {
                    "round_id": voting_round.id,
                    "seq": seq,
                    "item": item,
                    "choice": choice,
                    "receipt_hash": receipt,
                    "replaces": None,
                    "previous_hash": previous,
                    "entry_hash": head,
                }
            )
    db.session.execute(insert(Ballot), ballots)
    db.session.execute(insert(BallotLogEntry), entries)
    voting_round.log_length, voting_round.log_head = len(entries), head
    db.session.flush()
    click.echo(
        f"setup: {len(ballots)} ballots and log entries written in "
        f"{time.perf_counter() - started:.1f} s ({jurors} jurors × {len(items)} items)"
    )
    started = time.perf_counter()
    results = tally(voting_round)
    tally_s = time.perf_counter() - started
    click.echo(f"tally: {tally_s * 1000:.0f} ms for {len(results['items'])} items (target < 1 s)")
    voting_round.results = results
    started = time.perf_counter()
    published = export_log(voting_round)
    export_s = time.perf_counter() - started
    started = time.perf_counter()
    verification = verify_log(published)
    verify_s = time.perf_counter() - started
    db.session.rollback()
    if not verification.ok:
        raise click.ClickException(f"the log does not verify: {verification.problems[:3]}")
    click.echo(
        f"log verification: {verify_s * 1000:.0f} ms for {verification.entries} entries, "
        f"chain and tally recomputed (target < 1 s); reading the log: {export_s * 1000:.0f} ms"
    )


def _bench_round(articles: int) -> tuple[VotingRound, list[int]]:
    """A throwaway consultation whose bill of `articles` articles is frozen and put to a vote."""
    from consultation.bill.models import Article, Bill
    from consultation.bill.versions import create_version
    from consultation.consultations.models import Consultation, Phase
    from consultation.jury.ballots import open_round, round_items

    now = utcnow()
    consultation = Consultation(
        slug=f"bench-jury-{secrets.token_hex(4)}", title="Bench", phase=Phase.JURY
    )
    db.session.add(consultation)
    db.session.flush()
    bill = Bill(consultation_id=consultation.id, title="Bench", preamble="")
    bill.articles = [
        Article(position=index, body=f"Article de banc d'essai {index}.")
        for index in range(articles)
    ]
    db.session.add(bill)
    db.session.flush()
    version = create_version(bill, "bench", None, now)
    voting_round = open_round(
        consultation, version, now - timedelta(hours=1), now + timedelta(hours=1), 50, 50, None, now
    )
    return voting_round, [item for item, _label in round_items(voting_round)]
