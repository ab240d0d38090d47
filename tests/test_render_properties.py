"""Whatever a feed puts in a title, a summary or a source's name, every message is valid
Telegram HTML within 4096 UTF-16 code units, and the (fake) Bot API accepts it."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from bot.digest import Digest, StoryItem
from bot.storage import Article, Source, Story, Summary
from bot.telegram.render import MAX_MESSAGE, render_digest, render_stories, render_story, split_message
from tests.fakes.telegram import FakeTelegram, check_html, utf16_length
from tests.support.bot import DAY, DUE, TOKEN, add_subscribers, seen_before

# what feeds really send: blank lines, markup, entities, emoji and rare CJK (two UTF-16 units),
# line and paragraph separators, control characters, a lone surrogate from a bad JSON escape
NASTY = ["\n", "\n\n", "\r\n", "\u2028", "\u2029", "\x00", "\x0c", "\t", " ", "<b>", "</b>", "<i>", "&", "&amp;",
         "<a href='x'>", '"', "😀", "👨‍👩‍👧", "𠀀", "梁平", "\ud800", "x" * 50]
TEXT = st.lists(st.one_of(st.text(max_size=30), st.sampled_from(NASTY)), max_size=40).map("".join)
LONG = st.one_of(TEXT, st.tuples(TEXT, st.integers(1, 100)).map(lambda pair: pair[0] * pair[1]))
URL = st.text(alphabet="abc/?&=<>\"'#%", max_size=30).map(lambda path: f"http://example.com/{path}")
STORY = st.builds(StoryItem, title=LONG, summary=LONG, published=st.none(),
                  sources=st.lists(st.fixed_dictionaries({"name": TEXT, "url": URL}), min_size=1, max_size=3),
                  fallback=st.booleans())


@pytest.fixture(scope="module")
def api():
    fake = FakeTelegram(TOKEN)
    yield fake
    fake.close()


def send(fake: FakeTelegram, text: str) -> dict:
    """``sendMessage`` over HTTP, as the bot calls it: the Bot API's answer."""
    body = urllib.parse.urlencode({"chat_id": "7", "text": text, "parse_mode": "HTML"}).encode()
    try:
        with urllib.request.urlopen(f"{fake.base_url}{TOKEN}/sendMessage", body, timeout=10) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as exc:
        return json.load(exc)


def visible_words(html_text: str) -> str:
    return "".join(check_html(html_text)[1].split())


def assert_deliverable(fake: FakeTelegram, units: list[str]) -> list[str]:
    messages = split_message(units)
    assert messages
    for message in messages:
        assert utf16_length(message) <= MAX_MESSAGE
        assert check_html(message)[0] is None, message
        answer = send(fake, message)
        assert answer["ok"], answer["description"]
    # nothing lost: the same visible text, apart from where lines were broken
    assert "".join(map(visible_words, messages)) == visible_words("\n\n".join(units))
    return messages


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                               HealthCheck.function_scoped_fixture])
@given(stories=st.lists(STORY, min_size=1, max_size=4), weather=TEXT, lead=TEXT)
def test_any_feed_text_renders_to_messages_telegram_accepts(api, stories, weather, lead):
    digest = Digest(language="en", weather={"text": weather or "sunny"}, stories=stories)
    assert_deliverable(api, render_digest(digest))
    assert_deliverable(api, render_stories(stories, "zh-Hant", heading=lead or None))


@hypothesis_settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=TEXT, summary=TEXT, name=TEXT)
def test_titles_and_names_are_one_line_and_summaries_have_no_blank_lines(title, summary, name):
    story = StoryItem(title=title, summary=summary, published=None, sources=[{"name": name, "url": "http://e.example/"}])
    assert "\n\n" not in render_story(1, story)
    for line in (story.title, story.sources[0]["name"]):
        assert line == " ".join(line.split())
    assert story.summary == story.summary.strip() and "\n\n" not in story.summary
    assert not re.search(r"[\x00-\x08\ud800-\udfff]", story.title + story.summary + story.sources[0]["name"])


def test_a_blank_line_in_a_title_no_longer_splits_its_tag(api):
    story = StoryItem(title="A\n\nB", summary="one\n\n\ntwo  three", published=None,
                      sources=[{"name": "Daily\n\nNews", "url": "http://e.example/1"}])
    assert render_story(1, story) == '1. <b>A B</b>\none\ntwo three\n<a href="http://e.example/1">Daily News</a>'
    # and a unit that does hold a blank line inside a tag is never cut there
    unit = "<b>" + "word\n\n" * 1500 + "</b>"
    assert all(check_html(message)[0] is None for message in assert_deliverable(api, [unit]))


def test_length_is_counted_in_utf16_units_as_telegram_counts_it(api):
    emoji = "😀" * 3000  # 3000 characters, 6000 UTF-16 code units: too long for one message
    messages = assert_deliverable(api, [emoji])
    assert len(messages) == 2 and all(utf16_length(m) <= MAX_MESSAGE for m in messages)
    assert send(api, emoji)["description"] == "Bad Request: message is too long"


def test_messages_are_cut_between_units_only(api):
    units = [f"{n}. <b>{'標題' * 300}</b>\n{'內容' * 400}" for n in range(6)]
    messages = assert_deliverable(api, units)
    assert len(messages) > 1 and all(m in units or "\n\n" in m for m in messages)
    assert "\n\n".join(messages) == "\n\n".join(units)


def test_the_fake_refuses_unclosed_and_mismatched_tags(api):
    for broken in ("<b>A", "<b>A<i>B</b></i>", "A</b>"):
        assert send(api, broken)["description"].startswith("Bad Request: can't parse entities")


async def test_a_title_with_a_blank_line_reaches_every_subscriber(bot, fake_telegram, db):
    """The whole path: a stored story with a blank line in its title and a very long summary."""
    _, services, _ = bot
    with db.session() as session:
        source = Source(name="Feed\n\nWire", kind="rss", url="http://e.example/feed")
        story = Story(first_seen_at=DAY, updated_at=DAY)
        article = Article(source=source, story=story, url="http://e.example/1", canonical_url="http://e.example/1",
                          content_hash="h", title="Flood\n\nwarning <b>issued", language="zh-Hant", text="正文",
                          published_at=DAY, fetched_at=DAY)
        session.add(Summary(article=article, profile="p", model="m", language="zh-Hant",
                            text="第一段。\n\n\n" + "長" * 5000 + "😀" * 500))
    seen_before(db, DUE - timedelta(minutes=1))
    add_subscribers(db, range(640, 643))
    assert await services.pusher.tick(DUE) == 3
    assert fake_telegram.rejected == []
    for chat in range(640, 643):
        messages = fake_telegram.messages_to(chat)
        assert len(messages) > 1 and "Flood warning <b>issued" in "".join(m["text"] for m in messages)
