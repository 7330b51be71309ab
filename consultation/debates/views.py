"""Public debate pages (list, calendar, detail, registration, .ics feeds) and the management
pages of regional editors and staff."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from consultation.accounts.forms import ConfirmForm
from consultation.accounts.models import Organisation, Region
from consultation.consultations.views import load_consultation
from consultation.core.cache import cached_page, expire_page_at
from consultation.core.errors import DomainError
from consultation.core.models import utcnow
from consultation.core.pagination import paginate
from consultation.core.permissions import access, is_staff_or_editor, public
from consultation.core.views import acting_user, show_error
from consultation.debates import services
from consultation.debates.calendar import build_calendar, debate_calendar
from consultation.debates.forms import CancelDebateForm, DebateForm, MinutesForm, RegistrationForm
from consultation.debates.models import (
    FORMAT_LABELS,
    STATUS_LABELS,
    Debate,
    DebateStatus,
    RegistrationStatus,
)
from consultation.debates.regions_map import debate_counts_by_region, render_region_map
from consultation.extensions import db, limiter
from consultation.proposals import services as proposal_services

bp = Blueprint("debates", __name__)

PER_PAGE = 20
MANAGE_PER_PAGE = 50
REGISTRATION_LIMIT = "10 per minute"


def _regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.name)))


def _filters() -> services.DebateFilters:
    return services.parse_filters(
        request.args.get("region"), request.args.get("month"), request.args.get("format")
    )


def _ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.app_template_global()
def debate_format_label(value: str) -> str:
    """The readable name of a debate format."""
    return str(FORMAT_LABELS[value])  # type: ignore[index]


@bp.app_template_global()
def debate_status_label(value: str) -> str:
    """The readable name of a debate status."""
    return str(STATUS_LABELS[value])  # type: ignore[index]


REGISTRATION_STATUS_LABELS = {
    RegistrationStatus.CONFIRMED: _l("Confirmed"),
    RegistrationStatus.WAITING: _l("Waiting list"),
    RegistrationStatus.CANCELLED: _l("Cancelled"),
}


@bp.app_template_global()
def registration_status_label(value: str) -> str:
    """The readable name of a registration status."""
    return str(REGISTRATION_STATUS_LABELS[RegistrationStatus(value)])


@bp.app_template_filter()
def month_title(value: date) -> str:
    """ "Novembre 2021", capitalised as a title."""
    title = format_date(value, "LLLL y")
    return title[:1].upper() + title[1:]


# --- Public pages --------------------------------------------------------------------------


@bp.route("/consultations/<slug>/debats")
@access(public)
@cached_page
def index(slug: str):
    """Upcoming and past debates, filtered by region, month and format."""
    consultation = load_consultation(slug)
    filters = _filters()
    now = utcnow()
    upcoming = paginate(
        services.upcoming_debates_query(consultation, filters, now),
        request.args.get("page"),
        per_page=PER_PAGE,
    )
    past = paginate(
        services.past_debates_query(consultation, filters, now),
        request.args.get("passes"),
        per_page=PER_PAGE,
    )
    if upcoming.items:  # the next debate to start moves from upcoming to past
        expire_page_at(min(debate.starts_at for debate in upcoming.items))
    counts = services.registration_counts([debate.id for debate in upcoming.items])
    return render_template(
        "debates/index.html",
        consultation=consultation,
        filters=filters,
        upcoming=upcoming,
        past=past,
        counts=counts,
        regions=_regions(),
        formats=FORMAT_LABELS,
    )


@bp.route("/consultations/<slug>/debats/calendrier")
@access(public)
@cached_page
def calendar_month(slug: str):
    """A month of debates as a calendar grid (this month by default)."""
    consultation = load_consultation(slug)
    filters = _filters()
    month = filters.month or utcnow().astimezone(services.PARIS).date().replace(day=1)
    debates = services.month_debates(consultation, month, filters.region)
    return render_template(
        "debates/calendar.html",
        consultation=consultation,
        filters=filters,
        month=month,
        weeks=_weeks(month, debates),
        previous_month=(month - timedelta(days=1)).replace(day=1),
        next_month=(month.replace(day=28) + timedelta(days=4)).replace(day=1),
        regions=_regions(),
    )


def _weeks(month: date, debates: list[Debate]) -> list[list[tuple[date | None, list[Debate]]]]:
    """The month's days by week (Monday first), each with the debates starting that day."""
    by_day: dict[date, list[Debate]] = {}
    for debate in debates:
        by_day.setdefault(debate.starts_at.astimezone(services.PARIS).date(), []).append(debate)
    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        weeks.append(
            [(day if day.month == month.month else None, by_day.get(day, [])) for day in week]
        )
    return weeks


@bp.route("/consultations/<slug>/debats/carte")
@access(public)
@cached_page
def region_map(slug: str):
    """The regions coloured by their number of debates, each linking to its list."""
    consultation = load_consultation(slug)
    counts = debate_counts_by_region(consultation)
    region_map = render_region_map(
        counts, lambda code: url_for("debates.index", slug=consultation.slug, region=code)
    )
    return render_template("debates/map.html", consultation=consultation, region_map=region_map)


