"""The export formats of the final text: each renders the one model (`FinalText`) to bytes."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from consultation.core.errors import NotFound
from consultation.exports.final_text import FinalText

FILE_STEM = "proposition-de-loi"


@dataclass(frozen=True)
class Format:
    name: str  # as in `export bill --format NAME` and the stored files
    extension: str  # ".pdf", ".akn.xml"
    mimetype: str
    label: object  # what people read
    module: str  # the module under consultation.exports whose `render(text) -> bytes` makes it

    @property
    def filename(self) -> str:
        return FILE_STEM + self.extension

    def render(self, text: FinalText) -> bytes:
        """The final text in this format."""
        renderer: Callable[[FinalText], bytes] = importlib.import_module(
            f"consultation.exports.{self.module}"
        ).render
        return renderer(text)


FORMATS: dict[str, Format] = {
    fmt.name: fmt
    for fmt in (
        Format("pdf", ".pdf", "application/pdf", _l("PDF"), "to_pdf"),
        Format(
            "odt",
            ".odt",
            "application/vnd.oasis.opendocument.text",
            _l("OpenDocument text (ODT)"),
            "to_odt",
        ),
        Format(
            "docx",
            ".docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            _l("Word (DOCX)"),
            "to_docx",
        ),
        Format("md", ".md", "text/markdown; charset=utf-8", _l("Markdown"), "to_markdown"),
        Format("akn", ".akn.xml", "application/akn+xml", _l("Akoma Ntoso 3.0 (XML)"), "to_akn"),
        Format("json", ".json", "application/json", _l("JSON"), "to_json"),
    )
}
ZIP = Format("zip", ".zip", "application/zip", _l("Every format (ZIP)"), "")


def get_format(name: str) -> Format:
    """A format by name; an unknown one is refused, naming those that exist."""
    try:
        return FORMATS[name]
    except KeyError:
        raise NotFound(
            _l(
                "Unknown format “%(name)s”: choose one of %(names)s.",
                name=name,
                names=", ".join(FORMATS),
            ),
            field="format",
        ) from None
