"""Readers' own choices: keyword follows, search, weather alerts and the region."""

from __future__ import annotations

import asyncio
import html
import math

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.config import RegionSettings
from bot.matching import MAX_KEYWORD_CHARS, parse_keywords
from bot.storage import Subscriber
from bot.telegram.chat import (
    Rate,
    Services,
    change_settings,
    check_may_change,
    current_subscriber,
    edit,
    reply,
    update_message,
    within_rate,
)
from bot.telegram.render import full_text_keyboard, render_stories
from bot.texts import name_for_reader, t
from summarizer.text import search_form

EARTH_RADIUS_KM = 6371.0
MAX_WORDS = 20  # keywords one /follow or /unfollow takes: its answer stays one message
SEARCH_MAX_WORDS = 5  # each word is one LIKE over the search window
SEARCH_RATE = Rate(burst=3, seconds=10.0)  # per chat


def _words(context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    return parse_keywords(" ".join(context.args or []))


def _joined(words: list[str], language: str) -> str:
    return ("、" if language != "en" else ", ").join(words)


async def follow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/follow <words>``: a message whenever a new story mentions one of them."""
    svc, _, sub = await current_subscriber(update, context)
    quiet = svc.settings.digest.quiet_hours
    words = _words(context)
    if not words:
        await reply(update, context, t("follow_usage", sub.language, quiet=quiet))
        return
    if len(words) > MAX_WORDS:  # one short answer, not a line (and a message) per word
        await reply(update, context, t("follow_too_many", sub.language, count=len(words), max=MAX_WORDS))
        return
    await check_may_change(update, context, sub)  # in groups, only admins choose what the group follows
    added, refused = await asyncio.to_thread(svc.follows.add, sub.id, words, svc.now())
    lines = [t("follow_added", sub.language, words=_joined(added, sub.language), quiet=quiet)] if added else []
    for word, problem in refused.items():
        limit = svc.settings.follows.max_per_chat if problem == "limit" else MAX_KEYWORD_CHARS
        lines.append(t(f"follow_{problem}", sub.language, word=word, max=limit))
    await reply(update, context, "\n".join(lines))


async def unfollow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/unfollow <words>``."""
    svc, _, sub = await current_subscriber(update, context)
    words = _words(context)
    if not words:
        await reply(update, context, t("unfollow_usage", sub.language))
        return
    if len(words) > MAX_WORDS:
        await reply(update, context, t("follow_too_many", sub.language, count=len(words), max=MAX_WORDS))
        return
    await check_may_change(update, context, sub)
    removed = await asyncio.to_thread(svc.follows.remove, sub.id, words)
    key, shown = ("unfollowed", removed) if removed else ("unfollow_none", words)
    await reply(update, context, t(key, sub.language, words=_joined(shown, sub.language)))


async def follows(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/follows``: the chat's keywords, each a button that removes it."""
    svc, _, sub = await current_subscriber(update, context)
    text, keyboard = await asyncio.to_thread(_follows_view, svc, sub.id, sub.language)
    await reply(update, context, text, keyboard)


def _follows_view(svc: Services, subscriber_id: int, language: str) -> tuple[str, InlineKeyboardMarkup | None]:
    rows = svc.follows.list(subscriber_id)
    if not rows:
        return t("follows_empty", language), None
    buttons = [[InlineKeyboardButton(f"✖ {row.keyword}", callback_data=f"unfollow:{row.id}")] for row in rows]
    return t("follows_list", language), InlineKeyboardMarkup(buttons)


async def unfollow_button(update: Update, context: ContextTypes.DEFAULT_TYPE, follow_id: int) -> None:
    """A tap on a keyword in /follows: remove it and show the shorter list."""
    svc, _, sub = await current_subscriber(update, context)
    await check_may_change(update, context, sub)
    await asyncio.to_thread(svc.follows.remove_id, sub.id, follow_id)
    text, keyboard = await asyncio.to_thread(_follows_view, svc, sub.id, sub.language)
    await edit(update, html.escape(text), keyboard)


async def search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/search <words>``: recent stories that mention every word, newest first."""
    svc, _, sub = await current_subscriber(update, context)
    words = [w for w in _words(context) if search_form(w)]
    if not words:
        await reply(update, context, t("search_usage", sub.language))
        return
    if len(words) > SEARCH_MAX_WORDS:
        await reply(update, context, t("search_too_many", sub.language, max=SEARCH_MAX_WORDS))
        return
    if not await within_rate(update, context, "search", SEARCH_RATE, sub.language):
        return
    days = svc.settings.search.window_days
    shown = " ".join(words)
    stories = await asyncio.to_thread(svc.stories.search, sub.language, words, svc.now(), sub.region)
    if not stories:
        await reply(update, context, t("search_none", sub.language, days=days, words=shown))
        return
    heading = t("search_heading", sub.language, days=days, words=shown)
    keyboard = full_text_keyboard(stories, sub.language)
    await reply(update, context, render_stories(stories, sub.language, heading=heading), keyboard, escape=False)


async def alerts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/alerts on|off``."""
    svc, _, sub = await current_subscriber(update, context)
    wanted = (
        {"on": True, "off": False, "开": True, "開": True, "关": False, "關": False}.get((context.args or [""])[0].lower())
        if len(context.args or []) == 1
        else None
    )
    if wanted is None:
        await reply(update, context, t("alerts_usage", sub.language, state=t("on" if sub.alerts else "off", sub.language)))
        return
    svc, _, sub = await change_settings(update, context, alerts=wanted)
    await reply(update, context, t("alerts_on" if wanted else "alerts_off", sub.language, quiet=svc.settings.digest.quiet_hours))


async def region(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/region [name]``: choose by name, or from a keyboard of every region."""
    svc, _, sub = await current_subscriber(update, context)
    regions = svc.settings.all_regions()
    if len(regions) == 1:
        await reply(update, context, _only_region(regions[0], sub.language))
        return
    if not context.args:
        await reply(update, context, *_region_choice(svc, sub))
        return
    chosen = _find_region(regions, " ".join(context.args))
    if chosen is None:
        names = _joined([name_for_reader(r.name, sub.language) for r in regions], sub.language)
        await reply(update, context, t("region_unknown", sub.language, name=" ".join(context.args), names=names))
        return
    _, _, sub = await change_settings(update, context, region=chosen.name)
    await reply(update, context, t("region_set", sub.language, region=name_for_reader(chosen.name, sub.language)))


def _only_region(region: RegionSettings, language: str) -> str:
    return t("region_only", language, region=name_for_reader(region.name, language))


def _region_choice(svc: Services, sub: Subscriber) -> tuple[str, InlineKeyboardMarkup]:
    """The chat's region and a keyboard of every region to choose from."""
    current = name_for_reader(svc.settings.region_for(sub.region).name, sub.language)
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(name_for_reader(r.name, sub.language), callback_data=f"region:{i}")]
            for i, r in enumerate(svc.settings.all_regions())
        ]
    )
    return t("region_choose", sub.language, region=current), keyboard


