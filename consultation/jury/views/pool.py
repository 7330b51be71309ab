"""Pool pages: the public application to the jury pool, and the staff's pool page with its
summary, the import of a pool's files and the quotas editor."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from consultation.consultations.models import Consultation
from consultation.consultations.views import load_consultation
from consultation.core.errors import DomainError
from consultation.core.models import utcnow
from consultation.core.permissions import access, is_admin, public
from consultation.core.views import acting_user, show_error
from consultation.extensions import db, limiter
from consultation.jury import members, retention
from consultation.jury.forms import (
    PoolImportForm,
    QuotasForm,
    application_form,
    category_field_name,
    quotas_form,
)
from consultation.jury.models import Category
from consultation.jury.pool import PoolError
from consultation.jury.views import bp

APPLICATION_LIMIT = "10 per minute"


# --- Public: applying to the pool -------------------------------------------------------------


def _apply_page(consultation: Consultation, categories: list[Category], form, status: int = 200):
    return render_template(
        "jury/apply.html",
        consultation=consultation,
        categories=categories,
        form=form,
        closed=None,
    ), status


def _closed_page(consultation: Consultation, reason: object, status: int):
    return render_template(
        "jury/apply.html", consultation=consultation, categories=[], form=None, closed=reason
    ), status


@bp.route("/consultations/<slug>/jury/candidature", methods=["GET", "POST"])
@access(public)
@limiter.limit(APPLICATION_LIMIT, methods=["POST"])
def apply(slug: str):
    """The application form to the jury pool (GET), and an application (POST)."""
    consultation = load_consultation(slug)
    reason = members.applications_closed_reason(consultation)
    if reason is not None:
        return _closed_page(consultation, reason, 409 if request.method == "POST" else 200)
    categories = members.list_categories(consultation)
    form = application_form(categories)
    if request.method == "GET":
        return _apply_page(consultation, categories, form)
    if not form.validate():
        return _apply_page(consultation, categories, form, 400)
    try:
        members.apply_to_pool(
            consultation,
            {category.name: form[category_field_name(category)].data for category in categories},
            form.full_name.data or "",
            form.email.data or "",
            form.phone.data,
            bool(form.has_consented.data),
            utcnow(),
        )
    except DomainError as error:
        db.session.rollback()
        if error.status_code == 409 and error.field is None:  # closed meanwhile
            return _closed_page(consultation, error.message, 409)
        # The service names a category by its name; the form's field is `category_<id>`.
        by_name = {category.name: category_field_name(category) for category in categories}
        if error.field in by_name:
            error.field = by_name[error.field]
        return _apply_page(consultation, categories, form, show_error(form, error))
    flash(
        _(
            "Thank you: your application to the jury is recorded. If you are drawn, we will "
            "write to you to invite you."
        ),
        "success",
    )
    return redirect(url_for("consultations.home", slug=consultation.slug), 303)


# --- Staff: the pool, its import and its quotas ------------------------------------------------


def _pool_page(
    consultation: Consultation,
    import_form: PoolImportForm | None = None,
    editor: QuotasForm | None = None,
    status: int = 200,
):
    categories = members.list_categories(consultation)
    query = request.args.get("q", "")[:200]
    return render_template(
        "jury/pool.html",
        consultation=consultation,
        summary=members.pool_summary(consultation),
        is_frozen=members.is_pool_frozen(consultation),
        import_form=import_form or PoolImportForm(formdata=None),
        editor=editor or quotas_form(categories),
        query=query,
        found=retention.search_pool(consultation, query) if query.strip() else None,
    ), status


@bp.route("/gestion/consultations/<slug>/jury/vivier")
@access(is_admin)
def pool(slug: str):
    """The pool: members per feature against the quotas, the import and the quotas editor."""
    return _pool_page(load_consultation(slug))


@bp.route("/gestion/consultations/<slug>/jury/vivier/import", methods=["POST"])
@access(is_admin)
def import_pool(slug: str):
    """Replace the pool by the uploaded categories.csv and respondents.csv."""
    consultation = load_consultation(slug)
    form = PoolImportForm()
    try:
        members.check_pool_editable(consultation)
    except DomainError as error:
        return _pool_page(consultation, import_form=form, status=show_error(form, error))
    if not form.validate():
        return _pool_page(consultation, import_form=form, status=400)
    categories_file, respondents_file = form.categories_file.data, form.respondents_file.data
    categories_name = categories_file.filename or "categories.csv"
    respondents_name = respondents_file.filename or "respondents.csv"
    try:
        summary = members.import_pool(
            consultation,
            members.decode_upload(categories_file.read(), categories_name),
            members.decode_upload(respondents_file.read(), respondents_name),
            acting_user(),
            utcnow(),
            categories_name,
            respondents_name,
        )
    except PoolError as error:
        db.session.rollback()
        form.form_errors.append(str(error))  # with the file, line and column
        return _pool_page(consultation, import_form=form, status=error.status_code)
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(str(error.message))
        return _pool_page(consultation, import_form=form, status=error.status_code)
    flash(
        _(
            "Pool imported: %(members)d members, %(categories)d categories and %(quotas)d "
            "quotas (%(replaced)d members replaced).",
            members=summary.members,
            categories=summary.categories,
            quotas=summary.quotas,
            replaced=summary.replaced,
        ),
        "success",
    )
    return redirect(url_for("jury.pool", slug=consultation.slug), 303)


@bp.route("/gestion/consultations/<slug>/jury/vivier/quotas", methods=["POST"])
@access(is_admin)
def quotas(slug: str):
    """Save the labels and bounds of the categories and quotas."""
    consultation = load_consultation(slug)
    categories = members.list_categories(consultation)
    form = quotas_form(categories)
    try:
        members.check_pool_editable(consultation)
    except DomainError as error:
        return _pool_page(consultation, editor=form, status=show_error(form, error))
    if not form.validate():
        return _pool_page(consultation, editor=form, status=400)
    try:
        members.update_category_labels(
            consultation,
            {category.id: form[f"category_label_{category.id}"].data for category in categories},
            acting_user(),
        )
        members.update_quotas(
            consultation,
            {
                quota.id: (
                    form[f"min_{quota.id}"].data,
                    form[f"max_{quota.id}"].data,
                    form[f"label_{quota.id}"].data,
                )
                for category in categories
                for quota in category.quotas
            },
            acting_user(),
        )
    except DomainError as error:
        db.session.rollback()
        return _pool_page(consultation, editor=form, status=show_error(form, error))
    flash(_("The quotas are saved."), "success")
    return redirect(url_for("jury.pool", slug=consultation.slug), 303)


@bp.route(
    "/gestion/consultations/<slug>/jury/vivier/membres/<int:member_id>/effacer", methods=["POST"]
)
@access(is_admin)
def erase_member(slug: str, member_id: int):
    """Erase a volunteer's personal data at their request (only their contact data once a draw
    was committed, so that the draw still replays)."""
    consultation = load_consultation(slug)
    member = retention.find_pool_member(consultation, member_id)
    erasure = retention.erase_pool_member(consultation, member, acting_user(), utcnow())
    if erasure.member_removed:
        message = _(
            "Volunteer %(reference)s erased: they have left the pool, with their answers and "
            "contact details.",
            reference=erasure.reference,
        )
    elif erasure.had_contact:
        message = _(
            "Contact details of volunteer %(reference)s erased. Their pseudonymous reference and "
            "answers stay in the pool, so that the draws already committed can still be replayed.",
            reference=erasure.reference,
        )
    else:
        message = _(
            "Volunteer %(reference)s had no contact details left: nothing more to erase.",
            reference=erasure.reference,
        )
    flash(message, "success")
    return redirect(url_for("jury.pool", slug=consultation.slug), 303)
