"""Sign-in, sign-out, forgotten passwords, the account page, invitations, and staff pages for
accounts."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from consultation.accounts import personal_data, services
from consultation.accounts.forms import (
    ORGANISATION_KIND_LABELS,
    ROLE_LABELS,
    AcceptInvitationForm,
    ConfirmForm,
    EraseAccountForm,
    InvitationForm,
    OrganisationEditForm,
    OrganisationForm,
    PasswordChangeForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    SignInForm,
    UserForm,
)
from consultation.accounts.models import (
    Invitation,
    Organisation,
    OrganisationKind,
    Region,
    Role,
    User,
)
from consultation.core.cache import cached_page
from consultation.core.errors import Conflict, DomainError, Gone, NotFound
from consultation.core.pagination import paginate
from consultation.core.permissions import access, is_admin, public, signed_in
from consultation.core.security import is_local_path
from consultation.extensions import db, limiter

bp = Blueprint("accounts", __name__)

SIGN_IN_LIMIT = "5 per minute"
LINK_PAGE_LIMIT = "20 per minute"
PER_PAGE = 50


def _submitted_email() -> str:
    return "account:" + services.normalise_email(request.form.get("email", ""))


def _safe_next(target: str | None) -> str:
    """Only follow `next` to a path on this site."""
    if target and is_local_path(target):
        return target
    return url_for("pages.index")


def sign_in_here(user: User) -> None:
    """Open a fresh session for `user` in this browser, ending the one it had (no fixation)."""
    if current_user.is_authenticated:
        services.end_session(current_user._get_current_object())
        logout_user()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    services.start_session(user, request.remote_addr, request.user_agent.string)
    login_user(user)


@bp.route("/connexion", methods=["GET", "POST"])
@access(public)
@cached_page(form_token=True)
@limiter.limit(SIGN_IN_LIMIT, methods=["POST"])
@limiter.limit(SIGN_IN_LIMIT, key_func=_submitted_email, methods=["POST"])
def sign_in():
    """Sign in with email and password."""
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.InvalidCredentials as error:
            form.password.errors.append(str(error.message))
            db.session.commit()  # keep the audit entry of the failed attempt
            status = 401
        else:
            sign_in_here(user)
            flash(_("Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("accounts/sign_in.html", form=form), status


@bp.route("/deconnexion", methods=["POST"])
@access(signed_in)
def sign_out():
    """Sign out this browser; its session cookie stops working."""
    services.end_session(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You are signed out."), "success")
    return redirect(url_for("pages.index"))


def _account_page(
    password_form: PasswordChangeForm | None = None,
    erase_form: EraseAccountForm | None = None,
    status: int = 200,
):
    user = current_user._get_current_object()
    return render_template(
        "accounts/account.html",
        password_form=password_form or PasswordChangeForm(formdata=None),
        erase_form=erase_form or EraseAccountForm(formdata=None),
        confirm_form=ConfirmForm(),
        sessions=services.active_sessions(user),
        is_current=lambda s: services.is_current_session(user, s),
    ), status


@bp.route("/compte")
@access(signed_in)
def account():
    """The user's account: profile, password, signed-in browsers and personal data."""
    return _account_page()


@bp.route("/compte/mot-de-passe", methods=["POST"])
@access(signed_in)
def change_password():
    """Change the password; every other browser is signed out."""
    user = current_user._get_current_object()
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(user, form.current_password.data, form.new_password.data)
        except DomainError as error:
            form.current_password.errors.append(str(error.message))
        else:
            flash(
                _("Your password has been changed. Your other browsers are signed out."), "success"
            )
            return redirect(url_for("accounts.account"))
    return _account_page(password_form=form, status=400)


@bp.route("/compte/donnees.json")
@access(signed_in)
def export_data():
    """Download everything the platform holds about the signed-in user, as JSON."""
    data = personal_data.export_personal_data(current_user._get_current_object())
    return (
        json.dumps(data, ensure_ascii=False, indent=2),
        200,
        {
            "Content-Type": "application/json; charset=utf-8",
            "Content-Disposition": 'attachment; filename="mes-donnees-utiles-ensemble.json"',
            "Cache-Control": "no-store",
        },
    )


@bp.route("/compte/effacer", methods=["POST"])
@access(signed_in)
@limiter.limit(SIGN_IN_LIMIT)
def erase_account():
    """Erase the signed-in user's account once they retype their password; signs out."""
    form = EraseAccountForm()
    if not form.validate_on_submit():
        return _account_page(erase_form=form, status=400)
    try:
        personal_data.erase_account(current_user._get_current_object(), form.password.data)
    except DomainError as error:
        db.session.rollback()
        _show_error(form, error)
        return _account_page(erase_form=form, status=error.status_code)
    logout_user()
    session.clear()
    flash(
        _(
            "Your account is erased: your name and e-mail address are deleted and you are "
            "signed out everywhere. Thank you for taking part."
        ),
        "success",
    )
    return redirect(url_for("pages.index"), 303)


