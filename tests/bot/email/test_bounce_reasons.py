"""bot.email.bounce_reasons: the words real servers use, and which of them make a bounce hard."""

from __future__ import annotations

import pytest

from bot.email.bounce_reasons import ADDRESS_REASONS, is_hard, reason_for, settle


@pytest.mark.parametrize("diagnostic, status, reason", [
    ("550 5.1.1 <a@b.example>: Recipient address rejected: User unknown in virtual mailbox table", "5.1.1", "userunknown"),
    ("The email account that you tried to reach does not exist.", "5.1.1", "userunknown"),
    ("554 delivery error: dd This user doesn't have a yahoo.com account", "5.0.0", "userunknown"),
    ("Sorry, no mailbox here by that name. (#5.1.1)", "5.1.1", "userunknown"),
    ("550 5.4.1 Recipient address rejected: Access denied. AS(201806281)", "5.4.1", "userunknown"),
    ("Host or domain name not found. Name service error for name=nx.example type=MX", "5.4.4", "hostunknown"),
    ("Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)", "5.4.4", "hostunknown"),
    ("552 5.2.2 Mailbox full", "5.2.2", "mailboxfull"),
    ("452 4.2.2 The email account that you tried to reach is over quota", "4.2.2", "mailboxfull"),
    ("421 4.7.0 Try again later, closing connection.", "4.7.0", "toomanyconn"),
    ("550 5.7.1 Service unavailable; client host blocked using Spamhaus", "5.7.1", "blocked"),
    ("550-5.7.26 Unauthenticated email from example.jp is not accepted due to domain's DMARC policy", "5.7.26", "authfailure"),
    ("550 5.7.1 Message rejected as spam", "5.7.1", "spamdetected"),
    ("501 5.1.8 Sender address rejected: Domain not found", "5.1.8", "rejected"),
    ("550 5.2.1 The email account that you tried to reach is disabled.", "5.2.1", "suspend"),
    ("Cannot send message for 5 days", None, "expired"),
    ("the group you tried to contact may not exist, or you may not have permission to post", None, "rejected"),
    ("550 5.1.7 No such domain sender.example", "5.1.7", "rejected"),  # RFC 3463 X.1.7: the sender's address
    ("", "5.2.2", "mailboxfull"),
    ("", "5.1.1", "userunknown"),
    ("", None, "undefined"),
])
def test_reasons_from_the_words_then_the_status(diagnostic, status, reason):
    assert reason_for(diagnostic, status) == reason


@pytest.mark.parametrize("reason, status, hard", [
    ("userunknown", "5.1.1", True),
    ("hostunknown", "5.4.4", True),
    ("hasmoved", "5.1.6", True),
    ("notaccept", "5.1.10", True),
    ("userunknown", "4.1.1", False),  # the server itself says it is temporary
    ("mailboxfull", "5.2.2", False),
    ("blocked", "5.7.1", False),
    ("spamdetected", "5.7.1", False),
    ("expired", "5.0.0", False),
    ("undefined", "5.1.1", True),  # no words we know: the status names the address
    ("undefined", "5.0.0", False),
    ("undefined", None, False),
])
def test_only_a_wrong_address_is_hard(reason, status, hard):
    assert is_hard(reason, status) is hard


@pytest.mark.parametrize("reason, status, command, remote, settled", [
    # The server had not heard of the recipient yet: the refusal is about our host or sender.
    ("userunknown", "5.0.0", "HELO", True, "blocked"),
    ("hostunknown", "5.0.0", "CONN", True, "blocked"),
    ("userunknown", "5.1.0", "MAIL", True, "rejected"),
    ("hostunknown", "5.2.0", "DATA", True, "rejected"),  # the recipient's domain resolved: ours did not
    ("hostunknown", "5.1.2", "RCPT", True, "hostunknown"),  # a relay that cannot route the recipient's domain
    # "User unknown" believed: the status names the address, it answered RCPT TO, or it is the
    # mailbox's own system speaking.
    ("userunknown", "5.1.1", None, True, "userunknown"),
    ("userunknown", "5.1.10", None, True, "userunknown"),
    ("userunknown", "5.1.1", "DATA", True, "userunknown"),
    ("userunknown", "5.0.0", "RCPT", True, "userunknown"),
    ("userunknown", "5.2.1", "RCPT", True, "userunknown"),
    ("userunknown", None, None, False, "userunknown"),
    # ...and not: after DATA, or a remote reply that names no command and no address status.
    ("userunknown", "5.0.0", "DATA", True, "filtered"),
    ("userunknown", None, "DATA", False, "filtered"),
    ("userunknown", "5.0.0", None, True, "filtered"),
    ("userunknown", "5.2.1", None, True, "filtered"),
    # Other reasons keep their words.
    ("mailboxfull", "5.2.2", "RCPT", True, "mailboxfull"),
    ("spamdetected", "5.7.1", "DATA", True, "spamdetected"),
    ("blocked", "5.7.1", "CONN", True, "blocked"),
])
def test_the_command_and_status_settle_the_reason(reason, status, command, remote, settled):
    assert settle(reason, status=status, command=command, remote_reply=remote) == settled


def test_an_unconfirmed_user_unknown_is_soft_but_adds_up_against_the_address():
    assert not is_hard("filtered", "5.0.0")
    assert "filtered" in ADDRESS_REASONS  # repeated email_soft_bounces_until_hard times, it marks the address
    assert not {"blocked", "rejected", "spamdetected", "authfailure"} & ADDRESS_REASONS
