"""Sending through a real SMTP server (aiosmtpd), and the local outbox fallback."""

import email
import email.policy

import pytest

from bot.config import load_settings
from bot.email import compose, errors, transport


def a_message(message_id="<m.1@northwind.example>"):
    return compose.message(sender="billing@northwind.example", to="li@example.com", subject="Your invoice",
                           text="Amount due: $12.00", message_id=message_id, auto_submitted="auto-generated")


async def test_delivers_to_the_smtp_server(smtp_server):
    settings = load_settings({"BOT_SMTP_HOST": smtp_server.host, "BOT_SMTP_PORT": str(smtp_server.port)})
    assert await transport.deliver(a_message(), settings) == "smtp"
    (received,) = smtp_server.messages
    assert received["Message-ID"] == "<m.1@northwind.example>"
    assert received["Auto-Submitted"] == "auto-generated"
    assert smtp_server.envelopes[0].rcpt_tos == ["li@example.com"]


@pytest.mark.parametrize("code, error", [(451, errors.TemporaryFailure), (550, errors.PermanentFailure)])
async def test_refusals_are_temporary_or_permanent(smtp_server, code, error):
    smtp_server.refuse(code)
    settings = load_settings({"BOT_SMTP_HOST": smtp_server.host, "BOT_SMTP_PORT": str(smtp_server.port)})
    with pytest.raises(error, match=str(code)):
        await transport.deliver(a_message(), settings)
    assert smtp_server.messages == []


async def test_an_unreachable_server_is_a_temporary_failure():
    from tests.bot.hub.conftest import free_port

    settings = load_settings({"BOT_SMTP_HOST": "127.0.0.1", "BOT_SMTP_PORT": str(free_port()),
                              "BOT_SMTP_TIMEOUT_SECONDS": "3"})
    with pytest.raises(errors.TemporaryFailure, match="unavailable"):
        await transport.deliver(a_message(), settings)


async def test_without_smtp_mail_goes_to_the_outbox_directory(tmp_path):
    settings = load_settings({"BOT_EMAIL_OUTBOX_DIR": str(tmp_path)})
    path = await transport.deliver(a_message(), settings)
    assert path == str(tmp_path / "m.1@northwind.example.eml")
    stored = email.message_from_bytes((tmp_path / "m.1@northwind.example.eml").read_bytes(), policy=email.policy.default)
    assert stored["Subject"] == "Your invoice"
    await transport.deliver(a_message(), settings)  # the same message again replaces, never duplicates
    assert len(list(tmp_path.iterdir())) == 1
