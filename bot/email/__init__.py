"""Email: one package for mail in and out.

Out:  ``compose`` (pure: a MIME message), ``transport`` (SMTP, or an .eml file in
      the outbox folder when no SMTP server is set), ``outbound_queue`` (the
      conversation replies waiting to be sent, retried with backoff), ``errors``.
In:   ``imap`` (the mailbox), ``parse`` / ``headers`` / ``charsets`` / ``html_text``
      (raw bytes to one plain message), the recognisers ``bounces``
      (+ ``bounce_reasons``), ``feedback_reports`` and ``loop_safety`` (pure), and
      ``inbound`` (the filter chain: dedupe, bounce, feedback report, automatic,
      thread, route). ``quotes`` strips quoted text; ``threads`` says which
      conversation a message belongs to (including replies to payment reminders).
``channel`` runs the inbox and the queue inside the hub.
"""


def email_status(settings) -> str:
    """One line for start-up: where mail comes from and goes to."""
    outgoing = (
        f"SMTP {settings.smtp.host}:{settings.smtp.port}"
        if settings.smtp.host
        else f"written to {settings.email.outbox_dir} (no BOT_SMTP_HOST)"
    )
    if not settings.email_enabled:
        return f"Email inbox: off (set BOT_IMAP_HOST to answer a mailbox); outgoing mail: {outgoing}"
    return (
        f"Email inbox: {settings.imap.username} at {settings.imap.host}:{settings.imap.port}/"
        f"{settings.imap.folder}; outgoing mail: {outgoing}"
    )
