"""The report of a check run: one PDF (through LaTeX) and its Markdown twin.

:func:`build_report` turns the results of :func:`verify.engine.runner.check` into an appendix a
theorist can attach to a submission: a title paragraph (what prefdyn checks, the paper, the date,
the exact command that reproduces the report, the versions of prefdyn, Python, its libraries and
pdflatex), a summary table of every claim (id, tag, verdict, scope), then for every claim its
LaTeX (:func:`verify.publish.tex.claim_tex`: statement, scope, hypotheses, verdict and
derivation), a table of its evidence (one row per checker: what it establishes, instances,
precision, tolerance and its kind, worst error, seed, seconds, verdict) and, when refuted, the
counterexample and the command that replays it; then the figures (the MRS-IPO phase diagram with
the thresholds of the 3-cycle, an oscillating and a converging trajectory, the MRS-IPO and
MRS-DPO thresholds side by side).

The tables are built once (:func:`evidence_rows`, :func:`summary_rows`) and written as LaTeX
(:func:`report_tex`) and as Markdown (:func:`report_markdown`), so both say the same thing:

>>> from verify.engine.registry import CheckResult, ClaimResult, Scope, verified
>>> out = verified("no violation in 12 pairs", n=12, dps=30, tolerance="1e-20", tolerance_kind="relative", max_error=0)
>>> r = ClaimResult("DEMO-1", "derived", "a <= b", [CheckResult("numeric", "numeric", out, 0.25, "high-precision instances")],
...                 0.25, "quick", 7, scope=Scope("a, b in [0, 1]"))
>>> row = evidence_rows(r)[0]
>>> row["instances"], row["dps"], row["tolerance"], row["worst error"], row["seed"], row["verdict"]
('12', '30', '1e-20 (relative)', '0', '7', 'verified')
>>> summary_rows([r])
[['DEMO-1', 'derived', 'verified', 'a, b in [0, 1]']]
"""

from __future__ import annotations

import datetime
import importlib.metadata
import importlib.util
import json
import platform
import shutil
import subprocess
import tempfile
import textwrap
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Sequence

from theory.latex import plain_text, render
from verify.engine.registry import REGISTRY, ClaimResult, Registry
from verify.publish.tex import claim_tex, compile_pdf, document

__all__ = [
    "Report",
    "ReportFigure",
    "build_report",
    "report_tex",
    "report_markdown",
    "evidence_rows",
    "summary_rows",
    "versions",
    "verdict_counts",
    "EVIDENCE_COLUMNS",
    "PAPER",
]

#: The paper whose claims prefdyn checks.
PAPER = "How Sampling Shapes LLM Alignment: From One-Shot Optima to Iterative Dynamics (arXiv:2602.12180)"

#: The columns of a claim's evidence table, in order.
EVIDENCE_COLUMNS = ("checker", "evidence", "instances", "dps", "tolerance", "worst error", "seed", "seconds", "verdict")

#: Width (characters) of verbatim lines: a command or an instance never runs off the page.
_VERBATIM_WIDTH = 84


@dataclass
class ReportFigure:
    """One figure of the report: its file name in the document, its caption, and where it is kept.

    ``path`` is the PNG next to the Markdown twin when one is written, else ``None`` (the
    figure lives only inside the PDF).
    """

    name: str
    caption: str
    caption_tex: str
    path: Path | None = None


@dataclass
class Report:
    """A written report: the PDF, its page count, pdflatex's layout problems, the Markdown twin, the figures."""

    pdf: Path
    pages: int | None
    problems: list[str] = field(default_factory=list)
    markdown: Path | None = None
    figures: list[ReportFigure] = field(default_factory=list)
    tex: str = ""


# ----------------------------------------------------------------------------- rows shared by LaTeX and Markdown


