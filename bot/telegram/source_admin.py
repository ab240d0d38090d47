"""``/source``: the operators edit the source catalog from the chat, and see a source's health.

``/source add URL [name]`` tries the URL once (feed discovery, else a listing page) and saves it
only when that pass lists articles, saying what it found; ``remove``, ``pause`` and ``resume``
change its state; ``/source NAME`` shows its health. Every process picks a change up at its
next scheduler tick. Refused, with the reason, where the config file manages the sources.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from telegram import Update
from telegram.ext import ContextTypes

from bot.config import SourceSettings
from bot.ingest.catalog import (
    ACTIVE,
    PAUSED,
    REMOVED,
    ManagedInConfig,
    NameTaken,
    SourceHealth,
    UnknownSource,
    add_source,
    check_editable,
    set_state,
    source_health,
)
from bot.ingest.discover import discover
from bot.ingest.http import FetchError, host_of
from bot.ingest.sources import SourceError
from bot.telegram.chat import Services, current_subscriber, reply
from bot.telegram.handlers import is_operator
from bot.texts import t

STATES = {"remove": (REMOVED, "source_removed"), "pause": (PAUSED, "source_paused"), "resume": (ACTIVE, "source_resumed")}
SPARKS = "▁▂▃▄▅▆▇█"


async def source_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/source add URL [name] | remove|pause|resume NAME | NAME (operators only)."""
    svc, _, sub = await current_subscriber(update, context)
    language = sub.language
    if not is_operator(update, svc):
        await reply(update, context, t("not_admin", language))
        return
    args = context.args or []
    action = args[0].lower() if args else ""
    if not args or (action in ("add", *STATES) and len(args) < 2):
        await reply(update, context, t("source_usage", language))
        return
    if action in ("add", *STATES):
        try:
            check_editable(svc.settings)
        except ManagedInConfig:
            await reply(update, context, t("source_managed", language))
            return
    try:
        if action == "add":
            await _add(update, context, svc, args[1], " ".join(args[2:]), language)
        elif action in STATES:
            state, key = STATES[action]
            row = await asyncio.to_thread(set_state, svc.ingestor.db, " ".join(args[1:]), state, svc.now())
            await reply(update, context, t(key, language, name=row.name))
        else:
            [health] = await asyncio.to_thread(source_health, svc.ingestor.db, svc.now(), name=" ".join(args))
            await reply(update, context, health_text(health, language, svc.settings.region.tz))
    except UnknownSource as exc:
        hint = t("source_did_you_mean", language, names="、".join(exc.close)) if exc.close else t("source_known", language)
        await reply(update, context, f"{t('source_unknown', language, name=exc.name)}\n{hint}")


async def _add(update: Update, context: ContextTypes.DEFAULT_TYPE, svc: Services, url: str, name: str, language: str) -> None:
    """Try ``url`` once, say what it lists, and save it when it lists articles."""
    if not url.startswith(("http://", "https://")) or not host_of(url):
        await reply(update, context, t("source_not_url", language))
        return
    await reply(update, context, t("source_checking", language, url=url))
    try:
        found = await discover(url, svc.settings.fetch, svc.ingestor.transport)
    except (FetchError, SourceError) as exc:
        await reply(update, context, t("source_add_failed", language, reason=str(exc)))
        return
    titles = "\n".join(f"• {title}" for title in found.titles())
    what = t(f"source_via_{found.via}", language)
    report = t("source_found", language, what=what, url=found.url, count=len(found.candidates), titles=titles)
    config = SourceSettings(name=name or found.title or host_of(found.url), kind=found.kind, url=found.url)
    try:
        await asyncio.to_thread(add_source, svc.ingestor.db, config, svc.now())
    except NameTaken as exc:
        await reply(update, context, f"{report}\n\n{t('source_taken', language, name=exc.name)}")
        return
    await reply(update, context, f"{report}\n\n{t('source_added', language, name=config.name)}")


def health_text(health: SourceHealth, language: str, tz) -> str:
    """``/source NAME``: state, last success, last error and a week of articles per day."""

    def when(moment: datetime | None) -> str:
        return f"{moment.astimezone(tz):%Y-%m-%d %H:%M}" if moment else t("source_none", language)

    if health.status == "failing":
        status = t("source_errors", language, count=health.error_count)
    else:
        status = t(f"source_status_{health.status}", language)
    error = (
        f"{when(health.last_error_at)} {health.last_error}"
        if health.error_count and health.last_error
        else t("source_none", language)
    )
    top = max(health.articles_per_day) or 1
    bars = "".join(SPARKS[min(len(SPARKS) - 1, count * len(SPARKS) // (top + 1))] for count in health.articles_per_day)
    counts = " ".join(f"{day:%m-%d}:{count}" for day, count in zip(health.days, health.articles_per_day))
    return t(
        "source_health",
        language,
        name=health.name,
        kind=health.kind,
        url=health.url,
        status=status,
        success=when(health.last_success_at),
        error=error,
        days=len(health.days),
        chart=f"{bars}\n{counts}",
    )
