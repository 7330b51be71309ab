"""Page-number pagination of a select statement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort
from sqlalchemy import Select, func, select

from consultation.extensions import db


@dataclass(frozen=True)
class Page:
    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def paginate(
    query: Select[Any], page: str | int | None, per_page: int = 20, *, rows: bool = False
) -> Page:
    """One page of the query's objects (or whole rows with `rows=True`); a page number that is
    not a positive integer, or past the end, is a 404."""
    try:
        number = int(page or 1)
    except ValueError:
        abort(404)
    if number < 1:
        abort(404)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    window = query.limit(per_page).offset((number - 1) * per_page)
    items = list(db.session.execute(window).all() if rows else db.session.scalars(window))
    if number > 1 and not items:
        abort(404)
    return Page(items, number, per_page, total or 0)
