"""`flask --app consultation jury bench`: the tally and the log verification, timed."""

from __future__ import annotations

from sqlalchemy import func, select

from consultation.jury.models import Ballot, VotingRound


def test_the_bench_verifies_its_round_and_leaves_nothing_behind(app, db):
    result = app.test_cli_runner().invoke(
        args=["jury", "bench", "--jurors", "4", "--articles", "3"]
    )

    assert result.exit_code == 0, result.output
    assert "16 ballots" in result.output  # 4 jurors × (3 articles + the whole text)
    assert "tally:" in result.output
    assert "log verification:" in result.output and "16 entries" in result.output
    assert db.session.scalar(select(func.count(VotingRound.id))) == 0
    assert db.session.scalar(select(func.count(Ballot.id))) == 0


def test_the_bench_refuses_an_empty_round(app):
    result = app.test_cli_runner().invoke(args=["jury", "bench", "--jurors", "0"])

    assert result.exit_code != 0
    assert "at least 1" in result.output
