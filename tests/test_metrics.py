"""Prometheus metrics: real ingestion passes counted, the database's numbers exported from the
console's snapshot, scraped over HTTP from the real listener, the token enforced."""

from __future__ import annotations

import socket
from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import ConfigError, load_settings
from bot.console import metrics
from bot.console.server import Console
from bot.ingest.pipeline import Ingestor
from bot.storage import Subscriber
from bot.storage.models import utcnow
from summarizer import Summarizer
from tests.fakes.telegram import FakeTelegram
from tests.support.config import write_config
from tests.support.feeds import serve_demo_portal
from tests.support.web import Reply

TOKEN = "s3cret-console-token"


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a scrape: (name, sorted labels) → value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def console_for(db):
    started: list[Console] = []

    async def start(settings, role: str = "all") -> Console:
        console = Console(settings, db, role)
        await console.start()
        started.append(console)
        return console

    yield start
    for console in started:
        await console.stop()


def sources_config(server) -> str:
    return (
        '[status]\nlisten = "127.0.0.1:0"\n'
        f'[[sources]]\nname = "portal"\nkind = "page"\nurl = "{server.url("/list.html")}"\n'
        'link_pattern = "/news/\\\\d{4}-\\\\d{2}-\\\\d{2}/"\n'
        f'[[sources]]\nname = "broken"\nkind = "rss"\nurl = "{server.url("/down.xml")}"\n'
    )


async def test_fetches_articles_and_summaries_are_counted_and_scraped(server, db, make_settings, console_for):
    serve_demo_portal(server)
    server.routes["/down.xml"] = Reply("oops", 500)
    settings = make_settings(sources_config(server))
    before = {
        "ok": value("newsbot_fetches_total", source="portal", outcome="ok"),
        "error": value("newsbot_fetches_total", source="broken", outcome="error"),
        "stored": value("newsbot_articles_stored_total", source="portal"),
        "extracted": value("newsbot_extraction_seconds_count"),
    }
    reports = await Ingestor(settings, db, Summarizer()).run()
    assert sorted(r.new for r in reports) == [0, 2]
    console = await console_for(settings)
    await console.refresh()
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{console.port}/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    scraped = samples(response.text)
    assert scraped[("newsbot_fetches_total", (("outcome", "ok"), ("source", "portal")))] == before["ok"] + 1
    assert scraped[("newsbot_fetches_total", (("outcome", "error"), ("source", "broken")))] == before["error"] + 1
    assert scraped[("newsbot_articles_stored_total", (("source", "portal"),))] == before["stored"] + 2
    assert scraped[("newsbot_extraction_seconds_count", ())] == before["extracted"] + 2
    assert sum(v for (name, _), v in scraped.items() if name == "newsbot_summaries_total") >= 2
    assert any(name == "newsbot_summarization_seconds_bucket" for name, _ in scraped)
    # from the database snapshot
    assert scraped[("newsbot_source_up", (("source", "portal"),))] == 1
    assert scraped[("newsbot_source_up", (("source", "broken"),))] == 0
    assert scraped[("newsbot_source_consecutive_failures", (("source", "broken"),))] == 1
    assert scraped[("newsbot_source_articles_today", (("source", "portal"),))] == 2
    assert scraped[("newsbot_process_info", (("role", "all"),))] == 1
    assert scraped[("newsbot_processes", (("role", "all"),))] == 1
    assert scraped[("newsbot_heartbeat_timestamp_seconds", ())] > 0
    assert ("newsbot_queue_depth", (("queue", "page_retries"),)) in scraped
    names = {name for name, _ in scraped}
    assert all(n.startswith(("newsbot_", "process_", "python_")) for n in names)
    assert not any("127.0.0.1" in str(labels) for _, labels in scraped)  # never a URL as a label


async def test_subscribers_and_due_pushes_come_from_the_snapshot(db, make_settings, console_for):
    settings = make_settings('[status]\nlisten = "127.0.0.1:0"\n[[regions]]\nname = "梁平區"\n[[regions]]\nname = "萬州區"\n')
    now = utcnow()
    with db.session() as session:
        for n, (language, region, active) in enumerate(
            [("zh-Hant", None, True), ("zh-Hant", "萬州區", True), ("en", "萬州區", True), ("en", "萬州區", False)]
        ):
            session.add(Subscriber(chat_id=n + 1, language=language, push_time="07:30", timezone="Asia/Shanghai",
                                   active=active, region=region, next_push_at=now - timedelta(minutes=1)))
    console = await console_for(settings)
    await console.refresh()
    async with httpx.AsyncClient() as client:
        scraped = samples((await client.get(f"http://127.0.0.1:{console.port}/metrics")).text)
    subscribers = {labels: v for (name, labels), v in scraped.items() if name == "newsbot_subscribers"}
    assert subscribers == {
        (("language", "zh-Hant"), ("region", "梁平區")): 1,
        (("language", "zh-Hant"), ("region", "萬州區")): 1,
        (("language", "en"), ("region", "萬州區")): 1,
    }
    assert scraped[("newsbot_queue_depth", (("queue", "due_pushes"),))] == 3


