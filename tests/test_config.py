"""Configuration: defaults, TOML, environment overrides, and errors that name file and key."""

import pytest

from bot.config import ConfigError, load_settings, parse_hhmm
from tests.conftest import write_config


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
        ('[[sources]]\nname = "x"\nkind = "ftp"\nurl = "u"\n', "sources.0.kind", "'rss', 'page' or 'files'"),
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
