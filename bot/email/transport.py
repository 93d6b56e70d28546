"""Hands a composed message to the configured SMTP server (aiosmtplib), or writes
it as an .eml file into the outbox folder (``mail_outbox_dir``) when no SMTP server is
configured (the embedded default). Failures are the ``errors`` tree."""

from __future__ import annotations

import asyncio
import logging
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from bot.config import Settings
from bot.email.errors import PermanentFailure, SendError, TemporaryFailure

logger = logging.getLogger(__name__)

__all__ = ["PermanentFailure", "SendError", "TemporaryFailure", "deliver", "write_to_outbox"]


async def deliver(message: EmailMessage, settings: Settings) -> str:
    """Sends ``message``; returns where it went ('smtp' or the .eml file's path)."""
    if not settings.smtp.host:
        return await asyncio.get_running_loop().run_in_executor(
            None, write_to_outbox, message, Path(settings.email.outbox_dir)
        )
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp.host,
            port=settings.smtp.port,
            username=settings.smtp.username or None,
            password=settings.smtp.password or None,
            start_tls=settings.smtp.security == "starttls",
            use_tls=settings.smtp.security == "tls",
            timeout=settings.smtp.timeout_seconds,
        )
    except aiosmtplib.SMTPResponseException as exc:
        kind = PermanentFailure if 500 <= exc.code < 600 else TemporaryFailure
        raise kind(f"SMTP server answered {exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPException, OSError, asyncio.TimeoutError) as exc:
        raise TemporaryFailure(f"SMTP server {settings.smtp.host}:{settings.smtp.port} unavailable: {exc!r}") from exc
    return "smtp"


def write_to_outbox(message: EmailMessage, directory: Path) -> str:
    """Writes the message as an .eml file named after its Message-ID (idempotent)."""
    directory.mkdir(parents=True, exist_ok=True)
    name = "".join(c if c.isalnum() or c in ".-_@" else "_" for c in str(message["Message-ID"]).strip("<>"))
    path = directory / f"{name}.eml"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(bytes(message))
    tmp.replace(path)  # whole file or nothing
    return str(path)
