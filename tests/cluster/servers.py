"""Real processes for the tests of several app servers: gunicorn instances and workers started
with production settings, and a visitor that talks to them over HTTP with its own cookies (a
browser's, but able to switch servers between two requests, as a load balancer would)."""

from __future__ import annotations

import contextlib
import http.client
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Flask

from consultation.accounts.models import User
from consultation.accounts.services import start_session
from consultation.extensions import db
from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def start_process(name: str, arguments: list[str], env: dict[str, str], logs: Path):
    """A Python process of the project (its output in `logs/<name>.log`)."""
    with (logs / f"{name}.log").open("wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, *arguments],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@dataclass
class AppServer:
    """One gunicorn instance on a port of its own."""

    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @classmethod
    def start(cls, name: str, env: dict[str, str], logs: Path, workers: int = 2) -> AppServer:
        port = free_port()
        arguments = ["-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
        arguments += ["--graceful-timeout", "5", "wsgi:app"]
        process = start_process(f"gunicorn-{name}", arguments, env, logs)
        return cls(name, port, process, logs / f"gunicorn-{name}.log")

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} stopped:\n{self.log.read_text()}")
            with contextlib.suppress(OSError):  # not listening yet
                if Visitor().get(self, "/healthz").status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.name} not healthy:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def location_path(self) -> str | None:
        location = self.headers.get("location")
        return urlsplit(location).path if location else None


@dataclass
class Visitor:
    """Cookies of one browser, sent to whichever server it talks to (the Secure flag is
    ignored: the servers run in production mode, without the TLS of a reverse proxy)."""

    cookies: dict[str, str] = field(default_factory=dict)

    @classmethod
    def with_session(cls, app: Flask, user: User) -> Visitor:
        """A visitor already signed in as `user` (a session row and its signed cookie)."""
        token = start_session(user, "127.0.0.1", "cluster tests")
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)
        value = serializer.dumps({"_user_id": token, "_fresh": True})
        return cls({app.config["SESSION_COOKIE_NAME"]: value})

    def request(
        self, server: AppServer, method: str, path: str, form: dict[str, object] | None = None
    ) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        headers = {"Host": f"127.0.0.1:{server.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode({key: str(value) for key, value in form.items()})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            answer_headers = {key.lower(): value for key, value in response.getheaders()}
            return Answer(response.status, answer_headers, text)
        finally:
            connection.close()

    def get(self, server: AppServer, path: str) -> Answer:
        return self.request(server, "GET", path)

    def post(self, server: AppServer, path: str, form: dict[str, object]) -> Answer:
        return self.request(server, "POST", path, form)

    def csrf_token(self, server: AppServer, page: str) -> str:
        """The CSRF token of the first form of a page (and the session cookie it goes with)."""
        answer = self.get(server, page)
        found = CSRF.search(answer.text)
        assert found, (page, answer.status, answer.text[:300])
        return found.group(1)

    def post_form(
        self, server: AppServer, page: str, action: str, fields: dict[str, object]
    ) -> Answer:
        """Open `page`, then send one of its forms to `action`, as a person would."""
        return self.post(server, action, {**fields, "csrf_token": self.csrf_token(server, page)})

    def sign_in(self, server: AppServer, email: str, password: str) -> None:
        answer = self.post_form(
            server, "/connexion", "/connexion", {"email": email, "password": password}
        )
        assert answer.status in (302, 303), (answer.status, answer.text[:500])


def worker_pids(server: AppServer) -> list[int]:
    """The gunicorn workers of a server: the children of its master process."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.process.pid:
            children.append(int(stat.parent.name))
    return children
