"""when a chat blocked or removed the bot (such chats are forgotten after keep_days)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('blocked_at', sa.DateTime(), nullable=True))
    # chats already unreachable count from now: they are forgotten keep_days after the upgrade
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.execute(sa.text("UPDATE subscribers SET blocked_at = :now WHERE inactive_reason IS NOT NULL AND NOT managed")
               .bindparams(sa.bindparam('now', now, type_=sa.DateTime())))


def downgrade() -> None:
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_column('blocked_at')
