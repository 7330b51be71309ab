"""Staff manage a consultation's themes: add, rename, reorder, delete while unused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consultation.consultations.models import Phase, Theme
from consultation.core.audit import AuditEntry
from tests import factories


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    app_config["BABEL_DEFAULT_LOCALE"] = "en"
    return app_config


def _themes(db, consultation) -> list[tuple[str, str]]:
    return [
        (theme.slug, theme.name)
        for theme in db.session.scalars(
            select(Theme)
            .where(Theme.consultation_id == consultation.id)
            .order_by(Theme.position, Theme.id)
        )
    ]


@pytest.fixture
def consultation(db):
    consultation = factories.make_consultation(slug="c")
    db.session.commit()
    return consultation


def test_staff_add_themes_with_addresses_from_their_names(db, admin_client, consultation):
    for name in ("Rénover le parc", "Œuvrer ensemble", "Rénover  le parc !"):
        response = admin_client.post("/gestion/consultations/c/themes", data={"name": name})
        assert response.status_code == 302
    assert _themes(db, consultation) == [
        ("renover-le-parc", "Rénover le parc"),
        ("oeuvrer-ensemble", "Œuvrer ensemble"),
        ("renover-le-parc-2", "Rénover le parc !"),  # another name, the same address
    ]
    page = admin_client.get("/gestion/consultations/c/themes").get_data(as_text=True)
    assert "oeuvrer-ensemble" in page
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("theme.created") == 3


def test_an_empty_or_duplicate_name_is_refused_and_kept(db, admin_client, consultation):
    admin_client.post("/gestion/consultations/c/themes", data={"name": "Produire"})
    response = admin_client.post("/gestion/consultations/c/themes", data={"name": "  "})
    assert response.status_code == 400
    response = admin_client.post("/gestion/consultations/c/themes", data={"name": "produire"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "already has a theme of this name" in page
    assert 'value="produire"' in page
    assert len(_themes(db, consultation)) == 1


def test_renaming_keeps_the_address(db, admin_client, consultation):
    admin_client.post("/gestion/consultations/c/themes", data={"name": "Produire"})
    admin_client.post("/gestion/consultations/c/themes", data={"name": "Rénover"})
    theme_id = db.session.scalar(select(Theme.id).where(Theme.slug == "produire"))
    url = f"/gestion/consultations/c/themes/{theme_id}"
    assert admin_client.post(url, data={"name": "Produire plus"}).status_code == 302
    assert _themes(db, consultation)[0] == ("produire", "Produire plus")
    refused = admin_client.post(url, data={"name": "Rénover"})
    assert refused.status_code == 409
    assert 'value="Rénover"' in refused.get_data(as_text=True)
    assert admin_client.post(url, data={"name": ""}).status_code == 400
    assert _themes(db, consultation)[0] == ("produire", "Produire plus")


def test_themes_move_up_and_down(db, admin_client, consultation):
    for name in ("Un", "Deux", "Trois"):
        admin_client.post("/gestion/consultations/c/themes", data={"name": name})
    trois = db.session.scalar(select(Theme.id).where(Theme.slug == "trois"))
    url = f"/gestion/consultations/c/themes/{trois}/deplacer"
    assert admin_client.post(url, data={"direction": "up"}).status_code == 302
    assert [slug for slug, _ in _themes(db, consultation)] == ["un", "trois", "deux"]
    admin_client.post(url, data={"direction": "up"})
    admin_client.post(url, data={"direction": "up"})  # already first: nothing changes
    assert [slug for slug, _ in _themes(db, consultation)] == ["trois", "un", "deux"]
    assert admin_client.post(url, data={"direction": "sideways"}).status_code == 400


def test_a_theme_in_use_cannot_be_deleted(db, admin_client, consultation):
    from tests.proposals.helpers import make_proposal, theme

    used = theme(consultation, "produire", "Produire")
    unused = theme(consultation, "renover", "Rénover")
    make_proposal(consultation, theme_id=used.id)
    db.session.commit()
    response = admin_client.post(f"/gestion/consultations/c/themes/{used.id}/supprimer")
    assert response.status_code == 409
    assert "rename it rather than delete it" in response.get_data(as_text=True)
    response = admin_client.post(f"/gestion/consultations/c/themes/{unused.id}/supprimer")
    assert response.status_code == 302
    assert [slug for slug, _ in _themes(db, consultation)] == ["produire"]


def test_another_consultations_theme_is_not_found(db, admin_client, consultation):
    other = factories.make_consultation(slug="autre")
    theme = Theme(consultation=other, slug="x", name="X")
    db.session.add(theme)
    db.session.commit()
    response = admin_client.post(f"/gestion/consultations/c/themes/{theme.id}", data={"name": "Y"})
    assert response.status_code == 404


def test_an_archived_consultations_themes_are_read_only(db, admin_client):
    factories.make_consultation(slug="c", phase=Phase.ARCHIVED)
    db.session.commit()
    response = admin_client.post("/gestion/consultations/c/themes", data={"name": "Nouveau"})
    assert response.status_code == 409
    assert "read-only" in response.get_data(as_text=True)
