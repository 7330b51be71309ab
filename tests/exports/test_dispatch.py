"""Sending the final text to the candidates, against a real local SMTP server (aiosmtpd):
delivery with the attachments and the link, no second sending, refusals and outages retried
with back-off, concurrent jobs, the candidates' forms and the public record."""

from __future__ import annotations

import email
import email.policy
import hashlib
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from consultation.consultations.models import Phase
from consultation.core.models import utcnow
from consultation.exports import dispatch as services
from consultation.exports.models import Candidate, Dispatch, DispatchStatus
from tests import factories
from tests.exports.factories import make_candidate, make_export
from tests.smtp_server import free_port

LINK = "https://utiles-ensemble.example/consultations/remise/texte-final"


@pytest.fixture
def remise(db):
    """A consultation in the remise phase with an export and two candidates."""
    consultation = factories.make_consultation(phase=Phase.REMISE, slug="remise")
    db.session.flush()
    export = make_export(consultation)
    first = make_candidate(consultation, name="Anne Martin", email="anne@example.org")
    second = make_candidate(consultation, name="Bruno Petit", email="bruno@example.org")
    db.session.commit()
    return consultation, export, first, second


def _dispatch(db, candidate) -> Dispatch:
    db.session.expire_all()
    return db.session.scalars(select(Dispatch).where(Dispatch.candidate_id == candidate.id)).one()


def _send(client, slug: str = "remise", **data):
    return client.post(f"/gestion/consultations/{slug}/candidats/envoyer", data=data)


def _queue(db, export, candidates) -> list[Dispatch]:
    """Record dispatches as the send page does, without running their jobs."""
    dispatches = services.send_final_text(export, candidates, None, utcnow(), LINK)
    db.session.commit()
    return dispatches


# --- Delivery -------------------------------------------------------------------------------------


def test_a_send_delivers_one_message_per_candidate_with_the_files_and_the_link(
    app, db, admin_client, smtp, remise
):
    consultation, export, first, second = remise
    response = _send(admin_client, everyone="y")
    assert response.status_code == 303
    assert len(smtp.messages) == 2
    assert sorted(rcpt[0] for rcpt, _raw in smtp.messages) == [first.email, second.email]
    pdf, odt = export.file("pdf"), export.file("odt")
    for message in smtp.parsed():
        attachments = {
            part.get_filename(): part.get_content() for part in message.iter_attachments()
        }
        assert attachments == {pdf.filename: pdf.content, odt.filename: odt.content}
        body = message.get_body(("plain",)).get_content()
        assert app.config["BASE_URL"] + "/consultations/remise/texte-final" in body
        assert pdf.sha256 in body
        assert consultation.title in message["Subject"]
    dispatch = _dispatch(db, first)
    assert dispatch.status is DispatchStatus.SENT
    assert dispatch.sent_at is not None and dispatch.attempts == 0
    assert dispatch.checksums == {pdf.filename: pdf.sha256, odt.filename: odt.sha256}
    sent_to_first = email.message_from_bytes(smtp.to(first.email)[0])
    assert sent_to_first["Message-ID"] == dispatch.message_id
    assert sent_to_first["To"] == first.email


def test_sending_again_delivers_nothing_new(db, admin_client, smtp, remise):
    _consultation, _export, first, _second = remise
    assert _send(admin_client, candidate_ids=[str(first.id)]).status_code == 303
    assert len(smtp.messages) == 1
    response = _send(admin_client, everyone="y")
    assert response.status_code == 303
    assert len(smtp.to(first.email)) == 1  # the one already delivered is skipped
    assert len(smtp.messages) == 2
    _send(admin_client, everyone="y")
    assert len(smtp.messages) == 2
    assert db.session.scalar(select(func.count(Dispatch.id))) == 2
    page = admin_client.get("/gestion/consultations/remise/candidats")
    assert "2 candidates already received it and were skipped." in page.get_data(as_text=True)


def test_without_a_mail_server_messages_go_to_the_outbox(db, app, admin_client, outbox, remise):
    app.config["MAIL_URL"] = None
    _consultation, _export, first, _second = remise
    assert _send(admin_client, candidate_ids=[str(first.id)]).status_code == 303
    [message] = outbox()
    assert message["To"] == first.email
    assert {part.get_filename() for part in message.iter_attachments()} == {
        "proposition-de-loi.pdf",
        "proposition-de-loi.odt",
    }
    assert _dispatch(db, first).status is DispatchStatus.SENT


