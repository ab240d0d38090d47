"""sources managed in the database: each row carries how it is read and whether it is active

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # existing rows came from [[sources]]: the next start applies the file over these defaults
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(length=20), server_default='active', nullable=False))
        batch_op.add_column(sa.Column('origin', sa.String(length=20), server_default='config', nullable=False))
        batch_op.add_column(sa.Column('interval_minutes', sa.Integer(), server_default='15', nullable=False))
        batch_op.add_column(sa.Column('link_pattern', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('max_articles', sa.Integer(), server_default='30', nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('config_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('changed_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sources', schema=None) as batch_op:
        for column in (
            'changed_at',
            'config_hash',
            'language',
            'max_articles',
            'link_pattern',
            'interval_minutes',
            'origin',
            'state',
        ):
            batch_op.drop_column(column)
