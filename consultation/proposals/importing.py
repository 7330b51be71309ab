"""Import proposals from a spreadsheet saved as CSV, as Excel writes it in France.

The file is read in two steps: `read_table` refuses what is not a usable table at all (empty,
not text, wrong columns, too many rows) before anything is stored; `check_rows` then checks each
row against the consultation (themes, organisations, debates, duplicates) with a handful of
prefetched lookups, never a query per row, so that a preview of every row with its errors can be
shown before `confirm_import` saves them all in one transaction, in bulk.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, text, update

from consultation.accounts.models import Organisation, User
from consultation.consultations.models import Consultation, Phase, Theme
from consultation.core import audit
from consultation.core.database import refresh_statistics
from consultation.core.errors import Conflict, DomainError, InvalidTransition, NotFound
from consultation.core.i18n import PARIS
from consultation.debates.models import Debate, DebateStatus
from consultation.extensions import db
from consultation.proposals import search
from consultation.proposals.models import (
    BODY_MAX,
    RATIONALE_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    Proposal,
    ProposalImport,
    ProposalRevision,
    ProposalStatus,
    source_kind_of,
)

MAX_ROWS = 50_000
BATCH_SIZE = 2_000  # rows per bulk statement: keeps each one well under the drivers' limits


@dataclass(frozen=True)
class Column:
    """A column of the import file: its key, its French header, whether it must be filled."""

    key: str
    header: str
    required: bool
    max_length: int | None = None


COLUMNS: tuple[Column, ...] = (
    Column("title", "titre", True, TITLE_MAX),
    Column("summary", "résumé", True, SUMMARY_MAX),
    Column("body", "texte", True, BODY_MAX),
    Column("rationale", "exposé des motifs", False, RATIONALE_MAX),
    Column("theme", "thème", True),
    Column("organisation", "organisation", True),
    Column("debate", "débat", False),
    Column("submitted_on", "date de dépôt", False),
)
COLUMN_LABELS = {column.key: column.header for column in COLUMNS}

TEMPLATE_ROW = {
    "title": "Construire davantage de logements sociaux",
    "summary": "Relancer la production de logements abordables.",
    "body": "Porter la production à 150 000 logements sociaux par an.",
    "rationale": "La demande dépasse 2 millions de ménages.",
    "theme": "produire",
    "organisation": "Habitat Pays de la Loire (fictif)",
    "debate": "",
    "submitted_on": "15/12/2021",
}


class ImportRefused(DomainError):
    """The file as a whole cannot be read as a table of proposals; nothing is stored."""

    status_code = 400

    def __init__(self, message: object) -> None:
        super().__init__(message, field="file")


@dataclass(frozen=True)
class Table:
    """The file read as text: the column keys in file order, and the data rows (line, cells)."""

    keys: tuple[str, ...]
    rows: list[tuple[int, list[str]]]


@dataclass
class Row:
    """One row of the file, its values by column key, its errors, and what they resolve to."""

    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    theme_id: int | None = None
    organisation: Organisation | None = None
    debate_id: int | None = None
    debate_region: str | None = None
    submitted_at: datetime | None = None

    @property
    def is_valid(self) -> bool:
        return not self.errors


@dataclass
class Check:
    """Every row of a file, checked."""

    rows: list[Row]

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def invalid(self) -> int:
        return sum(1 for row in self.rows if row.errors)

    @property
    def valid(self) -> int:
        return self.total - self.invalid


# --- Reading the file --------------------------------------------------------------------------


def _header_key(value: str) -> str:
    """A header cell reduced to compare: lower case, without accents, stars or extra spaces."""
    return " ".join(search.normalise(value).replace("*", " ").replace("_", " ").split())


HEADER_KEYS = {_header_key(column.header): column.key for column in COLUMNS}


def decode(content: bytes) -> str:
    """The text of the file: UTF-8 (with or without BOM), else Windows-1252, as Excel saves it."""
    if b"\x00" in content:  # a spreadsheet's native format, a PDF, an image: not text
        raise ImportRefused(_l("This file is not a CSV file: save the spreadsheet as CSV."))
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise ImportRefused(
            _l(
                "The file's text could not be read: it is neither UTF-8 nor Windows-1252. "
                "Save it again as “CSV UTF-8”."
            )
        ) from None


def _delimiter(header_line: str) -> str:
    """`;` as Excel writes it with French settings, else `,`: whichever the header holds most."""
    return ";" if header_line.count(";") >= header_line.count(",") else ","


def read_table(content: bytes) -> Table:
    """Read a file as a table of proposals, or refuse it with a readable reason."""
    decoded = decode(content)
    if not decoded.strip():
        raise ImportRefused(_l("The file is empty."))
    header_line = decoded.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(decoded, newline=""), delimiter=_delimiter(header_line))
    try:
        lines = list(_numbered(reader))
    except csv.Error:
        raise ImportRefused(_l("This file is not a readable CSV file.")) from None
    if not lines:
        raise ImportRefused(_l("The file is empty."))
    _line, header = lines[0]
    keys = _check_header(header)
    rows = lines[1:]
    if not rows:
        raise ImportRefused(_l("The file has a header row but no proposal."))
    if len(rows) > MAX_ROWS:
        raise ImportRefused(
            _l(
                "The file has %(n)d rows; at most %(max)d can be imported at once: "
                "split it into several files.",
                n=len(rows),
                max=MAX_ROWS,
            )
        )
    return Table(keys, rows)


def _numbered(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows with the line of the file they start on (a quoted cell may span
    several lines; Excel leaves `;;;` lines at the end)."""
    start = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield start, cells
        start = reader.line_num + 1