# --- Refusals, outages and retries ----------------------------------------------------------------


def test_a_refused_recipient_stays_pending_then_a_retry_delivers_once(
    app, db, admin_client, smtp, remise
):
    _consultation, _export, first, second = remise
    smtp.refused.add(second.email)
    before = utcnow()
    assert _send(admin_client, everyone="y").status_code == 303
    assert len(smtp.to(first.email)) == 1 and smtp.to(second.email) == []
    refused = _dispatch(db, second)
    assert refused.status is DispatchStatus.PENDING
    assert refused.attempts == 1
    assert "550" in refused.last_error and "Mailbox unavailable" in refused.last_error
    assert (
        before + timedelta(minutes=1) <= refused.next_attempt_at <= utcnow() + timedelta(minutes=1)
    )
    message_id = refused.message_id
    assert message_id  # chosen before the first attempt, kept for the next ones
    page = admin_client.get("/gestion/consultations/remise/candidats").get_data(as_text=True)
    assert "Mailbox unavailable" in page and "Pending" in page

    smtp.refused.clear()
    # Not due yet: the job (re-queued by a worker, or run twice) does nothing.
    assert services.deliver(refused.id, LINK, utcnow()) is None
    assert smtp.to(second.email) == []
    # Due: it is delivered, once.
    due = refused.next_attempt_at + timedelta(seconds=1)
    assert services.deliver(refused.id, LINK, due) is DispatchStatus.SENT
    assert services.deliver(refused.id, LINK, due) is None
    [raw] = smtp.to(second.email)
    assert email.message_from_bytes(raw)["Message-ID"] == message_id
    delivered = _dispatch(db, second)
    assert delivered.status is DispatchStatus.SENT
    assert delivered.attempts == 1 and delivered.last_error == ""
    assert delivered.next_attempt_at is None and delivered.sent_at == due
    assert len(smtp.to(first.email)) == 1


def test_a_server_that_is_down_leaves_the_dispatch_pending_and_retry_due_sends_it(
    app, db, smtp, remise
):
    _consultation, export, first, _second = remise
    server_url = app.config["MAIL_URL"]
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    [dispatch] = _queue(db, export, [first])
    services.deliver_dispatch(dispatch.id, LINK)
    pending = _dispatch(db, first)
    assert pending.status is DispatchStatus.PENDING and pending.attempts == 1
    assert "ConnectionRefusedError" in pending.last_error
    assert pending.next_attempt_at > utcnow()

    app.config["MAIL_URL"] = server_url
    runner = app.test_cli_runner()
    result = runner.invoke(args=["dispatch", "retry-due"])
    assert result.exit_code == 0, result.output
    assert "0 due dispatch(es) queued." in result.output  # its next attempt is a minute away
    assert smtp.messages == []
    pending.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(args=["dispatch", "retry-due"])
    assert "1 due dispatch(es) queued." in result.output
    assert len(smtp.to(first.email)) == 1
    assert _dispatch(db, first).status is DispatchStatus.SENT
    result = runner.invoke(args=["dispatch", "retry-due"])
    assert "0 due dispatch(es) queued." in result.output
    assert len(smtp.messages) == 1


def test_a_server_stopped_during_a_dispatch_sends_the_rest_later_and_nothing_twice(
    app, db, smtp, remise
):
    _consultation, export, first, second = remise
    dispatches = _queue(db, export, [first, second])
    services.deliver_dispatch(dispatches[0].id, LINK)
    smtp.stop()  # the server goes down between the two messages
    services.deliver_dispatch(dispatches[1].id, LINK)
    assert _dispatch(db, first).status is DispatchStatus.SENT
    stranded = _dispatch(db, second)
    assert stranded.status is DispatchStatus.PENDING and stranded.attempts == 1
    # It comes back, but dies in the middle of the next message (421 after DATA).
    smtp.start_again(urlsplit(app.config["MAIL_URL"]).port)
    smtp.drop_data = True
    stranded.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    runner = app.test_cli_runner()
    runner.invoke(args=["dispatch", "retry-due"])
    stranded = _dispatch(db, second)
    assert stranded.status is DispatchStatus.PENDING and stranded.attempts == 2
    assert "421" in stranded.last_error
    stranded.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = runner.invoke(args=["dispatch", "retry-due"])
    assert "1 due dispatch(es) queued." in result.output  # only the one not delivered
    assert _dispatch(db, second).status is DispatchStatus.SENT
    assert len(smtp.to(first.email)) == 1 and len(smtp.to(second.email)) == 1


