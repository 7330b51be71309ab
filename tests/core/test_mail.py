"""Mail over a real SMTP server: a message with a long body and an attachment goes through."""

from __future__ import annotations

from consultation.core.mail import send_mail


def test_a_message_is_accepted_by_a_real_smtp_server(app, smtp):
    body = "Une ligne assez longue pour être repliée. " * 40
    with app.app_context():
        send_mail("camille@example.org", "Bienvenue", body, (("a.txt", "text/plain", b"x"),))
    (message,) = smtp.parsed()
    assert message["To"] == "camille@example.org"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert text.split() == body.split()
