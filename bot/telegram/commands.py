"""The bot's chat commands in one table: name, handler, who may use it, its arguments, and its
menu text and /help line in each language. The handler registration, the command menus of
every scope and language, and /help are all made from it: a new command is one entry here."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Update,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.config import Settings
from bot.telegram import handlers, reader, source_admin
from bot.telegram.chat import current_subscriber, reply
from bot.texts import ZH_HANS, localized, t

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


class Audience(Enum):
    """Who may use a command (and sees it in the menu)."""

    EVERYONE = "everyone"  # every member of a group too: it only reads
    SETTINGS = "settings"  # anyone in a private chat; in a group, its admins (it changes the group's settings)
    OPERATORS = "operators"  # the ``telegram.admins`` users


@dataclass(frozen=True)
class Command:
    """One chat command. ``menu`` and ``help`` are written in zh-Hans and en (zh-Hant is
    converted); ``usage`` is its arguments as /help shows them (per language where they are words)."""

    name: str
    handler: Handler
    audience: Audience
    menu: dict[str, str]
    help: dict[str, str]
    usage: str | dict[str, str] = ""


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: every command this chat may use, with its arguments, in the chat's language."""
    svc, _, sub = await current_subscriber(update, context)
    await reply(update, context, help_text(sub.language, operator=handlers.is_operator(update, svc)))


EVERYONE, SETTINGS, OPERATORS = Audience.EVERYONE, Audience.SETTINGS, Audience.OPERATORS
WORDS = {ZH_HANS: "关键词", "en": "words"}
COMMANDS: tuple[Command, ...] = (
    Command(
        "start",
        handlers.start,
        EVERYONE,
        {ZH_HANS: "开始", "en": "Start"},
        {ZH_HANS: "欢迎和订阅按钮", "en": "welcome, with a subscribe button"},
    ),
    Command("help", help_command, EVERYONE, {ZH_HANS: "帮助", "en": "Help"}, {ZH_HANS: "全部命令", "en": "all commands"}),
    Command(
        "subscribe",
        handlers.subscribe,
        SETTINGS,
        {ZH_HANS: "订阅每日推送 [HH:MM]", "en": "Daily digest [HH:MM]"},
        {ZH_HANS: "订阅每日推送", "en": "daily digest at that time"},
        "[HH:MM]",
    ),
    Command(
        "unsubscribe",
        handlers.unsubscribe,
        SETTINGS,
        {ZH_HANS: "退订", "en": "Stop pushes"},
        {ZH_HANS: "退订（保留设置）", "en": "stop pushes (settings kept)"},
    ),
    Command(
        "latest",
        handlers.latest,
        EVERYONE,
        {ZH_HANS: "最新新闻 [N]", "en": "Newest stories [N]"},
        {ZH_HANS: "最新 N 条新闻", "en": "the newest N stories"},
        "[N]",
    ),
    Command(
        "weather",
        handlers.weather,
        EVERYONE,
        {ZH_HANS: "天气预报", "en": "Weather forecast"},
        {ZH_HANS: "天气预报", "en": "the forecast"},
    ),
    Command(
        "time",
        handlers.set_time,
        SETTINGS,
        {ZH_HANS: "修改推送时间 HH:MM", "en": "Change push time HH:MM"},
        {ZH_HANS: "修改推送时间", "en": "change the push time"},
        "HH:MM",
    ),
    Command(
        "lang",
        handlers.set_language,
        SETTINGS,
        {ZH_HANS: "语言 zh-Hant|zh-Hans|en", "en": "Language zh-Hant|zh-Hans|en"},
        {ZH_HANS: "语言", "en": "language"},
        "zh-Hant|zh-Hans|en",
    ),
    Command(
        "settings", handlers.settings_command, SETTINGS, {ZH_HANS: "设置", "en": "Settings"}, {ZH_HANS: "设置", "en": "settings"}
    ),
    Command(
        "sources",
        handlers.sources,
        EVERYONE,
        {ZH_HANS: "新闻来源", "en": "News sources"},
        {ZH_HANS: "新闻来源", "en": "news sources"},
    ),
    Command(
        "follow",
        reader.follow,
        SETTINGS,
        {ZH_HANS: "关注关键词", "en": "Follow keywords"},
        {
            ZH_HANS: "新闻提到它时立即通知（多个用空格或逗号分开）",
            "en": 'a message as soon as a new story mentions them (separate keywords with commas; "quote" a phrase)',
        },
        WORDS,
    ),
    Command(
        "unfollow",
        reader.unfollow,
        SETTINGS,
        {ZH_HANS: "取消关注关键词", "en": "Stop following keywords"},
        {ZH_HANS: "取消关注", "en": "stop following"},
        WORDS,
    ),
    Command(
        "follows",
        reader.follows,
        EVERYONE,
        {ZH_HANS: "我关注的关键词", "en": "Your keywords"},
        {ZH_HANS: "我关注的关键词", "en": "your keywords"},
    ),
    Command(
        "search",
        reader.search,
        EVERYONE,
        {ZH_HANS: "搜索最近的新闻", "en": "Search recent stories"},
        {ZH_HANS: "查找最近的新闻", "en": "find recent stories"},
        WORDS,
    ),
    Command(
        "alerts",
        reader.alerts,
        SETTINGS,
        {ZH_HANS: "天气提醒 on|off", "en": "Weather alerts on|off"},
        {ZH_HANS: "恶劣天气提醒", "en": "bad-weather alerts"},
        "on|off",
    ),
    Command(
        "region",
        reader.region,
        SETTINGS,
        {ZH_HANS: "选择地区", "en": "Choose your town"},
        {ZH_HANS: "选择地区（也可以发送位置）", "en": "choose your town (or share your location)"},
        {ZH_HANS: "[名称]", "en": "[name]"},
    ),
    Command(
        "forget",
        handlers.forget,
        SETTINGS,
        {ZH_HANS: "删除这个聊天的数据", "en": "Delete this chat's data"},
        {ZH_HANS: "删除这个聊天的全部数据", "en": "delete everything kept about this chat"},
    ),
    Command("stats", handlers.stats, OPERATORS, {ZH_HANS: "统计", "en": "Statistics"}, {ZH_HANS: "统计", "en": "statistics"}),
    Command(
        "fetch", handlers.fetch, OPERATORS, {ZH_HANS: "立即抓取", "en": "Fetch now"}, {ZH_HANS: "立即抓取", "en": "fetch now"}
    ),
    Command(
        "source",
        source_admin.source_command,
        OPERATORS,
        {ZH_HANS: "管理来源", "en": "Manage sources"},
        {
            ZH_HANS: "添加（先试抓）、移除、暂停、恢复来源，或查看一个来源的状况",
            "en": "add (tried once first), remove, pause or resume a source, or see one's health",
        },
        {ZH_HANS: "add 网址 [名称]|remove|pause|resume 名称|名称", "en": "add URL [name]|remove|pause|resume NAME|NAME"},
    ),
)


