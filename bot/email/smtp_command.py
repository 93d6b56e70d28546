"""Which SMTP command a refusal answered, read from a delivery report's own words. Pure.

The command tells whose fault a refusal is, whatever words the server chose: a refusal of
the greeting, EHLO/HELO or MAIL FROM is about us (our host or sender address), one of RCPT TO
is about the recipient's address, and one after DATA came after the server had accepted the
recipient and read the message, so the mailbox exists and the message was filtered.

Servers say it in their own ways: Postfix "(in reply to RCPT TO command)", Exim "SMTP error
from remote mail server after RCPT TO:<...>" or "... for RCPT TO command", qmail "does not
like recipient" / "sender was rejected" / "failed after I sent the message", and session
transcripts (Sendmail, Courier) ">>> RCPT To:<...>" followed by "<<< 550 ...".

Sendmail pipelines RCPT TO and DATA, so its transcript shows a recipient's refusal after
">>> DATA"; the next reply ("503 need RCPT", "554 no valid recipients") then proves the
refusal answered RCPT TO.
"""

from __future__ import annotations

import re
from typing import Optional

CONN, HELO, MAIL, RCPT, DATA = "CONN", "HELO", "MAIL", "RCPT", "DATA"

_NAMES = (  # how servers name each command, checked in this order
    (RCPT, r"rcpt(?: to)?"),
    (MAIL, r"mail(?: from)?"),
    (DATA, r"end of data|(final )?data|text|bdat"),
    (HELO, r"ehlo|helo|lhlo|starttls|auth"),
    (CONN, r"initial connection|connect|greeting|banner"),
)
_SAID = re.compile(
    r"in\s+reply\s+to\s+(?:the\s+)?(?P<postfix>rcpt\s+to|mail\s+from|end\s+of\s+data|data|ehlo|helo|lhlo|starttls|bdat)\b"
    r"|while\s+receiving\s+the\s+(?P<conn>initial\s+server\s+greeting)"
    r"|smtp\s+error\s+from\s+remote\s+(?:mail\s+)?(?:server|mailer)\s+(?:after|for)\s+(?:pipelined\s+)?"
    r"(?P<exim>rcpt\s+to|mail\s+from|end\s+of\s+data|data|text|bdat|initial\s+connection|ehlo|helo|starttls)\b"
    r"|did\s+not\s+like\s+our\s+(?P<dma>rcpt\s+to|mail\s+from|data|final\s+data|helo|ehlo)\b"
    r"|\[(?P<bracket>rcpt_to|mail_from|data)\]|\bsmtp:(?P<colon>rcpt|mail|data)\b"
    r"|(?P<rcpt>does\s+not\s+like\s+recipient)|(?P<mail>sender\s+was\s+rejected)|(?P<helo>my\s+name\s+was\s+rejected)"
    r"|(?P<data>failed\s+after\s+i\s+sent\s+the\s+message)",
    re.IGNORECASE,
)
_SENT = re.compile(r"(?im)^[ \t>]*>>>[ \t]*(rcpt to|mail from|data|ehlo|helo|lhlo|bdat|starttls)\b")
_REFUSAL = re.compile(r"(?im)^[ \t>]*<<<[ \t]*[45]\d\d\b[^\n]*")
_NO_RECIPIENTS = re.compile(r"need (a )?rcpt|no valid recipients?|all rcpt commands were rejected|no recipients", re.I)
# An SMTP reply code as reports quote it ("550 ...", "550-...", "550: ..."), not the "555-1234" of a
# phone number nor a number inside an address, an IP or a status.
REPLY_CODE = re.compile(r"(?<![\w.#-])([45])\d\d(?=[ :-]|$)(?!-\d)", re.MULTILINE)
# A remote server's reply quoted in a report: a reply code, or the words reports put before one.
_REPLY = re.compile(
    REPLY_CODE.pattern + r"|^\s*smtp\s*;|\bsaid:|remote (host|server) (said|replied|returned)"
    r"|the other server returned|server (responded|replied)",
    re.IGNORECASE | re.MULTILINE,
)


def quotes_reply(text: Optional[str]) -> bool:
    """Whether ``text`` quotes a remote server's SMTP reply, rather than the reporting system's own
    verdict about a mailbox it holds."""
    return bool(text and _REPLY.search(text))


def refused_at(text: str) -> Optional[str]:
    """The command (CONN, HELO, MAIL, RCPT or DATA) the first refusal in ``text`` answered; None
    when the report does not say."""
    if not text:
        return None
    said = _SAID.search(text)
    sent = _from_transcript(text)
    if said and (sent is None or said.start() < sent[1]):
        group = said.lastgroup
        assert group is not None  # every alternative of _SAID is one named group
        if group in ("postfix", "exim", "dma", "bracket", "colon"):
            return _name(said.group(group))
        return {"conn": CONN, "rcpt": RCPT, "mail": MAIL, "helo": HELO, "data": DATA}[group]
    return sent[0] if sent else None


def _from_transcript(text: str):
    """(command, where) from a ">>> COMMAND" / "<<< 5xx" session transcript."""
    refusal = _REFUSAL.search(text)
    if refusal is None:
        return None
    sent = None
    for sent in _SENT.finditer(text, 0, refusal.start()):  # noqa: B007 - the last command sent before the refusal
        pass
    if sent is None:
        return None
    command = _name(sent.group(1))
    if command == DATA:
        later = _REFUSAL.search(text, refusal.end())
        if later and _NO_RECIPIENTS.search(later.group(0)):
            command = RCPT  # pipelined: the refusal shown after DATA answered RCPT TO
    return command, sent.start()


def _name(said: str) -> Optional[str]:
    said = re.sub(r"[\s_]+", " ", said.lower())
    for command, pattern in _NAMES:
        if re.fullmatch(pattern, said):
            return command
    return None
