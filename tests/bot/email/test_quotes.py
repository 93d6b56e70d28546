"""bot.email.quotes: realistic replies from Gmail, Apple Mail, Outlook and phones."""

from __future__ import annotations

from bot.email.quotes import strip_quoted


def test_gmail_reply_with_wrapped_attribution_and_sign_off():
    text = (
        "Hi, I paid invoice INV-1042 yesterday. Can you confirm?\n"
        "\n"
        "Thanks,\n"
        "Ann Müller\n"
        "Acme GmbH\n"
        "\n"
        "On Mon, Nov 16, 2026 at 10:00 AM Northwind Billing <\n"
        "billing@northwind.example> wrote:\n"
        "\n"
        "> Dear Ann, your invoice INV-1042 for $120.00 is overdue.\n"
        "> Pay here: https://pay.example/inv-1042\n"
    )
    assert strip_quoted(text) == "Hi, I paid invoice INV-1042 yesterday. Can you confirm?"


def test_apple_mail_reply_from_iphone():
    text = (
        "Why did I get this reminder? I set up autopay last month.\n"
        "\n"
        "Sent from my iPhone\n"
        "\n"
        "> On 16 Nov 2026, at 10:00, Northwind Billing <billing@northwind.example> wrote:\n"
        ">\n"
        "> Your balance is $300.00.\n"
    )
    assert strip_quoted(text) == "Why did I get this reminder? I set up autopay last month."


def test_outlook_reply_with_header_block():
    text = (
        "I will pay the full amount on Friday.\n"
        "\n"
        "Kind regards\n"
        "Bob Smith\n"
        "\n"
        "________________________________\n"
        "From: Northwind Billing <billing@northwind.example>\n"
        "Sent: Monday, November 16, 2026 10:00 AM\n"
        "To: Bob Smith <bob@example.com>\n"
        "Subject: Payment reminder: INV-2001\n"
        "\n"
        "Dear Bob, your balance is $300.00.\n"
    )
    assert strip_quoted(text) == "I will pay the full amount on Friday."


def test_outlook_header_block_without_separator_line():
    text = (
        "Please cancel the late fee.\n"
        "\n"
        "From: Northwind Billing [mailto:billing@northwind.example]\n"
        "Sent: 16 November 2026 10:00\n"
        "To: bob@example.com\n"
        "Subject: Final notice\n"
        "\n"
        "A late fee of $25 was added.\n"
    )
    assert strip_quoted(text) == "Please cancel the late fee."


def test_original_message_separator():
    text = (
        "Can I get a payment link?\n"
        "\n"
        "-----Original Message-----\n"
        "From: billing@northwind.example\n"
        "Your invoice is attached.\n"
    )
    assert strip_quoted(text) == "Can I get a payment link?"


def test_german_outlook_and_gmail_variants():
    assert strip_quoted(
        "Bitte um Rückruf.\n\nAm Mo., 16. Nov. 2026 um 10:00 Uhr schrieb Northwind <b@n.example>:\n> Hallo\n"
    ) == "Bitte um Rückruf."
    assert strip_quoted(
        "Merci.\nJe paie demain.\n\nLe lun. 16 nov. 2026 à 10:00, Northwind <b@n.example> a écrit :\n> Bonjour\n"
    ) == "Merci.\nJe paie demain."


def test_signature_delimiter():
    text = "My account number is 12345678.\n\n-- \nAnn Müller\nHead of Accounts\nAcme GmbH\n+49 30 1234567\n"
    assert strip_quoted(text) == "My account number is 12345678."


def test_long_text_after_dash_dash_is_not_treated_as_signature():
    text = "Here is my list:\n--\n" + "\n".join(f"item {i} costs more than expected" for i in range(20))
    assert strip_quoted(text) == text.strip()


def test_interleaved_answers_are_kept():
    text = (
        "On Tue, 17 Nov 2026, Northwind Support <support@northwind.example> wrote:\n"
        "> What is your account number?\n"
        "It is 12345678.\n"
        "> And the ZIP code on the account?\n"
        "90210\n"
    )
    assert strip_quoted(text) == "It is 12345678.\n90210"


