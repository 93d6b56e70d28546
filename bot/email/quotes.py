"""Strip quoted replies and signatures from an email body before it goes to the NLU.

Pure. The NLU should see only what the customer wrote this time: a quoted copy
of our own previous reply (with its balances and invoice numbers) would be
classified as if the customer had said it. The full message is stored
separately for agents, so what is removed here is never lost.

Conservative by design: text the customer typed must survive. So
- "> " lines are dropped one by one, which keeps answers written between
  quotes (interleaved) or below them (bottom-posting);
- an "On ... wrote:" line followed by "> " lines is dropped alone; only an
  attribution or an Outlook/Original-Message header block followed by
  unquoted text (the original pasted below) cuts everything after it;
- a "-- " signature is cut only when what follows it is short;
- a sign-off ("Thanks,", "Best regards,") is cut only when just a few short,
  name-like lines follow and no question mark;
- if stripping would leave nothing (a bare forward), the text is returned as it was.
"""

from __future__ import annotations

import re
from typing import List, Optional

# "On Mon, 16 Nov 2026 at 10:00, Northwind Billing <billing@…> wrote:" and its
# translations (our customers write Polish and Vietnamese too); Gmail and Apple
# Mail may wrap it over two or three lines.
_ATTRIBUTION_RE = re.compile(
    r"^\s*(On\b.{0,400}\bwrote|Am\b.{0,400}\bschrieb.{0,100}|Le\b.{0,400}\ba écrit"
    r"|El\b.{0,400}\bescribió|Op\b.{0,400}\bschreef.{0,100}|Il\b.{0,400}\bha scritto"
    r"|Em\b.{0,400}\bescreveu|(Dnia|W dniu)\b.{0,400}\bnapisał(\(a\)|a)?|Vào\b.{0,400}\bđã viết"
    r"|Den\b.{0,400}\bskrev.{0,100}|D(ne|en)\b.{0,400}\bnapsal(\(a\)|a)?"
    r"|.{0,400}<[^<>@\s]+@[^<>\s]+>.{0,100}写道|\d{4}年.{0,300}<[^<>@\s]+@[^<>\s]+>.{0,40})\s*[:：]\s*$",
    re.IGNORECASE,
)
_ORIGINAL_RE = re.compile(
    r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original"
    r"|Forwarded message|Begin forwarded message|Weitergeleitete Nachricht)\s*-*\s*:?\s*$",
    re.IGNORECASE,
)
_BEGIN_FORWARD_RE = re.compile(r"^\s*Begin forwarded message:\s*$", re.IGNORECASE)
_UNDERSCORES_RE = re.compile(r"^\s*_{10,}\s*$")
# Outlook's header block above a pasted original, in our customers' languages (English, German,
# French, Spanish, Dutch, Polish, Vietnamese, Danish/Norwegian/Swedish, Czech).
_HEADER_FROM_RE = re.compile(r"^\s*\**(From|Von|De|Van|Od|Từ|Fra|Från)\**\s*:\s*\S", re.IGNORECASE)
_HEADER_OTHER_RE = re.compile(
    r"^\s*\**(Sent|Date|To|Subject|Cc|Gesendet|Datum|An|Betreff|Envoyé|Objet|Enviado|Asunto|Verzonden|Aan|Onderwerp"
    r"|Wysłano|Do|Temat|DW|Đã gửi|Đến|Chủ đề|Sendt|Til|Emne|Skickat|Till|Ämne|Odesláno|Komu|Předmět)\**\s*:",
    re.IGNORECASE,
)
_QUOTED_RE = re.compile(r"^\s*>")
_SIG_DELIMITER_RE = re.compile(r"^-- ?$")
_MOBILE_RE = re.compile(
    r"^\s*(Sent from my \w[\w \-]{0,40}|Sent from (Mail|Outlook|Yahoo Mail|Gmail)\b.{0,60}"
    r"|Get Outlook for (iOS|Android)\b.{0,40}|Von meinem \w[\w \-]{0,40} gesendet"
    r"|Envoyé de mon \w[\w \-]{0,40})\s*$",
    re.IGNORECASE,
)
_SIGN_OFF_RE = re.compile(
    r"^\s*(thanks|thank you|many thanks|thanks again|thanks in advance|cheers|regards|best"
    r"|best regards|kind regards|warm regards|best wishes|sincerely|yours sincerely"
    r"|yours truly|all the best|with thanks|take care|mit freundlichen grüßen|viele grüße"
    r"|cordialement|pozdrawiam|z poważaniem|z powazaniem|trân trọng|thân ái|med venlig hilsen|hilsen|mvh"
    r"|med vänlig hälsning|hälsningar|s pozdravem|saludos|un saludo|met vriendelijke groet|groeten)\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_MAX_SIGNATURE_LINES = 15
_MAX_SIGN_OFF_TAIL = 4


def strip_quoted(text: str) -> str:
    """The new part of a reply: quotes, reply headers and signatures removed."""
    if not text:
        return ""
    original = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = original.split("\n")
    lines = _cut_at_reply_header(lines)
    lines = [line for line in lines if not _QUOTED_RE.match(line)]
    lines = [line for line in lines if not _MOBILE_RE.match(line)]
    lines = _cut_signature(lines)
    lines = _cut_sign_off(lines)
    result = _tidy(lines)
    return result if result else original.strip()


def _cut_at_reply_header(lines: List[str]) -> List[str]:
    for i, line in enumerate(lines):
        if _QUOTED_RE.match(line):
            continue
        span = _attribution_span(lines, i)
        if span:
            following = _next_nonblank(lines, i + span)
            if following is not None and _QUOTED_RE.match(lines[following]):
                # Quoted below: drop just the attribution, keep any interleaved answers.
                return lines[:i] + _cut_at_reply_header(lines[i + span :])
            return lines[:i]
        if _ORIGINAL_RE.match(line) or _BEGIN_FORWARD_RE.match(line):
            return lines[:i]
        if _UNDERSCORES_RE.match(line):
            following = _next_nonblank(lines, i + 1)
            if following is not None and _HEADER_FROM_RE.match(lines[following]):
                return lines[:i]
        if _HEADER_FROM_RE.match(line) and _looks_like_header_block(lines, i):
            return lines[:i]
    return lines


def _attribution_span(lines: List[str], i: int) -> int:
    """How many lines (1-3) the attribution starting at line i takes, or 0."""
    if not lines[i].strip():
        return 0
    joined = ""
    for span in range(1, 4):
        if i + span - 1 >= len(lines) or not lines[i + span - 1].strip():
            return 0
        joined = (joined + " " + lines[i + span - 1].strip()).strip()
        if len(joined) > 500:
            return 0
        if _ATTRIBUTION_RE.match(joined):
            return span
    return 0


def _looks_like_header_block(lines: List[str], i: int) -> bool:
    """An Outlook "From: / Sent: / To: / Subject:" block: From plus two more header lines."""
    others = 0
    for line in lines[i + 1 : i + 7]:
        if not line.strip():
            if others:
                break
            continue
        if _HEADER_OTHER_RE.match(line):
            others += 1
    return others >= 2


def _cut_signature(lines: List[str]) -> List[str]:
    for i in range(len(lines) - 1, -1, -1):
        if _SIG_DELIMITER_RE.match(lines[i]):
            tail = [line for line in lines[i + 1 :] if line.strip()]
            if len(tail) <= _MAX_SIGNATURE_LINES:
                return lines[:i]
            return lines
    return lines


def _cut_sign_off(lines: List[str]) -> List[str]:
    content = [i for i, line in enumerate(lines) if line.strip()]
    for position in range(max(0, len(content) - _MAX_SIGN_OFF_TAIL - 1), len(content)):
        i = content[position]
        if not _SIGN_OFF_RE.match(lines[i]):
            continue
        tail = [lines[j] for j in content[position + 1 :]]
        if position == 0:
            return lines  # the sign-off is all there is
        if len(tail) <= _MAX_SIGN_OFF_TAIL and all(_name_like(line) for line in tail):
            return lines[:i]
    return lines


def _name_like(line: str) -> bool:
    """A name, title, company or phone line: short, no question, not a sentence."""
    line = line.strip()
    return len(line) <= 60 and len(line.split()) <= 6 and "?" not in line and not line.endswith((".", "!"))


def _next_nonblank(lines: List[str], start: int) -> Optional[int]:
    for j in range(start, len(lines)):
        if lines[j].strip():
            return j
    return None


def _tidy(lines: List[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
