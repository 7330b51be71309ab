"""French legislative numbering: "Article 1er", "Article unique", "TITRE Ier", "CHAPITRE II",
"Section 1"."""

from __future__ import annotations

from consultation.bill.models import DivisionKind

_ROMAN = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)


def roman(number: int) -> str:
    """14 → "XIV"."""
    if number < 1:
        raise ValueError("Roman numerals start at 1")
    digits = []
    for value, letters in _ROMAN:
        count, number = divmod(number, value)
        digits.append(letters * count)
    return "".join(digits)


def article_number(number: int, total: int) -> str:
    """The number as written after "Article": "1er", "2"…, or "unique" for a lone article."""
    if total == 1:
        return "unique"
    return "1er" if number == 1 else str(number)


def article_label(number: int, total: int) -> str:
    """ "Article 1er", "Article 2"…; "Article unique" when the bill has one article."""
    return f"Article {article_number(number, total)}"


def division_number(kind: DivisionKind, number: int) -> str:
    """The number of a division as written: "Ier", "II" for titres and chapitres, "1" for
    sections."""
    if kind is DivisionKind.SECTION:
        return str(number)
    return "Ier" if number == 1 else roman(number)


def division_label(kind: DivisionKind, number: int) -> str:
    """ "TITRE Ier", "CHAPITRE II", "Section 3"."""
    prefix = {
        DivisionKind.TITRE: "TITRE",
        DivisionKind.CHAPITRE: "CHAPITRE",
        DivisionKind.SECTION: "Section",
    }[kind]
    return f"{prefix} {division_number(kind, number)}"
