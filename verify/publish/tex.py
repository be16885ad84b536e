"""LaTeX of claims: one claim's statement, scope, hypotheses, verdict and derivation; documents; pdflatex.

Every prefdyn document uses :data:`PREAMBLE` (packages of ``texlive-latex-base`` only). A claim's
body is :func:`claim_tex`; :func:`document` wraps bodies into an ``article``; :func:`compile_pdf`
runs a real pdflatex and :func:`log_problems` lists the overfull and underfull boxes and undefined
control sequences of its log (a clean document has none).

>>> log_problems("Overfull \\\\hbox (3.0pt too wide) detected at line 7\\nall fine")
['Overfull \\\\hbox (3.0pt too wide) detected at line 7']
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from theory.latex import escape_text, render

__all__ = ["PREAMBLE", "claim_tex", "document", "log_problems", "compile_pdf", "CompileResult", "TexError"]

PREAMBLE = "\n".join(
    [
        r"\usepackage[T1]{fontenc}",
        r"\usepackage{lmodern}",
        r"\usepackage{amsmath}",
        r"\usepackage{amssymb}",
        r"\usepackage[margin=2.2cm]{geometry}",
        r"\usepackage{graphicx}",
        r"\usepackage{longtable}",
        r"\usepackage{array}",
        r"\usepackage{url}",
        r"\allowdisplaybreaks",
        r"\setcounter{MaxMatrixCols}{20}",
        r"\emergencystretch=3em",
    ]
)


class TexError(RuntimeError):
    """pdflatex is missing or failed; the message says what to do."""


def _para(label: str, text: str) -> str:
    return r"\paragraph{" + escape_text(label) + "} " + escape_text(text) + "\n"


def claim_tex(claim: Any, result: Any = None, *, derivation: bool = True) -> str:
    """The LaTeX body of one claim (a :class:`verify.engine.registry.Claim`), with its verdict when ``result``."""
    out = [r"\subsection{" + escape_text(f"{claim.id} [{claim.tag}]") + "}", ""]
    out.append(escape_text(claim.statement) + "\n")
    if claim.latex:
        out.append(r"\[" + claim.latex + r"\]")
    out.append(_para("Scope.", claim.scope.text))
    if len(claim.scope.parts) > 1:
        out.append(r"\begin{itemize}")
        out += [r"\item " + escape_text(p) for p in claim.scope.parts]
        out.append(r"\end{itemize}")
    if claim.hypotheses:
        out.append(_para("Hypotheses.", ", ".join(claim.hypotheses)))
    if claim.source:
        out.append(_para("Source.", claim.source))
    if result is not None:
        out.append(_para("Verdict.", f"{result.verdict}: {result.coverage}"))
    if derivation and claim.expressions is not None:
        for sec in claim.expressions():
            out.append(r"\paragraph{" + escape_text(sec.title) + "}")
            if sec.statement:
                out.append(sec.statement if sec.statement.lstrip().startswith("\\") else escape_text(sec.statement))
            for label, expr in sec.items:
                out.append(r"\subparagraph{" + escape_text(label) + "}")
                out.append(r"\begin{equation*}" + "\n" + render(expr) + "\n" + r"\end{equation*}")
    return "\n".join(out) + "\n"


def document(body: str, title: str) -> str:
    """A complete ``article`` with :data:`PREAMBLE`."""
    return "\n".join(
        [r"\documentclass[10pt]{article}", PREAMBLE, r"\begin{document}", r"\section*{" + escape_text(title) + "}", body, r"\end{document}", ""]
    )


_PROBLEM = re.compile(r"^(Overfull \\[hv]box.*|Underfull \\[hv]box.*|! Undefined control sequence.*|LaTeX Error:.*)$", re.M)


def log_problems(log_text: str) -> list[str]:
    """Every overfull/underfull box, undefined control sequence and LaTeX error in a pdflatex log."""
    return [m.group(1).strip() for m in _PROBLEM.finditer(log_text)]


@dataclass
class CompileResult:
    """A compiled document: the PDF, pdflatex's log, its problems and the page count."""

    pdf: Path
    log: str
    problems: list[str] = field(default_factory=list)
    pages: int | None = None


def _pages(log: str) -> int | None:
    m = re.search(r"Output written on .*?\((\d+) pages?", log.replace("\n", ""))
    return int(m.group(1)) if m else None


def compile_pdf(tex: str, pdf_path: Any, *, runs: int = 2, assets: dict[str, Path] | None = None) -> CompileResult:
    """Compile ``tex`` with pdflatex (``runs`` passes) into ``pdf_path``; ``assets`` are files copied next to it.

    Raises :class:`TexError` when pdflatex is missing or stops with an error (the message quotes the log).
    """
    exe = shutil.which("pdflatex")
    if exe is None:
        raise TexError("pdflatex is not installed (Debian/Ubuntu: apt-get install texlive-latex-base)")
    pdf_path = Path(pdf_path)
    with tempfile.TemporaryDirectory(prefix="prefdyn-tex-") as d:
        work = Path(d)
        (work / "doc.tex").write_text(tex)
        for name, src in (assets or {}).items():
            shutil.copyfile(src, work / name)
        log = ""
        for _ in range(max(1, runs)):
            proc = subprocess.run(
                [exe, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=work, capture_output=True, text=True, timeout=600
            )
            log = (work / "doc.log").read_text(errors="replace") if (work / "doc.log").exists() else proc.stdout
            if proc.returncode != 0:
                tail = "\n".join(log.splitlines()[-25:])
                raise TexError(f"pdflatex failed (exit {proc.returncode}); the end of its log:\n{tail}")
        shutil.copyfile(work / "doc.pdf", pdf_path)
    return CompileResult(pdf=pdf_path, log=log, problems=log_problems(log), pages=_pages(log))