def test_back_off_then_failed_after_the_last_attempt_and_staff_retry(
    app, db, admin_client, smtp, remise
):
    _consultation, export, first, _second = remise
    server_url = app.config["MAIL_URL"]
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{free_port()}"
    [dispatch] = _queue(db, export, [first])
    now = utcnow()
    delays = []
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        status = services.deliver(dispatch.id, LINK, now)
        current = _dispatch(db, first)
        assert current.attempts == attempt
        if attempt < services.MAX_ATTEMPTS:
            assert status is DispatchStatus.PENDING
            delays.append(current.next_attempt_at - now)
            now = current.next_attempt_at
    assert delays == [timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16)]
    failed = _dispatch(db, first)
    assert failed.status is DispatchStatus.FAILED and failed.next_attempt_at is None
    assert services.deliver(dispatch.id, LINK, now + timedelta(days=1)) is None
    page = admin_client.get("/gestion/consultations/remise/candidats").get_data(as_text=True)
    assert "Failed" in page and "Try again" in page

    app.config["MAIL_URL"] = server_url
    url = f"/gestion/consultations/remise/candidats/envois/{dispatch.id}/relancer"
    assert admin_client.post(url).status_code == 303
    assert len(smtp.to(first.email)) == 1
    assert _dispatch(db, first).status is DispatchStatus.SENT
    again = admin_client.post(url)  # delivered: not sent again
    assert again.status_code == 409
    assert "it is not sent again" in again.get_data(as_text=True)
    assert len(smtp.messages) == 1


def test_staff_retry_refuses_a_pending_dispatch_and_another_consultations(db, admin_client, remise):
    _consultation, export, first, _second = remise
    [dispatch] = _queue(db, export, [first])
    url = f"/gestion/consultations/remise/candidats/envois/{dispatch.id}/relancer"
    response = admin_client.post(url)
    assert response.status_code == 409
    assert "retried automatically" in response.get_data(as_text=True)
    other = factories.make_consultation(phase=Phase.REMISE, slug="autre")
    db.session.commit()
    assert (
        admin_client.post(f"/gestion/consultations/autre/candidats/envois/{dispatch.id}/relancer")
    ).status_code == 404
    assert (
        admin_client.post(
            "/gestion/consultations/remise/candidats/envois/999999/relancer"
        ).status_code
        == 404
    )
    assert other.id


def test_concurrent_deliveries_of_one_dispatch_send_it_once(app, db, smtp, remise):
    _consultation, export, first, _second = remise
    [dispatch] = _queue(db, export, [first])
    dispatch_id = dispatch.id  # read here: the threads must not touch the test's session
    smtp.delay = 0.5  # the first job is still talking to the server when the second starts
    barrier = threading.Barrier(2)
    outcomes: list[object] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                barrier.wait()
                outcomes.append(services.deliver(dispatch_id, LINK, utcnow()))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sorted(outcomes, key=str) == sorted([DispatchStatus.SENT, None], key=str)
    assert len(smtp.messages) == 1
    assert _dispatch(db, first).status is DispatchStatus.SENT


def test_send_refuses_without_an_export_outside_remise_and_with_unknown_candidates(
    db, admin_client, smtp
):
    consultation = factories.make_consultation(phase=Phase.REMISE, slug="sans-export")
    db.session.flush()
    candidate = make_candidate(consultation)
    other = factories.make_consultation(phase=Phase.REMISE, slug="voisine")
    db.session.flush()
    stranger = make_candidate(other)
    db.session.commit()
    response = _send(admin_client, "sans-export", everyone="y")
    assert response.status_code == 409
    assert "has not been exported yet" in response.get_data(as_text=True)

    make_export(consultation)
    db.session.commit()
    response = _send(admin_client, "sans-export", candidate_ids=[str(stranger.id)])
    assert response.status_code == 404
    response = _send(admin_client, "sans-export", candidate_ids=["abc"])
    assert response.status_code == 400
    response = _send(admin_client, "sans-export")
    assert response.status_code == 400
    assert "Choose at least one candidate" in response.get_data(as_text=True)

    consultation.phase = Phase.JURY
    db.session.commit()
    response = _send(admin_client, "sans-export", candidate_ids=[str(candidate.id)])
    assert response.status_code == 409
    assert "remise phase" in response.get_data(as_text=True)
    assert smtp.messages == []
    assert db.session.scalar(select(func.count(Dispatch.id))) == 0


