"""The "Full text" button under each story: its Telegraph page (Instant View), or, when
Telegraph is off or unreachable, the text itself in the chat, split at paragraph ends. A tap in a
group or channel is answered in the reader's private chat with the bot, not in front of everyone."""

from __future__ import annotations

import html
import re

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.telegram.chat import Rate, button_query, chat_ref, current_subscriber, update_chat, within_rate
from bot.telegram.render import link, split_message
from bot.telegraph import FullText
from bot.texts import t

FULL_TEXT_RATE = Rate(burst=3, seconds=10.0)  # per chat: each tap may publish a page or send several messages
MAX_MESSAGES = 8  # the text in the chat takes at most this many messages; the source has the rest
START_PREFIX = "full-"  # /start full-ID: a tap in a group or channel, sent on to the reader's own chat
START_PAYLOAD = re.compile(rf"{START_PREFIX}([0-9]{{1,9}})")


async def full_text_button(update: Update, context: ContextTypes.DEFAULT_TYPE, story_id: int) -> None:
    """A tap on "Full text". In a private chat: the story's Telegraph page (made on the first
    tap), else its text. In a group or channel nothing is posted there: the tap opens the reader's
    own chat with the bot, which sends it there (``/start full-ID``)."""
    query = button_query(update)
    private = update_chat(update).type == "private"
    link = None if private else f"https://t.me/{context.bot.username}?start={START_PREFIX}{story_id}"
    try:  # at once: making the page may take a few seconds, the spinner should not
        await query.answer(url=link)
    except BadRequest as exc:
        if "query is too old" not in str(exc).lower():
            raise
    if private:
        await send_full_text(update, context, story_id)


async def send_full_text(update: Update, context: ContextTypes.DEFAULT_TYPE, story_id: int) -> None:
    """The story's Telegraph page (Instant View), or its text, into the update's chat."""
    svc, _, sub = await current_subscriber(update, context)
    if not await within_rate(update, context, "full_text", FULL_TEXT_RATE, sub.language):
        return
    text = await svc.full_texts.get(story_id, sub.language)
    ref = chat_ref(update)
    if text is None:
        await svc.deliverer.send(ref, html.escape(t("full_text_gone", sub.language)))
    elif text.url is not None:
        link = f'<a href="{html.escape(text.url, quote=True)}">{html.escape(text.title)}</a>'
        await svc.deliverer.send(ref, t("full_text_page", sub.language, link=link), preview=True)
    else:
        await svc.deliverer.send(ref, chat_units(text, sub.language))


def chat_units(text: FullText, language: str) -> list[str]:
    """The text as messages: the title, the paragraphs (a message ends at a paragraph's end,
    unless a paragraph is longer than a message), and the source link last; at most
    :data:`MAX_MESSAGES` of them (the last then says that the source has the rest)."""
    source = f"{html.escape(t('source', language))}: {link(text.source_url, text.source_name)}"
    messages = split_message([f"<b>{html.escape(text.title)}</b>", *map(html.escape, text.paragraphs), source])
    if len(messages) <= MAX_MESSAGES:
        return messages
    return [*messages[: MAX_MESSAGES - 1], f"<i>{html.escape(t('full_text_cut', language))}</i>\n\n{source}"]