def _num(x: Any) -> str:
    """A number in a table cell: exact rationals as ``p/q`` when short, else three significant digits."""
    if x is None:
        return ""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if isinstance(x, Fraction):
        s = str(x)
        return s if len(s) <= 10 else f"{float(x):.3g}"
    if isinstance(x, str):
        try:
            return _num(Fraction(x)) if "/" in x else x
        except (ValueError, ZeroDivisionError):
            return x
    try:
        v = float(x)
    except (TypeError, ValueError, OverflowError):
        return str(x)[:16]
    return "0" if v == 0 else f"{v:.3g}"


def _tolerance(o: Any) -> str:
    if o.tolerance_kind == "exact" or (o.tolerance is not None and o.dps is None and o.tolerance == 0 and o.tolerance_kind is None):
        return "exact"
    if o.tolerance is None:
        return o.tolerance_kind or ""
    return _num(o.tolerance) + (f" ({o.tolerance_kind})" if o.tolerance_kind else "")


def evidence_rows(result: ClaimResult) -> list[dict[str, str]]:
    """One row per checker of ``result``: the :data:`EVIDENCE_COLUMNS` as text, plus ``summary``.

    ``summary`` is the checker's one-line finding, its extent (``covers``), for a margin
    test the decision rule in words, and for certified instances their enclosures. An empty cell means the checker does not state that
    field (``dps`` is empty for exact arithmetic; a proof has no instances).
    """
    rows = []
    for c in result.checks:
        o = c.outcome
        ce = o.counterexample
        summary = o.summary
        if c.covers:
            summary += f". Covers: {c.covers}"
        if o.criterion:
            summary += f". Criterion: {o.criterion}"
        encl = o.details.get("enclosures") if c.evidence == "certified instances" else None
        if encl:
            # a certified result is shown with its enclosures (the first three; the JSON has them all)
            summary += ". Enclosures: " + "; ".join(str(e) for e in encl[:3]) + (f" (and {len(encl) - 3} more)" if len(encl) > 3 else "")
        rows.append(
            {
                "checker": c.checker,
                "evidence": c.evidence or c.kind,
                "instances": "" if o.n_instances is None else str(o.n_instances),
                "dps": "" if o.dps is None else str(o.dps),
                "tolerance": _tolerance(o),
                "worst error": _num(o.max_error),
                "seed": str(ce.seed if ce is not None and ce.seed is not None else result.seed),
                "seconds": f"{c.seconds:.2f}",
                "verdict": o.verdict,
                "summary": summary,
            }
        )
    return rows


def summary_rows(results: Sequence[ClaimResult]) -> list[list[str]]:
    """``[id, tag, verdict, scope]`` for every result."""
    return [[r.id, r.tag, r.verdict, r.scope.text] for r in results]


def verdict_counts(results: Sequence[ClaimResult]) -> str:
    """``"19 proved, 5 verified"`` (verdicts in a fixed order)."""
    order = ("proved", "verified", "inconclusive", "refuted", "error")
    counts = {v: sum(r.verdict == v for r in results) for v in order}
    return ", ".join(f"{n} {v}" for v, n in counts.items() if n)


