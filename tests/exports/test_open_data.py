"""The open-data bundle: every file and its columns, no personal data, a ballot log anyone can
verify, the same bytes for the same data, and a constant number of queries."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from datetime import timedelta

from sqlalchemy import select

from consultation.accounts.models import User
from consultation.bill.models import ArticleSource, DivisionKind
from consultation.bill.versions import create_version
from consultation.consultations.models import Consultation, Phase
from consultation.core.models import utcnow
from consultation.debates.models import DebateStatus, Registration
from consultation.exports import to_akn, to_json, to_markdown
from consultation.exports.final_text import build_final_text
from consultation.exports.open_data import TABLES, build_open_data
from consultation.extensions import db as _db
from consultation.jury import ballots, draw
from consultation.jury.models import WHOLE_TEXT, Choice, Juror, PoolContact
from consultation.proposals.models import ProposalStatus, SourceKind
from tests import factories
from tests.bill.helpers import accepted_proposals, add_article, add_division, make_bill
from tests.debates.helpers import make_debate, registration
from tests.jury.factories import make_draw, make_juror, make_member, make_quotas
from tests.proposals.helpers import make_proposal

EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def _consultation(size: int) -> Consultation:
    """A consultation through its jury: `size` debates (plus a draft), proposals and jurors, a
    bill whose articles cite the proposals, a frozen version and a closed round."""
    consultation = factories.make_consultation(phase=Phase.CONCERTATION)
    partner = factories.make_organisation(name=f"Partenaire {consultation.slug}")
    debates = []
    for number in range(size):
        debate = make_debate(consultation, title=f"Débat public {number}")
        registration(debate, email=f"inscrit-{consultation.slug}-{number}@example.org")
        debates.append(debate)
    debates[0].status = DebateStatus.HELD
    debates[0].attendance = 42
    debates[0].minutes = "=SOMME(A1:A2) — un compte rendu"
    debates[0].attendees.append(partner)
    make_debate(consultation, status=DebateStatus.DRAFT, title="Débat en brouillon")
    proposals = accepted_proposals(consultation, size)
    from_debate = proposals[-1]
    from_debate.debate_id, from_debate.source_kind = debates[0].id, SourceKind.DEBAT_REGIONAL
    make_proposal(consultation, status=ProposalStatus.DRAFT, title="Proposition en brouillon")
    bill = make_bill(consultation)
    division = add_division(bill, DivisionKind.TITRE)
    articles = [add_article(bill, division, heading=f"Objet {n}") for n in range(3)]
    for position, proposal in enumerate(proposals):
        _db.session.add(
            ArticleSource(article_id=articles[position % 3].id, proposal_id=proposal.id)
        )
    _db.session.flush()
    _db.session.refresh(bill)
    version = create_version(bill, "Pour le jury", None, utcnow())

    consultation.phase = Phase.JURY
    make_quotas(consultation)
    first_draw = make_draw(consultation, panel_size=size)
    users = []
    for number in range(size):
        member = make_member(
            consultation,
            {"genre": "femme", "age": "35-64"},
            email=f"volontaire-{consultation.slug}-{number}@example.org",
            full_name=f"Volontaire Secrète {consultation.slug} {number}",
        )
        users.append(make_juror(consultation, member=member, draw=first_draw).user)
    now = utcnow()
    voting_round = ballots.open_round(
        consultation, version, now - timedelta(hours=1), now + timedelta(hours=1), 50, 50, None, now
    )
    ballots.start_round(voting_round, None, now)
    items = [item for item, _ in ballots.round_items(voting_round)]
    for index, user in enumerate(users):
        for item in items:
            choice = Choice.CONTRE if item == items[1] else Choice.POUR
            ballots.cast_ballot(voting_round, user, item, choice, now)
        if index == 0:  # a changed vote is in the log too
            ballots.cast_ballot(voting_round, user, items[0], Choice.ABSTENTION, now)
    ballots.close_round(voting_round, None, now)
    consultation.phase = Phase.REMISE
    _db.session.flush()
    return consultation


def _files(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        prefix = names[0].split("/", 1)[0] + "/"
        assert all(name.startswith(prefix) for name in names)
        return {name.removeprefix(prefix): archive.read(name) for name in names}


def _rows(content: bytes) -> list[dict[str, str]]:
    text = content.decode("utf-8")
    assert not text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_bundle_has_every_file_with_its_columns(db):
    consultation = _consultation(3)
    files = _files(build_open_data(consultation))
    expected = {"README.txt", "consultation.json"}
    for table in TABLES:
        expected |= {f"{table.name}.csv", f"{table.name}.json"}
    expected |= {
        "bill-versions/version-1.json",
        "jury/round-1-ballot-log.json",
        "jury/draw-1.json",
    }
    assert set(files) == expected
    readme = files["README.txt"].decode()
    for table in TABLES:
        header = files[f"{table.name}.csv"].decode().split("\r\n", 1)[0]
        assert header == ",".join(table.fields), table.name
        assert f"{table.name}.csv" in readme
        for column in table.fields:
            assert f"\n{column} " in readme, (table.name, column)
        records = json.loads(files[f"{table.name}.json"])
        assert records["consultation"] == consultation.slug

    debates = _rows(files["debates.csv"])
    assert len(debates) == 3 and "Débat en brouillon" not in files["debates.csv"].decode()
    held = next(row for row in debates if row["status"] == "held")
    assert held["attendance"] == "42" and held["attendees"].startswith("Partenaire")
    assert held["minutes"].startswith("'=SOMME")  # never a formula in a spreadsheet
    assert held["url"].endswith(f"/consultations/{consultation.slug}/debats/{held['id']}")

    proposals = _rows(files["proposals.csv"])
    assert len(proposals) == 3 and {row["status"] for row in proposals} == {"accepted"}
    assert "Proposition en brouillon" not in files["proposals.csv"].decode()
    from_debate = next(row for row in proposals if row["source_kind"] == "debat_regional")
    assert from_debate["debate"] == "Débat public 0" and from_debate["organisation"]

    (version,) = _rows(files["bill-versions.csv"])
    content = files[version["file"]]
    assert hashlib.sha256(content).hexdigest() == version["checksum"]
    assert json.loads(content)["article_count"] == 3

    provenance = _rows(files["provenance.csv"])
    assert len(provenance) == 3
    assert {row["proposal_id"] for row in provenance} == {row["id"] for row in proposals}
    # The second article was rejected: the others are renumbered in the final text.
    assert sorted((row["article"], row["final_article"]) for row in provenance) == [
        ("Article 1er", "Article 1er"),
        ("Article 2", ""),
        ("Article 3", "Article 2"),
    ]

    results = _rows(files["jury-results.csv"])
    assert [row["adopted"] for row in results] == ["true", "false", "true", "true"]
    assert results[-1]["item"] == str(WHOLE_TEXT)
    assert results[0]["pour"] == "2" and results[0]["abstention"] == "1"
    (voting_round,) = _rows(files["jury-rounds.csv"])
    assert voting_round["status"] == "closed" and voting_round["ballot_log"]
    (drawn,) = _rows(files["jury-draws.csv"])
    assert drawn["seed"] and drawn["file"] == "jury/draw-1.json"


def test_the_ballot_log_in_the_bundle_verifies(db):
    consultation = _consultation(3)
    files = _files(build_open_data(consultation))
    log = json.loads(files["jury/round-1-ballot-log.json"])
    verification = ballots.verify_log(log)
    assert verification.ok, verification.problems
    assert verification.entries == 3 * 4 + 1
    round_row = _rows(files["jury-rounds.csv"])[0]
    assert log["head"] == round_row["log_head"] == verification.head
    assert log["results"]["items"][0]["abstention"] == 1


def test_the_bundle_holds_no_personal_data(db):
    consultation = _consultation(3)
    bundle = build_open_data(consultation)
    files = _files(bundle)
    secrets = set()
    for email, name in db.session.execute(select(PoolContact.email, PoolContact.full_name)):
        secrets |= {email, name}
    for email, name in db.session.execute(select(Registration.email, Registration.name)):
        secrets |= {email, name}
    jurors = select(Juror.user_id)
    for email, name in db.session.execute(
        select(User.email, User.display_name).where(User.id.in_(jurors))
    ):
        secrets |= {email, name}
    assert len(secrets) >= 3 * 4
    for name, content in files.items():
        text = content.decode("utf-8")
        assert not EMAIL.search(text), name  # no e-mail address at all
        for secret in secrets:
            assert secret not in text, (name, secret)


def test_the_same_data_makes_the_same_bytes(db):
    consultation = _consultation(2)
    assert build_open_data(consultation) == build_open_data(consultation)


def test_an_empty_consultation_still_has_every_table(db):
    consultation = factories.make_consultation(phase=Phase.CONCERTATION)
    files = _files(build_open_data(consultation))
    for table in TABLES:
        assert _rows(files[f"{table.name}.csv"]) == []
        assert table.fields == tuple(
            files[f"{table.name}.csv"].decode().split("\r\n")[0].split(",")
        )


def test_the_queries_do_not_grow_with_the_data(db, count_queries):
    small, large = _consultation(2), _consultation(6)
    counts = []
    for consultation in (small, large):
        db.session.expire_all()
        consultation = db.session.get(Consultation, consultation.id)
        with count_queries() as statements:
            build_open_data(consultation)
        counts.append(len(statements))
    assert counts[0] == counts[1] <= 12, counts


def test_the_demo_bundle_verifies_and_replays(db):
    from consultation.demo.services import load_demo

    load_demo()
    db.session.commit()
    consultation = db.session.scalar(
        select(Consultation).where(Consultation.slug == "utiles-ensemble-2")
    )
    files = _files(build_open_data(consultation))
    logs = [name for name in files if name.endswith("-ballot-log.json")]
    assert logs
    for name in logs:
        assert ballots.verify_log(json.loads(files[name])).ok, name
    draws = [name for name in files if name.startswith("jury/draw-")]
    assert draws
    for name in draws:
        data = json.loads(files[name])
        if data["status"] == "done":
            assert draw.replay_draw(data)
    assert len(_rows(files["proposals.csv"])) > 100
    assert _rows(files["provenance.csv"])
    emails = set(db.session.scalars(select(PoolContact.email)))
    emails |= set(db.session.scalars(select(Registration.email)))
    emails.discard(None)
    assert emails
    everything = b"\n".join(files.values()).decode("utf-8")
    assert not [email for email in emails if email in everything]

    # The demo's final text, real data, in the structured formats: valid against their schemas.
    text = build_final_text(consultation)
    assert to_akn.validate_akn(to_akn.render(text)) == []
    assert to_json.validate_json(json.loads(to_json.render(text))) == []
    assert "## Proposition de loi" in to_markdown.render(text).decode()
