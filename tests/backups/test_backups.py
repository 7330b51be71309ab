"""`backup create` takes a consistent online backup while the app writes, and `backup restore`
brings back exactly that state, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import threading
import time

from sqlalchemy import func, select

from consultation.accounts.models import Organisation, User
from consultation.consultations.models import Consultation
from consultation.proposals import search
from consultation.proposals.models import Proposal, ProposalStatus
from tests import factories
from tests.proposals.helpers import make_proposal

WRITER = "Writer {}"


def _wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the writer thread made no progress"
        time.sleep(0.01)


def test_backup_while_writing_restores_every_committed_row_and_no_half_transaction(
    app, db, backup, tmp_path
):
    # Each of the writer's transactions adds an organisation and its member, numbered in order.
    committed: list[int] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def write() -> None:
        with app.app_context():
            try:
                number = 0
                while not stop.is_set():
                    number += 1
                    organisation = factories.make_organisation(name=WRITER.format(number))
                    factories.make_user(
                        organisation=organisation, email=f"writer{number}@example.org"
                    )
                    db.session.commit()
                    committed.append(number)
            except BaseException as error:
                failures.append(error)
            finally:
                db.session.remove()

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        _wait_for(lambda: len(committed) >= 20 or failures)
        before = len(committed)  # committed before the backup started
        result = backup("create", "--out", str(tmp_path / "online.backup"))
        after = len(committed)  # committed before it ended
        _wait_for(lambda: len(committed) >= after + 10 or failures)
    finally:
        stop.set()
        writer.join(30)
    assert not writer.is_alive() and not failures, failures
    assert result.exit_code == 0, result.output
    total = len(committed)

    result = backup("restore", str(tmp_path / "online.backup"), "--yes")
    assert result.exit_code == 0, result.output

    organisations = {
        int(name.split()[1])
        for name in db.session.scalars(
            select(Organisation.name).where(Organisation.name.like("Writer %"))
        )
    }
    members = {
        int(re.sub(r"\D", "", email))
        for email in db.session.scalars(select(User.email).where(User.email.like("writer%")))
    }
    # A snapshot of one writer's commits: the first `found` of them, each one whole.
    found = len(organisations)
    assert organisations == members == set(range(1, found + 1))
    assert before <= found <= after < total  # and what was written after it is gone


def _dataset(db) -> Consultation:
    """A few accounts, a consultation, proposals in several states (indexed for search)."""
    consultation = factories.make_consultation(slug="sauvegarde", title="Consultation sauvegardée")
    factories.make_user("admin", email="admin@example.org")
    factories.make_user("regional_editor", email="pdl@example.org")
    author = factories.make_user("contributor", email="organisme@example.org")
    accepted = make_proposal(consultation, author, ProposalStatus.ACCEPTED, title="Logements")
    make_proposal(consultation, author, ProposalStatus.SUBMITTED, title="Rénovation thermique")
    make_proposal(consultation, author, ProposalStatus.REJECTED, title="Hors du sujet")
    make_proposal(consultation, status=ProposalStatus.MERGED, merged_into=accepted)
    db.session.commit()
    return consultation


def _state(db) -> dict[str, object]:
    """What the dataset looks like, read back from the database."""
    found = search.matches(db.session, "logements")
    assert found is not None
    return {
        "users": sorted(db.session.scalars(select(User.email))),
        "consultations": sorted(db.session.execute(select(Consultation.slug, Consultation.title))),
        "proposals": sorted(
            db.session.execute(select(Proposal.title, Proposal.status, Proposal.body))
        ),
        "search": sorted(db.session.scalars(select(found.c.proposal_id))),
    }


def test_round_trip_of_a_dataset(app, db, backup, tmp_path, is_postgresql):
    consultation = _dataset(db)
    saved = _state(db)
    assert len(saved["search"]) == 4  # every proposal's body speaks of "logements"
    out = tmp_path / "sauvegarde.backup"

    result = backup("create", "--out", str(out))

    assert result.exit_code == 0, result.output
    database = "PostgreSQL" if is_postgresql else "SQLite"
    assert f"Wrote the {database} backup {out}" in result.output
    assert f"{out.stat().st_size:,} bytes" in result.output
    counted = re.search(r"(\d+) tables, ([\d,]+) rows", result.output)
    assert counted and int(counted[1]) > 20 and int(counted[2].replace(",", "")) > 20
    assert out.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only
    assert [path.name for path in tmp_path.iterdir()] == [out.name]  # no temporary left

    # Everything changes after the backup: a new account, a proposal gone, a title edited.
    factories.make_user("juror", email="jure@example.org")
    db.session.delete(db.session.scalars(select(Proposal).filter_by(title="Hors du sujet")).one())
    consultation.title = "Changée après la sauvegarde"
    db.session.commit()
    assert _state(db) != saved

    result = backup("restore", str(out), input="y\n")

    assert result.exit_code == 0, result.output
    assert "Replace everything in" in result.output and "schema revision" in result.output
    assert f"Restored {out} into" in result.output and counted[0] in result.output
    assert "db upgrade" not in result.output  # the backup's schema is the latest
    assert _state(db) == saved
    assert db.session.scalar(select(func.count()).select_from(Proposal)) == 4
    # The restored database takes writes again.
    factories.make_user("juror", email="after-restore@example.org")
    db.session.commit()


def test_restore_asks_first_and_changes_nothing_when_refused(app, db, backup, tmp_path):
    _dataset(db)
    out = tmp_path / "refused.backup"
    assert backup("create", "--out", str(out)).exit_code == 0
    factories.make_user("juror", email="kept@example.org")
    db.session.commit()

    result = backup("restore", str(out), input="n\n")

    assert result.exit_code == 1 and "Aborted" in result.output
    assert db.session.scalar(select(User).filter_by(email="kept@example.org")) is not None


def test_force_replaces_an_existing_backup(app, db, backup, tmp_path):
    out = tmp_path / "again.backup"
    assert backup("create", "--out", str(out)).exit_code == 0
    first = out.stat().st_ino
    _dataset(db)

    result = backup("create", "--out", str(out), "--force")

    assert result.exit_code == 0, result.output
    assert out.stat().st_ino != first  # a new file renamed over the old one, never rewritten
    assert sorted(path.name for path in tmp_path.iterdir()) == [out.name]
