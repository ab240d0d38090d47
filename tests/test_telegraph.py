"""The whole story inside Telegram: Telegraph pages made against a loopback fake of the Telegraph
API that validates the Node format, kept per article and script, the account made once; the
"Full text" button and news pictures end to end with the real Application and the fake Bot API."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from bot.digest import StoryItem, story_items
from bot.storage import Article, BotState, Source, Story, Subscriber, Summary
from bot.storage.models import TelegraphPage
from bot.telegram.delivery import caption_fits
from bot.telegram.full_text import MAX_MESSAGES, chat_units
from bot.telegram.push import StoryEdition
from bot.telegram.render import utf16_length
from bot.telegraph import CONTENT_BYTES, TOKEN_KEY, FullText, FullTexts, page_content
from summarizer import Summarizer
from summarizer.text import search_form
from tests.fakes.telegram import FakeTelegram, check_html
from tests.fakes.telegraph import MAX_CONTENT_BYTES, FakeTelegraph, page_text, validate_nodes
from tests.support.bot import Clock, start_application, stop

TOKEN = "123456:TEST-token-never-logged"
NOW = datetime(2026, 12, 6, 1, 0, tzinfo=timezone.utc)
PARAGRAPHS = ["梁平区今年新建高标准农田三万亩，项目覆盖全区二十个乡镇。", "区农业农村委表示，工程预计年底全部完工。"]


@pytest.fixture
def telegraph():
    fake = FakeTelegraph()
    yield fake
    fake.close()


def add_story(db, title: str = "梁平新建高标准农田", paragraphs: list[str] = PARAGRAPHS, language: str = "zh-Hans",
              image: str | None = "https://img.example.cn/field.jpg", first_seen: datetime = NOW) -> int:
    with db.session() as session:
        source = session.scalar(select(Source).where(Source.name == "梁平日报")) or Source(name="梁平日报", kind="rss", url="x")
        story = Story(first_seen_at=first_seen, updated_at=first_seen)
        text = "\n".join(paragraphs)
        session.add(Article(source=source, story=story, url=f"https://news.example.cn/{title}.html",
                            canonical_url=f"https://news.example.cn/{title}.html", content_hash=title, title=title,
                            language=language, text=text, image=image, search_text=search_form(f"{title}\n{text}"),
                            fetched_at=first_seen, summaries=[Summary(profile="p", model="m", language=language,
                                                                      text=paragraphs[0])]))
        session.flush()
        return story.id


def settings_for(make_settings, telegraph: FakeTelegraph, extra: str = ""):
    return make_settings(f'[telegraph]\napi_base_url = "{telegraph.base_url}"\nmax_retries = 1\ntimeout_seconds = 5\n{extra}')


# -- the Node format -------------------------------------------------------------------------


def full_text(paragraphs: list[str], image: str | None = "https://img.example.cn/a.jpg", language: str = "en") -> FullText:
    return FullText(1, language, "Title", paragraphs, "Daily", "https://news.example.cn/a.html", image)


def test_a_page_is_the_image_the_paragraphs_and_the_source_link():
    content = page_content(full_text(["First paragraph.", "Second <b>one</b> & more."]))
    validate_nodes(content)
    assert content[0] == {"tag": "figure", "children": [{"tag": "img", "attrs": {"src": "https://img.example.cn/a.jpg"}}]}
    assert page_text(content)[1:] == ["First paragraph.", "Second <b>one</b> & more.", "Source: Daily"]
    assert content[-1]["children"][1] == {"tag": "a", "attrs": {"href": "https://news.example.cn/a.html"}, "children": ["Daily"]}


def test_a_long_text_is_cut_at_a_paragraph_end_below_telegraphs_limit():
    paragraphs = [f"{n}：" + "梁平区新建高标准农田三万亩。" * 40 for n in range(300)]  # about 600 KB
    content = page_content(full_text(paragraphs, image=None, language="zh-Hans"))
    size = len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())
    assert CONTENT_BYTES - 2000 < size <= CONTENT_BYTES < MAX_CONTENT_BYTES
    texts = page_text(content)
    assert texts[:-2] == paragraphs[: len(texts) - 2]  # whole paragraphs, in order
    assert texts[-2:] == ["（文章较长，这里只有前面部分，全文请看来源网页。）", "来源: Daily"]


PARAGRAPH = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=3000)


@hypothesis_settings(max_examples=60, deadline=None)
@given(paragraphs=st.lists(PARAGRAPH, max_size=60), image=st.none() | st.just("https://img.example.cn/a.jpg"))
def test_any_text_makes_valid_content_within_the_limit_and_keeps_whole_paragraphs(paragraphs, image):
    content = page_content(full_text(paragraphs, image))
    validate_nodes(content)
    assert len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()) <= CONTENT_BYTES
    kept = [node["children"][0] for node in content[1 if image else 0 : -1] if node["children"] and isinstance(node["children"][0], str)]
    assert kept == paragraphs[: len(kept)]


@hypothesis_settings(max_examples=40, deadline=None)
@given(paragraphs=st.lists(PARAGRAPH, min_size=1, max_size=80))
def test_the_text_in_the_chat_keeps_to_telegrams_limits(paragraphs):
    messages = chat_units(full_text(paragraphs), "en")
    assert len(messages) <= MAX_MESSAGES
    assert all(utf16_length(check_html(m)[1]) <= 4096 and check_html(m)[0] is None for m in messages)
    assert check_html(messages[-1])[1].endswith("Source: Daily")


def test_news_posts_keep_the_order_and_put_what_does_not_fit_a_caption_in_text():
    long = StoryItem("Flood", "Water rose in the old town. " * 60, None, [{"name": "Daily", "url": "https://x.cn/1"}],
                     story_id=1, image="https://img.example.cn/1.jpg")
    plain = StoryItem("Road", "A new road opened.", None, [{"name": "Daily", "url": "https://x.cn/2"}], story_id=2)
    short = StoryItem("Bridge", "A bridge opened.", None, [{"name": "Daily", "url": "https://x.cn/3"}], story_id=3,
                      image="https://img.example.cn/3.jpg", fallback=True)
    edition = StoryEdition.build([long, plain, short], "en", "🆕 New stories")
    heading, first, second, third = edition.posts
    assert heading.units == ["<b>🆕 New stories</b>"] and heading.photo is None  # not after the picture it opens
    assert first.photo.image == "https://img.example.cn/1.jpg" and not caption_fits(first.photo.caption)
    assert second.photo is None and second.units[0].startswith("2. <b>Road</b>")
    assert third.photo.caption.startswith("3. <b>Bridge</b>") and third.photo.caption.endswith("</i>")  # the note
    assert [[b.callback_data for row in p.keyboard.inline_keyboard for b in row] for p in edition.posts[1:]] == [
        ["full:1"], ["full:2"], ["full:3"]]
    assert edition.message.photo is None and len(edition.message.units) == 5


# -- pages against the fake Telegraph ----------------------------------------------------------


async def test_a_page_is_made_once_then_reused_and_the_account_is_made_once(db, make_settings, telegraph):
    story_id = add_story(db)
    settings = settings_for(make_settings, telegraph)
    first = await FullTexts(settings, db).get(story_id, "zh-Hans")
    assert first.url == f"{telegraph.base_url}/page-1"
    [page] = telegraph.pages.values()
    assert page["title"] == "梁平新建高标准农田" and page["author_name"] == "梁平日报"
    assert page["author_url"] == "https://news.example.cn/梁平新建高标准农田.html"
    assert page_text(page["content"])[1:3] == PARAGRAPHS
    assert page["content"][0]["children"][0]["attrs"]["src"] == "https://img.example.cn/field.jpg"

    again = await FullTexts(settings, db).get(story_id, "zh-Hans")  # another process, or after a restart
    assert again.url == first.url
    other = await FullTexts(settings, db).get(add_story(db, "梁平新建公路"), "zh-Hans")
    assert other.url == f"{telegraph.base_url}/page-2"
    assert [method for method, _ in telegraph.calls] == ["createAccount", "createPage", "createPage"]
    with db.session() as session:
        assert session.get(BotState, TOKEN_KEY).value == "token-1"


async def test_many_taps_at_once_make_one_page(db, make_settings, telegraph):
    story_id = add_story(db)
    texts = FullTexts(settings_for(make_settings, telegraph), db)
    telegraph.delay = 0.2
    results = await asyncio.gather(*(texts.get(story_id, "zh-Hans") for _ in range(5)))
    assert {r.url for r in results} == {f"{telegraph.base_url}/page-1"}
    assert len(telegraph.pages) == 1 and [m for m, _ in telegraph.calls].count("createAccount") == 1


async def test_each_script_gets_its_page_and_other_readers_the_original(db, make_settings, telegraph):
    story_id = add_story(db)
    texts = FullTexts(settings_for(make_settings, telegraph), db)
    hant = await texts.get(story_id, "zh-Hant")
    assert hant.language == "zh-Hant" and hant.title == "梁平新建高標準農田"
    assert page_text(telegraph.pages["page-1"]["content"])[1] == "梁平區今年新建高標準農田三萬畝，項目覆蓋全區二十個鄉鎮。"
    english = await texts.get(story_id, "en")
    assert english.language == "zh-Hans" and english.url == f"{telegraph.base_url}/page-2"
    assert (await texts.get(story_id, "zh-Hans")).url == english.url  # the original's page, shared
    with db.session() as session:
        assert sorted(session.scalars(select(TelegraphPage.language))) == ["zh-Hans", "zh-Hant"]


async def test_the_digest_json_shows_the_image_and_the_page_once_made(db, make_settings, telegraph):
    story_id = add_story(db)
    [before] = story_items(db, "zh-Hant", 5, timezone.utc, now=NOW)
    assert before.to_dict()["image"] == "https://img.example.cn/field.jpg" and before.to_dict()["full_text_url"] is None
    made = await FullTexts(settings_for(make_settings, telegraph), db).get(story_id, "zh-Hant")
    [after] = story_items(db, "zh-Hant", 5, timezone.utc, now=NOW)
    assert after.to_dict()["full_text_url"] == made.url
    [english] = story_items(db, "en", 5, timezone.utc, now=NOW)
    assert english.full_text_url is None  # the page is Traditional; English readers get the original's


async def test_a_token_telegraph_forgot_is_replaced_once(db, make_settings, telegraph):
    settings = settings_for(make_settings, telegraph)
    await FullTexts(settings, db).get(add_story(db), "zh-Hans")
    telegraph.revoke()
    made = await FullTexts(settings, db).get(add_story(db, "梁平新建公路"), "zh-Hans")
    assert made.url == f"{telegraph.base_url}/page-2" and telegraph.pages["page-2"]["token"] == "token-2"
    with db.session() as session:
        assert session.get(BotState, TOKEN_KEY).value == "token-2"


async def test_a_short_flood_wait_is_waited_out(db, make_settings, telegraph):
    telegraph.flood = 1
    made = await FullTexts(settings_for(make_settings, telegraph), db).get(add_story(db), "zh-Hans")
    assert made.url is not None and ("createAccount", "FLOOD_WAIT_1") in telegraph.rejected


@pytest.mark.parametrize("outage", ["drop", "502"])
async def test_telegraph_down_gives_the_text_after_the_retries_and_is_left_alone_a_while(db, make_settings, telegraph, outage, caplog):
    telegraph.down = outage
    texts = FullTexts(settings_for(make_settings, telegraph), db)
    made = await texts.get(add_story(db), "zh-Hans")
    assert made.url is None and made.paragraphs == PARAGRAPHS
    assert telegraph.requests == 2  # createAccount, tried once more
    assert "Telegraph is unavailable" in caplog.text
    telegraph.down = False
    assert (await texts.get(add_story(db, "梁平新建公路"), "zh-Hans")).url is None  # the next taps get the text at once
    assert telegraph.requests == 2
    with db.session() as session:
        assert session.scalars(select(TelegraphPage)).all() == []


async def test_a_hanging_telegraph_is_given_up_after_its_deadline(db, make_settings, telegraph):
    telegraph.delay = 3
    settings = make_settings(f'[telegraph]\napi_base_url = "{telegraph.base_url}"\nmax_retries = 0\ntimeout_seconds = 0.5\n')
    made = await asyncio.wait_for(FullTexts(settings, db).get(add_story(db), "zh-Hans"), 2.5)
    assert made.url is None


async def test_switched_off_telegraph_is_never_called(db, make_settings, telegraph):
    made = await FullTexts(settings_for(make_settings, telegraph, "enabled = false\n"), db).get(add_story(db), "zh-Hans")
    assert made.url is None and telegraph.calls == []


async def test_a_story_without_text_has_no_full_text(db, make_settings, telegraph):
    assert await FullTexts(settings_for(make_settings, telegraph), db).get(999, "zh-Hans") is None


# -- end to end: the real Application, the fake Bot API, the fake Telegraph ---------------------


@pytest.fixture
async def bot(db, make_settings, telegraph):
    fake = FakeTelegram(TOKEN)
    clock = Clock(NOW)
    settings = make_settings(
        f'[telegram]\ntoken = "{TOKEN}"\napi_base_url = "{fake.base_url}"\n[weather]\nprovider = "none"\n'
        f'[telegraph]\napi_base_url = "{telegraph.base_url}"\nmax_retries = 0\ntimeout_seconds = 5\n'
        '[[sources]]\nname = "梁平日报"\nkind = "rss"\nurl = "x"\n'
    )
    application = await start_application(settings, db, Summarizer(), clock)
    yield fake, application.bot_data["services"], clock
    await stop(application)
    fake.close()


def instant_chat(db, chat_id: int, chat_type: str = "private", photos: bool | None = None) -> None:
    with db.session() as session:
        session.add(Subscriber(chat_id=chat_id, chat_type=chat_type, language="zh-Hans", push_time="07:30",
                               timezone="Asia/Shanghai", news_mode="instant", active=True, photos=photos,
                               last_news_at=NOW - timedelta(hours=2), next_push_at=NOW + timedelta(hours=20)))


async def tap(fake: FakeTelegram, chat_id: int, data: str, count: int) -> list[dict]:
    message = {"message_id": 1, "text": "news"}
    fake.user_taps(chat_id, data, message, language_code="zh-hans")
    return await fake.wait_for_messages(chat_id, count)


async def test_full_text_button_answers_with_the_telegraph_page_in_instant_view(bot, db, telegraph):
    fake, _, _ = bot
    story_id = add_story(db)
    fake.user_says(500, "/latest", language_code="zh-hans")
    [latest] = await fake.wait_for_messages(500, 1)
    assert latest["reply_markup"]["inline_keyboard"] == [[{"text": "📄 全文", "callback_data": f"full:{story_id}"}]]

    [_, page] = await tap(fake, 500, f"full:{story_id}", 2)
    assert page["text"] == "📄 全文：梁平新建高标准农田"
    assert f'<a href="{telegraph.base_url}/page-1">' in page["html"]
    [send] = [params for method, params in fake.calls if method == "sendMessage" and "page-1" in params["text"]]
    assert send["link_preview_options"] == {"is_disabled": False}  # the preview carries Instant View
    assert any(method == "answerCallbackQuery" for method, _ in fake.calls)

    await tap(fake, 500, f"full:{story_id}", 3)
    assert len(telegraph.pages) == 1


PARAGRAPH = "梁平区今年新建高标准农田三万亩，项目覆盖全区二十个乡镇。" * 12


async def tap_with_telegraph_down(bot, db, telegraph, chat: int, paragraphs: list[str]) -> list[dict]:
    """A tap on "Full text" of a story of ``paragraphs`` while Telegraph fails: the chat's messages."""
    fake, _, _ = bot
    telegraph.down = "502"
    story_id = add_story(db, paragraphs=paragraphs)
    fake.user_taps(chat, f"full:{story_id}", {"message_id": 1, "text": "news"}, language_code="zh-hans")
    await fake.wait_for(lambda sent: any(m["text"].endswith("来源: 梁平日报") for m in sent))
    return fake.messages_to(chat)


