"""indexes for the reports and /metrics (issue 16)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# (index, table, columns): the models of bot.accounts, bot.dunning, bot.hub and bot.email declare the same.
INDEXES = (
    ("ix_conversations_created_at", "conversations", ["created_at"]),
    ("ix_handoffs_requested_at", "handoffs", ["requested_at"]),
    ("ix_csat_ratings_created_at", "csat_ratings", ["created_at"]),
    ("ix_messages_conversation_sender_created", "messages", ["conversation_id", "sender", "created_at"]),
    ("ix_reminders_sent_at", "reminders", ["sent_at"]),
    ("ix_reminders_invoice_sent_at", "reminders", ["invoice_id", "sent_at"]),
    ("ix_payments_paid_at", "payments", ["paid_at"]),
    ("ix_payment_attempts_attempted_at", "payment_attempts", ["attempted_at"]),
    ("ix_promises_to_pay_promised_date", "promises_to_pay", ["promised_date"]),
    ("ix_outbound_emails_status", "outbound_emails", ["status"]),
    ("ix_conversations_status", "conversations", ["status"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
