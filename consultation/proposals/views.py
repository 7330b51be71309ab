"""Proposal pages: the public list, search and detail; drafting and submitting for
contributors and regional editors; moderation and import for staff."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from consultation.accounts.forms import ConfirmForm
from consultation.accounts.models import Region, Role, User
from consultation.bill.synthesis import provenance_of
from consultation.consultations.models import Consultation, Theme
from consultation.consultations.views import load_consultation
from consultation.core.cache import cached_page
from consultation.core.errors import DomainError
from consultation.core.i18n import short_date
from consultation.core.markdown import render_markdown
from consultation.core.models import utcnow
from consultation.core.pagination import Page, paginate
from consultation.core.permissions import access, has_role, is_admin, public
from consultation.core.views import acting_user, show_error
from consultation.debates.models import Debate
from consultation.extensions import db, limiter
from consultation.proposals import exports, importing, services
from consultation.proposals.forms import (
    AcceptForm,
    ImportForm,
    MergeForm,
    ProposalForm,
    RejectForm,
)
from consultation.proposals.models import (
    BODY_MAX,
    PUBLIC_STATUSES,
    RATIONALE_MAX,
    SOURCE_LABELS,
    STATUS_LABELS,
    SUMMARY_MAX,
    TITLE_MAX,
    Proposal,
    ProposalImport,
    ProposalStatus,
    SourceKind,
)

bp = Blueprint("proposals", __name__)

PER_PAGE = 20
MANAGE_PER_PAGE = 50


# --- Public pages --------------------------------------------------------------------------


@bp.app_template_global()
def proposal_status_label(value: str) -> str:
    """The readable name of a proposal status."""
    return str(STATUS_LABELS[ProposalStatus(value)])


@bp.app_template_global()
def proposal_source_label(value: str) -> str:
    """The readable name of a proposal's source kind."""
    return str(SOURCE_LABELS[SourceKind(value)])


def _public_regions() -> list[Region]:
    return list(db.session.scalars(select(Region).order_by(Region.name)))


def _public_themes(consultation: Consultation) -> list[Theme]:
    return list(
        db.session.scalars(
            select(Theme).where(Theme.consultation_id == consultation.id).order_by(Theme.name)
        )
    )


def _public_filters(consultation: Consultation) -> services.ProposalFilters:
    """The list's search and filters; an unknown value raises a DomainError (a readable 400)."""
    return services.parse_filters(consultation, request.args)


@bp.route("/consultations/<slug>/propositions")
@access(public)
@cached_page
def index(slug: str):
    """Public proposals: French full-text search, filters by theme, region, source and status."""
    consultation = load_consultation(slug)
    filters = _public_filters(consultation)
    page = paginate(
        services.public_proposals_query(consultation, filters),
        request.args.get("page"),
        per_page=PER_PAGE,
    )
    regions = _public_regions()
    return render_template(
        "proposals/index.html",
        consultation=consultation,
        filters=filters,
        page=page,
        counts=services.cosignature_counts([proposal.id for proposal in page.items]),
        themes=_public_themes(consultation),
        regions=regions,
        # Region names from the list already loaded for the filter: no query per proposal.
        region_names={region.code: region.name for region in regions},
        sources=SOURCE_LABELS,
        statuses={status: STATUS_LABELS[status] for status in PUBLIC_STATUSES},
    )


def _may_moderate(user: User) -> bool:
    return user.is_authenticated and user.role is Role.ADMIN


def _is_open(consultation: Consultation) -> bool:
    try:
        services.check_open(consultation, utcnow())
    except DomainError:
        return False
    return True


