"""pyflakes over the code: no undefined names, no broken code paths that no test executes."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _flakes(*paths):
    res = subprocess.run([sys.executable, "-m", "pyflakes", *map(str, paths)], capture_output=True, text=True)
    return [ln for ln in res.stdout.splitlines() if "undefined name" in ln or "unable to detect undefined names" in ln]


def test_no_undefined_names():
    assert _flakes(ROOT / "theory", ROOT / "verify", ROOT / "examples") == []


def test_the_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    return not_defined_anywhere\n")
    assert len(_flakes(bad)) == 1