@bp.route("/consultations/<slug>/debats/<int:debate_id>")
@access(public)
@cached_page(form_token=True)
def detail(slug: str, debate_id: int):
    """A debate: practical details, registration while open, and its minutes once held."""
    consultation = load_consultation(slug)
    debate = services.find_debate(consultation, debate_id, acting_user())
    return _detail_page(debate, RegistrationForm())


def _detail_page(debate: Debate, form: RegistrationForm, status: int = 200):
    expire_page_at(debate.starts_at)  # registration closes when the debate starts
    counts = services.registration_counts([debate.id]).get(debate.id, services.Counts())
    return render_template(
        "debates/detail.html",
        consultation=debate.consultation,
        debate=debate,
        form=form,
        counts=counts,
        remaining=services.remaining_places(debate, counts),
        is_open=debate.is_open_for_registration(utcnow()),
        may_manage=services.may_manage(acting_user(), debate),
        # After the debate, what came out of it (one query, however many proposals).
        proposals=(
            proposal_services.debate_proposals(debate) if debate.status is DebateStatus.HELD else []
        ),
    ), status


@bp.route("/consultations/<slug>/debats/<int:debate_id>/inscription", methods=["POST"])
@access(public)
@limiter.limit(REGISTRATION_LIMIT)
def register(slug: str, debate_id: int):
    """Register for a debate (or join its waiting list)."""
    consultation = load_consultation(slug)
    debate = services.find_debate(consultation, debate_id, acting_user())
    form = RegistrationForm()
    if not form.validate_on_submit():
        return _detail_page(debate, form, 400)
    try:
        registration = services.register(
            debate, form.name.data, form.email.data, form.organisation_name.data or "", utcnow()
        )
    except DomainError as error:
        status = show_error(form, error)
        db.session.rollback()
        return _detail_page(debate, form, status)
    if registration.status == "confirmed":
        flash(
            _(
                "You are registered. A confirmation was sent to %(email)s.",
                email=registration.email,
            ),
            "success",
        )
    else:
        flash(
            _(
                "The debate is full: you are on the waiting list. We will write to %(email)s "
                "if a place becomes free.",
                email=registration.email,
            ),
            "info",
        )
    return redirect(url_for("debates.detail", slug=slug, debate_id=debate.id))


@bp.route("/consultations/<slug>/debats/<int:debate_id>.ics")
@access(public)
@cached_page
def debate_ics(slug: str, debate_id: int):
    """One debate as an .ics file ("add to my calendar")."""
    consultation = load_consultation(slug)
    debate = services.find_debate(consultation, debate_id, acting_user())
    if debate.status is DebateStatus.DRAFT:
        abort(404)  # a calendar must not learn of a draft, even its editor's
    return _ics_response(debate_calendar(debate), f"debat-{debate.id}.ics")


@bp.route("/consultations/<slug>/debats.ics")
@access(public)
@cached_page
def feed(slug: str):
    """The iCalendar feed of the consultation's debates (`?region=CODE` for one region)."""
    consultation = load_consultation(slug)
    region = services.find_region(request.args.get("region"))
    debates = services.consultation_feed_debates(consultation, region)
    name = f"{consultation.title} – {region.name}" if region else consultation.title
    filename = f"debats-{region.code}.ics" if region else "debats.ics"
    return _ics_response(build_calendar(debates, name), filename)


@bp.route("/inscriptions/<token>/annuler", methods=["GET", "POST"])
@access(public)
@limiter.limit("20 per minute")
def cancel_registration(token: str):
    """Cancel one's registration from the link in the confirmation e-mail."""
    registration = services.find_registration(token)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        services.cancel_registration(token, utcnow())
        debate = registration.debate
        flash(_("Your registration is cancelled. Thank you for freeing your place."), "success")
        return redirect(
            url_for("debates.detail", slug=debate.consultation.slug, debate_id=debate.id)
        )
    return render_template("debates/cancel_registration.html", registration=registration, form=form)


# --- Management ----------------------------------------------------------------------------


def _managed(slug: str, debate_id: int) -> Debate:
    consultation = load_consultation(slug)
    return services.find_managed_debate(consultation, debate_id, acting_user())


def _debate_form(obj: Debate | None = None) -> DebateForm:
    form = DebateForm()
    form.region_code.choices = [SelectChoice("", "—")] + [
        SelectChoice(region.code, region.name) for region in _regions()
    ]
    organisations = db.session.execute(
        select(Organisation.id, Organisation.name).order_by(Organisation.name)
    )
    form.partner_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(org_id, name) for org_id, name in organisations
    ]
    if obj is not None and request.method == "GET":
        form.fill_from(obj)
    return form


def _flash_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        flash(warning, "warning")


@bp.route("/gestion/consultations/<slug>/debats")
@access(is_staff_or_editor)
def manage(slug: str):
    """The debates the user manages: their region's, or all for staff."""
    consultation = load_consultation(slug)
    page = paginate(
        services.managed_debates_query(consultation, acting_user()),
        request.args.get("page"),
        per_page=MANAGE_PER_PAGE,
    )
    counts = services.registration_counts([debate.id for debate in page.items])
    return render_template(
        "debates/manage.html", consultation=consultation, page=page, counts=counts
    )


