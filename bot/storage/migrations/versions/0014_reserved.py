"""article lead images, Telegraph pages of whole stories, the per-chat photo setting

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image', sa.String(length=2000), nullable=True))
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photos', sa.Boolean(), nullable=True))
    op.create_table(
        'telegraph_pages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=20), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('article_id', 'language', name='uq_telegraph_page'),
    )


def downgrade() -> None:
    op.drop_table('telegraph_pages')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_column('photos')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('image')