def test_bottom_posted_answer_is_kept():
    text = (
        "On Tue, 17 Nov 2026, Northwind Support <support@northwind.example> wrote:\n"
        "> Would you like a payment plan?\n"
        "\n"
        "Yes, three monthly payments please.\n"
    )
    assert strip_quoted(text) == "Yes, three monthly payments please."


def test_question_after_sign_off_word_is_kept():
    text = "Thanks for the reminder.\n\nThanks,\nwhy is there a late fee?\n"
    assert strip_quoted(text) == text.strip()


def test_thank_you_alone_is_kept():
    assert strip_quoted("Thank you!\nAnn") == "Thank you!\nAnn"


def test_bare_forward_is_returned_unchanged():
    text = "---------- Forwarded message ---------\nFrom: Northwind <b@n.example>\nDate: Mon\n\nYour invoice.\n"
    assert strip_quoted(text) == text.strip()


def test_outlook_mobile_and_windows_mail_footers():
    assert strip_quoted("Paid.\n\nGet Outlook for Android\n") == "Paid."
    assert strip_quoted("Paid.\n\nSent from Mail for Windows\n") == "Paid."


def test_plain_text_without_quotes_is_untouched():
    text = "Hello,\n\nmy card ending 4242 was declined twice.\nCan I pay by bank transfer instead?\n\nAnn"
    assert strip_quoted(text) == text


def test_a_sentence_starting_with_on_is_not_an_attribution():
    text = "On Friday I will pay what I owe.\nIs that okay?"
    assert strip_quoted(text) == text


def test_crlf_and_empty():
    assert strip_quoted("") == ""
    assert strip_quoted("Pay now?\r\n\r\n> old\r\n") == "Pay now?"


def test_html_blockquote_converted_by_parse_is_stripped():
    from email.message import EmailMessage

    from bot.email.parse import parse

    msg = EmailMessage()
    msg["From"] = "ann@example.com"
    msg.set_content(
        '<div dir="ltr">I already paid this one.</div><br><div class="gmail_quote">'
        '<div class="gmail_attr">On Mon, Nov 16, 2026 at 10:00 AM Northwind &lt;b@n.example&gt; wrote:</div>'
        '<blockquote class="gmail_quote">Invoice INV-7 is overdue.</blockquote></div>',
        subtype="html",
    )
    assert strip_quoted(parse(msg.as_bytes()).text) == "I already paid this one."


def test_polish_and_vietnamese_attributions():
    assert strip_quoted(
        "Zapłaciłem wczoraj.\n\nPozdrawiam,\nJan\n\n"
        "Dnia 16 listopada 2026 10:00 Northwind <billing@northwind.example> napisał(a):\n> Faktura jest zaległa.\n"
    ) == "Zapłaciłem wczoraj."
    assert strip_quoted(
        "Tôi đã thanh toán hôm qua.\n\nVào Th 2, 16 thg 11, 2026 lúc 10:00 Northwind\n<billing@northwind.example> đã viết:\n"
        "> Hóa đơn của bạn đã quá hạn.\n"
    ) == "Tôi đã thanh toán hôm qua."


def test_outlook_header_blocks_in_polish_vietnamese_and_danish():
    assert strip_quoted("Proszę o raty.\n\nOd: Northwind <b@n.example>\nWysłano: poniedziałek, 16 listopada 2026\n"
                        "Do: Jan <jan@example.pl>\nTemat: Przypomnienie\n\nTermin minął.\n") == "Proszę o raty."
    assert strip_quoted("Cho tôi gia hạn.\n\nTừ: Northwind <b@n.example>\nĐã gửi: Thứ Hai, 16 tháng 11, 2026\n"
                        "Đến: An <an@example.vn>\nChủ đề: Nhắc thanh toán\n\nVui lòng thanh toán.\n") == "Cho tôi gia hạn."
    assert strip_quoted("Betalt i dag.\n\nHilsen\nSøren\n\nFra: Northwind <b@n.example>\nSendt: 16. november 2026\n"
                        "Til: Søren <s@example.dk>\nEmne: Påmindelse\n\nForfalden.\n") == "Betalt i dag."


def test_a_customer_line_starting_with_do_is_not_a_header():
    text = "Od jutra płacę.\nDo: końca miesiąca?\nDziękuję"
    assert strip_quoted(text) == text