@bp.route("/consultations/<slug>/propositions/<int:proposal_id>")
@access(public)
@cached_page(form_token=True)
def detail(slug: str, proposal_id: int):
    """A proposal: its source, texts, state, co-signatures, where a merge took it, and what
    the bill did with it."""
    consultation = load_consultation(slug)
    user = acting_user()
    proposal = services.find_proposal(consultation, proposal_id, user)
    signatures = services.cosignatures(proposal)
    signed_in = user.is_authenticated  # anonymous visitors get the cached page: ask nothing
    return render_template(
        "proposals/detail.html",
        consultation=consultation,
        proposal=proposal,
        cosignatures=signatures,
        counts=services.cosignature_counts_of(signatures),
        merged=services.merged_proposals(proposal),
        sources=SOURCE_LABELS,
        is_open=signed_in and _is_open(consultation),
        may_cosign=signed_in and services.may_cosign(user, proposal),
        has_cosigned=signed_in and services.has_cosigned(proposal, user),
        may_edit=signed_in and services.may_edit(user, proposal),
        may_moderate=_may_moderate(user),
        provenance=provenance_of(proposal),
        bill_text_url=_bill_text_url(consultation),
    )


def _bill_text_url(consultation: Consultation) -> str:
    """The public draft's address, for the "integrated into Article N" links."""
    return url_for("bill.text", slug=consultation.slug)


@bp.route("/consultations/<slug>/propositions/<int:proposal_id>/versions")
@access(public)
@cached_page
def revisions(slug: str, proposal_id: int):
    """The successive texts of a proposal, each showing what changed."""
    consultation = load_consultation(slug)
    proposal = services.find_proposal(consultation, proposal_id, acting_user())
    return render_template(
        "proposals/revisions.html",
        consultation=consultation,
        proposal=proposal,
        steps=services.revision_history(proposal),
    )


@bp.route("/consultations/<slug>/propositions/<int:proposal_id>/cosigner", methods=["POST"])
@access(has_role("contributor", "regional_editor"))
def cosign(slug: str, proposal_id: int):
    """Co-sign a proposal on behalf of one's organisation (once)."""
    consultation = load_consultation(slug)
    proposal = services.find_proposal(consultation, proposal_id, acting_user())
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.cosign_proposal(proposal, acting_user(), utcnow())
    flash(_("Your organisation co-signed this proposal."), "success")
    return redirect(url_for("proposals.detail", slug=slug, proposal_id=proposal.id))


@bp.route(
    "/consultations/<slug>/propositions/<int:proposal_id>/cosignature/retirer", methods=["POST"]
)
@access(has_role("contributor", "regional_editor"))
def withdraw_cosignature(slug: str, proposal_id: int):
    """Take back one's organisation's co-signature."""
    consultation = load_consultation(slug)
    proposal = services.find_proposal(consultation, proposal_id, acting_user())
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.withdraw_cosignature(proposal, acting_user(), utcnow())
    flash(_("Your organisation's co-signature is withdrawn."), "success")
    return redirect(url_for("proposals.detail", slug=slug, proposal_id=proposal.id))


# Exports are streamed whole, never cached (20,000 rows take about a second): bounded per address.
EXPORT_RATE = "20 per minute"


@bp.route("/consultations/<slug>/propositions.csv")
@access(public)
@limiter.limit(EXPORT_RATE)
def export_csv(slug: str):
    """The public proposals matching the list's search and filters, as CSV (streamed)."""
    consultation = load_consultation(slug)
    return exports.csv_response(consultation, _public_filters(consultation))


@bp.route("/consultations/<slug>/propositions.json")
@access(public)
@limiter.limit(EXPORT_RATE)
def export_json(slug: str):
    """The public proposals matching the list's search and filters, as JSON (streamed)."""
    consultation = load_consultation(slug)
    return exports.json_response(consultation, _public_filters(consultation))


# --- Drafting and submitting ---------------------------------------------------------------

# Contributors write on behalf of their organisation, regional editors for their debates; staff
# moderate and import but do not write proposals, and jurors have no organisation to speak for.
writes_proposals = has_role("contributor", "regional_editor")

PREVIEW_RATE = "120 per minute"  # a debounced preview while typing in four fields
SIMILAR_RATE = "60 per minute"
SIMILAR_TEXT_MAX = TITLE_MAX + SUMMARY_MAX  # the similar list looks at the title and summary


