"""Word-level differences between two texts, for revisions, versions and edit conflicts."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup, escape

TOKEN = re.compile(r"\s+|\w+|[^\w\s]")

Operation = Literal["equal", "insert", "delete"]


@dataclass(frozen=True)
class DiffPart:
    operation: Operation
    text: str


def tokens(value: str) -> list[str]:
    """Words, runs of white space and single signs: a change shows word by word."""
    return TOKEN.findall(value)


def word_diff(before: str, after: str) -> list[DiffPart]:
    """The parts of `after` kept from `before`, inserted, and deleted from it, in reading order."""
    old, new = tokens(before), tokens(after)
    parts: list[DiffPart] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(DiffPart("equal", "".join(old[i1:i2])))
            continue
        if i2 > i1:
            parts.append(DiffPart("delete", "".join(old[i1:i2])))
        if j2 > j1:
            parts.append(DiffPart("insert", "".join(new[j1:j2])))
    return parts


def has_changes(parts: list[DiffPart]) -> bool:
    return any(part.operation != "equal" for part in parts)


def diff_html(before: str, after: str) -> Markup:
    """The difference as HTML: removed words in <del>, added ones in <ins>, the rest as text.
    Line breaks are kept by the page's `white-space: pre-wrap`."""
    html = []
    for part in word_diff(before, after):
        text = escape(part.text)
        if part.operation == "delete":
            html.append(Markup("<del>{}</del>").format(text))
        elif part.operation == "insert":
            html.append(Markup("<ins>{}</ins>").format(text))
        else:
            html.append(text)
    return Markup("").join(html)
