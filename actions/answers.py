"""The account questions a verified customer can ask, by intent: the verification step
answers the one asked before verifying with the same function the intent's action uses."""

from __future__ import annotations

from typing import Dict

from actions import account, payments, reminders
from actions.common import Answer

ANSWERS: Dict[str, Answer] = {
    "check_balance": account.balance,
    "list_invoices": account.list_invoices,
    "invoice_status": account.invoice_status,
    "next_payment_due": account.next_payment_due,
    "how_to_pay": account.how_to_pay,
    "payment_failed": payments.payment_failed,
    "card_expiring": payments.card_expiring,
    "why_reminder": reminders.why_reminder,
}
