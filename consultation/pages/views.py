"""Site-wide pages: `/`, `/healthz`, the language switch, legal pages and the staff dashboard."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select

from consultation.accounts.models import Invitation, Organisation, Role, User
from consultation.consultations.models import PHASE_LABELS, Consultation
from consultation.consultations.services import find_current_consultation
from consultation.core.audit import AuditEntry
from consultation.core.cache import cached_page
from consultation.core.health import health
from consultation.core.models import utcnow
from consultation.core.pagination import paginate
from consultation.core.permissions import access, has_role, is_admin, public
from consultation.core.security import is_local_path
from consultation.extensions import db

bp = Blueprint("pages", __name__)


@bp.route("/")
@access(public)
@cached_page
def index():
    """Lead to the current consultation, or to the list when there is none."""
    consultation = find_current_consultation()
    if consultation is None:
        return redirect(url_for("consultations.index"))
    return redirect(url_for("consultations.home", slug=consultation.slug))


@bp.route("/healthz")
@access(public)
def healthz():
    """Liveness and dependency checks (database, job queue, Redis), for load balancers."""
    checks, healthy = health()
    body = {"status": "ok" if healthy else "error", **checks, "time": utcnow().isoformat()}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if healthy else 503


@bp.route("/langue/<code>")
@access(public)
def set_language(code: str):
    """Switch the interface language, then go back to the page the visitor was on."""
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    target = request.args.get("next", "")
    if not is_local_path(target):
        target = url_for("pages.index")
    return redirect(target)


@bp.route("/accessibilite")
@access(public)
@cached_page
def accessibility():
    """The accessibility statement (déclaration d'accessibilité)."""
    return render_template("pages/accessibility.html")


@bp.route("/confidentialite")
@access(public)
@cached_page
def privacy():
    """What personal data is kept, why and for how long."""
    return render_template("pages/privacy.html")


@bp.route("/gestion/")
@access(has_role(Role.ADMIN, Role.REGIONAL_EDITOR, Role.CONTRIBUTOR))
def dashboard():
    """The management home: what the signed-in member can manage."""
    counts = {}
    if current_user.is_admin:
        counts = {
            "users": db.session.scalar(select(func.count(User.id))),
            "organisations": db.session.scalar(select(func.count(Organisation.id))),
            "pending_invitations": db.session.scalar(
                select(func.count(Invitation.id)).where(
                    Invitation.accepted_at.is_(None), Invitation.expires_at > utcnow()
                )
            ),
        }
    consultations = db.session.scalars(
        select(Consultation).order_by(Consultation.created_at.desc())
    ).all()
    return render_template(
        "gestion/dashboard.html",
        counts=counts,
        consultations=consultations,
        phase_labels=PHASE_LABELS,
    )


@bp.route("/gestion/journal")
@access(is_admin)
def audit_log():
    """The audit log, newest first, filterable by action."""
    action = request.args.get("action", "").strip()
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    page = paginate(query, request.args.get("page"), per_page=50)
    actions = db.session.scalars(
        select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    ).all()
    return render_template("gestion/audit_log.html", page=page, action=action, actions=actions)