async def test_without_telegraph_the_text_comes_into_the_chat_split_at_paragraph_ends(bot, db, telegraph):
    paragraphs = [f"第{n}段。" + PARAGRAPH for n in range(30)]
    messages = await tap_with_telegraph_down(bot, db, telegraph, 600, paragraphs)
    assert 2 <= len(messages) <= MAX_MESSAGES
    assert messages[0]["text"].startswith("梁平新建高标准农田\n\n第0段。")
    shown = [p for m in messages for p in m["text"].split("\n\n")]
    assert shown[1:-1] == paragraphs[: len(shown) - 2]  # whole paragraphs, none cut between messages
    assert shown[-1] == "来源: 梁平日报" and 'href="https://news.example.cn/' in messages[-1]["html"]


async def test_a_very_long_text_in_the_chat_stops_with_a_note_and_the_source(bot, db, telegraph):
    messages = await tap_with_telegraph_down(bot, db, telegraph, 601, [f"第{n}段。" + PARAGRAPH for n in range(200)])
    assert MAX_MESSAGES - 1 <= len(messages) <= MAX_MESSAGES
    assert messages[-1]["text"].endswith("（文章较长，这里只有前面部分，全文请看来源网页。）\n\n来源: 梁平日报")


async def test_a_gone_story_and_forged_button_data_are_answered_without_a_traceback(bot, db):
    fake, _, _ = bot
    [gone] = await tap(fake, 700, "full:424242", 1)
    assert gone["text"] == "这条新闻已经不在了，请发送 /latest 查看最新新闻。"
    fake.user_taps(700, "full:12abc", {"message_id": 1, "text": "x"}, language_code="zh-hans")
    await fake.wait_for(lambda _: sum(m == "answerCallbackQuery" for m, _p in fake.calls) >= 2)
    answer = [p for m, p in fake.calls if m == "answerCallbackQuery"][-1]
    assert answer["text"] == "这个按钮已失效，请重新发送命令。"
    assert len(fake.messages_to(700)) == 1


