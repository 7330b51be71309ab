"""The management home leads each member to the proposal pages of their role."""

from __future__ import annotations

from tests import factories


def test_members_find_their_proposal_pages_from_the_dashboard(
    db, admin_client, contributor_client, editor_client
):
    factories.make_consultation(slug="c")
    db.session.commit()
    admin = admin_client.get("/gestion/").get_data(as_text=True)
    for path in ("moderation", "propositions/import", "themes", "synthese", "texte"):
        assert f"/gestion/consultations/c/{path}" in admin
    assert '/gestion/consultations/c/propositions"' not in admin
    for client in (contributor_client, editor_client):
        page = client.get("/gestion/").get_data(as_text=True)
        assert 'href="/gestion/consultations/c/propositions"' in page
        assert client.user.organisation.name in page
        assert "/gestion/consultations/c/moderation" not in page
