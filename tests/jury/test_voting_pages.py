"""The jury's voting pages: staff rounds, the jurors' ballot and receipts, the public results
and the downloadable ballot log."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from consultation.consultations.models import Phase
from consultation.core.i18n import PARIS
from consultation.core.models import utcnow
from consultation.jury import ballots
from consultation.jury.models import WHOLE_TEXT, Ballot, RoundStatus, VotingRound
from tests import factories
from tests.jury.factories import frozen_version, make_juror


def _paris(moment) -> str:  # type: ignore[no-untyped-def]
    return moment.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


def _setup(db, articles: int = 2, start: bool = True):  # type: ignore[no-untyped-def]
    consultation = factories.make_consultation(phase=Phase.JURY)
    version = frozen_version(consultation, articles)
    juror = make_juror(consultation).user
    now = utcnow()
    voting_round = ballots.open_round(
        consultation, version, now - timedelta(hours=1), now + timedelta(hours=1), 50, 50, None, now
    )
    if start:
        ballots.start_round(voting_round, None, now)
    db.session.commit()
    return consultation, voting_round, juror


def _article_ids(voting_round: VotingRound) -> list[int]:
    return [item for item, _ in ballots.round_items(voting_round) if item != WHOLE_TEXT]


def _vote(client, consultation, voting_round, item, choice):  # type: ignore[no-untyped-def]
    return client.post(
        f"/consultations/{consultation.slug}/jury/vote",
        data={"round": voting_round.number, "item": item, "choice": choice},
    )


# --- Staff ---------------------------------------------------------------------------------------


def test_staff_schedule_open_and_close_a_round(db, admin_client):
    consultation = factories.make_consultation(phase=Phase.JURY)
    version = frozen_version(consultation, 2)
    db.session.commit()
    url = f"/gestion/consultations/{consultation.slug}/jury/scrutins"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert f"Version {version.number}" in page.text
    now = utcnow()
    response = admin_client.post(
        url,
        data={
            "version": version.number,
            "opens_at": _paris(now - timedelta(hours=1)),
            "closes_at": _paris(now + timedelta(days=1)),
            "quorum_percent": 40,
            "threshold_percent": 60,
        },
    )
    assert response.status_code == 303
    voting_round = db.session.scalar(select(VotingRound).filter_by(consultation_id=consultation.id))
    assert voting_round.status is RoundStatus.SCHEDULED
    assert (voting_round.quorum_percent, voting_round.threshold_percent) == (40, 60)

    assert admin_client.post(f"{url}/1/ouvrir").status_code == 303
    db.session.refresh(voting_round)
    assert voting_round.status is RoundStatus.OPEN
    again = admin_client.post(f"{url}/1/ouvrir")
    assert again.status_code == 409
    assert "Only a scheduled round can be opened" in again.text

    assert admin_client.post(f"{url}/1/fermer").status_code == 303
    db.session.refresh(voting_round)
    assert voting_round.status is RoundStatus.CLOSED
    assert voting_round.results is not None
    assert admin_client.post(f"{url}/99/fermer").status_code == 404


def test_staff_form_errors_keep_the_input(db, admin_client):
    consultation = factories.make_consultation(phase=Phase.JURY)
    version = frozen_version(consultation, 1)
    db.session.commit()
    now = utcnow()
    response = admin_client.post(
        f"/gestion/consultations/{consultation.slug}/jury/scrutins",
        data={
            "version": version.number,
            "opens_at": _paris(now + timedelta(days=1)),
            "closes_at": _paris(now),
            "quorum_percent": 50,
            "threshold_percent": 50,
        },
    )
    assert response.status_code == 400
    assert "The round must close after it opens." in response.text
    outside = admin_client.post(
        f"/gestion/consultations/{consultation.slug}/jury/scrutins",
        data={
            "version": 99,
            "opens_at": _paris(now),
            "closes_at": _paris(now + timedelta(days=1)),
            "quorum_percent": 50,
            "threshold_percent": 50,
        },
    )
    assert outside.status_code == 404
    assert "Choose a frozen version of this bill." in outside.text
    assert db.session.scalar(select(func.count(VotingRound.id))) == 0


# --- Jurors --------------------------------------------------------------------------------------


def test_juror_votes_changes_the_vote_and_sees_progress_and_receipts(db, sign_in):
    consultation, voting_round, juror = _setup(db)
    client = sign_in(juror)
    first = _article_ids(voting_round)[0]
    page = client.get(f"/consultations/{consultation.slug}/jury/vote")
    assert page.status_code == 200
    assert "You have voted on 0 of 3 items." in page.text
    assert "<fieldset" in page.text and "<legend>" in page.text

    response = _vote(client, consultation, voting_round, first, "pour")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#item-1-{first}")
    page = client.get(f"/consultations/{consultation.slug}/jury/vote")
    assert "Your receipt:" in page.text
    assert "You have voted on 1 of 3 items." in page.text
    assert f'id="item-1-{first}-pour" value="pour" checked' in page.text

    assert _vote(client, consultation, voting_round, first, "contre").status_code == 303
    ballot = db.session.scalars(select(Ballot).filter_by(round_id=voting_round.id)).one()
    db.session.refresh(ballot)
    assert (ballot.choice.value, ballot.casts) == ("contre", 2)
    page = client.get(f"/consultations/{consultation.slug}/jury/vote")
    assert f'id="item-1-{first}-contre" value="contre" checked' in page.text
    assert "You have voted on 1 of 3 items." in page.text

    receipts = client.get(f"/consultations/{consultation.slug}/jury/recus")
    assert receipts.status_code == 200
    (mine,) = ballots.my_receipts(voting_round, juror)
    assert mine.receipt in receipts.text
    assert "SHA-256" in receipts.text


def test_a_non_juror_and_a_juror_of_another_consultation_are_refused(db, sign_in):
    consultation, voting_round, _juror = _setup(db)
    other = factories.make_consultation(phase=Phase.JURY)
    stranger = make_juror(other).user
    db.session.commit()
    url = f"/consultations/{consultation.slug}/jury/vote"
    assert sign_in("contributor").get(url).status_code == 403
    response = sign_in(stranger).get(url)
    assert response.status_code == 403
    assert "You are not a juror of this consultation" in response.text
    refused = _vote(sign_in(stranger), consultation, voting_round, WHOLE_TEXT, "pour")
    assert refused.status_code == 403
    assert db.session.scalar(select(func.count(Ballot.id))) == 0


def test_a_vote_on_an_article_outside_the_version_is_not_found(db, sign_in):
    consultation, voting_round, juror = _setup(db)
    response = _vote(sign_in(juror), consultation, voting_round, 999_999, "pour")
    assert response.status_code == 404
    assert (
        _vote(sign_in(juror), consultation, voting_round, WHOLE_TEXT, "peut-être").status_code
        == 400
    )


def test_a_vote_outside_the_round_is_a_conflict_and_keeps_the_choice(db, sign_in):
    consultation, voting_round, juror = _setup(db, start=False)
    client = sign_in(juror)
    first = _article_ids(voting_round)[0]
    early = _vote(client, consultation, voting_round, first, "abstention")
    assert early.status_code == 409
    assert '<div class="form-errors" role="alert"><p>This round is not open yet.' in early.text
    ballots.start_round(voting_round, None, utcnow())
    ballots.close_round(voting_round, None, utcnow())
    db.session.commit()
    late = _vote(client, consultation, voting_round, first, "pour")
    assert late.status_code == 409
    assert '<div class="form-errors" role="alert"><p>This round is closed' in late.text
    assert db.session.scalar(select(func.count(Ballot.id))) == 0


# --- Public --------------------------------------------------------------------------------------


def test_results_and_log_are_public_once_closed_only(db, client, sign_in):
    consultation, voting_round, juror = _setup(db)
    base = f"/consultations/{consultation.slug}/jury/scrutins/{voting_round.number}"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/registre.json").status_code == 404
    juror_client = sign_in(juror)
    for item in _article_ids(voting_round):
        _vote(juror_client, consultation, voting_round, item, "pour")
    _vote(juror_client, consultation, voting_round, WHOLE_TEXT, "contre")
    _vote(juror_client, consultation, voting_round, WHOLE_TEXT, "pour")
    ballots.close_round(voting_round, None, utcnow())
    db.session.commit()

    page = client.get(base)
    assert page.status_code == 200
    assert "large support" in page.text
    assert "flask --app consultation jury verify registre.json" in page.text
    assert "Quorum" in page.text and "The whole text" in page.text

    log = client.get(f"{base}/registre.json")
    assert log.status_code == 200
    assert log.headers["Content-Type"].startswith("application/json")
    assert "attachment" in log.headers["Content-Disposition"]
    data = json.loads(log.data)
    assert len(data["entries"]) == 4
    verification = ballots.verify_log(data)
    assert verification.ok, verification.problems
    assert verification.tally["items"][-1]["pour"] == 1