def _debate_label(debate: Debate) -> str:
    return f"{debate.title} ({debate.region.name}, {short_date(debate.starts_at)})"


def _proposal_form(
    consultation: Consultation, proposal: Proposal | None = None, *, fill: bool = False
) -> ProposalForm:
    """The proposal form with the consultation's themes and the debates the user may choose;
    filled from the proposal (or the `debat` query parameter) on a GET, or when asked."""
    user = acting_user()
    form = ProposalForm(formdata=None) if fill else ProposalForm()
    form.theme_id.choices = [SelectChoice("", "—")] + [
        SelectChoice(theme.id, theme.name) for theme in services.consultation_themes(consultation)
    ]
    debates = services.debate_choices(consultation, user)
    if proposal is not None and proposal.debate is not None and proposal.debate not in debates:
        debates.append(proposal.debate)  # a debate since cancelled stays shown, not lost
    is_editor = user.role is Role.REGIONAL_EDITOR
    form.debate_id.choices = [SelectChoice("", _("Choose the debate") if is_editor else _("None"))]
    form.debate_id.choices += [SelectChoice(debate.id, _debate_label(debate)) for debate in debates]
    if is_editor:
        form.debate_id.flags.required = True
        form.debate_id.description = _("The held debate of your region the proposal came out of.")
    else:
        form.debate_id.description = _("Optional: the debate the proposal came out of.")
    if fill:
        for field in form:  # never validated: give each field a list to show a service error
            field.errors = []
    if fill or request.method == "GET":
        if proposal is not None:
            form.fill_from(proposal)
        elif (debate_id := request.args.get("debat", "")).isdigit():
            form.debate_id.data = int(debate_id)
    return form


def _closed_reason(consultation: Consultation) -> str | None:
    """Why proposals can no longer be saved (the phase or the deadline), or None."""
    try:
        services.check_open(consultation, utcnow())
    except DomainError as error:
        return str(error.message)
    return None


def _previews(form: ProposalForm) -> dict[str, Markup]:
    """The Markdown fields rendered as their pages will show them (the no-JS preview); an
    overlong text is not rendered, its field already says why."""
    limits = {"summary": SUMMARY_MAX, "body": BODY_MAX, "rationale": RATIONALE_MAX}
    return {
        name: render_markdown(form[name].data)
        for name, limit in limits.items()
        if len(form[name].data or "") <= limit
    }


def _form_page(
    consultation: Consultation,
    form: ProposalForm,
    proposal: Proposal | None,
    status: int = 200,
    previews: dict[str, Markup] | None = None,
):
    typed = " ".join(value for value in (form.title.data, form.summary.data) if value)
    similar = services.similar_proposals(
        consultation, typed[:SIMILAR_TEXT_MAX], exclude_id=proposal.id if proposal else None
    )
    return render_template(
        "proposals/form.html",
        consultation=consultation,
        form=form,
        proposal=proposal,
        similar=similar,
        previews=previews,
        closed=_closed_reason(consultation),
        read_only=proposal is not None and not proposal.is_editable,
    ), status


def _saved_message(proposal: Proposal, was_submitted: bool) -> str:
    if proposal.status is ProposalStatus.DRAFT:
        return _("Draft saved. Submit it when it is ready.")
    if not was_submitted:
        return _(
            "Proposal submitted: it is now public. You may still change it until the deadline."
        )
    return _("Changes saved (revision %(n)d).", n=proposal.revision_count)