async def test_instant_news_goes_as_a_photo_with_the_story_as_caption(bot, db):
    fake, services, _ = bot
    story_id = add_story(db)
    instant_chat(db, 800)
    assert await services.pusher.tick(NOW) == 1
    [post] = fake.messages_to(800)
    assert post["photo"] == "https://img.example.cn/field.jpg"
    assert post["text"].startswith("🆕 新消息\n\n1. 梁平新建高标准农田\n" + PARAGRAPHS[0])
    assert post["reply_markup"]["inline_keyboard"] == [[{"text": "📄 全文", "callback_data": f"full:{story_id}"}]]


async def test_a_picture_telegram_refuses_leaves_the_same_story_as_text(bot, db):
    fake, services, _ = bot
    add_story(db)
    fake.refused_urls.add("https://img.example.cn/field.jpg")
    instant_chat(db, 801)
    assert await services.pusher.tick(NOW) == 1
    [post] = fake.messages_to(801)
    assert "photo" not in post and "梁平新建高标准农田" in post["text"] and PARAGRAPHS[0] in post["text"]
    assert post["reply_markup"]["inline_keyboard"][0][0]["text"] == "📄 全文"
    assert fake.rejected[-1][2] == "Bad Request: wrong file identifier/HTTP URL specified"
    with db.session() as session:
        assert session.scalars(select(Subscriber.active).where(Subscriber.chat_id == 801)).one()


