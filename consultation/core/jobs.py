"""Background jobs on Huey: SQLite storage in the instance folder, Redis when configured.

Development and tests run jobs immediately, in the request; production queues them for
`flask --app consultation jobs worker`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup
from huey import Huey
from huey.consumer_options import ConsumerConfig
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

# Created unbound; init_app gives it the configured storage.
huey: Huey = Huey("utiles-ensemble", immediate=True, storage_class=MemoryStorage)
_app: Flask | None = None


def init_app(app: Flask) -> None:
    """Point the queue at the configured storage and remember the app for worker threads."""
    global _app
    _app = app
    if "jobs" not in app.cli.commands:
        app.cli.add_command(jobs_cli)
    if app.config["HUEY_IMMEDIATE"]:
        huey.immediate = True
        return
    huey.immediate = False
    if app.config["REDIS_URL"]:
        huey.storage = RedisStorage(huey.name, url=app.config["REDIS_URL"])
    else:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        huey.storage = SqliteStorage(huey.name, filename=str(Path(app.instance_path) / "jobs.db"))


def job(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """Declare a background job; it runs inside an application context."""

    def decorator(function: Callable[..., Any]) -> Any:
        @functools.wraps(function)
        def in_app_context(*args: Any, **kwargs: Any) -> Any:
            if has_app_context():
                return function(*args, **kwargs)
            assert _app is not None, "jobs.init_app was not called"
            with _app.app_context():
                return function(*args, **kwargs)

        return huey.task(**options)(in_app_context)

    return decorator


jobs_cli = AppGroup("jobs", help="Background jobs.")


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Worker threads.")
def worker(workers: int) -> None:
    """Run the job consumer until interrupted."""
    config = ConsumerConfig(workers=workers, worker_type="thread")
    config.validate()
    click.echo(f"Processing jobs with {workers} worker threads (Ctrl+C to stop).")
    consumer = huey.create_consumer(**config.values)
    consumer.run()


def queue_name() -> str:
    """Where jobs go, for the health check."""
    if huey.immediate:
        return "immediate"
    return "redis" if current_app.config["REDIS_URL"] else "sqlite"
