"""Plain helpers that test modules import: constants, builders, runners.

Fixtures live in ``tests/conftest.py`` (pytest finds them without an import); stand-ins for
what lies outside the bot (the Bot API, Open-Meteo, an OpenAI server, Telegraph, a hostile web,
tiny models) live in ``tests/fakes/``. A test module never imports another test module.
"""
