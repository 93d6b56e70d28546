"""Composing outgoing email. Pure: no I/O.

Every message has a stable Message-ID chosen by the caller (so a reply threads
back and a retry is recognisable), plain text plus optional HTML, and the RFC
3834 ``Auto-Submitted`` header when a machine wrote it. Header values are
checked: a line break in anything that becomes a header is refused, never sent.
"""

from __future__ import annotations

import email.utils
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Iterable, Optional

from bot.email.errors import HeaderInjection


def _clean(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise HeaderInjection(f"{name} contains a line break")
    return value


def check_address(value: str) -> str:
    """One plain address ('a@b.example' or 'Name <a@b.example>'); raises HeaderInjection otherwise."""
    _clean("address", value)
    name, addr = email.utils.parseaddr(value)
    if not addr or "@" not in addr or " " in addr:
        raise HeaderInjection(f"not an email address: {value!r}")
    return value


def message_id(local_part: str, domain: str) -> str:
    """A Message-ID from a stable key, e.g. 'reminder.INV-20015.friendly' at the sender's domain."""
    _clean("Message-ID", local_part)
    safe = "".join(c if c.isalnum() or c in ".-_+=" else "-" for c in local_part)
    return f"<{safe}@{domain}>"


def domain_of(address: str) -> str:
    return email.utils.parseaddr(address)[1].rsplit("@", 1)[-1]


def message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: Optional[str] = None,
    message_id: str,
    in_reply_to: Optional[str] = None,
    references: Iterable[str] = (),
    auto_submitted: Optional[str] = None,
    reply_to: Optional[str] = None,
) -> EmailMessage:
    """A MIME message: text/plain, plus text/html as an alternative when given."""
    msg = EmailMessage()
    msg["From"] = check_address(sender)
    msg["To"] = check_address(to)
    msg["Subject"] = _clean("Subject", subject)
    msg["Message-ID"] = _clean("Message-ID", message_id)
    msg["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
    if reply_to:
        msg["Reply-To"] = check_address(reply_to)
    if in_reply_to:
        msg["In-Reply-To"] = _clean("In-Reply-To", in_reply_to)
    refs = [_clean("References", r) for r in references if r]
    if refs:
        msg["References"] = " ".join(refs)
    if auto_submitted:
        # RFC 3834: "auto-generated" (reminders) or "auto-replied" (answers to mail).
        msg["Auto-Submitted"] = _clean("Auto-Submitted", auto_submitted)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


__all__ = ["Address", "HeaderInjection", "check_address", "domain_of", "message", "message_id"]
