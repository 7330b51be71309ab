"""Utiles ensemble: a citizen consultation platform for writing a bill together."""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from consultation.config import Config, ConfigError


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build an application: configuration, extensions, blueprints, commands, error pages.

    `config` overrides settings read from the environment (tests pass their own).
    """
    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
        instance_path=os.environ.get("INSTANCE_PATH") or str(root / "instance"),
        instance_relative_config=False,
    )
    settings = Config.from_env(
        {
            **os.environ,
            **{
                key: str(value)
                for key, value in (config or {}).items()
                if key in ("APP_ENV", "SECRET_KEY", "DATABASE_URL")
            },
        },
        Path(app.instance_path),
    )
    app.config.from_mapping(settings.as_flask())
    app.config.from_mapping(config or {})
    if app.config["APP_ENV"] == "production" and app.debug:
        raise ConfigError("Debug mode is refused in production: unset FLASK_DEBUG")

    _load_models()
    _init_extensions(app)
    _register_blueprints(app)
    _register_commands(app)
    return app


DOMAINS = ("accounts", "consultations", "debates", "proposals", "bill", "jury", "exports")


def _load_models() -> None:
    """Import every domain's models, so that the metadata (and migrations) know all tables."""
    for domain in DOMAINS:
        importlib.import_module(f"consultation.{domain}.models")


def _init_extensions(app: Flask) -> None:
    from consultation.core import (
        cache,
        database,
        i18n,
        jobs,
        logs,
        permissions,
        security,
        templating,
    )
    from consultation.core.errors import register_error_handlers
    from consultation.extensions import api, babel, csrf, db, limiter, login_manager, migrate

    logs.init_app(app)  # first: the request id is there for everything that logs
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=i18n.select_locale,
        default_translation_directories=str(Path(app.root_path) / "translations"),
    )
    limiter.init_app(app)
    # Only per-route limits are used, and their decorators check them: the app-wide check that
    # Flask-Limiter runs before every request has nothing to do, and costs every page.
    app_wide_check = limiter._check_request_limit
    if app_wide_check in app.before_request_funcs[None]:  # absent when limits are disabled
        app.before_request_funcs[None].remove(app_wide_check)
    api.init_app(app)
    _init_login(app, login_manager)
    database.init_app(app)
    cache.init_app(app)
    security.init_app(app)
    permissions.init_app(app)
    jobs.init_app(app)
    templating.init_app(app)
    register_error_handlers(app)


def _init_login(app: Flask, login_manager) -> None:
    from consultation.accounts.services import load_session_user

    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.session_protection = None  # server-side sessions are revoked instead
    login_manager.user_loader(load_session_user)


def _register_blueprints(app: Flask) -> None:
    from consultation.accounts.views import bp as accounts
    from consultation.api.views import bp as api_v1
    from consultation.bill.views import bp as bill
    from consultation.consultations.views import bp as consultations
    from consultation.core.cache import cached_page
    from consultation.core.permissions import declare, public
    from consultation.debates.views import bp as debates
    from consultation.exports.dispatch_views import bp as dispatch
    from consultation.exports.views import bp as exports
    from consultation.extensions import api
    from consultation.jury.views import bp as jury
    from consultation.pages.views import bp as pages
    from consultation.proposals.views import bp as proposals

    blueprints = (pages, accounts, consultations, debates, proposals, bill, jury, exports, dispatch)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    api.register_blueprint(api_v1)
    # The OpenAPI document is built from the code on every request: serve it from the page cache.
    openapi = "api-docs.openapi_json"
    app.view_functions[openapi] = cached_page(app.view_functions[openapi])
    declare(app, public, openapi)


def _register_commands(app: Flask) -> None:
    from consultation.accounts.cli import users_cli
    from consultation.backups.cli import backup_cli
    from consultation.bill.cli import bill_cli
    from consultation.demo.cli import demo_cli
    from consultation.exports.cli import dispatch_cli, export_cli
    from consultation.jury.cli import jury_cli
    from consultation.proposals.cli import proposals_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(proposals_cli)
    app.cli.add_command(bill_cli)
    app.cli.add_command(jury_cli)
    app.cli.add_command(dispatch_cli)
    app.cli.add_command(export_cli)
    app.cli.add_command(backup_cli)
