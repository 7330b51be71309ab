"""Outgoing e-mail, sent by a background job: SMTP when `MAIL_URL` is set, else an outbox."""

from __future__ import annotations

import smtplib
import ssl
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import getaddresses, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app

from consultation.core.jobs import job


def build_message(
    to: str, subject: str, body: str, attachments: tuple[tuple[str, str, bytes], ...] = ()
) -> EmailMessage:
    """A plain-text message with optional (filename, mime type, content) attachments."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="utiles-ensemble.example")
    message.set_content(body)
    for filename, mime_type, content in attachments:
        maintype, subtype = mime_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def send_mail(
    to: str, subject: str, body: str, attachments: tuple[tuple[str, str, bytes], ...] = ()
) -> None:
    """Queue a message for delivery."""
    # CRLF line ends, as SMTP requires (smtplib sends bytes as they are).
    deliver_mail(build_message(to, subject, body, attachments).as_bytes(policy=SMTP))


@job(retries=5, retry_delay=60)
def deliver_mail(raw: bytes) -> None:
    """Hand one message to the SMTP server, or write it to the outbox in development."""
    mail_url = current_app.config["MAIL_URL"]
    if mail_url:
        _send_smtp(mail_url, raw)
        return
    outbox = Path(current_app.config["MAIL_OUTBOX"])
    outbox.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns()}.eml"
    (outbox / name).write_bytes(raw)


def _send_smtp(mail_url: str, raw: bytes) -> None:
    url = urlsplit(mail_url)
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    port = url.port or (465 if url.scheme == "smtps" else 25)
    with smtp_class(url.hostname or "localhost", port, timeout=30) as smtp:
        if url.scheme == "smtp+starttls":
            smtp.starttls(context=ssl.create_default_context())
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.sendmail(current_app.config["MAIL_SENDER"], _recipients(raw), raw)


def _recipients(raw: bytes) -> list[str]:
    message = message_from_bytes(raw)
    return [address for _name, address in getaddresses(message.get_all("To", []))]
