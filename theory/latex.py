"""LaTeX rendering of derived expressions: one standalone ``article`` document.

Only amsmath and amssymb are needed. Expressions are rendered by sympy's
printer as they are (no ``simplify`` before printing: large Jacobians would
take minutes). A *section* is a title, a short statement, and a list of
``(label, expression)`` items, where an expression is a sympy object or a
ready LaTeX string.

>>> import sympy
>>> x = sympy.Symbol("x")
>>> doc = document([Section("Demo", "A statement.", [("square", x**2)])])
>>> "\\\\begin{document}" in doc and "x^{2}" in doc
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import sympy

__all__ = ["Section", "render", "document", "escape_text"]


@dataclass
class Section:
    """A titled group of labelled expressions."""

    title: str
    statement: str = ""
    items: list[tuple[str, Any]] = field(default_factory=list)


def escape_text(s: str) -> str:
    """Escape LaTeX special characters in plain text (keeps ``$...$`` math)."""
    out = []
    in_math = False
    for ch in s:
        if ch == "$":
            in_math = not in_math
            out.append(ch)
        elif not in_math and ch in "&%#_{}":
            out.append("\\" + ch)
        elif not in_math and ch == "~":
            out.append("\\textasciitilde{}")
        elif not in_math and ch == "^":
            out.append("\\textasciicircum{}")
        else:
            out.append(ch)
    return "".join(out)


def render(expr: Any, **kwargs: Any) -> str:
    """LaTeX of ``expr`` (sympy object) or ``expr`` itself when it is a string."""
    if isinstance(expr, str):
        return expr
    opts = {"mat_str": "pmatrix", "mat_delim": ""}
    opts.update(kwargs)
    return sympy.latex(expr, **opts)


def document(sections: Sequence[Section], title: str = "prefdyn: derived expressions") -> str:
    """A complete ``.tex`` document (``article`` + amsmath, amssymb, geometry)."""
    lines = [
        r"\documentclass[10pt]{article}",
        r"\usepackage{amsmath}",
        r"\usepackage{amssymb}",
        r"\usepackage[margin=2cm,landscape]{geometry}",
        r"\allowdisplaybreaks",
        r"\setcounter{MaxMatrixCols}{20}",
        r"\begin{document}",
        r"\section*{" + escape_text(title) + "}",
    ]
    for sec in sections:
        lines.append(r"\section{" + escape_text(sec.title) + "}")
        if sec.statement:
            lines.append(sec.statement if sec.statement.lstrip().startswith("\\") else escape_text(sec.statement))
            lines.append("")
        for label, expr in sec.items:
            lines.append(r"\paragraph{" + escape_text(label) + "}")
            lines.append(r"\begin{equation*}")
            lines.append(render(expr))
            lines.append(r"\end{equation*}")
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"