def help_text(language: str, operator: bool = False) -> str:
    """/help in ``language``: one line per command (the operators' ones only for operators)."""
    lines = [t("help_heading", language)]
    for command in COMMANDS:
        if command.name in ("start", "help") or (command.audience is OPERATORS and not operator):
            continue
        usage = command.usage if isinstance(command.usage, str) else localized(command.usage, language)
        head = f"/{command.name} {usage}".rstrip()
        text = localized(command.help, language)
        lines.append(f"{head} {text}" if language.startswith("zh") else f"{head}: {text}")
    return "\n".join(lines)


def register(application: Application) -> None:
    """Attach every handler: the commands (new messages only, not edits or channel posts), button
    taps, a shared location, unknown commands and plain text."""
    new_message = filters.UpdateType.MESSAGE
    for command in COMMANDS:
        application.add_handler(CommandHandler(command.name, command.handler, filters=new_message))
    application.add_handler(CallbackQueryHandler(handlers.settings_button))
    # a location shared in a private chat picks the region; live-location edits and group chatter do not
    application.add_handler(MessageHandler(filters.LOCATION & filters.ChatType.PRIVATE & new_message, reader.location))
    application.add_handler(MessageHandler(filters.COMMAND & new_message, handlers.unknown_command))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND & new_message, handlers.plain_text))
    application.add_error_handler(handlers.on_error)


def menus(settings: Settings) -> Iterable[tuple[BotCommandScope, str | None, list[BotCommand]]]:
    """Every command menu: (scope, language code, commands). Private chats and group admins see
    the commands they may use, group members the ones that only read, each operator (in their
    own chat) all of them; each in the region's language by default, English for "en", Chinese
    for "zh" (Telegram's menus know only two-letter codes: "zh" gets the region's Chinese script,
    zh-Hans when the region is not Chinese)."""
    region = settings.region.language
    chinese = region if region.startswith("zh") else ZH_HANS
    scopes: list[tuple[BotCommandScope, set[Audience]]] = [
        (BotCommandScopeAllGroupChats(), {EVERYONE}),
        (BotCommandScopeAllChatAdministrators(), {EVERYONE, SETTINGS}),
        (BotCommandScopeAllPrivateChats(), {EVERYONE, SETTINGS}),
        *((BotCommandScopeChat(user), {EVERYONE, SETTINGS, OPERATORS}) for user in settings.telegram.admins),
        (BotCommandScopeDefault(), {EVERYONE, SETTINGS}),
    ]
    for scope, audiences in scopes:
        for code, language in ((None, region), ("en", "en"), ("zh", chinese)):
            yield scope, code, [BotCommand(c.name, localized(c.menu, language)) for c in COMMANDS if c.audience in audiences]


async def register_menus(application: Application, settings: Settings) -> None:
    """Set every command menu of :func:`menus` with the Bot API."""
    for scope, code, commands in menus(settings):
        await application.bot.set_my_commands(commands, scope=scope, language_code=code)