def versions() -> dict[str, str]:
    """The versions of prefdyn, Python, its libraries and pdflatex (``"not installed"`` when absent)."""
    from verify import __version__

    out = {"prefdyn": __version__, "python": platform.python_version()}
    for name in ("sympy", "mpmath", "numpy", "hypothesis", "matplotlib"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    exe = shutil.which("pdflatex")
    out["pdflatex"] = "not installed"
    if exe is not None:
        try:
            first = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout.splitlines()
            out["pdflatex"] = first[0].strip() if first else "unknown"
        except (OSError, subprocess.SubprocessError):
            out["pdflatex"] = "unknown"
    return out


def _counterexamples(result: ClaimResult) -> list[dict[str, str]]:
    out = []
    for c in result.checks:
        ce = c.outcome.counterexample
        if ce is None:
            continue
        out.append(
            {
                "checker": c.checker,
                "detail": ce.detail or c.outcome.summary,
                "instance": json.dumps(ce.to_dict()["instance"], ensure_ascii=True),
                "seed": "" if ce.seed is None else str(ce.seed),
                "replay": ce.replay,
            }
        )
    return out


# ----------------------------------------------------------------------------- LaTeX

def _tex(s: str) -> str:
    """Plain text as LaTeX (:func:`theory.latex.plain_text`); breaks allowed after , ; / = _ (narrow table columns)."""
    return plain_text(str(s), breaks=",;/=_")


def _verbatim(text: str, *, shell: bool = False) -> str:
    """A ``verbatim`` block whose lines fit the page (a shell command continues with a backslash)."""
    if shell:
        parts = textwrap.wrap(text, _VERBATIM_WIDTH - 2, break_long_words=False, break_on_hyphens=False)
        body = " \\\n  ".join(parts) if parts else ""
    else:
        body = "\n".join(textwrap.wrap(text, _VERBATIM_WIDTH, break_long_words=True, break_on_hyphens=False)) or text
    return "{\\small\n\\begin{verbatim}\n" + body + "\n\\end{verbatim}\n}"


def _colspec(fractions: Sequence[float]) -> str:
    r"""``p`` columns, ragged right, that share ``\linewidth`` in these fractions (column gaps included)."""
    return "".join(
        r">{\raggedright\arraybackslash}p{\dimexpr " + f"{f:.4f}" + r"\linewidth-2\tabcolsep\relax}" for f in fractions
    )


#: Fractions of the line taken by the columns of :data:`EVIDENCE_COLUMNS` (they sum to 1).
_EVIDENCE_WIDTHS = (0.17, 0.135, 0.1, 0.05, 0.17, 0.09, 0.06, 0.085, 0.14)


def _evidence_tex(result: ClaimResult) -> str:
    n = len(EVIDENCE_COLUMNS)
    widths = _EVIDENCE_WIDTHS
    full = _colspec([1.0])
    head = " & ".join(r"\textbf{" + _tex(h) + "}" for h in EVIDENCE_COLUMNS) + r" \\ \hline"
    title = r"\multicolumn{" + str(n) + "}{@{}l}{" + r"\textbf{Evidence of " + _tex(result.id) + "}"
    out = [
        r"{\footnotesize\setlength{\tabcolsep}{2.5pt}",
        r"\begin{longtable}{" + _colspec(widths) + "}",
        title + r"} \\* \hline",
        head,
        r"\endfirsthead",
        title + r" (continued)} \\* \hline",
        head,
        r"\endhead",
        r"\endfoot",
    ]
    for row in evidence_rows(result):
        out.append(" & ".join(_tex(row[c]) for c in EVIDENCE_COLUMNS) + r" \\*")
        out.append(r"\multicolumn{" + str(n) + "}{" + full + "}{" + r"\quad\emph{" + _tex(row["summary"]) + r"}} \\ \hline")
    out += [r"\end{longtable}", "}"]
    for ce in _counterexamples(result):
        out.append(r"\paragraph{Counterexample (" + _tex(ce["checker"]) + ").} " + _tex(ce["detail"]) + ". Instance:")
        out.append(_verbatim(ce["instance"]))
        if ce["replay"]:
            out.append("Replay it (seed " + _tex(ce["seed"]) + "):")
            out.append(_verbatim(ce["replay"], shell=True))
    return "\n".join(out) + "\n"


def _summary_tex(results: Sequence[ClaimResult]) -> str:
    head = r"\textbf{claim} & \textbf{tag} & \textbf{verdict} & \textbf{scope} \\ \hline"
    out = [r"{\small", r"\begin{longtable}{" + _colspec([0.12, 0.1, 0.11, 0.67]) + "}", r"\hline", head, r"\endfirsthead",
           r"\hline", head, r"\endhead", r"\hline", r"\endfoot"]
    out += [" & ".join(_tex(c) for c in row) + r" \\" for row in summary_rows(results)]
    out += [r"\end{longtable}", "}"]
    return "\n".join(out) + "\n"


def _intro_text(results: Sequence[ClaimResult], budget: str, seed: int, date: str) -> str:
    return (
        f"prefdyn checks the claims of {PAPER}: one-shot optima of IPO, DPO and the pairwise losses of the GPO family, "
        "ranking properties, and the iterative MRS dynamics and their thresholds. Each claim states its scope; "
        "a claim is proved only when mechanised proofs cover its whole scope, verified when it is proved in part "
        "or checked on instances (the evidence table says which, at what precision and tolerance), refuted with a "
        f"counterexample. This report lists {len(results)} claims checked on {date} at the {budget} budget with seed "
        f"{seed}: {verdict_counts(results) or 'no claims'}."
    )


def report_tex(
    results: Sequence[ClaimResult],
    *,
    command: str,
    budget: str,
    seed: int,
    figures: Sequence[ReportFigure] = (),
    registry: Registry | None = None,
    date: str | None = None,
    version_table: dict[str, str] | None = None,
) -> str:
    """The complete LaTeX document of the report (see the module docstring for its parts)."""
    reg = REGISTRY if registry is None else registry
    date = date or datetime.date.today().isoformat()
    vers = version_table if version_table is not None else versions()
    body = [_tex(_intro_text(results, budget, seed, date)), "", r"\paragraph{Reproduce this report with}"]
    body.append(_verbatim(command, shell=True))
    body.append(r"\paragraph{Versions.}\mbox{}\par")
    body.append(r"\noindent\begin{tabular}{@{}ll@{}}")
    body += [_tex(k) + " & " + _tex(v) + r" \\" for k, v in vers.items()]
    body.append(r"\end{tabular}")
    body.append(r"\section{Summary}")
    body.append(_summary_tex(results))
    body.append(r"\section{Claims}")
    for r in results:
        claim = reg.get(r.id) if r.id in reg else None
        if claim is not None:
            body.append(claim_tex(claim, r))
        else:  # a result whose claim is not registered here: what the result itself says
            body.append(r"\subsection{" + _tex(f"{r.id} [{r.tag}]") + "}\n" + _tex(r.statement) + "\n")
            body.append(r"\paragraph{Scope.} " + _tex(r.scope.text))
            body.append(r"\paragraph{Verdict.} " + _tex(f"{r.verdict}: {r.coverage}"))
        body.append(_evidence_tex(r))
    if figures:
        body.append(r"\clearpage")
        body.append(r"\section{Figures}")
        for f in figures:
            body += [
                r"\begin{figure}[htbp]",
                r"\centering",
                r"\includegraphics[width=0.85\textwidth]{" + f.name + "}",
                r"\caption{" + f.caption_tex + "}",
                r"\end{figure}",
            ]
    return document("\n".join(body), "prefdyn report: the claims checked, their evidence and figures")


# ----------------------------------------------------------------------------- Markdown


def _md(s: str) -> str:
    """Text in a Markdown table cell (pipes escaped, one line)."""
    return str(s).replace("|", "\\|").replace("\n", " ")


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)] + ["| " + " | ".join(_md(c) for c in r) + " |" for r in rows]


