"""``prefdyn report``: one PDF with every claim, its evidence, the figures, the versions and the command.

The report is compiled with a real pdflatex and read back with ``pdftotext``/``pdfinfo``; the
built-in claims come from the session fixture ``quick_results`` (checked once per session).
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys
from collections import Counter
from fractions import Fraction

import pytest

from verify.cli import main
from verify.engine.registry import CheckResult, Claim, ClaimResult, Counterexample, Outcome, Registry, Checker, Scope, verified
from verify.publish.report import EVIDENCE_COLUMNS, build_report, evidence_rows, versions
from verify.publish.tex import claim_tex, compile_pdf, document

ROOT = pathlib.Path(__file__).resolve().parents[1]
USER_CLAIMS = ROOT / "examples" / "user_claims.py"

#: Outside CI a machine without TeX skips the compiled tests; in CI (.ci/run installs both) they must run.
needs_tex = pytest.mark.skipif(
    not os.environ.get("CI") and any(shutil.which(t) is None for t in ("pdflatex", "pdftotext", "pdfinfo")),
    reason="needs pdflatex (texlive-latex-base) and pdftotext/pdfinfo (poppler-utils); .ci/run installs them",
)


def pdf_text(path) -> str:
    """The text of a PDF, with shell commands that the report wraps (`` \\`` at the line end) joined again."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r" \\\n\s*", " ", text)


