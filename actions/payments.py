"""Failed payments (soft or hard declines) and cards on file that expire."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.account import AccountQuestion
from actions.common import AnswerContext
from bot.accounts import queries
from bot.config import get_settings

# What a decline code means, said plainly and without blame.
DECLINE_REASONS = {
    "insufficient_funds": "there weren't enough funds available at the time",
    "processing_error": "a temporary processing error at the bank",
    "try_again_later": "the bank asked us to try again later",
    "issuer_unavailable": "the bank couldn't be reached at the time",
    "do_not_honor": "the bank declined it without giving a reason",
    "card_reported_lost": "the card has been reported lost or stolen",
    "stolen_card": "the card has been reported lost or stolen",
    "expired_card": "the card has expired",
    "account_closed": "the card's account is closed",
    "invalid_number": "the card number wasn't accepted",
}
EXPIRY_WARNING_DAYS = 45


async def payment_failed(ctx: AnswerContext) -> List[Dict[str, Any]]:
    attempt = await queries.latest_failed_attempt(ctx.session, ctx.customer.id)
    if attempt is None:
        ctx.say("utter_no_failed_payment", name=ctx.customer.first_name)
        return []
    values = dict(
        amount=ctx.money(attempt.amount, attempt.currency),
        number=attempt.invoice_number,
        date=ctx.day(attempt.attempted_at.date()),
        reason=DECLINE_REASONS.get(attempt.decline_code or "", "the bank declined it"),
        link=ctx.payment_link(attempt.invoice_number),
        card_link=ctx.settings.card_update_link,
    )
    ctx.say("utter_payment_failed_hard" if attempt.decline_type == "hard" else "utter_payment_failed_soft", **values)
    return []


async def card_expiring(ctx: AnswerContext) -> List[Dict[str, Any]]:
    card = await queries.default_card(ctx.session, ctx.customer.id)
    if card is None:
        ctx.say("utter_no_card", name=ctx.customer.first_name, card_link=ctx.settings.card_update_link)
        return []
    expires = card.expires_on()
    values = dict(
        brand=card.brand.title(), last4=card.last4, expiry=f"{expires:%B %Y}", card_link=ctx.settings.card_update_link
    )
    if expires < ctx.today:
        ctx.say("utter_card_expired", **values)
    elif expires - ctx.today <= dt.timedelta(days=EXPIRY_WARNING_DAYS):
        ctx.say("utter_card_expiring", **values)
    else:
        ctx.say("utter_card_ok", **values)
    return []


class ActionPaymentFailed(AccountQuestion, Action):
    intent = "payment_failed"
    answer = staticmethod(payment_failed)


class ActionCardExpiring(AccountQuestion, Action):
    intent = "card_expiring"
    answer = staticmethod(card_expiring)


class ActionUpdateCard(Action):
    """The secure card page's link (configured, so a response alone cannot fill it); no
    account data, so no verification."""

    def name(self) -> str:
        return "action_update_card"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        dispatcher.utter_message(response="utter_update_card", card_link=get_settings().card_update_link)
        return []
