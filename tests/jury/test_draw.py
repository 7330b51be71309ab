"""The draw: commitment before, lottery after, replay by anyone, replacements for declined seats."""

from __future__ import annotations

import copy
import hashlib
from collections import Counter

import pytest
from sqlalchemy import func, select

from consultation.consultations.models import Phase
from consultation.core.errors import Conflict
from consultation.core.models import utcnow
from consultation.extensions import db as _db
from consultation.jury import draw as draws
from consultation.jury.models import Draw, DrawKind, DrawStatus, Juror, JurorStatus
from consultation.jury.pool import InfeasibleQuotas, PoolError
from tests import factories
from tests.jury.factories import make_member, make_quotas
from tests.jury.helpers import shared_pool

QUOTAS = {
    "genre": {"femme": (2, 3), "homme": (2, 3)},
    "age": {"jeune": (1, 3), "senior": (1, 3)},
}


def _pool(consultation, people: int = 12):  # type: ignore[no-untyped-def]
    """A pool where women and the young are fewer, so probabilities differ by type."""
    make_quotas(consultation, QUOTAS)
    for index in range(people):
        genre = "femme" if index % 3 == 0 else "homme"
        age = "jeune" if index % 4 == 0 else "senior"
        make_member(consultation, {"genre": genre, "age": age})


def _drawn(consultation, size: int = 5) -> Draw:  # type: ignore[no-untyped-def]
    draw = draws.commit_draw(consultation, size, None, utcnow())
    draws.run_draw(draw, utcnow())
    return draw


@pytest.fixture
def consultation(db):  # type: ignore[no-untyped-def]
    consultation = factories.make_consultation(phase=Phase.JURY)
    _pool(consultation)
    return consultation


def test_the_commitment_hides_the_seed_and_freezes_the_pool(consultation):
    draw = draws.commit_draw(consultation, 5, None, utcnow())
    assert draw.status is DrawStatus.COMMITTED
    assert draw.seed_commitment == hashlib.sha256(draw.seed.encode()).hexdigest()
    assert draw.pool_checksum == draws.snapshot_checksum(draw.pool_snapshot)
    public = draws.public_draw_data(draw)
    assert public["seed"] is None and public["distribution"] is None
    assert public["seed_commitment"] == draw.seed_commitment
    assert public["pool_size"] == 12
    # The snapshot names no one: references and features only.
    member = draw.pool_snapshot["members"][0]
    assert set(member) == {"reference", "features"}
    assert "Volontaire" not in str(draw.pool_snapshot)


def test_the_draw_respects_the_quotas_and_makes_jurors_to_invite(consultation):
    draw = _drawn(consultation)
    assert draw.status is DrawStatus.DONE and draw.panel_index is not None
    jurors = list(_db.session.scalars(select(Juror).filter_by(draw_id=draw.id)))
    assert len(jurors) == 5
    assert {juror.status for juror in jurors} == {JurorStatus.INVITED}
    counts = Counter(f.quota.feature for juror in jurors for f in juror.member.features)
    for features in QUOTAS.values():
        for feature, (low, high) in features.items():
            assert low <= counts[feature] <= high
    data = draw.distribution
    assert sum(t["size"] * t["probability"] for t in data["types"]) == pytest.approx(5)
    assert sum(p["probability"] for p in data["panels"]) == pytest.approx(1)
    assert data["minimum"] == pytest.approx(min(t["probability"] for t in data["types"]))


def test_anyone_replays_the_draw_from_the_public_data(consultation):
    draw = _drawn(consultation)
    public = draws.public_draw_data(draw)
    drawn = {juror.member.reference for juror in draw.jurors}
    assert set(draws.replay_draw(public)) == drawn


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["pool"]["members"].pop(), "checksum"),
        (lambda d: d.update(seed="0" * 64), "commitment"),
        (lambda d: d.update(panel_index=(d["panel_index"] + 1)), "another panel"),
    ],
)
def test_a_tampered_draw_does_not_replay(consultation, change, problem):
    draw = _drawn(consultation)
    public = copy.deepcopy(draws.public_draw_data(draw))
    # Two panels at least, so that another index exists.
    public["distribution"]["panels"].append({"counts": [0], "probability": 0.0})
    change(public)
    with pytest.raises(draws.DrawError, match=problem):
        draws.replay_draw(public)


def test_the_lottery_follows_the_seed():
    probabilities = [0.25, 0.25, 0.5]
    picks = {draws.pick_panel(f"seed {n}", probabilities) for n in range(40)}
    assert picks == {0, 1, 2}
    assert draws.pick_panel("same", probabilities) == draws.pick_panel("same", probabilities)


def test_an_unrun_draw_does_not_replay(consultation):
    draw = draws.commit_draw(consultation, 5, None, utcnow())
    with pytest.raises(draws.DrawError, match="not been run"):
        draws.replay_draw(draws.public_draw_data(draw))


