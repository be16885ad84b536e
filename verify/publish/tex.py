r"""LaTeX of claims: one claim's statement, scope, hypotheses, verdict and derivation; documents; pdflatex.

Every prefdyn document uses :data:`PREAMBLE` (packages of ``texlive-latex-base`` only) and A4
portrait pages. A claim's body is :func:`claim_tex`; :func:`claims_document` is the export of
``prefdyn latex`` (the conventions, then every claim under its section of the claims reference);
:func:`document` wraps any body into an ``article``; :func:`compile_pdf` runs a real pdflatex and
:func:`log_problems` lists the overfull and underfull boxes and undefined control sequences of
its log (a clean document has none). The prose of the claims goes through
:func:`theory.latex.prose`, the derivations through :func:`theory.latex.display`.

>>> log_problems("Overfull \\hbox (3.0pt too wide) detected at line 7\nall fine")
['Overfull \\hbox (3.0pt too wide) detected at line 7']
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from theory.latex import display, escape_text, prose, section_body
from theory.notation import CONVENTIONS, SECTIONS, section_of

__all__ = [
    "PREAMBLE",
    "hypothesis_name",
    "claim_tex",
    "claims_document",
    "derivation_tex",
    "document",
    "log_problems",
    "compile_pdf",
    "CompileResult",
    "TexError",
]

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


def _para(label: str, body: str) -> str:
    return r"\paragraph{" + label + "} " + body + "\n"


def _items(lines: Iterable[str]) -> str:
    lines = list(lines)
    if not lines:
        return ""
    return "\\begin{itemize}\n" + "\n".join(r"\item " + x for x in lines) + "\n\\end{itemize}\n"


#: words of hypothesis names that are names or abbreviations
_NAME_WORDS = {"sst": "SST", "bt": "BT", "bradley": "Bradley", "terry": "Terry", "condorcet": "Condorcet", "fosd": "first-order dominance", "offdiagonal": "off-diagonal"}


def hypothesis_name(name: str) -> str:
    """A hypothesis's code name as words (``mu_interior`` -> "μ interior", ``bradley_terry`` -> "Bradley Terry"), as LaTeX."""
    words = [_NAME_WORDS.get(w, w) for w in name.split("_")]
    return prose(" ".join(words).replace("Bradley Terry", "Bradley–Terry"))


def derivation_tex(sections: Iterable[Any], claim_id: str = "") -> str:
    r"""The derivation of a claim: each section (its title without the leading ``"ID: "``) as a
    ``\subsubsection*``, its statement as prose and each item as a labelled display that fits the page."""
    out = []
    for sec in sections:
        title = sec.title
        if claim_id and title.startswith(claim_id + ":"):
            title = title[len(claim_id) + 1 :].strip()
        out.append(section_body(dataclasses.replace(sec, title="Derivation: " + title), label_end="."))
    return "".join(out)


def _result_tex(result: Any) -> str:
    parts = [p.strip() for p in (result.coverage or "").split(" | ") if p.strip()]
    out = ["{\\raggedright\n" + _para("Verdict.", r"\textbf{" + prose(result.verdict) + "}.") + _items(prose(p) for p in parts) + "\\par}\n"]
    lines = []
    for c in result.checks:
        meta = "; ".join(prose(x) for x in (c.kind, c.evidence, c.covers) if x)
        line = r"\textbf{" + prose(c.checker) + "} (" + meta + "): \\emph{" + prose(c.verdict) + "}"
        if c.outcome.summary:
            line += " --- " + prose(c.outcome.summary)
        precision = c.outcome.precision() if hasattr(c.outcome, "precision") else ""
        if precision:
            line += " [" + prose(precision) + "]"
        lines.append(line)
    if lines:
        out.append("{\\raggedright\n" + _para("Evidence.", "") + _items(lines) + "\\par}\n")
    for cx in result.counterexamples:
        text = cx.detail or ""
        if cx.replay:
            text += (" " if text else "") + "Replay: `" + cx.replay + "`"
        out.append("{\\raggedright\n" + _para("Counterexample.", prose(text)) + "\\par}\n")
    return "\n".join(out)