def report_markdown(
    results: Sequence[ClaimResult],
    *,
    command: str,
    budget: str,
    seed: int,
    figures: Sequence[ReportFigure] = (),
    figure_dir: str = "",
    registry: Registry | None = None,
    date: str | None = None,
    version_table: dict[str, str] | None = None,
) -> str:
    """The Markdown twin of :func:`report_tex`: the same text and tables; derivations as ``$$`` math, figures as image links."""
    reg = REGISTRY if registry is None else registry
    date = date or datetime.date.today().isoformat()
    vers = version_table if version_table is not None else versions()
    out = ["# prefdyn report: the claims checked, their evidence and figures", "", _intro_text(results, budget, seed, date), ""]
    out += ["Reproduce this report with", "", "```sh", command, "```", "", "Versions:", ""]
    out += _md_table(["", "version"], list(vers.items())) + ["", "## Summary", ""]
    out += _md_table(["claim", "tag", "verdict", "scope"], summary_rows(results)) + ["", "## Claims", ""]
    for r in results:
        claim = reg.get(r.id) if r.id in reg else None
        out += [f"### {r.id} [{r.tag}]", "", r.statement, ""]
        if claim is not None and claim.latex:
            out += ["$$" + claim.latex + "$$", ""]
        out += [f"**Scope.** {r.scope.text}", ""]
        if len(r.scope.parts) > 1:
            out += [f"- {p}" for p in r.scope.parts] + [""]
        if claim is not None and claim.hypotheses:
            out += [f"**Hypotheses.** {', '.join(claim.hypotheses)}", ""]
        if claim is not None and claim.source:
            out += [f"**Source.** {claim.source}", ""]
        out += [f"**Verdict.** {r.verdict}: {r.coverage}", ""]
        if claim is not None and claim.expressions is not None:
            for sec in claim.expressions():
                out += [f"**{sec.title}**", ""]
                if sec.statement:
                    out += [sec.statement, ""]
                for label, expr in sec.items:
                    out += [f"*{label}*", "", "$$" + render(expr) + "$$", ""]
        out += ["**Evidence.**", ""]
        rows = evidence_rows(r)
        out += _md_table(list(EVIDENCE_COLUMNS) + ["finding"], [[row[c] for c in EVIDENCE_COLUMNS] + [row["summary"]] for row in rows])
        out.append("")
        for ce in _counterexamples(r):
            out += [f"**Counterexample ({ce['checker']}).** {ce['detail']}. Instance:", "", "```json", ce["instance"], "```", ""]
            if ce["replay"]:
                out += [f"Replay it (seed {ce['seed']}):", "", "```sh", ce["replay"], "```", ""]
    if figures:
        out += ["## Figures", ""]
        for f in figures:
            link = f"{figure_dir}/{f.name}.png" if figure_dir else f"{f.name}.png"
            out += [f"![{f.caption}]({link})", "", f"*{f.caption}*", ""]
    return "\n".join(out)


