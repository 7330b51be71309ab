"""Personal data of the jury: staff erase a volunteer at their request, and `jury purge` erases
the pool's contact data and the rounds' secret keys once the consultation is archived, after
which the ballots still tally and verify but can no longer be linked to a juror."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consultation.accounts.models import Invitation
from consultation.consultations.models import Phase
from consultation.core.audit import AuditEntry
from consultation.core.errors import Conflict
from consultation.core.models import utcnow
from consultation.debates.models import Registration
from consultation.extensions import db as _db
from consultation.jury import ballots, retention
from consultation.jury.models import (
    WHOLE_TEXT,
    Choice,
    JurorStatus,
    MemberFeature,
    PoolContact,
    PoolMember,
    VotingRound,
)
from tests import factories
from tests.debates.helpers import make_debate, registration
from tests.jury.factories import make_draw, make_juror, make_member, make_quotas, open_voting_round

FEATURES = {"genre": "femme", "age": "35-64"}


def _count(model: type) -> int:
    return _db.session.scalar(select(func.count()).select_from(model)) or 0


def _erase_url(slug: str, member_id: int) -> str:
    return f"/gestion/consultations/{slug}/jury/vivier/membres/{member_id}/effacer"


@pytest.fixture
def pool(db):
    consultation = factories.make_consultation(slug="vivier")
    make_quotas(consultation)
    member = make_member(consultation, FEATURES, email="alix@example.org", full_name="Alix Durand")
    other = make_member(consultation, FEATURES)
    db.session.commit()
    return consultation, member, other


# --- Staff erase a volunteer ----------------------------------------------------------------


def test_before_any_draw_the_member_leaves_the_pool(pool, admin_client, db):
    consultation, member, other = pool
    response = admin_client.post(_erase_url(consultation.slug, member.id))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/gestion/consultations/vivier/jury/vivier")
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Volunteer {member.reference} erased: they have left the pool" in page
    db.session.expire_all()
    assert db.session.get(PoolMember, member.id) is None
    assert db.session.get(PoolMember, other.id) is not None
    assert _count(PoolContact) == 1
    assert (
        db.session.scalar(
            select(func.count()).select_from(MemberFeature).filter_by(member_id=member.id)
        )
        == 0
    )
    entry = db.session.scalar(select(AuditEntry).filter_by(action="jury.pool_member_erased"))
    assert entry.details == {
        "reference": member.reference,
        "member_removed": True,
        "had_contact": True,
    }
    assert entry.actor_id == admin_client.user.id


def test_after_a_draw_only_the_contact_goes_and_the_draw_still_replays(pool, admin_client, db):
    consultation, member, _other = pool
    snapshot = {"members": [{"reference": member.reference, "features": ["femme", "35-64"]}]}
    draw = make_draw(consultation, pool_snapshot=snapshot)
    juror = make_juror(consultation, draw=draw, member=member, status=JurorStatus.INVITED)
    invitation = Invitation(
        token_hash="0" * 64,
        email="alix@example.org",
        role="juror",
        expires_at=utcnow() + timedelta(days=3),
    )
    db.session.add(invitation)
    db.session.flush()
    juror.invitation_id = invitation.id
    db.session.commit()

    response = admin_client.post(_erase_url(consultation.slug, member.id))
    assert response.status_code == 303
    page = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Contact details of volunteer {member.reference} erased" in page
    db.session.expire_all()
    kept = db.session.get(PoolMember, member.id)
    assert kept is not None and kept.reference == member.reference
    assert len(kept.features) == 2
    assert kept.contact is None
    assert draw.pool_snapshot == snapshot
    invitation = db.session.get(Invitation, invitation.id)
    assert invitation.email.endswith("@erased.invalid")
    assert invitation.expires_at <= utcnow()  # the unused link stops working

    again = admin_client.post(_erase_url(consultation.slug, member.id))
    assert again.status_code == 303
    page = admin_client.get(again.headers["Location"]).get_data(as_text=True)
    assert f"Volunteer {member.reference} had no contact details left" in page


def test_an_unknown_member_or_one_of_another_pool_is_not_found(pool, admin_client, db):
    consultation, member, _other = pool
    elsewhere = factories.make_consultation(slug="ailleurs")
    db.session.commit()
    assert admin_client.post(_erase_url(consultation.slug, 999999)).status_code == 404
    assert admin_client.post(_erase_url(elsewhere.slug, member.id)).status_code == 404
    assert _count(PoolContact) == 2


@pytest.mark.parametrize("role", ["contributor", "regional_editor", "juror"])
def test_only_staff_erase_a_member(pool, sign_in, role):
    consultation, member, _other = pool
    assert sign_in(role).post(_erase_url(consultation.slug, member.id)).status_code == 403
    assert _count(PoolContact) == 2


def test_the_anonymous_public_cannot_erase_a_member(pool, client):
    consultation, member, _other = pool
    assert client.post(_erase_url(consultation.slug, member.id)).status_code == 401
    assert _count(PoolContact) == 2


def test_staff_find_a_member_by_address_reference_or_name(pool, admin_client):
    consultation, member, other = pool
    page = f"/gestion/consultations/{consultation.slug}/jury/vivier"
    for query in ("ALIX@example.org", member.reference.lower(), "durand"):
        body = admin_client.get(page, query_string={"q": query}).get_data(as_text=True)
        assert "Alix Durand" in body, query
        assert _erase_url(consultation.slug, member.id) in body
        assert _erase_url(consultation.slug, other.id) not in body
    body = admin_client.get(page, query_string={"q": "personne"}).get_data(as_text=True)
    assert "No volunteer matches" in body


class TestCsrf:
    @pytest.fixture
    def app_config(self, app_config):
        app_config["WTF_CSRF_ENABLED"] = True
        return app_config

    def test_erasing_a_member_needs_the_csrf_token(self, pool, admin_client):
        consultation, member, _other = pool
        assert admin_client.post(_erase_url(consultation.slug, member.id)).status_code == 400
        assert _count(PoolContact) == 2
        body = admin_client.get(
            f"/gestion/consultations/{consultation.slug}/jury/vivier",
            query_string={"q": member.reference},
        ).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
        response = admin_client.post(
            _erase_url(consultation.slug, member.id), data={"csrf_token": token}
        )
        assert response.status_code == 303
        assert _count(PoolContact) == 1


# --- The retention purge -----------------------------------------------------------------------


def _voted_round(db):
    """A closed round where three jurors voted, each with a pool contact, in an archived
    consultation with a debate registration; returns the round, the jurors and the slug."""
    voting_round, users = open_voting_round(jurors=3, articles=2)
    now = utcnow()
    for index, user in enumerate(users):
        for item, _label in ballots.round_items(voting_round):
            choice = Choice.POUR if index < 2 else Choice.CONTRE
            ballots.cast_ballot(voting_round, user, item, choice, now)
    ballots.close_round(voting_round, None, now)
    consultation = voting_round.consultation
    registration(make_debate(consultation), email="public@example.org")
    db.session.commit()
    return voting_round, users, consultation


def _purge(app, slug: str):
    return app.test_cli_runner().invoke(args=["jury", "purge", slug])


def test_the_purge_is_refused_before_the_archive(app, db):
    voting_round, _users, consultation = _voted_round(db)
    result = _purge(app, consultation.slug)
    assert result.exit_code == 1
    assert "The consultation is not archived" in result.output
    db.session.expire_all()
    assert db.session.get(VotingRound, voting_round.id).secret_key is not None
    assert _count(PoolContact) == 3
    with pytest.raises(Conflict):
        retention.purge_consultation(consultation, None, utcnow())


def test_the_purge_of_an_unknown_consultation_says_so(app):
    result = _purge(app, "inconnue")
    assert result.exit_code == 1
    assert "No consultation has the slug 'inconnue'" in result.output


def test_the_purge_erases_contacts_and_keys_and_ballots_still_verify(app, db, sign_in):
    voting_round, users, consultation = _voted_round(db)
    published = ballots.export_log(voting_round)
    results = voting_round.results
    consultation.phase = Phase.ARCHIVED
    db.session.commit()

    result = _purge(app, consultation.slug)
    assert result.exit_code == 0, result.output
    assert f"Purged the personal data of {consultation.slug}:" in result.output
    assert "jury pool contacts erased: 3" in result.output
    assert "debate registrations anonymised: 1" in result.output
    assert "ballot secret keys erased: 1" in result.output

    db.session.expire_all()
    voting_round = db.session.get(VotingRound, voting_round.id)
    assert voting_round.secret_key is None
    assert _count(PoolContact) == 0
    assert _count(PoolMember) == 3  # references and features: the draw's published data
    registered = db.session.scalar(select(Registration))
    assert registered.email.endswith("@erased.invalid") and registered.name == ""
    entry = db.session.scalar(select(AuditEntry).filter_by(action="jury.personal_data_purged"))
    assert entry.details["contacts"] == 3 and entry.details["secret_keys"] == 1

    # The ballots still tally, the log is unchanged and verifies.
    assert ballots.tally(voting_round) == results
    log = ballots.export_log(voting_round)
    assert log == published
    verification = ballots.verify_log(log)
    assert verification.ok, verification.problems
    whole = next(row for row in verification.tally["items"] if row["item"] == WHOLE_TEXT)
    assert (whole["pour"], whole["contre"]) == (2, 1)
    client = app.test_client()
    slug = consultation.slug
    assert (
        client.get(f"/consultations/{slug}/jury/scrutins/{voting_round.number}").status_code == 200
    )
    registre = f"/consultations/{slug}/jury/scrutins/{voting_round.number}/registre.json"
    assert client.get(registre).status_code == 200

    # No ballot can be linked to a juror any more: their receipts page says so, clearly.
    with pytest.raises(Conflict):
        ballots.voter_key(voting_round, users[0].id)
    juror = sign_in(users[0])
    page = juror.get(f"/consultations/{slug}/jury/recus")
    assert page.status_code == 200
    assert "The secret key of this round has been erased: ballots are sealed." in page.text
    assert juror.get(f"/consultations/{slug}/jury/vote").status_code == 200


def test_the_purge_is_idempotent(app, db):
    _voting_round, _users, consultation = _voted_round(db)
    consultation.phase = Phase.ARCHIVED
    db.session.commit()
    assert _purge(app, consultation.slug).exit_code == 0
    again = _purge(app, consultation.slug)
    assert again.exit_code == 0
    assert "Nothing to purge" in again.output
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .filter_by(action="jury.personal_data_purged")
        )
        == 1
    )


def test_the_purge_leaves_other_consultations_alone(app, db):
    _voting_round, _users, consultation = _voted_round(db)
    other = factories.make_consultation(slug="autre")
    make_quotas(other)
    make_member(other, FEATURES)
    consultation.phase = Phase.ARCHIVED
    db.session.commit()
    assert _purge(app, consultation.slug).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(select(PoolContact.consultation_id)) == other.id
