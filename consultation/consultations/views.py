"""Public consultation pages and the staff pages to create, edit and advance consultations."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from consultation.accounts.forms import ConfirmForm
from consultation.consultations import services
from consultation.consultations.forms import ConsultationForm, MoveThemeForm, PhaseForm, ThemeForm
from consultation.consultations.models import PHASE_LABELS, Consultation, Phase, Theme
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


# --- Themes --------------------------------------------------------------------------------


def _themes_page(
    consultation: Consultation,
    form: ThemeForm,
    status: int = 200,
    row_error: RowError | None = None,
):
    themes = db.session.scalars(
        select(Theme)
        .where(Theme.consultation_id == consultation.id)
        .order_by(Theme.position, Theme.id)
    ).all()
    return render_template(
        "consultations/themes.html",
        consultation=consultation,
        themes=themes,
        form=form,
        row_error=row_error,
        confirm_form=ConfirmForm(),
    ), status


@dataclass(frozen=True)
class RowError:
    """A refused rename: which theme, what was typed (kept in its field), and why."""

    theme_id: int
    typed: str
    message: str


@bp.route("/gestion/consultations/<slug>/themes", methods=["GET", "POST"])
@access(is_admin)
def themes(slug: str):
    """The themes proposals are filed under: list them, and add one."""
    consultation = load_consultation(slug)
    form = ThemeForm()
    if request.method == "GET":
        return _themes_page(consultation, form)
    if not form.validate_on_submit():
        return _themes_page(consultation, form, 400)
    try:
        theme = services.add_theme(consultation, form.name.data, current_user)
    except DomainError as error:
        form.name.errors.append(str(error.message))
        return _themes_page(consultation, form, error.status_code)
    flash(_("Theme “%(name)s” added.", name=theme.name), "success")
    return redirect(url_for("consultations.themes", slug=slug))


@bp.route("/gestion/consultations/<slug>/themes/<int:theme_id>", methods=["POST"])
@access(is_admin)
def rename_theme(slug: str, theme_id: int):
    """Rename a theme (its address in links and filters stays)."""
    consultation = load_consultation(slug)
    theme = services.find_theme(consultation, theme_id)
    form = ThemeForm()
    if not form.validate_on_submit():
        message = " ".join(str(error) for error in form.name.errors) or _("Give the theme a name.")
        row_error = RowError(theme.id, form.name.data or "", message)
        return _themes_page(consultation, ThemeForm(formdata=None), 400, row_error)
    try:
        services.rename_theme(theme, form.name.data, current_user)
    except DomainError as error:
        db.session.rollback()
        row_error = RowError(theme_id, form.name.data, str(error.message))
        return _themes_page(consultation, ThemeForm(formdata=None), error.status_code, row_error)
    flash(_("Theme renamed."), "success")
    return redirect(url_for("consultations.themes", slug=slug))


@bp.route("/gestion/consultations/<slug>/themes/<int:theme_id>/deplacer", methods=["POST"])
@access(is_admin)
def move_theme(slug: str, theme_id: int):
    """Move a theme up or down the list."""
    consultation = load_consultation(slug)
    theme = services.find_theme(consultation, theme_id)
    form = MoveThemeForm()
    if not form.validate_on_submit():
        abort(400)
    services.move_theme(theme, -1 if form.direction.data == "up" else 1, current_user)
    return redirect(url_for("consultations.themes", slug=slug, _anchor=f"theme-{theme.id}"))


@bp.route("/gestion/consultations/<slug>/themes/<int:theme_id>/supprimer", methods=["POST"])
@access(is_admin)
def delete_theme(slug: str, theme_id: int):
    """Delete a theme no proposal is filed under."""
    consultation = load_consultation(slug)
    theme = services.find_theme(consultation, theme_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    name = theme.name
    try:
        services.delete_theme(theme, current_user)
    except DomainError as error:
        row_error = RowError(theme_id, name, str(error.message))
        return _themes_page(consultation, ThemeForm(formdata=None), error.status_code, row_error)
    flash(_("Theme “%(name)s” deleted.", name=name), "success")
    return redirect(url_for("consultations.themes", slug=slug))
