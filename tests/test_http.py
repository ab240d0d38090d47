"""Politeness and robustness of the HTTP client against a loopback server."""

import asyncio

import pytest

from bot.config import FetchSettings
from bot.ingest.http import FetchError, PoliteClient, TransientError
from tests.support.web import Reply


def fetch_settings(**overrides) -> FetchSettings:
    values = {"min_delay_seconds": 0, "max_retries": 1, "timeout_seconds": 2, "max_bytes": 10_000, "allow_hosts": ["127.0.0.1"]}
    values.update(overrides)
    return FetchSettings(**values)


async def test_user_agent_and_robots(server):
    server.routes["/robots.txt"] = Reply("User-agent: *\nDisallow: /private/\n", headers={"Content-Type": "text/plain"})
    server.routes["/public/a.html"] = Reply("<p>ok</p>")
    server.routes["/private/b.html"] = Reply("<p>secret</p>")
    async with PoliteClient(fetch_settings()) as client:
        response = await client.get(server.url("/public/a.html"))
        with pytest.raises(FetchError, match="robots.txt"):
            await client.get(server.url("/private/b.html"))
    assert response.content == b"<p>ok</p>"
    assert server.hits_for("/private/b.html") == []
    assert len(server.hits_for("/robots.txt")) == 1  # cached per host
    assert server.hits_for("/public/a.html")[0].headers["user-agent"].startswith("newsbot/")


async def test_robots_can_be_ignored_by_config(server):
    server.routes["/robots.txt"] = Reply("User-agent: *\nDisallow: /\n", headers={"Content-Type": "text/plain"})
    server.routes["/a"] = Reply("fine")
    async with PoliteClient(fetch_settings(respect_robots=False)) as client:
        assert (await client.get(server.url("/a"))).content == b"fine"


async def test_conditional_get_gives_not_modified(server):
    def page(hit):
        if hit.headers.get("if-none-match") == '"v1"':
            return Reply(status=304)
        return Reply("<p>v1</p>", headers={"ETag": '"v1"', "Last-Modified": "Fri, 24 Feb 2023 10:00:00 GMT"})

    server.routes["/feed"] = page
    async with PoliteClient(fetch_settings()) as client:
        first = await client.get(server.url("/feed"))
        second = await client.get(server.url("/feed"), etag=first.etag, last_modified=first.last_modified)
    assert not first.not_modified and first.etag == '"v1"'
    assert second.not_modified and second.content == b""
    assert server.hits_for("/feed")[1].headers["if-modified-since"] == "Fri, 24 Feb 2023 10:00:00 GMT"


async def test_retry_after_is_honoured_then_succeeds(server):
    replies = iter([Reply("busy", 503, {"Retry-After": "1"}), Reply("<p>ok</p>")])
    server.routes["/busy"] = lambda hit: next(replies)
    async with PoliteClient(fetch_settings()) as client:
        response = await client.get(server.url("/busy"))
    first, second = server.hits_for("/busy")
    assert response.content == b"<p>ok</p>"
    assert second.start - first.start >= 0.9


async def test_rate_limited_until_retries_run_out(server):
    server.routes["/limited"] = Reply("slow down", 429, {"Retry-After": "0"})
    async with PoliteClient(fetch_settings(max_retries=2)) as client:
        with pytest.raises(TransientError, match="HTTP 429"):
            await client.get(server.url("/limited"))
    assert len(server.hits_for("/limited")) == 3


async def test_client_errors_are_not_retried(server):
    async with PoliteClient(fetch_settings(max_retries=3)) as client:
        with pytest.raises(FetchError, match="HTTP 404"):
            await client.get(server.url("/missing"))
    assert len(server.hits_for("/missing")) == 1


async def test_size_cap(server):
    server.routes["/big"] = Reply("x" * 20_000)
    async with PoliteClient(fetch_settings(max_bytes=10_000)) as client:
        with pytest.raises(FetchError, match="10000-byte cap"):
            await client.get(server.url("/big"))


async def test_timeout_is_reported(server):
    server.routes["/slow"] = Reply("late", delay=1.5)
    async with PoliteClient(fetch_settings(timeout_seconds=0.3, max_retries=0)) as client:
        with pytest.raises(TransientError, match="timed out"):
            await client.get(server.url("/slow"))


async def test_connection_refused_is_a_fetch_error():
    async with PoliteClient(fetch_settings(max_retries=0)) as client:
        with pytest.raises(FetchError, match="ConnectError"):
            await client.get("http://127.0.0.1:9/nothing")


async def test_one_request_in_flight_per_host_with_min_delay(server):
    for n in range(4):
        server.routes[f"/p{n}"] = Reply(f"page {n}", delay=0.1)
    async with PoliteClient(fetch_settings(min_delay_seconds=0.3)) as client:
        await asyncio.gather(*(client.get(server.url(f"/p{n}")) for n in range(4)))
    pages = sorted((h for h in server.hits if h.path.startswith("/p")), key=lambda h: h.start)
    assert server.max_in_flight == 1
    assert all(b.start - a.start >= 0.28 for a, b in zip(pages, pages[1:]))
