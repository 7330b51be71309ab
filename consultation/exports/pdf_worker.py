"""Lays out one HTML file as PDF on standard output: `python -m consultation.exports.pdf_worker
FILE STATIC_FOLDER`. The final text's PDF runs it beside its own layout (to_pdf.render)."""

import sys
from pathlib import Path

from consultation.exports.to_pdf import write_pdf


def main(source: str, static: str) -> None:
    sys.stdout.buffer.write(write_pdf(Path(source).read_text(encoding="utf-8"), static))


if __name__ == "__main__":
    main(*sys.argv[1:])
