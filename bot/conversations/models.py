"""The hub's conversation store: conversations, their messages and handoffs,
the agents who take them over, private notes, canned replies and CSAT ratings.

These tables share the account database's metadata (and its migrations), so a
conversation can point at the verified customer.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from bot.db.base import Base

CONVERSATION_STATUSES = ("bot", "pending", "assigned", "resolved")
CHANNELS = ("web", "email")
SENDERS = ("customer", "bot", "agent", "system")
# Customer messages: received -> answered, or waiting_for_bot while Rasa is unreachable.
# Outgoing messages: sent once emitted to the customer's channel.
DELIVERY_STATES = ("received", "waiting_for_bot", "answered", "held_for_agent", "sent")
PRESENCE = ("online", "away", "offline")
# How a conversation's customer is known: the bot verified them (a secret checked), the
# sender's email address is the one on file (not proof), or our own records (dunning's alert
# about the customer's invoice). Only "verification" lets anyone treat them as verified.
CUSTOMER_KNOWN_BY = ("verification", "email_address", "our_records")


class Agent(Base):
    """A person who answers customers in the console."""

    __tablename__ = "agents"
    __table_args__ = (CheckConstraint(f"presence IN {PRESENCE}", name="presence"),)

    id = Column(Integer, primary_key=True)
    email = Column(String(254), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    password_hash = Column(String(255), nullable=False)
    presence = Column(String(16), nullable=False, default="offline")
    last_seen_at = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False)


class AgentSession(Base):
    """A signed-in console session; only a hash of its token is stored."""

    __tablename__ = "agent_sessions"

    id = Column(Integer, primary_key=True)
    agent_id = Column(ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime(timezone=True), nullable=False)
    expires_at = Column(DateTime(timezone=True), nullable=False)

    agent = relationship("Agent")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(f"status IN {CONVERSATION_STATUSES}", name="status"),
        CheckConstraint(f"channel IN {CHANNELS}", name="channel"),
        CheckConstraint(
            f"customer_known_by IS NULL OR customer_known_by IN {CUSTOMER_KNOWN_BY}", name="customer_known_by"
        ),
    )

    id = Column(Integer, primary_key=True)
    # Public id: the API's conversation id and Rasa's sender id.
    public_id = Column(String(36), nullable=False, unique=True)
    channel = Column(String(16), nullable=False)
    # What the channel knows the customer by: the widget's session id, an email thread.
    session_key = Column(String(128), nullable=False, index=True)
    customer_id = Column(ForeignKey("customers.id", ondelete="SET NULL"))
    customer_known_by = Column(String(16))  # one of CUSTOMER_KNOWN_BY while customer_id is set
    status = Column(String(16), nullable=False, default="bot")
    assigned_agent_id = Column(ForeignKey("agents.id", ondelete="SET NULL"))
    # The customer was told once that a person is coming (reset on hand-back).
    queue_notice_sent = Column(Boolean, nullable=False, default=False)
    # The customer was told once that the bot is unreachable (reset when it answers).
    outage_notice_sent = Column(Boolean, nullable=False, default=False)
    # Rasa's tracker was paused by the handoff and must get `resume` before the bot
    # hears this conversation again (kept until Rasa confirms, so a Rasa outage
    # during hand-back cannot leave the two stores disagreeing).
    rasa_needs_resume = Column(Boolean, nullable=False, default=False)
    csat_requested_at = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False)
    resolved_at = Column(DateTime(timezone=True))
    # When the same customer started their next conversation (None: not yet), for the reports'
    # "reopened". Kept by bot.conversations.returns, its only writer.
    next_start_at = Column(DateTime(timezone=True))

    assigned_agent = relationship("Agent")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(f"sender IN {SENDERS}", name="sender"),
        CheckConstraint(f"delivery IN {DELIVERY_STATES}", name="delivery"),
        # A client that re-sends after a lost acknowledgement never creates a duplicate.
        UniqueConstraint("conversation_id", "client_message_id", name="uq_messages_conversation_client_id"),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, index=True)
    sender = Column(String(16), nullable=False)
    agent_id = Column(ForeignKey("agents.id", ondelete="SET NULL"))
    text = Column(Text, nullable=False, default="")
    # Rich parts as JSON: buttons, links, images, custom payloads.
    payload = Column(Text)
    client_message_id = Column(String(64))
    delivery = Column(String(16), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)
    # The hub process (bot.hub.instance) routing a customer message: while that process lives, no
    # other one touches the message; once it is gone, another picks the message up.
    claimed_by = Column(BigInteger)


class Handoff(Base):
    """One stay of a conversation with people: from the escalation to hand-back or resolution."""

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, index=True)
    reason = Column(String(32), nullable=False)
    priority = Column(Integer, nullable=False)
    # JSON: the summary the bot wrote (sentiment trail, identity, invoices, transcript).
    summary = Column(Text, nullable=False, default="{}")
    requested_at = Column(DateTime(timezone=True), nullable=False)
    taken_at = Column(DateTime(timezone=True))
    taken_by = Column(ForeignKey("agents.id", ondelete="SET NULL"))
    ended_at = Column(DateTime(timezone=True))
    outcome = Column(String(16))  # handed_back | resolved
    # The first message an agent wrote in the conversation at or after the request (None: none yet),
    # for the reports' first response time. Kept by bot.conversations.handoffs, its only writer.
    first_agent_reply_at = Column(DateTime(timezone=True))


class Note(Base):
    """A private note an agent keeps on a conversation; never shown to the customer."""

    __tablename__ = "notes"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, index=True)
    agent_id = Column(ForeignKey("agents.id", ondelete="SET NULL"))
    text = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)


class CannedReply(Base):
    __tablename__ = "canned_replies"

    id = Column(Integer, primary_key=True)
    title = Column(String(80), nullable=False, unique=True)
    text = Column(Text, nullable=False)


class CsatRating(Base):
    __tablename__ = "csat_ratings"
    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, unique=True)
    rating = Column(Integer, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)


# For the reports (bot/analytics/facts.py) and /metrics' queue length; migration 0007.
Index("ix_conversations_created_at", Conversation.created_at)
Index("ix_conversations_status", Conversation.status)
Index("ix_handoffs_requested_at", Handoff.requested_at)
Index("ix_csat_ratings_created_at", CsatRating.created_at)
# The first agent reply after a handoff (bot.conversations.handoffs' backfill).
Index("ix_messages_conversation_sender_created", Message.conversation_id, Message.sender, Message.created_at)
# A verified customer's conversations in order (bot.conversations.returns); migration 0009.
Index("ix_conversations_customer_created", Conversation.customer_id, Conversation.created_at)