def _save_form(consultation: Consultation, form: ProposalForm, proposal: Proposal | None):
    """Handle the form's buttons: preview without saving, save a draft, or save and submit."""
    if not form.is_submitted():
        return _form_page(consultation, form, proposal)
    is_valid = form.validate()
    if form.action.errors:  # not a field of its own: say it above the form
        form.form_errors.append(_("Use one of the form's buttons to send it."))
    if form.chosen_action == "preview":
        return _form_page(
            consultation, form, proposal, 200 if is_valid else 400, previews=_previews(form)
        )
    if not is_valid:
        return _form_page(consultation, form, proposal, 400)
    was_submitted = proposal is not None and proposal.status is not ProposalStatus.DRAFT
    try:
        saved = services.save_proposal(
            consultation,
            proposal,
            form.to_input(),
            acting_user(),
            utcnow(),
            submit=form.chosen_action == "submit",
        )
    except DomainError as error:
        # Nothing is kept of a refused save (the request rolls back); the form keeps the text.
        db.session.rollback()
        return _form_page(consultation, form, proposal, show_error(form, error))
    flash(_saved_message(saved, was_submitted), "success")
    return redirect(url_for("proposals.edit", slug=consultation.slug, proposal_id=saved.id))


@bp.route("/gestion/consultations/<slug>/propositions")
@access(writes_proposals)
def mine(slug: str):
    """The proposals of the user's organisation in a consultation, drafts included."""
    consultation = load_consultation(slug)
    user = acting_user()
    page = paginate(
        services.organisation_proposals_list_query(consultation, user),
        request.args.get("page"),
        per_page=MANAGE_PER_PAGE,
    )
    held = services.debate_choices(consultation, user) if user.role is Role.REGIONAL_EDITOR else []
    return render_template(
        "proposals/mine.html",
        consultation=consultation,
        page=page,
        held_debates=held,
        may_edit=services.may_edit,
        closed=_closed_reason(consultation),
    )


@bp.route("/gestion/consultations/<slug>/propositions/nouvelle", methods=["GET", "POST"])
@access(writes_proposals)
def create(slug: str):
    """Draft a new proposal on behalf of one's organisation (or from a debate, `?debat=<id>`)."""
    consultation = load_consultation(slug)
    return _save_form(consultation, _proposal_form(consultation), None)


@bp.route(
    "/gestion/consultations/<slug>/propositions/<int:proposal_id>/modifier",
    methods=["GET", "POST"],
)
@access(writes_proposals)
def edit(slug: str, proposal_id: int):
    """Change a draft, or a submitted proposal until the deadline (each change is a revision);
    a moderated proposal is shown read-only."""
    consultation = load_consultation(slug)
    proposal = services.find_editable_proposal(consultation, proposal_id, acting_user())
    form = _proposal_form(consultation, proposal)
    if not proposal.is_editable:
        if request.method == "POST":
            form.form_errors.append(_("A moderated proposal can no longer be changed."))
            return _form_page(consultation, form, proposal, 409)
        return _form_page(consultation, form, proposal)
    return _save_form(consultation, form, proposal)


@bp.route("/gestion/consultations/<slug>/propositions/<int:proposal_id>/deposer", methods=["POST"])
@access(writes_proposals)
def submit(slug: str, proposal_id: int):
    """Submit a draft as it was saved: it becomes public under the organisation's name."""
    consultation = load_consultation(slug)
    proposal = services.find_editable_proposal(consultation, proposal_id, acting_user())
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.submit_proposal(proposal, acting_user(), utcnow())
    except DomainError as error:
        db.session.rollback()
        form = _proposal_form(consultation, proposal, fill=True)
        return _form_page(consultation, form, proposal, show_error(form, error))
    flash(_saved_message(proposal, was_submitted=False), "success")
    return redirect(url_for("proposals.edit", slug=slug, proposal_id=proposal.id))


@bp.route("/gestion/consultations/<slug>/propositions/apercu", methods=["POST"])
@access(writes_proposals)
@limiter.limit(PREVIEW_RATE)
def preview(slug: str):
    """One Markdown text (`text`) rendered and sanitised as pages render it, as JSON."""
    load_consultation(slug)
    text = request.form.get("text", "")
    if len(text) > BODY_MAX:
        message = _("At most %(limit)d characters can be previewed.", limit=BODY_MAX)
        body = {"status": 413, "title": _("Text too long"), "message": message}
        return jsonify(error=body), 413
    return jsonify(html=str(render_markdown(text)))


