from tests import factories


def test_home_redirects_to_current_consultation(client, db):
    consultation = factories.make_consultation()
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/consultations/{consultation.slug}/")


def test_signed_in_admin_sees_dashboard(admin_client):
    assert admin_client.get("/gestion/").status_code == 200


def test_role_clients_are_signed_in_with_their_role(
    contributor_client, editor_client, juror_client
):
    assert contributor_client.user.role == "contributor"
    assert editor_client.user.organisation.kind == "association_regionale"
    assert editor_client.user.region_code == "52"
    assert juror_client.get("/compte").status_code == 200
    assert juror_client.get("/gestion/").status_code == 403
