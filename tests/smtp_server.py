"""A real SMTP server on loopback for the tests (aiosmtpd), which keeps what it accepts."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Recorder:
    """An SMTP handler keeping what it accepts; it may refuse some recipients, or be slow."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.refused: set[str] = set()
        self.delay = 0.0
        self.controller: Controller | None = None
        self.drop_data = False  # answer the next DATA with "421 closing", as a dying server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refused:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.drop_data:
            self.drop_data = False
            return "421 4.3.2 Service shutting down, closing transmission channel"
        if self.delay:
            await asyncio.sleep(self.delay)
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def stop(self) -> None:
        """The server goes down (connections are refused)."""
        assert self.controller is not None
        self.controller.stop()
        self.controller = None

    def start_again(self, port: int) -> None:
        """The server comes back on the same port, keeping what it accepted."""
        self.controller = Controller(self, hostname="127.0.0.1", port=port)
        self.controller.start()

    def parsed(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
            for _rcpt, raw in self.messages
        ]

    def to(self, address: str) -> list[bytes]:
        return [raw for rcpt, raw in self.messages if address in rcpt]


@pytest.fixture
def smtp(app) -> Iterator[Recorder]:
    """A real SMTP server on 127.0.0.1, and MAIL_URL pointing to it."""
    recorder = Recorder()
    port = free_port()
    recorder.controller = Controller(recorder, hostname="127.0.0.1", port=port)
    recorder.controller.start()
    app.config["MAIL_URL"] = f"smtp://127.0.0.1:{port}"
    try:
        yield recorder
    finally:
        if recorder.controller is not None:
            recorder.controller.stop()