def _check_header(header: list[str]) -> tuple[str, ...]:
    keys: list[str] = []
    unknown: list[str] = []
    for cell in header:
        key = HEADER_KEYS.get(_header_key(cell))
        if key is None and cell.strip():
            unknown.append(cell.strip())
        keys.append(key or "")
    duplicated = sorted({key for key in keys if key and keys.count(key) > 1})
    missing = [column.header for column in COLUMNS if column.required and column.key not in keys]
    if missing or unknown or duplicated:
        problems = []
        if missing:
            problems.append(
                str(_l("Missing required columns: %(names)s.", names=", ".join(missing)))
            )
        if unknown:
            problems.append(str(_l("Unknown columns: %(names)s.", names=", ".join(unknown))))
        if duplicated:
            names = ", ".join(COLUMN_LABELS[key] for key in duplicated)
            problems.append(str(_l("Columns given twice: %(names)s.", names=names)))
        expected = ", ".join(column.header for column in COLUMNS)
        problems.append(str(_l("The expected columns are: %(names)s.", names=expected)))
        raise ImportRefused(" ".join(problems))
    return tuple(keys)


# --- Checking the rows -----------------------------------------------------------------------


@dataclass
class _Lookups:
    """What the rows are checked against, fetched once per file."""

    themes: dict[str, int]
    organisations: dict[str, Organisation]
    debates: dict[int, str]
    existing: set[tuple[int, str]]


def _title_key(title: str) -> str:
    return " ".join(title.casefold().split())


def _lookups(consultation: Consultation) -> _Lookups:
    themes: dict[str, int] = {}
    for theme in db.session.scalars(select(Theme).where(Theme.consultation_id == consultation.id)):
        themes[_header_key(theme.slug)] = theme.id
        themes[_header_key(theme.name)] = theme.id
    organisations = {
        _title_key(organisation.name): organisation
        for organisation in db.session.scalars(select(Organisation))
    }
    debates = dict(
        db.session.execute(
            select(Debate.id, Debate.region_code).where(
                Debate.consultation_id == consultation.id,
                Debate.status.in_((DebateStatus.PUBLISHED, DebateStatus.HELD)),
            )
        ).all()
    )
    existing = {
        (organisation_id, _title_key(title))
        for organisation_id, title in db.session.execute(
            select(Proposal.organisation_id, Proposal.title).where(
                Proposal.consultation_id == consultation.id
            )
        )
    }
    return _Lookups(themes, organisations, debates, existing)


DATE_FORMATS = (
    re.compile(r"(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"),
)


def _parse_date(value: str) -> datetime | None:
    """JJ/MM/AAAA or AAAA-MM-JJ, as noon in Paris (the day reads the same in every time zone
    of metropolitan France and overseas); None when it is not a date."""
    for pattern in DATE_FORMATS:
        if match := pattern.fullmatch(value):
            try:
                day = date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                return None
            return datetime.combine(day, time(12), tzinfo=PARIS).astimezone(UTC)
    return None


