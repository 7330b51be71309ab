"""The demo's final text: exported in every format in February 2022 and sent to six fictional
candidates; public, since the historical consultation is in the remise phase."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from consultation.consultations.models import Consultation
from consultation.demo.services import HISTORICAL_SLUG, load_demo
from consultation.exports.models import Dispatch, DispatchStatus
from consultation.exports.services import latest_export


def test_the_historical_final_text_is_exported_and_sent(db, client):
    load_demo()
    db.session.commit()
    consultation = db.session.scalar(
        select(Consultation).where(Consultation.slug == HISTORICAL_SLUG)
    )
    export = latest_export(consultation)
    assert export is not None
    assert [f.format for f in export.files] == ["pdf", "odt", "docx", "md", "akn", "json", "zip"]
    dispatches = db.session.scalars(select(Dispatch).where(Dispatch.export_id == export.id)).all()
    assert len(dispatches) == 6 and {d.status for d in dispatches} == {DispatchStatus.SENT}
    pdf = export.file("pdf")
    assert dispatches[0].checksums["proposition-de-loi.pdf"] == pdf.sha256

    page = client.get(f"/consultations/{HISTORICAL_SLUG}/texte-final")
    assert page.status_code == 200 and pdf.sha256 in page.text
    download = client.get(f"/consultations/{HISTORICAL_SLUG}/texte-final/proposition-de-loi.pdf")
    assert download.status_code == 200
    assert hashlib.sha256(download.data).hexdigest() == pdf.sha256
    assert download.data.startswith(b"%PDF")
    # Loading again adds nothing.
    load_demo()
    assert latest_export(consultation).number == export.number
