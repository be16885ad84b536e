"""LaTeX of the claims: a real pdflatex compiles every export without a box or macro problem.

The export of ``prefdyn latex`` and ``claim_tex`` with the verdicts of every built-in claim (the
session's ``quick_results``) are compiled by pdflatex and their logs read by ``log_problems``: any
overfull or underfull box and any undefined control sequence fails. Planted problems show that the
log reader catches each kind. The notation (``\\pi_{\\mathrm{ref}}``, ``\\beta_{\\mathrm{DPO}}``) and
the simplification with the constraints that hold (``sum(mu) = 1``, ``P_ji = 1 - P_ij``) are checked
on the output.
"""

import os
import re
import shutil
import subprocess
import time

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import ipo
from theory.latex import Equation, Note, display, on_simplex, prose, render, symbol_latex, tidy, width_pt
from verify.cli import main
from verify.engine.registry import REGISTRY
from verify.engine.runner import load_builtin_claims
from verify.publish.tex import TexError, claim_tex, claims_document, compile_pdf, document, hypothesis_name

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


@pytest.fixture(scope="module")
def export_tex():
    """The export of every claim, as ``prefdyn latex`` writes it, and the seconds it took."""
    load_builtin_claims()
    start = time.perf_counter()
    tex = claims_document(list(REGISTRY))
    return tex, time.perf_counter() - start


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


# --------------------------------------------------------------------------- no box or macro problem


@pytestmark_compile
def test_the_export_has_no_overfull_or_underfull_box_and_no_undefined_macro(export_tex, tmp_path):
    tex, _ = export_tex
    res = compile_pdf(tex, tmp_path / "all.pdf", runs=1)
    assert res.problems == [], "\n".join(res.problems)
    assert res.pages is not None and res.pages > 10
    for c in REGISTRY:
        assert c.id in tex


@pytestmark_compile
def test_every_claim_with_its_verdict_compiles_clean(quick_results, tmp_path):
    load_builtin_claims()
    claims = [c for c in REGISTRY if c.id in quick_results]
    assert len(claims) == len(quick_results) >= 20
    body = "\n".join(claim_tex(c, quick_results[c.id]) for c in claims)
    for c in claims:
        r = quick_results[c.id]
        assert r.verdict in body and prose(c.checkers[0].name) in body
    res = compile_pdf(document(body, "Every claim with its verdict"), tmp_path / "verdicts.pdf", runs=1)
    assert res.problems == [], "\n".join(res.problems)


@pytestmark_compile
@pytest.mark.parametrize(
    "planted, kind",
    [
        (r"\noindent\mbox{" + "x" * 400 + "}", "Overfull \\hbox"),
        (r"\noindent\hbox to 300pt{a}", "Underfull \\hbox"),
        (r"a \undefinedprefdynmacro{} b", "! Undefined control sequence"),
    ],
    ids=["overfull", "underfull", "undefined-macro"],
)
def test_log_problems_catches_a_planted_problem_on_a_real_compile(planted, kind, tmp_path):
    clean = compile_pdf(document("A clean paragraph.", "Control"), tmp_path / "clean.pdf", runs=1)
    assert clean.problems == []
    res = compile_pdf(document(planted + "\n\nA clean paragraph.", "Control"), tmp_path / "planted.pdf", runs=1, halt_on_error=False)
    assert any(p.startswith(kind) for p in res.problems), res.problems


@pytestmark_compile
def test_a_failed_compile_raises_a_clear_error(tmp_path):
    with pytest.raises(TexError, match="pdflatex failed"):
        compile_pdf(document(r"a \undefinedprefdynmacro{} b", "Control"), tmp_path / "x.pdf", runs=1)


@pytestmark_compile
def test_prose_of_hostile_text_compiles_clean(tmp_path):
    texts = [
        "50% of # cases & {braces} ~ tilde ^ caret \\ backslash $x$ and `code_with_under` --flag",
        "pi ∝ pi_ref exp(beta P mu) with α ≤ 1, β ≥ 0, μ ∈ Δ_K ⇒ x → ∞, ± ×, “quotes” — dash § ✓",
        "P[i,j] = 1 - P[j,i], ||S||_2 < 1, x*(mu) = argmin, (<=) and (=>), a^T P a, 1e-7, 4x4, K = 2..8",
        "unbalanced ( brackets ] and } braces {, mu_interior, sum_{i<j} w_ij (v_i - v_j)^2 ...",
        "`pi_0 = pi_ref = uniform` and verify.numerics.batch, docs/claims.md, mu_t = lambda pi_t",
    ]
    body = "\n\n".join(prose(t) for t in texts)
    res = compile_pdf(document(body, "Prose"), tmp_path / "prose.pdf", runs=1)
    assert res.problems == [], "\n".join(res.problems)


# --------------------------------------------------------------------------- notation