def test_send_refuses_an_export_without_its_pdf_or_odt(db, admin_client, smtp):
    consultation = factories.make_consultation(phase=Phase.REMISE, slug="sans-odt")
    db.session.flush()
    make_export(consultation, formats=("pdf", "md"))
    make_candidate(consultation)
    db.session.commit()
    response = _send(admin_client, "sans-odt", everyone="y")
    assert response.status_code == 409
    assert "has no ODT file" in response.get_data(as_text=True)
    assert smtp.messages == []


# --- Candidates -----------------------------------------------------------------------------------


def test_candidates_are_added_edited_and_deleted(db, admin_client):
    factories.make_consultation(phase=Phase.REMISE, slug="remise")
    db.session.commit()
    url = "/gestion/consultations/remise/candidats"
    response = admin_client.post(
        url, data={"name": " Claire Durand ", "party": "Ensemble", "email": " Claire@Example.ORG "}
    )
    assert response.status_code == 303
    candidate = db.session.scalars(select(Candidate)).one()
    assert (candidate.name, candidate.email) == ("Claire Durand", "claire@example.org")
    page = admin_client.get(url).get_data(as_text=True)
    assert "Claire Durand" in page and "claire@example.org" in page
    edit = f"{url}/{candidate.id}"
    assert admin_client.get(edit).status_code == 200
    response = admin_client.post(
        edit, data={"name": "Claire Durand", "party": "Renouveau", "email": "claire@example.org"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Candidate, candidate.id).party == "Renouveau"
    assert admin_client.post(f"{edit}/supprimer").status_code == 303
    assert db.session.scalar(select(func.count(Candidate.id))) == 0


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (
            {"name": "A", "party": "", "email": "not-an-address"},
            400,
            "is not a valid e-mail address",
        ),
        ({"name": "A", "party": "", "email": "a@"}, 400, "is not a valid e-mail address"),
        ({"name": "", "party": "", "email": "a@example.org"}, 400, "Give the candidate's name."),
        ({"name": "A", "party": "", "email": ""}, 400, "Give the candidate's e-mail address."),
        ({"name": "A" * 201, "party": "", "email": "a@example.org"}, 400, "200"),
        ({"name": "B", "party": "", "email": "ANNE@example.org"}, 409, "already has the address"),
    ],
)
def test_bad_candidates_are_refused_with_a_clear_message(
    db, admin_client, remise, data, status, message
):
    response = admin_client.post("/gestion/consultations/remise/candidats", data=data)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Candidate.id))) == 2


