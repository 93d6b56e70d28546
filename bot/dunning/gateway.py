"""Charging a card: the payment gateway interface and the embedded sandbox.

A real provider plugs in by implementing ``PaymentGateway.charge``; it must honour
the idempotency key (every real provider does), because a run that dies after
charging asks again with the same key and must get the first answer back.

The sandbox decides like a provider's test mode, by the card on file. Test cards
(by their last four digits):

    last4  outcome                       decline type
    0341   insufficient_funds            soft  (demo AC-100008, Emma Schmidt)
    9995   insufficient_funds            soft
    0259   processing_error              soft
    0119   card_reported_lost            hard  (demo AC-100009, Noah Williams)
    9979   stolen_card                   hard
    0002   do_not_honor                  hard
    0077   account_closed                hard
    any other number: the charge succeeds; a card past its expiry month: expired_card (hard)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Dict, Optional, Protocol, Tuple

from bot.dunning.rows import CardRow

TEST_CARDS: Dict[str, Tuple[str, str]] = {
    "0341": ("insufficient_funds", "soft"),
    "9995": ("insufficient_funds", "soft"),
    "0259": ("processing_error", "soft"),
    "0119": ("card_reported_lost", "hard"),
    "9979": ("stolen_card", "hard"),
    "0002": ("do_not_honor", "hard"),
    "0077": ("account_closed", "hard"),
}


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str
    decline_code: Optional[str] = None
    decline_type: Optional[str] = None  # soft: worth retrying later; hard: never retry


class PaymentGateway(Protocol):
    async def charge(
        self, card: CardRow, amount: Decimal, currency: str, *, idempotency_key: str, today: dt.date
    ) -> ChargeResult: ...


class SandboxGateway:
    """Outcomes follow the card, like a provider's test mode; no network."""

    def __init__(self) -> None:
        self.charges: Dict[str, ChargeResult] = {}  # by idempotency key, as a provider keeps them

    async def charge(
        self, card: CardRow, amount: Decimal, currency: str, *, idempotency_key: str, today: dt.date
    ) -> ChargeResult:
        if amount <= 0:
            raise ValueError(f"cannot charge {amount} {currency}")
        if idempotency_key in self.charges:
            return self.charges[idempotency_key]
        reference = f"sandbox_{idempotency_key}"
        if card.expires_on() < today:
            result = ChargeResult(False, reference, "expired_card", "hard")
        elif card.last4 in TEST_CARDS:
            code, kind = TEST_CARDS[card.last4]
            result = ChargeResult(False, reference, code, kind)
        else:
            result = ChargeResult(True, reference)
        self.charges[idempotency_key] = result
        return result