def test_label_values_are_bounded():
    family = "test-family"
    kept = [metrics.bounded(family, f"value {n}") for n in range(metrics.MAX_LABEL_VALUES + 5)]
    assert kept[: metrics.MAX_LABEL_VALUES] == [f"value {n}" for n in range(metrics.MAX_LABEL_VALUES)]
    assert set(kept[metrics.MAX_LABEL_VALUES :]) == {metrics.OTHER}
    assert metrics.bounded(family, "value 3") == "value 3"  # a known value stays itself
    assert len(metrics.bounded("another", "x" * 500)) == metrics.MAX_LABEL_CHARS


def test_listening_beyond_loopback_needs_a_token(tmp_path):
    path = write_config(tmp_path, '[status]\nlisten = "0.0.0.0:9464"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert "status.token" in str(error.value) and "\n" not in str(error.value)
    settings = load_settings(path, environ={"NEWSBOT_STATUS_TOKEN": TOKEN})
    assert settings.status.token == TOKEN
    with pytest.raises(ConfigError, match="status.listen"):
        load_settings(write_config(tmp_path, '[status]\nlisten = "9464"\n'), environ={})


async def test_the_token_is_required_when_set(db, make_settings, console_for):
    settings = make_settings(f'[status]\nlisten = "127.0.0.1:0"\ntoken = "{TOKEN}"\n')
    console = await console_for(settings)
    base = f"http://127.0.0.1:{console.port}"
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{base}/metrics")).status_code == 401
        assert (await client.get(f"{base}/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await client.get(f"{base}/?token=wrong")).status_code == 401
        assert (await client.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).status_code == 200
        page = await client.get(f"{base}/?token={TOKEN}")
    assert page.status_code == 200 and "<html" in page.text


async def test_a_taken_port_is_a_one_line_config_error(db, make_settings):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        console = Console(make_settings(f'[status]\nlisten = "127.0.0.1:{port}"\n'), db, "worker")
        with pytest.raises(ConfigError, match=f"status.listen: cannot listen on 127.0.0.1:{port}"):
            await console.start()
        await console.stop()


async def test_pushes_flood_waits_and_push_lag_are_counted(db, make_settings):
    from bot.telegram.app import build_application

    token = "777:metrics-token"
    fake = FakeTelegram(token)
    settings = make_settings(f'[telegram]\ntoken = "{token}"\napi_base_url = "{fake.base_url}"\n[weather]\nprovider = "none"\n')
    application = build_application(settings, db, Summarizer(), schedule=False)
    await application.initialize()
    await application.post_init(application)
    now = utcnow()
    with db.session() as session:
        for chat in (11, 12):
            session.add(Subscriber(chat_id=chat, language="en", push_time="07:30", timezone="Asia/Shanghai", active=True,
                                   next_push_at=now - timedelta(minutes=2)))
    fake.flood[12] = 1  # Telegram asks chat 12's push to wait
    before = {
        "sent": value("newsbot_deliveries_total", kind="daily", outcome="sent"),
        "flood": value("newsbot_deliveries_total", kind="daily", outcome="flood_wait"),
        "waits": value("newsbot_flood_waits_total", kind="push"),
        "lag": value("newsbot_push_lag_seconds_count"),
        "lag_sum": value("newsbot_push_lag_seconds_sum"),
    }
    try:
        assert await application.bot_data["services"].pusher.tick(now) == 1
    finally:
        await application.shutdown()
        await application.post_shutdown(application)
        fake.close()
    assert value("newsbot_deliveries_total", kind="daily", outcome="sent") == before["sent"] + 1
    assert value("newsbot_deliveries_total", kind="daily", outcome="flood_wait") == before["flood"] + 1
    assert value("newsbot_flood_waits_total", kind="push") == before["waits"] + 1
    assert value("newsbot_push_lag_seconds_count") == before["lag"] + 1
    assert value("newsbot_push_lag_seconds_sum") - before["lag_sum"] >= 120  # due two minutes before it went out
