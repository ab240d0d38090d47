"""claims for several processes on one database

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(), nullable=True))
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('summary_claimed_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('summary_claimed_until', sa.DateTime(), nullable=True))
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_column('claimed_by')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('summary_claimed_until')
        batch_op.drop_column('summary_claimed_by')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
