"""Voting pages: the staff's voting rounds, the jurors' ballot and receipts, and the public
results and ballot log of each closed round."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from consultation.bill import services as bill_services
from consultation.bill import versions as bill_versions
from consultation.bill.models import BillVersion
from consultation.bill.versions import walk_snapshot
from consultation.consultations.models import Consultation
from consultation.consultations.views import load_consultation
from consultation.core.cache import cached_page
from consultation.core.errors import DomainError, Forbidden, NotFound
from consultation.core.i18n import PARIS
from consultation.core.models import utcnow
from consultation.core.permissions import access, is_admin, is_juror, public
from consultation.core.views import acting_user, show_error
from consultation.extensions import db
from consultation.jury import ballots
from consultation.jury.forms import RoundForm, VoteForm
from consultation.jury.models import (
    CHOICE_LABELS,
    ROUND_STATUS_LABELS,
    WHOLE_TEXT,
    Choice,
    RoundStatus,
    VotingRound,
)
from consultation.jury.views import bp


def _rounds(consultation: Consultation) -> list[VotingRound]:
    return list(
        db.session.scalars(
            select(VotingRound)
            .where(VotingRound.consultation_id == consultation.id)
            .order_by(VotingRound.number)
        )
    )


def _load_round(consultation: Consultation, number: int) -> VotingRound:
    voting_round = db.session.scalar(
        select(VotingRound).where(
            VotingRound.consultation_id == consultation.id, VotingRound.number == number
        )
    )
    if voting_round is None:
        abort(404)
    return voting_round


# --- Staff: the voting rounds -----------------------------------------------------------------


def _frozen_versions(consultation: Consultation) -> list[BillVersion]:
    bill = bill_services.find_bill(consultation)
    return bill_versions.list_versions(bill) if bill is not None else []


def _rounds_page(consultation: Consultation, form: RoundForm | None = None, status: int = 200):
    versions = _frozen_versions(consultation)
    form = form or RoundForm()
    form.version.choices = [
        SelectChoice(v.number, _("Version %(n)d", n=v.number) + (f" – {v.note}" if v.note else ""))
        for v in versions
    ]
    return render_template(
        "jury/rounds.html",
        consultation=consultation,
        rounds=_rounds(consultation),
        versions=versions,
        form=form,
        status_labels=ROUND_STATUS_LABELS,
        RoundStatus=RoundStatus,
    ), status


@bp.route("/gestion/consultations/<slug>/jury/scrutins", methods=["GET", "POST"])
@access(is_admin)
def rounds(slug: str):
    """The consultation's voting rounds, and a form to schedule the next one."""
    consultation = load_consultation(slug)
    if request.method == "GET":
        return _rounds_page(consultation)
    form = RoundForm()
    if not form.validate():
        return _rounds_page(consultation, form, 400)
    version = next(
        (v for v in _frozen_versions(consultation) if v.number == form.version.data), None
    )
    try:
        if version is None:
            raise NotFound(_l("Choose a frozen version of this bill."), field="version")
        created = ballots.open_round(
            consultation,
            version,
            form.opens_at.data.replace(tzinfo=PARIS),
            form.closes_at.data.replace(tzinfo=PARIS),
            form.quorum_percent.data,
            form.threshold_percent.data,
            acting_user(),
            utcnow(),
        )
    except DomainError as error:
        db.session.rollback()
        return _rounds_page(consultation, form, show_error(form, error))
    flash(_("Round %(n)d is scheduled.", n=created.number), "success")
    return redirect(url_for("jury.rounds", slug=consultation.slug), 303)


def _round_action(slug: str, number: int, action, message: str):
    consultation = load_consultation(slug)
    voting_round = _load_round(consultation, number)
    try:
        action(voting_round, acting_user(), utcnow())
    except DomainError as error:
        db.session.rollback()
        form = RoundForm(formdata=None)
        form.form_errors.append(str(error.message))
        return _rounds_page(consultation, form, error.status_code)
    flash(message % {"n": number}, "success")
    return redirect(url_for("jury.rounds", slug=consultation.slug), 303)


@bp.route("/gestion/consultations/<slug>/jury/scrutins/<int:number>/ouvrir", methods=["POST"])
@access(is_admin)
def start_round(slug: str, number: int):
    """Open a scheduled round to the jurors' votes."""
    return _round_action(slug, number, ballots.start_round, _("Round %(n)d is open."))


@bp.route("/gestion/consultations/<slug>/jury/scrutins/<int:number>/fermer", methods=["POST"])
@access(is_admin)
def close_round(slug: str, number: int):
    """Close an open round: its results are counted and published."""
    return _round_action(
        slug, number, ballots.close_round, _("Round %(n)d is closed; its results are published.")
    )


# --- Jurors: the ballot and the receipts --------------------------------------------------------


def _juror_consultation(slug: str) -> Consultation:
    """The consultation if the signed-in juror sits on its jury; else a clear refusal."""
    consultation = load_consultation(slug)
    if not ballots.is_juror(acting_user(), consultation):
        raise Forbidden(_l("You are not a juror of this consultation: you cannot vote in it."))
    return consultation


def _ballot_rounds(consultation: Consultation) -> list[VotingRound]:
    """The rounds a juror sees on the ballot page: open ones, then those still to come."""
    return [r for r in _rounds(consultation) if r.status is not RoundStatus.CLOSED]


