"""The dunning engine's tables: the reminders sent, and its ledger of claims (one row per
side effect it performs at most once).

A row is claimed (inserted) before an email goes out or a card is charged, and
the unique ``key`` is what makes two overlapping runs unable to do the same thing
twice: the database refuses the second claim, not a check in code. See
bot/dunning/claims.py for the protocol.
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from bot.db.base import Base

CLAIM_KINDS = ("reminder", "card_expiry", "update_card", "retry")
# claimed: in flight; done: finished and recorded; unconfirmed: a run died between
# acting and recording, and a later run recorded it as done without repeating it.
CLAIM_STATES = ("claimed", "done", "unconfirmed")


class DunningClaim(Base):
    __tablename__ = "dunning_claims"
    __table_args__ = (
        CheckConstraint(f"kind IN {CLAIM_KINDS}", name="kind"),
        CheckConstraint(f"state IN {CLAIM_STATES}", name="state"),
    )

    id = Column(Integer, primary_key=True)
    # e.g. "reminder:INV-20015:friendly", "card-expiry:12:2026-11", "retry:INV-20015:2"
    key = Column(String(160), nullable=False, unique=True)
    kind = Column(String(16), nullable=False)
    customer_id = Column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    invoice_id = Column(ForeignKey("invoices.id", ondelete="CASCADE"), index=True)
    stage = Column(String(32))
    message_id = Column(String(255))
    run_id = Column(String(32), nullable=False)
    state = Column(String(16), nullable=False, index=True)
    claimed_at = Column(DateTime(timezone=True), nullable=False)
    done_at = Column(DateTime(timezone=True))
    # What the run knew when it claimed: JSON (amount charged, stage fee, ...).
    detail = Column(Text)


class Reminder(Base):
    """A dunning reminder that was sent: at most one per stage per invoice."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("invoice_id", "stage", name="uq_reminders_invoice_stage"),)

    id = Column(Integer, primary_key=True)
    invoice_id = Column(ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False)
    stage = Column(String(32), nullable=False)
    channel = Column(String(16), nullable=False, default="email")
    sent_at = Column(DateTime(timezone=True), nullable=False)
    message_id = Column(String(255))

    invoice = relationship("Invoice")


# For the reports (bot/analytics/facts.py; migration 0007): reminders of a period, and the last
# reminder of an invoice before a payment.
Index("ix_reminders_sent_at", Reminder.sent_at)
Index("ix_reminders_invoice_sent_at", Reminder.invoice_id, Reminder.sent_at)
