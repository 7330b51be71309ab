"""Fields a form does not have are ignored: nobody makes themselves staff, moves a proposal
to another organisation or status, or a debate to another region, by adding inputs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consultation.accounts import services as account_services
from consultation.accounts.models import Role, User
from consultation.core.models import utcnow
from consultation.debates.models import Debate, DebateStatus
from consultation.extensions import db
from consultation.jury.models import MemberSource, PoolMember
from consultation.proposals.models import Proposal, ProposalStatus
from tests import factories
from tests.core.test_permissions_table import SLUG
from tests.debates.helpers import make_debate
from tests.jury.factories import make_quotas
from tests.proposals.helpers import make_proposal, theme

PASSWORD = "une phrase de passe assez longue"


@pytest.fixture
def others(world):
    """Objects an attacker would like to point at: another consultation, organisation, user
    and region."""
    intruder = factories.make_user("admin", email="intruder@example.org")
    other = {
        "consultation": factories.make_consultation(slug="autre"),
        "organisation": factories.make_organisation(region_code="11"),
        "user": intruder,
    }
    db.session.commit()
    return other


def extra_fields(others) -> dict[str, str]:
    """The fields an attacker adds to any form."""
    return {
        "role": "admin",
        "region_id": "11",
        "region": "11",
        "region_code": "11",
        "status": "accepted",
        "author_id": str(others["user"].id),
        "organisation_id": str(others["organisation"].id),
        "is_active": "0",
        "id": "424242",
        "user_id": str(others["user"].id),
        "consultation_id": str(others["consultation"].id),
        "phase": "remise",
        "email": "hijack@example.org",
        "password_hash": "x",
    }


def test_accepting_an_invitation_keeps_its_role_and_organisation(world, others):
    organisation = world.users["contributor"].organisation
    _invitation, token = account_services.invite_user(
        "nouvelle@example.org", Role.CONTRIBUTOR, organisation, None, timedelta(days=1)
    )
    db.session.commit()

    response = world.client("anonymous").post(
        f"/invitation/{token}",
        data={
            **extra_fields(others),
            "display_name": "Nouvelle",
            "new_password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )

    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.display_name == "Nouvelle"))
    assert (user.email, user.role, user.organisation_id) == (
        "nouvelle@example.org",
        Role.CONTRIBUTOR,
        organisation.id,
    )
    assert user.is_active and user.id != 424242
    assert db.session.get(User, others["user"].id).email == "intruder@example.org"


def test_the_password_forms_change_the_password_only(world, others):
    contributor = world.users["contributor"]
    client = world.client("contributor")
    fields = extra_fields(others)

    response = client.post(
        "/compte/mot-de-passe",
        data={
            **fields,
            "current_password": factories.PASSWORD,
            "new_password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    assert response.status_code == 302
    target = world.users["target"]
    response = world.client("anonymous").post(
        f"/mot-de-passe/{world.tokens['reset']}",
        data={**fields, "new_password": PASSWORD, "confirm_password": PASSWORD},
    )
    assert response.status_code == 302

    db.session.expire_all()
    for user, email in ((contributor, contributor.email), (target, "cible@example.org")):
        user = db.session.get(User, user.id)
        assert (user.email, user.role, user.is_active) == (email, Role.CONTRIBUTOR, True)
        assert account_services.authenticate(email, PASSWORD).id == user.id
    assert db.session.get(User, others["user"].id).password_hash == factories.password_hash()


def _proposal_form(consultation_theme_id: int, action: str) -> dict[str, str]:
    return {
        "title": "Encadrer les loyers",
        "summary": "Un résumé.",
        "body": "Le texte.",
        "theme_id": str(consultation_theme_id),
        "action": action,
    }


def test_a_proposal_cannot_be_given_a_status_an_author_or_an_organisation(world, others):
    contributor = world.users["contributor"]
    client = world.client("contributor")
    theme_id = theme(world.consultation, "produire").id
    fields = extra_fields(others)

    response = client.post(
        f"/gestion/consultations/{SLUG}/propositions/nouvelle",
        data={**fields, **_proposal_form(theme_id, "draft")},
    )
    assert response.status_code == 302
    created = db.session.scalar(select(Proposal).where(Proposal.title == "Encadrer les loyers"))
    assert created.status is ProposalStatus.DRAFT

    for proposal in (created, db.session.get(Proposal, world.ids["proposal"])):
        response = client.post(
            f"/gestion/consultations/{SLUG}/propositions/{proposal.id}/modifier",
            data={**fields, **_proposal_form(theme_id, "submit"), "title": f"Titre {proposal.id}"},
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        db.session.expire_all()
        proposal = db.session.get(Proposal, proposal.id)
        assert proposal.title == f"Titre {proposal.id}"  # the real fields were saved
        assert proposal.status is ProposalStatus.SUBMITTED  # by the button, not the field
        assert proposal.author_id == contributor.id
        assert proposal.organisation_id == contributor.organisation_id
        assert proposal.consultation_id == world.consultation.id
    assert db.session.scalar(select(func.count()).select_from(Proposal)) == 2


def test_a_moderated_status_cannot_be_reached_by_a_field(world, others):
    """Even staff's moderation form takes its action from the button, not from `status`."""
    proposal = make_proposal(world.consultation)
    db.session.commit()

    world.client("contributor").post(
        f"/gestion/consultations/{SLUG}/propositions/{proposal.id}/deposer",
        data=extra_fields(others),
    )

    db.session.expire_all()
    assert db.session.get(Proposal, proposal.id).status is ProposalStatus.SUBMITTED


