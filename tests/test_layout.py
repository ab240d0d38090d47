"""The test suite's own layout: no module imports a test module or ``conftest.py``.

Fixtures live in ``tests/conftest.py`` (pytest finds them without an import), plain helpers in
``tests/support/``, stand-ins for outside services in ``tests/fakes/``; test modules and the
benchmarks import from those two packages only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKED = sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "benchmarks").rglob("*.py")])


def imported(source: str, module: str) -> list[str]:
    """Every module that ``source`` (the text of ``module``, dotted) imports, absolute, with
    ``from package import name`` also giving ``package.name`` (it may be a module)."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing module's package
                package = module.split(".")[: -node.level]
                base = ".".join([*package, *([base] if base else [])])
            names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return names


def forbidden(names: list[str]) -> list[str]:
    """The names among ``names`` that are test modules or a conftest (``tests.test_x``, ``tests.conftest``)."""
    return [name for name in names
            if name.startswith("tests.") and name.split(".")[-1].startswith(("test_", "conftest"))]


@pytest.mark.parametrize("path", CHECKED, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_module_imports_a_test_module_or_a_conftest(path):
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    offending = forbidden(imported(path.read_text(encoding="utf-8"), module))
    assert not offending, (
        f"{path.relative_to(ROOT)} imports {', '.join(sorted(set(offending)))}: put shared fixtures in tests/conftest.py, "
        "helpers in tests/support/, fakes in tests/fakes/")


@pytest.mark.parametrize("source, module", [
    ("from tests.test_bot import DAY", "tests.test_push_engine"),
    ("import tests.test_cli", "benchmarks.x"),
    ("from tests import test_weather", "tests.test_bot"),
    ("from . import test_weather", "tests.test_bot"),
    ("from .conftest import Reply", "tests.test_http"),
    ("from tests.conftest import write_config", "tests.support.cli"),
])
def test_the_check_finds_each_way_of_importing_one(source, module):
    assert forbidden(imported(source, module))


def test_the_check_lets_helpers_and_fakes_through():
    source = "from tests.support.bot import DAY\nfrom tests.fakes.telegram import FakeTelegram\nimport pytest"
    assert forbidden(imported(source, "tests.test_bot")) == []