def check_rows(consultation: Consultation, table: Table, now: datetime) -> Check:
    """Check every row of the table; each row gets its errors, in the order of its columns."""
    lookups = _lookups(consultation)
    seen: dict[tuple[str, str], int] = {}
    rows = []
    width = len(table.keys)
    for line, cells in table.rows:
        values = {key: "" for key in COLUMN_LABELS}
        for key, cell in zip(table.keys, cells, strict=False):
            if key:
                values[key] = cell.strip()
        row = Row(line, values)
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            row.errors.append(str(_l("This row has more cells than the header has columns.")))
        _check_row(row, lookups, now)
        if values["title"] and values["organisation"]:
            key = (_title_key(values["organisation"]), _title_key(values["title"]))
            if key in seen:
                row.errors.append(
                    str(
                        _l(
                            "Same organisation and title as line %(line)d of the file.",
                            line=seen[key],
                        )
                    )
                )
            else:
                seen[key] = line
        rows.append(row)
    return Check(rows)


def _check_row(row: Row, lookups: _Lookups, now: datetime) -> None:
    values = row.values
    for column in COLUMNS:
        value = values[column.key]
        if column.required and not value:
            row.errors.append(str(_l("“%(column)s” is empty.", column=column.header)))
        elif column.max_length is not None and len(value) > column.max_length:
            row.errors.append(
                str(
                    _l(
                        "“%(column)s” is too long: at most %(limit)d characters (there are %(n)d).",
                        column=column.header,
                        limit=column.max_length,
                        n=len(value),
                    )
                )
            )
    if theme := values["theme"]:
        row.theme_id = lookups.themes.get(_header_key(theme))
        if row.theme_id is None:
            row.errors.append(
                str(_l("There is no theme “%(value)s” in this consultation.", value=theme))
            )
    if name := values["organisation"]:
        row.organisation = lookups.organisations.get(_title_key(name))
        if row.organisation is None:
            row.errors.append(str(_l("There is no organisation named “%(value)s”.", value=name)))
        elif (row.organisation.id, _title_key(values["title"])) in lookups.existing:
            row.errors.append(str(_l("This organisation already has a proposal with this title.")))
    if debate := values["debate"]:
        debate_id = int(debate) if debate.isdigit() else None
        if debate_id is None or debate_id not in lookups.debates:
            row.errors.append(
                str(
                    _l(
                        "There is no published or held debate number “%(value)s” "
                        "in this consultation.",
                        value=debate,
                    )
                )
            )
        else:
            row.debate_id = debate_id
            row.debate_region = lookups.debates[debate_id]
    if submitted_on := values["submitted_on"]:
        row.submitted_at = _parse_date(submitted_on)
        if row.submitted_at is None:
            row.errors.append(
                str(
                    _l(
                        "“%(value)s” is not a date: write it DD/MM/YYYY or YYYY-MM-DD.",
                        value=submitted_on,
                    )
                )
            )
    else:
        row.submitted_at = now


# --- Use cases -------------------------------------------------------------------------------


def is_open(consultation: Consultation) -> bool:
    """Proposals are imported while they are received or moderated."""
    return consultation.phase in (Phase.CONCERTATION, Phase.SYNTHESE)


def check_open(consultation: Consultation) -> None:
    """Refuse an import outside the concertation and the synthesis."""
    if not is_open(consultation):
        raise InvalidTransition(
            _l("Proposals are imported during the concertation and the synthesis only.")
        )


def upload_import(
    consultation: Consultation, filename: str, content: bytes, actor: User | None
) -> ProposalImport:
    """Keep an uploaded file for its preview, once it reads as a table of proposals."""
    check_open(consultation)
    read_table(content)
    batch = ProposalImport(
        consultation_id=consultation.id,
        uploaded_by_id=actor.id if actor else None,
        filename=(filename or "import.csv")[:200],
        content=content,
    )
    db.session.add(batch)
    db.session.flush()
    audit.record("proposal_import.uploaded", batch, actor=actor, filename=batch.filename)
    return batch


def find_import(consultation: Consultation, import_id: int) -> ProposalImport:
    """An uploaded file of the consultation, or 404."""
    batch = db.session.get(ProposalImport, import_id)
    if batch is None or batch.consultation_id != consultation.id:
        raise NotFound(_l("This import does not exist."))
    return batch


def check_import(batch: ProposalImport, now: datetime) -> Check:
    """Every row of a stored file, checked against the consultation as it is now."""
    return check_rows(batch.consultation, read_table(batch.content), now)


