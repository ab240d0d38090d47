"""Chat commands, the settings keyboard and the error handler.

Every reply goes through :class:`bot.telegram.delivery.Deliverer`; database work runs in
worker threads; ingestion and weather are the same services the CLI uses.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import ContextTypes

from bot import gate_report
from bot.config import parse_hhmm, to_ascii_digits
from bot.ingest.catalog import ACTIVE, REMOVED
from bot.storage import Subscriber
from bot.telegram import reader
from bot.telegram.chat import (
    NotAllowed,
    Rate,
    Services,
    button_query,
    change_settings,
    chat_data,
    check_may_change,
    current_subscriber,
    edit,
    reader_language,
    reply,
    services,
    update_chat,
    update_message,
    within_rate,
)
from bot.telegram.delivery import Photo
from bot.telegram.full_text import START_PAYLOAD, full_text_button, send_full_text
from bot.telegram.push import wants_photos
from bot.telegram.render import full_text_keyboard, render_stories, render_weather
from bot.texts import LANGUAGE_NAMES, LANGUAGES, name_for_reader, t
from bot.weather_chart import chart_wanted

log = logging.getLogger(__name__)

TIME_PRESETS = ("06:30", "07:00", "07:30", "08:00", "12:00", "18:00", "21:00")
AWAITING_TIME = "awaiting_time"  # chat_data: the users of the chat who tapped "Type a time"
LATEST_MAX = 20
WEATHER_RATE = Rate(burst=3, seconds=10.0)  # per chat: /weather spam while the provider is down

# Every button the bot sends, as action -> the values it may carry; anything else is forged or
# from an older version, and is answered without being acted on.
CALLBACK_PATTERNS: dict[str, re.Pattern[str]] = {
    action: re.compile(values)
    for action, values in {
        "start": "subscribe",
        "time": "|".join((*TIME_PRESETS, "type")),
        "lang": "|".join(map(re.escape, LANGUAGES)),
        "mode": "daily|instant",
        "sub": "on|off",
        "alerts": "on|off",
        "chart": "on|off",
        "photos": "on|off",
        "full": "[0-9]{1,9}",  # a story's id: fits the integer column
        "unfollow": "[0-9]{1,9}",  # a follow's id: fits the integer column
        "region": "choose|[0-9]{1,3}",
        "forget": "yes",
    }.items()
}


def parse_callback(data: str | None) -> tuple[str, str] | None:
    """``(action, value)`` of button data the bot could have sent, else None."""
    action, colon, value = (data or "").partition(":")
    pattern = CALLBACK_PATTERNS.get(action)
    return (action, value) if colon and pattern is not None and pattern.fullmatch(value) else None


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome and a Subscribe button; ``/start full-ID`` (a "Full text" tap in a group or
    channel that opened this private chat) sends that story's full text."""
    payload = START_PAYLOAD.fullmatch(context.args[0]) if context.args and update_chat(update).type == "private" else None
    if payload is not None:
        await send_full_text(update, context, int(payload[1]))
        return
    svc, _, sub = await current_subscriber(update, context)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t("subscribe_button", sub.language), callback_data="start:subscribe")]]
    )
    await reply(update, context, t("welcome", sub.language, region=svc.settings.region.name), keyboard)


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    changes: dict = {"active": True}
    if context.args:
        time_text = await _time_argument(update, context)
        if time_text is None:
            return
        changes["push_time"] = time_text
    _, _, sub = await change_settings(update, context, **changes)
    await reply(update, context, t("subscribed", sub.language, time=sub.push_time, tz=sub.timezone))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _, _, before = await current_subscriber(update, context)
    if not before.active:
        await reply(update, context, t("not_subscribed", before.language))
        return
    _, _, sub = await change_settings(update, context, active=False)
    await reply(update, context, t("unsubscribed", sub.language))


