"""A full disk: an upload the server cannot spool and an export that cannot write its working
files end with a clear "storage full" answer (507), an entry in the log, and nothing saved nor
left behind."""

from __future__ import annotations

import errno
import io
import logging
import tempfile

import pytest
from flask import Request
from sqlalchemy import func, select

from consultation.exports import to_pdf
from consultation.exports.models import FinalTextExport
from consultation.extensions import db
from consultation.proposals.models import ProposalImport
from tests import factories
from tests.exports.test_final_text_pages import _voted


@pytest.fixture
def app_config(app_config: dict[str, object]) -> dict[str, object]:
    """Messages in English, as written in the code."""
    app_config["BABEL_DEFAULT_LOCALE"] = "en"
    return app_config


def _disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


class _FullDisk(io.RawIOBase):
    """A spool file on a full disk."""

    def writable(self) -> bool:
        return True

    def write(self, _data) -> int:
        _disk_full()
        return 0


def test_an_upload_on_a_full_disk_is_refused_clearly_and_saves_nothing(
    app, admin_client, monkeypatch, caplog
):
    consultation = factories.make_consultation(slug="disque")
    db.session.commit()
    monkeypatch.setattr(Request, "_get_file_stream", lambda *args, **kwargs: _FullDisk())
    with caplog.at_level(logging.ERROR):
        response = admin_client.post(
            f"/gestion/consultations/{consultation.slug}/propositions/import",
            data={"file": (io.BytesIO(b"title;summary\n" * 1000), "propositions.csv")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 507
    assert "Nothing was saved" in response.text
    assert db.session.scalar(select(func.count(ProposalImport.id))) == 0
    assert any("Disk full" in record.getMessage() for record in caplog.records)


def test_an_export_on_a_full_disk_stores_nothing_leaves_no_file_and_says_so(
    app, admin_client, monkeypatch, tmp_path, caplog
):
    consultation = _voted(db)
    # The PDF's provenance annex in another process, through a working folder: then the disk
    # fills up while the main process writes.
    monkeypatch.setattr(to_pdf, "MAX_TITLED_SOURCES", -1)
    monkeypatch.setattr(to_pdf, "write_pdf", _disk_full)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    page = f"/consultations/{consultation.slug}/texte-final"
    with caplog.at_level(logging.ERROR):
        response = admin_client.post(
            f"/gestion/consultations/{consultation.slug}/texte-final/exporter"
        )
    # The export is a job: the request only queued it; the job failed and said why.
    assert response.status_code == 303
    assert db.session.scalar(select(func.count(FinalTextExport.id))) == 0
    assert list(tmp_path.iterdir()) == []
    assert any(record.exc_info for record in caplog.records)
    assert "disk is full" in admin_client.get(page).text
    # Once the disk has room again, the next export works and the notice goes.
    monkeypatch.undo()
    admin_client.post(f"/gestion/consultations/{consultation.slug}/texte-final/exporter")
    assert db.session.scalar(select(func.count(FinalTextExport.id))) == 1
    assert "disk is full" not in admin_client.get(page).text