def confirm_import(batch: ProposalImport, actor: User | None, now: datetime) -> int:
    """Save every row of a checked file as a submitted proposal, in bulk; returns how many.
    Refused while any row has an error, and for a file already imported."""
    check_open(batch.consultation)
    if batch.imported_at is not None:
        raise Conflict(_l("This file has already been imported."))
    checked = check_import(batch, now)
    if checked.invalid:
        raise Conflict(
            _l(
                "%(n)d rows have errors: correct the file and upload it again.",
                n=checked.invalid,
            )
        )
    # Claimed with a conditional update, so that two confirmations at once import it once.
    claimed = db.session.execute(
        update(ProposalImport)
        .where(ProposalImport.id == batch.id, ProposalImport.imported_at.is_(None))
        .values(imported_at=now, imported_count=checked.total)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(_l("This file has already been imported."))
    save_rows(batch.consultation, checked.rows, actor, now)
    db.session.refresh(batch)
    audit.record(
        "proposal_import.confirmed",
        batch,
        actor=actor,
        filename=batch.filename,
        count=checked.total,
    )
    return checked.total


def save_rows(
    consultation: Consultation, rows: Sequence[Row], actor: User | None, now: datetime
) -> list[int]:
    """Insert checked rows as submitted proposals with their first revision, and index them."""
    ids: list[int] = []
    for start in range(0, len(rows), BATCH_SIZE):
        chunk = rows[start : start + BATCH_SIZE]
        values = [_proposal_values(consultation, row, now) for row in chunk]
        chunk_ids = insert_proposals(values)
        insert_many(
            ProposalRevision,
            [
                {
                    "proposal_id": proposal_id,
                    "number": 1,
                    "title": value["title"],
                    "summary": value["summary"],
                    "body": value["body"],
                    "rationale": value["rationale"],
                    "theme_id": value["theme_id"],
                    "author_id": actor.id if actor else None,
                    "created_at": value["submitted_at"],
                }
                for proposal_id, value in zip(chunk_ids, values, strict=True)
            ],
        )
        search.index(
            db.session,
            [
                search.Document(
                    proposal_id,
                    value["title"],
                    "\n".join((value["summary"], value["body"], value["rationale"])),
                )
                for proposal_id, value in zip(chunk_ids, values, strict=True)
            ],
        )
        ids += chunk_ids
    refresh_statistics("proposal", "proposal_revision")
    return ids


def insert_many(model: Any, rows: list[dict[str, object]]) -> None:
    """Insert rows in bulk, without reading anything back (one executemany: psycopg pipelines
    it, which measured faster than multi-row INSERTs with RETURNING)."""
    if rows:
        db.session.execute(insert(model), rows)


def insert_proposals(values: list[dict[str, object]]) -> list[int]:
    """Insert proposals in bulk; returns their ids in the order of `values`.

    PostgreSQL gives RETURNING rows in the parameters' order only one or two rows per statement
    (a serial key is no "insert sentinel" for SQLAlchemy): there the ids are drawn from the
    sequence first, in one query, and the rows inserted with them in multi-row statements."""
    if db.session.get_bind().dialect.name == "postgresql":
        ids = list(
            db.session.scalars(
                text(
                    "SELECT nextval(pg_get_serial_sequence('proposal', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": len(values)},
            )
        )
        insert_many(Proposal, [{**row, "id": id_} for row, id_ in zip(values, ids, strict=True)])
        return ids
    return list(
        db.session.scalars(
            insert(Proposal).returning(Proposal.id, sort_by_parameter_order=True), values
        )
    )


def _proposal_values(consultation: Consultation, row: Row, now: datetime) -> dict[str, object]:
    organisation = row.organisation
    assert organisation is not None and row.submitted_at is not None  # checked rows only
    has_debate = row.debate_id is not None
    return {
        "consultation_id": consultation.id,
        "organisation_id": organisation.id,
        "author_id": None,  # written by the organisation, typed in by staff
        "debate_id": row.debate_id,
        "theme_id": row.theme_id,
        "source_kind": source_kind_of(organisation.kind, has_debate),
        "region_code": row.debate_region if has_debate else organisation.region_code,
        "title": row.values["title"],
        "summary": row.values["summary"],
        "body": row.values["body"],
        "rationale": row.values["rationale"],
        "status": ProposalStatus.SUBMITTED,
        "reason": "",
        "submitted_at": row.submitted_at,
        "revision_count": 1,
        "created_at": now,
        "updated_at": now,
    }


def template_csv() -> bytes:
    """A sample file: the header row and one example row, as Excel in France reads it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in COLUMNS])
    writer.writerow([TEMPLATE_ROW[column.key] for column in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")
