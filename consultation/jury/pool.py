"""A pool of volunteers for the jury draw, read from the Sortition Foundation's two CSV files.

`categories.csv` has one quota per row (`category,feature,min,max`); `respondents.csv` has one
row per pool member and one column per category holding the member's feature (other columns,
such as an id or contact details, are kept as they are but play no part in the draw). Members
with the same features form a *type*: every fair draw gives them the same probability, so the
solvers work over types, which are far fewer than members.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l

from consultation.core.errors import DomainError

CATEGORY_COLUMNS = ("category", "feature", "min", "max")
ID_COLUMN = "id"
DELIMITERS = ",;\t"


class PoolError(DomainError):
    """The pool files cannot be used; the message says where (file, line, column) and why."""

    def __init__(
        self,
        message: object,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message, field=column)
        self.file = file
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = [part for part in (self.file, self._line_text(), self._column_text()) if part]
        text = str(self.message)
        return f"{', '.join(where)}: {text}" if where else text

    def _line_text(self) -> str | None:
        return str(_l("line %(line)s", line=self.line)) if self.line is not None else None

    def _column_text(self) -> str | None:
        if self.column is None:
            return None
        return str(_l("column “%(column)s”", column=self.column))


@dataclass(frozen=True)
class Quota:
    """How many panel members must (min) and may (max) hold a feature of a category."""

    category: str
    feature: str
    min: int
    max: int


@dataclass(frozen=True)
class Member:
    """One pool member: the row as read (all columns) and their feature in each category."""

    line: int
    row: dict[str, str]
    features: tuple[str, ...]  # in the order of Pool.categories


@dataclass(frozen=True)
class MemberType:
    """Members sharing one feature vector, given by their indices in the respondents' order."""

    features: tuple[str, ...]
    members: tuple[int, ...]

    @property
    def size(self) -> int:
        """How many members have this type."""
        return len(self.members)


@dataclass(frozen=True)
class Pool:
    """The quotas and the members, with the members grouped into types."""

    categories: tuple[str, ...]
    quotas: tuple[Quota, ...]
    columns: tuple[str, ...]
    delimiter: str
    members: tuple[Member, ...]
    types: tuple[MemberType, ...]
    member_types: tuple[int, ...]  # the type index of each member

    @property
    def size(self) -> int:
        """The number of members, n."""
        return len(self.members)

    def features(self, category: str) -> list[Quota]:
        """The quotas of one category, in file order."""
        return [quota for quota in self.quotas if quota.category == category]

    def holders(self, quota: Quota) -> list[int]:
        """The indices of the types that hold the quota's feature."""
        position = self.categories.index(quota.category)
        return [
            index
            for index, member_type in enumerate(self.types)
            if member_type.features[position] == quota.feature
        ]

    def count(self, quota: Quota) -> int:
        """How many members hold the quota's feature."""
        return sum(self.types[index].size for index in self.holders(quota))


# --- Reading ---------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PoolError(_l("The file does not exist."), file=path.name) from None
    except UnicodeDecodeError:
        raise PoolError(_l("The file is not UTF-8 text."), file=path.name) from None


def _delimiter(text: str) -> str:
    """The delimiter of the header line: the one of `DELIMITERS` it holds most of."""
    header = text.split("\n", 1)[0]
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _rows(text: str, name: str) -> tuple[list[str], list[tuple[int, list[str]]], str]:
    """The header (stripped cells), the non-blank rows with their line numbers, the delimiter."""
    if not text.strip():
        raise PoolError(_l("The file is empty."), file=name)
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [cell.strip() for cell in next(reader)]
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise PoolError(
            _l("The file is not readable CSV: %(error)s", error=str(error)), file=name
        ) from None
    if not rows:
        raise PoolError(_l("The file has a header row but no data row."), file=name)
    duplicated = sorted({cell for cell in header if header.count(cell) > 1})
    if duplicated:
        raise PoolError(
            _l("Columns given twice: %(names)s.", names=", ".join(duplicated)), file=name, line=1
        )
    return header, rows, delimiter


