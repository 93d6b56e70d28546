"""bot.email.bounce_model: the small readers the bounce readers share."""

from __future__ import annotations

from bot.email.bounce_model import BouncedRecipient, one_line, specific_status, status_in, words_about


def test_the_servers_own_status_replaces_only_a_bare_class():
    assert specific_status("5.0.0", "5.1.1") == "5.1.1"
    assert specific_status(None, "5.2.2") == "5.2.2"
    assert specific_status("5.7.1", "5.1.1") == "5.7.1"  # the report's own detailed status stays
    assert specific_status("5.0.0", "5.0.0") == "5.0.0"
    assert specific_status("4.0.0", None) == "4.0.0"


def test_status_in_text():
    assert status_in("smtp; 550 #5.1.0 Address rejected.") == "5.1.0"
    assert status_in("550 Requested action not taken") is None


def test_words_about_one_recipient_stop_where_the_next_is_named():
    words = "a@x.example: 550 5.1.1 User unknown\nb@x.example: 552 5.2.2 Mailbox full"
    assert words_about(words, "a@x.example", ["a@x.example", "b@x.example"]) == "a@x.example: 550 5.1.1 User unknown\n"
    assert words_about(words, "c@x.example") == ""


def test_only_a_failed_delivery_with_a_hard_reason_is_hard():
    assert BouncedRecipient("a@x.example", "failed", "5.1.1", None, "userunknown").hard
    assert not BouncedRecipient("a@x.example", "delayed", "5.1.1", None, "userunknown").hard
    assert not BouncedRecipient("a@x.example", "failed", "5.0.0", None, "filtered").hard
    assert one_line("  550\n   User   unknown ") == "550 User unknown"
