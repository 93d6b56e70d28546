"""Balance, invoices, an invoice's status, the next payment due, how to pay."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Answer, AnswerContext, answer_for_verified
from bot.accounts import queries

STATUS_TEXT = {
    "paid": "It's paid. Thank you!",
    "disputed": "It's under dispute, so it's on hold while our team reviews it. No reminders will be sent meanwhile.",
    "written_off": "It has been closed, and there's nothing to pay.",
    "void": "It was cancelled, and there's nothing to pay.",
}


def _join_money(ctx: AnswerContext, amounts: Dict[str, Any]) -> str:
    return " and ".join(ctx.money(amount, currency) for currency, amount in sorted(amounts.items()))


async def balance(ctx: AnswerContext) -> List[Dict[str, Any]]:
    result = await queries.balance_for(ctx.session, ctx.customer.id)
    if not result.due and not result.disputed:
        ctx.say("utter_balance_zero", name=ctx.customer.first_name)
        return []
    zero = ctx.money(Decimal(0), min(result.disputed, default="USD"))  # nothing due, in the customer's currency
    values = dict(name=ctx.customer.first_name, amount=_join_money(ctx, result.due) or zero, count=result.open_invoices)
    if result.disputed:
        ctx.say("utter_balance_with_dispute", disputed=_join_money(ctx, result.disputed), **values)
    else:
        ctx.say("utter_balance", **values)
    return []


async def list_invoices(ctx: AnswerContext) -> List[Dict[str, Any]]:
    invoices = [i for i in await queries.invoices_for(ctx.session, ctx.customer.id) if i.amount_due > 0]
    if not invoices:
        ctx.say("utter_no_open_invoices", name=ctx.customer.first_name)
        return []
    lines = []
    for invoice in invoices:
        state = (
            "disputed, on hold"
            if invoice.status == "disputed"
            else (
                f"{invoice.days_overdue(ctx.today)} days overdue"
                if invoice.due_on < ctx.today
                else f"due {ctx.day(invoice.due_on)}"
            )
        )
        lines.append(
            f"- {invoice.number}: {ctx.money(invoice.amount_due, invoice.currency)} ({invoice.description}), {state}"
        )
    ctx.say("utter_invoice_list", name=ctx.customer.first_name, lines="\n".join(lines))
    return []


async def invoice_status(ctx: AnswerContext) -> List[Dict[str, Any]]:
    number = ctx.tracker.get_slot("invoice_number")
    if not number:
        ctx.say("utter_ask_invoice_number")
        return []
    invoice = await queries.invoice_by_number(ctx.session, ctx.customer.id, number)
    if invoice is None:
        # Another customer's invoice looks exactly like a missing one: nothing leaks.
        ctx.say("utter_invoice_not_found", number=number)
        return []
    if invoice.status in STATUS_TEXT:
        status_text = STATUS_TEXT[invoice.status]
    elif invoice.due_on < ctx.today:
        status_text = (
            f"It's open and {invoice.days_overdue(ctx.today)} days overdue, with "
            f"{ctx.money(invoice.amount_due, invoice.currency)} left to pay"
            + (f" (including a {ctx.money(invoice.late_fee, invoice.currency)} late fee)" if invoice.late_fee else "")
            + f". You can pay it here: {ctx.payment_link(invoice.number)}"
        )
    else:
        status_text = f"It's open and not due yet. You can pay it here: {ctx.payment_link(invoice.number)}"
    ctx.say(
        "utter_invoice_status",
        number=invoice.number,
        description=invoice.description,
        amount=ctx.money(invoice.amount + invoice.late_fee, invoice.currency),
        due=ctx.day(invoice.due_on),
        status_text=status_text,
    )
    return []


async def next_payment_due(ctx: AnswerContext) -> List[Dict[str, Any]]:
    invoice = await queries.next_invoice_due(ctx.session, ctx.customer.id)
    if invoice is None:
        ctx.say("utter_nothing_due", name=ctx.customer.first_name)
        return []
    amount = ctx.money(invoice.amount_due, invoice.currency)
    if invoice.due_on < ctx.today:
        ctx.say(
            "utter_next_payment_overdue",
            number=invoice.number,
            amount=amount,
            due=ctx.day(invoice.due_on),
            days=invoice.days_overdue(ctx.today),
            link=ctx.payment_link(invoice.number),
        )
    else:
        ctx.say("utter_next_payment", number=invoice.number, amount=amount, due=ctx.day(invoice.due_on))
    return []


async def how_to_pay(ctx: AnswerContext) -> List[Dict[str, Any]]:
    invoices = [i for i in await queries.invoices_for(ctx.session, ctx.customer.id, ("open",)) if i.amount_due > 0]
    if not invoices:
        ctx.say("utter_nothing_to_pay", name=ctx.customer.first_name)
        return []
    lines = "\n".join(
        f"- {i.number} ({ctx.money(i.amount_due, i.currency)}): {ctx.payment_link(i.number)}" for i in invoices
    )
    ctx.say("utter_payment_links", lines=lines)
    return []


class AccountQuestion:
    """Mixin for actions that answer one account question (not itself an Action,
    so the SDK does not register it)."""

    intent = ""
    answer: Answer  # set as staticmethod(function) by each action

    def name(self) -> Text:
        return f"action_{self.intent}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        return await answer_for_verified(self.answer, dispatcher, tracker)


class ActionCheckBalance(AccountQuestion, Action):
    intent = "check_balance"
    answer = staticmethod(balance)


class ActionListInvoices(AccountQuestion, Action):
    intent = "list_invoices"
    answer = staticmethod(list_invoices)


class ActionInvoiceStatus(AccountQuestion, Action):
    intent = "invoice_status"
    answer = staticmethod(invoice_status)


class ActionNextPaymentDue(AccountQuestion, Action):
    intent = "next_payment_due"
    answer = staticmethod(next_payment_due)


class ActionHowToPay(AccountQuestion, Action):
    intent = "how_to_pay"
    answer = staticmethod(how_to_pay)