def _cell(row: list[str], position: int) -> str:
    return row[position].strip() if position < len(row) else ""


def _bound(value: str, name: str, line: int, column: str) -> int:
    if not value:
        raise PoolError(_l("This quota has no %(column)s.", column=column), name, line, column)
    try:
        bound = int(value)
    except ValueError:
        raise PoolError(
            _l("“%(value)s” is not a whole number.", value=value), name, line, column
        ) from None
    if bound < 0:
        raise PoolError(
            _l("A bound cannot be negative (%(value)s).", value=bound), name, line, column
        )
    return bound


def parse_categories(text: str, name: str = "categories.csv") -> list[Quota]:
    """Read the quotas, one per row, checking bounds and duplicates."""
    header, rows, _ = _rows(text, name)
    missing = [column for column in CATEGORY_COLUMNS if column not in header]
    if missing:
        raise PoolError(
            _l("Missing columns: %(names)s.", names=", ".join(missing)), file=name, line=1
        )
    position = {column: header.index(column) for column in CATEGORY_COLUMNS}
    quotas: list[Quota] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in rows:
        category, feature = _cell(row, position["category"]), _cell(row, position["feature"])
        for column, value in (("category", category), ("feature", feature)):
            if not value:
                raise PoolError(_l("This cell is empty."), name, line, column)
        low = _bound(_cell(row, position["min"]), name, line, "min")
        high = _bound(_cell(row, position["max"]), name, line, "max")
        if low > high:
            raise PoolError(
                _l("The minimum %(min)s is above the maximum %(max)s.", min=low, max=high),
                name,
                line,
                "min",
            )
        if (category, feature) in seen:
            raise PoolError(
                _l(
                    "The quota %(category)s/%(feature)s is already given on line %(first)s.",
                    category=category,
                    feature=feature,
                    first=seen[category, feature],
                ),
                name,
                line,
                "feature",
            )
        seen[category, feature] = line
        quotas.append(Quota(category, feature, low, high))
    return quotas


def parse_respondents(
    text: str, quotas: list[Quota], name: str = "respondents.csv"
) -> tuple[tuple[str, ...], str, list[Member]]:
    """Read the members (columns, delimiter, members), checking each feature against the quotas."""
    header, rows, delimiter = _rows(text, name)
    categories = list(dict.fromkeys(quota.category for quota in quotas))
    missing = [category for category in categories if category not in header]
    if missing:
        raise PoolError(
            _l("Missing columns for the categories: %(names)s.", names=", ".join(missing)),
            file=name,
            line=1,
        )
    known = {(quota.category, quota.feature) for quota in quotas}
    positions = [header.index(category) for category in categories]
    id_position = header.index(ID_COLUMN) if ID_COLUMN in header else None
    first_line: dict[str, int] = {}
    members = []
    for line, row in rows:
        if len(row) > len(header):
            raise PoolError(_l("This row has more cells than the header."), file=name, line=line)
        features = tuple(_cell(row, position) for position in positions)
        for category, feature in zip(categories, features, strict=True):
            if not feature:
                raise PoolError(
                    _l(
                        "This member has no feature for the category %(category)s.",
                        category=category,
                    ),
                    name,
                    line,
                    category,
                )
            if (category, feature) not in known:
                raise PoolError(
                    _l(
                        "“%(feature)s” is not a feature of the category %(category)s "
                        "in the quotas.",
                        feature=feature,
                        category=category,
                    ),
                    name,
                    line,
                    category,
                )
        if id_position is not None:
            _check_id(_cell(row, id_position), first_line, name, line)
        cells = row + [""] * (len(header) - len(row))
        members.append(Member(line, dict(zip(header, cells, strict=True)), features))
    return tuple(header), delimiter, members