def test_the_export_speaks_the_notation_of_the_claims_reference(export_tex):
    tex, _ = export_tex
    assert r"\pi_{\mathrm{ref}" in tex and r"\beta_{\mathrm{DPO}}" in tex and r"\pi_{\mathrm{ref},0}" in tex
    for bad in ("piref", "pizero", r"\pi^{ref}", r"\pi^{\mathrm{ref}}", r"\mathrm{dpo}", "beta_dpo", "pi_ref", "p_{0 1}"):
        assert bad not in tex, bad
    assert r"\lambda" in tex and "lam " not in tex and r"\varepsilon" in tex
    # P + P^T = 11^T: the lower triangle is written as 1 - P_ij, so every printed entry P_ij has i < j
    entries = re.findall(r"P_\{([0-9])([0-9])\}", tex)
    assert entries and all(i < j for i, j in entries), sorted(set(entries))


def test_symbol_names_go_through_the_printer():
    assert [symbol_latex(n) for n in ("piref_0", "pizero_2", "beta_dpo", "lam", "mu_1", "p_0_2")] == [
        r"\pi_{\mathrm{ref},0}",
        r"\pi_{0,2}",
        r"\beta_{\mathrm{DPO}}",
        r"\lambda",
        r"\mu_{1}",
        "P_{02}",
    ]
    b, lam = sympy.Symbol("beta_dpo", positive=True), sympy.Symbol("lam")
    assert render(lam / b) == r"\frac{\lambda}{\beta_{\mathrm{DPO}}}"


def test_prose_converts_unicode_words_and_code():
    assert prose("pi ∝ pi_ref") == r"$\pi \propto \pi_{\mathrm{ref}}$"
    assert prose("pi_0 = pi_ref") == r"$\pi_0 = \pi_{\mathrm{ref}}$"
    assert prose("beta_dpo > 0") == r"$\beta_{\mathrm{DPO}} > 0$"
    assert prose("has a unique minimiser") == "has a unique minimiser"
    assert r"\texttt{loss\_" in prose("`loss_type`") and r"\texttt" not in prose("`mu`")
    assert hypothesis_name("mu_interior") == r"$\mu$ interior" and hypothesis_name("strict_sst") == "strict SST"


def test_every_claim_statement_typesets_without_a_stray_character():
    """The claims' own prose (the unicode ∝ of DYN-4 included) becomes LaTeX with no unknown character."""
    load_builtin_claims()
    for c in REGISTRY:
        for text in (c.statement, c.scope.text, *c.scope.parts, c.note, c.argument, *c.cites, c.source):
            out = prose(text)
            assert out.count("?") == text.count("?"), (c.id, text)  # no character printed as "?" (unknown)
            assert not re.search(r"[^\x00-\x7f]", out.replace("§", "")), (c.id, out)
            assert out.count("$") % 2 == 0, (c.id, out)


# --------------------------------------------------------------------------- simplification with the constraints


def test_the_hessian_is_printed_with_sum_mu_equal_to_one():
    sy = ipo.ipo_symbols(3)
    raw = ipo.stated_hessian(sy)
    # unsimplified, a diagonal entry holds every mu (the control: the check below can fail)
    assert set(raw[0, 0].free_symbols) >= set(sy.mu)
    item = dict(ipo.latex_sections()[0].items)["Hessian, K = 3, with mu_0 + mu_1 + mu_2 = 1"]
    H = item.rhs
    for k in range(3):
        assert H[k, k].free_symbols == {sy.mu[k]}, H[k, k]  # 4 mu_k (1 - mu_k)
    # equal to the stated Hessian on the simplex
    on = {sy.mu[2]: 1 - sy.mu[0] - sy.mu[1]}
    assert (H - raw).subs(on).expand() == sympy.zeros(3, 3)


def test_tidy_and_on_simplex_are_equalities_and_cheap():
    m = sympy.symbols("mu_0:4")
    x, y = sympy.symbols("x y")
    e = -4 * m[0] ** 2 + 4 * m[0] * sum(m)
    assert on_simplex(e, m) == 4 * m[0] * (1 - m[0])
    assert sympy.expand(tidy((y - x) ** 2 + (x - y) ** 2) - 2 * (x - y) ** 2) == 0
    big = sympy.expand(sum((m[i] - m[j]) ** 3 for i in range(4) for j in range(4)) * (x + y) ** 3)
    start = time.perf_counter()
    assert sympy.expand(tidy(big) - big) == 0
    assert time.perf_counter() - start < 10


def test_the_export_takes_seconds_not_minutes(export_tex):
    _, seconds = export_tex
    assert seconds < 60, f"the export took {seconds:.1f} s"


# --------------------------------------------------------------------------- breaking lines


def test_a_long_sum_is_broken_into_lines_that_fit():
    x = sympy.symbols("x_0:60")
    tex = display(Equation("L", sympy.Add(*[x[i] * x[i + 1] for i in range(59)])))
    assert tex.startswith(r"\begin{align*}")
    lines = tex.split("\n")[1:-1]
    assert len(lines) > 2 and all(width_pt(line.replace("&", "").rstrip("\\ ")) < 440 for line in lines)


