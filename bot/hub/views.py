"""What the console API, the console socket and the widget history send: stored
rows turned into plain JSON-ready dicts. Reads only; the caller owns the session."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Dict, Optional

from bot.account_summary import account_summary
from bot.accounts import queries
from bot.config import today
from bot.conversations import agents as agent_data
from bot.conversations import store
from bot.conversations.message_views import iso
from bot.conversations.models import Agent, Conversation, Handoff, Note


def agent_view(agent: Optional[Agent]) -> Optional[Dict[str, Any]]:
    if agent is None:
        return None
    return {"id": agent.id, "email": agent.email, "name": agent.name, "presence": agent.presence}


def note_view(note: Note, names: Dict[int, str]) -> Dict[str, Any]:
    return {"id": note.id, "agent_name": names.get(note.agent_id), "text": note.text, "at": iso(note.created_at)}


def handoff_view(handoff: Optional[Handoff]) -> Optional[Dict[str, Any]]:
    if handoff is None:
        return None
    return {
        "reason": handoff.reason,
        "priority": handoff.priority,
        "requested_at": iso(handoff.requested_at),
        "taken_at": iso(handoff.taken_at),
        "ended_at": iso(handoff.ended_at),
        "outcome": handoff.outcome,
        "summary": json.loads(handoff.summary or "{}"),
    }


async def customer_brief(session, conversation: Conversation) -> Optional[Dict[str, Any]]:
    if conversation.customer_id is None:
        return None
    customer = await queries.get_customer(session, conversation.customer_id)
    if customer is None:
        return None
    return {
        "id": customer.id,
        "name": customer.name,
        "account_number": customer.account_number,
        **identity(conversation),
    }


def identity(conversation: Conversation) -> Dict[str, Any]:
    """How the customer is known; only a bot verification counts as verified."""
    return {"verified": conversation.customer_known_by == "verification", "known_by": conversation.customer_known_by}


async def conversation_view(session, conversation: Conversation) -> Dict[str, Any]:
    agent = None
    if conversation.assigned_agent_id is not None:
        agent = await agent_data.get_agent(session, conversation.assigned_agent_id)
    return {
        "id": conversation.public_id,
        "channel": conversation.channel,
        "status": conversation.status,
        "assigned_agent": agent_view(agent),
        "customer": await customer_brief(session, conversation),
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
        "resolved_at": iso(conversation.resolved_at),
        "csat": await store.csat_for(session, conversation.id),
    }


async def queue_item(session, conversation: Conversation, handoff: Handoff, now: dt.datetime) -> Dict[str, Any]:
    requested = (
        handoff.requested_at if handoff.requested_at.tzinfo else handoff.requested_at.replace(tzinfo=dt.timezone.utc)
    )
    return {
        "conversation_id": conversation.public_id,
        "channel": conversation.channel,
        "status": conversation.status,
        "reason": handoff.reason,
        "priority": handoff.priority,
        "requested_at": iso(requested),
        "waiting_seconds": max(0, int((now - requested).total_seconds())),
        "customer": await customer_brief(session, conversation),
        "preview": (await store.last_customer_text(session, conversation.id))[:200],
    }


async def customer_panel(session, conversation: Conversation) -> Optional[Dict[str, Any]]:
    """Everything an agent needs about the customer; None when the conversation has none."""
    if conversation.customer_id is None:
        return None
    summary = await account_summary(session, conversation.customer_id)
    if summary is None:
        return None
    customer, reminder, card, promise = summary.customer, summary.last_reminder, summary.card, summary.active_promise
    day = today()
    recent = await store.customer_conversations(session, customer.id)
    return {
        "id": customer.id,
        "name": customer.name,
        "account_number": customer.account_number,
        "email": customer.email,
        **identity(conversation),
        "reminders_opt_out": customer.reminders_opt_out,
        "email_undeliverable": customer.email_undeliverable,
        "invoices": [
            {
                "number": i.number,
                "description": i.description,
                "amount": str(i.amount),
                "amount_due": str(i.amount_due),
                "currency": i.currency,
                "issued_on": i.issued_on.isoformat(),
                "due_on": i.due_on.isoformat(),
                "days_overdue": i.days_overdue(day),
                "status": i.status,
            }
            for i in summary.invoices
        ],
        "dunning_stage": summary.dunning_stage,
        "last_reminder": {"stage": reminder.stage, "invoice": reminder.invoice.number, "sent_at": iso(reminder.sent_at)}
        if reminder
        else None,
        "card": {"brand": card.brand, "last4": card.last4, "exp_month": card.exp_month, "exp_year": card.exp_year}
        if card
        else None,
        "active_promise": {"date": promise.promised_date.isoformat(), "kind": promise.kind} if promise else None,
        "recent_conversations": [
            {"id": c.public_id, "channel": c.channel, "status": c.status, "created_at": iso(c.created_at)}
            for c in recent
        ],
    }
