"""The draw pages: staff commit and run draws; the public sees the commitment, then the seed and
the probabilities, never who was drawn; the draw's data replays on the command line."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from consultation.consultations.models import Phase
from consultation.core.models import utcnow
from consultation.jury import draw as draws
from consultation.jury.cli import jury_cli
from consultation.jury.models import Draw, DrawStatus, Juror, JurorStatus
from tests import factories
from tests.jury.factories import make_member, make_quotas

QUOTAS = {"genre": {"femme": (1, 2), "homme": (1, 2)}, "age": {"jeune": (0, 3), "senior": (0, 3)}}


def _consultation(db, people: int = 8):  # type: ignore[no-untyped-def]
    consultation = factories.make_consultation(phase=Phase.JURY)
    make_quotas(consultation, QUOTAS)
    for index in range(people):
        make_member(
            consultation,
            {"genre": ("femme", "homme")[index % 2], "age": ("jeune", "senior")[index % 3 == 0]},
            full_name=f"Personne Secrète {index}",
        )
    db.session.commit()
    return consultation


def _staff(consultation) -> str:  # type: ignore[no-untyped-def]
    return f"/gestion/consultations/{consultation.slug}/jury/tirages"


def test_staff_commit_then_run_the_draw(db, admin_client, client):
    consultation = _consultation(db)
    assert admin_client.get(_staff(consultation)).status_code == 200
    response = admin_client.post(_staff(consultation), data={"panel_size": "3"})
    assert response.status_code == 303
    draw = db.session.scalar(select(Draw))
    assert draw.status is DrawStatus.COMMITTED
    # Before the lottery the public sees the commitment, not the seed.
    page = client.get(f"/consultations/{consultation.slug}/jury")
    assert draw.seed_commitment in page.text and draw.seed not in page.text

    response = admin_client.post(f"{_staff(consultation)}/{draw.number}/lancer")
    assert response.status_code == 303
    db.session.refresh(draw)
    assert draw.status is DrawStatus.DONE
    jurors = db.session.scalars(select(Juror)).all()
    assert len(jurors) == 3 and {j.status for j in jurors} == {JurorStatus.INVITED}
    progress = admin_client.get(f"{_staff(consultation)}/{draw.number}/progression").get_json()
    assert progress["status"] == "done" and progress["done"] == progress["total"]

    page = client.get(f"/consultations/{consultation.slug}/jury")
    assert page.status_code == 200
    assert draw.seed in page.text
    assert "Smallest chance of being drawn" in page.text
    # Never who was drawn: neither names nor the drawn references.
    assert "Personne Secrète" not in page.text
    for juror in jurors:
        assert juror.member.reference not in page.text


def test_the_public_data_replays_on_the_command_line(db, admin_client, client, app, tmp_path):
    consultation = _consultation(db)
    draw = draws.commit_draw(consultation, 3, None, utcnow())
    draws.run_draw(draw, utcnow())
    db.session.commit()
    response = client.get(f"/consultations/{consultation.slug}/jury/tirages/{draw.number}.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Personne" not in response.text
    path = tmp_path / "tirage.json"
    path.write_bytes(response.data)
    result = app.test_cli_runner().invoke(jury_cli, ["replay", str(path)])
    assert result.exit_code == 0, result.output
    drawn = sorted(j.member.reference for j in draw.jurors)
    assert result.output.strip().splitlines()[1:] == drawn

    data = json.loads(response.data)
    data["seed"] = "f" * 64
    path.write_text(json.dumps(data))
    result = app.test_cli_runner().invoke(jury_cli, ["replay", str(path)])
    assert result.exit_code == 1 and "commitment" in result.output
    path.write_text('{"pool": 3}')
    result = app.test_cli_runner().invoke(jury_cli, ["replay", str(path)])
    assert result.exit_code == 1 and "not been run" in result.output
    path.write_text("{nope")
    result = app.test_cli_runner().invoke(jury_cli, ["replay", str(path)])
    assert result.exit_code == 1 and "not a valid JSON" in result.output


def test_bad_draws_get_clear_messages(db, admin_client):
    consultation = _consultation(db)
    url = _staff(consultation)
    response = admin_client.post(url, data={"panel_size": "abc"})
    assert response.status_code == 400
    response = admin_client.post(url, data={"panel_size": "9"})
    assert response.status_code == 400 and "larger than the pool" in response.text
    # At most two women and two men: five jurors cannot be drawn.
    response = admin_client.post(url, data={"panel_size": "5"})
    assert response.status_code == 422 and "genre" in response.text
    assert db.session.scalar(select(func.count()).select_from(Draw)) == 0
    response = admin_client.post(f"{url}/remplacement")
    assert response.status_code == 409 and "Draw the jury before" in response.text
    assert admin_client.post(f"{url}/7/lancer").status_code == 404
    assert admin_client.get(f"{url}/7/progression").status_code == 404


def test_running_twice_is_refused_and_replacements_fill_declined_seats(db, admin_client):
    consultation = _consultation(db, people=12)
    draw = draws.commit_draw(consultation, 3, None, utcnow())
    db.session.commit()
    url = _staff(consultation)
    assert admin_client.post(f"{url}/{draw.number}/lancer").status_code == 303
    response = admin_client.post(f"{url}/{draw.number}/lancer")
    assert response.status_code == 409 and "already been run" in response.text
    juror = db.session.scalars(select(Juror)).first()
    juror.status = JurorStatus.DECLINED
    db.session.commit()
    page = admin_client.get(url)
    assert "1 seat is free." in page.text
    assert admin_client.post(f"{url}/remplacement").status_code == 303
    replacement = db.session.scalar(select(Draw).where(Draw.number == 2))
    assert replacement.panel_size == 1
    assert admin_client.post(f"{url}/2/lancer").status_code == 303
    assert len(draws.kept_jurors(consultation)) == 3


def test_the_public_jury_page_before_any_draw(db, client):
    consultation = _consultation(db)
    page = client.get(f"/consultations/{consultation.slug}/jury")
    assert page.status_code == 200
    assert "LEXIMIN" in page.text
    assert f"/consultations/{consultation.slug}/jury/candidature" in page.text
    assert client.get(f"/consultations/{consultation.slug}/jury/tirages/1.json").status_code == 404
    assert client.get("/consultations/nope/jury").status_code == 404


def test_the_jury_page_runs_constant_queries(db, client, count_queries):
    small = _consultation(db, people=8)
    large = _consultation(db, people=40)
    counts = []
    for consultation in (small, large):
        draw = draws.commit_draw(consultation, 3, None, utcnow())
        draws.run_draw(draw, utcnow())
        db.session.commit()
        with count_queries() as statements:
            assert client.get(f"/consultations/{consultation.slug}/jury").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
