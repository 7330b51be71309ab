"""Phase transitions: one step forward at a time, guarded, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consultation.bill.versions import freeze_bill_version
from consultation.consultations import services
from consultation.consultations.models import Phase
from consultation.core.audit import AuditEntry
from consultation.core.errors import InvalidTransition
from consultation.core.models import utcnow
from tests import factories


def test_phases_follow_one_another(db):
    from tests.bill.helpers import add_article, make_bill

    consultation = factories.make_consultation(phase=Phase.PREPARATION)
    for phase in list(Phase)[1:]:
        if phase is Phase.JURY:  # the jury votes on a frozen version of the bill
            bill = make_bill(consultation)
            add_article(bill)
            freeze_bill_version(bill, "", None, utcnow())
        services.advance_phase(consultation, phase, actor=None)
        assert consultation.phase is phase
    actions = db.session.scalars(
        select(AuditEntry.details).where(AuditEntry.action == "consultation.phase_changed")
    ).all()
    assert [entry["phase"] for entry in actions] == [phase.value for phase in list(Phase)[1:]]


@pytest.mark.parametrize(
    ("current", "target", "reason"),
    [
        (Phase.CONCERTATION, Phase.JURY, "la phase suivante est"),
        (Phase.SYNTHESE, Phase.CONCERTATION, "phase antérieure"),
        (Phase.JURY, Phase.JURY, "phase antérieure"),
        (Phase.ARCHIVED, Phase.REMISE, "lecture seule"),
    ],
)
def test_illegal_moves_are_refused_with_their_reason(db, current, target, reason):
    consultation = factories.make_consultation(phase=current)
    with pytest.raises(InvalidTransition) as refused:
        consultation.move_to(target, utcnow())
    assert reason in str(refused.value)
    assert consultation.phase is current


def test_concertation_needs_planned_dates(db):
    consultation = factories.make_consultation(phase=Phase.PREPARATION)
    consultation.periods.clear()
    with pytest.raises(InvalidTransition, match="dates prévues"):
        services.advance_phase(consultation, Phase.CONCERTATION, actor=None)
    assert consultation.phase is Phase.PREPARATION


def test_staff_advance_the_phase_through_the_page(db, admin_client):
    consultation = factories.make_consultation(phase=Phase.CONCERTATION, slug="avancer")
    db.session.commit()
    response = admin_client.post("/gestion/consultations/avancer/phase", data={"phase": "synthese"})
    assert response.status_code == 302
    db.session.refresh(consultation)
    assert consultation.phase is Phase.SYNTHESE
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "consultation.phase_changed")
    )
    assert entry.actor_id == admin_client.user.id
    assert entry.details == {"previous": "concertation", "phase": "synthese"}


def test_an_illegal_move_through_the_page_is_a_409_with_its_reason(db, admin_client):
    consultation = factories.make_consultation(phase=Phase.CONCERTATION, slug="sauter")
    db.session.commit()
    response = admin_client.post("/gestion/consultations/sauter/phase", data={"phase": "remise"})
    assert response.status_code == 409
    assert "Les phases se suivent" in response.get_data(as_text=True)
    db.session.refresh(consultation)
    assert consultation.phase is Phase.CONCERTATION
    assert (
        db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "consultation.phase_changed")
        )
        is None
    )


def test_an_unknown_phase_is_a_bad_request(db, admin_client):
    factories.make_consultation(slug="inconnue")
    db.session.commit()
    response = admin_client.post("/gestion/consultations/inconnue/phase", data={"phase": "nope"})
    assert response.status_code == 400
