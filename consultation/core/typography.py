"""French typography for the documents the platform publishes.

French sets a no-break space before the high punctuation marks (; : ! ?) and inside guillemets,
so that a line never starts with ":" or "»". Only spaces already typed are replaced — a missing
space is not added, because "?" and ":" also live in addresses and code.
"""

from __future__ import annotations

import re
import unicodedata

NBSP = "\u00a0"  # espace insécable, before ":" and inside « »
NNBSP = "\u202f"  # espace fine insécable, before ";", "!" and "?"

_BEFORE_COLON = re.compile(r"[ \u00a0\u202f]+:")
_BEFORE_HIGH = re.compile(r"[ \u00a0\u202f]+([;!?])")
_AFTER_OPENING = re.compile(r"«[ \u00a0\u202f]*")
_BEFORE_CLOSING = re.compile(r"[ \u00a0\u202f]*»")
_ORDINAL = re.compile(r"\b(1)(er|re)\b")


def french(text: str) -> str:
    """The text with French no-break spaces before ; : ! ? and inside « »."""
    text = _BEFORE_COLON.sub(NBSP + ":", text)
    text = _BEFORE_HIGH.sub(NNBSP + r"\1", text)
    text = _AFTER_OPENING.sub("«" + NBSP, text)
    return _BEFORE_CLOSING.sub(NBSP + "»", text)


def split_ordinal(text: str) -> list[tuple[str, bool]]:
    """Split "Article 1er" into runs, True for a run to set in superscript: [("Article 1",
    False), ("er", True)], for the formats that have superscripts."""
    runs: list[tuple[str, bool]] = []
    position = 0
    for match in _ORDINAL.finditer(text):
        runs.append((text[position : match.start(2)], False))
        runs.append((match.group(2), True))
        position = match.end()
    runs.append((text[position:], False))
    return [(run, sup) for run, sup in runs if run]


def sort_key(name: str) -> str:
    """Alphabetical order as French readers expect it: accents ignored, "Île" among the I."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
