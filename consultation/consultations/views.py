"""Public consultation pages and the staff pages to create, edit and advance consultations."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from consultation.consultations import services
from consultation.consultations.forms import ConsultationForm, PhaseForm
from consultation.consultations.models import PHASE_LABELS, Consultation, Phase
from consultation.core.cache import cached_page
from consultation.core.errors import DomainError
from consultation.core.permissions import access, is_admin, public
from consultation.extensions import db

bp = Blueprint("consultations", __name__)


def load_consultation(slug: str) -> Consultation:
    """The consultation with this slug if the current user may see it; else 404."""
    consultation = services.get_consultation(slug, current_user)
    if consultation is None:
        abort(404)
    return consultation


@bp.route("/consultations/")
@access(public)
@cached_page
def index():
    """All the consultations the visitor may see."""
    return render_template(
        "consultations/index.html", consultations=services.visible_consultations(current_user)
    )


@bp.route("/consultations/<slug>/")
@access(public)
@cached_page
def home(slug: str):
    """A consultation's home: its timeline of phases and key figures."""
    consultation = load_consultation(slug)
    return render_template(
        "consultations/home.html",
        consultation=consultation,
        timeline=services.timeline(consultation),
        figures=services.key_figures(consultation),
        phase_labels=PHASE_LABELS,
    )


@bp.route("/gestion/consultations")
@access(is_admin)
def manage():
    """Staff list of consultations."""
    consultations = db.session.scalars(
        select(Consultation).order_by(Consultation.created_at.desc())
    ).all()
    return render_template(
        "consultations/manage.html", consultations=consultations, phase_labels=PHASE_LABELS
    )


@bp.route("/gestion/consultations/nouvelle", methods=["GET", "POST"])
@access(is_admin)
def create():
    """Create a consultation (it starts in preparation)."""
    form = ConsultationForm()
    status = 200
    if form.validate_on_submit():
        try:
            consultation = services.create_consultation(form.to_input(), current_user)
        except DomainError as error:
            form.form_errors.append(str(error.message))
            status = error.status_code
        else:
            flash(_("Consultation created."), "success")
            return redirect(url_for("consultations.edit", slug=consultation.slug))
    elif request.method == "POST":
        status = 400
    return render_template("consultations/form.html", form=form, consultation=None), status


def _edit_page(
    consultation: Consultation,
    form: ConsultationForm,
    status: int = 200,
    phase_error: str | None = None,
):
    following = consultation.phase.next
    phase_form = PhaseForm(formdata=None, phase=following.value if following else "")
    return render_template(
        "consultations/form.html",
        form=form,
        consultation=consultation,
        phase_form=phase_form,
        phase_error=phase_error,
        phase_labels=PHASE_LABELS,
    ), status


@bp.route("/gestion/consultations/<slug>", methods=["GET", "POST"])
@access(is_admin)
def edit(slug: str):
    """Edit a consultation's texts and planned dates."""
    consultation = load_consultation(slug)
    form = ConsultationForm()
    if request.method == "GET":
        form.fill_from(consultation)
        return _edit_page(consultation, form)
    if not form.validate_on_submit():
        return _edit_page(consultation, form, 400)
    try:
        services.update_consultation(consultation, form.to_input(), current_user)
    except DomainError as error:
        form.form_errors.append(str(error.message))
        return _edit_page(consultation, form, error.status_code)
    flash(_("Consultation saved."), "success")
    return redirect(url_for("consultations.edit", slug=consultation.slug))


@bp.route("/gestion/consultations/<slug>/phase", methods=["POST"])
@access(is_admin)
def change_phase(slug: str):
    """Move the consultation to another phase; an illegal move is refused with its reason."""
    consultation = load_consultation(slug)
    form = PhaseForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.advance_phase(consultation, Phase(form.phase.data), current_user)
    except DomainError as error:
        edit_form = ConsultationForm(formdata=None)
        edit_form.fill_from(consultation)
        return _edit_page(consultation, edit_form, error.status_code, str(error.message))
    flash(
        _(
            "The consultation is now in the phase “%(phase)s”.",
            phase=PHASE_LABELS[consultation.phase],
        ),
        "success",
    )
    return redirect(url_for("consultations.edit", slug=slug))


@bp.app_template_global()
def phase_label(phase: str) -> str:
    """The readable name of a phase."""
    return str(PHASE_LABELS[Phase(phase)])
