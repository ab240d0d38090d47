"""Keyword follows: what each chat follows, and new stories matched against all of them.

New stories are matched once, by whichever process gets to them first (a story is claimed by
setting its ``matched_at``); every match is kept as a :class:`FollowHit` until it is sent, so
that quiet hours hold an alert rather than lose it.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from bot.config import RegionSources, Settings
from bot.matching import KeywordMatcher, keyword_problem
from bot.storage import Article, Database, Follow, FollowHit, Story, Subscriber
from summarizer.text import search_form

MATCH_BATCH = 200  # stories matched per transaction
MATCH_HORIZON = timedelta(days=2)  # stories first seen longer ago are not news any more
SUMMARY_WAIT = timedelta(minutes=15)  # a story is matched once summarized, or after this at the latest


@dataclass(frozen=True)
class Pending:
    """A match waiting to be sent: which story, to whom, for which keyword."""

    id: int  # the FollowHit's
    story_id: int
    keyword: str
    subscriber: Subscriber


class Follows:
    """Follow and unfollow keywords; match new stories; safe to call from worker threads."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    # below this method, ``list`` in the class body names it: annotations there say ``builtins.list``
    def list(self, subscriber_id: int) -> list[Follow]:
        """The chat's keywords, oldest first."""
        with self.db.session() as session:
            return list(session.scalars(select(Follow).where(Follow.subscriber_id == subscriber_id).order_by(Follow.id)))

    def add(self, subscriber_id: int, keywords: builtins.list[str], now: datetime) -> tuple[builtins.list[str], dict[str, str]]:
        """Follow ``keywords``: the ones added, and why each other one was not
        ("short", "long", "empty", "already", "limit")."""
        added, refused = [], {}
        with self.db.session() as session:
            have = set(session.scalars(select(Follow.normalized).where(Follow.subscriber_id == subscriber_id)))
            for keyword in keywords:
                problem = keyword_problem(keyword)
                form = search_form(keyword)
                if problem is None and form in have:
                    problem = "already"
                if problem is None and len(have) >= self.settings.follows.max_per_chat:
                    problem = "limit"
                if problem:
                    refused[keyword] = problem
                    continue
                session.add(Follow(subscriber_id=subscriber_id, keyword=keyword, normalized=form, created_at=now))
                have.add(form)
                added.append(keyword)
        return added, refused

    def remove(self, subscriber_id: int, keywords: builtins.list[str]) -> builtins.list[str]:
        """Stop following ``keywords`` (in any script or case); the ones that were followed.
        Their alerts still held (quiet hours) are dropped."""
        forms = {search_form(k) for k in keywords}
        return self._remove(subscriber_id, and_(Follow.subscriber_id == subscriber_id, Follow.normalized.in_(forms)))

    def remove_id(self, subscriber_id: int, follow_id: int) -> str | None:
        """Stop following one keyword by id (a button); its text, or None if it was gone."""
        removed = self._remove(subscriber_id, and_(Follow.subscriber_id == subscriber_id, Follow.id == follow_id))
        return removed[0] if removed else None

    def _remove(self, subscriber_id: int, which) -> builtins.list[str]:
        with self.db.session() as session:
            rows = list(session.scalars(select(Follow).where(which)))
            for row in rows:
                session.delete(row)
            keywords = [row.keyword for row in rows]
            session.execute(
                delete(FollowHit).where(
                    FollowHit.subscriber_id == subscriber_id, FollowHit.sent_at.is_(None), FollowHit.keyword.in_(keywords)
                )
            )
            return keywords

    def match_new_stories(self, now: datetime) -> int:
        """Match the stories no process has matched yet against every follow (one automaton
        for the pass); returns the hits recorded. One hit per story and chat, however many
        of its keywords match; a chat gets only its region's stories. A story waits for its
        summaries (matched too, and shown in the alert) up to :data:`SUMMARY_WAIT`."""
        matcher: KeywordMatcher[int] | None = None
        regions: dict[int, RegionSources | None] = {}
        keywords: dict[tuple[int, str], str] = {}
        hits = 0
        while True:
            with self.db.session() as session:
                unsummarized = Story.articles.any(and_(Article.text != "", ~Article.summaries.any()))
                query = (
                    select(Story)
                    .where(Story.matched_at.is_(None), or_(~unsummarized, Story.first_seen_at <= now - SUMMARY_WAIT))
                    .order_by(Story.id)
                    .limit(MATCH_BATCH)
                    .options(
                        selectinload(Story.articles).selectinload(Article.source),
                        selectinload(Story.articles).selectinload(Article.summaries),
                    )
                )
                if self.db.shared:
                    query = query.with_for_update(skip_locked=True, of=Story)
                stories = list(session.scalars(query))
                if not stories:
                    return hits
                if matcher is None:
                    matcher, regions, keywords = self._matcher(session)
                rows = []
                for story in stories:
                    story.matched_at = now
                    if story.first_seen_at < now - MATCH_HORIZON:
                        continue
                    text = "\n".join(_story_text(article) for article in story.articles)
                    names = {article.source.name for article in story.articles}
                    for subscriber_id, form in matcher.matches(text).items():
                        allowed = regions[subscriber_id]
                        if allowed is None or any(allowed.includes(name) for name in names):
                            rows.append(
                                {
                                    "subscriber_id": subscriber_id,
                                    "story_id": story.id,
                                    "keyword": keywords[subscriber_id, form],
                                    "created_at": now,
                                }
                            )
                had = {
                    tuple(row)
                    for row in session.execute(
                        select(FollowHit.subscriber_id, FollowHit.story_id).where(
                            FollowHit.story_id.in_([story.id for story in stories])
                        )
                    )
                }  # a story matched again
                rows = [row for row in rows if (row["subscriber_id"], row["story_id"]) not in had]
                if rows:  # executemany: any number of rows, within every driver's parameter limit
                    insert = pg_insert if self.db.shared else sqlite_insert
                    session.execute(insert(FollowHit).on_conflict_do_nothing(), rows)
                    hits += len(rows)

    def _matcher(self, session) -> tuple[KeywordMatcher[int], dict[int, RegionSources | None], dict[tuple[int, str], str]]:
        """One automaton for every follow of every chat we may still write to."""
        rows = session.execute(
            select(Follow.subscriber_id, Follow.normalized, Follow.keyword, Subscriber.region)
            .join(Subscriber, Subscriber.id == Follow.subscriber_id)
            .where(Subscriber.inactive_reason.is_(None))
        ).all()
        sources = {region: self.settings.region_sources(region) for region in {row.region for row in rows}}
        regions = {row.subscriber_id: sources[row.region] for row in rows}
        keywords = {(row.subscriber_id, row.normalized): row.keyword for row in rows}
        return KeywordMatcher((row.subscriber_id, row.normalized) for row in rows), regions, keywords

    def pending(self, after_id: int = 0, limit: int = 500) -> builtins.list[Pending]:
        """Matches not sent yet, by id after ``after_id`` (a page)."""
        with self.db.session() as session:
            rows = session.execute(
                select(FollowHit, Subscriber)
                .join(Subscriber, Subscriber.id == FollowHit.subscriber_id)
                .where(FollowHit.sent_at.is_(None), FollowHit.id > after_id, Subscriber.inactive_reason.is_(None))
                .order_by(FollowHit.id)
                .limit(limit)
            ).all()
            return [Pending(hit.id, hit.story_id, hit.keyword, subscriber) for hit, subscriber in rows]

    def done(self, hit_id: int, now: datetime) -> None:
        """The match was sent (or given up): it is not tried again."""
        with self.db.session() as session:
            hit = session.get(FollowHit, hit_id)
            if hit is not None:
                hit.sent_at = now

    def counts(self) -> dict[str, int]:
        """For /stats: follows and the chats that have any."""
        with self.db.session() as session:
            return {
                "follows": session.scalar(select(func.count()).select_from(Follow)) or 0,
                "following": session.scalar(select(func.count(func.distinct(Follow.subscriber_id)))) or 0,
            }


def _story_text(article: Article) -> str:
    """What a follow is matched against: title and text (search form) and the summary."""
    own = article.own_summary()
    return "\n".join(filter(None, (article.search_text, search_form(own.text) if own else None)))
