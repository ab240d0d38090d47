"""Shared fixtures (pytest finds them here without an import): a loopback HTTP server the tests
program route by route, a database, settings, the real Application against the fake Bot API,
``newsbot run`` processes, the trained tiny models. Plain helpers are in ``tests/support/``,
stand-ins for outside services in ``tests/fakes/``."""

from __future__ import annotations

import json
import os
import shutil
from typing import Callable

import pytest
from sqlalchemy import create_engine, text

from bot.config import Settings, load_settings
from bot.storage import Database
from summarizer import Summarizer
from tests.fakes.open_meteo import open_meteo_payload
from tests.fakes.telegram import FakeTelegram
from tests.support.bot import ADMIN, DAY, TOKEN, Clock, start_application, stop
from tests.support.config import POSTGRES_URL, write_config
from tests.support.data import DEMO, SEED_TEXT
from tests.support.processes import Bots
from tests.support.web import LocalServer, Reply

os.environ["HF_HUB_OFFLINE"] = "1"  # belt and braces: models load from local folders only


@pytest.fixture
def server():
    """A loopback HTTP server (``tests/support/web.py``): set ``server.routes[path] = Reply(...)``."""
    instance = LocalServer()
    yield instance
    instance.close()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory):
    """An empty SQLite database at the newest schema, migrated once: each ``db`` starts as a copy."""
    path = tmp_path_factory.mktemp("migrated") / "empty.db"
    Database(f"sqlite:///{path}").close()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path, migrated_sqlite):
    """A migrated database: SQLite in a temp folder, and PostgreSQL when CI provides one."""
    if request.param == "sqlite":
        shutil.copyfile(migrated_sqlite, tmp_path / "test.db")
        url = f"sqlite:///{tmp_path / 'test.db'}"
    elif POSTGRES_URL:
        url = POSTGRES_URL
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        pytest.skip("set NEWSBOT_TEST_POSTGRES_URL to test PostgreSQL (.ci/run starts one when it can)")
    database = Database(url)
    yield database
    database.close()


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """The in-process CLI reads the environment and the working directory: neither may leak in."""
    for name in list(os.environ):
        if name.startswith("NEWSBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def make_settings(tmp_path) -> Callable[[str], Settings]:
    """Settings from TOML text, with fast politeness delays and retries for tests."""

    def make(text: str = "") -> Settings:
        if "[fetch]" not in text:
            text += "\n[fetch]\nmin_delay_seconds = 0\nmax_retries = 1\ntimeout_seconds = 5\n"
        return load_settings(write_config(tmp_path, text), environ={})

    return make


@pytest.fixture
def fake_telegram():
    """The fake Bot API on 127.0.0.1 (``tests/fakes/telegram.py``), for ``TOKEN``."""
    fake = FakeTelegram(TOKEN)
    yield fake
    fake.close()


@pytest.fixture
def news_site(server):
    """The demo district's news site (four demo articles behind ``/list.html``) and Open-Meteo
    (``/v1/forecast``, the demo day's forecast)."""
    listing = "".join(f'<a href="/news/{n}.html">{n}</a>' for n in range(1, 5))
    server.routes["/list.html"] = Reply(listing)
    pages = ["liangping/2023-02-24-training.html", "liangping/2023-02-25-prepared-food.html",
             "chongqing/2023-02-25-railway.html", "english/2023-02-25-wetland.html"]
    for n, page in enumerate(pages, 1):
        server.routes[f"/news/{n}.html"] = Reply((DEMO / page).read_bytes())
    server.routes["/v1/forecast"] = Reply(json.dumps(open_meteo_payload(DAY.date())))
    return server


@pytest.fixture
async def make_bot(db, fake_telegram, news_site, make_settings):
    """``await make_bot(clock)`` starts the real Application (long polling against the fake) on
    ``news_site``; its services. Every one started is stopped afterwards."""
    started = []
    settings = make_settings(
        f'[telegram]\ntoken = "{TOKEN}"\napi_base_url = "{fake_telegram.base_url}"\nadmins = [{ADMIN}]\n'
        f'[weather]\napi_base_url = "{news_site.url("/v1")}"\nmax_retries = 0\n'
        f'[[sources]]\nname = "梁平新聞網"\nkind = "page"\nurl = "{news_site.url("/list.html")}"\n'
    )

    async def make(clock: Clock):
        application = await start_application(settings, db, Summarizer(), clock)
        started.append(application)
        return application, application.bot_data["services"]

    yield make
    for application in started:
        await stop(application)


@pytest.fixture
async def bot(make_bot):
    """The real Application on the demo day: (application, services, clock)."""
    clock = Clock(DAY)
    application, services = await make_bot(clock)
    yield application, services, clock


PAGES = {
    "/a/news/1.html": "liangping/2023-02-24-training.html",
    "/a/news/2.html": "liangping/2023-02-25-prepared-food.html",
    "/b/news/1.html": "chongqing/2023-02-25-railway.html",
    "/b/news/2.html": "english/2023-02-25-wetland.html",
}


@pytest.fixture
def site(server):
    """Two news sites (a: Liangping's, Traditional; b: Chongqing's, Simplified and English) and Open-Meteo."""
    for prefix in ("a", "b"):
        server.routes[f"/{prefix}/list.html"] = Reply("".join(
            f'<a href="{path}">{path}</a>' for path in PAGES if path.startswith(f"/{prefix}/")))
    for path, page in PAGES.items():
        server.routes[path] = Reply((DEMO / page).read_bytes())
    server.routes["/v1/forecast"] = Reply(json.dumps(open_meteo_payload(DAY.date())))
    return server


@pytest.fixture
async def start_bot(db, fake_telegram, site, make_settings):
    """``await start_bot(extra, clock, summarizer)`` starts the real Application on ``site`` with
    extra config; its services. Every one started is stopped afterwards."""
    started = []

    async def start(extra: str = "", clock: Clock | None = None, summarizer: Summarizer | None = None):
        settings = make_settings(
            f'[telegram]\ntoken = "{TOKEN}"\napi_base_url = "{fake_telegram.base_url}"\n'
            f'[weather]\napi_base_url = "{site.url("/v1")}"\nmax_retries = 0\n'
            f'[[sources]]\nname = "梁平新聞網"\nkind = "page"\nurl = "{site.url("/a/list.html")}"\n'
            f'[[sources]]\nname = "重庆日报"\nkind = "page"\nurl = "{site.url("/b/list.html")}"\n' + extra
        )
        application = await start_application(settings, db, summarizer or Summarizer(), clock or Clock(DAY))
        started.append(application)
        return application.bot_data["services"]

    yield start
    for application in started:
        await stop(application)


@pytest.fixture
async def bots(tmp_path):
    """``await bots.start(config)`` starts a ``newsbot run`` (for ``TOKEN``, so with
    ``fake_telegram``); every one is killed at teardown."""
    processes = Bots(tmp_path, TOKEN)
    try:
        yield processes
    finally:
        await processes.kill_all()


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory):
    """The tiny models (``tests/fakes/tiny_models.py``) trained once per session, and their models.yaml."""
    from tests.fakes.tiny_models import build_models_folder  # torch and transformers: only when asked for

    return build_models_folder(tmp_path_factory.mktemp("models"), [SEED_TEXT.read_text(encoding="utf-8")])
