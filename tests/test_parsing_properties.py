"""Property tests for what operators and chats type: any config file, any environment value, any
command argument gives a result or a clear refusal, never a crash."""

from __future__ import annotations

import json
import re
import tempfile
from datetime import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import ConfigError, Settings, load_settings, parse_hhmm
from bot.telegram.handlers import _count_argument

SECTIONS = sorted(Settings.model_fields)
KEYS = sorted({key for section in SECTIONS for key in getattr(Settings.model_fields[section].annotation, "model_fields", {})})
scalars = st.one_of(st.text(max_size=30), st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                    st.booleans())
values = st.one_of(scalars, st.lists(scalars, max_size=3))
names = st.one_of(st.sampled_from(KEYS), st.from_regex(r"[a-z_]{1,12}", fullmatch=True))
sections = st.dictionaries(st.one_of(st.sampled_from(SECTIONS), st.from_regex(r"[a-z]{1,8}", fullmatch=True)),
                           st.dictionaries(names, values, max_size=4), max_size=4)


def toml(data: dict[str, dict]) -> str:
    """``data`` as TOML: one table per section (JSON strings, numbers and arrays are TOML's too)."""
    lines = []
    for section, keys in data.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in keys.items()]
    return "\n".join(lines) + "\n"


def load(text: str) -> Settings | ConfigError:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "newsbot.toml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_settings(path, environ={})
        except ConfigError as exc:
            assert str(exc).startswith(str(path)), str(exc)
            return exc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sections)
def test_any_config_file_loads_or_each_problem_names_its_key(data):
    result = load(toml(data))
    if isinstance(result, ConfigError):
        for line in str(result).splitlines():
            assert re.search(r"key '[^']+': \S", line) or "not valid TOML" in line, line


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_text_as_a_config_file_loads_or_is_refused_in_one_message(text):
    result = load(text)
    assert isinstance(result, (Settings, ConfigError))


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(f"NEWSBOT_{s}_{k}".upper() for s in SECTIONS
                               for k in getattr(Settings.model_fields[s].annotation, "model_fields", {}))),
       st.text(max_size=40).filter(lambda v: "\x00" not in v))
def test_any_environment_value_is_taken_or_refused_naming_the_variable(name, value):
    try:
        load_settings(None, environ={name: value})
    except ConfigError as exc:
        assert name in str(exc), str(exc)


@given(st.text(max_size=12))
def test_a_push_time_is_a_time_of_day_or_a_value_error(text):
    try:
        assert isinstance(parse_hhmm(text), time)
    except ValueError:
        pass


@given(st.lists(st.text(max_size=8), max_size=3), st.integers(1, 100))
def test_a_count_argument_is_a_number_in_range_or_none(args, most):
    count = _count_argument(args, most) if args else None
    assert count is None or (isinstance(count, int) and 1 <= count <= most)
