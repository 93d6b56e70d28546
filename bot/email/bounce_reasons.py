"""Why a delivery failed, read from the words and status code a mail server gave. Pure.

Hard means the address itself is wrong (no such user, no such domain, the
mailbox has moved, the domain accepts no mail): writing again will never work,
so the address is marked undeliverable. Everything else is soft, including
permanent-looking (5.x.x) refusals for policy, spam, reputation, authentication,
a full or suspended mailbox, rate limits and give-ups after retries: the address
may be fine tomorrow, and only a repeated soft bounce makes it hard.

The phrases are the ones real servers write (qmail, Postfix, Exim, Sendmail,
Exchange, Gmail, Yahoo, Amazon SES...), grouped into reasons the way sisimai
names them; the first group that matches wins, so the specific soft causes are
checked before the "user unknown" wording that some servers add to everything.
``settle`` then weighs those words against the SMTP command the refusal answered and
the status code, as sisimai does: a remote "user unknown" proves little on its own.
"""

from __future__ import annotations

import re
from typing import Optional, Tuple

from bot.email import smtp_command

HARD_REASONS = frozenset({"userunknown", "hostunknown", "hasmoved", "notaccept"})
# Soft reasons that are about the recipient's mailbox, so that repeated they say the address is
# dead. Refusals of *our* mail (blocklists, spam filters, authentication, rate limits, our sender
# address) never add up against a customer's address: they would mark everyone at once.
# "filtered" is a "user unknown" we could not confirm (see ``settle``): repeated, it is as telling.
ADDRESS_REASONS = HARD_REASONS | {
    "filtered",
    "mailboxfull",
    "suspend",
    "expired",
    "networkerror",
    "onhold",
    "undefined",
}
# Reasons that are about a recipient, which a refusal before RCPT TO cannot be.
_ABOUT_RECIPIENT = frozenset(
    {"userunknown", "hostunknown", "hasmoved", "notaccept", "mailboxfull", "suspend", "filtered"}
)

# (reason, phrases): checked in this order.
_REASON_PHRASES: Tuple[Tuple[str, str], ...] = (
    (
        "mailboxfull",
        r"mailbox (is )?full|over ?quota|quota (exceeded|full)|exceeded (the |his |her )?(storage|quota)"
        r"|insufficient (disk )?(space|storage)|mailbox size limit|out of storage|storage (space )?(is )?full"
        r"|user.{0,20}is over (the )?quota|full mailbox|disk quota",
    ),
    ("exceedlimit", r"message (size )?exceeds|message too (big|large)|size limit|exceeds (the )?(maximum|fixed)"),
    (
        "toomanyconn",
        r"too many (connections|concurrent|sessions|recipients)|rate limit|ratelimit|try again later"
        r"|sending rate|receiving mail at a rate|temporarily deferred|throttl",
    ),
    # A hedged "may not exist, or you may not have permission to post" (Google Groups) is no verdict
    # on the address: the sender may not post there.
    (
        "rejected",
        r"(may|might) not have permission|permission to post|not allowed to post"
        r"|sender address rejected|domain of sender|sender (domain|address) (is )?(invalid|unknown|rejected|must)"
        r"|mail from .{0,40}(rejected|refused)|envelope sender",
    ),
    ("onhold", r"\bon hold\b"),
    (
        "suspend",
        r"(account|mailbox|user|address)( has been| is)? (disabled|suspended|inactive|deactivated|locked|blocked)"
        r"|disabled (recipient|account|mailbox|user|address)"
        r"|suspended|inactive (account|user|mailbox)|not active|mailbox (is )?disabled|account (is )?closed"
        r"|is out of service|temporarily (disabled|unavailable)",
    ),
    ("spamdetected", r"\bspam\b|junk mail|unsolicited|bulk mail|content (was )?rejected"),
    ("virusdetected", r"virus|malware|infected"),
    (
        "authfailure",
        r"authentication checks|\bspf\b|\bdkim\b|\bdmarc\b|unauthenticated|authentication (failed|required)|sender policy",
    ),
    (
        "requireptr",
        r"reverse (dns|lookup)|\bptr\b|no (valid )?rdns|cannot find your hostname|hostname (does not|doesn'?t) resolve"
        r"|client host rejected: cannot find",
    ),
    ("userunknown", r"recipient address rejected: access denied"),  # Office 365 directory-based edge blocking
    (
        "blocked",
        r"(black|block|deny|spam)[ -]?list|listed (in|on|at|by) (an? )?(rbl|dnsbl|spamhaus|spamcop|barracuda|sorbs)|\bblocked\b|\bdenied\b|\brbl\b|spamhaus|reputation"
        r"|not allowed to send|access denied|connection refused|refused to talk",
    ),
    ("securityerror", r"\btls\b|starttls|encryption|certificate|security polic"),
    ("policyviolation", r"\bpolicy\b|not permitted|prohibited|not authorized"),
    ("norelaying", r"relay(ing)? (access )?(denied|not permitted|prohibited)|unable to relay|we do not relay"),
    ("hasmoved", r"has (been )?moved|moved to|no longer (at|available at)|new address"),
    ("notaccept", r"does not accept (any )?mail|null mx|accepts no mail|not accept(ing)? (e-?mail|mail|messages)"),
    (
        "hostunknown",
        r"host (or domain name )?(not found|unknown)|host \S+ not found|dns lookup failure|invalid domain"
        r"|couldn'?t find a mail exchanger|domain (is )?not reachable|unknown host|domain (name )?not found|no such domain"
        r"|unrouteable (mail )?domain|domain (does not|doesn'?t) exist|name or service not known|nxdomain"
        r"|host name lookup fail|no mx|dns error|name server|unknown domain|domain (is )?(invalid|unknown)"
        r"|illegal host|hostname lookup",
    ),
    (
        "userunknown",
        r"user(name)? unknown|unknown (user|recipient|address|local|mailbox|alias)|no such (user|mailbox|recipient|address|account|person|local)"
        r"|(user|recipient|mailbox|address|account|addressee) (was )?not found|(mailbox|recipient|user|address|account)"
        r" (does not|doesn'?t|did not) exist|does not exist|not exist|invalid (recipient|mailbox|address|user)"
        r"|no mailbox|not a valid (user|mailbox|recipient)|bad destination mailbox|recipnotfound|addressee unknown"
        r"|not (listed|found) in (the )?(domino |public )?(directory|name)|name is not recognized|invalid (final )?(delivery )?userid|no (such )?account|unrouteable address|undeliverable address"
        r"|not our customer|unknown or illegal alias|user (is )?invalid|no valid recipient"
        r"|mailbox unavailable|mailbox not available|not a known user|no one here|is not a valid|doesn'?t have an? .{1,40} account"
        r"|could(n'?t| not) be found|invalid address|unknown in (virtual|local|relay)",
    ),
    (
        "expired",
        r"delayed|not yet been delivered|will (continue|keep) (trying|to try)|still trying|retry time|timed? ?out"
        r"|gave up|given up|giving up|expired|too long|could not be delivered for|cannot send message for",
    ),
    ("networkerror", r"connection (reset|closed|lost)|network|unreachable|no route|lost connection"),
    ("systemerror", r"system (error|config)|internal error|local configuration|mail loop|loop detected|too many hops"),
)
_COMPILED = tuple((reason, re.compile(phrases, re.IGNORECASE)) for reason, phrases in _REASON_PHRASES)

