"""Draw pages: the staff's commitments and lotteries with their progress, the public jury page
with each draw's public data, and that data as a file to replay the draw."""

from __future__ import annotations

import json

from flask import flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from consultation.consultations.models import Consultation
from consultation.consultations.views import load_consultation
from consultation.core.cache import cached_page
from consultation.core.errors import DomainError
from consultation.core.models import utcnow
from consultation.core.permissions import access, is_admin, public
from consultation.core.views import acting_user, show_error
from consultation.extensions import db
from consultation.jury import draw as draws
from consultation.jury import members
from consultation.jury.forms import DrawForm
from consultation.jury.models import (
    DRAW_STATUS_LABELS,
    JUROR_STATUS_LABELS,
    DrawKind,
    DrawStatus,
    RoundStatus,
    VotingRound,
)
from consultation.jury.pool import InfeasibleQuotas
from consultation.jury.views import bp

# --- Staff: commitments and lotteries ------------------------------------------------------------


def _draws_page(consultation: Consultation, form: DrawForm | None = None, status: int = 200):
    all_draws = draws.list_draws(consultation)
    return render_template(
        "jury/draws.html",
        consultation=consultation,
        draws=all_draws,
        has_initial=any(d.kind is DrawKind.INITIAL and d.is_drawn for d in all_draws),
        seats_to_fill=draws.seats_to_fill(consultation),
        juror_counts=draws.juror_counts(consultation),
        form=form or DrawForm(),
        status_labels=DRAW_STATUS_LABELS,
        juror_status_labels=JUROR_STATUS_LABELS,
        DrawStatus=DrawStatus,
    ), status


def _refused(consultation: Consultation, form: DrawForm, error: DomainError):
    """The draws page again with the reasons of the refusal on top (every infeasible quota)."""
    db.session.rollback()
    if isinstance(error, InfeasibleQuotas):
        form.form_errors.extend(error.problems)
        return _draws_page(consultation, form, 422)
    return _draws_page(consultation, form, show_error(form, error))


@bp.route("/gestion/consultations/<slug>/jury/tirages", methods=["GET", "POST"])
@access(is_admin)
def draws_page(slug: str):
    """The consultation's draws; a POST commits the initial draw (pool frozen, seed hashed)."""
    consultation = load_consultation(slug)
    form = DrawForm()
    if not form.is_submitted():
        return _draws_page(consultation)
    if not form.validate():
        return _draws_page(consultation, form, 400)
    try:
        draw = draws.commit_draw(consultation, form.panel_size.data, acting_user(), utcnow())
    except DomainError as error:
        return _refused(consultation, form, error)
    flash(
        _(
            "Draw %(n)d is committed: its commitment is public. Run it when you are ready.",
            n=draw.number,
        ),
        "success",
    )
    return redirect(url_for("jury.draws_page", slug=consultation.slug), 303)


@bp.route("/gestion/consultations/<slug>/jury/tirages/remplacement", methods=["POST"])
@access(is_admin)
def commit_replacement(slug: str):
    """Commit a replacement draw for the seats of the jurors who declined."""
    consultation = load_consultation(slug)
    form = DrawForm(formdata=None)
    try:
        draw = draws.commit_draw(consultation, None, acting_user(), utcnow(), DrawKind.REPLACEMENT)
    except DomainError as error:
        return _refused(consultation, form, error)
    flash(
        _("Replacement draw %(n)d is committed for %(k)d seats.", n=draw.number, k=draw.panel_size),
        "success",
    )
    return redirect(url_for("jury.draws_page", slug=consultation.slug), 303)


@bp.route("/gestion/consultations/<slug>/jury/tirages/<int:number>/lancer", methods=["POST"])
@access(is_admin)
def run_draw(slug: str, number: int):
    """Run a committed draw as a job; the page then follows its progress."""
    consultation = load_consultation(slug)
    draw = draws.find_draw(consultation, number)
    try:
        draws.start_draw(draw, acting_user())
    except DomainError as error:
        return _refused(consultation, DrawForm(formdata=None), error)
    db.session.commit()  # the job reads the draw in its own transaction
    draws.draw_job(draw.id)
    flash(_("Draw %(n)d is under way.", n=number), "success")
    return redirect(
        url_for("jury.draws_page", slug=consultation.slug, _anchor=f"draw-{number}"), 303
    )


@bp.route("/gestion/consultations/<slug>/jury/tirages/<int:number>/progression")
@access(is_admin)
def draw_progress(slug: str, number: int):
    """Where a draw stands, for the page that follows it (JSON)."""
    draw = draws.find_draw(load_consultation(slug), number)
    return jsonify(
        status=draw.status.value,
        label=str(DRAW_STATUS_LABELS[draw.status]),
        done=draw.progress_done,
        total=draw.progress_total,
        error=draw.error,
    )


# --- Public: the jury page and the draws' data ---------------------------------------------------


@bp.route("/consultations/<slug>/jury")
@access(public)
@cached_page
def home(slug: str):
    """How the jury is drawn and votes, the quotas, each draw's public data, the results."""
    consultation = load_consultation(slug)
    all_draws = draws.list_draws(consultation)
    closed_rounds = list(
        db.session.scalars(
            select(VotingRound)
            .where(
                VotingRound.consultation_id == consultation.id,
                VotingRound.status == RoundStatus.CLOSED,
            )
            .order_by(VotingRound.number)
        )
    )
    shown = [d for d in all_draws if d.status is not DrawStatus.FAILED]
    return render_template(
        "jury/home.html",
        consultation=consultation,
        draws=shown,
        draw_types={d.number: draws.labelled_types(d) for d in shown},
        categories=members.list_categories(consultation),
        closed_reason=members.applications_closed_reason(consultation),
        closed_rounds=closed_rounds,
        juror_count=draws.seated_juror_count(consultation),
        status_labels=DRAW_STATUS_LABELS,
        DrawStatus=DrawStatus,
    )


@bp.route("/consultations/<slug>/jury/tirages/<int:number>.json")
@access(public)
def draw_data(slug: str, number: int):
    """A draw's public data — pool snapshot, checksum, commitment, seed, distribution — to
    replay it with `flask --app consultation jury replay`."""
    consultation = load_consultation(slug)
    draw = draws.find_draw(consultation, number)
    body = json.dumps(draws.public_draw_data(draw), ensure_ascii=False, indent=2)
    filename = f"tirage-{consultation.slug}-{number}.json"
    return (
        body,
        200,
        {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )
