"""Migrations are the only way the schema is made: they must match the models exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from consultation.accounts.models import Region
from consultation.core.models import is_mapped_schema_item


def test_migrations_match_the_models(db):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_name": is_mapped_schema_item},
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_regions_are_loaded_by_the_migration(db):
    assert db.session.scalar(select(func.count(Region.code))) == 18
    assert db.session.get(Region, "52").name == "Pays de la Loire"
