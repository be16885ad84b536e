"""theory/ is exact and symbolic: no numpy, no mpmath, no float literals."""

import ast
import pathlib

THEORY = pathlib.Path(__file__).resolve().parents[1] / "theory"
FORBIDDEN = {"numpy", "mpmath", "scipy", "verify"}


def _modules():
    return sorted(THEORY.glob("*.py"))


def test_theory_imports_no_numeric_library():
    bad = []
    for path in _modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module.split(".")[0]]
            bad += [(path.name, n) for n in names if n in FORBIDDEN]
    assert not bad, bad


def test_theory_has_no_float_literals():
    bad = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                bad.append((path.name, node.lineno, node.value))
    assert not bad, bad


def test_the_layering_test_can_fail(tmp_path):
    src = "import numpy as np\nx = 0.5\n"
    tree = ast.parse(src)
    imports = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    floats = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, float)]
    assert imports == ["numpy"] and floats == [0.5]