@bp.route("/gestion/consultations/<slug>/debats/nouveau", methods=["GET", "POST"])
@access(is_staff_or_editor)
def create(slug: str):
    """Schedule a new debate (a draft until published)."""
    consultation = load_consultation(slug)
    form = _debate_form()
    status = 200
    if form.validate_on_submit():
        try:
            debate, warnings = services.create_debate(consultation, form.to_input(), acting_user())
        except DomainError as error:
            status = show_error(form, error)
        else:
            flash(_("Debate saved as a draft. Publish it when it is ready."), "success")
            _flash_warnings(warnings)
            return redirect(url_for("debates.edit", slug=slug, debate_id=debate.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "debates/form.html", consultation=consultation, form=form, debate=None
    ), status


@bp.route("/gestion/consultations/<slug>/debats/<int:debate_id>", methods=["GET", "POST"])
@access(is_staff_or_editor)
def edit(slug: str, debate_id: int):
    """Edit a debate, and reach its publication, cancellation, minutes and registrations."""
    debate = _managed(slug, debate_id)
    form = _debate_form(debate)
    status = 200
    if form.validate_on_submit():
        try:
            warnings = services.update_debate(debate, form.to_input(), acting_user())
        except DomainError as error:
            db.session.rollback()
            status = show_error(form, error)
            debate = _managed(slug, debate_id)
        else:
            flash(_("Debate saved."), "success")
            _flash_warnings(warnings)
            return redirect(url_for("debates.edit", slug=slug, debate_id=debate.id))
    elif request.method == "POST":
        status = 400
    counts = services.registration_counts([debate.id]).get(debate.id, services.Counts())
    registrations = paginate(
        services.registrations_query(debate), request.args.get("page"), per_page=MANAGE_PER_PAGE
    )
    return render_template(
        "debates/form.html",
        consultation=debate.consultation,
        form=form,
        debate=debate,
        counts=counts,
        registrations=registrations,
        confirm_form=ConfirmForm(),
    ), status


@bp.route("/gestion/consultations/<slug>/debats/<int:debate_id>/publier", methods=["POST"])
@access(is_staff_or_editor)
def publish(slug: str, debate_id: int):
    """Publish a draft debate."""
    debate = _managed(slug, debate_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    warnings = services.publish_debate(debate, acting_user())
    flash(_("Debate published."), "success")
    _flash_warnings(warnings)
    return redirect(url_for("debates.edit", slug=slug, debate_id=debate.id))


@bp.route("/gestion/consultations/<slug>/debats/<int:debate_id>/annuler", methods=["GET", "POST"])
@access(is_staff_or_editor)
def cancel(slug: str, debate_id: int):
    """Cancel a published debate; everyone registered is told."""
    debate = _managed(slug, debate_id)
    form = CancelDebateForm()
    status = 200
    if form.validate_on_submit():
        try:
            told = services.cancel_debate(debate, form.reason.data, acting_user())
        except DomainError as error:
            status = show_error(form, error)
        else:
            flash(_("Debate cancelled; %(n)d registered people were told.", n=told), "success")
            return redirect(url_for("debates.edit", slug=slug, debate_id=debate.id))
    elif request.method == "POST":
        status = 400
    return render_template("debates/cancel.html", debate=debate, form=form), status


@bp.route(
    "/gestion/consultations/<slug>/debats/<int:debate_id>/compte-rendu", methods=["GET", "POST"]
)
@access(is_staff_or_editor)
def minutes(slug: str, debate_id: int):
    """Record a debate's minutes, attendance and the organisations present."""
    debate = _managed(slug, debate_id)
    form = MinutesForm()
    organisations = db.session.execute(
        select(Organisation.id, Organisation.name).order_by(Organisation.name)
    )
    form.organisations.choices = [SelectChoice(org_id, name) for org_id, name in organisations]
    if request.method == "GET":
        form.fill_from(debate)
    status = 200
    if form.validate_on_submit():
        try:
            services.record_minutes(
                debate,
                form.minutes.data,
                form.attendance.data,
                services.search_organisations(form.organisations.data or []),
                acting_user(),
            )
        except DomainError as error:
            status = show_error(form, error)
        else:
            flash(_("Minutes saved."), "success")
            return redirect(url_for("debates.edit", slug=slug, debate_id=debate.id))
    elif request.method == "POST":
        status = 400
    return render_template("debates/minutes.html", debate=debate, form=form), status


@bp.route("/gestion/consultations/<slug>/debats/<int:debate_id>/inscriptions.csv")
@access(is_staff_or_editor)
def registrations_csv(slug: str, debate_id: int):
    """Export a debate's registrations as CSV."""
    debate = _managed(slug, debate_id)
    response = Response(services.registrations_csv(debate), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="inscriptions-debat-{debate.id}.csv"'
    )
    return response
