"""The account database: customers, secrets, cards, invoices and what happens to them.

Schema changes go through migrations in ``bot/db/migrations``; keep this file and
the newest migration in step (tests/bot/db/test_migrations.py checks it).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship
from sqlalchemy.types import BigInteger, TypeDecorator

# Named constraints so migrations can address them on every database.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
Base = declarative_base(metadata=metadata)



class Money(TypeDecorator):
    """Exact money: stored as integer cents, read back as a two-place Decimal.

    SQLite has no exact decimal type, so storing cents keeps both databases exact.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return int((Decimal(value) * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return (Decimal(int(value)) / 100).quantize(Decimal("0.01"))


MONEY = Money()

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
    reminders = relationship("Reminder", back_populates="invoice")


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

    invoice = relationship("Invoice", back_populates="reminders")


class Escalation(Base):
    """A conversation handed to a person, and why."""

    __tablename__ = "escalations"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    customer_id = Column(ForeignKey("customers.id", ondelete="SET NULL"))
    reason = Column(String(32), nullable=False)
    priority = Column(Integer, nullable=False)
    summary = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False)


# The hub's, the dunning engine's and the email channel's tables share this metadata (and its migrations).
from bot.db import hub_models  # noqa: E402,F401
from bot.db import dunning_models  # noqa: E402,F401
from bot.db import email_models  # noqa: E402,F401
