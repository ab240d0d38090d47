"""docs/config-reference.md is what the settings models say: regenerate it when they change."""

from pathlib import Path

from bot.config import _setting_variables
from bot.config_reference import render

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "config-reference.md"


def test_the_reference_in_the_repository_matches_the_settings_models():
    assert REFERENCE.read_text(encoding="utf-8") == render(), (
        "docs/config-reference.md is out of date: python -m bot.config_reference > docs/config-reference.md")


def test_every_key_and_variable_is_in_the_reference():
    text = render()
    for variable, (_section, key) in _setting_variables().items():
        assert f"`{variable}`" in text and f"`{key}`" in text, variable
    assert "`[[sources]]`" in text and "| required |" in text
