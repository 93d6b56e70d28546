"""The hand-written quote and signature stripper (bot.email.quotes) beside mail-parser-reply.

Issue 13, part 5: keep whichever gets more replies right. A reply is right when
what comes out keeps every phrase the customer wrote this time and none of the
quoted message, attribution or signature. Two sets, reported separately:

- "product": the reply shapes our customers send (Gmail, Apple Mail, Outlook,
  phones; interleaved and bottom-posted answers; customers' words that merely
  look like signatures or attributions), the shapes tests/bot/email/test_quotes.py
  covers;
- "languages": attributions and header blocks in the languages of our customers
  and of mail-parser-reply's own test set (Polish, Vietnamese, German, French,
  Spanish, Dutch, Danish, Swedish, Czech, Japanese, Chinese), written here, not copied.

    .venv/bin/python bench/quote_strippers_bench.py          # figures
    .venv/bin/python bench/quote_strippers_bench.py --list   # and every wrong answer

mail-parser-reply is optional here and on purpose not in requirements.txt or
requirements.lock: the product does not use it (the comparison kept our stripper),
and no test needs it. Without it the bench says so and measures bot.email.quotes
alone. To repeat the comparison, install the version measured into the venv:

    .venv/bin/python -m pip install mail-parser-reply==1.36
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, List, NamedTuple, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.email.quotes import strip_quoted  # noqa: E402


class Case(NamedTuple):
    name: str
    text: str
    keep: Tuple[str, ...]  # the customer's words: all must survive
    drop: Tuple[str, ...]  # quoted text, attribution, signature: none may survive


PRODUCT = [
    Case("gmail wrapped attribution and sign-off",
         "Hi, I paid invoice INV-1042 yesterday. Can you confirm?\n\nThanks,\nAnn Müller\nAcme GmbH\n\n"
         "On Mon, Nov 16, 2026 at 10:00 AM Northwind Billing <\nbilling@northwind.example> wrote:\n\n"
         "> Dear Ann, your invoice INV-1042 for $120.00 is overdue.\n",
         ("I paid invoice INV-1042 yesterday",), ("is overdue", "wrote:")),
    Case("iphone", "Why did I get this reminder? I set up autopay last month.\n\nSent from my iPhone\n\n"
         "> On 16 Nov 2026, at 10:00, Northwind Billing <billing@northwind.example> wrote:\n>\n> Your balance is $300.00.\n",
         ("I set up autopay last month",), ("Your balance", "Sent from my iPhone")),
    Case("outlook header block", "I will pay the full amount on Friday.\n\nKind regards\nBob Smith\n\n"
         "________________________________\nFrom: Northwind Billing <billing@northwind.example>\n"
         "Sent: Monday, November 16, 2026 10:00 AM\nTo: Bob Smith <bob@example.com>\nSubject: Payment reminder\n\n"
         "Dear Bob, your balance is $300.00.\n", ("pay the full amount on Friday",), ("your balance is", "Sent: Monday")),
    Case("outlook without separator", "Please cancel the late fee.\n\nFrom: Northwind Billing [mailto:billing@northwind.example]\n"
         "Sent: 16 November 2026 10:00\nTo: bob@example.com\nSubject: Final notice\n\nA late fee of $25 was added.\n",
         ("cancel the late fee",), ("was added",)),
    Case("original message line", "Can I get a payment link?\n\n-----Original Message-----\nFrom: billing@northwind.example\n"
         "Your invoice is attached.\n", ("payment link",), ("invoice is attached",)),
    Case("signature delimiter", "My account number is 12345678.\n\n-- \nAnn Müller\nHead of Accounts\nAcme GmbH\n",
         ("12345678",), ("Head of Accounts",)),
    Case("interleaved answers", "On Tue, 17 Nov 2026, Northwind Support <support@northwind.example> wrote:\n"
         "> What is your account number?\nIt is 12345678.\n> And the ZIP code on the account?\n90210\n",
         ("It is 12345678", "90210"), ("What is your account number", "ZIP code")),
    Case("bottom-posted answer", "On Tue, 17 Nov 2026, Northwind Support <support@northwind.example> wrote:\n"
         "> Would you like a payment plan?\n\nYes, three monthly payments please.\n",
         ("three monthly payments",), ("Would you like",)),
    Case("question after a sign-off word", "Thanks for the reminder.\n\nThanks,\nwhy is there a late fee?\n",
         ("why is there a late fee",), ()),
    Case("a sentence starting with On", "On Friday I will pay what I owe.\nIs that okay?", ("On Friday I will pay", "okay"), ()),
    Case("plain text with a name", "Hello,\n\nmy card ending 4242 was declined twice.\nCan I pay by bank transfer instead?\n\nAnn",
         ("declined twice", "bank transfer"), ()),
    Case("list after a double dash", "Here is my list:\n--\nelectricity is higher than expected\ngas is higher than expected\n"
         "the fee is higher than expected\n", ("electricity is higher", "the fee is higher"), ()),
    Case("outlook for android", "Paid.\n\nGet Outlook for Android\n", ("Paid.",), ("Get Outlook",)),
    Case("reply quoting our automatic footer", "Yes please, set up the payment plan.\n\n"
         "On Mon, 30 Nov 2026 at 09:00, Northwind Energy <support@northwind.example> wrote:\n"
         "> This is an automated response from the Northwind virtual assistant.\n",
         ("set up the payment plan",), ("automated response",)),
]

LANGUAGES = [
    Case("polish attribution", "Dzień dobry,\n\nzapłaciłem fakturę wczoraj.\n\nPozdrawiam,\nJan\n\n"
         "Dnia 16 listopada 2026 10:00 Northwind <billing@northwind.example> napisał(a):\n> Faktura jest zaległa.\n",
         ("zapłaciłem fakturę wczoraj",), ("Faktura jest zaległa", "napisał")),
    Case("polish outlook header block", "Proszę o rozłożenie na raty.\n\nOd: Northwind <billing@northwind.example>\n"
         "Wysłano: poniedziałek, 16 listopada 2026 10:00\nDo: Jan Kowalski <jan@example.pl>\nTemat: Przypomnienie\n\n"
         "Termin płatności minął.\n", ("rozłożenie na raty",), ("Termin płatności minął",)),
    Case("vietnamese gmail attribution", "Tôi đã thanh toán hôm qua.\n\nVào Th 2, 16 thg 11, 2026 lúc 10:00 Northwind "
         "<billing@northwind.example> đã viết:\n> Hóa đơn của bạn đã quá hạn.\n",
         ("Tôi đã thanh toán hôm qua",), ("quá hạn", "đã viết")),
    Case("vietnamese outlook header block", "Cho tôi xin gia hạn thêm một tuần.\n\nTừ: Northwind <billing@northwind.example>\n"
         "Đã gửi: Thứ Hai, 16 tháng 11, 2026 10:00\nĐến: An <an@example.vn>\nChủ đề: Nhắc thanh toán\n\nVui lòng thanh toán.\n",
         ("gia hạn thêm một tuần",), ("Vui lòng thanh toán",)),
    Case("german wrapped attribution", "Hallo,\n\nbitte rufen Sie mich morgen an.\n\nViele Grüße\nB\n\n"
         "Am Mo., 16. Nov. 2026, 10:00 Northwind <billing@northwind.example>\nschrieb:\n\n> Ihre Rechnung ist fällig.\n",
         ("rufen Sie mich morgen an",), ("Rechnung ist fällig",)),
    Case("french wrapped attribution", "Bonjour,\n\nje paierai la semaine prochaine.\n\nCordialement\nB\n\n"
         "Le lun. 16 nov. 2026 à 10:00, Northwind <billing@northwind.example>\na écrit:\n\n> Votre facture est en retard.\n",
         ("je paierai la semaine prochaine",), ("facture est en retard",)),
    Case("spanish attribution", "Ya pagué la factura.\n\nEl lun, 16 nov 2026 a las 10:00, Northwind "
         "<billing@northwind.example> escribió:\n> Su factura está vencida.\n", ("Ya pagué",), ("está vencida",)),
    Case("dutch attribution", "Ik heb gisteren betaald.\n\nOp ma 16 nov. 2026 om 10:00 schreef Northwind "
         "<billing@northwind.example>:\n> Uw factuur is te laat.\n", ("gisteren betaald",), ("te laat",)),
    Case("danish outlook header block", "Jeg har betalt i dag.\n\nHilsen\nSøren\n\nFra: Northwind <billing@northwind.example>\n"
         "Sendt: 16. november 2026 10:00\nTil: Søren <soren@example.dk>\nEmne: Påmindelse\n\nDin faktura er forfalden.\n",
         ("Jeg har betalt i dag",), ("forfalden",)),
    Case("swedish attribution", "Jag betalar på fredag.\n\nDen mån 16 nov. 2026 kl 10:00 skrev Northwind "
         "<billing@northwind.example>:\n> Din faktura är försenad.\n", ("betalar på fredag",), ("försenad",)),
    Case("czech attribution", "Zaplatím v pátek.\n\nDne po 16. 11. 2026 10:00 Northwind <billing@northwind.example> napsal(a):\n"
         "> Vaše faktura je po splatnosti.\n", ("Zaplatím v pátek",), ("po splatnosti",)),
    Case("japanese attribution", "昨日支払いました。\n\n2026年11月16日(月) 10:00 Northwind <billing@northwind.example>:\n"
         "> お支払い期限が過ぎています。\n", ("昨日支払いました",), ("期限が過ぎています",)),
    Case("chinese attribution", "我昨天已经付款了。\n\nNorthwind <billing@northwind.example> 于2026年11月16日周一 10:00写道：\n"
         "> 您的账单已逾期。\n", ("我昨天已经付款了",), ("已逾期",)),
]


def library_stripper() -> Callable[[str], str]:
    from mailparser_reply import EmailReplyParser

    parser = EmailReplyParser(languages=["en", "de", "fr", "es", "it", "nl", "pl", "da", "sv", "cs", "ja", "zh"])

    def strip(text: str) -> str:
        replies = parser.read(text).replies
        return replies[0].body if replies else text
    return strip


def right(case: Case, out: str) -> bool:
    return all(k in out for k in case.keep) and not any(d in out for d in case.drop)


def score(strip: Callable[[str], str], cases: List[Case]) -> Tuple[int, List[str]]:
    wrong = []
    for case in cases:
        try:
            out = strip(case.text)
        except Exception as exc:  # a crash is a wrong answer, not the end of the comparison
            out = f"<crash {type(exc).__name__}>"
        if not right(case, out):
            wrong.append(f"{case.name}: {out!r}")
    return len(cases) - len(wrong), wrong


def main(args: argparse.Namespace) -> None:
    strippers = [("bot.email.quotes", strip_quoted)]
    try:
        strippers.append(("mail-parser-reply", library_stripper()))
    except ImportError:
        print("mail-parser-reply is not installed (optional, not in requirements): only bot.email.quotes is measured;"
              " to compare: .venv/bin/python -m pip install mail-parser-reply==1.36")
    for set_name, cases in (("product", PRODUCT), ("languages", LANGUAGES)):
        for name, strip in strippers:
            good, wrong = score(strip, cases)
            print(f"{set_name:9} {name:18} {good}/{len(cases)} right")
            if args.list:
                for line in wrong:
                    print(f"    wrong: {line[:200]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print every wrong answer")
    main(parser.parse_args())
