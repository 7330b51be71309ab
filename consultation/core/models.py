"""The declarative base, column types and helpers shared by every domain's models."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Annotated, Any

from sqlalchemy import Date, DateTime, Enum, Integer, MetaData, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored in UTC on every database, SQLite included."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: give a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_type(enum_class: type[enum.StrEnum]) -> Enum:
    """Store a StrEnum by value in a VARCHAR guarded by a named CHECK constraint."""
    return Enum(
        enum_class,
        name=enum_class.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=max(len(member.value) for member in enum_class),
        values_callable=lambda members: [member.value for member in members],
    )


intpk = Annotated[int, mapped_column(Integer, primary_key=True)]
str80 = Annotated[str, mapped_column(String(80))]
str200 = Annotated[str, mapped_column(String(200))]
str320 = Annotated[str, mapped_column(String(320))]
text = Annotated[str, mapped_column(Text)]
timestamp = Annotated[datetime, mapped_column(UTCDateTime())]
day = Annotated[date, mapped_column(Date)]


class Base(DeclarativeBase):
    """Base of every model: one metadata with a constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    """Creation and update times, set by the database session."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


# Search indexes are made by the migrations with one database's own SQL (an FTS5 table, a
# tsvector): they have no model, and autogenerate must not take them for stray tables.
UNMAPPED_PREFIX = "fts_"


def is_mapped_schema_item(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    """For Alembic's `include_name`: leave the search indexes out of schema comparisons."""
    table = name if type_ == "table" else parent_names.get("table_name")
    return not (table or "").startswith(UNMAPPED_PREFIX)
