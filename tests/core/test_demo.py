"""The demo loads every role's account and both consultations, and loading twice changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from consultation.accounts.models import Organisation, User
from consultation.consultations.models import Consultation, Phase
from consultation.debates.models import Debate, Registration
from consultation.demo.services import load_demo


def _counts(db):
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (User, Organisation, Consultation, Debate, Registration)
    )


def test_demo_load_is_idempotent(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "load", "--password", "mot-de-passe-demo"])
    assert first.exit_code == 0, first.output
    counts = _counts(db)
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0
    assert "nothing to add" in second.output
    assert _counts(db) == counts


def test_demo_has_accounts_for_every_role(app, db, client):
    load_demo(complete=False)  # the accounts and phases come before the jury and final text
    db.session.commit()
    roles = dict(db.session.execute(select(User.email, User.role)).all())
    assert roles["admin@example.org"] == "admin"
    assert roles["pdl@example.org"] == "regional_editor"
    assert roles["jure@example.org"] == "juror"
    editor = db.session.scalar(select(User).where(User.email == "pdl@example.org"))
    assert editor.organisation.region_code == "52"
    phases = dict(db.session.execute(select(Consultation.slug, Consultation.phase)).all())
    assert phases == {"utiles-ensemble-2": Phase.REMISE, "consultation-ouverte": Phase.CONCERTATION}
    response = client.post(
        "/connexion", data={"email": "admin@example.org", "password": "utiles-ensemble"}
    )
    assert response.status_code == 302


def test_scale_multiplies_the_organisations(app, db):
    # The jury and the final text do not grow with the scale: leave them out (most of the time).
    load_demo(scale=3, complete=False)
    db.session.commit()
    organismes = db.session.scalar(
        select(func.count(Organisation.id)).where(Organisation.kind == "organisme")
    )
    assert organismes == 3 * 18 * 2
