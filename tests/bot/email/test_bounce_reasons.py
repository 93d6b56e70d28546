"""bot.email.bounce_reasons: the words real servers use, and which of them make a bounce hard."""

from __future__ import annotations

import pytest

from bot.email.bounce_reasons import is_hard, reason_for, refused_after_data


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


def test_user_unknown_in_answer_to_data_is_a_filter():
    transcript = ">>> DATA\n<<< 550 Unknown user kijitora@example.jp\n554 5.0.0 Service unavailable"
    assert refused_after_data("userunknown", transcript, "5.0.0") == "filtered"
    assert refused_after_data("userunknown", ">>> RCPT To:<k@example.jp>\n<<< 550 User unknown", "5.0.0") == "userunknown"
    # An explicit bad-mailbox status is believed even after DATA.
    assert refused_after_data("userunknown", transcript, "5.1.1") == "userunknown"