# ----------------------------------------------------------------------------- figures

#: The 3-cycle margin, the parameters of the two trajectories and the phase grid per budget.
_CYCLE_A = 0.4
_TRAJ_ALPHA, _TRAJ_LAM, _TRAJ_BETAS = 0.5, 1.0, (3.0, 6.0)
_PHASE_GRID = {"quick": (31, 31, 1000, 2), "standard": (41, 41, 1500, 3), "thorough": (61, 61, 3000, 3)}


def _figures(out_dir: Path, *, budget: str, seed: int, formats: tuple[str, ...] = ("pdf",)) -> list[ReportFigure]:
    """Draw the report's figures into ``out_dir`` (one file per format each); return them with their captions.

    The figures are those of the commands (:mod:`verify.plots`, one style): the ``prefdyn phase``
    diagram, two ``prefdyn simulate`` runs (one on each side of the DYN-1 threshold) and the
    ``prefdyn dpo-phase`` threshold comparison.
    """
    import numpy as np

    from verify.exact.families import cyclic_float
    from verify.numerics.losses import loss as make_loss
    from verify.numerics.phase import balanced_curve, dyn1_curve, phase_diagram, run_summary
    from verify.numerics.simulate import simulate
    from verify.plots import phase_figure, save, threshold_comparison_figure, trajectory_figure

    a = _CYCLE_A
    P = cyclic_float(a)
    figs: list[ReportFigure] = []

    n_al, n_bl, steps, starts = _PHASE_GRID.get(budget, _PHASE_GRID["quick"])
    alphas = np.linspace(0, 1, n_al)
    bls = np.linspace(0, 1.6 * float(balanced_curve(np.array([0.0]), P)[0]), n_bl)
    d = phase_diagram(P, alphas, bls, lam=1.0, steps=steps, n_starts=starts, seed=seed)
    fine = np.linspace(0, 1, 201)
    extra = [("MRS-DPO threshold (DPO-4): critical lambda/beta_dpo", fine, balanced_curve(fine, P) / 4)]
    for fmt in formats:
        save(phase_figure(d, title=rf"MRS-IPO phase diagram: $P_{{\mathrm{{cyc}}}}({a:g})$, $\lambda = 1$", extra_curves=extra),
             out_dir / f"phase.{fmt}")
    grid = f"{n_al} x {n_bl} grid, {steps} steps from {starts} starts per point, seed {seed}"
    figs.append(
        ReportFigure(
            "phase",
            f"MRS-IPO phase diagram of the 3-cycle P_cyc({a:g}) (DYN-5) over (alpha, beta lambda), lambda = 1, pi_0 = pi_ref "
            f"uniform ({grid}). Solid: the DYN-1 threshold beta lambda = sqrt(3 (1 - alpha^2))/a; dashed: q = 1 (DYN-2); "
            "the MRS-DPO threshold (DPO-4) is drawn on the same axis read as lambda/beta_DPO.",
            rf"MRS-IPO phase diagram of the 3-cycle $P_{{\mathrm{{cyc}}}}({a:g})$ (DYN-5) over $(\alpha, \beta\lambda)$, "
            rf"$\lambda = 1$, $\pi_0 = \pi_{{\mathrm{{ref}}}}$ uniform ({_tex(grid)}). Solid: the DYN-1 threshold "
            r"$\beta\lambda = \sqrt{3(1-\alpha^2)}/a$; dashed: $q = 1$ (DYN-2); the MRS-DPO threshold (DPO-4) is drawn on "
            r"the same axis, read as $\lambda/\beta_{\mathrm{DPO}}$.",
        )
    )

    crit = float(dyn1_curve(np.array([_TRAJ_ALPHA]), a)[0])
    for beta in sorted(_TRAJ_BETAS, reverse=True):
        res = simulate(P, _TRAJ_ALPHA, beta, _TRAJ_LAM, steps=3000, seed=seed, record=True)
        L = make_loss("ipo", scale=beta)
        s = run_summary(P, L, _TRAJ_ALPHA, _TRAJ_LAM, res)
        m = s["metrics"]
        status = "oscillating" if m["oscillating"] else ("converged" if m["converged"] else "not converged")
        side = "above" if beta > crit else "below"
        name = "trajectory_" + ("above" if beta > crit else "below")
        for fmt in formats:
            fig = trajectory_figure(
                res.trajectory[:, 0, :],
                title=rf"MRS-IPO: $P_{{\mathrm{{cyc}}}}({a:g})$",
                loss=L,
                params={"alpha": _TRAJ_ALPHA, "beta": beta, "lambda": _TRAJ_LAM},
                fixed_point=None if s["fixed_point"] is None else s["fixed_point"]["pi"],
                status=s["status"],
                period=s["period"],
            )
            save(fig, out_dir / f"{name}.{fmt}")
        period = f", period about {m['period']:.1f} steps" if m["oscillating"] else ""
        figs.append(
            ReportFigure(
                name,
                f"MRS-IPO trajectory on P_cyc({a:g}), alpha = {_TRAJ_ALPHA:g}, beta = {beta:g}, lambda = {_TRAJ_LAM:g} "
                f"(3000 steps from a near-uniform start, seed {seed}): beta lambda is {side} the DYN-1 threshold {crit:.3g}; "
                f"the run is {status}{period}.",
                rf"MRS-IPO trajectory on $P_{{\mathrm{{cyc}}}}({a:g})$, $\alpha = {_TRAJ_ALPHA:g}$, $\beta = {beta:g}$, "
                rf"$\lambda = {_TRAJ_LAM:g}$ (3000 steps from a near-uniform start, seed {seed}): $\beta\lambda$ is {side} "
                rf"the DYN-1 threshold ${crit:.3g}$; the run is {_tex(status + period)}.",
            )
        )

    for fmt in formats:
        save(threshold_comparison_figure(a), out_dir / f"thresholds.{fmt}")
    figs.append(
        ReportFigure(
            "thresholds",
            f"Thresholds of the uniform point of P_cyc({a:g}): MRS-IPO (DYN-1, critical beta lambda) and MRS-DPO "
            "(DPO-4, critical lambda/beta_DPO = the IPO curve / 4); the uniform point is unstable above each curve.",
            rf"Thresholds of the uniform point of $P_{{\mathrm{{cyc}}}}({a:g})$: MRS-IPO (DYN-1, critical $\beta\lambda$) and "
            r"MRS-DPO (DPO-4, critical $\lambda/\beta_{\mathrm{DPO}}$, the IPO curve divided by 4); the uniform point is "
            r"unstable above each curve.",
        )
    )
    return figs


