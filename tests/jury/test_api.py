"""The jury in the public API: quotas, draws' public data, rounds and their results."""

from __future__ import annotations

from datetime import timedelta

from consultation.consultations.models import Phase
from consultation.core.models import utcnow
from consultation.jury import ballots
from consultation.jury import draw as draws
from consultation.jury.models import Choice
from tests import factories
from tests.jury.factories import frozen_version, make_member, make_quotas

QUOTAS = {"genre": {"femme": (1, 2), "homme": (1, 2)}}


def _jury(db, people: int = 6):  # type: ignore[no-untyped-def]
    consultation = factories.make_consultation(phase=Phase.JURY)
    make_quotas(consultation, QUOTAS)
    for index in range(people):
        make_member(consultation, {"genre": ("femme", "homme")[index % 2]})
    draw = draws.commit_draw(consultation, 3, None, utcnow())
    draws.run_draw(draw, utcnow())
    return consultation, draw


def test_the_jury_endpoint_gives_the_draw_and_the_closed_results(app, db, client):
    consultation, draw = _jury(db)
    juror = draw.jurors[0]
    juror.user = factories.make_user(role="juror")
    juror.status = "accepted"
    version = frozen_version(consultation, 1)
    now = utcnow()
    voting_round = ballots.open_round(
        consultation, version, now - timedelta(hours=1), now + timedelta(hours=1), 10, 50, None, now
    )
    ballots.start_round(voting_round, None, now)
    db.session.commit()
    data = client.get(f"/api/v1/consultations/{consultation.slug}/jury").get_json()
    assert data["jurors"] == 3
    assert data["quotas"][0]["features"][0] == {
        "feature": "femme",
        "label": "femme",
        "min": 1,
        "max": 2,
    }
    (published,) = data["draws"]
    assert published["seed"] == draw.seed and published["seed_commitment"] == draw.seed_commitment
    assert published["minimum_probability"] == draw.distribution["minimum"]
    assert sum(t["size"] * t["probability"] for t in published["types"]) == 3
    assert published["data_url"].endswith(f"/jury/tirages/{draw.number}.json")
    assert "pool" not in published and "jurors" not in str(published)
    (open_round,) = data["rounds"]
    assert open_round["status"] == "open" and open_round["results"] is None

    ballots.cast_ballot(voting_round, juror.user, 0, Choice.POUR, utcnow())
    ballots.close_round(voting_round, None, utcnow())
    db.session.commit()
    app.config["PAGE_CACHE_ENABLED"] = False
    data = client.get(f"/api/v1/consultations/{consultation.slug}/jury").get_json()
    (closed,) = data["rounds"]
    assert closed["status"] == "closed" and closed["log_length"] == 1
    whole = closed["results"]["items"][-1]
    # Registered: the jurors who accepted (the two others are still invited).
    assert whole["item"] == 0 and whole["pour"] == 1 and whole["registered"] == 1
    assert closed["log_url"].endswith("/registre.json")


def test_the_jury_endpoint_is_in_the_openapi_document(db, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/consultations/{slug}/jury"]["get"]
    assert "200" in operation["responses"] and "404" in operation["responses"]
    assert {"Jury", "JuryDraw", "JuryRound", "JuryResults"} <= set(spec["components"]["schemas"])


def test_an_unknown_consultation_is_404(db, client):
    assert client.get("/api/v1/consultations/nope/jury").status_code == 404


def test_the_jury_endpoint_keeps_a_constant_number_of_queries(app, db, client, count_queries):
    app.config["PAGE_CACHE_ENABLED"] = False
    counts = []
    for people in (6, 30):
        consultation, _draw = _jury(db, people)
        db.session.commit()
        with count_queries() as statements:
            assert client.get(f"/api/v1/consultations/{consultation.slug}/jury").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
