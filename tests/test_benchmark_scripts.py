"""The benchmark scripts run as ``python benchmarks/NAME.py``: their folder comes first on
``sys.path``, so a script named like a standard-library module would replace it for every other
script and library (``benchmarks/warnings.py`` once broke ``import argparse``)."""

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_no_benchmark_script_is_named_like_a_standard_library_module():
    scripts = sorted(path.stem for path in BENCHMARKS.glob("*.py"))
    assert len(scripts) >= 10
    assert [name for name in scripts if name in sys.stdlib_module_names] == []
