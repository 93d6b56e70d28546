"""Money as customers write it: "$1,250.50", "45 euros", "200usd", "GBP 30"."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Optional, Tuple

SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP"}
WORDS = {
    "usd": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "bucks": "USD",
    "buck": "USD",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds": "GBP",
    "quid": "GBP",
}
_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?"
_WORD = "|".join(sorted(WORDS, key=len, reverse=True))


def parse_amount(text: str) -> Optional[Tuple[Decimal, str]]:
    """(amount, ISO currency) for a money phrase, or None."""
    t = re.sub(r"\s+", " ", (text or "").strip().lower())
    patterns = [
        (rf"([$€£]) ?{_NUMBER}", lambda m: (m.group(2), m.group(3), SYMBOLS[m.group(1)])),
        (rf"{_NUMBER} ?([$€£])", lambda m: (m.group(1), m.group(2), SYMBOLS[m.group(3)])),
        (rf"{_NUMBER} ?({_WORD})", lambda m: (m.group(1), m.group(2), WORDS[m.group(3)])),
        (rf"({_WORD}) ?{_NUMBER}", lambda m: (m.group(2), m.group(3), WORDS[m.group(1)])),
    ]
    for pattern, pick in patterns:
        m = re.fullmatch(pattern, t)
        if m:
            whole, cents, currency = pick(m)
            try:
                value = Decimal(whole.replace(",", "") + (cents or ""))
            except InvalidOperation:
                return None
            return value.quantize(Decimal("0.01")), currency
    return None


def format_money(amount: Decimal, currency: str) -> str:
    """'$1,250.50', '€45.00', or '1,250.50 CHF' for currencies without a symbol here."""
    symbol = {v: k for k, v in SYMBOLS.items()}.get(currency)
    text = f"{Decimal(amount):,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"
