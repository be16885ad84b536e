"""prefdyn latex writes a standalone document that a real pdflatex compiles."""

import os
import shutil
import subprocess

import pytest

from verify.cli import main

PDFLATEX = shutil.which("pdflatex")


def test_document_contains_claim_sections(tmp_path, capsys):
    out = tmp_path / "claims.tex"
    assert main(["latex", "--claim", "IPO-1", "--out", str(out)]) == 0
    tex = out.read_text()
    assert tex.startswith(r"\documentclass") and tex.rstrip().endswith(r"\end{document}")
    assert "IPO-1" in tex and r"\begin{equation*}" in tex
    assert "standalone" not in tex and "breqn" not in tex


def test_latex_to_stdout(capsys):
    assert main(["latex", "--claim", "IPO-1"]) == 0
    assert r"\usepackage{amsmath}" in capsys.readouterr().out


def _compile(path):
    return subprocess.run(
        [PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )


if PDFLATEX is None and not os.environ.get("CI"):
    # Outside CI a machine without TeX cannot run the compile test (strict xfail: it must fail
    # there, and starts passing, so failing strict, once pdflatex is installed); CI installs TeX.
    pytestmark_compile = pytest.mark.xfail(reason="pdflatex is not installed (apt-get install texlive-latex-base)", strict=True)
else:

    def pytestmark_compile(f):
        return f


@pytestmark_compile
def test_export_of_all_claims_compiles_with_pdflatex(tmp_path):
    assert PDFLATEX is not None, "pdflatex is required in CI (.ci/run installs texlive-latex-base)"
    out = tmp_path / "all.tex"
    assert main(["latex", "--out", str(out)]) == 0
    res = _compile(out)
    assert res.returncode == 0, res.stdout[-3000:]
    assert (tmp_path / "all.pdf").stat().st_size > 1000


@pytestmark_compile
def test_a_broken_document_fails_to_compile(tmp_path):
    assert PDFLATEX is not None
    bad = tmp_path / "bad.tex"
    bad.write_text("\\documentclass{article}\\begin{document}$\\frac{1}{$\\end{document}\n")
    assert _compile(bad).returncode != 0