def _find_region(regions: list[RegionSettings], name: str) -> RegionSettings | None:
    """The region called ``name`` in any script or case; else the only one whose name starts so."""
    wanted = search_form(name)
    exact = [r for r in regions if search_form(r.name) == wanted]
    prefixed = [r for r in regions if wanted and search_form(r.name).startswith(wanted)]
    if len(exact) == 1:
        return exact[0]
    return prefixed[0] if not exact and len(prefixed) == 1 else None


async def region_button(update: Update, context: ContextTypes.DEFAULT_TYPE, value: str) -> None:
    """A tap on the region keyboard (or on the settings' region button, which opens it);
    ``value`` is "choose" or a region's index (one no longer configured opens the keyboard)."""
    svc, _, sub = await current_subscriber(update, context)
    regions = svc.settings.all_regions()
    if value == "choose" or int(value) >= len(regions):
        text, keyboard = _region_choice(svc, sub)
        await edit(update, html.escape(text), keyboard)
        return
    chosen = regions[int(value)]
    _, _, sub = await change_settings(update, context, region=chosen.name)
    await edit(update, html.escape(t("region_set", sub.language, region=name_for_reader(chosen.name, sub.language))), None)


async def location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location picks the nearest region."""
    svc, _, sub = await current_subscriber(update, context)
    regions = svc.settings.all_regions()
    where = update_message(update).location
    assert where is not None  # the handler's filter: messages with a location
    if len(regions) == 1:
        await reply(update, context, _only_region(regions[0], sub.language))
        return
    distance, nearest = min(
        (_distance_km(where.latitude, where.longitude, r.latitude, r.longitude), i) for i, r in enumerate(regions)
    )
    chosen = regions[nearest]
    _, _, sub = await change_settings(update, context, region=chosen.name)
    await reply(
        update, context, t("region_nearest", sub.language, region=name_for_reader(chosen.name, sub.language), km=round(distance))
    )


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))