def claim_tex(claim: Any, result: Any = None, *, derivation: bool = True) -> str:
    """The LaTeX body of one claim (a :class:`verify.engine.registry.Claim`), with its verdict when ``result``.

    A ``\\subsection*`` with the id and tag; the statement (and its formula), the scope and its
    parts, the hypotheses by name, the source, the cited results, the human-checked argument and
    the note; with ``result`` (a :class:`verify.engine.registry.ClaimResult`) the verdict, the
    coverage and one line per checker (kind, evidence, what it covers, verdict, summary); with
    ``derivation`` the claim's ``expressions()`` sections. Prose is typeset by
    :func:`theory.latex.prose`, formulas by :func:`theory.latex.display` (they fit the page).
    """
    out = [r"\subsection*{" + escape_text(claim.id) + r" \quad{\normalfont\small[" + escape_text(claim.tag) + "]}}", ""]
    out.append(_para("Statement.", prose(claim.statement)))
    if claim.latex:
        out.append(display(claim.latex))
    out.append(_para("Scope.", prose(claim.scope.text)))
    if len(claim.scope.parts) > 1:
        out.append(_items(prose(p) for p in claim.scope.parts))
    hyps = ", ".join(hypothesis_name(h) for h in claim.hypotheses) if claim.hypotheses else "none beyond the scope"
    out.append(_para("Hypotheses.", hyps + "."))
    if claim.source:
        out.append(_para("Source.", prose(claim.source)))
    if claim.cites:
        out.append(_para("Cited.", "") + _items(prose(c) for c in claim.cites))
    if claim.argument:
        out.append(_para("Argument (checked by hand, not counted as a proof).", prose(claim.argument)))
    if claim.note:
        out.append(_para("Note.", prose(claim.note)))
    if result is not None:
        out.append(_result_tex(result))
    if derivation and claim.expressions is not None:
        out.append(derivation_tex(claim.expressions(), claim.id))
    return "\n".join(out) + "\n"


def claims_document(
    claims: Iterable[Any],
    results: dict | None = None,
    *,
    title: str = "prefdyn: claims and derivations",
    derivation: bool = True,
    conventions: bool = True,
) -> str:
    """A complete document of claims: the conventions, then each claim under its section of the claims reference.

    ``results`` maps a claim id to its :class:`verify.engine.registry.ClaimResult` (verdicts are
    printed for the claims it has). Claims outside the built-in sections (user claims) come last.
    """
    claims = list(claims)
    results = results or {}
    body = []
    if conventions:
        body.append(r"\section*{" + prose(SECTIONS[0].number + ". " + SECTIONS[0].title) + "}")
        body.append(_items(prose(c) for c in CONVENTIONS))
    placed = set()
    for sec in SECTIONS[1:]:
        members = [c for c in claims if section_of(c.id) == sec.number]
        if not members:
            continue
        body.append(r"\section*{" + prose(sec.number + ". " + sec.title) + "}")
        if sec.intro:
            body.append(prose(sec.intro) + "\n")
        for c in members:
            body.append(claim_tex(c, results.get(c.id), derivation=derivation))
            placed.add(c.id)
    rest = [c for c in claims if c.id not in placed]
    if rest:
        body.append(r"\section*{Further claims}")
        body += [claim_tex(c, results.get(c.id), derivation=derivation) for c in rest]
    return document("\n".join(body), title)


def document(body: str, title: str) -> str:
    """A complete ``article`` (A4 portrait) with :data:`PREAMBLE`, ``title`` as an unnumbered heading, and ``body``."""
    return "\n".join(
        [
            r"\documentclass[10pt,a4paper]{article}",
            PREAMBLE,
            r"\begin{document}",
            r"\section*{" + prose(title) + "}",
            body,
            r"\end{document}",
            "",
        ]
    )


_PROBLEM = re.compile(r"^(Overfull \\[hv]box.*|Underfull \\[hv]box.*|! Undefined control sequence.*|! LaTeX Error:.*|LaTeX Error:.*)$", re.M)


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


def compile_pdf(
    tex: str, pdf_path: Any, *, runs: int = 2, assets: dict[str, Path] | None = None, halt_on_error: bool = True
) -> CompileResult:
    """Compile ``tex`` with pdflatex (``runs`` passes) into ``pdf_path``; ``assets`` are files copied next to it.

    Raises :class:`TexError` when pdflatex is missing or stops with an error (the message quotes the log).
    With ``halt_on_error=False`` pdflatex runs on past errors (``nonstopmode``), and a run that still
    writes a PDF returns normally, its errors listed in ``problems``.
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
            cmd = [exe, "-interaction=nonstopmode"] + (["-halt-on-error"] if halt_on_error else []) + ["doc.tex"]
            proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=600)
            log = (work / "doc.log").read_text(errors="replace") if (work / "doc.log").exists() else proc.stdout
            if proc.returncode != 0 and (halt_on_error or not (work / "doc.pdf").exists()):
                tail = "\n".join(log.splitlines()[-25:])
                raise TexError(f"pdflatex failed (exit {proc.returncode}); the end of its log:\n{tail}")
        shutil.copyfile(work / "doc.pdf", pdf_path)
    return CompileResult(pdf=pdf_path, log=log, problems=log_problems(log), pages=_pages(log))
