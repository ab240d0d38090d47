"""The command table is the one source of the handlers, the menus of every scope and /help:
they agree by construction, and these tests hold them to it."""

from __future__ import annotations

import re

import pytest
from telegram.ext import Application, CommandHandler

from bot.config import load_settings
from bot.telegram.commands import COMMANDS, OPERATORS, SETTINGS, help_text, menus, register
from bot.texts import LANGUAGES
from summarizer.text import ZH_HANS, ZH_HANT


def test_every_command_in_the_table_is_registered_once_and_nothing_else_is():
    application = Application.builder().token("123:abc").build()
    register(application)
    registered = [name for handler in application.handlers[0] if isinstance(handler, CommandHandler)
                  for name in handler.commands]
    assert sorted(registered) == sorted(c.name for c in COMMANDS)
    assert len(set(registered)) == len(registered)


@pytest.mark.parametrize("language", LANGUAGES)
def test_help_lists_what_a_chat_may_use_in_its_language(language):
    member, operator = help_text(language), help_text(language, operator=True)
    for command in COMMANDS:
        if command.name in ("start", "help"):
            continue
        listed = re.compile(rf"/{command.name}\b")  # /source is not /sources
        assert bool(listed.search(member)) is (command.audience is not OPERATORS), command.name
        assert listed.search(operator)
    assert ("訂閱" in member) is (language == ZH_HANT) and ("订阅" in member) is (language == ZH_HANS)


def test_every_command_has_menu_and_help_text_in_both_written_languages():
    for command in COMMANDS:
        assert command.menu[ZH_HANS] and command.menu["en"] and command.help[ZH_HANS] and command.help["en"], command.name
        assert command.name.islower() and len(command.name) <= 32  # Telegram's rules for command names


def test_each_scope_gets_the_commands_its_chats_may_use(tmp_path):
    config = tmp_path / "newsbot.toml"
    config.write_text('[telegram]\nadmins = [1001, 1002]\n[region]\nlanguage = "zh-Hant"\n', encoding="utf-8")
    table = {(scope.type, getattr(scope, "chat_id", None), code): [c.command for c in commands]
             for scope, code, commands in menus(load_settings(config, environ={}))}
    assert len(table) == (4 + 2) * 3  # four scopes and one per operator, each in three languages
    settings_commands = {c.name for c in COMMANDS if c.audience is SETTINGS}
    operator_commands = {c.name for c in COMMANDS if c.audience is OPERATORS}
    for (scope, chat, _code), names in table.items():
        assert bool(operator_commands & set(names)) is (chat in (1001, 1002)), scope
        assert bool(settings_commands & set(names)) is (scope != "all_group_chats"), scope
        assert "weather" in names and "help" in names
    descriptions = {code: dict((c.command, c.description) for c in commands)
                    for scope, code, commands in menus(load_settings(config, environ={})) if scope.type == "default"}
    assert descriptions[None]["weather"] == "天氣預報" and descriptions["zh"]["weather"] == "天氣預報"
    assert descriptions["en"]["weather"] == "Weather forecast"
