"""translations: summaries keyed by language too, with a translated title

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('summaries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title', sa.Text(), nullable=True))
        batch_op.drop_constraint('uq_summary_key', type_='unique')
        batch_op.create_unique_constraint('uq_summary_key', ['article_id', 'profile', 'model', 'revision', 'language'])


def downgrade() -> None:
    # translations (another language than the article's, Traditional and Simplified being one) go
    op.execute(
        "DELETE FROM summaries WHERE EXISTS (SELECT 1 FROM articles WHERE articles.id = summaries.article_id "
        "AND summaries.language <> articles.language "
        "AND NOT (summaries.language LIKE 'zh-%' AND articles.language LIKE 'zh-%'))"
    )
    with op.batch_alter_table('summaries', schema=None) as batch_op:
        batch_op.drop_constraint('uq_summary_key', type_='unique')
        batch_op.create_unique_constraint('uq_summary_key', ['article_id', 'profile', 'model', 'revision'])
        batch_op.drop_column('title')
