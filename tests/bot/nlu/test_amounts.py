from decimal import Decimal

import pytest

from bot.nlu.amounts import format_money, parse_amount


@pytest.mark.parametrize(
    "text, amount, currency",
    [
        ("$120", "120.00", "USD"),
        ("$1,250.50", "1250.50", "USD"),
        ("120 dollars", "120.00", "USD"),
        ("45 euros", "45.00", "EUR"),
        ("€45", "45.00", "EUR"),
        ("£30", "30.00", "GBP"),
        ("200 usd", "200.00", "USD"),
        ("200usd", "200.00", "USD"),
        ("USD 75", "75.00", "USD"),
        ("30 quid", "30.00", "GBP"),
    ],
)
def test_reads_money(text, amount, currency):
    assert parse_amount(text) == (Decimal(amount), currency)


@pytest.mark.parametrize("text", ["12", "", "dollars", "$", "1,25,0 usd"])
def test_not_money(text):
    assert parse_amount(text) is None


def test_format_money():
    assert format_money(Decimal("1250.5"), "USD") == "$1,250.50"
    assert format_money(Decimal("45"), "EUR") == "€45.00"
    assert format_money(Decimal("10"), "CHF") == "10.00 CHF"
