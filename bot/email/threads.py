"""Which conversation an email belongs to. Pure.

First the Message-IDs it answers (In-Reply-To, then References, newest first),
then the conversation token we put in every subject (``[ref:abcd1234ef]``); a mail
with neither starts a new conversation. Payment reminders thread by invoice: every
letter about one invoice refers to one root Message-ID, and a reply's references
say which invoice it is about.
"""

from __future__ import annotations

import re
from typing import Iterable, List, Optional

from bot.accounts.identifiers import INVOICE_NUMBER
from bot.email import compose

_TOKEN = re.compile(r"\[ref:([0-9a-f]{10})\]", re.IGNORECASE)
_REPLY_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|sv|vs)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
MAX_REFERENCES = 20
# Message-IDs of our letters: "<reminder.INV-20015.firm@...>", the thread root "<dunning.INV-20015@...>",
# "<update-card.INV-20015.7@...>", and the seed's older "<reminder-INV-20015-firm@...>".
_REMINDER_ID = re.compile(rf"<?(?:reminder|update-card|dunning)[.-]({INVOICE_NUMBER})[.@-]")


def reminder_thread_root(invoice_number: str, domain: str) -> str:
    """The Message-ID every letter about one invoice refers to, so they form one thread."""
    return compose.message_id(f"dunning.{invoice_number}", domain)


def invoice_number_in(message_id: str) -> Optional[str]:
    """The invoice a reminder's Message-ID (or its thread root) is about, for threading replies back."""
    match = _REMINDER_ID.match((message_id or "").strip())
    return match.group(1) if match else None


def token_for(public_id: str) -> str:
    return public_id[:10]


def subject_with_token(subject: str, public_id: str) -> str:
    """'Re: <subject> [ref:token]', with one Re: and one token however long the thread."""
    base = _TOKEN.sub("", _REPLY_PREFIX.sub("", subject or "")).strip() or "Your message"
    return f"Re: {base} [ref:{token_for(public_id)}]"


def token_in(subject: str) -> Optional[str]:
    match = _TOKEN.search(subject or "")
    return match.group(1).lower() if match else None


def candidate_ids(in_reply_to: Optional[str], references: Iterable[str]) -> List[str]:
    """Message-IDs to look up, most specific first, without duplicates."""
    ordered = ([in_reply_to] if in_reply_to else []) + list(reversed(list(references)))
    seen, result = set(), []
    for mid in ordered:
        mid = (mid or "").strip().strip("<>")
        if mid and mid not in seen:
            seen.add(mid)
            result.append(mid)
    return result


def extend_references(existing: str, *message_ids: Optional[str]) -> str:
    ids = existing.split() if existing else []
    for mid in message_ids:
        if mid:
            mid = f"<{mid.strip().strip('<>')}>"
            if mid not in ids:
                ids.append(mid)
    return " ".join(ids[-MAX_REFERENCES:])
