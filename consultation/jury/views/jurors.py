"""Jurors' pages: the invitation a drawn member opens to accept or decline their seat, and the
staff's list of the jurors with their answers."""

from __future__ import annotations

from collections import Counter

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from consultation.accounts.views import LINK_PAGE_LIMIT, sign_in_here
from consultation.consultations.models import Consultation
from consultation.consultations.views import load_consultation
from consultation.core.errors import Conflict, DomainError, Gone, NotFound
from consultation.core.models import utcnow
from consultation.core.permissions import access, is_admin, public
from consultation.core.views import acting_user
from consultation.extensions import db, limiter
from consultation.jury import jurors as services
from consultation.jury.forms import JurorInvitationForm
from consultation.jury.models import JUROR_STATUS_LABELS, Juror, JurorStatus
from consultation.jury.views import bp

# --- The drawn member: accept or decline ----------------------------------------------------------


def _invited_juror(consultation: Consultation, token: str) -> Juror:
    """The juror behind a usable link of this consultation; another consultation's is not found."""
    juror = services.juror_for_invitation(token, utcnow())
    if juror.consultation_id != consultation.id:
        abort(404)
    return juror


def _invitation_page(consultation: Consultation, juror: Juror, form: JurorInvitationForm, status):
    return render_template(
        "jury/invitation.html",
        consultation=consultation,
        juror=juror,
        invitation=juror.invitation,
        rounds=services.upcoming_rounds(consultation),
        form=form,
    ), status


@bp.route("/consultations/<slug>/jury/invitation/<token>", methods=["GET", "POST"])
@access(public)
@limiter.limit(LINK_PAGE_LIMIT)
def invitation(slug: str, token: str):
    """What the jury asks of a drawn member, and the form to create their juror account."""
    consultation = load_consultation(slug)
    juror = _invited_juror(consultation, token)
    form = JurorInvitationForm()
    if not form.validate_on_submit():
        return _invitation_page(consultation, juror, form, 400 if request.method == "POST" else 200)
    try:
        user = services.accept_juror_invitation(
            token, form.display_name.data, form.new_password.data, utcnow()
        )
    except (Conflict, Gone, NotFound):
        raise  # used, declined or expired meanwhile: the error page says so, with its status
    except DomainError as error:  # the password's rules (the savepoint undid the rest)
        form.new_password.errors.append(str(error.message))
        return _invitation_page(consultation, juror, form, error.status_code)
    sign_in_here(user)
    flash(_("Your juror account is ready. Welcome to the jury!"), "success")
    return redirect(url_for("jury.vote", slug=consultation.slug), 303)


@bp.route("/consultations/<slug>/jury/invitation/<token>/refuser", methods=["POST"])
@access(public)
@limiter.limit(LINK_PAGE_LIMIT)
def decline_invitation(slug: str, token: str):
    """Decline the seat on the jury; the link stops working and the seat can be drawn again."""
    consultation = load_consultation(slug)
    _invited_juror(consultation, token)
    services.decline_juror_invitation(token, utcnow())
    flash(
        _(
            "You declined the invitation. Thank you for letting us know: your seat will be offered "
            "to another volunteer."
        ),
        "success",
    )
    return redirect(url_for("consultations.home", slug=consultation.slug), 303)


# --- Staff: the jurors and their answers ----------------------------------------------------------


def _invitation_link(consultation: Consultation):
    # From BASE_URL, never from the request's Host header, which the requester controls.
    base = current_app.config["BASE_URL"]
    return lambda token: base + url_for("jury.invitation", slug=consultation.slug, token=token)


def _jurors_page(consultation: Consultation, status: int = 200, error: str | None = None):
    draws = services.consultation_jurors(consultation)
    everyone = [juror for draw in draws for juror in draw.jurors]
    to_send = sum(
        1 for juror in everyone if juror.status is JurorStatus.INVITED and juror.invitation is None
    )
    counts = Counter(juror.status for juror in everyone)
    counts[JurorStatus.INVITED] -= to_send  # "invitation sent" counts only those sent one
    return render_template(
        "jury/jurors.html",
        consultation=consultation,
        draws=draws,
        counts={status: counts.get(status, 0) for status in JurorStatus},
        total=len(everyone),
        to_send=to_send,
        vacant=services.vacant_seats(consultation),
        status_labels=JUROR_STATUS_LABELS,
        JurorStatus=JurorStatus,
        current_time=utcnow(),
        error=error,
    ), status


@bp.route("/gestion/consultations/<slug>/jury/jures")
@access(is_admin)
def jurors(slug: str):
    """The jurors of every draw, how to reach them, and whether they accepted or declined."""
    return _jurors_page(load_consultation(slug))


@bp.route("/gestion/consultations/<slug>/jury/jures/inviter", methods=["POST"])
@access(is_admin)
def invite_jurors(slug: str):
    """Send their invitation to the drawn members who have not been sent one yet."""
    consultation = load_consultation(slug)
    sent = services.invite_jurors(
        consultation, acting_user(), utcnow(), _invitation_link(consultation)
    )
    if sent:
        flash(ngettext("%(num)d invitation sent.", "%(num)d invitations sent.", sent), "success")
    left = services.count_uninvited(consultation)
    if left:
        flash(
            ngettext(
                "%(num)d drawn member could not be invited: see the reason in the list.",
                "%(num)d drawn members could not be invited: see the reasons in the list.",
                left,
            ),
            "warning",
        )
    elif not sent:
        flash(_("Every drawn member has already been sent an invitation."), "info")
    return redirect(url_for("jury.jurors", slug=consultation.slug), 303)


@bp.route("/gestion/consultations/<slug>/jury/jures/<int:juror_id>/relancer", methods=["POST"])
@access(is_admin)
def reinvite_juror(slug: str, juror_id: int):
    """Send one juror a new invitation link; their previous link stops working."""
    consultation = load_consultation(slug)
    juror = db.session.get(Juror, juror_id)
    if juror is None or juror.consultation_id != consultation.id:
        abort(404)
    try:
        services.invite_juror(juror, acting_user(), utcnow(), _invitation_link(consultation))
    except DomainError as error:
        db.session.rollback()
        return _jurors_page(consultation, error.status_code, str(error.message))
    flash(
        _("A new invitation link was sent to pool member %(ref)s.", ref=juror.member.reference),
        "success",
    )
    return redirect(url_for("jury.jurors", slug=consultation.slug), 303)
