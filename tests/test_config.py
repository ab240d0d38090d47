"""Configuration: defaults, TOML, environment overrides, and errors that name file and key."""

import pytest

from bot.config import ConfigError, environment_warnings, load_settings, parse_hhmm
from tests.support.config import write_config


def test_embedded_defaults_run_offline():
    settings = load_settings(None, environ={})
    assert settings.database.url == "sqlite:///newsbot.db"
    assert settings.region.timezone == "Asia/Shanghai" and settings.region.language == "zh-Hant"
    assert {s.kind for s in settings.sources} == {"files"}
    assert all(settings.resolve_path(s.url).parent.is_dir() for s in settings.sources)


def test_file_and_environment(tmp_path):
    path = write_config(tmp_path, '[region]\nlanguage = "en"\n[[sources]]\nname = "a"\nkind = "rss"\nurl = "http://x/feed"\n')
    settings = load_settings(path, environ={"NEWSBOT_TELEGRAM_TOKEN": "123:abc", "NEWSBOT_TELEGRAM_ADMINS": "1, 2"})
    assert settings.region.language == "en"
    assert settings.telegram.token == "123:abc" and settings.telegram.admins == [1, 2]
    assert [s.name for s in settings.sources] == ["a"]
    assert settings.source_file == path.resolve()


def test_config_file_from_environment_has_no_demo_sources(tmp_path):
    path = write_config(tmp_path, '[digest]\nmax_items = 3\n')
    settings = load_settings(None, environ={"NEWSBOT_CONFIG": str(path)})
    assert settings.digest.max_items == 3 and settings.sources == []


def test_environment_overrides_file(tmp_path):
    path = write_config(tmp_path, "")
    settings = load_settings(path, environ={"NEWSBOT_DATABASE_URL": "sqlite:///other.db"})
    assert settings.database.url == "sqlite:///other.db"


@pytest.mark.parametrize(
    "text, key, reason",
    [
        ('[region]\ntimezone = "Mars/Olympus"\n', "region.timezone", "unknown IANA timezone"),
        ('[region]\nlanguag = "en"\n', "region.languag", "unknown key"),
        ('[digest]\ndefault_time = "25:99"\n', "digest.default_time", "not a time of day"),
        ('[[sources]]\nname = "x"\nkind = "ftp"\nurl = "u"\n', "sources.0.kind", "unknown source kind 'ftp' (known: rss, page, files)"),
        ('[[sources]]\nname = "x"\nkind = "page"\nurl = "u"\nlink_pattern = "("\n', "sources.0.link_pattern", "regular expression"),
        ('[[sources]]\nkind = "rss"\nurl = "u"\n', "sources.0.name", "Field required"),
    ],
)
def test_bad_keys_are_named_with_the_file(tmp_path, text, key, reason):
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    message = str(error.value)
    assert str(path) in message and f"key '{key}'" in message and reason in message


