"""conversations.next_start_at and handoffs.first_agent_reply_at, kept on write for the reports (issue 16)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

The reports read each conversation's next start in its customer's line (for "reopened") and each
handoff's first agent reply from these columns instead of working them out per report; their
writers are bot.conversations.returns and bot.conversations.handoffs. Both are filled here from
the rows already stored (the same statements as those modules' backfills, frozen here).
"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

NEXT_START = """
    UPDATE conversations SET next_start_at = later.next_start_at
    FROM (
        SELECT id, lead(created_at) OVER (
            PARTITION BY customer_id,
                         CASE WHEN customer_id IS NULL THEN channel END,
                         CASE WHEN customer_id IS NULL THEN session_key END
            ORDER BY created_at, id
        ) AS next_start_at
        FROM conversations
    ) AS later
    WHERE later.id = conversations.id
"""

FIRST_REPLY = """
    UPDATE handoffs SET first_agent_reply_at = (
        SELECT min(messages.created_at) FROM messages
        WHERE messages.conversation_id = handoffs.conversation_id
          AND messages.sender = 'agent'
          AND messages.created_at >= handoffs.requested_at
    )
"""


def upgrade():
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("next_start_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("first_agent_reply_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_conversations_customer_created", "conversations", ["customer_id", "created_at"], unique=False)
    op.execute(NEXT_START)
    op.execute(FIRST_REPLY)


def downgrade():
    op.drop_index("ix_conversations_customer_created", table_name="conversations")
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("first_agent_reply_at")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("next_start_at")
