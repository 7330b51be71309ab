"""Access rules: named predicates on (user, object) that compose, checked on the server.

Every endpoint declares its rule with `@access(rule)`; an endpoint without one is refused
(deny by default). Object-level checks call `authorize(rule, obj)`, which answers 404 when
the object is out of the user's scope, so that its existence does not leak.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user

Check = Callable[[Any, Any], bool]
View = TypeVar("View", bound=Callable[..., Any])


class Rule:
    """A named predicate on (user, object); combine with `&`, `|` and `~`."""

    def __init__(self, name: str, check: Check, *, needs_sign_in: bool = False) -> None:
        self.name = name
        self._check = check
        self.needs_sign_in = needs_sign_in

    def __call__(self, user: Any, obj: Any = None) -> bool:
        return bool(self._check(user, obj))

    def __and__(self, other: Rule) -> Rule:
        return Rule(
            f"({self.name} & {other.name})",
            lambda user, obj: self(user, obj) and other(user, obj),
            needs_sign_in=self.needs_sign_in or other.needs_sign_in,
        )

    def __or__(self, other: Rule) -> Rule:
        return Rule(
            f"({self.name} | {other.name})",
            lambda user, obj: self(user, obj) or other(user, obj),
            needs_sign_in=self.needs_sign_in and other.needs_sign_in,
        )

    def __invert__(self) -> Rule:
        return Rule(f"~{self.name}", lambda user, obj: not self(user, obj))

    def __repr__(self) -> str:
        return f"<Rule {self.name}>"


def _role_of(user: Any) -> str | None:
    return getattr(user, "role", None) if user.is_authenticated else None


public = Rule("public", lambda user, obj: True)
signed_in = Rule("signed_in", lambda user, obj: user.is_authenticated, needs_sign_in=True)


def has_role(*roles: str) -> Rule:
    """The user has one of these roles."""
    names = "|".join(str(role) for role in roles)
    return Rule(f"role({names})", lambda user, obj: _role_of(user) in roles, needs_sign_in=True)


is_admin = has_role("admin")
is_contributor = has_role("contributor")
is_regional_editor = has_role("regional_editor")
is_juror = has_role("juror")
is_staff_or_editor = has_role("admin", "regional_editor")

same_organisation = Rule(
    "same_organisation",
    lambda user, obj: (
        user.is_authenticated
        and user.organisation_id is not None
        and getattr(obj, "organisation_id", None) == user.organisation_id
    ),
    needs_sign_in=True,
)
same_region = Rule(
    "same_region",
    lambda user, obj: (
        user.is_authenticated
        and user.region_code is not None
        and getattr(obj, "region_code", None) == user.region_code
    ),
    needs_sign_in=True,
)


def phase_in(*phases: str) -> Rule:
    """The object's consultation (or the object itself) is in one of these phases."""

    def check(user: Any, obj: Any) -> bool:
        consultation = getattr(obj, "consultation", obj)
        return getattr(consultation, "phase", None) in phases

    return Rule(f"phase({'|'.join(phases)})", check)


def access(rule: Rule) -> Callable[[View], View]:
    """Declare who may reach an endpoint; checked before the view runs."""

    def decorator(view: View) -> View:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return decorator


def authorize(rule: Rule, obj: Any) -> Any:
    """Return `obj` if the current user may act on it; otherwise answer 404."""
    if not rule(current_user, obj):
        abort(404)
    return obj


def can(rule: Rule, obj: Any = None) -> bool:
    """For templates: may the current user do this?"""
    return rule(current_user, obj)


def rule_for(app: Flask, endpoint: str | None) -> Rule | None:
    """The access rule declared for an endpoint, or None when it declares none."""
    if endpoint is None:
        return None
    declared = app.extensions.setdefault("access_rules", {})
    if endpoint in declared:
        return declared[endpoint]
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def declare(app: Flask, rule: Rule, *endpoints: str) -> None:
    """Give a rule to endpoints we do not write ourselves (static files, the OpenAPI document)."""
    declared = app.extensions.setdefault("access_rules", {})
    for endpoint in endpoints:
        declared[endpoint] = rule


def init_app(app: Flask) -> None:
    """Check every request against its endpoint's rule, refusing endpoints without one."""
    declare(app, public, "static")

    @app.before_request
    def check_access():
        if request.endpoint is None:  # no route matched: let Flask answer 404 or 405
            return None
        rule = rule_for(app, request.endpoint)
        if rule is not None and rule(current_user):
            return None
        if rule is not None and rule.needs_sign_in and not current_user.is_authenticated:
            if request.path.startswith("/api/") or request.method != "GET":
                abort(401)
            return redirect(url_for("accounts.sign_in", next=request.full_path.rstrip("?")))
        abort(403)