async def set_time(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    time_text = await _time_argument(update, context)
    if time_text is not None:
        await _apply_time(update, context, time_text)


async def _apply_time(update: Update, context: ContextTypes.DEFAULT_TYPE, time_text: str) -> None:
    _, _, sub = await change_settings(update, context, push_time=time_text)
    key = "time_set" if sub.active else "time_set_inactive"
    await reply(update, context, t(key, sub.language, time=sub.push_time, tz=sub.timezone))


async def _time_argument(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The HH:MM given to a command, normalised; replies with help and returns None if bad."""
    args = context.args or []
    try:
        if len(args) != 1:
            raise ValueError("one HH:MM argument expected")
        at = parse_hhmm(args[0])
    except ValueError:
        _, _, sub = await current_subscriber(update, context)
        await reply(update, context, t("time_bad", sub.language))
        return None
    return f"{at:%H:%M}"


async def set_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    wanted = (
        {code.lower(): code for code in LANGUAGES}.get((context.args or [""])[0].lower())
        if len(context.args or []) == 1
        else None
    )
    if wanted is None:
        _, _, sub = await current_subscriber(update, context)
        await reply(update, context, t("lang_bad", sub.language))
        return
    _, _, sub = await change_settings(update, context, language=wanted)
    await reply(update, context, t("lang_set", sub.language))


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, _, sub = await current_subscriber(update, context)
    limit = svc.settings.digest.latest_items
    if context.args:
        wanted = _count_argument(context.args, LATEST_MAX)
        if wanted is None:
            await reply(update, context, t("latest_bad", sub.language, max=LATEST_MAX))
            return
        limit = wanted
    stories = await asyncio.to_thread(svc.stories.latest, sub.language, limit, svc.now(), sub.region)
    await reply(update, context, render_stories(stories, sub.language), full_text_keyboard(stories, sub.language), escape=False)


def _count_argument(args: list[str], most: int) -> int | None:
    """The one whole number from 1 to ``most`` in ``args`` (ASCII or full-width digits), else None.

    ``"²".isdigit()`` is True but ``int("²")`` fails: only the digits 0-9 are read.
    """
    number = re.fullmatch(r"[0-9]{1,6}", to_ascii_digits(args[0])) if len(args) == 1 else None
    return int(number[0]) if number and 1 <= int(number[0]) <= most else None


async def weather(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, _, sub = await current_subscriber(update, context)
    if not await within_rate(update, context, "weather", WEATHER_RATE, sub.language):
        return
    now = svc.now()
    report = await svc.weather.report(now, sub.region)
    local = now.astimezone(svc.settings.region_for(sub.region).tz)
    text = render_weather(report.text(sub.language, local), sub.language)
    chart = await svc.pusher.charts.chart(report, sub.language, now) if chart_wanted(sub) else None
    if chart is None:
        await reply(update, context, text, escape=False)
    else:  # the chart with the text as its caption (or, when that is too long, the chart and then the text)
        await reply(update, context, [], escape=False, photo=Photo(chart, text))


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, _, sub = await current_subscriber(update, context)
    rows = [r for r in await asyncio.to_thread(svc.subscriptions.sources) if r.state == ACTIVE]
    lines = [t("sources", sub.language)]
    tz = svc.settings.region.tz
    for row in rows:
        state = (
            t("source_ok", sub.language, when=f"{row.last_success_at.astimezone(tz):%Y-%m-%d %H:%M}")
            if row.last_success_at
            else t("source_never", sub.language)
        )
        if row.error_count:
            state += "；" + t("source_errors", sub.language, count=row.error_count)
        lines.append(f"• {row.name}：{state}" if sub.language != "en" else f"• {row.name}: {state}")
    await reply(update, context, "\n".join(lines) if rows else t("no_sources", sub.language))


def is_operator(update: Update, svc: Services) -> bool:
    user = update.effective_user
    return user is not None and user.id in svc.settings.telegram.admins


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, _, sub = await current_subscriber(update, context)
    if not is_operator(update, svc):
        await reply(update, context, t("not_admin", sub.language))
        return
    numbers = await asyncio.to_thread(svc.subscriptions.stats, svc.now())
    numbers.update(await asyncio.to_thread(svc.follows.counts))
    lines = [t("stats", sub.language, **numbers)]
    tz = svc.settings.region.tz
    for source in await asyncio.to_thread(svc.subscriptions.sources):
        if source.state == REMOVED:
            continue
        when = f"{source.last_success_at.astimezone(tz):%m-%d %H:%M}" if source.last_success_at else "—"
        error = f" ⚠ {source.error_count}× {source.last_error}" if source.error_count else ""
        lines.append(f"• {source.name}: {when}{error}")
    since = svc.now() - timedelta(hours=gate_report.HOURS)
    profiles = await asyncio.to_thread(gate_report.acceptance, svc.subscriptions.db, since)
    lines += gate_report.report(profiles, gate_report.HOURS, sub.language)
    await reply(update, context, "\n".join(lines))


async def fetch(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, _, sub = await current_subscriber(update, context)
    if not is_operator(update, svc):
        await reply(update, context, t("not_admin", sub.language))
        return
    if svc.role == "bot":  # worker processes fetch: make every source due for them
        await asyncio.to_thread(svc.ingestor.request_fetch)
        await reply(update, context, t("fetch_queued", sub.language))
        return
    await reply(update, context, t("fetch_started", sub.language))
    reports = await svc.ingestor.run()
    await reply(
        update,
        context,
        t("fetch_done", sub.language, new=sum(r.new for r in reports), errors=sum(len(r.errors) for r in reports)),
    )


def settings_view(sub: Subscriber, svc: Services, follows: int) -> tuple[str, InlineKeyboardMarkup]:
    """The /settings text and its keyboard: time presets, typing a time, language, news mode,
    weather alerts, the weather chart (when the operator allows it), region (when there are several), status."""
    language = sub.language
    mode = (
        t("mode_instant", language, quiet=svc.settings.digest.quiet_hours)
        if sub.news_mode == "instant"
        else t("mode_daily", language)
    )
    region = name_for_reader(svc.settings.region_for(sub.region).name, language)
    text = t(
        "settings",
        language,
        time=sub.push_time,
        tz=sub.timezone,
        language=LANGUAGE_NAMES[language],
        mode=mode,
        status=t("status_active" if sub.active else "status_inactive", language),
    )
    text += "\n" + t("settings_more", language, region=region, alerts=t("on" if sub.alerts else "off", language), follows=follows)
    charts = svc.settings.weather.chart and svc.settings.weather.provider != "none"
    if charts:
        text += "\n" + t("settings_chart", language, chart=t("on" if chart_wanted(sub) else "off", language))
    text += "\n" + t("photos_setting", language, state=t("on" if wants_photos(sub) else "off", language))
    mark = lambda on, label: f"• {label}" if on else label  # noqa: E731 - a local shorthand
    rows = [
        [InlineKeyboardButton(mark(sub.push_time == p, p), callback_data=f"time:{p}") for p in TIME_PRESETS[:4]],
        [InlineKeyboardButton(mark(sub.push_time == p, p), callback_data=f"time:{p}") for p in TIME_PRESETS[4:]]
        + [InlineKeyboardButton(t("button_type_time", language), callback_data="time:type")],
        [
            InlineKeyboardButton(mark(sub.language == code, LANGUAGE_NAMES[code]), callback_data=f"lang:{code}")
            for code in LANGUAGES
        ],
        [
            InlineKeyboardButton(mark(sub.news_mode == "daily", t("button_mode_daily", language)), callback_data="mode:daily"),
            InlineKeyboardButton(
                mark(sub.news_mode == "instant", t("button_mode_instant", language)), callback_data="mode:instant"
            ),
        ],
        [
            InlineKeyboardButton(
                t("button_alerts_off" if sub.alerts else "button_alerts_on", language),
                callback_data="alerts:off" if sub.alerts else "alerts:on",
            )
        ],
        *(
            [
                [
                    InlineKeyboardButton(
                        t("button_chart_off" if chart_wanted(sub) else "button_chart_on", language),
                        callback_data="chart:off" if chart_wanted(sub) else "chart:on",
                    )
                ]
            ]
            if charts
            else []
        ),
        [
            InlineKeyboardButton(
                t("button_photos_off" if wants_photos(sub) else "button_photos_on", language),
                callback_data="photos:off" if wants_photos(sub) else "photos:on",
            )
        ],
        [
            InlineKeyboardButton(
                t("button_unsubscribe" if sub.active else "button_subscribe", language),
                callback_data="sub:off" if sub.active else "sub:on",
            )
        ],
    ]
    if len(svc.settings.all_regions()) > 1:
        rows.insert(-1, [InlineKeyboardButton(t("button_region", language, region=region), callback_data="region:choose")])
    return text, InlineKeyboardMarkup(rows)


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, _, sub = await current_subscriber(update, context)
    text, keyboard = settings_view(sub, svc, len(await asyncio.to_thread(svc.follows.list, sub.id)))
    await reply(update, context, text, keyboard)


async def settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on any of the bot's buttons: settings, /start's Subscribe, /follows, regions, /forget.

    The tap is answered once done; a refusal (a group member who is not an admin) is answered
    as an alert instead, and data the bot never sent as "this button no longer works".
    """
    query = button_query(update)
    parsed = parse_callback(query.data) if update.effective_chat is not None else None
    if parsed is None:
        await query.answer(t("button_unknown", reader_language(update, services(context))))
        return
    action, value = parsed
    if action == "full":  # answers the tap itself, before the page is made
        await full_text_button(update, context, int(value))
        return
    if action == "unfollow":
        await reader.unfollow_button(update, context, int(value))
    elif action == "region":
        await reader.region_button(update, context, value)
    elif action == "forget":
        svc, _, sub = await current_subscriber(update, context)
        await check_may_change(update, context, sub)
        await _forget(update, context, svc, sub.language)
    elif action == "time" and value == "type":
        _, _, sub = await current_subscriber(update, context)
        await check_may_change(update, context, sub)
        chat_data(context).setdefault(AWAITING_TIME, set()).add(query.from_user.id)
        await reply(update, context, t("time_prompt", sub.language))
    elif action == "start":  # the Subscribe button under /start's welcome
        _, _, sub = await change_settings(update, context, active=True)
        await reply(update, context, t("subscribed", sub.language, time=sub.push_time, tz=sub.timezone))
    else:
        choices: dict[str, dict[str, str | bool]] = {
            "time": {"push_time": value},
            "lang": {"language": value},
            "mode": {"news_mode": value},
            "sub": {"active": value == "on"},
            "alerts": {"alerts": value == "on"},
            "chart": {"chart": value == "on"},
            "photos": {"photos": value == "on"},
        }
        svc, _, sub = await change_settings(update, context, **choices[action])
        text, keyboard = settings_view(sub, svc, len(await asyncio.to_thread(svc.follows.list, sub.id)))
        await edit(update, html.escape(text), keyboard)
    try:
        await query.answer()
    except BadRequest as exc:  # answered too late (a slow edit): the tap's spinner has stopped anyway
        if "query is too old" not in str(exc).lower():
            raise


async def plain_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A typed time from the user who tapped "Type a time" in this chat, else a hint."""
    waiting: set[int] = chat_data(context).get(AWAITING_TIME, set())
    user = update.effective_user
    if user is not None and user.id in waiting:
        waiting.discard(user.id)
        try:
            at = parse_hhmm(update_message(update).text or "")
        except ValueError:
            waiting.add(user.id)
            _, _, sub = await current_subscriber(update, context)
            await reply(update, context, t("time_bad", sub.language))
            return
        await _apply_time(update, context, f"{at:%H:%M}")
        return
    if update_chat(update).type != "private":
        return  # in groups, stay quiet unless addressed with a command
    _, _, sub = await current_subscriber(update, context)
    await reply(update, context, t("plain_text", sub.language))


def _for_another_bot(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the message's command is addressed to another bot (``/start@otherbot`` in a group)."""
    message = update_message(update)
    entity = next((e for e in message.entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0), None)
    if entity is None:
        return False
    _, at, username = message.parse_entity(entity).partition("@")
    return bool(at) and username.lower() != (context.bot.username or "").lower()


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if _for_another_bot(update, context):
        return
    _, _, sub = await current_subscriber(update, context)
    await reply(update, context, t("unknown_command", sub.language))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the exception; tell the user something went wrong, without details."""
    if isinstance(context.error, NotAllowed):
        return  # already answered
    if update is None and isinstance(context.error, NetworkError):
        # long polling lost the Bot API for a moment; PTB retries on its own
        log.warning("Telegram Bot API unreachable while polling for updates: %s", context.error)
        return
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        language = reader_language(update, services(context))
        try:
            await reply(update, context, t("error", language))
        except Exception:  # the error reply is best effort; the log has the cause
            log.exception("could not tell the user about the error")


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/forget``: asks for confirmation (a button, or ``/forget yes``), then deletes the chat's data."""
    svc, _, sub = await current_subscriber(update, context)
    await check_may_change(update, context, sub)
    if [arg.lower() for arg in context.args or []] == ["yes"]:
        await _forget(update, context, svc, sub.language)
        return
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(t("button_forget", sub.language), callback_data="forget:yes")]])
    await reply(update, context, t("forget_confirm", sub.language), keyboard)


async def _forget(update: Update, context: ContextTypes.DEFAULT_TYPE, svc: Services, language: str) -> None:
    await asyncio.to_thread(svc.subscriptions.forget, update_chat(update).id)
    chat_data(context).clear()
    await reply(update, context, t("forgotten", language))


# Telegram is asked for these only; the handlers accept nothing else either (an edited message
# must not run its command again, a channel post is not a command to the bot).
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