def test_a_wide_matrix_is_written_entry_by_entry():
    x = sympy.symbols("x_0:9")
    wide = sympy.Matrix(3, 3, lambda i, j: sympy.Add(*[x[k] ** (i + j + k + 2) for k in range(9)]))
    tex = display(Equation("J", wide))
    assert "J_{00}" in tex and "J_{22}" in tex and "pmatrix" not in tex
    small = display(Equation("J", sympy.Matrix([[x[0], x[1]], [x[2], x[3]]])))
    assert "pmatrix" in small


def test_a_note_is_prose_not_a_formula():
    assert display(Note("f is linear near 0")).strip() == "$f$ is linear near 0"


# --------------------------------------------------------------------------- claim_tex and the command


def test_claim_tex_has_statement_scope_hypotheses_source_and_derivation(quick_results):
    load_builtin_claims()
    c = REGISTRY.get("IPO-1")
    tex = claim_tex(c, quick_results["IPO-1"])
    assert tex.startswith(r"\subsection*{IPO-1")
    for part in ("Statement.", "Scope.", "Hypotheses.", "Source.", "Verdict.", "Derivation:", r"$\mu$ interior"):
        assert part in tex, part
    for check in quick_results["IPO-1"].checks:
        assert prose(check.checker) in tex
    bare = claim_tex(c, derivation=False)
    assert "Verdict." not in bare and "Derivation:" not in bare


def test_latex_verdicts_flag_prints_the_verdicts(tmp_path):
    out = tmp_path / "v.tex"
    assert main(["latex", "--claim", "IPO-2", "--verdicts", "--out", str(out)]) == 0
    tex = out.read_text()
    assert "Verdict." in tex and "IPO-2" in tex


def test_latex_unknown_claim_and_missing_folder_are_input_errors(tmp_path, capsys):
    assert main(["latex", "--claim", "NOPE-9"]) == 2
    assert "unknown claim id" in capsys.readouterr().err
    assert main(["latex", "--out", str(tmp_path / "missing" / "x.tex")]) == 2


# --------------------------------------------------------------------------- prose never breaks LaTeX

#: every control sequence prose() may emit (LaTeX, amsmath, amssymb)
KNOWN_COMMANDS = set(
    """alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi rho sigma tau
    upsilon phi varphi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega propto le ge ne approx to
    leftarrow Rightarrow Leftarrow iff mapsto in notin subset subseteq cup cap pm times cdot infty sum prod sqrt partial
    nabla forall exists neg top circ odot dots mathbb mathbf mathrm operatorname text texttt textbf allowbreak colon
    mathord exp log ln sin cos max min sup inf lim det sim leftrightarrow emptyset S textbackslash textasciitilde
    textasciicircum textless textgreater textbar begin end""".split()
)


def _commands(tex):
    return set(re.findall(r"\\([A-Za-z]+)", tex))


def _balanced(tex):
    depth = 0
    for tok in re.findall(r"\\[{}]|[{}]", tex):
        if tok in ("{", "}"):
            depth += 1 if tok == "{" else -1
            if depth < 0:
                return False
    return depth == 0


PIECES = list("ab xPK_^*/()[]{}|<>=-+.,;:`%&#~\\'\"0123 ") + ["pi_ref", "mu", "beta_dpo", " sum ", "1^T", "∝", "≤", "é", "∑", "\n    "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_prose_emits_known_commands_balanced_braces_and_closed_math(text):
    """Random text (with the pieces that trip a converter) becomes LaTeX that cannot break a document."""
    # ($...$ is the caller's LaTeX, passed through as it is, so the pieces have no dollar)
    out = prose(text)
    assert _commands(out) <= KNOWN_COMMANDS, (text, out)
    assert _balanced(out), (text, out)
    assert (out.count("$") - out.count(r"\$")) % 2 == 0, (text, out)


def test_the_prose_checks_can_fail():
    assert not _balanced("{a") and not _balanced(r"a}{") and _balanced(r"\{a")
    assert _commands(r"$\undefinedprefdynmacro x$") - KNOWN_COMMANDS == {"undefinedprefdynmacro"}



def test_a_broken_sum_never_prints_a_plus_before_a_minus(export_tex):
    """The LOSS-1 hinge weights once printed '+ - 2 mu_2 P_02 ...' where a distributed term was negative."""
    import re

    tex = export_tex[0] if isinstance(export_tex, tuple) else export_tex
    assert not re.search(r"\+\s+-\s", tex), "a line of a broken sum starts with '+ -'"


@pytest.mark.parametrize("text", ["a lone $5 and pi ∝ pi_ref ± 1e-3", "kept math $x ∝ y ≤ z$ and text ≥ 0", "two $a$ then $ alone ∝"])
def test_prose_leaves_no_unicode_mathematics_for_pdflatex(text):
    """A dollar sign without its partner is a dollar; unicode mathematics is converted inside kept $...$ too."""
    out = prose(text)
    assert all(ord(ch) < 128 for ch in out), out
