"""The email channel's records: every inbound message once (keyed by Message-ID),
the thread each email conversation belongs to, the outbound queue of what we send, and the
addresses that bounced."""

from __future__ import annotations

from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, String, Text

from bot.db.base import Base

OUTBOUND_STATUSES = ("queued", "sent", "failed")


class InboundEmail(Base):
    """A received email, stored once: the same Message-ID is never processed twice."""

    __tablename__ = "inbound_emails"

    id = Column(Integer, primary_key=True)
    message_id = Column(String(255), nullable=False, unique=True)
    conversation_id = Column(ForeignKey("conversations.id", ondelete="SET NULL"), index=True)
    from_address = Column(String(254), nullable=False, default="")
    subject = Column(String(255), nullable=False, default="")
    # Why it gets no automatic reply (RFC 3834), or None.
    automatic_reason = Column(String(64))
    # What was wrong with it (missing Message-ID, bad charset, truncated...), as text.
    problems = Column(Text)
    # JSON list of attachments (filename, content type, size); the files are not kept.
    attachments = Column(Text)
    received_at = Column(DateTime(timezone=True), nullable=False)


class EmailThread(Base):
    """How an email conversation is addressed: who wrote, the subject, the reference chain."""

    __tablename__ = "email_threads"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, unique=True)
    customer_address = Column(String(254), nullable=False)
    subject = Column(String(255), nullable=False, default="")
    last_inbound_message_id = Column(String(255))
    # Space-separated Message-IDs of the thread, oldest first (capped).
    references = Column(Text, nullable=False, default="")
    # Conversation messages up to this id have been emailed (or deliberately not).
    last_emailed_message_id = Column(Integer, nullable=False, default=0)


class OutboundEmail(Base):
    """An email we send: queued, then sent, retried with backoff, never silently dropped."""

    __tablename__ = "outbound_emails"
    __table_args__ = (CheckConstraint(f"status IN {OUTBOUND_STATUSES}", name="status"),)

    id = Column(Integer, primary_key=True)
    message_id = Column(String(255), nullable=False, unique=True)
    conversation_id = Column(ForeignKey("conversations.id", ondelete="SET NULL"), index=True)
    to_address = Column(String(254), nullable=False)
    subject = Column(String(255), nullable=False)
    # The whole MIME message, so a retry sends exactly the same bytes.
    mime = Column(Text, nullable=False)
    # Written by the bot (counts towards the per-sender cap), not by a person.
    automatic = Column(Boolean, nullable=False, default=True)
    status = Column(String(16), nullable=False, default="queued")
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime(timezone=True), nullable=False, index=True)
    last_error = Column(Text)
    created_at = Column(DateTime(timezone=True), nullable=False)
    sent_at = Column(DateTime(timezone=True))


class BouncedAddress(Base):
    """One failed recipient of one bounce: repeated soft bounces of an address make it hard."""

    __tablename__ = "bounced_addresses"

    id = Column(Integer, primary_key=True)
    address = Column(String(254), nullable=False, index=True)
    hard = Column(Boolean, nullable=False)
    # Why, as bot.email.bounce_reasons names it (userunknown, mailboxfull, blocked...), and the status code.
    reason = Column(String(32), nullable=False)
    status = Column(String(16))
    # The bounce's Message-ID (as stored in inbound_emails).
    inbound_message_id = Column(String(255), nullable=False)
    received_at = Column(DateTime(timezone=True), nullable=False)


# /metrics counts the outbox backlog (status queued); migration 0007.
Index("ix_outbound_emails_status", OutboundEmail.status)
