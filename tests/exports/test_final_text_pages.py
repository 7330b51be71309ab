"""The final-text page and its downloads: a staff preview before the remise phase, public
from it; the files served as stored, with their checksum; the export action's refusals."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from consultation.consultations.models import Phase
from consultation.core.models import utcnow
from consultation.exports.models import ExportFile, FinalTextExport
from consultation.jury import ballots
from consultation.jury.models import WHOLE_TEXT, Choice
from tests import factories
from tests.jury.factories import frozen_version, make_juror

PDF = b"%PDF-1.7 stand-in"


def _voted(db, choices=(Choice.POUR, Choice.CONTRE, Choice.POUR), phase=Phase.REMISE):  # type: ignore[no-untyped-def]
    consultation = factories.make_consultation(phase=Phase.JURY)
    version = frozen_version(consultation, len(choices))
    juror = make_juror(consultation).user
    now = utcnow()
    voting_round = ballots.open_round(
        consultation, version, now - timedelta(hours=1), now + timedelta(hours=1), 50, 50, None, now
    )
    ballots.start_round(voting_round, None, now)
    items = [item for item, _ in ballots.round_items(voting_round) if item != WHOLE_TEXT]
    for item, choice in zip(items, choices, strict=True):
        ballots.cast_ballot(voting_round, juror, item, choice, now)
    ballots.close_round(voting_round, None, now)
    consultation.phase = phase
    db.session.commit()
    return consultation


def _stored_export(db, consultation) -> FinalTextExport:  # type: ignore[no-untyped-def]
    export = FinalTextExport(
        consultation_id=consultation.id,
        number=1,
        round_number=1,
        version_checksum="0" * 64,
        article_count=2,
        files=[
            ExportFile(
                format="pdf",
                filename="proposition-de-loi.pdf",
                mimetype="application/pdf",
                size=len(PDF),
                sha256=hashlib.sha256(PDF).hexdigest(),
                content=PDF,
            )
        ],
    )
    db.session.add(export)
    db.session.commit()
    return export


def test_the_public_reads_the_final_text_in_the_remise_phase(db, client):
    consultation = _voted(db)
    page = client.get(f"/consultations/{consultation.slug}/texte-final")
    assert page.status_code == 200
    assert "Article 1<sup>er</sup>" in page.text and "Annex 1" in page.text
    # The rejected article is only in the results, under its number in the voted version.
    assert "Adopted: Article 2 of the final text" in page.text
    assert "Not adopted" in page.text
    assert "has not been exported yet" in page.text


def test_downloads_serve_the_stored_bytes_with_their_checksum(db, client):
    consultation = _voted(db)
    _stored_export(db, consultation)
    url = f"/consultations/{consultation.slug}/texte-final"
    page = client.get(url)
    assert hashlib.sha256(PDF).hexdigest() in page.text
    response = client.get(f"{url}/proposition-de-loi.pdf")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["X-Checksum-SHA256"] == hashlib.sha256(PDF).hexdigest()
    assert "attachment" in response.headers["Content-Disposition"]
    assert client.get(f"{url}/proposition-de-loi.odt").status_code == 404
    assert client.get(f"{url}/secret.txt").status_code == 404


def test_before_the_remise_phase_only_staff_preview(db, client, admin_client):
    consultation = _voted(db, phase=Phase.JURY)
    _stored_export(db, consultation)
    url = f"/consultations/{consultation.slug}/texte-final"
    assert client.get(url).status_code == 404
    assert client.get(f"{url}/proposition-de-loi.pdf").status_code == 404
    preview = admin_client.get(url)
    assert preview.status_code == 200 and "Preview for the USH team" in preview.text
    response = admin_client.get(f"{url}/proposition-de-loi.pdf")
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]


def test_the_export_is_refused_before_a_round_closes_or_without_adopted_articles(db, admin_client):
    consultation = factories.make_consultation(phase=Phase.JURY)
    db.session.commit()
    response = admin_client.post(f"/gestion/consultations/{consultation.slug}/texte-final/exporter")
    assert response.status_code == 409 and "has not closed" in response.text
    rejected = _voted(db, choices=(Choice.CONTRE,))
    response = admin_client.post(f"/gestion/consultations/{rejected.slug}/texte-final/exporter")
    assert response.status_code == 409 and "adopted no article" in response.text
    page = admin_client.get(f"/consultations/{rejected.slug}/texte-final")
    assert page.status_code == 200 and "adopted no article" in page.text


def test_the_open_data_bundle_is_public_from_the_remise_phase(db, client):
    import io
    import zipfile

    consultation = _voted(db)
    response = client.get(f"/consultations/{consultation.slug}/texte-final/donnees-ouvertes.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert f"{consultation.slug}/README.txt" in names
    early = _voted(db, phase=Phase.JURY)
    assert (
        client.get(f"/consultations/{early.slug}/texte-final/donnees-ouvertes.zip").status_code
        == 404
    )