def test_bad_draws_are_refused_with_reasons(consultation):
    with pytest.raises(PoolError, match="larger than the pool"):
        draws.commit_draw(consultation, 13, None, utcnow())
    with pytest.raises(draws.DrawError, match="at least 1"):
        draws.commit_draw(consultation, 0, None, utcnow())
    # At most three women and three men: a panel of seven cannot be made.
    with pytest.raises(InfeasibleQuotas, match="genre"):
        draws.commit_draw(consultation, 7, None, utcnow())
    with pytest.raises(Conflict, match="Draw the jury"):
        draws.commit_draw(consultation, None, None, utcnow(), DrawKind.REPLACEMENT)
    assert _db.session.scalar(select(func.count()).select_from(Draw)) == 0


def test_no_pool_no_draw(db):
    empty = factories.make_consultation(phase=Phase.JURY)
    with pytest.raises(draws.DrawError, match="categories"):
        draws.commit_draw(empty, 3, None, utcnow())


def test_one_draw_at_a_time_and_one_initial_draw(consultation):
    first = draws.commit_draw(consultation, 5, None, utcnow())
    with pytest.raises(Conflict, match="not finished"):
        draws.commit_draw(consultation, 5, None, utcnow())
    draws.run_draw(first, utcnow())
    with pytest.raises(Conflict, match="drawn already"):
        draws.commit_draw(consultation, 5, None, utcnow())
    with pytest.raises(Conflict, match="No seat is free"):
        draws.commit_draw(consultation, None, None, utcnow(), DrawKind.REPLACEMENT)
    with pytest.raises(Conflict, match="already been run"):
        draws.start_draw(first, None)


def test_a_replacement_draw_fills_the_declined_seats_within_the_quotas(db):
    consultation = factories.make_consultation(phase=Phase.JURY)
    _pool(consultation, 30)  # enough left for any two seats, whoever declined
    initial = _drawn(consultation)
    declined = initial.jurors[:2]
    for juror in declined:
        juror.status = JurorStatus.DECLINED
    _db.session.flush()
    assert draws.seats_to_fill(consultation) == 2
    replacement = draws.commit_draw(consultation, None, None, utcnow(), DrawKind.REPLACEMENT)
    assert replacement.panel_size == 2 and replacement.number == 2
    # Nobody drawn before, declined or not, is in the replacement's pool.
    references = {m["reference"] for m in replacement.pool_snapshot["members"]}
    assert references.isdisjoint({j.member.reference for j in initial.jurors})
    draws.run_draw(replacement, utcnow())
    seated = draws.kept_jurors(consultation)
    assert len(seated) == 5
    counts = Counter(f.quota.feature for juror in seated for f in juror.member.features)
    for features in QUOTAS.values():
        for feature, (low, high) in features.items():
            assert low <= counts[feature] <= high
    assert draws.seats_to_fill(consultation) == 0
    assert set(draws.replay_draw(draws.public_draw_data(replacement))) == {
        j.member.reference for j in replacement.jurors
    }


def test_the_job_runs_the_draw_and_records_its_progress(consultation):
    draw = draws.commit_draw(consultation, 5, None, utcnow())
    draws.start_draw(draw, None)
    _db.session.commit()
    draws.draw_job(draw.id)
    _db.session.refresh(draw)
    assert draw.status is DrawStatus.DONE
    assert draw.progress_total >= 1 and draw.progress_done == draw.progress_total


def test_a_failing_draw_is_marked_failed_and_can_be_committed_again(consultation, monkeypatch):
    draw = draws.commit_draw(consultation, 5, None, utcnow())
    _db.session.commit()

    def infeasible(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise InfeasibleQuotas(["genre/femme: at least 2 needed but only 1 in the pool."])

    monkeypatch.setattr(draws, "leximin", infeasible)
    draws.draw_job(draw.id)
    _db.session.refresh(draw)
    assert draw.status is DrawStatus.FAILED and "femme" in draw.error
    assert _db.session.scalar(select(func.count()).select_from(Juror)) == 0
    monkeypatch.undo()
    again = draws.commit_draw(consultation, 5, None, utcnow())
    assert again.number == 2


def test_the_shared_instance_draws_ten_percent_each(db):
    """example_small_20: every one of the 200 members has a 10% chance, as in the study."""
    consultation = factories.make_consultation(phase=Phase.JURY)
    pool = shared_pool("example_small_20")
    table = {
        category: {q.feature: (q.min, q.max) for q in pool.features(category)}
        for category in pool.categories
    }
    make_quotas(consultation, table)
    for member in pool.members:
        make_member(consultation, dict(zip(pool.categories, member.features, strict=True)))
    draw = _drawn(consultation, 20)
    for member_type in draw.distribution["types"]:
        assert member_type["probability"] == pytest.approx(0.10, abs=1e-3)
    assert len(draw.jurors) == 20
