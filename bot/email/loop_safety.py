"""Should this message get no automatic reply? (RFC 3834 and issue 4, part 5.)

Pure. Two bots answering each other's automatic replies can fill both inboxes
in minutes, and replying to a mailing list or a bounce reaches the wrong
people. So any sign that a message was sent automatically, or that nobody reads
replies at the sender, means: store it, show it to agents, send nothing back.
When in doubt (a malformed Auto-Submitted value, no usable sender) we do not
reply: a missed automatic answer costs little, a mail loop costs a lot.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional

from bot.email.parse import InboundEmail

_PRECEDENCE_AUTOMATIC = {"bulk", "list", "junk", "auto_reply", "auto-reply"}
# Local parts that never read replies: mailer-daemon, postmaster, no-reply and
# friends, also with a suffix ("noreply-billing", "no-reply+x", "bounce-123").
_ROBOT_LOCAL_RE = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|no_reply|do-?not-?reply|do_not_reply|donotreply)"
    r"([-._+].*)?$",
    re.IGNORECASE,
)
# Headers whose mere presence marks automatic mail (any value, even empty).
_PRESENCE_HEADERS = ("list-id", "list-unsubscribe", "x-autoreply", "x-autorespond", "x-auto-response-suppress")


def automatic_reason(email: InboundEmail, own_addresses: Iterable[str] = ()) -> Optional[str]:
    """Why ``email`` must get no automatic reply, or None when a reply is fine.

    ``own_addresses``: our own mailbox addresses (any case); mail from them is
    our own mail coming back and is never answered.
    """
    headers = {name.lower(): value for name, value in (email.headers or {}).items()}

    auto_submitted = headers.get("auto-submitted")
    if auto_submitted is not None:
        keyword = auto_submitted.split(";")[0].split("(")[0].strip().lower()
        if keyword != "no":
            return f"Auto-Submitted: {auto_submitted[:80]}"

    precedence = headers.get("precedence")
    if precedence is not None and precedence.strip().lower() in _PRECEDENCE_AUTOMATIC:
        return f"Precedence: {precedence.strip()[:40]}"

    for name in _PRESENCE_HEADERS:
        if name in headers:
            return f"{_title(name)} header present"

    return_path = headers.get("return-path")
    if return_path is not None and re.sub(r"\s", "", return_path) == "<>":
        return "empty Return-Path (<>): a bounce or other automatic mail"

    sender = (email.from_address or "").strip().lower()
    if not sender or "@" not in sender:
        return "no usable sender address"
    local = sender.rsplit("@", 1)[0]
    if _ROBOT_LOCAL_RE.match(local):
        return f"automatic sender {sender}"

    own = {address.strip().lower() for address in own_addresses if address}
    if sender in own:
        return f"from our own address {sender}"
    return None


def _title(name: str) -> str:
    return "-".join("ID" if part == "id" else part.capitalize() for part in name.split("-"))
