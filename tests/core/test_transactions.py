"""A request is one transaction on every database: a savepoint never commits behind its back."""

from __future__ import annotations

from sqlalchemy import select

from consultation.accounts.models import Organisation
from tests import factories


def test_releasing_a_savepoint_commits_nothing(db):
    with db.session.begin_nested():
        factories.make_organisation(name="Dans un point de sauvegarde")
    factories.make_organisation(name="Après le point de sauvegarde")
    db.session.rollback()
    names = db.session.scalars(select(Organisation.name)).all()
    assert "Dans un point de sauvegarde" not in names
    assert "Après le point de sauvegarde" not in names