@bp.route("/gestion/consultations/<slug>/propositions/similaires")
@access(writes_proposals)
@limiter.limit(SIMILAR_RATE)
def similar(slug: str):
    """The proposals most similar to a text (`texte`), as the fragment the form shows."""
    consultation = load_consultation(slug)
    exclude = request.args.get("exclude", "")
    proposals = services.similar_proposals(
        consultation,
        request.args.get("texte", "")[:SIMILAR_TEXT_MAX],
        exclude_id=int(exclude) if exclude.isdigit() else None,
    )
    return render_template("proposals/_similar.html", consultation=consultation, similar=proposals)


# --- Moderation and import (staff) ---------------------------------------------------------

QUEUE_STATUSES = (
    ProposalStatus.SUBMITTED,
    ProposalStatus.ACCEPTED,
    ProposalStatus.REJECTED,
    ProposalStatus.MERGED,
)
IMPORT_PER_PAGE = 100


def _queue_status(value: str | None) -> ProposalStatus:
    """The queue's tab; an unknown state is a 400 saying so."""
    if not value:
        return ProposalStatus.SUBMITTED
    for status in QUEUE_STATUSES:
        if status.value == value:
            return status
    raise DomainError(_l("“%(value)s” is not a state of the moderation queue.", value=value))


@bp.route("/gestion/consultations/<slug>/moderation")
@access(is_admin)
def queue(slug: str):
    """The proposals to moderate in one state, the oldest first, with the count of each state."""
    consultation = load_consultation(slug)
    status = _queue_status(request.args.get("status"))
    page = paginate(
        services.moderation_queue_query(consultation, status).options(
            selectinload(Proposal.region), selectinload(Proposal.merged_into)
        ),
        request.args.get("page"),
        per_page=MANAGE_PER_PAGE,
    )
    counts = services.status_counts(consultation)
    return render_template(
        "proposals/queue.html",
        consultation=consultation,
        status=status,
        statuses=QUEUE_STATUSES,
        counts=counts,
        drafts=counts[ProposalStatus.DRAFT],
        page=page,
        source_labels=SOURCE_LABELS,
        status_labels=STATUS_LABELS,
    )


def _moderation_forms() -> dict[str, FlaskForm]:
    return {"accept": AcceptForm(), "reject": RejectForm(), "merge": MergeForm()}


def _apply_moderation(proposal: Proposal, action: str, form: FlaskForm) -> str:
    """Call the service of the chosen action; returns the message to flash."""
    now = utcnow()
    if action == "accept":
        services.accept_proposal(proposal, acting_user(), now)
        return _("Proposal no. %(id)d accepted.", id=proposal.id)
    if action == "reject":
        services.reject_proposal(proposal, form.reason.data or "", acting_user(), now)
        return _("Proposal no. %(id)d rejected.", id=proposal.id)
    target = services.merge_proposal(
        proposal, form.target.data, form.note.data or "", acting_user(), now
    )
    return _("Proposal no. %(id)d merged into no. %(target)d.", id=proposal.id, target=target.id)


@bp.route(
    "/gestion/consultations/<slug>/propositions/<int:proposal_id>/moderation",
    methods=["GET", "POST"],
)
@access(is_admin)
def moderate(slug: str, proposal_id: int):
    """Accept, reject with a reason, or merge a proposal into a similar one."""
    consultation = load_consultation(slug)
    proposal = services.find_proposal(consultation, proposal_id, acting_user())
    forms = _moderation_forms()
    status = 200
    if request.method == "POST":
        action = request.form.get("action", "")
        form = forms.get(action)
        if form is None:
            raise DomainError(_l("Choose to accept, reject or merge the proposal."))
        if form.validate_on_submit():
            try:
                message = _apply_moderation(proposal, action, form)
            except DomainError as error:
                db.session.rollback()  # the page below reads the proposal as it was
                status = show_error(form, error)
                proposal = services.find_proposal(consultation, proposal_id, acting_user())
            else:
                flash(message, "success")
                return redirect(url_for("proposals.queue", slug=slug))
        else:
            status = 400
    similar = services.similar_proposals(
        consultation, f"{proposal.title} {proposal.summary}", exclude_id=proposal.id
    )
    return render_template(
        "proposals/moderate.html",
        consultation=consultation,
        proposal=proposal,
        similar=similar,
        merged=services.merged_proposals(proposal),
        forms=forms,
        source_labels=SOURCE_LABELS,
        status_labels=STATUS_LABELS,
    ), status