# ----------------------------------------------------------------------------- the report


def build_report(
    results: Sequence[ClaimResult],
    *,
    out_pdf: Any,
    figures: bool = True,
    command: str = "prefdyn report --out report.pdf",
    budget: str | None = None,
    seed: int | None = None,
    markdown_path: Any = None,
    registry: Registry | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Report:
    """Write the report of ``results`` as one PDF through pdflatex (and its Markdown twin when ``markdown_path``).

    Parameters
    ----------
    results : the :class:`~verify.engine.registry.ClaimResult` of each claim, in the order to print
    out_pdf : the PDF to write (its folder must exist)
    figures : draw the figures (needs matplotlib)
    command : the command that reproduces the report, printed on its first page
    budget, seed : of the run (default: read from the results)
    markdown_path : also write the Markdown twin there; its figures go as PNGs to ``<stem>_figures/`` next to it
    registry : where the claims of the results are registered (default: the global registry)
    progress : ``progress(done, total, what)`` called at each stage

    Raises :class:`verify.publish.tex.TexError` when pdflatex is missing or fails.
    """
    results = list(results)
    budget = budget if budget is not None else (results[0].budget if results else "quick")
    seed = seed if seed is not None else (results[0].seed if results else 0)
    out_pdf = Path(out_pdf)
    md_path = Path(markdown_path) if markdown_path is not None else None
    for p in (out_pdf, md_path):
        if p is not None and not p.parent.is_dir():
            raise FileNotFoundError(f"{str(p)!r}: folder {str(p.parent)!r} does not exist")
    stages = 2 + int(figures) + int(md_path is not None)
    step = 0

    def tick(what: str) -> None:
        nonlocal step
        if progress is not None:
            progress(step, stages, what)
        step += 1

    vers = versions()
    date = datetime.date.today().isoformat()
    figs: list[ReportFigure] = []
    with tempfile.TemporaryDirectory(prefix="prefdyn-report-") as tmp:
        work = Path(tmp)
        assets: dict[str, Path] = {}
        if figures:
            tick("figures")
            figs = _figures(work, budget=budget, seed=seed, formats=("pdf", "png") if md_path is not None else ("pdf",))
            assets = {f"{f.name}.pdf": work / f"{f.name}.pdf" for f in figs}
        tick("LaTeX")
        tex = report_tex(results, command=command, budget=budget, seed=seed, figures=figs, registry=registry, date=date, version_table=vers)
        tick("pdflatex")
        compiled = compile_pdf(tex, out_pdf, assets=assets)
        if md_path is not None:
            tick("Markdown")
            fig_dir = ""
            if figs:
                fig_dir = f"{md_path.stem}_figures"
                (md_path.parent / fig_dir).mkdir(exist_ok=True)
                for f in figs:
                    f.path = md_path.parent / fig_dir / f"{f.name}.png"
                    shutil.copyfile(work / f"{f.name}.png", f.path)
            md_path.write_text(
                report_markdown(results, command=command, budget=budget, seed=seed, figures=figs, figure_dir=fig_dir,
                                registry=registry, date=date, version_table=vers)
                + "\n"
            )
    if progress is not None:
        progress(stages, stages, "")
    return Report(compiled.pdf, compiled.pages, compiled.problems, md_path, figs, tex)
