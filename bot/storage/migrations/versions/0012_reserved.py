"""official weather warnings, and how far a weather event reaches

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('official_warnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('identifier', sa.String(length=300), nullable=False),
    sa.Column('chain', sa.String(length=300), nullable=False),
    sa.Column('series', sa.String(length=100), nullable=True),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('msg_type', sa.String(length=10), nullable=False),
    sa.Column('sent', sa.DateTime(), nullable=False),
    sa.Column('expires', sa.DateTime(), nullable=True),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'identifier', name='uq_official_warning')
    )
    with op.batch_alter_table('official_warnings', schema=None) as batch_op:
        batch_op.create_index('ix_official_warning_chain', ['chain'], unique=False)
        batch_op.create_index('ix_official_warning_fetched', ['fetched_at'], unique=False)
    with op.batch_alter_table('weather_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('until', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('weather_events', schema=None) as batch_op:
        batch_op.drop_column('until')
    with op.batch_alter_table('official_warnings', schema=None) as batch_op:
        batch_op.drop_index('ix_official_warning_fetched')
        batch_op.drop_index('ix_official_warning_chain')
    op.drop_table('official_warnings')
