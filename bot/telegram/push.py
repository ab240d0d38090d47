"""The push engine: due daily digests, instant news, follow alerts (new stories that mention a
chat's keywords) and weather alerts, sent concurrently at Telegram's pace.

Every few seconds a tick pages through the subscribers that are due (one indexed query a
page, no job per subscriber). Each edition — the rendered digest or news list for one
(language, timezone, window) — is built once per tick and reused for every subscriber
it fits. Sends run concurrently, at most ``CONCURRENCY`` in flight, paced by the
deliverer's rate limiter.

Delivery guarantees, all kept in the database so that they survive a restart:

- A push is claimed (``sending``, for a lease on the wall clock) once its message is built,
  just before it goes out, and recorded (``sent``, together with the subscriber's next push
  time) right after; after a crash only pushes that were in flight can be sent twice.
- Telegram's pace is per bot token: with several processes on one PostgreSQL database, a tick
  pushes only while it holds the token's broadcast lock (a tick that finds it held by another
  process skips), so that together they never send faster than ``broadcast_per_second``.
- One subscriber's failure never touches the others: the error is logged, that push is
  retried with backoff (seconds at first), and a flood wait reschedules that chat.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from bot.config import Settings
from bot.console import metrics
from bot.digest import StoryItem, build_digest, newest_story_at, story_item, story_items
from bot.follows import Follows, Pending
from bot.storage import Database, Subscriber
from bot.storage.locks import Leadership
from bot.storage.models import utcnow
from bot.subscriptions import DAILY_KEY, FOLLOW_KEY, NEWS_KEY, ChatRef, Subscriptions, in_window
from bot.telegram.delivery import Deliverer, Outcome, Photo, caption_fits
from bot.telegram.render import full_text_keyboard, render_digest, render_stories, render_story, render_weather
from bot.texts import name_for_reader, t
from bot.weather_alerts import Alert, WeatherAlerts
from bot.weather_chart import Charts, chart_wanted
from bot.weather_service import WeatherReport, WeatherService
from summarizer import Summarizer

log = logging.getLogger(__name__)

ALERT_SECONDS = 300  # how often the regions' weather alerts are looked up
ALERT_WAIT = 5.0  # seconds a tick waits for that lookup before going on with the previous alerts
CONCURRENCY = 32  # sends in flight at once; the rate limiter sets the pace
PAGE = 500  # subscribers loaded per query
MAX_UNRECORDED = 10_000  # sent pushes whose record failed, kept to record at the next tick


class _Row(Protocol):
    """What ``Pusher._pages`` pages through by id: subscribers, follow matches."""

    @property
    def id(self) -> int: ...


T = TypeVar("T", bound=_Row)
Built = TypeVar("Built")


@dataclass(frozen=True)
class Post:
    """One message of a push: HTML units, under a picture when there is one, and its buttons."""

    units: list[str]
    keyboard: InlineKeyboardMarkup | None = None
    photo: Photo | None = None


@dataclass(frozen=True)
class StoryEdition:
    """New stories (instant news, a follow alert) for readers of one language: ``message``, one
    message with a "Full text" button per story; and ``posts``, for chats that take pictures:
    each story that has a picture under it (the story as its caption), the others as text, in order."""

    message: Post
    posts: list[Post]

    @classmethod
    def build(cls, stories: list[StoryItem], language: str, heading: str) -> StoryEdition:
        units = render_stories(stories, language, heading=heading)
        posts: list[Post] = []
        plain: list[tuple[int, StoryItem]] = []  # stories without a picture, sent together

        def flush() -> None:
            if plain:
                keyboard = full_text_keyboard([story for _, story in plain], language)
                posts.append(Post([render_story(number, story) for number, story in plain], keyboard))
                plain.clear()

        for number, story in enumerate(stories, 1):
            if story.image is None:
                plain.append((number, story))
                continue
            flush()
            photo = Photo(story.image, render_story(number, story))
            posts.append(Post([], full_text_keyboard([story], language), photo))
        flush()
        posts[:1] = _opened(posts[0], units[0])  # the heading
        for note in units[len(stories) + 1 :]:  # the note on extractive summaries
            posts[-1] = _closed(posts[-1], note)
        return cls(Post(units, full_text_keyboard(stories, language)), posts)


def _opened(post: Post, heading: str) -> list[Post]:
    """``post`` under ``heading``: in its caption where that still fits, else a message of its own before it."""
    if post.photo is None:
        return [Post([heading, *post.units], post.keyboard)]
    caption = f"{heading}\n\n{post.photo.caption}"
    if not post.units and caption_fits(caption):
        return [Post([], post.keyboard, Photo(post.photo.image, caption))]
    return [Post([heading]), post]


def _closed(post: Post, note: str) -> Post:
    """``post`` followed by ``note``: in its caption where that still fits, else in its text."""
    caption = f"{post.photo.caption}\n\n{note}" if post.photo is not None else ""
    if post.photo is not None and not post.units and caption_fits(caption):
        return Post([], post.keyboard, Photo(post.photo.image, caption))
    return Post([*post.units, note], post.keyboard, post.photo)


def wants_photos(subscriber: Subscriber) -> bool:
    """Whether the chat gets news with its pictures: its setting, else on in private chats only."""
    return subscriber.photos if subscriber.photos is not None else subscriber.chat_type == "private"


@dataclass(frozen=True)
class _Sent:
    subscriber_id: int
    key: str
    now: datetime
    local_day: date | None
    moved_to: ChatRef | None


class Editions:
    """The messages of one tick, each built once (in a worker thread) and shared."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        weather: WeatherService,
        summarizer: Summarizer,
        now: datetime,
        charts: Charts | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.weather = weather
        self.summarizer = summarizer
        self.now = now
        self.charts = charts or Charts(enabled=False)
        self._reports: dict[str, asyncio.Task[WeatherReport]] = {}
        self._built: dict[tuple, asyncio.Future[Any]] = {}  # -> what the key's build returned
        self._buttons: dict[tuple, InlineKeyboardMarkup | None] = {}  # a digest's "Full text" buttons, by its key

    async def digest(self, language: str, timezone: str, since: datetime | None, region: str | None) -> list[str]:
        """The daily digest of ``region``: the weather, then the stories first seen after ``since``."""
        place = self.settings.region_for(region)
        report = await self._report(place.name)
        local = self.now.astimezone(ZoneInfo(timezone))
        limit, sources = self.settings.digest.max_items, self.settings.region_sources(place.name)

        key = ("digest", place.name, language, timezone, since)

        def build() -> list[str]:
            digest = build_digest(self.db, language, limit, report, local, since, sources).with_lead(self.summarizer)
            self._buttons[key] = full_text_keyboard(digest.stories, language)
            return render_digest(digest)

        return await self._once(key, build)

    def digest_buttons(
        self, language: str, timezone: str, since: datetime | None, region: str | None
    ) -> InlineKeyboardMarkup | None:
        """The "Full text" buttons of the digest :meth:`digest` built with these arguments."""
        return self._buttons.get(("digest", self.settings.region_for(region).name, language, timezone, since))

    async def with_chart(
        self, units: list[str], language: str, timezone: str, region: str | None
    ) -> tuple[Photo | None, list[str]]:
        """A digest's ``units`` as the forecast chart with the weather as its caption, then the
        other units; ``(None, units)`` when there is no chart to send."""
        report = await self._report(self.settings.region_for(region).name)
        png = await self.charts.chart(report, language, self.now)
        if png is None:
            return None, units
        caption = render_weather(report.text(language, self.now.astimezone(ZoneInfo(timezone))), language)
        if caption not in units:  # not this digest's weather: the picture alone, the text as it is
            return Photo(png), units
        return Photo(png, caption), [unit for unit in units if unit != caption]

    async def _report(self, region: str) -> WeatherReport:
        """The weather of ``region`` at this tick, asked once."""
        if region not in self._reports:
            self._reports[region] = asyncio.ensure_future(self.weather.report(self.now, region))
        return await self._reports[region]

    async def news(self, language: str, since: datetime, region: str | None) -> StoryEdition | None:
        """New stories of ``region`` first seen after ``since``, or None when there are none."""
        place = self.settings.region_for(region)
        limit, sources = self.settings.digest.max_items, self.settings.region_sources(place.name)

        def build() -> StoryEdition | None:
            stories = story_items(self.db, language, limit, place.tz, since, self.now, sources, until=self.now)
            return StoryEdition.build(stories, language, t("new_stories", language)) if stories else None

        return await self._once(("news", place.name, language, since), build)

    async def followed(self, story_id: int, language: str, keyword: str, region: str | None) -> StoryEdition | None:
        """The alert for a story that mentions a followed keyword (None: the story is gone)."""
        tz = self.settings.region_for(region).tz

        def build() -> StoryEdition | None:
            story = story_item(self.db, story_id, language, tz)
            return StoryEdition.build([story], language, t("follow_alert", language, keyword=keyword)) if story else None

        return await self._once(("followed", story_id, language, keyword, region), build)

    async def alert(self, announcement: Alert, language: str) -> str:
        """A weather alert's message for readers of ``language``."""
        region = announcement.region
        today = self.now.astimezone(region.tz).date()

        def build() -> str:
            return html.escape(announcement.describe(language, name_for_reader(region.name, language), today))

        return await self._once(("alert", announcement.push_key, language), build)

    async def _once(self, key: tuple, build: Callable[[], Built]) -> Built:
        if key not in self._built:
            self._built[key] = asyncio.ensure_future(asyncio.to_thread(build))
        return await self._built[key]


