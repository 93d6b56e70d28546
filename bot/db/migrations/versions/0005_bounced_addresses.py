"""bounced addresses (issue 13: a soft bounce repeated becomes hard)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('bounced_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('hard', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('inbound_message_id', sa.String(length=255), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bounced_addresses'))
    )
    with op.batch_alter_table('bounced_addresses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bounced_addresses_address'), ['address'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('bounced_addresses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bounced_addresses_address'))
    op.drop_table('bounced_addresses')