# Status codes (RFC 3463) that name the address itself, when the words said nothing we know.
_HARD_STATUS = re.compile(r"^5\.1\.(1|2|3|6|10)$")
_SENDER_STATUS = re.compile(r"^\d\.1\.[78]$")
_STATUS_REASONS = (
    (re.compile(r"^\d\.2\.2$"), "mailboxfull"),
    (re.compile(r"^\d\.2\.1$"), "suspend"),
    (re.compile(r"^\d\.7\.\d+$"), "blocked"),
    (re.compile(r"^\d\.4\.\d+$"), "networkerror"),
    (re.compile(r"^\d\.3\.\d+$"), "systemerror"),
    (re.compile(r"^5\.1\.[136]$"), "userunknown"),
    (re.compile(r"^5\.1\.(2|10)$"), "hostunknown"),
)


def reason_for(diagnostic: Optional[str], status: Optional[str]) -> str:
    """A sisimai-style reason name; "undefined" when neither words nor code say anything."""
    text = diagnostic or ""
    if status and _SENDER_STATUS.match(status):
        return "rejected"  # RFC 3463 X.1.7/X.1.8: our sender address was refused, whatever the words say
    for reason, pattern in _COMPILED:
        if pattern.search(text):
            return reason
    for pattern, reason in _STATUS_REASONS:
        if status and pattern.match(status):
            return reason
    return "undefined"


# Enhanced status codes (RFC 3463) that name the recipient's address itself.
_ADDRESS_STATUS = re.compile(r"^5\.1\.(0|1|3|6|10)$")


def settle(reason: str, *, status: Optional[str], command: Optional[str], remote_reply: bool) -> str:
    """The reason once the words are weighed against the SMTP command the refusal answered
    (``smtp_command``) and the status code.

    - Before RCPT TO (greeting, EHLO/HELO, MAIL FROM) the server had not yet heard of the
      recipient: whatever the words, it refused our host ("blocked") or sender ("rejected").
      A domain "not found" after MAIL FROM or DATA is ours too: the recipient's domain had
      resolved, since its server was answering.
    - "User unknown" is taken as said when the status names the address (X.1.x), when it
      answered RCPT TO, or when no remote SMTP reply is quoted (the mailbox's own system says
      so: Exchange, Domino, Gmail). A remote "550 user unknown" after DATA, or with no command
      named, is what filtering gateways and mobile carriers answer to refuse a sender they
      filter: "filtered", soft. (RFC 5321's own text for 550, "mailbox unavailable", covers
      "command rejected for policy reasons" too.)
    """
    if command in (smtp_command.CONN, smtp_command.HELO) and reason in _ABOUT_RECIPIENT:
        return "blocked"
    if command == smtp_command.MAIL and reason in _ABOUT_RECIPIENT:
        return "rejected"
    if command == smtp_command.DATA and reason == "hostunknown":
        return "rejected"
    if reason != "userunknown":
        return reason
    if (status and _ADDRESS_STATUS.match(status)) or command == smtp_command.RCPT:
        return reason
    if command == smtp_command.DATA or remote_reply:
        return "filtered"
    return reason


def is_hard(reason: str, status: Optional[str]) -> bool:
    """Hard when the reason names the address (and no 4.x.x status says it is temporary); with no
    known reason, when the status does."""
    if (status or "").startswith("4"):
        return False
    if reason in HARD_REASONS:
        return True
    return reason == "undefined" and bool(status and _HARD_STATUS.match(status))