def _debate_form(title: str) -> dict[str, str]:
    start = (utcnow() + timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")
    end = (utcnow() + timedelta(days=9, hours=2)).strftime("%Y-%m-%dT%H:%M")
    return {
        "title": title,
        "description": "Un débat.",
        "starts_at": start,
        "ends_at": end,
        "format": "in_person",
        "venue": "Nantes",
    }


def test_an_editors_debate_stays_in_their_region_and_a_draft(world, others):
    editor = world.users["regional_editor"]
    client = world.client("regional_editor")
    fields = {**extra_fields(others), "status": DebateStatus.PUBLISHED.value}

    response = client.post(
        f"/gestion/consultations/{SLUG}/debats/nouveau", data={**fields, **_debate_form("Créé")}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    created = db.session.scalar(select(Debate).where(Debate.title == "Créé"))
    draft = make_debate(world.consultation, editor.region_code, DebateStatus.DRAFT)
    db.session.commit()
    response = client.post(
        f"/gestion/consultations/{SLUG}/debats/{draft.id}", data={**fields, **_debate_form("Édité")}
    )
    assert response.status_code == 302, response.get_data(as_text=True)

    db.session.expire_all()
    for debate_id, title in ((created.id, "Créé"), (draft.id, "Édité")):
        debate = db.session.get(Debate, debate_id)
        assert debate.title == title
        assert debate.region_code == editor.region_code != "11"
        assert debate.organiser_id == editor.organisation_id
        assert debate.status is DebateStatus.DRAFT
        assert debate.consultation_id == world.consultation.id


def test_a_jury_application_is_the_publics_and_this_consultations(world, others):
    categories = {
        f"category_{category.id}": category.quotas[0].feature
        for category in make_quotas(world.consultation)
    }
    db.session.commit()
    client = world.client("anonymous")
    page = client.get(f"/consultations/{SLUG}/jury/candidature").get_data(as_text=True)
    assert "category_" in page

    response = client.post(
        f"/consultations/{SLUG}/jury/candidature",
        data={
            **extra_fields(others),
            "source": MemberSource.IMPORT.value,
            "reference": "V99999",
            **categories,
            "full_name": "Camille Martin",
            "email": "camille@example.org",
            "has_consented": "y",
        },
    )

    assert response.status_code == 303, response.get_data(as_text=True)
    [member] = db.session.scalars(select(PoolMember)).all()
    assert member.consultation_id == world.consultation.id
    assert member.source is MemberSource.APPLICATION
    assert member.reference != "V99999"
    assert member.contact.email == "camille@example.org"


@pytest.mark.parametrize("role", ["regional_editor", "contributor", "juror"])
def test_a_non_staff_user_cannot_raise_their_own_rights(world, others, role):
    user = world.users[role]
    client = world.client(role)
    before = (user.role, user.organisation_id, user.is_active)

    response = client.post(
        f"/gestion/utilisateurs/{user.id}",
        data={**extra_fields(others), "display_name": user.display_name},
    )
    invitation = client.post(
        "/gestion/invitations", data={"email": "complice@example.org", "role": "admin"}
    )

    assert response.status_code == 403
    assert invitation.status_code == 403
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.role, user.organisation_id, user.is_active) == before


def test_the_staff_user_form_changes_only_its_own_fields(world, others):
    target = world.users["target"]
    fields = extra_fields(others)

    response = world.client("admin").post(
        f"/gestion/utilisateurs/{target.id}",
        data={
            **fields,
            "display_name": "Nouveau nom",
            "role": "contributor",
            "organisation_id": str(target.organisation_id),
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    target = db.session.get(User, target.id)
    assert target.display_name == "Nouveau nom"
    assert (target.email, target.is_active) == ("cible@example.org", True)
    assert target.password_hash == factories.password_hash()