@bp.route("/compte/sessions/<int:session_id>/fermer", methods=["POST"])
@access(signed_in)
def revoke_session(session_id: int):
    """Sign out one of the user's other browsers."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.end_other_session(current_user._get_current_object(), session_id)
    flash(_("That browser is signed out."), "success")
    return redirect(url_for("accounts.account"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@access(public)
@limiter.limit(LINK_PAGE_LIMIT)
def accept_invitation(token: str):
    """Create an account from a one-time invitation link."""
    invitation = services.find_invitation(token)
    if invitation.role is Role.JUROR:
        # A drawn member's link belongs to the jury's page, which seats them as they join.
        from consultation.jury.jurors import jury_invitation_page

        page = jury_invitation_page(invitation, token)
        if page is not None:
            return redirect(page, 303)
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(token, form.display_name.data, form.new_password.data)
        except (Conflict, Gone, NotFound):
            raise  # used or expired meanwhile: the error page says so, with its status
        except DomainError as error:
            form.new_password.errors.append(str(error.message))
        else:
            sign_in_here(user)
            flash(_("Your account is ready. Welcome!"), "success")
            return redirect(url_for("pages.index"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "accounts/accept_invitation.html", form=form, invitation=invitation
    ), status


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@access(public)
@limiter.limit(SIGN_IN_LIMIT, methods=["POST"])
@limiter.limit(SIGN_IN_LIMIT, key_func=_submitted_email, methods=["POST"])
def forgot_password():
    """Ask for a link to choose a new password; the answer never says if the account exists."""
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data, _password_reset_link)
        return render_template("accounts/forgot_password.html", form=form, sent=True)
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/forgot_password.html", form=form, sent=False), status


def _password_reset_link(token: str) -> str:
    # From BASE_URL, never from the request's Host header, which the requester controls.
    return current_app.config["BASE_URL"] + url_for("accounts.reset_password", token=token)


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
@access(public)
@limiter.limit(LINK_PAGE_LIMIT)
def reset_password(token: str):
    """Choose a new password from a one-time link; every browser of the account is signed out."""
    reset = services.find_password_reset(token)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            user = services.reset_password(token, form.new_password.data)
        except (Conflict, Gone, NotFound):
            raise  # used or expired meanwhile: the error page says so, with its status
        except DomainError as error:
            form.new_password.errors.append(str(error.message))
        else:
            sign_in_here(user)
            flash(
                _(
                    "Your new password is saved and you are signed in. Your other browsers are "
                    "signed out."
                ),
                "success",
            )
            return redirect(url_for("pages.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/reset_password.html", form=form, reset=reset), status


# --- Staff pages -------------------------------------------------------------------------


def _region_choices() -> list[SelectChoice]:
    regions = db.session.scalars(select(Region).order_by(Region.name))
    return [SelectChoice("", "—")] + [SelectChoice(region.code, region.name) for region in regions]


def _show_error(form: FlaskForm, error: DomainError, **aliases: str) -> int:
    """Show a domain error beside the field it is about (`aliases` map a service argument to a
    field of another name), or above the form; returns the error's status code."""
    name = aliases.get(error.field or "", error.field)
    if name and name in form:
        form[name].errors.append(str(error.message))
    else:
        form.form_errors.append(str(error.message))
    return error.status_code


def _organisation_choices() -> list[SelectChoice]:
    organisations = db.session.execute(
        select(Organisation.id, Organisation.name).order_by(Organisation.name)
    )
    return [SelectChoice("", "—")] + [
        SelectChoice(str(org_id), name) for org_id, name in organisations
    ]


@bp.route("/gestion/organisations", methods=["GET", "POST"])
@access(is_admin)
def organisations():
    """List organisations and add one."""
    form = OrganisationForm()
    form.region_code.choices = _region_choices()
    status = 200
    if form.validate_on_submit():
        try:
            organisation = services.create_organisation(
                form.name.data,
                OrganisationKind(form.kind.data),
                form.region_code.data,
                actor=current_user._get_current_object(),
            )
        except DomainError as error:
            status = _show_error(form, error)
        else:
            flash(_("Organisation “%(name)s” added.", name=organisation.name), "success")
            return redirect(url_for("accounts.organisations"))
    elif request.method == "POST":
        status = 400
    kind = request.args.get("kind")
    query = (
        select(Organisation, func.count(User.id))
        .outerjoin(User, User.organisation_id == Organisation.id)
        .group_by(Organisation.id)
        .order_by(Organisation.kind, Organisation.name)
    )
    if kind in OrganisationKind.__members__.values():
        query = query.where(Organisation.kind == kind)
    page = paginate(query, request.args.get("page"), per_page=PER_PAGE, rows=True)
    return render_template("accounts/organisations.html", form=form, page=page, kind=kind), status


