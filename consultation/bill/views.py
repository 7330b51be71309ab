"""Bill pages: the public draft, its versions and their differences; the staff synthesis
workspace and the bill editor."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from wtforms.fields.choices import SelectChoice

from consultation.accounts.forms import ConfirmForm
from consultation.bill import editing, synthesis
from consultation.bill import forms as bill_forms
from consultation.bill import services as bill_services
from consultation.bill import versions as bill_versions
from consultation.bill.figures import FIGURES, placeholder, unknown_placeholders
from consultation.bill.forms import (
    ArticleForm,
    BillForm,
    CompareForm,
    DivisionForm,
    FreezeForm,
    MoveForm,
    NewArticleForm,
    RenameDivisionForm,
    _optional_int,
)
from consultation.bill.models import (
    DIVISION_KIND_LABELS,
    Article,
    ArticleSource,
    Bill,
    BillVersion,
    Division,
    DivisionKind,
)
from consultation.bill.outline import DivisionNode, Outline, load_outline
from consultation.consultations.models import Consultation, Phase
from consultation.consultations.views import load_consultation
from consultation.core.cache import cached_page
from consultation.core.diff import diff_html
from consultation.core.errors import DomainError, InvalidTransition
from consultation.core.markdown import render_markdown
from consultation.core.models import utcnow
from consultation.core.pagination import paginate
from consultation.core.permissions import access, is_admin, public
from consultation.core.views import acting_user, show_error
from consultation.extensions import db
from consultation.proposals.models import SOURCE_LABELS, Proposal

bp = Blueprint("bill", __name__)


# --- Public pages: the draft, its versions and their differences ---------------------------


@functools.lru_cache(maxsize=4096)
def _article_html(source: str) -> Markup:
    return render_markdown(source)


@bp.app_template_filter("bill_markdown")
def bill_markdown(source: str | None) -> Markup:
    """An article's Markdown as HTML, kept by text: a 300-article bill would otherwise parse
    every article on every uncached page, though its texts rarely change."""
    return _article_html(source or "")


@bp.route("/consultations/<slug>/texte")
@access(public)
@cached_page
def text(slug: str):
    """The current draft bill: the exposé des motifs with its live figures, then each division
    and article in order with its sources (a constant number of queries)."""
    consultation = load_consultation(slug)
    bill = bill_services.find_bill(consultation)
    if bill is None:
        return render_template("bill/text.html", consultation=consultation, content=None)
    return render_template(
        "bill/text.html",
        consultation=consultation,
        content=bill_versions.build_snapshot(bill),
        versions=bill_versions.list_versions(bill),
    )


def _versions_page(consultation, form: FreezeForm | None = None, status: int = 200):
    bill = bill_services.find_bill(consultation)
    listed = bill_versions.list_versions(bill) if bill is not None else []
    compare = CompareForm(request.args)
    choices = [SelectChoice(v.number, _("Version %(n)d", n=v.number)) for v in listed]
    compare.a.choices, compare.b.choices = choices, list(choices)
    if len(listed) >= 2 and not request.args:
        compare.a.data, compare.b.data = listed[1].number, listed[0].number
    user = acting_user()
    may_freeze = (
        bill is not None
        and user.is_authenticated
        and user.is_admin
        and consultation.phase is Phase.SYNTHESE
    )
    return render_template(
        "bill/versions.html",
        consultation=consultation,
        bill=bill,
        versions=listed,
        compare=compare,
        freeze_form=form or (FreezeForm() if may_freeze else None),
        coverage=bill_services.coverage(consultation) if may_freeze else None,
    ), status


@bp.route("/consultations/<slug>/texte/versions")
@access(public)
@cached_page
def versions(slug: str):
    """The frozen versions of the bill, newest first, and a form to compare two of them
    (`?a=1&b=2` leads to their differences)."""
    consultation = load_consultation(slug)
    a, b = request.args.get("a", ""), request.args.get("b", "")
    if a.isdigit() and b.isdigit():
        return redirect(
            url_for("bill.version_diff", slug=consultation.slug, a=int(a), b=int(b)), 303
        )
    return _versions_page(consultation)


@bp.route("/consultations/<slug>/texte/versions/<int:number>")
@access(public)
@cached_page
def version(slug: str, number: int):
    """A frozen version as it stood, read from its snapshot only."""
    consultation = load_consultation(slug)
    frozen = bill_versions.find_version(consultation, number)
    return render_template(
        "bill/version.html",
        consultation=consultation,
        version=frozen,
        content=frozen.content,
    )


def render_version_diff(consultation, a: BillVersion, b: BillVersion) -> str:
    """The differences page between two versions (also timed by `flask bill bench`)."""
    return render_template(
        "bill/version_diff.html",
        consultation=consultation,
        a=a,
        b=b,
        diff=bill_versions.diff_versions(a, b),
    )


@bp.route("/consultations/<slug>/texte/versions/<int:a>/diff/<int:b>")
@access(public)
@cached_page
def version_diff(slug: str, a: int, b: int):
    """What changed between two versions, article by article: added, removed, moved, changed."""
    consultation = load_consultation(slug)
    before = bill_versions.find_version(consultation, a)
    after = bill_versions.find_version(consultation, b)
    return render_version_diff(consultation, before, after)


# Freezing (staff): on the versions page, which shows the reason of a refusal.


@bp.route("/gestion/consultations/<slug>/texte/figer", methods=["POST"])
@access(is_admin)
def freeze(slug: str):
    """Freeze the bill as it stands into its next version (synthesis phase, 100% coverage)."""
    consultation = load_consultation(slug)
    form = FreezeForm()
    if not form.validate_on_submit():
        return _versions_page(consultation, form, 400)
    bill = bill_services.find_bill(consultation)
    try:
        if bill is None:
            raise InvalidTransition(_l("There is no bill to freeze yet."))
        frozen = bill_versions.freeze_bill_version(
            bill, form.note.data or "", acting_user(), utcnow()
        )
    except DomainError as error:
        db.session.rollback()
        return _versions_page(consultation, form, show_error(form, error))
    flash(
        _(
            "Version %(n)d is frozen (%(count)d articles).",
            n=frozen.number,
            count=frozen.content["article_count"],
        ),
        "success",
    )
    return redirect(url_for("bill.versions", slug=consultation.slug), 303)


# --- Synthesis workspace (staff) -----------------------------------------------------------

SYNTHESIS_PER_PAGE = 50
# The query parameters a workspace action keeps, to come back to the same list.
WORKSPACE_ARGS = ("theme", "etat", "page")


def _workspace_args() -> dict[str, str]:
    """The workspace's filters (and page) of this request, to carry them through an action.
    An action can take rows out of a list filtered by disposition: its page is not kept, as
    it may no longer exist."""
    args = {name: request.args[name] for name in WORKSPACE_ARGS if request.args.get(name)}
    if "etat" in args:
        args.pop("page", None)
    return args


def _workspace_url(slug: str) -> str:
    return url_for("bill.synthesis", slug=slug, **_workspace_args())


def _closed_reason(consultation: Consultation) -> str | None:
    """Why the workspace is read-only (outside the synthesis phase), or None."""
    try:
        bill_services.check_editable(consultation)
    except DomainError as error:
        return str(error.message)
    return None


def _leaf_division_choices(outline: Outline | None) -> list[SelectChoice]:
    """The divisions an article can go into (those holding no division), in document order;
    "No division" while the bill has none."""
    if outline is None or not outline.divisions:
        return [SelectChoice("", _("No division (at the start of the bill)"))]
    return [
        SelectChoice(node.id, f"{'– ' * node.depth}{node.label} — {node.division.heading}")
        for node in outline.walk()
        if isinstance(node, DivisionNode) and not node.children
    ]


def _article_choices(outline: Outline | None) -> list[SelectChoice]:
    choices = [SelectChoice("", _("Choose an article"))]
    for node in outline.articles if outline is not None else []:
        heading = node.article.heading
        label = f"{node.label} — {heading}" if heading else node.label
        choices.append(SelectChoice(node.id, label))
    return choices


def _synthesis_page(
    consultation: Consultation,
    status: int = 200,
    *,
    create: bill_forms.CreateArticleForm | None = None,
    attach: bill_forms.AttachProposalsForm | None = None,
    refused: tuple[int, bill_forms.NotRetainedForm] | None = None,
    action_error: str | None = None,
    selected: list[int] | None = None,
):
    """The workspace, with a refused action's form as it was typed; a fixed number of
    queries whatever the number of proposals."""
    themes = synthesis.themes_of(consultation)
    filters = synthesis.parse_filters(consultation, request.args, themes)
    page = paginate(
        synthesis.workspace_query(consultation, filters).options(selectinload(Proposal.region)),
        request.args.get("page"),
        per_page=SYNTHESIS_PER_PAGE,
        rows=True,
    )
    bill = bill_services.find_bill(consultation)
    outline = synthesis.numbering_outline(bill) if bill is not None else None
    create = create or bill_forms.CreateArticleForm(formdata=None)
    attach = attach or bill_forms.AttachProposalsForm(formdata=None)
    create.division_id.choices = _leaf_division_choices(outline)
    attach.article_id.choices = _article_choices(outline)
    return render_template(
        "bill/synthesis.html",
        consultation=consultation,
        filters=filters,
        themes=themes,
        states=synthesis.STATE_LABELS,
        page=page,
        refs=synthesis.article_refs(outline, [row[0].id for row in page.items]),
        coverage=bill_services.coverage(consultation),
        groups=synthesis.similar_groups(consultation),
        create=create,
        attach=attach,
        refused=refused,
        action_error=action_error,
        selected=set(selected or ()),
        closed=_closed_reason(consultation),
        bill_text_url=url_for("bill.text", slug=consultation.slug),
        bill_editor_url=url_for("bill.editor", slug=consultation.slug),
        action_args=_workspace_args(),
        source_labels=SOURCE_LABELS,
    ), status


@bp.route("/gestion/consultations/<slug>/synthese", endpoint="synthesis")
@access(is_admin)
def synthesis_workspace(slug: str):
    """The synthesis workspace: the accepted proposals by theme with their disposition, the
    coverage meter and suggested groups of similar proposals."""
    return _synthesis_page(load_consultation(slug))


def _selection(form: bill_forms.CreateArticleForm | bill_forms.AttachProposalsForm) -> list[int]:
    return [pid for pid in form.proposal_ids.data or [] if pid]


@bp.route("/gestion/consultations/<slug>/synthese/articles", methods=["POST"])
@access(is_admin)
def create_article_from_proposals(slug: str):
    """Create an article from the ticked proposals, their texts gathered as a starting point;
    each becomes one of its sources."""
    consultation = load_consultation(slug)
    form = bill_forms.CreateArticleForm()
    if not form.validate_on_submit():
        return _synthesis_page(consultation, 400, create=form, selected=_selection(form))
    try:
        bill_services.check_editable(consultation)
        bill = bill_services.get_or_create_bill(consultation, acting_user())
        article = synthesis.create_article_from_proposals(
            bill,
            synthesis.find_division(bill, form.division_id.data),
            form.proposal_ids.data or [],
            acting_user(),
            utcnow(),
            heading=form.heading.data or "",
        )
    except DomainError as error:
        db.session.rollback()  # nothing of a refused action is kept; the form keeps the choice
        status = show_error(form, error)
        return _synthesis_page(consultation, status, create=form, selected=_selection(form))
    message = ngettext(
        "Article created from %(num)d proposal: its text gathers it, rewrite it.",
        "Article created from %(num)d proposals: its text gathers theirs, rewrite it.",
        len(set(_selection(form))),
    )
    flash(message, "success")
    return redirect(url_for("bill.edit_article", slug=slug, article_id=article.id))


@bp.route("/gestion/consultations/<slug>/synthese/rattacher", methods=["POST"])
@access(is_admin)
def attach_proposals(slug: str):
    """Make the ticked proposals sources of an existing article."""
    consultation = load_consultation(slug)
    form = bill_forms.AttachProposalsForm()
    if not form.validate_on_submit():
        return _synthesis_page(consultation, 400, attach=form, selected=_selection(form))
    try:
        bill_services.check_editable(consultation)
        article = synthesis.find_article(
            bill_services.find_bill(consultation), form.article_id.data
        )
        done = synthesis.attach_proposals(
            article, form.proposal_ids.data or [], acting_user(), utcnow()
        )
    except DomainError as error:
        db.session.rollback()
        status = show_error(form, error)
        return _synthesis_page(consultation, status, attach=form, selected=_selection(form))
    message = ngettext(
        "%(num)d proposal attached to the article.",
        "%(num)d proposals attached to the article.",
        len(done.attached),
    )
    if done.already:
        message += " " + ngettext(
            "%(num)d was already one of its sources and was left as it was.",
            "%(num)d were already its sources and were left as they were.",
            len(done.already),
        )
    flash(message, "success")
    return redirect(_workspace_url(slug))


@bp.route(
    "/gestion/consultations/<slug>/synthese/propositions/<int:proposal_id>/non-retenue",
    methods=["POST"],
)
@access(is_admin)
def not_retained(slug: str, proposal_id: int):
    """Mark an accepted proposal as not retained in the bill, with a reason."""
    consultation = load_consultation(slug)
    proposal = synthesis.find_accepted_proposal(consultation, proposal_id)
    form = bill_forms.NotRetainedForm()
    if not form.validate_on_submit():
        return _synthesis_page(consultation, 400, refused=(proposal_id, form))
    try:
        bill_services.get_or_create_bill(consultation, acting_user())  # the synthesis has started
        synthesis.mark_not_retained(proposal, form.reason.data or "", acting_user(), utcnow())
    except DomainError as error:
        db.session.rollback()
        status = show_error(form, error)
        return _synthesis_page(consultation, status, refused=(proposal_id, form))
    flash(_("Proposal no. %(id)d is marked as not retained.", id=proposal_id), "success")
    return redirect(_workspace_url(slug))


def _row_action_refused(consultation: Consultation, error: DomainError):
    """A refused one-button action: the workspace with the message above the list."""
    db.session.rollback()
    return _synthesis_page(consultation, error.status_code, action_error=str(error.message))


@bp.route(
    "/gestion/consultations/<slug>/synthese/propositions/<int:proposal_id>"
    "/detacher/<int:article_id>",
    methods=["POST"],
)
@access(is_admin)
def detach_proposal(slug: str, proposal_id: int, article_id: int):
    """Remove a proposal from an article's sources."""
    consultation = load_consultation(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        article = synthesis.find_article(bill_services.find_bill(consultation), article_id)
        synthesis.detach_proposal(article, proposal_id, acting_user(), utcnow())
    except DomainError as error:
        return _row_action_refused(consultation, error)
    flash(_("Proposal no. %(id)d is no longer a source of the article.", id=proposal_id), "success")
    return redirect(_workspace_url(slug))


@bp.route(
    "/gestion/consultations/<slug>/synthese/propositions/<int:proposal_id>/reexaminer",
    methods=["POST"],
)
@access(is_admin)
def clear_disposition(slug: str, proposal_id: int):
    """Take back a "not retained": the proposal has no disposition again."""
    consultation = load_consultation(slug)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        proposal = synthesis.find_accepted_proposal(consultation, proposal_id)
        synthesis.clear_disposition(proposal, acting_user(), utcnow())
    except DomainError as error:
        return _row_action_refused(consultation, error)
    flash(_("Proposal no. %(id)d has no disposition any more.", id=proposal_id), "success")
    return redirect(_workspace_url(slug))


@bp.route("/gestion/consultations/<slug>/synthese/sans-disposition")
@access(is_admin)
def undecided(slug: str):
    """The accepted proposals still without a disposition (one click from the meter)."""
    consultation = load_consultation(slug)
    page = paginate(
        synthesis.undecided_proposals_query(consultation).options(selectinload(Proposal.region)),
        request.args.get("page"),
        per_page=SYNTHESIS_PER_PAGE,
    )
    return render_template(
        "bill/undecided.html",
        consultation=consultation,
        page=page,
        coverage=bill_services.coverage(consultation),
        source_labels=SOURCE_LABELS,
    )


# --- Bill editor (staff) -------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """A refused action on one row of the editor (a division or an article), shown beside it
    with what was typed."""

    kind: str  # "division" or "article"
    object_id: int
    message: str
    typed: str = ""


def _editor_context(consultation: Consultation) -> tuple[Bill | None, str | None]:
    """The bill and, when it cannot be edited now, why."""
    bill = bill_services.find_bill(consultation)
    try:
        bill_services.check_editable(consultation)
    except DomainError as error:
        return bill, str(error.message)
    return bill, None


def _editor_bill(slug: str) -> tuple[Consultation, Bill]:
    """The consultation and its bill, for an action on an existing division or article."""
    consultation = load_consultation(slug)
    bill = bill_services.find_bill(consultation)
    if bill is None:
        abort(404)
    return consultation, bill


def _bill_division(bill: Bill, division_id: int) -> Division:
    """A division of this bill; one of another bill answers 404."""
    division = db.session.get(Division, division_id)
    if division is None or division.bill_id != bill.id:
        abort(404)
    return division


def _bill_article(bill: Bill, article_id: int) -> Article:
    """An article of this bill; one of another bill answers 404."""
    article = db.session.get(Article, article_id)
    if article is None or article.bill_id != bill.id:
        abort(404)
    return article


def _division_to_change(slug: str, division_id: int) -> tuple[Consultation, Division]:
    """A division an action changes: 404 when it is not there, then 409 outside the synthesis
    (before the form is even read, so that no answer suggests the action could succeed)."""
    consultation, bill = _editor_bill(slug)
    division = _bill_division(bill, division_id)
    bill_services.check_editable(consultation)
    return consultation, division


def _article_to_change(slug: str, article_id: int) -> tuple[Consultation, Article]:
    """An article an action moves or deletes, checked as `_division_to_change` does."""
    consultation, bill = _editor_bill(slug)
    article = _bill_article(bill, article_id)
    bill_services.check_editable(consultation)
    return consultation, article


def _division_choice(node: DivisionNode) -> SelectChoice:
    return SelectChoice(node.id, f"{node.label} — {node.division.heading}")


def _article_divisions(outline: Outline | None) -> list[DivisionNode]:
    """The divisions an article may go into: those that hold no subdivisions."""
    if outline is None:
        return []
    return [node for node in outline.division_index.values() if not node.children]


def _parent_divisions(outline: Outline | None) -> list[DivisionNode]:
    """The divisions that may receive a subdivision: above a section, holding no article."""
    if outline is None:
        return []
    return [
        node
        for node in outline.division_index.values()
        if not node.articles and node.division.kind is not DivisionKind.SECTION
    ]


def _in_document_order(outline: Outline | None, nodes: list[DivisionNode]) -> list[DivisionNode]:
    if outline is None:
        return []
    wanted = {node.id for node in nodes}
    return [node for node in outline.walk() if isinstance(node, DivisionNode) and node.id in wanted]


def _expected_kind(outline: Outline | None, parent_id: int | None) -> DivisionKind:
    """The kind a new division must have there: that of its siblings, or the level below its
    parent's; a first top-level division is a titre by default."""
    parent = outline.division_index.get(parent_id) if outline and parent_id else None
    siblings = parent.children if parent else (outline.divisions if outline else [])
    if siblings:
        return siblings[0].division.kind
    if parent is not None and parent.division.kind is not DivisionKind.SECTION:
        return list(DivisionKind)[parent.division.kind.level + 1]
    return DivisionKind.TITRE


def _source_counts(bill: Bill | None) -> dict[int, int]:
    """Each article's number of sources (one query for the whole bill)."""
    if bill is None:
        return {}
    rows = db.session.execute(
        select(ArticleSource.article_id, func.count(ArticleSource.id))
        .join(Article, Article.id == ArticleSource.article_id)
        .where(Article.bill_id == bill.id)
        .group_by(ArticleSource.article_id)
    )
    return {article_id: count for article_id, count in rows}


def _editor_page(
    consultation: Consultation,
    *,
    status: int = 200,
    bill_form: BillForm | None = None,
    division_form: DivisionForm | None = None,
    article_form: NewArticleForm | None = None,
    row_error: RowError | None = None,
    bill_conflict: Bill | None = None,
):
    """The editor: the title form, the numbered outline with its controls, and the forms to
    add a division or an article. A fixed number of queries, whatever the bill's size."""
    bill, reason = _editor_context(consultation)
    outline = load_outline(bill) if bill is not None else None
    if bill_form is None:
        bill_form = BillForm(formdata=None)
        bill_form.title.data = bill.title if bill else bill_services.DEFAULT_TITLE
        bill_form.preamble.data = bill.preamble if bill else ""
        bill_form.version_id.data = str(bill.version_id if bill else 0)
    leaves = _in_document_order(outline, _article_divisions(outline))
    parents = _in_document_order(outline, _parent_divisions(outline))
    if division_form is None:
        division_form = DivisionForm(formdata=None)
        division_form.parent_id.data = _optional_int(request.args.get("parent"))
        division_form.kind.data = _expected_kind(outline, division_form.parent_id.data).value
    division_form.parent_id.choices = [SelectChoice("", _("The bill itself (top level)"))] + [
        _division_choice(node) for node in parents
    ]
    if article_form is None:
        article_form = NewArticleForm(formdata=None)
        article_form.division_id.data = _optional_int(request.args.get("division"))
    article_form.division_id.choices = [_division_choice(node) for node in leaves]
    # Both forms have a "heading": give every field of the page its own id, so that each
    # label names its own field.
    for form, prefix in ((division_form, "new-division"), (article_form, "new-article")):
        for form_field in form:
            form_field.id = f"{prefix}-{form_field.name}"
    if not leaves and not (outline and outline.divisions):
        article_form.division_id.choices = [SelectChoice("", _("The bill itself"))]
    return render_template(
        "bill/editor.html",
        consultation=consultation,
        bill=bill,
        outline=outline,
        reason=reason,
        editable=reason is None,
        bill_form=bill_form,
        division_form=division_form,
        article_form=article_form,
        move_targets=leaves,
        source_counts=_source_counts(bill),
        row_error=row_error,
        bill_conflict=bill_conflict,
        kind_labels=DIVISION_KIND_LABELS,
        figures={placeholder(name): label for name, label in FIGURES.items()},
        unknown_figures=[
            placeholder(name) for name in unknown_placeholders(bill.preamble if bill else "")
        ],
    ), status


def _to_editor(slug: str, anchor: str | None = None):
    return redirect(url_for("bill.editor", slug=slug, _anchor=anchor))


@bp.route("/gestion/consultations/<slug>/texte", methods=["GET", "POST"])
@access(is_admin)
def editor(slug: str):
    """The bill editor: title and exposé des motifs, then the structure and the articles."""
    consultation = load_consultation(slug)
    if request.method == "GET":
        return _editor_page(consultation)
    form = BillForm()
    if not form.validate_on_submit():
        return _editor_page(consultation, status=400, bill_form=form)
    try:
        bill = bill_services.find_bill(consultation)
        if bill is None:
            bill = bill_services.get_or_create_bill(consultation, acting_user())
            expected = bill.version_id  # nobody could have saved a bill that did not exist
        else:
            expected = _optional_int(form.version_id.data) or 0
        editing.update_bill(
            bill, expected, form.title.data, form.preamble.data or "", acting_user()
        )
    except editing.BillConflict as error:
        db.session.rollback()
        form.form_errors.append(str(error.message))
        # The next save is an explicit choice to replace what the other person saved.
        current = bill_services.find_bill(consultation)
        form.version_id.data = str(current.version_id) if current else "0"
        return _editor_page(consultation, status=409, bill_form=form, bill_conflict=current)
    except DomainError as error:
        db.session.rollback()
        status = show_error(form, error)
        return _editor_page(consultation, status=status, bill_form=form)
    flash(_("Title and exposé des motifs saved."), "success")
    return _to_editor(slug)


@bp.route("/gestion/consultations/<slug>/texte/divisions", methods=["POST"])
@access(is_admin)
def add_division(slug: str):
    """Add a titre, chapitre or section to the bill or inside a division."""
    consultation = load_consultation(slug)
    bill_services.check_editable(consultation)
    form = DivisionForm()
    form.parent_id.choices = []
    if not form.validate_on_submit():
        return _editor_page(consultation, status=400, division_form=form)
    try:
        bill = bill_services.get_or_create_bill(consultation, acting_user())
        parent = None
        if form.parent_id.data is not None:
            parent = db.session.get(Division, form.parent_id.data)
            if parent is None:
                raise DomainError(_l("Choose a division of this bill."), field="parent_id")
        division = editing.add_division(
            bill, DivisionKind(form.kind.data), form.heading.data, parent, acting_user()
        )
    except DomainError as error:
        db.session.rollback()
        status = show_error(form, error)
        return _editor_page(consultation, status=status, division_form=form)
    flash(_("Division added."), "success")
    return _to_editor(slug, f"division-{division.id}")


@bp.route("/gestion/consultations/<slug>/texte/divisions/<int:division_id>", methods=["POST"])
@access(is_admin)
def rename_division(slug: str, division_id: int):
    """Change a division's heading."""
    consultation, division = _division_to_change(slug, division_id)
    form = RenameDivisionForm()
    if not form.validate_on_submit():
        message = " ".join(str(error) for error in form.heading.errors) or _("Give a heading.")
        row_error = RowError("division", division.id, message, form.heading.data or "")
        return _editor_page(consultation, status=400, row_error=row_error)
    try:
        editing.rename_division(division, form.heading.data, acting_user())
    except DomainError as error:
        db.session.rollback()
        row_error = RowError("division", division_id, str(error.message), form.heading.data)
        return _editor_page(consultation, status=error.status_code, row_error=row_error)
    flash(_("Division renamed."), "success")
    return _to_editor(slug, f"division-{division_id}")


@bp.route(
    "/gestion/consultations/<slug>/texte/divisions/<int:division_id>/deplacer", methods=["POST"]
)
@access(is_admin)
def move_division(slug: str, division_id: int):
    """Move a division up or down among its siblings (its articles renumber)."""
    _consultation, division = _division_to_change(slug, division_id)
    form = MoveForm()
    if not form.validate_on_submit() or form.direction.data not in ("up", "down"):
        abort(400)
    editing.move_division(division, -1 if form.direction.data == "up" else 1, acting_user())
    return _to_editor(slug, f"division-{division_id}")


@bp.route(
    "/gestion/consultations/<slug>/texte/divisions/<int:division_id>/supprimer", methods=["POST"]
)
@access(is_admin)
def delete_division(slug: str, division_id: int):
    """Delete an empty division."""
    consultation, division = _division_to_change(slug, division_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        editing.delete_division(division, acting_user())
    except DomainError as error:
        db.session.rollback()
        row_error = RowError("division", division_id, str(error.message))
        return _editor_page(consultation, status=error.status_code, row_error=row_error)
    flash(_("Division deleted."), "success")
    return _to_editor(slug)


@bp.route("/gestion/consultations/<slug>/texte/articles", methods=["POST"])
@access(is_admin)
def add_article(slug: str):
    """Add an article at the end of a division."""
    consultation = load_consultation(slug)
    bill_services.check_editable(consultation)
    form = NewArticleForm()
    form.division_id.choices = []
    if not form.validate_on_submit():
        return _editor_page(consultation, status=400, article_form=form)
    try:
        bill = bill_services.get_or_create_bill(consultation, acting_user())
        division = None
        if form.division_id.data is not None:
            division = db.session.get(Division, form.division_id.data)
            if division is None:
                raise DomainError(_l("Choose a division of this bill."), field="division_id")
        elif bill.divisions:
            raise DomainError(_l("Choose the division of the article."), field="division_id")
        article = editing.add_article(
            bill, division, form.heading.data or "", form.body.data or "", acting_user(), utcnow()
        )
    except DomainError as error:
        db.session.rollback()
        status = show_error(form, error)
        return _editor_page(consultation, status=status, article_form=form)
    flash(_("Article added."), "success")
    return _to_editor(slug, f"article-{article.id}")


def _article_page(
    consultation: Consultation, bill: Bill, article: Article, form: ArticleForm, status: int = 200
):
    outline = load_outline(bill)
    sources = list(
        db.session.scalars(
            select(ArticleSource)
            .where(ArticleSource.article_id == article.id)
            .options(joinedload(ArticleSource.proposal))
            .order_by(ArticleSource.proposal_id)
        )
    )
    _bill, reason = _editor_context(consultation)
    return render_template(
        "bill/article_form.html",
        consultation=consultation,
        bill=bill,
        article=article,
        node=outline.article_index[article.id],
        form=form,
        sources=sources,
        reason=reason,
        editable=reason is None,
    ), status


@bp.route("/gestion/consultations/<slug>/texte/articles/<int:article_id>", methods=["GET", "POST"])
@access(is_admin)
def edit_article(slug: str, article_id: int):
    """Edit an article's heading and text; a save on a stale version shows the conflict."""
    consultation, bill = _editor_bill(slug)
    if request.method == "POST" and db.session.get(Article, article_id) is None:
        # Deleted while it was being edited: say so, and give the typed text back.
        return render_template(
            "bill/_editor_deleted.html",
            consultation=consultation,
            heading=request.form.get("heading", ""),
            body=request.form.get("body", ""),
        ), 409
    article = _bill_article(bill, article_id)
    if request.method == "GET":
        form = ArticleForm(formdata=None)
        form.heading.data = article.heading
        form.body.data = article.body
        form.version_id.data = str(article.version_id)
        return _article_page(consultation, bill, article, form)
    form = ArticleForm()
    if not form.validate_on_submit():
        return _article_page(consultation, bill, article, form, 400)
    heading, body = form.heading.data or "", form.body.data or ""
    try:
        editing.update_article(
            article,
            _optional_int(form.version_id.data) or 0,
            heading,
            body,
            acting_user(),
            utcnow(),
        )
    except editing.ArticleConflict as conflict:
        # The form is rendered before the request rolls back: both texts are already loaded.
        theirs = conflict.theirs
        yours = ArticleForm(formdata=None)
        yours.heading.data = conflict.heading
        yours.body.data = conflict.body
        yours.version_id.data = str(theirs.version_id)  # saving again replaces theirs, knowingly
        return render_template(
            "bill/conflict.html",
            consultation=consultation,
            article=article,
            node=load_outline(bill).article_index[article.id],
            theirs=theirs,
            form=yours,
            message=str(conflict.message),
            heading_diff=diff_html(theirs.heading, conflict.heading),
            body_diff=diff_html(theirs.body, conflict.body),
        ), 409
    except DomainError as error:
        db.session.rollback()
        article = _bill_article(bill, article_id)
        status = show_error(form, error)
        return _article_page(consultation, bill, article, form, status)
    flash(_("Article saved."), "success")
    return redirect(url_for("bill.edit_article", slug=slug, article_id=article_id))


@bp.route(
    "/gestion/consultations/<slug>/texte/articles/<int:article_id>/deplacer", methods=["POST"]
)
@access(is_admin)
def move_article(slug: str, article_id: int):
    """Move an article up or down within its division, or to the end of another division."""
    consultation, article = _article_to_change(slug, article_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if form.direction.data in ("up", "down"):
            editing.move_article(article, -1 if form.direction.data == "up" else 1, acting_user())
        elif form.division_id.data is not None:
            target = db.session.get(Division, form.division_id.data)
            if target is None:
                raise DomainError(_l("Choose a division of this bill."), field="division_id")
            editing.move_article_to(article, target, acting_user())
        else:
            raise DomainError(_l("Choose where to move the article."), field="division_id")
    except DomainError as error:
        db.session.rollback()
        row_error = RowError("article", article_id, str(error.message))
        return _editor_page(consultation, status=error.status_code, row_error=row_error)
    return _to_editor(slug, f"article-{article_id}")


@bp.route(
    "/gestion/consultations/<slug>/texte/articles/<int:article_id>/supprimer", methods=["POST"]
)
@access(is_admin)
def delete_article(slug: str, article_id: int):
    """Delete an article with its sources (their proposals become undecided again)."""
    consultation, article = _article_to_change(slug, article_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        editing.delete_article(article, acting_user())
    except DomainError as error:
        db.session.rollback()
        row_error = RowError("article", article_id, str(error.message))
        return _editor_page(consultation, status=error.status_code, row_error=row_error)
    flash(_("Article deleted."), "success")
    return _to_editor(slug)


def _revision_number(name: str, default: int | None) -> int | None:
    value = request.args.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        abort(404)


@bp.route("/gestion/consultations/<slug>/texte/articles/<int:article_id>/revisions")
@access(is_admin)
def article_revisions(slug: str, article_id: int):
    """An article's saved texts, with a word-level diff between any two (`?a=1&b=3`)."""
    consultation, bill = _editor_bill(slug)
    article = _bill_article(bill, article_id)
    revisions = editing.article_revisions(article)
    by_number = {revision.number: revision for revision in revisions}
    numbers = [revision.number for revision in revisions]
    a = _revision_number(
        "a", numbers[-2] if len(numbers) > 1 else (numbers[0] if numbers else None)
    )
    b = _revision_number("b", numbers[-1] if numbers else None)
    if (a is not None and a not in by_number) or (b is not None and b not in by_number):
        abort(404)
    before = by_number.get(a) if a is not None else None
    after = by_number.get(b) if b is not None else None
    return render_template(
        "bill/article_revisions.html",
        consultation=consultation,
        article=article,
        node=load_outline(bill).article_index[article.id],
        revisions=revisions,
        before=before,
        after=after,
        heading_diff=diff_html(before.heading, after.heading) if before and after else None,
        body_diff=diff_html(before.body, after.body) if before and after else None,
    )
