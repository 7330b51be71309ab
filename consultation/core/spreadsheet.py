"""Cells of the CSV files people open in a spreadsheet: never a formula."""

from __future__ import annotations

# A spreadsheet reads a cell starting with one of these as a formula (or, for the tab and the
# carriage return, may drop them and then read one): "CSV injection".
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """A text neutralised for spreadsheets: a leading formula character gets a quote before it,
    so that the cell shows the text as typed. Numbers and empty values are left as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