def test_editing_to_a_duplicate_or_malformed_address_is_refused(db, admin_client, remise):
    _consultation, _export, first, second = remise
    url = f"/gestion/consultations/remise/candidats/{second.id}"
    response = admin_client.post(url, data={"name": "B", "party": "", "email": first.email})
    assert response.status_code == 409
    assert "already has the address anne@example.org" in response.get_data(as_text=True)
    response = admin_client.post(url, data={"name": "B", "party": "", "email": "b@@example"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Candidate, second.id).email == "bruno@example.org"


def test_the_service_refuses_a_duplicate_whatever_its_case(db, remise):
    consultation, _export, _first, _second = remise
    with pytest.raises(services.Conflict):
        services.add_candidate(consultation, "Anne", "", "  Anne@Example.org", None)


def test_another_consultations_candidate_is_not_found(db, admin_client, remise):
    _consultation, _export, first, _second = remise
    factories.make_consultation(phase=Phase.REMISE, slug="autre")
    db.session.commit()
    base = f"/gestion/consultations/autre/candidats/{first.id}"
    assert admin_client.get(base).status_code == 404
    assert admin_client.post(base, data={"name": "X", "email": "x@example.org"}).status_code == 404
    assert admin_client.post(f"{base}/supprimer").status_code == 404
    assert admin_client.get("/gestion/consultations/remise/candidats/999999").status_code == 404


def test_a_candidate_the_text_was_sent_to_cannot_be_deleted(db, admin_client, smtp, remise):
    _consultation, _export, first, _second = remise
    _send(admin_client, candidate_ids=[str(first.id)])
    response = admin_client.post(f"/gestion/consultations/remise/candidats/{first.id}/supprimer")
    assert response.status_code == 409
    assert "the candidate is kept" in response.get_data(as_text=True)
    assert db.session.get(Candidate, first.id) is not None


def test_candidates_of_an_archived_consultation_cannot_change(db, admin_client, remise):
    consultation, _export, _first, _second = remise
    consultation.phase = Phase.ARCHIVED
    db.session.commit()
    response = admin_client.post(
        "/gestion/consultations/remise/candidats",
        data={"name": "Z", "party": "", "email": "z@example.org"},
    )
    assert response.status_code == 409
    assert "archived" in response.get_data(as_text=True)


# --- The public record ----------------------------------------------------------------------------


def test_the_public_page_lists_names_and_dates_but_no_address(
    db, client, admin_client, smtp, remise
):
    _consultation, export, first, _second = remise
    _send(admin_client, everyone="y")
    response = client.get("/consultations/remise/texte-final/envois")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Anne Martin" in page and "Bruno Petit" in page
    assert first.party in page
    assert export.file("pdf").sha256 in page
    assert "@" not in page.split("<main", 1)[1].split("</main>", 1)[0]
    assert "example.org" not in page


def test_public_dispatches_take_one_query_whatever_their_number(db, remise, count_queries):
    consultation, export, first, second = remise
    for dispatch in _queue(db, export, [first, second]):
        dispatch.message_id = f"<{dispatch.id}@test>"
        dispatch.sent_at = utcnow()
        dispatch.status = DispatchStatus.SENT
    db.session.commit()
    db.session.refresh(consultation)  # not the query under test
    with count_queries() as two:
        assert [item.name for item in services.public_dispatches(consultation)] == [
            "Anne Martin",
            "Bruno Petit",
        ]
    extra = [make_candidate(consultation) for _ in range(5)]
    for dispatch in _queue(db, export, extra):
        dispatch.message_id = f"<{dispatch.id}@test>"
        dispatch.sent_at = utcnow()
        dispatch.status = DispatchStatus.SENT
    db.session.commit()
    db.session.refresh(consultation)
    with count_queries() as seven:
        assert len(services.public_dispatches(consultation)) == 7
    assert len(two) == len(seven) == 1


def test_the_public_page_is_not_found_before_remise_except_for_staff(db, client, admin_client):
    factories.make_consultation(phase=Phase.JURY, slug="en-jury")
    db.session.commit()
    assert client.get("/consultations/en-jury/texte-final/envois").status_code == 404
    response = admin_client.get("/consultations/en-jury/texte-final/envois")
    assert response.status_code == 200
    assert "Preview for the USH team" in response.get_data(as_text=True)


def test_message_checksums_match_the_files(db, smtp, remise):
    _consultation, export, first, _second = remise
    [dispatch] = _queue(db, export, [first])
    services.deliver(dispatch.id, LINK, utcnow())
    [message] = smtp.parsed()
    for part in message.iter_attachments():
        assert (
            hashlib.sha256(part.get_content()).hexdigest()
            == _dispatch(db, first).checksums[part.get_filename()]
        )
    assert LINK in message.get_body(("plain",)).get_content()


def test_a_file_changed_since_the_dispatch_was_recorded_is_not_sent(db, smtp, remise):
    _consultation, export, first, _second = remise
    [dispatch] = _queue(db, export, [first])
    export.file("pdf").content = b"%PDF-1.7 another text"
    db.session.commit()
    assert services.deliver(dispatch.id, LINK, utcnow()) is None
    failed = _dispatch(db, first)
    assert failed.status is DispatchStatus.FAILED
    assert "no longer matches the checksum" in failed.last_error
    assert smtp.messages == []
