"""The accounts' tables: customers, their secrets, cards, invoices, payments,
payment attempts and promises to pay.

Schema changes go through migrations in ``bot/db/migrations``; keep the models and
the newest migration in step (tests/bot/db/test_migrations.py checks it).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import relationship

from bot.db.base import MONEY, Base

INVOICE_STATUSES = ("open", "paid", "disputed", "written_off", "void")
PROMISE_STATUSES = ("active", "kept", "broken", "cancelled")
SECRET_KINDS = ("zip_code", "last_four")


class Customer(Base):
    __tablename__ = "customers"

    id = Column(Integer, primary_key=True)
    account_number = Column(String(16), nullable=False, unique=True)
    name = Column(String(120), nullable=False)
    email = Column(String(254), nullable=False, unique=True)
    phone = Column(String(32))
    timezone = Column(String(64), nullable=False, default="America/New_York")
    reminders_opt_out = Column(Boolean, nullable=False, default=False)
    email_undeliverable = Column(Boolean, nullable=False, default=False)
    created_at = Column(DateTime(timezone=True), nullable=False)

    secrets = relationship("VerificationSecret", back_populates="customer")
    cards = relationship("Card", back_populates="customer")
    invoices = relationship("Invoice", back_populates="customer")

    @property
    def first_name(self) -> str:
        return self.name.split()[0]


class VerificationSecret(Base):
    """A salted, slow hash of something only the account holder knows."""

    __tablename__ = "verification_secrets"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", name="uq_verification_secrets_customer_kind"),
        CheckConstraint(f"kind IN {SECRET_KINDS}", name="kind"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = Column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False)
    kind = Column(String(16), nullable=False)
    salt = Column(String(32), nullable=False)
    digest = Column(String(64), nullable=False)
    iterations = Column(Integer, nullable=False)

    customer = relationship("Customer", back_populates="secrets")


class Card(Base):
    __tablename__ = "cards"

    id = Column(Integer, primary_key=True)
    customer_id = Column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True)
    brand = Column(String(16), nullable=False)
    last4 = Column(String(4), nullable=False)
    exp_month = Column(Integer, nullable=False)
    exp_year = Column(Integer, nullable=False)
    is_default = Column(Boolean, nullable=False, default=True)

    customer = relationship("Customer", back_populates="cards")


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (CheckConstraint(f"status IN {INVOICE_STATUSES}", name="status"),)

    id = Column(Integer, primary_key=True)
    number = Column(String(16), nullable=False, unique=True)
    customer_id = Column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True)
    description = Column(String(200), nullable=False, default="")
    amount = Column(MONEY, nullable=False)
    currency = Column(String(3), nullable=False, default="USD")
    issued_on = Column(Date, nullable=False)
    due_on = Column(Date, nullable=False)
    status = Column(String(16), nullable=False, default="open")
    late_fee = Column(MONEY, nullable=False, default=0)
    paid_on = Column(Date)

    customer = relationship("Customer", back_populates="invoices")
    payments = relationship("Payment", back_populates="invoice")
    attempts = relationship("PaymentAttempt", back_populates="invoice")


class Payment(Base):
    __tablename__ = "payments"

    id = Column(Integer, primary_key=True)
    invoice_id = Column(ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False, index=True)
    amount = Column(MONEY, nullable=False)
    currency = Column(String(3), nullable=False)
    paid_at = Column(DateTime(timezone=True), nullable=False)
    method = Column(String(16), nullable=False)

    invoice = relationship("Invoice", back_populates="payments")


class PaymentAttempt(Base):
    """One try to charge a card; declines keep the gateway's code and its kind."""

    __tablename__ = "payment_attempts"
    __table_args__ = (
        CheckConstraint("outcome IN ('succeeded', 'declined')", name="outcome"),
        CheckConstraint("decline_type IS NULL OR decline_type IN ('soft', 'hard')", name="decline_type"),
    )

    id = Column(Integer, primary_key=True)
    invoice_id = Column(ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False, index=True)
    card_id = Column(ForeignKey("cards.id", ondelete="SET NULL"))
    attempted_at = Column(DateTime(timezone=True), nullable=False)
    amount = Column(MONEY, nullable=False)
    outcome = Column(String(16), nullable=False)
    decline_code = Column(String(32))
    decline_type = Column(String(8))

    invoice = relationship("Invoice", back_populates="attempts")
    card = relationship("Card")


class PromiseToPay(Base):
    """A customer's promise to pay by a date, or an extension they were granted."""

    __tablename__ = "promises_to_pay"
    __table_args__ = (
        CheckConstraint(f"status IN {PROMISE_STATUSES}", name="status"),
        CheckConstraint("kind IN ('promise', 'extension')", name="kind"),
    )

    id = Column(Integer, primary_key=True)
    customer_id = Column(ForeignKey("customers.id", ondelete="CASCADE"), nullable=False, index=True)
    invoice_id = Column(ForeignKey("invoices.id", ondelete="CASCADE"))
    kind = Column(String(16), nullable=False, default="promise")
    amount = Column(MONEY)
    currency = Column(String(3))
    promised_date = Column(Date, nullable=False)
    status = Column(String(16), nullable=False, default="active")
    channel = Column(String(16), nullable=False, default="chat")
    created_at = Column(DateTime(timezone=True), nullable=False)

    invoice = relationship("Invoice")


# For the reports (bot/analytics/facts.py; migration 0007).
Index("ix_payments_paid_at", Payment.paid_at)
Index("ix_payment_attempts_attempted_at", PaymentAttempt.attempted_at)
Index("ix_promises_to_pay_promised_date", PromiseToPay.promised_date)
