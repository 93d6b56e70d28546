"""Rendering one stage's letter for one invoice, exactly as a run would send it."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from bot.accounts.identifiers import normalize_invoice_number
from bot.config import get_settings
from bot.db import session_scope
from bot.dunning import data, notices, render
from bot.dunning.policy import Policy
from bot.email.errors import HeaderInjection

HEADERS = ("From", "To", "Reply-To", "Subject", "Message-ID", "References", "Auto-Submitted")


class PreviewError(ValueError):
    """No such invoice or stage, or the letter cannot be rendered."""


async def preview(
    number: str,
    stage_name: str,
    now: dt.datetime,
    policy: Policy,
    *,
    html: bool = False,
    settings=None,
    url: Optional[str] = None,
) -> str:
    settings = settings or get_settings()
    normalized = normalize_invoice_number(number)
    if normalized is None:
        raise PreviewError(f"{number!r} is not an invoice number (they look like INV-20015)")
    try:
        stage = policy.stage(stage_name)
    except KeyError as exc:
        raise PreviewError(exc.args[0]) from None
    async with session_scope(url or settings.database_url) as session:
        found = await data.invoice_by_number(session, normalized)
        if found is None:
            raise PreviewError(f"there is no invoice {normalized}")
        invoice = await data.any_invoice(session, found[0])
    today = now.astimezone(settings.tz).date()
    ctx = notices.Context(policy=policy, settings=settings, now=now, today=today)
    try:
        letter = notices.reminder(ctx, invoice, stage)
    except (render.TemplateProblem, HeaderInjection) as exc:
        raise PreviewError(f"cannot render the {stage.name} letter for {normalized}: {exc}") from None
    lines = [f"{name}: {letter.message[name]}" for name in HEADERS if letter.message[name]]
    if found[1] != "open":
        lines.insert(0, f"(invoice {normalized} is {found[1]}: a run would not send this)")
    part = letter.message.get_body(("html",) if html else ("plain",))
    assert part is not None  # render.compose_email always writes both the plain and the HTML part
    return "\n".join(lines) + "\n\n" + part.get_content()