async def test_groups_get_text_unless_they_turn_pictures_on_and_stories_without_one_stay_text(bot, db):
    fake, services, _ = bot
    add_story(db, image=None, title="梁平新建公路")
    add_story(db, first_seen=NOW + timedelta(minutes=1))
    instant_chat(db, -900, chat_type="group")
    instant_chat(db, -901, chat_type="group", photos=True)
    assert await services.pusher.tick(NOW + timedelta(minutes=2)) == 2
    [text] = fake.messages_to(-900)
    assert "photo" not in text and "1. 梁平新建高标准农田" in text["text"] and "2. 梁平新建公路" in text["text"]
    assert [b["text"] for b in text["reply_markup"]["inline_keyboard"][0]] == ["📄 1", "📄 2"]
    photo, rest = fake.messages_to(-901)
    assert photo["photo"] == "https://img.example.cn/field.jpg" and photo["text"].startswith("🆕")
    assert "photo" not in rest and rest["text"].startswith("2. 梁平新建公路")


async def test_the_settings_button_turns_pictures_off(bot, db):
    fake, services, _ = bot
    fake.user_says(1000, "/settings", language_code="zh-hans")
    [view] = await fake.wait_for_messages(1000, 1)
    assert "新闻配图：开" in view["text"]
    assert {"text": "🖼 不要配图", "callback_data": "photos:off"} in [b for row in view["reply_markup"]["inline_keyboard"] for b in row]
    fake.user_taps(1000, "photos:off", view, language_code="zh-hans")
    edited = await fake.wait_for_edit()
    assert "新闻配图：关" in edited["text"]
    with db.session() as session:
        assert session.scalars(select(Subscriber.photos).where(Subscriber.chat_id == 1000)).one() is False
    with db.session() as session:
        session.execute(update(Subscriber).where(Subscriber.chat_id == 1000).values(
            news_mode="instant", active=True, last_news_at=NOW - timedelta(hours=2), next_push_at=NOW + timedelta(hours=20)))
    add_story(db)
    assert await services.pusher.tick(NOW) == 1
    assert "photo" not in fake.messages_to(1000)[-1]


