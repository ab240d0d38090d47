"""Migrations give the same data whenever they run: none imports the project's live code."""

import ast
from pathlib import Path

import pytest

VERSIONS = Path(__file__).resolve().parents[1] / "bot" / "storage" / "migrations" / "versions"


@pytest.mark.parametrize("path", sorted(VERSIONS.glob("*.py")), ids=lambda p: p.name)
def test_a_migration_imports_no_project_code(path):
    imported = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"bot", "summarizer"}, f"{path.name} imports {sorted(imported & {'bot', 'summarizer'})}"


def test_the_search_form_frozen_in_0007_folds_script_width_and_case():
    import importlib.util

    spec = importlib.util.spec_from_file_location("m0007", VERSIONS / "0007_reader_features.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folding = module._folding()
    assert len(folding) > 3000
    assert module._search_form("梁平區 Ｇ5 高速, Hello_World", folding) == "梁平区g5高速hello world"
