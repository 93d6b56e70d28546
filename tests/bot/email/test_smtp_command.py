"""bot.email.smtp_command: which SMTP command a refusal answered, in each server's own words."""

from __future__ import annotations

import pytest

from bot.email.smtp_command import quotes_reply, refused_at


@pytest.mark.parametrize("text, command", [
    # Postfix, the phrase folded over two lines as Postfix writes it
    ("<k@example.org>: host mx.example.org[192.0.2.4] said: 550 5.1.1 <k@example.org>: Recipient\n"
     "    address rejected: User unknown (in reply to\n    RCPT TO command)", "RCPT"),
    ("host mx.example.jp said: 550 5.7.1 Message rejected (in reply to end of DATA command)", "DATA"),
    ("host mx.example.jp said: 553 sorry, that domain isn't allowed (in reply to MAIL FROM command)", "MAIL"),
    ("host mx.example.jp refused to talk to me: 554 blocked (while receiving the initial server greeting)", "CONN"),
    # Exim, old and new wording
    ("SMTP error from remote mail server after RCPT TO:<k@example.ch>:\n  host mx1.example.eu: 550 No such user", "RCPT"),
    ("SMTP error from remote mail server after end of data:\n  553 neko.example.com does not exist", "DATA"),
    ("SMTP error from remote server for MAIL FROM command, host: mx.example.com reason: 553 5.1.0", "MAIL"),
    ("SMTP error from remote server for TEXT command, host: mx.example.com reason: 550 spam", "DATA"),
    # qmail
    ("<k@example.net>:\nConnected to 192.0.2.112 but my name was rejected.\nRemote host said: 501 5.0.0 Invalid domain", "HELO"),
    ("Connected to 192.0.2.3 but sender was rejected.\nRemote host said: 550 Access denied", "MAIL"),
    ("192.0.2.3 does not like recipient.\nRemote host said: 550 5.1.1 No such user", "RCPT"),
    ("192.0.2.3 failed after I sent the message.\nRemote host said: 554 Message refused", "DATA"),
    # DragonFly, Yahoo, X3
    ("mail-inbound.example.net [192.0.2.25] did not like our RCPT TO:\n550 5.2.1 User unknown", "RCPT"),
    ("Remote host said:\n550 5.2.1 <k@example.co.jp>... User Unknown\n[RCPT_TO]", "RCPT"),
    ("SMTP:RCPT host 192.0.2.233: 553 5.3.0 <k@example.co.jp>... No such user here", "RCPT"),
    # Sendmail and Courier transcripts
    ("... while talking to mx.example.jp.:\n>>> RCPT To:<k@example.jp>\n<<< 550 5.1.1 <k@example.jp>... User unknown", "RCPT"),
    (">>> DATA\n<<< 550 Unknown user k@example.jp\n554 5.0.0 Service unavailable", "DATA"),
])
def test_the_command_in_each_servers_words(text, command):
    assert refused_at(text) == command


@pytest.mark.parametrize("after", ["<<< 503 5.0.0 Need RCPT (recipient)", "<<< 554 5.5.1 Error: no valid recipients",
                                   "<<< 503-All RCPT commands were rejected with this error:"])
def test_a_pipelined_refusal_shown_after_data_answered_rcpt(after):
    # Sendmail sends RCPT TO and DATA together: the first reply after ">>> DATA" is the recipient's,
    # and the server's answer to DATA says no recipient was accepted.
    text = f">>> DATA\n<<< 550 <k@example.jp>: User unknown\n550 5.1.1 <k@example.jp>... User unknown\n{after}"
    assert refused_at(text) == "RCPT"


def test_the_first_refusal_counts_not_a_later_command():
    text = ">>> RCPT To:<k@example.jp>\n<<< 550 5.1.1 User unknown\n>>> DATA\n<<< 503 Need RCPT"
    assert refused_at(text) == "RCPT"


@pytest.mark.parametrize("text", ["", "The recipient name is not recognized", "kijitora@example.org [User unknown]",
                                  ">>> DATA\n(no reply recorded)", "Delivery to the following recipient failed permanently"])
def test_none_when_the_report_does_not_say(text):
    assert refused_at(text) is None


@pytest.mark.parametrize("text, quoted", [
    ("smtp; 550 kijitora@example.com... No such user", True),
    ("host mx.example.jp [192.0.2.1]: 550 :", True),
    ("otsu@ezweb.ne.jp>: 550: : User unknown", True),
    ("Remote host said: No such user", True),
    ("The error that the other server returned was: No such user", True),
    # The mailbox's own system speaking (Exchange, Domino, Gmail's own text): no remote reply.
    ("The recipient name is not recognized", False),
    ("User some.name (k@example.jp) not listed in Domino Directory", False),
    ("Size (in bytes): 2022, status #5.1.1", False),
    ("", False),
])
def test_a_quoted_remote_reply_is_told_from_a_local_verdict(text, quoted):
    assert quotes_reply(text) is quoted