async def test_a_follow_alert_comes_with_its_picture_and_button(bot, db):
    fake, services, _ = bot
    fake.user_says(1100, "/follow 农田", language_code="zh-hans")
    await fake.wait_for_messages(1100, 1)
    story_id = add_story(db)
    assert await services.pusher.tick(NOW) == 1
    alert = fake.messages_to(1100)[-1]
    assert alert["photo"] == "https://img.example.cn/field.jpg"
    assert alert["text"].startswith("🔔 关于“农田”的新消息\n\n1. 梁平新建高标准农田")
    assert alert["reply_markup"]["inline_keyboard"] == [[{"text": "📄 全文", "callback_data": f"full:{story_id}"}]]


async def test_the_daily_digest_stays_text_with_a_numbered_button_per_story_and_calls_no_telegraph(bot, db, telegraph):
    fake, services, _ = bot
    first = add_story(db, first_seen=NOW - timedelta(hours=3))
    second = add_story(db, title="梁平新建公路", first_seen=NOW - timedelta(hours=2))
    fake.user_says(1200, "/subscribe 09:05", language_code="zh-hans")
    await fake.wait_for_messages(1200, 1)
    assert await services.pusher.tick(NOW + timedelta(minutes=5)) == 1  # 09:05 in Shanghai
    digest = fake.messages_to(1200)[-1]
    assert "photo" not in digest and "梁平新建公路" in digest["text"]
    buttons = [b for row in digest["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == [{"text": "📄 1", "callback_data": f"full:{second}"}, {"text": "📄 2", "callback_data": f"full:{first}"}]
    assert telegraph.requests == 0  # pages are made when a reader asks, never while a digest goes out


async def test_a_tap_in_a_group_opens_the_readers_own_chat_which_gets_the_story(bot, db, telegraph):
    fake, _, _ = bot
    story_id = add_story(db)
    fake.user_taps(-1300, f"full:{story_id}", {"message_id": 1, "text": "news"}, user_id=1301,
                   language_code="zh-hans", chat_type="supergroup")
    await fake.wait_for(lambda _: any(m == "answerCallbackQuery" for m, _p in fake.calls))
    [answer] = [p for m, p in fake.calls if m == "answerCallbackQuery"]
    assert answer["url"] == f"https://t.me/newsbot_test_bot?start=full-{story_id}"
    assert fake.messages_to(-1300) == [] and telegraph.requests == 0  # nothing posted to the group

    fake.user_says(1301, f"/start full-{story_id}", language_code="zh-hans")  # the link opens the private chat
    [page] = await fake.wait_for_messages(1301, 1)
    assert page["text"] == "📄 全文：梁平新建高标准农田" and f"{telegraph.base_url}/page-1" in page["html"]
    fake.user_says(1301, "/start full-x", language_code="zh-hans")  # not a story: the welcome
    assert (await fake.wait_for_messages(1301, 2))[-1]["text"].startswith("👋 欢迎！")


async def test_a_group_that_may_not_post_photos_gets_the_story_as_text_and_stays_subscribed(bot, db):
    fake, services, _ = bot
    add_story(db)
    fake.refuse_photos = "Bad Request: not enough rights to send photos to the chat"
    instant_chat(db, -1400, chat_type="supergroup", photos=True)
    assert await services.pusher.tick(NOW) == 1
    [post] = fake.messages_to(-1400)
    assert "photo" not in post and post["text"].startswith("🆕 新消息\n\n1. 梁平新建高标准农田")
    with db.session() as session:
        row = session.scalars(select(Subscriber).where(Subscriber.chat_id == -1400)).one()
        assert row.active and row.inactive_reason is None
