"""`export bill` writes one format of the final text; `export bench` times them all."""

from __future__ import annotations

import hashlib

from consultation.exports.cli import export_cli
from tests.exports.test_final_text_pages import _voted


def test_export_bill_writes_each_format(app, db, tmp_path):
    consultation = _voted(db)
    runner = app.test_cli_runner()
    for name in ("md", "json", "akn"):
        out = tmp_path / f"texte.{name}"
        result = runner.invoke(
            export_cli, ["bill", consultation.slug, "--format", name, "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert hashlib.sha256(out.read_bytes()).hexdigest() in result.output
    assert "Article 1er" in (tmp_path / "texte.md").read_text(encoding="utf-8")


def test_export_bill_refuses_bad_input_clearly(app, db, tmp_path):
    consultation = _voted(db)
    runner = app.test_cli_runner()
    out = str(tmp_path / "x")
    result = runner.invoke(export_cli, ["bill", "nope", "--format", "md", "--out", out])
    assert result.exit_code == 1 and "No consultation" in result.output
    result = runner.invoke(export_cli, ["bill", consultation.slug, "--format", "rtf", "--out", out])
    assert result.exit_code == 2 and "rtf" in result.output
    unvoted = _voted(db, choices=())
    result = runner.invoke(export_cli, ["bill", unvoted.slug, "--format", "md", "--out", out])
    assert result.exit_code == 1 and "adopted no article" in result.output
    result = runner.invoke(
        export_cli, ["bill", consultation.slug, "--format", "md", "--out", str(tmp_path)]
    )
    assert result.exit_code != 0 and "Traceback" not in result.output


def test_export_bench_times_every_format(app):
    result = app.test_cli_runner().invoke(
        export_cli, ["bench", "--articles", "3", "--sources", "6"]
    )
    assert result.exit_code == 0, result.output
    assert "proposition-de-loi.pdf" in result.output and "peak memory" in result.output
