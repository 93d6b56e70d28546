"""Outgoing mail: composing messages (pure) and handing them to SMTP or the local outbox.

    message = compose.message(...)          # no I/O
    await send.deliver(message, settings)   # the thin layer that talks to the network
"""


def email_status(settings) -> str:
    """One line for start-up: where mail comes from and goes to."""
    outgoing = (f"SMTP {settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host
                else f"written to {settings.mail_outbox_dir} (no BOT_SMTP_HOST)")
    if not settings.email_enabled:
        return f"Email inbox: off (set BOT_IMAP_HOST to answer a mailbox); outgoing mail: {outgoing}"
    return (f"Email inbox: {settings.imap_username} at {settings.imap_host}:{settings.imap_port}/"
            f"{settings.imap_folder}; outgoing mail: {outgoing}")
