"""follows, search text, weather alert events, regions and channels

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""
import re
import unicodedata
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('alerts', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('managed', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=True))
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.add_column(sa.Column('matched_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_stories_matched_at', ['matched_at'], unique=False)
    # stories seen before follows existed are not news to anyone who follows a keyword now
    op.execute("UPDATE stories SET matched_at = first_seen_at")
    _fill_search_text()
    op.create_table(
        'follows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=False),
        sa.Column('keyword', sa.String(length=100), nullable=False),
        sa.Column('normalized', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('subscriber_id', 'normalized', name='uq_follow_keyword'),
    )
    op.create_index('ix_follows_subscriber_id', 'follows', ['subscriber_id'], unique=False)
    op.create_table(
        'follow_hits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscriber_id', sa.Integer(), nullable=False),
        sa.Column('story_id', sa.Integer(), nullable=False),
        sa.Column('keyword', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['story_id'], ['stories.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('subscriber_id', 'story_id', name='uq_follow_hit'),
    )
    op.create_index('ix_follow_hits_sent_at', 'follow_hits', ['sent_at'], unique=False)
    op.create_table(
        'weather_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('region', sa.String(length=200), nullable=False),
        sa.Column('event_key', sa.String(length=200), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('region', 'event_key', name='uq_weather_event'),
    )


# A frozen copy of summarizer.text.search_form as it was when this migration was written (a
# migration must give the same data whenever it runs): width, case and script folded (one
# character at a time, Traditional to Simplified, the table beside this file), one space kept
# between Latin words and none next to Chinese characters.
_NON_WORD = re.compile(r"[^\w]+|_+")
_SPACE_BY_CJK = re.compile(r" (?=[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])|(?<=[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]) ")


def _folding() -> dict[int, str]:
    pairs = Path(__file__).with_name("0007_search_folding.txt").read_text(encoding="utf-8").splitlines()[1]
    return {ord(pairs[i]): pairs[i + 1] for i in range(0, len(pairs), 2)}


def _search_form(text: str, folding: dict[int, str]) -> str:
    folded = unicodedata.normalize("NFKC", text).lower().translate(folding)
    return _SPACE_BY_CJK.sub("", " ".join(_NON_WORD.split(folded)).strip())


def _fill_search_text() -> None:
    """Articles stored before search existed get their search form, in batches."""
    folding = _folding()
    connection = op.get_bind()
    articles = sa.table('articles', sa.column('id', sa.Integer), sa.column('title', sa.Text),
                        sa.column('text', sa.Text), sa.column('search_text', sa.Text))
    last = 0
    while rows := connection.execute(
        sa.select(articles.c.id, articles.c.title, articles.c.text)
        .where(articles.c.id > last, articles.c.text != '').order_by(articles.c.id).limit(500)
    ).all():
        for row in rows:
            connection.execute(articles.update().where(articles.c.id == row.id)
                               .values(search_text=_search_form(f"{row.title}\n{row.text}", folding)))
        last = rows[-1].id


def downgrade() -> None:
    op.drop_table('weather_events')
    op.drop_index('ix_follow_hits_sent_at', table_name='follow_hits')
    op.drop_table('follow_hits')
    op.drop_index('ix_follows_subscriber_id', table_name='follows')
    op.drop_table('follows')
    with op.batch_alter_table('stories', schema=None) as batch_op:
        batch_op.drop_index('ix_stories_matched_at')
        batch_op.drop_column('matched_at')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_column('search_text')
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_column('managed')
        batch_op.drop_column('alerts')
        batch_op.drop_column('region')
