"""drop escalations (the hub's handoff records each one); how a conversation's customer is known (issue 14)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

KNOWN_BY = "customer_known_by IS NULL OR customer_known_by IN ('verification', 'email_address', 'our_records')"


def upgrade() -> None:
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalations_conversation_id'))
    op.drop_table('escalations')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_known_by', sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(batch_op.f('ck_conversations_customer_known_by'), KNOWN_BY)
    # Until now a conversation's customer was either verified by the bot (web) or matched by
    # address or invoice (email): keep that meaning for the rows already there.
    op.execute("UPDATE conversations SET customer_known_by = CASE WHEN channel = 'web' THEN 'verification' "
               "WHEN session_key LIKE 'dunning:%' THEN 'our_records' ELSE 'email_address' END "
               "WHERE customer_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_conversations_customer_known_by'), type_='check')
        batch_op.drop_column('customer_known_by')
    op.create_table('escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=255), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_escalations_customer_id_customers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations'))
    )
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalations_conversation_id'), ['conversation_id'], unique=False)
