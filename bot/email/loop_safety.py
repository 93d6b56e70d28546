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
from typing import Iterable, Optional, Tuple

from bot.email import headers as hdr
from bot.email.parse import InboundEmail
from bot.email.quotes import strip_quoted

_PRECEDENCE_AUTOMATIC = {"bulk", "list", "junk", "auto_reply", "auto-reply"}
# Local parts that never read replies: mailer-daemon, postmaster, no-reply and
# friends, also with a suffix ("noreply-billing", "no-reply+x", "bounce-123").
_ROBOT_LOCAL_RE = re.compile(
    r"^(mailer-daemon|mailer_daemon|mail-daemon|postmaster|post_master|mail\.delivery\.system|no-?reply|no_reply"
    r"|do-?not-?reply|do_not_reply|donotreply|bounces?|auto-?reply|autoresponder|autorespond|listserv|majordomo"
    r"|mailman)"
    r"([-._+].*)?$",
    re.IGNORECASE,
)
# What list servers and bulk senders put in Sender or Return-Path (never read in From: a person
# may well be "bakery-owner@...").
_LIST_LOCAL_RE = re.compile(
    r"^(owner-.+|.+-(request|bounces?|owner)|bounces?([-+=.].*)?|.+-bounces?\+.*)$", re.IGNORECASE
)
# Any other header whose name says a machine wrote the message (X-Discourse-Auto-Generated,
# X-FC-MachineGenerated, X-AutoResponse-From, X-Vacation...).
_AUTOMATIC_HEADER_NAME_RE = re.compile(
    r"auto-?(submitted|replied|reply|respon[a-z]*|generated)|autoreply|autorespon|holidayreply|machinegenerated|vacation",
    re.IGNORECASE,
)
_VALUE_HEADERS = {  # header -> values that mean automatic
    "x-precedence": re.compile(r"bulk|list|junk|auto", re.IGNORECASE),
    "x-post-messageclass": re.compile(r"autoresponder", re.IGNORECASE),
    "x-mailer": re.compile(r"vacation|autorespond|auto-?reply|out of office", re.IGNORECASE),
    "x-loop": re.compile(r".", re.IGNORECASE),
}
# Subjects of vacation replies, delivery reports and challenges, after any "Re:"-style prefixes,
# in the languages our customers write (English, Polish, Vietnamese, German, French, Spanish,
# Italian, Dutch, Portuguese, Scandinavian, Czech, Russian, Japanese, Chinese).
_AUTOMATIC_SUBJECT_RE = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|wg|fw|fwd|tr|odp|r|ynt)\s*:\s*)*(?:\[[^\]]{0,40}\]\s*)?(?:"
    r"out of (?:the )?office|ooo\b|automatic reply|auto(?:matic|mated)?[- ]?(?:reply|response|answer|antwort|respuesta)"
    r"|\[?auto[- ]?generated\]?|auto:|risposta non al computer|fuori sede"
    r"|autoreply|vacation(?: reply| notice| message|:)|away from (?:my|the) (?:office|desk)|on (?:holiday|vacation|leave)"
    r"|odpowied[zź] automatyczna|automatyczna odpowied[zź]|nieobecno[sś][cć]|jestem poza biurem|poza biurem|na urlopie"
    r"|tr[aả] l[oờ]i t[uự] [dđ][oộ]ng|th[uư] tr[aả] l[oờ]i t[uự] [dđ][oộ]ng|v[aắ]ng m[aặ]t|ngo[aà]i v[aă]n ph[oò]ng"
    r"|ngh[iỉ] ph[eé]p"
    r"|abwesenheitsnotiz|abwesend|automatische antwort|au[sß]er haus|nicht im b[uü]ro"
    r"|r[eé]ponse automatique|absent(?:e)? du bureau|message d'absence|absence du bureau"
    r"|respuesta autom[aá]tica|fuera de la oficina|risposta automatica|fuori ufficio"
    r"|automatisch antwoord|afwezig|niet aanwezig|resposta autom[aá]tica|fora do escrit[oó]rio"
    r"|automatisk svar|autosvar|fr[aå]nvaro|automatick[aá] odpov[eě][dď]|nep[rř][ií]tomnost"
    r"|автоответ|автоматический ответ|自動応答|自動返信|不在|自动回复|自動回覆|休假"
    r"|undeliverable:|undelivered mail returned|delivery status notification|mail delivery failed|failure notice"
    r"|returned mail:|warning: message .* delayed"
    r"|please confirm your (?:e-?mail|message|request)|confirm your (?:e-?mail|message) to|verify your e-?mail address to"
    r"|(?:anti-?spam|sender|e-?mail) verification|message awaiting (?:your )?confirmation|your message to .{1,60} awaits"
    r"|authori[sz]ation required to deliver|mailbox verification"
    r")",
    re.IGNORECASE,
)
# The first lines of a vacation reply's body, for the ones with an ordinary subject.
_VACATION_BODY_RE = re.compile(
    r"\b(?:i am|i'm|i will be) (?:currently )?(?:out of (?:the )?office|away|on (?:holiday|vacation|leave|annual leave))"
    r"|\bthis is an? (?:automatic|automated|auto-generated) (?:reply|response|message)"
    r"|\bjestem (?:obecnie )?(?:na urlopie|poza biurem|nieobecn[ya])|\bto jest automatyczna odpowied[zź]"
    r"|t[oô]i (?:hi[eệ]n )?(?:đang|dang) (?:đi )?(?:v[aắ]ng|ngh[iỉ] ph[eé]p)|đây là (?:thư )?trả lời tự động"
    r"|\bich bin (?:bis|vom|derzeit|zurzeit) .{0,40}(?:abwesend|nicht im b[uü]ro|im urlaub)"
    r"|\bje suis (?:actuellement )?absent|\bestoy fuera de la oficina|\bsono fuori ufficio",
    re.IGNORECASE,
)
_CHALLENGE_BODY_RE = re.compile(
    r"(?:to|please) (?:confirm|verify) (?:that )?(?:you are|you're) (?:a )?(?:human|real person|not a (?:robot|spammer))"
    r"|your (?:message|e-?mail) (?:is|has been) (?:held|quarantined|waiting) .{0,80}(?:confirm|verif)"
    r"|(?:i|we) use .{0,40}(?:spam|challenge).{0,40}(?:confirm|verif)|click .{0,60}to (?:have your message delivered|confirm)",
    re.IGNORECASE,
)


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

    for name in hdr.AUTOMATIC_PRESENCE_HEADERS:
        if name in headers:
            return f"{_title(name)} header present"
    named = next(
        (n for n in (email.header_names or []) if n != "auto-submitted" and _AUTOMATIC_HEADER_NAME_RE.search(n)), None
    )  # "Auto-Submitted: no" is a person
    if named is not None:
        return f"{_title(named)} header present"
    for name, pattern in _VALUE_HEADERS.items():
        if name in headers and pattern.search(headers[name] or ""):
            return f"{_title(name)}: {headers[name][:40]}"

    if (email.content_type or "").startswith("multipart/report"):
        return "a machine-written report (multipart/report)"
    if _AUTOMATIC_SUBJECT_RE.search(email.subject or ""):
        return f"automatic subject: {(email.subject or '')[:60]}"
    # The sender's own words only: a customer's reply may quote our automatic footer.
    own_words = strip_quoted(email.text or "")[:3000]
    if len(own_words) < 1500 and "?" not in own_words and _VACATION_BODY_RE.search(own_words[:600]):
        # No question in it: "I'm on holiday until the 20th, can I pay then?" is a customer, not an autoresponder.
        return "reads as an out-of-office reply"
    if _CHALLENGE_BODY_RE.search(own_words):
        return "reads as a challenge-response request"

    return_path = headers.get("return-path")
    if return_path is not None and re.sub(r"\s", "", return_path) == "<>":
        return "empty Return-Path (<>): a bounce or other automatic mail"

    sender = (email.from_address or "").strip().lower()
    if not sender or "@" not in sender:
        return "no usable sender address"
    if _ROBOT_LOCAL_RE.match(sender.rsplit("@", 1)[0]):
        return f"automatic sender {sender}"
    for address in _list_senders(headers):
        local = address.rsplit("@", 1)[0]
        if _ROBOT_LOCAL_RE.match(local) or _LIST_LOCAL_RE.match(local):
            return f"list or bulk sender {address}"

    own = {address.strip().lower() for address in own_addresses if address}
    if sender in own:
        return f"from our own address {sender}"
    return None


def _list_senders(headers) -> Tuple[str, ...]:
    """Sender and Return-Path addresses: list servers put their -bounces/-request/owner- address there."""
    found = []
    for name in ("sender", "return-path"):
        match = re.search(r"[^\s<>@]+@[^\s<>]+", headers.get(name) or "")
        if match:
            found.append(match.group(0).lower())
    return tuple(found)


def _title(name: str) -> str:
    return "-".join("ID" if part == "id" else part.capitalize() for part in name.split("-"))