def _vote_page(
    consultation: Consultation,
    error: tuple[int, int, str] | None = None,
    kept: dict[tuple[int, int], str] | None = None,
    status: int = 200,
):
    """The ballot: each open round's articles with the juror's current choice preselected;
    `error` is (round, item, message) and `kept` the choices the refused form sent."""
    user = acting_user()
    sections = []
    for voting_round in _ballot_rounds(consultation):
        section = {"round": voting_round, "articles": [], "progress": None, "choices": {}}
        if voting_round.status is RoundStatus.OPEN:
            section["articles"] = [
                article for article, _ in walk_snapshot(voting_round.bill_version.content)
            ]
            try:
                choices = {r.item: r.choice.value for r in ballots.my_receipts(voting_round, user)}
                section["progress"] = ballots.progress(voting_round, user)
            except DomainError:
                choices = {}
            for (number, item), choice in (kept or {}).items():
                if number == voting_round.number:
                    choices[item] = choice
            section["choices"] = choices
        sections.append(section)
    # A refusal about a round whose ballot is not shown (closed, or not open yet) goes on top.
    inline = error is not None and any(
        s["round"].number == error[0] and s["articles"] for s in sections
    )
    return render_template(
        "jury/vote.html",
        consultation=consultation,
        sections=sections,
        choice_labels=CHOICE_LABELS,
        WHOLE_TEXT=WHOLE_TEXT,
        error=error,
        error_on_top=error is not None and not inline,
    ), status


@bp.route("/consultations/<slug>/jury/vote", methods=["GET", "POST"])
@access(is_juror)
def vote(slug: str):
    """The juror's ballot (GET), and the vote on one item (POST), which replaces theirs."""
    consultation = _juror_consultation(slug)
    if request.method == "GET":
        return _vote_page(consultation)
    form = VoteForm()
    number = request.form.get("round", "")
    item = form.item.data or ""
    if not (number.isdigit() and item.isdigit()):
        abort(400)
    voting_round = _load_round(consultation, int(number))
    if not form.validate():
        message = str(next(iter(form.choice.errors), _l("Choose for, against or abstention.")))
        return _vote_page(consultation, (voting_round.number, int(item), message), status=400)
    try:
        value = ballots.cast_ballot(
            voting_round, acting_user(), int(item), Choice(form.choice.data), utcnow()
        )
    except DomainError as error:
        db.session.rollback()
        if error.status_code in (403, 404):
            raise
        kept = {(voting_round.number, int(item)): form.choice.data}
        return _vote_page(
            consultation,
            (voting_round.number, int(item), str(error.message)),
            kept,
            error.status_code,
        )
    flash(
        _(
            "Your vote “%(choice)s” is recorded. Your receipt: %(receipt)s",
            choice=CHOICE_LABELS[Choice(form.choice.data)],
            receipt=value,
        ),
        "success",
    )
    return redirect(
        url_for("jury.vote", slug=consultation.slug, _anchor=f"item-{number}-{item}"), 303
    )


@bp.route("/consultations/<slug>/jury/recus")
@access(is_juror)
def receipts(slug: str):
    """The receipts of the juror's current votes, round by round, and how to check them."""
    consultation = _juror_consultation(slug)
    user = acting_user()
    sections = []
    for voting_round in _rounds(consultation):
        labels = dict(ballots.round_items(voting_round))
        try:
            mine = ballots.my_receipts(voting_round, user)
        except DomainError as error:
            sections.append({"round": voting_round, "receipts": [], "sealed": str(error.message)})
            continue
        sections.append(
            {
                "round": voting_round,
                "receipts": [(labels.get(r.item, r.item), r) for r in mine],
                "sealed": None,
            }
        )
    return render_template(
        "jury/receipts.html",
        consultation=consultation,
        sections=sections,
        choice_labels=CHOICE_LABELS,
        RoundStatus=RoundStatus,
    )


# --- Public: results and the ballot log ----------------------------------------------------------


def _closed_round(slug: str, number: int) -> tuple[Consultation, VotingRound]:
    """A closed round of the consultation; the others do not exist for the public."""
    consultation = load_consultation(slug)
    voting_round = _load_round(consultation, number)
    if voting_round.status is not RoundStatus.CLOSED:
        abort(404)
    return consultation, voting_round


@bp.route("/consultations/<slug>/jury/scrutins/<int:number>")
@access(public)
@cached_page
def results(slug: str, number: int):
    """The results of a closed round, item by item, with the rules that gave them."""
    consultation, voting_round = _closed_round(slug, number)
    return render_template(
        "jury/results.html",
        consultation=consultation,
        voting_round=voting_round,
        results=voting_round.results,
        WHOLE_TEXT=WHOLE_TEXT,
    )


@bp.route("/consultations/<slug>/jury/scrutins/<int:number>/registre.json")
@access(public)
def ballot_log(slug: str, number: int):
    """The round's hash-chained ballot log, to download and check with `jury verify` (not from
    the page cache, which keeps no Content-Disposition)."""
    consultation, voting_round = _closed_round(slug, number)
    body = json.dumps(ballots.export_log(voting_round), ensure_ascii=False, indent=2)
    filename = f"registre-{consultation.slug}-{voting_round.number}.json"
    return (
        body,
        200,
        {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )
