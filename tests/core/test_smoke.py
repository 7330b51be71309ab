from tests import factories


def test_home_redirects_to_current_consultation(client, db):
    consultation = factories.make_consultation()
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/consultations/{consultation.slug}/")


def test_signed_in_admin_sees_dashboard(admin_client):
    assert admin_client.get("/gestion/").status_code == 200
