"""Threading helpers: the subject token and the Message-IDs a reply points at."""

import pytest

from bot.email import threads

PUBLIC_ID = "0123456789abcdef0123456789abcdef"


def test_one_re_and_one_token_however_long_the_thread():
    first = threads.subject_with_token("My bill", PUBLIC_ID)
    assert first == "Re: My bill [ref:0123456789]"
    assert threads.subject_with_token(f"RE: Re: Fwd: {first}", PUBLIC_ID) == first
    assert threads.subject_with_token("", PUBLIC_ID) == "Re: Your message [ref:0123456789]"


def test_the_token_is_found_in_any_case():
    assert threads.token_in("Re: My bill [REF:0123456789] again") == "0123456789"
    assert threads.token_in("My bill") is None


def test_candidates_are_in_reply_to_first_then_newest_reference():
    assert threads.candidate_ids("<c@x>", ["<a@x>", "<b@x>", "<c@x>"]) == ["c@x", "b@x", "a@x"]
    assert threads.candidate_ids(None, []) == []


def test_references_grow_without_duplicates_and_stay_bounded():
    refs = threads.extend_references("", "a@x", "<b@x>", "a@x")
    assert refs == "<a@x> <b@x>"
    many = threads.extend_references(refs, *[f"m{i}@x" for i in range(40)])
    assert len(many.split()) == threads.MAX_REFERENCES and many.split()[-1] == "<m39@x>"


@pytest.mark.parametrize("message_id, number", [
    ("<reminder.INV-20015.firm@northwind.example>", "INV-20015"),
    ("<dunning.INV-20015@northwind.example>", "INV-20015"),
    ("<reminder-INV-20015-firm@northwind.example>", "INV-20015"),  # the seed's history
    ("<update-card.INV-20015.7@northwind.example>", "INV-20015"),
    ("<abc@mail.example.com>", None),
])
def test_a_reply_can_be_threaded_back_to_its_invoice(message_id, number):
    assert threads.invoice_number_in(message_id) == number


def test_every_letter_about_an_invoice_refers_to_one_root():
    root = threads.reminder_thread_root("INV-20015", "northwind.example")
    assert root == "<dunning.INV-20015@northwind.example>"
    assert threads.invoice_number_in(root) == "INV-20015"