def pdf_pages(path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def _widths(problems):
    """Layout problems without their line numbers (the same box gives the same message anywhere)."""
    return Counter(re.sub(r"(detected at|at lines?) .*$", "", p).strip() for p in problems)


# ----------------------------------------------------------------------------- the report of every built-in claim


@pytest.fixture(scope="module")
def full_report(quick_results, tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    results = list(quick_results.values())
    cmd = "prefdyn report --out report.pdf --budget quick --seed 0 --markdown report.md"
    rep = build_report(results, out_pdf=d / "report.pdf", command=cmd, budget="quick", seed=0, markdown_path=d / "report.md")
    return rep, results, cmd


@needs_tex
def test_report_has_every_claim_verdict_command_and_versions(full_report):
    rep, results, cmd = full_report
    assert rep.pdf.is_file() and rep.pdf.read_bytes().startswith(b"%PDF")
    pages = pdf_pages(rep.pdf)
    assert pages == rep.pages
    assert len(results) // 2 <= pages <= 6 * len(results), pages
    text = pdf_text(rep.pdf)
    for r in results:
        assert re.search(rf"\b{re.escape(r.id)}\b", text), r.id
    for verdict in {r.verdict for r in results}:
        assert verdict in text
    assert cmd in text
    for name, version in versions().items():
        assert name in text and version in text, (name, version)
    assert "arXiv:2602.12180" in text
    # the evidence table of every claim, with its header
    assert text.count("Evidence of ") >= len(results)
    for column in ("instances", "tolerance", "worst", "seed", "verdict"):
        assert column in text


@needs_tex
def test_report_figures_are_in_the_pdf_and_the_markdown(full_report):
    rep, results, cmd = full_report
    names = [f.name for f in rep.figures]
    assert names == ["phase", "trajectory_above", "trajectory_below", "thresholds"]
    text = pdf_text(rep.pdf)
    assert "Figures" in text and f"Figure {len(names)}" in text
    assert "oscillating" in text and "converged" in text
    md = rep.markdown.read_text()
    for r in results:
        assert f"### {r.id} [" in md
    assert cmd in md and "| checker | evidence |" in md
    for f in rep.figures:
        assert f.path is not None and f.path.stat().st_size > 10_000, f  # a drawn PNG, not an empty canvas
        assert f"]({f.path.parent.name}/{f.name}.png)" in md


@needs_tex
def test_report_layout_problems_all_come_from_the_claims_latex(full_report, tmp_path):
    """The report's own parts (title, tables, counterexamples, figures) add no overfull or underfull box."""
    rep, results, cmd = full_report
    from verify.engine.registry import REGISTRY

    body = "".join(claim_tex(REGISTRY.get(r.id), r) for r in results)
    claims_only = compile_pdf(document(body, "claims"), tmp_path / "claims.pdf")
    extra = _widths(rep.problems) - _widths(claims_only.problems)
    assert not extra, extra


# ----------------------------------------------------------------------------- the report's own parts, planted text


def _demo() -> tuple[Registry, ClaimResult]:
    reg = Registry()
    long_instance = {"P": [[Fraction(k, 97) for k in range(12)] for _ in range(4)], "note": "tilde ~ caret ^ percent %"}
    ok = verified(
        "50 draws of x_k & y_k with 100% agreement; $5 ~ ^ {braces} \\backslash; pi ∝ pi_ref ± 1e-3 --controls",
        n=50, dps=70, tolerance="1e-50", tolerance_kind="relative-or-absolute", max_error=Fraction(1, 10**60),
    )
    bad = Outcome(
        "refuted", "the bound fails", counterexample=Counterexample(long_instance, 3, "the predicate returned False",
                                                                      "prefdyn check --claim DEMO-1 --seed 3 --module "
                                                                      "/a/very/long/folder/name/that/goes/on/and/on/claims_of_my_own.py"))
    err = Outcome("error", "ZeroDivisionError: " + "a long message " * 20)
    checks = [
        CheckResult("numeric 70 digits", "numeric", ok, 0.5, "high-precision instances", "50 random instances"),
        CheckResult("hypothesis search", "property", bad, 1.25, "search"),
        CheckResult("a checker with a rather long name", "numeric", err, 0.01, "high-precision instances"),
    ]
    c = Claim("DEMO-1", "a_k <= b_k for every k (50% of the time & more)", "user",
              [Checker("numeric 70 digits", "numeric", lambda ctx: ok, evidence="high-precision instances", covers="x")],
              scope=Scope("every K >= 2; every P with P_ij + P_ji = 1"))
    reg.add(c)
    return reg, ClaimResult("DEMO-1", "user", c.statement, checks, 1.76, "quick", 3, scope=c.scope)


def test_evidence_rows_state_every_column():
    reg, r = _demo()
    rows = evidence_rows(r)
    assert [row["verdict"] for row in rows] == ["verified", "refuted", "error"]
    assert set(EVIDENCE_COLUMNS) <= set(rows[0])
    assert rows[0]["tolerance"] == "1e-50 (relative-or-absolute)" and rows[0]["dps"] == "70" and rows[0]["instances"] == "50"
    assert rows[0]["worst error"] == "1e-60" and rows[1]["seed"] == "3" and rows[1]["seconds"] == "1.25"
    assert "Covers: 50 random instances" in rows[0]["summary"]


@needs_tex
def test_report_own_parts_lay_out_cleanly_with_hostile_text(tmp_path):
    """Special characters, Unicode, a long instance, a long replay command, an error: no layout problem at all."""
    reg, r = _demo()
    rep = build_report([r], out_pdf=tmp_path / "demo.pdf", figures=False, registry=reg, budget="quick", seed=3,
                       command="prefdyn report --out demo.pdf --module /a/very/long/folder/name/that/goes/on/and/on/"
                               "claims_of_my_own.py --claim DEMO-1 --budget quick --seed 3")
    assert rep.problems == [], rep.problems
    text = pdf_text(rep.pdf)
    assert "DEMO-1" in text and "refuted" in text and "error" in text
    assert "prefdyn check --claim DEMO-1 --seed 3 --module" in text and "claims_of_my_own.py" in text
    assert "x_k & y_k with 100% agreement" in text and "--controls" in text
    assert '"1/97"' in text  # the instance, exactly


# ----------------------------------------------------------------------------- the command line


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@needs_tex
def test_cli_report_of_one_claim(capsys, tmp_path):
    out = tmp_path / "r.pdf"
    code, stdout, stderr = run(capsys, "report", "--claim", "IPO-2", "--out", str(out), "--no-figures", "--quiet")
    assert code == 0, stderr
    assert stderr == ""
    assert str(out) in stdout and "1 proved" in stdout
    text = pdf_text(out)
    assert "IPO-2" in text and "proved" in text and "Figures" not in text
    assert f"prefdyn report --out {out} --claim IPO-2 --budget quick --seed 0 --no-figures" in text
    assert pdf_pages(out) >= 1


@needs_tex
def test_cli_report_of_a_refuted_user_claim_shows_its_counterexample(tmp_path):
    # a fresh process: the user module registers its claims in the global registry
    out, md = tmp_path / "user.pdf", tmp_path / "user.md"
    res = subprocess.run(
        [sys.executable, "-m", "verify.cli", "report", "--module", str(USER_CLAIMS), "--claim", "USER-false-top",
         "--out", str(out), "--no-figures", "--markdown", str(md), "--quiet"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert res.returncode == 1, res.stderr  # refuted, like prefdyn check; the PDF is written all the same
    text = pdf_text(out)
    assert "USER-false-top" in text and "refuted" in text
    assert "Counterexample (property)" in text
    assert f"prefdyn check --claim USER-false-top --seed 0 --module {USER_CLAIMS}" in text
    assert '"1/2"' in text  # the shrunk instance, as exact numbers
    mdt = md.read_text()
    assert "**Counterexample (property).**" in mdt and f"--module {USER_CLAIMS}" in mdt


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--out", "{tmp}/missing/r.pdf"], "folder"),
        (["--out", "{tmp}/r.txt"], "expected a file name ending in .pdf"),
        (["--out", "{tmp}"], "expected a file name ending in .pdf"),
        (["--out", "{tmp}/r.pdf", "--markdown", "{tmp}/r.html"], "--markdown"),
        (["--out", "{tmp}/r.pdf", "--claim", "NOPE-1"], "unknown claim id 'NOPE-1'"),
        (["--out", "{tmp}/r.pdf", "--module", "{tmp}/missing.py"], "does not exist"),
    ],
)
def test_cli_report_bad_input_exits_2_with_one_line(capsys, tmp_path, argv, message):
    code, out, err = run(capsys, "report", *[a.format(tmp=tmp_path) for a in argv], "--quiet")
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("prefdyn report: error:") and message in err, err
    assert not (tmp_path / "r.pdf").exists()


def test_cli_report_without_pdflatex_says_what_to_install(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = run(capsys, "report", "--claim", "IPO-2", "--out", str(tmp_path / "r.pdf"), "--quiet")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "pdflatex" in err and "texlive-latex-base" in err, err


@needs_tex
def test_cli_report_without_matplotlib_leaves_out_the_figures(capsys, tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    out = tmp_path / "r.pdf"
    code, stdout, stderr = run(capsys, "report", "--claim", "IPO-2", "--out", str(out), "--quiet")
    assert code == 0
    assert "note: no figures" in stderr and "prefdyn[plot]" in stderr
    assert "0 figures" in stdout and "Figures" not in pdf_text(out)
