"""Dispatch pages: the staff's candidates and the sending of the final text to them, with each
dispatch's record; and the public page saying to whom and when the text was sent."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from consultation.consultations.models import Consultation, Phase
from consultation.consultations.views import load_consultation
from consultation.core.cache import cached_page
from consultation.core.errors import DomainError
from consultation.core.models import utcnow
from consultation.core.permissions import access, authorize, is_admin, phase_in, public
from consultation.core.views import acting_user, show_error
from consultation.exports import dispatch as services
from consultation.exports.forms import CandidateForm, SendForm
from consultation.exports.models import DISPATCH_STATUS_LABELS, DispatchStatus
from consultation.exports.services import latest_export
from consultation.extensions import db

bp = Blueprint("dispatch", __name__)

# The record of the dispatches is public with the final text; staff see it before.
may_see_dispatches = phase_in(Phase.REMISE, Phase.ARCHIVED) | is_admin


def _candidates_page(
    consultation: Consultation,
    form: CandidateForm | None = None,
    send_form: SendForm | None = None,
    status: int = 200,
    error: object = None,
):
    return render_template(
        "exports/candidates.html",
        consultation=consultation,
        candidates=services.list_candidates(consultation),
        dispatches=services.consultation_dispatches(consultation),
        export=latest_export(consultation),
        form=form or CandidateForm(formdata=None),
        send_form=send_form or SendForm(formdata=None),
        status_labels=DISPATCH_STATUS_LABELS,
        DispatchStatus=DispatchStatus,
        error=str(error) if error is not None else None,
    ), status


@bp.route("/gestion/consultations/<slug>/candidats", methods=["GET", "POST"])
@access(is_admin)
def candidates(slug: str):
    """The candidates and the dispatches of the final text (GET); add a candidate (POST)."""
    consultation = load_consultation(slug)
    if request.method == "GET":
        return _candidates_page(consultation)
    form = CandidateForm()
    if not form.validate():
        return _candidates_page(consultation, form=form, status=400)
    try:
        candidate = services.add_candidate(
            consultation, form.name.data, form.party.data, form.email.data, acting_user()
        )
    except DomainError as error:
        db.session.rollback()
        return _candidates_page(consultation, form=form, status=show_error(form, error))
    flash(_("Candidate %(name)s added.", name=candidate.name), "success")
    return redirect(url_for("dispatch.candidates", slug=consultation.slug), 303)


@bp.route("/gestion/consultations/<slug>/candidats/<int:candidate_id>", methods=["GET", "POST"])
@access(is_admin)
def edit_candidate(slug: str, candidate_id: int):
    """A candidate's form (GET), and its changes (POST)."""
    consultation = load_consultation(slug)
    candidate = services.find_candidate(consultation, candidate_id)
    form = CandidateForm(obj=candidate)
    if request.method == "GET":
        return _edit_page(consultation, candidate, form)
    if not form.validate():
        return _edit_page(consultation, candidate, form, 400)
    try:
        services.update_candidate(
            candidate, form.name.data, form.party.data, form.email.data, acting_user()
        )
    except DomainError as error:
        db.session.rollback()
        return _edit_page(consultation, candidate, form, show_error(form, error))
    flash(_("Candidate %(name)s saved.", name=candidate.name), "success")
    return redirect(url_for("dispatch.candidates", slug=consultation.slug), 303)


def _edit_page(consultation: Consultation, candidate, form: CandidateForm, status: int = 200):
    return render_template(
        "exports/edit_candidate.html", consultation=consultation, candidate=candidate, form=form
    ), status


@bp.route("/gestion/consultations/<slug>/candidats/<int:candidate_id>/supprimer", methods=["POST"])
@access(is_admin)
def delete_candidate(slug: str, candidate_id: int):
    """Remove a candidate nothing was sent to."""
    consultation = load_consultation(slug)
    candidate = services.find_candidate(consultation, candidate_id)
    name = candidate.name
    try:
        services.delete_candidate(candidate, acting_user())
    except DomainError as error:
        db.session.rollback()
        return _candidates_page(consultation, status=error.status_code, error=error.message)
    flash(_("Candidate %(name)s removed.", name=name), "success")
    return redirect(url_for("dispatch.candidates", slug=consultation.slug), 303)


@bp.route("/gestion/consultations/<slug>/candidats/envoyer", methods=["POST"])
@access(is_admin)
def send(slug: str):
    """Send the latest export of the final text to every candidate, or to the ones ticked."""
    consultation = load_consultation(slug)
    form = SendForm()
    if not form.validate():
        return _candidates_page(
            consultation,
            send_form=form,
            status=400,
            error=_("Choose the candidates among those listed."),
        )
    export = latest_export(consultation)
    if export is None:
        return _candidates_page(
            consultation,
            send_form=form,
            status=409,
            error=_("The final text has not been exported yet: export it, then send it."),
        )
    everyone = services.list_candidates(consultation)
    if form.everyone.data:
        chosen = everyone
    else:
        by_id = {candidate.id: candidate for candidate in everyone}
        wanted = set(form.candidate_ids.data or [])
        if wanted - by_id.keys():  # another consultation's, or deleted meanwhile
            return _candidates_page(
                consultation,
                send_form=form,
                status=404,
                error=_("One of the chosen candidates does not exist (any more)."),
            )
        chosen = [by_id[candidate_id] for candidate_id in sorted(wanted)]
    link = services.final_text_link(consultation)
    try:
        queued = services.send_final_text(export, chosen, acting_user(), utcnow(), link)
    except DomainError as error:
        db.session.rollback()
        return _candidates_page(
            consultation, send_form=form, status=error.status_code, error=error.message
        )
    skipped = len(chosen) - len(queued)
    db.session.commit()  # each job reads its dispatch in its own transaction
    services.queue_deliveries(queued, link)
    flash(
        ngettext(
            "The final text is being sent to %(num)d candidate.",
            "The final text is being sent to %(num)d candidates.",
            len(queued),
        )
        + (
            " "
            + ngettext(
                "%(num)d candidate already received it and was skipped.",
                "%(num)d candidates already received it and were skipped.",
                skipped,
            )
            if skipped
            else ""
        ),
        "success",
    )
    return redirect(url_for("dispatch.candidates", slug=consultation.slug, _anchor="envois"), 303)


@bp.route(
    "/gestion/consultations/<slug>/candidats/envois/<int:dispatch_id>/relancer", methods=["POST"]
)
@access(is_admin)
def retry(slug: str, dispatch_id: int):
    """Try again a dispatch whose every attempt failed."""
    consultation = load_consultation(slug)
    dispatch = services.find_dispatch(consultation, dispatch_id)
    try:
        services.retry_dispatch(dispatch, acting_user())
    except DomainError as error:
        db.session.rollback()
        return _candidates_page(consultation, status=error.status_code, error=error.message)
    db.session.commit()  # the job reads the dispatch in its own transaction
    services.queue_deliveries([dispatch], services.final_text_link(consultation))
    flash(_("The dispatch is being tried again."), "success")
    return redirect(url_for("dispatch.candidates", slug=consultation.slug, _anchor="envois"), 303)


@bp.route("/consultations/<slug>/texte-final/envois")
@access(public)
@cached_page
def sent(slug: str):
    """To whom and when the final text was sent (never their addresses)."""
    consultation = authorize(may_see_dispatches, load_consultation(slug))
    return render_template(
        "exports/sent.html",
        consultation=consultation,
        dispatches=services.public_dispatches(consultation),
        is_published=phase_in(Phase.REMISE, Phase.ARCHIVED)(None, consultation),
    )
