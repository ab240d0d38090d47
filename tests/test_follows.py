"""Keyword follows against the database: limits, removal, matching new stories once (also with
two processes at once on PostgreSQL), regions, chats that blocked the bot."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.follows import MATCH_HORIZON, SUMMARY_WAIT, Follows
from bot.storage import Article, FollowHit, Source, Story, Subscriber, Summary
from summarizer.text import search_form

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=timezone.utc)
TWO_REGIONS = (
    "".join(f'[[sources]]\nname = "{n}"\nkind = "rss"\nurl = "http://x/{n}"\n' for n in ("A", "B"))
    + '[[regions]]\nname = "North"\nsources = ["A"]\n[[regions]]\nname = "South"\nsources = ["B"]\n'
)


def chat(db, chat_id: int, region: str | None = None, inactive_reason: str | None = None) -> int:
    with db.session() as session:
        row = Subscriber(chat_id=chat_id, language="zh-Hant", push_time="07:30", timezone="Asia/Shanghai",
                         region=region, inactive_reason=inactive_reason)
        session.add(row)
        session.flush()
        return row.id


def story(db, source: str, title: str, text: str, first_seen: datetime = NOW, summary: str | None = "摘要") -> int:
    with db.session() as session:
        row = session.scalar(select(Source).where(Source.name == source)) or Source(name=source, kind="rss", url="x")
        item = Story(first_seen_at=first_seen, updated_at=first_seen)
        summaries = [Summary(profile="p", model="m", language="zh-Hans", text=summary)] if summary else []
        session.add(Article(source=row, story=item, url=f"http://x/{title}", canonical_url=f"http://x/{title}",
                            content_hash=title, title=title, language="zh-Hans", text=text, summaries=summaries,
                            search_text=search_form(f"{title}\n{text}"), fetched_at=first_seen))
        session.flush()
        return item.id


def hits(db) -> list[tuple[int, int, str]]:
    with db.session() as session:
        return sorted(tuple(row) for row in session.execute(select(FollowHit.subscriber_id, FollowHit.story_id, FollowHit.keyword)))


def test_add_explains_each_refusal_and_remove_works_in_either_script(db, make_settings):
    follows = Follows(db, make_settings("[follows]\nmax_per_chat = 3\n"))
    me = chat(db, 1)
    added, refused = follows.add(me, ["暴雨", "停電", "雨", "x" * 41, "暴雨", "!!", "高鐵", "flood"], NOW)
    assert added == ["暴雨", "停電", "高鐵"]
    assert refused == {"雨": "short", "x" * 41: "long", "暴雨": "already", "!!": "empty", "flood": "limit"}
    assert follows.add(me, ["暴雨"], NOW) == ([], {"暴雨": "already"})
    assert follows.remove(me, ["停电", "nothing"]) == ["停電"]
    [first, second] = follows.list(me)
    assert follows.remove_id(chat(db, 2), first.id) is None  # another chat's keyword stays
    assert follows.remove_id(me, first.id) == "暴雨" and [f.keyword for f in follows.list(me)] == ["高鐵"]


def test_new_stories_are_matched_once_per_chat_and_region(db, make_settings):
    follows = Follows(db, make_settings(TWO_REGIONS))
    north, south, blocked = chat(db, 1, "North"), chat(db, 2, "South"), chat(db, 3, "North", "blocked the bot")
    follows.add(north, ["高鐵", "梁平"], NOW)
    follows.add(south, ["高铁"], NOW)
    follows.add(blocked, ["高鐵"], NOW)
    rail = story(db, "A", "渝西高铁梁平段完工", "梁平段桥梁主体工程完工。")
    story(db, "A", "春耕", "梁平区春耕备耕有序推进。")  # matches 梁平 only
    story(db, "B", "南方", "天气晴朗。")
    stale = story(db, "A", "旧闻高铁", "高铁", first_seen=NOW - MATCH_HORIZON - timedelta(hours=1))
    assert follows.match_new_stories(NOW) == 2
    found = hits(db)
    assert [(s, k) for s, _, k in found] == [(north, "高鐵"), (north, "梁平")]  # one hit per story and chat
    assert found[0][1] == rail and stale not in {h[1] for h in found}
    assert follows.match_new_stories(NOW) == 0  # every story is matched once
    assert [p.story_id for p in follows.pending()] == [h[1] for h in found]
    follows.done(follows.pending()[0].id, NOW)
    assert len(follows.pending()) == 1


def test_two_processes_matching_at_once_record_each_hit_once(db, make_settings):
    settings = make_settings("")
    me = chat(db, 1)
    Follows(db, settings).add(me, ["高鐵"], NOW)
    for n in range(300):
        story(db, "A", f"高铁{n}", f"第{n}段高铁")
    with ThreadPoolExecutor(2) as pool:  # two Follows, as two bot processes would have
        counts = list(pool.map(lambda _: Follows(db, settings).match_new_stories(NOW), range(2)))
    assert sum(counts) == 300 and len(hits(db)) == 300


def test_a_story_waits_for_its_summary_which_is_matched_too(db, make_settings):
    follows = Follows(db, make_settings(""))
    me = chat(db, 1)
    follows.add(me, ["冷鏈"], NOW)
    waiting = story(db, "A", "新聞一", "正文沒有關鍵詞。", summary=None)
    summarized = story(db, "A", "新聞二", "正文沒有關鍵詞。", summary="新開通冷链班列。")  # only the summary mentions it
    assert follows.match_new_stories(NOW) == 1 and [h[1] for h in hits(db)] == [summarized]
    with db.session() as session:
        assert session.get(Story, waiting).matched_at is None  # not yet summarized: matched later
    assert follows.match_new_stories(NOW + SUMMARY_WAIT) == 0
    with db.session() as session:
        assert session.get(Story, waiting).matched_at is not None  # matched without its summary after the wait


def test_unfollowing_drops_the_alerts_held_for_that_keyword(db, make_settings):
    follows = Follows(db, make_settings(""))
    me = chat(db, 1)
    follows.add(me, ["高鐵", "梁平"], NOW)
    story(db, "A", "高铁", "高铁通车。")
    story(db, "A", "梁平", "梁平新闻。")
    assert follows.match_new_stories(NOW) == 2
    follows.remove(me, ["高铁"])
    assert [p.keyword for p in follows.pending()] == ["梁平"]


def test_a_story_is_matched_again_when_another_region_s_article_joins_it(db, make_settings):
    follows = Follows(db, make_settings(TWO_REGIONS))
    north, south = chat(db, 1, "North"), chat(db, 2, "South")
    follows.add(north, ["高鐵"], NOW)
    follows.add(south, ["高鐵"], NOW)
    rail = story(db, "A", "高铁", "高铁通车。")
    assert follows.match_new_stories(NOW) == 1  # North's source only
    with db.session() as session:  # what ingestion does when an article joins the story
        item = session.get(Story, rail)
        source = Source(name="B", kind="rss", url="x")
        session.add(Article(source=source, story=item, url="http://y", canonical_url="http://y", content_hash="y",
                            title="高铁", language="zh-Hans", text="高铁", search_text="高铁", fetched_at=NOW,
                            summaries=[Summary(profile="p", model="m", language="zh-Hans", text="高铁")]))
        item.matched_at = None
    assert follows.match_new_stories(NOW) == 1
    assert sorted(s for s, _, _ in hits(db)) == [north, south]  # North is not alerted twice
