"""`flask jury verify LOG.json`: a sound log, a tampered one, and files that are no log."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from flask import Flask

from consultation.consultations.models import Phase
from consultation.core.models import utcnow
from consultation.jury import ballots
from consultation.jury.models import WHOLE_TEXT, Choice
from tests import factories
from tests.jury.factories import frozen_version, make_juror


def _log(tmp_path: Path) -> tuple[Path, dict]:
    consultation = factories.make_consultation(phase=Phase.JURY)
    version = frozen_version(consultation, 1)
    users = [make_juror(consultation).user for _ in range(3)]
    now = utcnow()
    voting_round = ballots.open_round(
        consultation, version, now - timedelta(hours=1), now + timedelta(hours=1), 50, 50, None, now
    )
    ballots.start_round(voting_round, None, now)
    for user, choice in zip(users, [Choice.POUR, Choice.POUR, Choice.CONTRE], strict=True):
        ballots.cast_ballot(voting_round, user, WHOLE_TEXT, choice, now)
    ballots.close_round(voting_round, None, now)
    data = ballots.export_log(voting_round)
    path = tmp_path / "log.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path, data


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["jury", "verify", *args])


def test_a_sound_log_is_reported_with_its_tally(app: Flask, db, tmp_path: Path) -> None:
    path, data = _log(tmp_path)
    result = run(app, str(path))
    assert result.exit_code == 0, result.output
    assert f"chain OK: 3 entries, head {data['head']}" in result.output
    assert "the whole text: pour 2, contre 1, abstention 0: adopted" in result.output


def test_a_tampered_log_fails_with_its_problems(app: Flask, db, tmp_path: Path) -> None:
    path, data = _log(tmp_path)
    data["entries"][2]["choice"] = "pour"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = run(app, str(path))
    assert result.exit_code == 1
    assert "chain OK" not in result.stdout
    assert "entry 3: hash mismatch" in result.stderr


def test_files_that_are_not_a_log_give_clear_errors(app: Flask, tmp_path: Path) -> None:
    missing = run(app, str(tmp_path / "missing.json"))
    assert missing.exit_code == 1 and "Cannot read" in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = run(app, str(broken))
    assert result.exit_code == 1 and "is not a valid JSON file" in result.stderr
    broken.write_text("[1, 2]", encoding="utf-8")
    result = run(app, str(broken))
    assert result.exit_code == 1 and "not a JSON object" in result.stderr