@bp.route("/gestion/consultations/<slug>/propositions/import", methods=["GET", "POST"])
@access(is_admin)
def import_upload(slug: str):
    """Upload a spreadsheet of proposals (CSV) to preview it before anything is saved."""
    consultation = load_consultation(slug)
    form = ImportForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            batch = importing.upload_import(
                consultation, upload.filename or "", upload.read(), acting_user()
            )
        except DomainError as error:
            status = show_error(form, error)
        else:
            return redirect(url_for("proposals.import_preview", slug=slug, import_id=batch.id))
    elif request.method == "POST":
        status = 400
    return render_template(
        "proposals/import.html",
        consultation=consultation,
        form=form,
        columns=importing.COLUMNS,
        max_rows=importing.MAX_ROWS,
        is_open=importing.is_open(consultation),
    ), status


@bp.route("/gestion/consultations/<slug>/propositions/import/modele.csv")
@access(is_admin)
def import_template(slug: str):
    """A sample import file: the header row and one example row."""
    load_consultation(slug)
    response = Response(importing.template_csv(), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="modele-propositions.csv"'
    return response


def _rows_page(rows: list, number: str | None) -> Page:
    """One page of the previewed rows; a page number out of range is a 404, as elsewhere."""
    try:
        page = int(number or 1)
    except ValueError:
        abort(404)
    start = (page - 1) * IMPORT_PER_PAGE
    if page < 1 or (page > 1 and start >= len(rows)):
        abort(404)
    return Page(rows[start : start + IMPORT_PER_PAGE], page, IMPORT_PER_PAGE, len(rows))


def _preview_page(
    consultation, batch: ProposalImport, error: DomainError | None = None, status: int = 200
):
    errors_only = request.args.get("erreurs") == "1"
    checked = None
    page = None
    if batch.imported_at is None:  # once imported, its rows would all read as duplicates
        checked = importing.check_import(batch, utcnow())
        rows = [row for row in checked.rows if row.errors] if errors_only else checked.rows
        page = _rows_page(rows, request.args.get("page"))
    return render_template(
        "proposals/import_preview.html",
        consultation=consultation,
        batch=batch,
        checked=checked,
        page=page,
        errors_only=errors_only,
        columns=importing.COLUMNS,
        error=str(error.message) if error else None,
        form=ConfirmForm(),
    ), status


@bp.route("/gestion/consultations/<slug>/propositions/import/<int:import_id>")
@access(is_admin)
def import_preview(slug: str, import_id: int):
    """Every row of an uploaded file with its errors, before it is confirmed."""
    consultation = load_consultation(slug)
    return _preview_page(consultation, importing.find_import(consultation, import_id))


@bp.route(
    "/gestion/consultations/<slug>/propositions/import/<int:import_id>/confirmer",
    methods=["POST"],
)
@access(is_admin)
def import_confirm(slug: str, import_id: int):
    """Save every row of a previewed file as a submitted proposal, all or nothing."""
    consultation = load_consultation(slug)
    batch = importing.find_import(consultation, import_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        count = importing.confirm_import(batch, acting_user(), utcnow())
    except DomainError as error:
        db.session.rollback()
        batch = importing.find_import(consultation, import_id)
        return _preview_page(consultation, batch, error, error.status_code)
    flash(_("%(n)d proposals imported.", n=count), "success")
    return redirect(url_for("proposals.queue", slug=slug))