@bp.route("/gestion/organisations/<int:organisation_id>", methods=["GET", "POST"])
@access(is_admin)
def edit_organisation(organisation_id: int):
    """Correct an organisation: its name, kind, region and whether it is fictional."""
    organisation = db.get_or_404(Organisation, organisation_id)
    form = OrganisationEditForm(obj=organisation)
    form.region_code.choices = _region_choices()
    status = 200
    if form.validate_on_submit():
        try:
            changes = services.update_organisation(
                organisation,
                form.name.data,
                OrganisationKind(form.kind.data),
                form.region_code.data,
                form.is_fictional.data,
                actor=current_user._get_current_object(),
            )
        except DomainError as error:
            status = _show_error(form, error)
        else:
            if changes:
                flash(_("Organisation “%(name)s” saved.", name=organisation.name), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("accounts.organisations"))
    elif request.method == "POST":
        status = 400
    members = db.session.scalars(
        select(User).where(User.organisation_id == organisation.id).order_by(User.display_name)
    ).all()
    return render_template(
        "accounts/organisation.html", form=form, organisation=organisation, members=members
    ), status


@bp.route("/gestion/utilisateurs")
@access(is_admin)
def users():
    """List accounts, by role."""
    role = request.args.get("role")
    query = select(User).order_by(User.role, User.email)
    if role in Role.__members__.values():
        query = query.where(User.role == role)
    return render_template(
        "accounts/users.html",
        page=paginate(query, request.args.get("page"), per_page=PER_PAGE),
        role=role,
        confirm_form=ConfirmForm(),
    )


@bp.route("/gestion/utilisateurs/<int:user_id>/activation", methods=["POST"])
@access(is_admin)
def set_user_active(user_id: int):
    """Deactivate or reactivate an account; deactivation ends its sessions at once."""
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit() or request.form.get("active") not in ("0", "1"):
        abort(400)  # say which way explicitly: a bare POST must not deactivate by default
    activate = request.form["active"] == "1"
    services.set_user_active(user, activate, current_user._get_current_object())
    message = _("Account reactivated.") if activate else _("Account deactivated.")
    flash(message, "success")
    back = request.form.get("next")  # the account's own page sends it, to come back to it
    return redirect(back if is_local_path(back) else url_for("accounts.users"))


@bp.route("/gestion/utilisateurs/<int:user_id>", methods=["GET", "POST"])
@access(is_admin)
def edit_user(user_id: int):
    """Correct an account's name, role and organisation; new rights apply at once."""
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user)
    form.organisation_id.choices = _organisation_choices()
    status = 200
    if form.validate_on_submit():
        organisation = (
            db.session.get(Organisation, form.organisation_id.data)
            if form.organisation_id.data
            else None
        )
        try:
            changes = services.update_user(
                user,
                form.display_name.data,
                Role(form.role.data),
                organisation,
                actor=current_user._get_current_object(),
            )
        except DomainError as error:
            status = _show_error(form, error, organisation="organisation_id")
        else:
            if not changes:
                flash(_("Nothing was changed."), "info")
            elif user.id != current_user.id and ({"role", "organisation"} & changes.keys()):
                flash(
                    _(
                        "Account saved: %(name)s. They are signed out everywhere, so that "
                        "their new rights apply at once.",
                        name=user.display_name,
                    ),
                    "success",
                )
            else:
                flash(_("Account saved: %(name)s.", name=user.display_name), "success")
            return redirect(url_for("accounts.users"))
    elif request.method == "POST":
        status = 400
    return render_template("accounts/user.html", form=form, user=user), status


@bp.route("/gestion/invitations", methods=["GET", "POST"])
@access(is_admin)
def invitations():
    """Invite a person by email with a one-time, expiring link."""
    form = InvitationForm()
    form.organisation_id.choices = _organisation_choices()
    status = 200
    link = None
    if form.validate_on_submit():
        organisation = (
            db.session.get(Organisation, form.organisation_id.data)
            if form.organisation_id.data
            else None
        )
        days = current_app.config["INVITATION_DAYS"]
        try:
            invitation, token = services.invite_user(
                form.email.data,
                Role(form.role.data),
                organisation,
                current_user._get_current_object(),
                timedelta(days=days),
            )
        except Conflict as error:
            form.email.errors.append(str(error.message))
            status = error.status_code
        except DomainError as error:  # the other rules are about the role's organisation
            form.organisation_id.errors.append(str(error.message))
            status = error.status_code
        else:
            link = current_app.config["BASE_URL"] + url_for(
                "accounts.accept_invitation", token=token
            )
            services.send_invitation_mail(invitation, link)
            flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
            form = InvitationForm(formdata=None)
            form.organisation_id.choices = _organisation_choices()
    elif request.method == "POST":
        status = 400
    pending = db.session.scalars(
        select(Invitation).order_by(Invitation.created_at.desc()).limit(100)
    ).all()
    return render_template(
        "accounts/invitations.html", form=form, invitations=pending, link=link
    ), status


@bp.app_template_global()
def role_label(role: str) -> str:
    """The readable name of a role."""
    return str(ROLE_LABELS[Role(role)])


@bp.app_template_global()
def role_choices() -> list[tuple[str, str]]:
    return [(role.value, str(label)) for role, label in ROLE_LABELS.items()]


@bp.app_template_global()
def organisation_kind_label(kind: str) -> str:
    """The readable name of an organisation kind."""
    return str(ORGANISATION_KIND_LABELS[OrganisationKind(kind)])