class Pusher:
    """Sends what is due; ``tick`` is called every few seconds by the job queue."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        subscriptions: Subscriptions,
        weather: WeatherService,
        deliverer: Deliverer,
        follows: Follows,
        summarizer: Summarizer,
    ) -> None:
        self.settings = settings
        self.summarizer = summarizer
        self.db = db
        self.subscriptions = subscriptions
        self.weather = weather
        self.deliverer = deliverer
        self.follows = follows
        self.alerts = WeatherAlerts(settings, db, weather)
        self.charts = Charts(settings.weather.chart)  # shared with /weather
        self._announcements: list[Alert] = []
        self._alerts_checked = -math.inf  # monotonic time of the last look at the weather
        self._alerts_lookup: asyncio.Future[list[Alert]] | None = None
        self._running = asyncio.Lock()
        self._started = 0.0  # monotonic start of the running tick
        self._unrecorded: OrderedDict[tuple[int, str], _Sent] = OrderedDict()
        # the pace is the bot token's: one process at a time pushes with it (the lock's name hides the token)
        self._broadcast = Leadership(db, f"broadcast:{hashlib.sha256(deliverer.bot.token.encode()).hexdigest()[:16]}")

    async def tick(self, now: datetime | None = None) -> int:
        """Push everything due at ``now`` (aware; default: the current time). Returns pushes sent.

        A tick that finds the previous one still sending returns at once: the running one
        pages on through whatever has become due. So does a tick while another process pushes
        with the same bot token (it holds the token's broadcast lock).
        """
        if self._running.locked():
            return 0
        async with self._running:
            now = now or utcnow()
            self._started = time.monotonic()
            await self._record_unrecorded()
            if not await self._take_broadcast_lock():
                return 0
            try:
                return await self._stages(now)
            finally:
                await asyncio.to_thread(self._broadcast.release)

    async def _take_broadcast_lock(self) -> bool:
        try:
            return await asyncio.to_thread(self._broadcast.acquire)
        except Exception as exc:  # the database is away for a moment: push at the next tick
            log.warning("cannot reach the database to take the broadcast lock: %s", exc)
            return False

    async def _stages(self, now: datetime) -> int:
        editions = Editions(self.db, self.settings, self.weather, self.summarizer, now, self.charts)
        sent = 0
        for stage in (self._dailies, self._news, self._follow_alerts, self._weather_alerts):
            try:
                sent += await stage(editions, now)
            except Exception:  # one kind of push failing (say, its query) never stops the others
                log.exception("%s failed in this tick; it is tried again at the next", stage.__name__.strip("_"))
        return sent

    async def _dailies(self, editions: Editions, now: datetime) -> int:
        return await self._pages(
            lambda after: self.subscriptions.due(now, after, PAGE), lambda subscriber: self._daily(subscriber, editions, now)
        )

    async def _news(self, editions: Editions, now: datetime) -> int:
        newest = await asyncio.to_thread(newest_story_at, self.db, now)
        if newest is None:
            return 0
        return await self._pages(
            lambda after: self.subscriptions.instant(newest, after, PAGE),
            lambda subscriber: self._instant(subscriber, editions, now),
        )

    async def _follow_alerts(self, editions: Editions, now: datetime) -> int:
        await asyncio.to_thread(self.follows.match_new_stories, now)
        return await self._pages(
            lambda after: self.follows.pending(after, PAGE), lambda pending: self._followed(pending, editions, now)
        )

    async def _weather_alerts(self, editions: Editions, now: datetime) -> int:
        sent = 0
        for announcement in await self._current_alerts(now):
            sent += await self._pages(
                partial(announcement.recipients, self.subscriptions, self.db, limit=PAGE),
                partial(self._alert, announcement=announcement, editions=editions, now=now),
            )
        return sent

    async def _pages(self, load: Callable[[int], list[T]], push: Callable[[T], Awaitable[int]]) -> int:
        """Page through subscribers (or follow matches) by id and push to each, ``CONCURRENCY`` at a time."""
        gate = asyncio.Semaphore(CONCURRENCY)
        errors: list[BaseException] = []

        async def isolated(item: T) -> int:
            async with gate:
                try:
                    return await push(item)
                except Exception as exc:  # one subscriber's failure never stops the others
                    if not errors:
                        log.exception("push %r failed; it stays due and is retried", item)
                    errors.append(exc)
                    return 0

        sent, after = 0, 0
        while page := await asyncio.to_thread(load, after):
            after = page[-1].id
            sent += sum(await asyncio.gather(*(isolated(item) for item in page)))
        if len(errors) > 1:
            log.error("%d pushes failed in this tick (first error logged above)", len(errors))
        return sent

    async def _daily(self, subscriber: Subscriber, editions: Editions, now: datetime) -> int:
        local_day = now.astimezone(ZoneInfo(subscriber.timezone)).date()
        key = f"{DAILY_KEY}{local_day.isoformat()}"
        if (subscriber.id, key) in self._unrecorded:
            return 0
        text = await editions.digest(subscriber.language, subscriber.timezone, subscriber.last_push_at, subscriber.region)
        photo = None
        if chart_wanted(subscriber):
            photo, text = await editions.with_chart(text, subscriber.language, subscriber.timezone, subscriber.region)
        state = await asyncio.to_thread(self.subscriptions.claim, subscriber.id, key, now)
        if state == "sent":  # delivered already (e.g. by a run that stopped before rescheduling)
            await asyncio.to_thread(self.subscriptions.sent, subscriber.id, key, now, local_day)
            return 0
        if state != "go":
            return 0
        buttons = editions.digest_buttons(subscriber.language, subscriber.timezone, subscriber.last_push_at, subscriber.region)
        outcome = await self.deliverer.send(_ref(subscriber), text, broadcast=True, photo=photo, keyboard=buttons)
        return await self._settle(subscriber, key, outcome, now, local_day)

    async def _instant(self, subscriber: Subscriber, editions: Editions, now: datetime) -> int:
        if self._quiet(subscriber, now):
            return 0
        since = subscriber.last_news_at or now
        edition = await editions.news(subscriber.language, since, subscriber.region)
        key = f"{NEWS_KEY}{since.isoformat()}"
        if edition is None or (subscriber.id, key) in self._unrecorded:
            return 0
        if await asyncio.to_thread(self.subscriptions.claim, subscriber.id, key, now) != "go":
            return 0
        outcome = await self._send_stories(subscriber, edition)
        return await self._settle(subscriber, key, outcome, now, None)

    async def _followed(self, pending: Pending, editions: Editions, now: datetime) -> int:
        """A new story that mentions a keyword the chat follows (held during quiet hours)."""
        subscriber = pending.subscriber
        if self._quiet(subscriber, now):
            return 0
        key = f"{FOLLOW_KEY}{pending.story_id}"  # one alert per story, whichever keywords matched
        if (subscriber.id, key) in self._unrecorded:
            return 0
        edition = await editions.followed(pending.story_id, subscriber.language, pending.keyword, subscriber.region)
        state = await asyncio.to_thread(self.subscriptions.claim, subscriber.id, key, now) if edition is not None else None
        if state == "later":
            return 0
        if state != "go" or edition is None:  # the story is gone, or sent already, or given up
            await asyncio.to_thread(self.follows.done, pending.id, now)
            return 0
        outcome = await self._send_stories(subscriber, edition)
        sent = await self._settle(subscriber, key, outcome, now, None)
        if outcome.ok or outcome.permanent:
            await asyncio.to_thread(self.follows.done, pending.id, now)
        return sent

    async def _send_stories(self, subscriber: Subscriber, edition: StoryEdition) -> Outcome:
        """New stories as one message, or, for a chat that takes pictures, as the edition's posts
        (a picture Telegram refuses goes as its text: see the deliverer)."""
        posts = edition.posts if wants_photos(subscriber) else [edition.message]
        ref, outcome = _ref(subscriber), Outcome()
        for index, post in enumerate(posts):
            outcome = await self.deliverer.send(
                ref, post.units, broadcast=True, keyboard=post.keyboard, photo=post.photo, continued=index > 0
            )
            if not outcome.ok:
                return outcome
            ref = ChatRef(outcome.chat_id or ref.chat_id, ref.thread_id, ref.chat_type)
        return outcome

    async def _current_alerts(self, now: datetime) -> list[Alert]:
        """The regions' weather alerts, looked up every ``ALERT_SECONDS`` (the forecast is cached
        for longer; a provider that is down is not asked every tick). The lookup runs as its own
        task: a slow provider holds the other pushes up for ``ALERT_WAIT`` seconds at most, and
        until it answers the previous alerts stand."""
        if self._alerts_lookup is None and time.monotonic() - self._alerts_checked >= ALERT_SECONDS:
            self._alerts_checked = time.monotonic()
            self._alerts_lookup = asyncio.ensure_future(self.alerts.current(now))
        if self._alerts_lookup is not None:
            done, _ = await asyncio.wait({self._alerts_lookup}, timeout=ALERT_WAIT)
            if done:
                lookup, self._alerts_lookup = self._alerts_lookup, None
                self._announcements = lookup.result()  # its failure is this stage's, logged by the tick
        return [a for a in self._announcements if a.current(now)]

    async def _alert(self, subscriber: Subscriber, announcement: Alert, editions: Editions, now: datetime) -> int:
        """A weather alert as it stands now; during quiet hours only the severest."""
        if not announcement.urgent and self._quiet(subscriber, now):
            return 0
        key = announcement.push_key
        if (subscriber.id, key) in self._unrecorded:
            return 0
        text = await editions.alert(announcement, subscriber.language)
        if await asyncio.to_thread(self.subscriptions.claim, subscriber.id, key, now) != "go":
            return 0
        outcome = await self.deliverer.send(_ref(subscriber), text, broadcast=True)
        return await self._settle(subscriber, key, outcome, now, None)

    def _quiet(self, subscriber: Subscriber, now: datetime) -> bool:
        """Whether it is the subscriber's quiet hours (local time)."""
        return in_window(now.astimezone(ZoneInfo(subscriber.timezone)).time(), self.settings.digest.quiet_hours)

    async def _settle(self, subscriber: Subscriber, key: str, outcome: Outcome, now: datetime, local_day: date | None) -> int:
        """Record how a push went; schedule its retry when it failed."""
        moved = ChatRef(outcome.chat_id, subscriber.thread_id) if outcome.chat_id not in (None, subscriber.chat_id) else None
        metrics.pushed(key, outcome, subscriber.next_push_at, utcnow())
        if outcome.ok:
            record = _Sent(subscriber.id, key, now, local_day, moved)
            try:
                await asyncio.to_thread(self.subscriptions.sent, subscriber.id, key, now, local_day, moved)
            except Exception:  # the message is out: never send it again, record it later
                log.exception("push to chat %s was sent but could not be recorded; recording it later", subscriber.chat_id)
                self._remember(record)
            return 1
        if outcome.retry_after is not None:
            # on the tick's clock: its start plus the time it has run plus the wait
            until = now + timedelta(seconds=time.monotonic() - self._started + outcome.retry_after)
            await asyncio.to_thread(self.subscriptions.postpone, subscriber.id, key, until, moved)
            return 0
        assert outcome.error is not None
        retry_at = await asyncio.to_thread(
            self.subscriptions.failed, subscriber.id, key, outcome.error, now, outcome.permanent, local_day, moved
        )
        if not outcome.blocked:
            when = f"retrying at {retry_at:%H:%M:%S} UTC" if retry_at else "given up"
            log.warning("push %s to chat %s failed (%s); %s", key, subscriber.chat_id, outcome.error, when)
        return 0

    def _remember(self, record: _Sent) -> None:
        self._unrecorded[(record.subscriber_id, record.key)] = record
        while len(self._unrecorded) > MAX_UNRECORDED:
            dropped = self._unrecorded.popitem(last=False)[1]
            log.error("dropping the record of push %s to subscriber %s", dropped.key, dropped.subscriber_id)

    async def _record_unrecorded(self) -> None:
        for item, record in list(self._unrecorded.items()):
            try:
                await asyncio.to_thread(
                    self.subscriptions.sent, record.subscriber_id, record.key, record.now, record.local_day, record.moved_to
                )
            except Exception as exc:
                log.warning("still cannot record sent pushes (%s); will try again", exc)
                return
            del self._unrecorded[item]


def _ref(subscriber: Subscriber) -> ChatRef:
    return ChatRef(subscriber.chat_id, subscriber.thread_id, subscriber.chat_type)