def _check_id(member_id: str, first_line: dict[str, int], name: str, line: int) -> None:
    if not member_id:
        raise PoolError(_l("This cell is empty."), name, line, ID_COLUMN)
    if member_id in first_line:
        raise PoolError(
            _l(
                "The id %(id)s is already used on line %(first)s.",
                id=member_id,
                first=first_line[member_id],
            ),
            name,
            line,
            ID_COLUMN,
        )
    first_line[member_id] = line


def build_pool(
    quotas: list[Quota], columns: tuple[str, ...], delimiter: str, members: list[Member]
) -> Pool:
    """Group the members into types and check that every feature has at least one holder."""
    categories = tuple(dict.fromkeys(quota.category for quota in quotas))
    by_features: dict[tuple[str, ...], list[int]] = {}
    for index, member in enumerate(members):
        by_features.setdefault(member.features, []).append(index)
    types = tuple(MemberType(features, tuple(indices)) for features, indices in by_features.items())
    type_of = {member_type.features: index for index, member_type in enumerate(types)}
    return Pool(
        categories=categories,
        quotas=tuple(quotas),
        columns=columns,
        delimiter=delimiter,
        members=tuple(members),
        types=types,
        member_types=tuple(type_of[member.features] for member in members),
    )


def parse_pool(
    categories_text: str,
    respondents_text: str,
    categories_name: str = "categories.csv",
    respondents_name: str = "respondents.csv",
) -> Pool:
    """Read a pool from the text of its two files."""
    quotas = parse_categories(categories_text, categories_name)
    columns, delimiter, members = parse_respondents(respondents_text, quotas, respondents_name)
    return build_pool(quotas, columns, delimiter, members)


def read_pool(categories: Path, respondents: Path) -> Pool:
    """Read a pool from its two files."""
    return parse_pool(
        _read_text(Path(categories)),
        _read_text(Path(respondents)),
        Path(categories).name,
        Path(respondents).name,
    )


# --- Checks before solving -------------------------------------------------------------------


class InfeasibleQuotas(DomainError):
    """No panel of size k meets the quotas; `problems` lists each reason found."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


def check_panel_size(pool: Pool, k: int) -> None:
    """Refuse a panel size below 1 or above the pool's size."""
    if k < 1:
        raise PoolError(_l("The panel size must be at least 1 (got %(k)s).", k=k))
    if k > pool.size:
        raise PoolError(
            _l("The panel size %(k)s is larger than the pool (%(n)s members).", k=k, n=pool.size)
        )


def quota_problems(pool: Pool, k: int) -> list[str]:
    """Every quota that cannot be met on its own, or category whose bounds cannot add up to k."""
    problems = []
    for quota in pool.quotas:
        held = pool.count(quota)
        if held < quota.min:
            problems.append(
                str(
                    _l(
                        "%(category)s/%(feature)s: at least %(min)s needed but only %(n)s "
                        "in the pool.",
                        category=quota.category,
                        feature=quota.feature,
                        min=quota.min,
                        n=held,
                    )
                )
            )
    for category in pool.categories:
        quotas = pool.features(category)
        low = sum(quota.min for quota in quotas)
        # A maximum above the number of holders cannot be reached: count the holders instead.
        high = sum(min(quota.max, pool.count(quota)) for quota in quotas)
        if low > k:
            problems.append(
                str(
                    _l(
                        "category %(category)s: the minimums add up to %(sum)s > k = %(k)s.",
                        category=category,
                        sum=low,
                        k=k,
                    )
                )
            )
        if high < k:
            problems.append(
                str(
                    _l(
                        "category %(category)s: the maximums add up to %(sum)s < k = %(k)s "
                        "(counting at most the members who hold each feature).",
                        category=category,
                        sum=high,
                        k=k,
                    )
                )
            )
    return problems


def check_quotas(pool: Pool, k: int) -> None:
    """Raise InfeasibleQuotas with every problem that a quick count reveals."""
    check_panel_size(pool, k)
    problems = quota_problems(pool, k)
    if problems:
        raise InfeasibleQuotas(problems)
