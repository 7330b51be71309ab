"""The demo's jury: the historical consultation's pool, its draw of 30 with two replacements,
a closed round whose log verifies; the open consultation takes applications."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from consultation.accounts.services import find_user_by_email
from consultation.consultations.models import Consultation, Phase
from consultation.demo.jury import CATEGORIES, JURY_SIZE
from consultation.demo.services import HISTORICAL_SLUG, OPEN_SLUG, load_demo
from consultation.jury import ballots
from consultation.jury import draw as draws
from consultation.jury.models import (
    DrawKind,
    DrawStatus,
    JurorStatus,
    PoolMember,
    RoundStatus,
    VotingRound,
)


def _consultation(db, slug: str) -> Consultation:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(Consultation).where(Consultation.slug == slug))


def test_the_historical_jury_is_drawn_seated_and_has_voted(db, client, sign_in):
    load_demo()
    db.session.commit()
    consultation = _consultation(db, HISTORICAL_SLUG)
    assert consultation.phase is Phase.REMISE
    initial, replacement = draws.list_draws(consultation)
    assert initial.kind is DrawKind.INITIAL and replacement.kind is DrawKind.REPLACEMENT
    assert {initial.status, replacement.status} == {DrawStatus.DONE}
    assert replacement.panel_size == 2
    # Anyone replays both draws from their public data.
    for draw in (initial, replacement):
        selected = set(draws.replay_draw(draws.public_draw_data(draw)))
        assert selected == {juror.member.reference for juror in draw.jurors}
    seated = draws.kept_jurors(consultation)
    assert len(seated) == JURY_SIZE
    assert {juror.status for juror in seated} == {JurorStatus.ACCEPTED}
    counts = Counter(f.quota.feature for juror in seated for f in juror.member.features)
    for _label, features in CATEGORIES.values():
        for feature, _name, low, high, _weight in features:
            assert low <= counts[feature] <= high, feature
    assert db.session.scalar(select(func.count()).select_from(PoolMember)) >= 300

    (voting_round,) = db.session.scalars(
        select(VotingRound).where(VotingRound.consultation_id == consultation.id)
    )
    assert voting_round.status is RoundStatus.CLOSED
    results = voting_round.results
    assert results["registered"] == JURY_SIZE
    adopted = [row for row in results["items"] if row["adopted"]]
    assert 0 < len(adopted) < len(results["items"])  # one article is rejected
    assert results["items"][-1]["adopted"]  # the whole text is
    verified = ballots.verify_log(ballots.export_log(voting_round))
    assert verified.ok, verified.problems

    page = client.get(f"/consultations/{consultation.slug}/jury")
    assert page.status_code == 200 and initial.seed in page.text
    assert client.get(f"/consultations/{consultation.slug}/jury/scrutins/1").status_code == 200
    # The demo's juror sat on this jury and finds their receipts.
    juror = sign_in(find_user_by_email("jure@example.org"))
    receipts = juror.get(f"/consultations/{consultation.slug}/jury/recus")
    assert receipts.status_code == 200


def test_the_open_consultation_takes_applications(db, client):
    load_demo()
    db.session.commit()
    consultation = _consultation(db, OPEN_SLUG)
    assert draws.list_draws(consultation) == []
    form = client.get(f"/consultations/{consultation.slug}/jury/candidature")
    assert form.status_code == 200 and "Île-de-France" in form.text