def test_toml_syntax_error_and_missing_file(tmp_path):
    path = write_config(tmp_path, "[region\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, environ={})
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_parse_hhmm():
    assert parse_hhmm("07:30").hour == 7 and parse_hhmm("7：05").minute == 5
    for bad in ("25:00", "7", "07:60", "abc"):
        with pytest.raises(ValueError):
            parse_hhmm(bad)


def test_storage_keep_days_from_file_and_environment(tmp_path):
    assert load_settings(None, environ={}).storage.keep_days == 60
    path = write_config(tmp_path, "[storage]\nkeep_days = 30\n")
    assert load_settings(path, environ={}).storage.keep_days == 30
    assert load_settings(path, environ={"NEWSBOT_STORAGE_KEEP_DAYS": "7"}).storage.keep_days == 7
    with pytest.raises(ConfigError, match=f"{path}: key 'storage.keep_days': Input should be greater than or equal to 1"):
        load_settings(write_config(tmp_path, "[storage]\nkeep_days = 0\n"), environ={})


def test_webhook_secret_is_checked_against_what_telegram_accepts(tmp_path):
    good = "A-Za-z0-9_" * 25
    assert load_settings(None, environ={"NEWSBOT_TELEGRAM_WEBHOOK_SECRET": good}).telegram.webhook_secret == good
    for bad in ("with space", "ümlaut", "semi;colon", "x" * 257):
        with pytest.raises(ConfigError, match="NEWSBOT_TELEGRAM_WEBHOOK_SECRET: key 'telegram.webhook_secret': Telegram accepts"):
            load_settings(None, environ={"NEWSBOT_TELEGRAM_WEBHOOK_SECRET": bad})


@pytest.mark.parametrize(
    "url, reason",
    [
        ("notaurl", "not a database URL (e.g. 'sqlite:///newsbot.db'"),
        ("postgres://user:pw@host/db", "unknown database kind 'postgres'"),
        ("mysql+mysqldb://user@host/db", "the database driver for 'mysql+mysqldb' is not installed"),
    ],
)
def test_bad_database_url_names_the_variable_or_the_file(tmp_path, url, reason):
    with pytest.raises(ConfigError) as error:
        load_settings(None, environ={"NEWSBOT_DATABASE_URL": url})
    assert str(error.value).startswith(f"NEWSBOT_DATABASE_URL: key 'database.url': {reason}")
    path = write_config(tmp_path, f'[database]\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert str(error.value).startswith(f"{path}: key 'database.url': {reason}")
    assert "pw" not in str(error.value)


def test_environment_errors_name_the_variable_also_next_to_a_file(tmp_path):
    path = write_config(tmp_path, '[region]\nlanguage = "en"\n')
    for file in (None, path):
        with pytest.raises(ConfigError) as error:
            load_settings(file, environ={"NEWSBOT_DIGEST_MAX_ITEMS": "abc", "NEWSBOT_TELEGRAM_ADMINS": "1,x"})
        assert str(error.value).splitlines() == [
            "NEWSBOT_TELEGRAM_ADMINS: key 'telegram.admins.1': Input should be a valid integer, unable to parse string as an integer",
            "NEWSBOT_DIGEST_MAX_ITEMS: key 'digest.max_items': Input should be a valid integer, unable to parse string as an integer",
        ]


def test_misspelled_variables_are_named_with_the_closest_setting():
    assert environment_warnings({
        "NEWSBOT_TELEGRAM_TOKN": "x", "NEWSBOT_CONFIG": "a.toml", "NEWSBOT_TEST_POSTGRES_URL": "postgresql://",
        "NEWSBOT_DATABASE_URL": "sqlite://", "NEWSBOT_FOO": "1", "HOME": "/root",
    }) == [
        "NEWSBOT_FOO is not a setting and is ignored (see docs/configuration.md for the names)",
        "NEWSBOT_TELEGRAM_TOKN is not a setting and is ignored (did you mean NEWSBOT_TELEGRAM_TOKEN?)",
    ]


def test_parse_hhmm_reads_full_width_digits_and_refuses_other_digit_forms():
    assert parse_hhmm("０７：３０") == parse_hhmm("07:30")
    for bad in ("２５:００", "⁰⁷:³⁰", "٠٧:٣٠", "①:00"):
        with pytest.raises(ValueError, match="not a time of day"):
            parse_hhmm(bad)


SOURCES = "".join(f'[[sources]]\nname = "{n}"\nkind = "rss"\nurl = "http://x/{n}"\n' for n in ("A", "B", "C"))
REGIONS = ('[[regions]]\nname = "梁平區"\nsources = ["A"]\n'
           '[[regions]]\nname = "Wanzhou"\nlanguage = "en"\nlatitude = 30.81\nlongitude = 108.41\nsources = ["B"]\n')


def test_regions_replace_region_and_share_unlisted_sources(tmp_path):
    settings = load_settings(write_config(tmp_path, SOURCES + REGIONS), environ={})
    assert settings.region.name == "梁平區" and settings.region_names() == ["梁平區", "Wanzhou"]
    assert settings.region_sources("Wanzhou") == {"B", "C"} and settings.region_sources(None) == {"A", "C"}
    assert settings.region_for("gone").name == "梁平區"  # a chat of a region since removed: the default
    single = load_settings(write_config(tmp_path, SOURCES), environ={})
    assert single.all_regions() == [single.region] and single.region_sources(None) is None


def test_channels_are_validated(tmp_path):
    text = SOURCES + REGIONS + '[[channels]]\nchat_id = -100123\nregion = "Wanzhou"\ntime = "７:05"\n'
    [channel] = load_settings(write_config(tmp_path, text), environ={}).channels
    assert (channel.chat_id, channel.region, channel.time) == (-100123, "Wanzhou", "07:05")


@pytest.mark.parametrize(
    "text, key, reason",
    [
        (SOURCES + REGIONS.replace('["B"]', '["Z"]'), "regions.1.sources", "no [[sources]] entry named 'Z'"),
        (SOURCES + REGIONS + REGIONS, "regions", "the name '梁平區' is used twice"),
        (SOURCES + '[region]\nname = "x"\n' + REGIONS, "region", "use either [region] or [[regions]], not both"),
        (SOURCES + '[[channels]]\nchat_id = 1\nregion = "Paris"\n', "channels.0.region", "no region named 'Paris'"),
        ('[[channels]]\nchat_id = 1\ntime = "25:00"\n', "channels.0.time", "is not a time of day"),
        ('[[channels]]\ntime = "07:00"\n', "channels.0.chat_id", "Field required"),
        ('[alerts]\ntemperature_drop = 0\n', "alerts.temperature_drop", "greater than 0"),
    ],
)
def test_region_and_channel_errors_name_file_and_key(tmp_path, text, key, reason):
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert str(path) in str(error.value) and f"key '{key}'" in str(error.value) and reason in str(error.value)


def test_a_relative_sqlite_path_in_the_file_is_beside_the_file(tmp_path, monkeypatch):
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "newsbot.toml").write_text('[database]\nurl = "sqlite:///state/news.db"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_settings("etc/newsbot.toml", environ={}).database.url == f"sqlite:///{folder / 'state' / 'news.db'}"
    from_environment = load_settings("etc/newsbot.toml", environ={"NEWSBOT_DATABASE_URL": "sqlite:///news.db"})
    assert from_environment.database.url == "sqlite:///news.db"  # a variable's path is the working directory's
    assert load_settings(None, environ={}).database.url == "sqlite:///newsbot.db"
