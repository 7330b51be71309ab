"""Whole-page cache for anonymous visitors, never stale.

Every transaction that writes public data raises one counter, `data_version`, in the same
transaction. A cached page is served only while the counter is the one it was rendered at, so a
change seen by the database is seen by every app server on its next request. Browsers revalidate
with the ETag (`Cache-Control: no-cache`). Tables that anonymous pages never show are "volatile":
writing them leaves cached pages valid.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Response, current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import BigInteger, event, update
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from consultation.core.database import count_query
from consultation.core.models import Base, utcnow
from consultation.extensions import db

VOLATILE_TABLES = {
    "data_version",
    "user_session",
    "audit_entry",
    "invitation",
    "password_reset",
    "proposal_import",
    # A round's ballots and log are shown only once it has closed (and closing it changes the
    # round's row, which is not volatile): a vote leaves every cached page valid.
    "ballot",
    "ballot_log_entry",
}
# An execution option for an UPDATE of a public table that changes nothing anonymous pages show
# (a vote's counter on its round): it leaves cached pages valid.
INVISIBLE_WRITE = "invisible_to_visitors"
CACHEABLE_STATUSES = {200, 301, 302}
SHARED_HEADERS = {"Content-Type", "Location"}
TOKEN_PLACEHOLDER = b"__csrf_token_placeholder__"
GZIP_MIN_SIZE = 4096  # smaller pages gain less than compressing costs
# A safety net for pages whose content depends on the time of day and says nothing about it.
MAX_AGE = timedelta(minutes=5)
_EXPIRES = "page_cache_expires_at"
_CHANGED = "public_data_changed"
_VERSION_QUERY = "SELECT value FROM data_version"


class DataVersion(Base):
    """A single row counting the transactions that changed public data."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)

    def __repr__(self) -> str:
        return f"<DataVersion {self.value}>"


def _touches_public_data(tables: set[str]) -> bool:
    return bool(tables - VOLATILE_TABLES)


def _after_flush(session: Session, _context: Any) -> None:
    changed = {
        obj.__table__.name
        for obj in (*session.new, *session.dirty, *session.deleted)
        if hasattr(obj, "__table__")
    }
    if _touches_public_data(changed):
        session.info[_CHANGED] = True


def _on_orm_execute(state: ORMExecuteState) -> None:
    """Bulk UPDATE, DELETE and INSERT statements bypass the flush: look at their table."""
    if state.is_update or state.is_delete or state.is_insert:
        if state.execution_options.get(INVISIBLE_WRITE):
            return
        table = getattr(state.statement, "table", None)
        if table is not None and _touches_public_data({table.name}):
            state.session.info[_CHANGED] = True


def _before_commit(session: Session) -> None:
    session.flush()  # the last pending changes decide whether public data changed
    if session.info.pop(_CHANGED, False):
        session.execute(update(DataVersion).values(value=DataVersion.value + 1))


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def current_version() -> int:
    """The version of public data as the database sees it now.

    This query is the whole database cost of a cached page, so it goes straight to a pooled
    driver connection: a quarter of the cost of a SQLAlchemy statement, and the ORM session is
    left without a transaction to end."""
    count_query()
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(_VERSION_QUERY)
        row = cursor.fetchone()
        cursor.close()
    finally:
        connection.close()  # back to the pool
    return row[0] if row else 0


def expire_page_at(moment: datetime) -> None:
    """Tell the page cache that the page being rendered changes at `moment` without any data
    changing (registration closes when a debate starts, an upcoming debate becomes past)."""
    if moment > utcnow():
        earliest = g.get(_EXPIRES)
        setattr(g, _EXPIRES, moment if earliest is None else min(earliest, moment))


@dataclass(frozen=True)
class CachedPage:
    version: int
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str
    expires_at: datetime  # when time alone changes the page (a debate starts), or MAX_AGE
    gzipped: bytes | None = None  # compressed once, for clients that accept gzip


class PageStore:
    """A bounded, least-recently-used map of rendered pages, local to one app process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[tuple[str, str], CachedPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> CachedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[str, str], page: CachedPage) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


def _is_cacheable_request() -> bool:
    """Only anonymous GETs with nothing personal in the session (no message waiting)."""
    return (
        current_app.config["PAGE_CACHE_ENABLED"]
        and request.method == "GET"
        and not current_user.is_authenticated
        and "_flashes" not in session
    )


def cached_page(view: Callable[..., Any] | None = None, *, form_token: bool = False) -> Any:
    """Serve the view's response from the page cache while public data has not changed.

    With `form_token`, the page holds a form: it is stored with a placeholder where the CSRF
    token goes, and each visitor gets their own token in it."""
    if view is None:
        return functools.partial(cached_page, form_token=form_token)

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _is_cacheable_request():
            return view(*args, **kwargs)
        store: PageStore = current_app.extensions["page_cache"]
        key = (request.full_path, str(get_locale()))
        version = current_version()
        page = store.get(key)
        if page is None or page.version != version or utcnow() >= page.expires_at:
            response = make_response(view(*args, **kwargs))
            page = _page_to_store(response, version, form_token)
            if page is None:
                return response
            store.put(key, page)
        return _respond(page, form_token)

    return wrapper


def _page_to_store(response: Response, version: int, form_token: bool) -> CachedPage | None:
    """What to keep of a fresh response, or None when it must not be shared."""
    if response.status_code not in CACHEABLE_STATUSES:
        return None
    body = response.get_data()
    token = g.get("csrf_token")
    if form_token and token:
        if TOKEN_PLACEHOLDER in body:
            return None
        body = body.replace(token.encode(), TOKEN_PLACEHOLDER)
    elif session.modified:
        return None  # something personal was put in the session while rendering
    headers = tuple(
        (name, value) for name, value in response.headers.items() if name in SHARED_HEADERS
    )
    compress = len(body) >= GZIP_MIN_SIZE and TOKEN_PLACEHOLDER not in body
    return CachedPage(
        expires_at=min(g.get(_EXPIRES) or utcnow() + MAX_AGE, utcnow() + MAX_AGE),
        version=version,
        status=response.status_code,
        body=body,
        headers=headers,
        etag=hashlib.sha256(body).hexdigest()[:32],
        gzipped=gzip.compress(body, compresslevel=6, mtime=0) if compress else None,
    )


def _respond(page: CachedPage, form_token: bool) -> Response:
    body = page.body
    if form_token and TOKEN_PLACEHOLDER in body:
        body = body.replace(TOKEN_PLACEHOLDER, generate_csrf().encode())
    etag = page.etag
    encoded = page.gzipped is not None and "gzip" in request.accept_encodings
    if encoded:
        body, etag = page.gzipped, f"{page.etag}-gzip"  # each encoding has its own validator
    response = current_app.response_class(body, status=page.status, headers=page.headers)
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Cookie")  # the language is chosen in the session cookie
    if page.gzipped is not None:
        response.vary.add("Accept-Encoding")
    if encoded:
        response.headers["Content-Encoding"] = "gzip"
    if body in (page.body, page.gzipped):  # the same bytes for everyone: browsers may revalidate
        response.set_etag(etag)
        response.make_conditional(request)
    return response


def init_app(app: Flask) -> None:
    """Count public-data changes on every session, and give the app its page store."""
    app.config.setdefault("PAGE_CACHE_ENABLED", True)
    app.config.setdefault("PAGE_CACHE_SIZE", 2000)
    app.extensions["page_cache"] = PageStore(app.config["PAGE_CACHE_SIZE"])
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_orm_execute)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_rollback", _after_rollback)
        event.listen(Session, "after_soft_rollback", lambda session, _: _after_rollback(session))
