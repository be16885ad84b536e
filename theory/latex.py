r"""LaTeX of derived expressions: notation, cheap simplification, line breaking and prose.

Everything a prefdyn document prints goes through four functions of this module:

* :func:`render` prints a sympy object with the project's notation: sympy's printer gets
  ``symbol_names`` from :func:`symbol_latex` (``piref_0`` -> ``\pi_{\mathrm{ref},0}``,
  ``beta_dpo`` -> ``\beta_{\mathrm{DPO}}``, ``lam`` -> ``\lambda``; the names of
  :data:`theory.notation.LATEX_NAMES` first);
* :func:`tidy` and :func:`on_simplex` simplify before printing with cheap, bounded operations
  (a canonical sign for bases of even powers and for sums inside products, ``factor_terms``,
  ``factor`` of small polynomials, and the constraint ``sum(mu) = 1`` as a rewrite of sub-sums)
  and keep the form with the fewest operations; never a general ``simplify``;
* :func:`display` typesets one item of a :class:`Section` so that it fits the text width
  (:data:`TEXT_WIDTH_PT`, portrait A4 with the 2.2 cm margins of the documents): a sum too wide
  for one line is broken into ``align*`` lines by an estimate of its printed width
  (:func:`width_pt`), a matrix too wide for the page is written entry by entry
  (``J_{01} = ...``), hand-written formulas are split at their ``\quad`` separators;
* :func:`prose` turns the plain-text statements, scopes, hypotheses and titles of the claims
  (ASCII math such as ``pi_ref``, ``beta_dpo``, ``alpha^2 + ... > 1``, unicode such as ``∝`` or
  ``≤``, backticked code) into LaTeX: formulas become inline math in the project's notation,
  the rest is escaped text.

A *section* is a title, a short statement, and a list of ``(label, item)`` pairs, where an item
is a sympy object, an :class:`Equation` (a named left-hand side, e.g. a matrix's name), a
:class:`Note` (a sentence of prose) or a ready LaTeX math string.

>>> import sympy
>>> render(sympy.Symbol("piref_0") * sympy.Symbol("beta_dpo"))
'\\beta_{\\mathrm{DPO}} \\pi_{\\mathrm{ref},0}'
>>> prose("pi_0 = pi_ref, alpha <= 1")
'$\\pi_0 = \\pi_{\\mathrm{ref}}$, $\\alpha \\le 1$'
>>> x = sympy.Symbol("x")
>>> doc = document([Section("Demo", "A statement.", [("square", x**2)])])
>>> "\\begin{document}" in doc and "x^{2}" in doc
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Sequence

import sympy

from .notation import LATEX_NAMES

__all__ = [
    "plain_text",
    "Section",
    "Equation",
    "Note",
    "TEXT_WIDTH_PT",
    "symbol_latex",
    "latex_names",
    "render",
    "tidy",
    "on_simplex",
    "width_pt",
    "display",
    "prose",
    "escape_text",
    "section_body",
    "document",
]

#: The text width of a prefdyn document in pt: A4 portrait (595 pt) less two 2.2 cm margins.
TEXT_WIDTH_PT = 470
#: The width a display may take by the estimate of :func:`width_pt` (the estimate is rough).
_BUDGET = 420


@dataclass
class Section:
    """A titled group of labelled items (sympy objects, :class:`Equation`, :class:`Note`, LaTeX strings)."""

    title: str
    statement: str = ""
    items: list[tuple[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Equation:
    r"""``lhs rel rhs`` with a LaTeX ``lhs`` (a name: ``"\nabla^2_r L"``) and a sympy ``rhs`` (a matrix too).

    A matrix too wide for the page is printed entry by entry under the name ``lhs``.
    """

    lhs: str
    rhs: Any
    rel: str = "="


@dataclass(frozen=True)
class Note:
    """A sentence of prose among the items of a section (typeset by :func:`prose`, not as a formula)."""

    text: str


# =========================================================================== notation
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
}  # fmt: skip
#: short names that mean a Greek letter
_GREEK_ALIAS = {"lam": r"\lambda", "eps": r"\varepsilon", "epsilon": r"\varepsilon"}
#: subscript words and how they print
_SUB_WORDS = {
    "ref": r"\mathrm{ref}",
    "dpo": r"\mathrm{DPO}",
    "DPO": r"\mathrm{DPO}",
    "ipo": r"\mathrm{IPO}",
    "IPO": r"\mathrm{IPO}",
    "cyc": r"\mathrm{cyc}",
    "max": r"\max",
    "min": r"\min",
    "inf": r"\infty",
    "top": r"\mathrm{top}",
}
#: symbol bases that carry a fixed subscript: name -> (LaTeX base, its subscript)
_BASES = {"piref": (r"\pi", r"\mathrm{ref}"), "pizero": (r"\pi", "0"), "pi0": (r"\pi", "0")}


def _base_latex(base: str) -> str:
    if base in _GREEK_ALIAS:
        return _GREEK_ALIAS[base]
    if base in _GREEK:
        return "\\" + base
    if len(base) == 1:
        return base
    return r"\mathrm{" + base + "}"


def _sub_latex(part: str) -> str:
    if part in _SUB_WORDS:
        return _SUB_WORDS[part]
    if part.isdigit() or len(part) <= 2:
        return part
    return r"\mathrm{" + part + "}"


def symbol_latex(name: str) -> str:
    r"""The LaTeX of a sympy symbol's name in the project's notation.

    :data:`theory.notation.LATEX_NAMES` first; a name that already is LaTeX (it contains ``\``,
    ``{`` or ``|``) is kept; otherwise ``base_sub_sub``: a Greek base prints as the letter, the
    bases ``piref`` and ``pizero`` as ``\pi_{\mathrm{ref}}`` and ``\pi_0``, the entries of the
    preference matrix ``p_ij`` / ``p_i_j`` as ``P_{ij}`` (and ``s_i_j`` as ``S_{ij}``), and
    subscripts join into one (``\pi_{\mathrm{ref},k}``).

    >>> [symbol_latex(n) for n in ("piref_2", "pizero_k", "p_01", "p_0_1", "mu_1", "lam", "s_max")]
    ['\\pi_{\\mathrm{ref},2}', '\\pi_{0,k}', 'P_{01}', 'P_{01}', '\\mu_{1}', '\\lambda', 's_{\\max}']
    """
    if name in LATEX_NAMES:
        return LATEX_NAMES[name]
    if any(c in name for c in "\\{|"):
        return name
    parts = name.split("_")
    base, subs = parts[0], [p for p in parts[1:] if p]
    if base in _BASES:
        tex, fixed = _BASES[base]
        subs = [fixed] + [_sub_latex(s) for s in subs]
        return tex + "_{" + ",".join(subs) + "}"
    if base in ("p", "s") and (len(subs) == 2 and all(len(s) == 1 for s in subs) or len(subs) == 1 and len(subs[0]) == 2 and subs[0].isdigit()):
        return base.upper() + "_{" + "".join(subs) + "}"
    head = _base_latex(base)
    if not subs:
        return head
    pieces = [_sub_latex(s) for s in subs]
    joined = "".join(pieces) if all(len(s) == 1 for s in subs) else ",".join(pieces)
    return head + "_{" + joined + "}"


def latex_names(expr: Any) -> dict:
    """``symbol_names`` for sympy's printer: every symbol of ``expr`` -> :func:`symbol_latex` of its name."""
    atoms = expr.atoms(sympy.Symbol) if isinstance(expr, (sympy.Basic, sympy.MatrixBase)) else set()
    return {s: symbol_latex(s.name) for s in atoms}


def render(expr: Any, **kwargs: Any) -> str:
    """LaTeX of ``expr`` (a sympy object) in the project's notation; a string is returned as it is."""
    if isinstance(expr, str):
        return expr
    opts = {"mat_str": "pmatrix", "mat_delim": "", "symbol_names": latex_names(expr)}
    opts.update(kwargs)
    return sympy.latex(expr, **opts)


# =========================================================================== cheap simplification
#: expressions with more operations than this are only given canonical signs (no factor)
_OPS_LIMIT = 120


def _canonical_signs(e: Any) -> Any:
    """Bottom-up: a sum inside a product or under an even power carries no leading minus sign.

    ``-b (1/2 - p)`` and ``b (p - 1/2)`` print alike, and ``(-x)^2`` becomes ``x^2``, so equal
    terms meet and combine.
    """
    if not isinstance(e, sympy.Basic) or e.is_Atom or not e.args:
        return e
    args = [_canonical_signs(a) for a in e.args]
    if e.is_Mul:
        sign, new = 1, []
        for a in args:
            if a.is_Add and a.could_extract_minus_sign():
                sign, a = -sign, -a
            new.append(a)
        return sign * sympy.Mul(*new)
    if e.is_Pow and args[1].is_Integer and args[1].is_even and args[0].could_extract_minus_sign():
        return sympy.Pow(-args[0], args[1])
    if e.is_Add:
        return sympy.Add(*args)
    try:
        return e.func(*args)
    except (TypeError, ValueError):
        return e


def _positive_lead(e: Any) -> Any:
    """Bottom-up, for print: a product with a negative coefficient and a sum in it carries the sign in the sum.

    ``-mu (sigma - 1) sigma`` prints as ``mu (1 - sigma) sigma``; an equal form, easier to read.
    """
    if not isinstance(e, sympy.Basic) or e.is_Atom or not e.args:
        return e
    args = [_positive_lead(a) for a in e.args]
    if e.is_Mul:
        c, rest = sympy.Mul(*args).as_coeff_mul()
        adds = [k for k, a in enumerate(rest) if a.is_Add]
        if c.is_negative and adds and len(rest) > 1:
            k = adds[0]
            flipped = list(rest)
            flipped[k] = sympy.Add(*[-t for t in rest[k].args])
            return sympy.Mul(-c, *flipped)
        return sympy.Mul(*args)
    try:
        return e.func(*args)
    except (TypeError, ValueError):
        return e


def _shortest(cands: list) -> Any:
    """The candidate with the fewest operations; among those, the first (the form as derived comes first)."""
    uniq: list = []
    for c in cands:
        if not any(c == u for u in uniq):
            uniq.append(c)
    if len(uniq) == 1:
        return uniq[0]
    ops = [sympy.count_ops(c) for c in uniq]
    best = [c for c, o in zip(uniq, ops) if o == min(ops)]
    return best[0]


def _small_polynomial(e: sympy.Expr) -> bool:
    """Whether ``factor`` is cheap and deterministic on ``e``: a polynomial in at most 3 symbols of degree at most 4.

    (Multivariate factorisation picks random evaluation points; with many symbols it can take minutes.)
    """
    syms = e.free_symbols
    if not 0 < len(syms) <= 3 or not e.is_polynomial(*syms):
        return False
    return sympy.Poly(e, *sorted(syms, key=lambda q: q.name)).total_degree() <= 4


def _factor_inner(e: Any) -> Any:
    """Bottom-up: each small polynomial sum inside ``e`` replaced by its factored form when that is shorter."""
    if not isinstance(e, sympy.Basic) or e.is_Atom or not e.args:
        return e
    args = [_factor_inner(a) for a in e.args]
    try:
        e = e.func(*args)
    except (TypeError, ValueError):
        return e
    if e.is_Add and sympy.count_ops(e) <= 12 and _small_polynomial(e):
        f = _canonical_signs(sympy.factor(e))
        if sympy.count_ops(f) < sympy.count_ops(e):
            return f
    return e


def _candidates(e: sympy.Expr) -> list:
    out = [e]
    c = _canonical_signs(e)
    out.append(c)
    ops = sympy.count_ops(c)
    if ops <= _OPS_LIMIT:
        out.append(_canonical_signs(_factor_inner(c)))
        out.append(_canonical_signs(sympy.factor_terms(c)))
        if ops <= _OPS_LIMIT // 2 and _small_polynomial(c):
            out.append(_canonical_signs(sympy.factor(c)))
        if ops <= _OPS_LIMIT // 2 and c.is_polynomial():
            out.append(sympy.expand(c))
    return out


def tidy(expr: Any) -> Any:
    """A shorter equal form of ``expr`` by cheap, bounded rewrites (entrywise for a matrix).

    The candidates are ``expr``, its canonical signs, its small inner sums factored, ``factor_terms``
    of it, ``expand`` of a short polynomial and ``factor`` of a small one (at most 3 symbols, degree
    at most 4: multivariate factorisation is randomised and can be slow); the one with the fewest
    operations is kept (the first of them on a tie). Relations are tidied side by side.

    >>> x, y = sympy.symbols("x y")
    >>> tidy((y - x)**2 + (x - y)**2)
    2*(x - y)**2
    >>> tidy(-4*x**2 + 4*x*(x + y))
    4*x*y
    """
    if isinstance(expr, sympy.MatrixBase):
        return expr.applyfunc(tidy)
    if isinstance(expr, Equation):
        return Equation(expr.lhs, tidy(expr.rhs), expr.rel)
    if isinstance(expr, sympy.core.relational.Relational):
        return expr.func(tidy(expr.lhs), tidy(expr.rhs), evaluate=False)
    if not isinstance(expr, sympy.Expr) or expr.is_Atom:
        return expr
    return _tidy_cached(expr)


@lru_cache(maxsize=4096)
def _tidy_cached(expr: sympy.Expr) -> sympy.Expr:
    return _positive_lead(_shortest(_candidates(expr)))


def _sum_rewrite(e: Any, mu: tuple) -> Any:
    """Replace each sub-sum ``c (mu_0 + ... + mu_{K-1})`` by ``c`` and ``c (sum of all but mu_k)`` by ``c (1 - mu_k)``."""
    if not isinstance(e, sympy.Basic) or e.is_Atom or not e.args:
        return e
    args = [_sum_rewrite(a, mu) for a in e.args]
    if not e.is_Add:
        try:
            return e.func(*args)
        except (TypeError, ValueError):
            return e
    e = sympy.Add(*args)
    if not e.is_Add:
        return e
    coeffs = e.as_coefficients_dict()
    present = [m for m in mu if m in coeffs]
    if len(present) < len(mu) - 1 or len(mu) < 2:
        return e
    c = coeffs[present[0]]
    if any(coeffs[m] != c for m in present):
        return e
    rest = e - c * sympy.Add(*present)
    if len(present) == len(mu):
        return rest + c
    missing = next(m for m in mu if m not in coeffs)
    return rest + c * sympy.Mul(1 - missing, evaluate=False) if rest != 0 or c != 1 else 1 - missing


def on_simplex(expr: Any, mu: Sequence[sympy.Symbol]) -> Any:
    r"""``expr`` simplified with ``sum(mu) = 1`` (``mu`` a distribution), then :func:`tidy`; entrywise.

    Sub-sums of all the ``mu`` become 1 and sums of all but one, ``1 - mu_k``; the last
    ``mu`` substituted by ``1 - (the others)`` is a further candidate; the shortest form is kept.
    Use it only where ``mu`` is a distribution.

    >>> m = sympy.symbols("mu_0:3")
    >>> on_simplex(-4*m[0]**2 + 4*m[0]*(m[0] + m[1] + m[2]), m)
    4*mu_0*(1 - mu_0)
    """
    mu = tuple(mu)
    if isinstance(expr, sympy.MatrixBase):
        return expr.applyfunc(lambda e: on_simplex(e, mu))
    if isinstance(expr, Equation):
        return Equation(expr.lhs, on_simplex(expr.rhs, mu), expr.rel)
    if not isinstance(expr, sympy.Expr) or expr.is_Atom:
        return expr
    plain = _candidates(expr)
    cands = []  # the forms that use the constraint come first: they win a tie
    for c in plain:
        r = _sum_rewrite(c, mu)
        cands += [tidy(r), r]
    if sympy.count_ops(expr) <= _OPS_LIMIT:
        cands.append(tidy(sympy.expand(expr.subs(mu[-1], 1 - sympy.Add(*mu[:-1])))))
    return _positive_lead(_shortest(cands + plain))


# =========================================================================== width of printed math
# widths in hundredths of a point, 10 pt Latin Modern, display style
_CHAR_W = {"(": 389, ")": 389, "[": 278, "]": 278, "|": 278, "/": 500, "'": 275, ".": 278, ";": 278, "!": 278, "*": 500, "&": 0, " ": 0, "~": 333}
#: italic letter widths (cmmi10, hundredths of a point)
_LETTER_W = dict(zip(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    (529, 429, 433, 520, 466, 490, 477, 576, 345, 412, 521, 298, 878, 600, 485, 503, 446, 451, 469, 361, 572, 485,
     716, 572, 490, 465, 750, 759, 715, 828, 738, 643, 786, 831, 440, 554, 849, 681, 970, 803, 763, 642, 790, 759,
     613, 584, 683, 583, 944, 828, 581, 683),
))  # fmt: skip
_GREEK_W = {"alpha": 640, "beta": 566, "gamma": 518, "delta": 444, "epsilon": 466, "varepsilon": 466, "zeta": 438, "eta": 497, "theta": 469, "iota": 354, "kappa": 576, "lambda": 583, "mu": 603, "nu": 494, "xi": 438, "pi": 570, "rho": 517, "sigma": 571, "tau": 437, "phi": 596, "varphi": 654, "chi": 626, "psi": 651, "omega": 622}
_BIN = 1222  # + - with medium spaces
_REL = 1333  # = < > with thick spaces
_CMD_W = {
    "quad": 1000, "qquad": 2000, ",": 167, ":": 222, ";": 278, "!": -167, " ": 333, "cdot": 1222, "times": 1222,
    "odot": 1222, "pm": 1222, "mp": 1222, "le": 1333, "ge": 1333, "leq": 1333, "geq": 1333, "ne": 1333, "neq": 1333,
    "propto": 1333, "approx": 1333, "sim": 1333, "in": 1222, "notin": 1222, "subset": 1333, "to": 1556, "mapsto": 1556,
    "rightarrow": 1556, "Rightarrow": 1556, "implies": 2222, "iff": 2222, "Longleftrightarrow": 2222, "equiv": 1333,
    "infty": 1000, "partial": 570, "nabla": 833, "exists": 556, "nexists": 556, "forall": 556, "neg": 667, "top": 778,
    "sum": 1444, "prod": 1278, "int": 800, "lim": 1400, "log": 1500, "exp": 1700, "sin": 1400, "cos": 1500, "max": 1800,
    "min": 1700, "det": 1500, "dots": 1300, "ldots": 1300, "cdots": 1300, "|": 500, "{": 500, "}": 500, "prime": 275,
    "ell": 417, "Delta": 833, "Sigma": 722, "Gamma": 625, "Lambda": 694, "Phi": 722, "Pi": 750, "Omega": 722,
    "Theta": 778, "Psi": 778, "emptyset": 500, "backslash": 500, "lvert": 278, "rvert": 278, "lVert": 500,
    "rVert": 500, "langle": 389, "rangle": 389, "colon": 278, "setminus": 1222, "circ": 1222, "star": 1222,
}  # fmt: skip
_TEXTLIKE = {"mathrm", "text", "textrm", "mathbf", "mathit", "mathsf", "mathtt", "texttt", "textit", "textbf", "mathbb", "mathcal", "boldsymbol", "operatorname", "mbox", "emph"}
_ACCENTS = {"hat", "bar", "tilde", "overline", "vec", "dot", "ddot", "widehat", "widetilde", "underline", "phantom", "hphantom", "mathring"}
_DELIMS = {"left", "right", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "big", "Big", "bigg", "Biggl", "Biggr", "bigm", "Bigm"}


class _Scan:
    def __init__(self, s: str):
        self.s, self.i = s, 0

    def more(self) -> bool:
        return self.i < len(self.s)

    def command(self) -> str:
        """The control word or symbol after a backslash at ``i`` (moves past it)."""
        s, j = self.s, self.i + 1
        if j < len(s) and s[j].isalpha():
            k = j
            while k < len(s) and s[k].isalpha():
                k += 1
            self.i = k
            return s[j:k]
        self.i = j + 1
        return s[j : j + 1]

    def skip_spaces(self) -> None:
        while self.more() and self.s[self.i] == " ":
            self.i += 1

    def group(self) -> str:
        """The next argument: a braced group's content, a control sequence, or one character."""
        self.skip_spaces()
        if not self.more():
            return ""
        s = self.s
        if s[self.i] == "{":
            depth, j = 0, self.i
            while j < len(s):
                if s[j] == "\\":
                    j += 2
                    continue
                if s[j] == "{":
                    depth += 1
                elif s[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out = s[self.i + 1 : j]
            self.i = j + 1
            return out
        if s[self.i] == "\\":
            start = self.i
            self.command()
            return s[start : self.i]
        self.i += 1
        return s[self.i - 1]

    def optional(self) -> str:
        self.skip_spaces()
        if self.more() and self.s[self.i] == "[":
            j = self.s.index("]", self.i)
            out = self.s[self.i + 1 : j]
            self.i = j + 1
            return out
        return ""


def _split_top(s: str, sep: str) -> list[str]:
    """``s`` split at ``sep`` outside braces and environments."""
    out, depth, env, start, i = [], 0, 0, 0, 0
    while i < len(s):
        if s.startswith("\\begin{", i):
            env += 1
        elif s.startswith("\\end{", i):
            env -= 1
        if s[i] == "\\" and not s.startswith(sep, i):
            i += 2
            continue
        if s[i] == "{":
            depth += 1
        elif s[i] == "}":
            depth -= 1
        if depth == 0 and env == 0 and s.startswith(sep, i):
            out.append(s[start:i])
            i += len(sep)
            start = i
            continue
        i += 1
    out.append(s[start:])
    return out


def _env_body(sc: _Scan, name: str) -> str:
    s, depth, j = sc.s, 1, sc.i
    while j < len(s):
        if s.startswith("\\begin{" + name + "}", j):
            depth += 1
        elif s.startswith("\\end{" + name + "}", j):
            depth -= 1
            if depth == 0:
                body = s[sc.i : j]
                sc.i = j + len("\\end{" + name + "}")
                return body
        j += 1
    body = s[sc.i :]
    sc.i = len(s)
    return body


def _text_width(s: str, scale: int) -> int:
    letters = re.sub(r"\\[A-Za-z]+|[{}\\$^_]", "", s)
    return len(letters) * 500 * scale // 100


def _measure(s: str, scale: int = 100) -> int:
    """Width of math ``s`` in hundredths of a point (max over ``\\\\`` lines)."""
    if "\\\\" in s:
        lines = _split_top(s, "\\\\")
        if len(lines) > 1:
            return max(_measure(p, scale) for p in lines)
    sc, total, prev_operand = _Scan(s), 0, False
    while sc.more():
        ch = s[sc.i]
        if ch == "\\":
            cmd = sc.command()
            if cmd == "begin":
                env = sc.group()
                if env == "array":
                    sc.group()
                body = _env_body(sc, env)
                rows = [_split_top(r, "&") for r in _split_top(body, "\\\\") if r.strip()]
                ncol = max((len(r) for r in rows), default=0)
                cols = [max((_measure(r[k], scale) if k < len(r) else 0) for r in rows) for k in range(ncol)]
                sep = 1000 if env in ("pmatrix", "bmatrix", "matrix", "vmatrix", "array", "smallmatrix", "cases") else 0
                total += sum(cols) + sep * max(ncol - 1, 0) + (2400 if env in ("pmatrix", "bmatrix", "vmatrix", "cases") else 0)
                prev_operand = True
            elif cmd in ("frac", "dfrac", "tfrac", "binom", "cfrac"):
                f = scale * 7 // 10 if cmd == "tfrac" else scale
                a, b = sc.group(), sc.group()
                total += max(_measure(a, f), _measure(b, f)) + 240 * scale // 100
                prev_operand = True
            elif cmd == "sqrt":
                sc.optional()
                total += _measure(sc.group(), scale) + 900 * scale // 100
                prev_operand = True
            elif cmd in _TEXTLIKE:
                arg = sc.group()
                w = _text_width(arg, scale) if cmd in ("text", "textrm", "mbox", "texttt", "textit", "textbf", "emph") else _measure(arg, scale)
                total += w + (300 * scale // 100 if cmd == "operatorname" else 0)
                prev_operand = True
            elif cmd in _ACCENTS:
                total += _measure(sc.group(), scale)
                prev_operand = True
            elif cmd in _DELIMS:
                d = sc.group()
                tall = "\\frac" in s[sc.i : sc.i + 400] or "\\frac" in s[max(0, sc.i - 400) : sc.i]
                w = 0 if d == "." else (750 if tall else 600)
                total += (w + (167 if cmd in ("left", "right") else 0)) * scale // 100
                prev_operand = cmd in ("right", "bigr", "Bigr", "biggr", "Biggr")
            elif cmd in ("kern", "hspace", "mspace"):
                sc.group()
            elif cmd in ("displaystyle", "textstyle", "limits", "nolimits", "mathstrut", "strut", "allowbreak", "nonumber", "notag", "qed"):
                pass
            elif cmd in _GREEK or cmd in ("varepsilon", "varphi", "vartheta", "ell", "imath"):
                total += _GREEK_W.get(cmd, 833 if cmd[0].isupper() else 600) * scale // 100
                prev_operand = True
            else:
                w = _CMD_W.get(cmd, 900)
                if cmd in ("le", "ge", "leq", "geq", "ne", "neq", "propto", "approx", "sim", "to", "mapsto", "Rightarrow", "implies", "iff", "in", "notin", "cdot", "times", "odot", "pm", "equiv"):
                    prev_operand = False
                    if scale < 100:
                        w = 778
                else:
                    prev_operand = cmd not in ("quad", "qquad", ",", ":", ";", "!", " ")
                total += w * scale // 100
        elif ch in "^_":
            sc.i += 1
            total += _measure(sc.group(), max(scale * 8 // 10, 60)) + 50  # \scriptspace
        elif ch == "{":
            total += _measure(sc.group(), scale)
            prev_operand = True
        elif ch == "}":
            sc.i += 1
        elif ch in "+-":
            total += (_BIN if prev_operand and scale == 100 else 778) * scale // 100
            prev_operand = False
            sc.i += 1
        elif ch in "=<>":
            total += (_REL if scale == 100 else 778) * scale // 100
            prev_operand = False
            sc.i += 1
        elif ch == ",":
            total += 445 * scale // 100
            prev_operand = False
            sc.i += 1
        elif ch == ":":
            total += 833 * scale // 100
            prev_operand = False
            sc.i += 1
        elif ch.isalpha():
            total += _LETTER_W.get(ch, 600) * scale // 100
            prev_operand = True
            sc.i += 1
        elif ch.isdigit():
            total += 500 * scale // 100
            prev_operand = True
            sc.i += 1
        else:
            total += _CHAR_W.get(ch, 500) * scale // 100
            prev_operand = ch in ")]|'"
            sc.i += 1
    return total


def width_pt(tex: str) -> int:
    r"""Estimated width in pt of the display-style math ``tex`` (the widest line when it has ``\\``).

    A rough upper estimate from the glyph widths of 10 pt Latin Modern: scripts at 70 %, a
    fraction as wide as its wider part, a matrix as the sum of its widest column entries.

    >>> width_pt(r"\frac{\mu_{0}}{2} + \mu_{1} P_{01}") < width_pt(r"\mu_{0} / 2 + \mu_{1} P_{01}")
    True
    """
    return (_measure(tex) * 105 // 100 + 99) // 100


# =========================================================================== breaking displays
def _signed_terms(expr: sympy.Expr) -> list[tuple[str, sympy.Expr]]:
    """The terms of a sum in print order with the sign each one is printed with."""
    out = []
    for k, t in enumerate(expr.as_ordered_terms()):
        c, _ = t.as_coeff_Mul()
        if k and c.is_negative:
            out.append(("-", -t))
        else:
            out.append(("+" if k else "", t))
    return out


def _delims(parts: list[str]) -> tuple[str, str]:
    tall = any("\\frac" in p or "\\sum" in p for p in parts)
    return (r"\Bigl(", r"\Bigr)") if tall else (r"\bigl(", r"\bigr)")


def _break_term(sign: str, t: sympy.Expr, budget: int, depth: int = 0) -> list[str]:
    """One term of a sum, too wide for a line, as several pieces (each a line's worth or less)."""
    head = (sign + " ") if sign else ""
    tex = head + render(t)
    if width_pt(tex) <= budget or depth > 3:
        return [tex]
    # a product with a sum in it: distribute the other factors over it
    if t.is_Mul:
        d = sympy.expand(t, deep=False, mul=True, multinomial=False, power_exp=False, power_base=False, log=False)
        if d.is_Add and len(d.args) > 1:
            out = []
            for k, (s2, t2) in enumerate(_signed_terms(d)):
                if k == 0:  # the first term carries its own sign: make it explicit
                    c, _ = t2.as_coeff_Mul()
                    s2, t2 = ("-", -t2) if c.is_negative else ("+", t2)
                if sign == "-":
                    s = "+" if s2 == "-" else "-"
                elif sign or k:
                    s = s2
                else:
                    s = "" if s2 == "+" else "-"
                out += _break_term(s, t2, budget, depth + 1)
            return out
    # a power or product around one wide sum: break inside its parentheses
    inner = None
    if t.is_Pow and t.base.is_Add:
        inner, before, after = t.base, "", "^{" + render(t.exp) + "}"
    elif t.is_Mul:
        adds = [a for a in t.args if a.is_Add]
        if adds:
            inner = max(adds, key=lambda a: len(render(a)))
            rest = sympy.Mul(*[a for a in t.args if a is not inner])
            before, after = ("" if rest == 1 else ("-" if rest == -1 else render(rest) + " ")), ""
    if inner is not None:
        pieces = []
        for s2, t2 in _signed_terms(inner):
            pieces += _break_term(s2, t2, budget - 40, depth + 1)
        lo, hi = _delims(pieces)
        pieces[0] = head + before + lo + pieces[0]
        pieces[-1] = pieces[-1] + hi + after
        return pieces
    return [tex]


def _fill(pieces: list[str], first: int, rest: int) -> list[str]:
    """Greedy lines of ``pieces`` (LaTeX strings joined by spaces): the first line within ``first`` pt, the others ``rest``."""
    lines: list[str] = []
    cur = ""
    for p in pieces:
        budget = first if not lines else rest
        trial = (cur + " " + p) if cur else p
        if cur and width_pt(trial) > budget:
            lines.append(cur)
            cur = p
        else:
            cur = trial
    if cur:
        lines.append(cur)
    return lines


def _sum_lines(expr: Any, first: int, rest: int) -> list[str]:
    """``expr`` (any sympy expression) printed as lines: a sum term by term, a wide term broken further."""
    if isinstance(expr, sympy.Expr) and expr.is_Add:
        pieces = []
        for s, t in _signed_terms(expr):
            pieces += _break_term(s, t, rest)
    elif isinstance(expr, sympy.Expr):
        pieces = _break_term("", expr, rest)
    else:
        pieces = [render(expr)]
    return _fill(pieces, first, rest)


def _align(rows: list[tuple[str, str, list[str]]]) -> str:
    r"""``align*`` of ``(lhs, rel, lines)`` rows: ``lhs &rel line_0 \\ &\quad line_k``."""
    out = []
    for lhs, rel, lines in rows:
        for k, line in enumerate(lines):
            if k == 0:
                out.append((lhs + " " if lhs else "") + "&" + (rel + " " if rel else "") + line)
            else:
                out.append("&" + (r"\phantom{" + rel + "}" if rel else "") + r"\quad " + line)
    return "\\begin{align*}\n" + " \\\\\n".join(out) + "\n\\end{align*}"


def _entry_name(name: str, i: int, j: int | None) -> str:
    idx = str(i) if j is None else f"{i}{j}"
    if re.fullmatch(r"\\?[A-Za-z]+|\\[A-Za-z]+\{[^{}]*\}", name):
        return name + "_{" + idx + "}"
    return r"\left(" + name + r"\right)_{" + idx + "}"


def _matrix(name: str, rel: str, M: sympy.MatrixBase, budget: int) -> str:
    tex = render(M)
    head = (name + " " + rel + " ") if name else ""
    if width_pt(head + tex) <= budget:
        return "\\begin{equation*}\n" + r"\renewcommand{\arraystretch}{1.3}" + head + tex + "\n\\end{equation*}"
    nm = name or "M"
    sym = M.rows == M.cols and M == M.T
    rows, skipped = [], False
    for i in range(M.rows):
        for j in range(M.cols):
            if M.cols == 1:
                key = _entry_name(nm, i, None)
            else:
                if sym and j < i:
                    continue
                key = _entry_name(nm, i, j)
            e = M[i, j]
            if e == 0 and M.rows * M.cols > 4:
                skipped = True
                continue
            lw = width_pt(key + " " + rel)
            rows.append((key, rel, _sum_lines(e, budget - lw, budget - lw - 20)))
    out = _align(rows)
    notes = []
    if sym and M.cols > 1:
        notes.append(f"${nm}$ is symmetric: the entries on and above the diagonal are shown")
    if skipped:
        notes.append("the entries not shown are $0$")
    if notes:
        out += "\n" + "; ".join(notes) + ".\n"
    return out


def _string_display(tex: str, budget: int) -> str:
    if width_pt(tex) <= budget or "\\begin{" in tex:
        return "\\begin{equation*}\n" + tex + "\n\\end{equation*}"
    pieces = [tex]
    for sep in (r",\qquad", r"\qquad", r",\quad", r"\quad", r",\ "):
        nxt = []
        for p in pieces:
            if width_pt(p) <= budget:
                nxt.append(p)
                continue
            parts = _split_top(p, sep)
            keep = "," if sep.startswith(",") else ""
            nxt += [q.strip() + (keep if k < len(parts) - 1 else "") for k, q in enumerate(parts)]
        pieces = nxt
    lines = _fill(pieces, budget, budget)
    # pieces that were split apart go on lines of their own: join the short ones with \quad again
    return "\\begin{gather*}\n" + " \\\\\n".join(lines).replace(", ", r",\quad ") + "\n\\end{gather*}"


def display(item: Any, *, budget: int = _BUDGET) -> str:
    r"""One item as a LaTeX display that fits ``budget`` pt (see :func:`width_pt`); a :class:`Note` as a paragraph.

    Sympy objects are :func:`tidy`-ed first. A sum too wide for one line becomes an ``align*``
    broken between its terms (a term too wide on its own is distributed, or broken inside its
    parentheses); a relation keeps its left-hand side on the first line; a matrix too wide for
    the page is listed entry by entry under its :class:`Equation` name (only the upper triangle
    of a symmetric one, zero entries left out and said so); a LaTeX string too wide is split at
    its top-level ``\quad`` separators into ``gather*`` lines.

    >>> x = sympy.symbols("x_0:40")
    >>> print(display(sympy.Add(*x)).splitlines()[0])
    \begin{align*}
    >>> print(display(Equation("J", sympy.Matrix([[x[0], x[1]]]))))
    \begin{equation*}
    \renewcommand{\arraystretch}{1.3}J = \begin{pmatrix}x_{0} & x_{1}\end{pmatrix}
    \end{equation*}
    """
    if isinstance(item, Note):
        return prose(item.text) + "\n"
    if isinstance(item, str):
        return _string_display(item, budget)
    item = tidy(item)
    name, rel, rhs = "", "", item
    if isinstance(item, Equation):
        name, rel, rhs = item.lhs, item.rel, item.rhs
    elif isinstance(item, sympy.core.relational.Relational):
        rel = {"==": "=", ">": ">", "<": "<", ">=": r"\ge", "<=": r"\le", "!=": r"\ne"}[item.rel_op]
        lhs, rhs = item.lhs, item.rhs
        if isinstance(rhs, sympy.Expr) and rhs.is_Add is False and lhs.is_Add and width_pt(render(rhs)) < 60:
            # a long left side against a short right side: break the left side, end with "rel rhs"
            tex = render(item)
            if width_pt(tex) <= budget:
                return "\\begin{equation*}\n" + tex + "\n\\end{equation*}"
            lines = _sum_lines(lhs, budget - 60, budget - 80)
            lines[-1] += " " + rel + " " + render(rhs)
            return _align([("", "", lines)])
        name = render(lhs)
    if isinstance(rhs, sympy.MatrixBase):
        return _matrix(name, rel or "=", rhs, budget)
    tex = ((name + " " + rel + " ") if name else "") + render(rhs)
    if width_pt(tex) <= budget:
        return "\\begin{equation*}\n" + tex + "\n\\end{equation*}"
    lw = width_pt(name + " " + rel) if name else 0
    return _align([(name, rel, _sum_lines(rhs, budget - lw, budget - lw - 20))])


# =========================================================================== prose
_TEXT_ESC = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}", "$": r"\$", "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", '"': "''"}
#: unicode characters that are mathematics: their LaTeX in math mode
_UNI_MATH = {
    "∝": r"\propto", "≤": r"\le", "≥": r"\ge", "≠": r"\ne", "≈": r"\approx", "→": r"\to", "←": r"\leftarrow",
    "⇒": r"\Rightarrow", "⇐": r"\Leftarrow", "⇔": r"\iff", "↦": r"\mapsto", "∈": r"\in", "∉": r"\notin", "⊂": r"\subset", "⊆": r"\subseteq",
    "∪": r"\cup", "∩": r"\cap", "±": r"\pm", "×": r"\times", "·": r"\cdot", "∞": r"\infty", "∑": r"\sum", "∏": r"\prod",
    "√": r"\sqrt", "∂": r"\partial", "∇": r"\nabla", "∀": r"\forall", "∃": r"\exists", "¬": r"\neg", "⊤": r"\top",
    "ᵀ": r"^{\top}", "′": "'", "″": "''", "∘": r"\circ", "⊙": r"\odot", "‖": r"\|", "−": "-", "…": r"\dots",
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "κ": r"\kappa", "λ": r"\lambda",
    "μ": r"\mu", "ν": r"\nu", "π": r"\pi", "ρ": r"\rho", "σ": r"\sigma", "τ": r"\tau", "φ": r"\varphi", "ϕ": r"\phi",
    "θ": r"\theta", "ω": r"\omega", "ξ": r"\xi", "η": r"\eta", "ζ": r"\zeta", "χ": r"\chi", "ψ": r"\psi",
    "Δ": r"\Delta", "Σ": r"\Sigma", "Γ": r"\Gamma", "Λ": r"\Lambda", "Π": r"\Pi", "Φ": r"\Phi", "Ω": r"\Omega",
    "Θ": r"\Theta", "Ψ": r"\Psi", "₀": "_0", "₁": "_1", "₂": "_2", "₃": "_3", "₄": "_4", "ₖ": "_k", "ᵢ": "_i",
    "ⱼ": "_j", "²": "^2", "³": "^3", "¹": "^1", "⁻": "^-", "ℝ": r"\mathbb{R}", "ℕ": r"\mathbb{N}", "∅": r"\emptyset",
}  # fmt: skip
#: unicode characters that are text: their LaTeX in text mode (pdflatex with T1 fonts)
_UNI_TEXT = {
    "–": "--", "—": "---", "‘": "`", "’": "'", "“": "``", "”": "''", "§": r"\S{}", "°": r"\textdegree{}", "•": r"\textbullet{}",
    "é": r"\'e", "è": r"\`e", "á": r"\'a", "à": r"\`a", "ö": r'\"o', "ü": r'\"u', "ä": r'\"a', "ç": r"\c{c}", "ñ": r"\~n",
    "É": r"\'E", "ø": r"{\o}", "å": r"\aa{}", "ß": r"{\ss}", "í": r"\'i", "ó": r"\'o", "ú": r"\'u", "\u00a0": "~",
}  # fmt: skip
#: words that are functions or operators when they appear in a formula
_FUNCS = {
    "exp": r"\exp", "log": r"\log", "ln": r"\ln", "sin": r"\sin", "cos": r"\cos", "max": r"\max", "min": r"\min",
    "argmax": r"\operatorname{arg\,max}", "argmin": r"\operatorname{arg\,min}", "sup": r"\sup",
    "lim": r"\lim", "det": r"\det", "sqrt": r"\sqrt", "diag": r"\operatorname{diag}", "softmax": r"\operatorname{softmax}",
    "sig": r"\sigma", "sigmoid": r"\sigma", "sign": r"\operatorname{sign}", "span": r"\operatorname{span}",
    "Cov": r"\operatorname{Cov}", "Var": r"\operatorname{Var}", "KL": r"\mathrm{KL}", "tr": r"\operatorname{tr}",
    "rank": r"\operatorname{rank}", "Lap": r"\operatorname{Lap}", "logit": r"\operatorname{logit}",
    "int": r"\operatorname{int}", "dom": r"\operatorname{dom}",
}  # fmt: skip
#: words that are mathematics wherever they stand
_MATH_WORDS = {
    **LATEX_NAMES,  # the project's names first: pi_ref, pi0, beta_dpo, lam, ...
    "pi_0": r"\pi_0", "inf": r"\infty", "oo": r"\infty", "P_cyc": r"P_{\mathrm{cyc}}", "L_IPO": r"L_{\mathrm{IPO}}",
    "L_DPO": r"L_{\mathrm{DPO}}", "f_inf": r"f_{\infty}", "e_top": r"e_{\mathrm{top}}", "pi_top": r"\pi_{\mathrm{top}}",
    "mu_top": r"\mu_{\mathrm{top}}", "P_top": r"P_{\mathrm{top}}", "ONES": r"\mathbf{1}", "DF": "DF", "DG": "DG",
    "Dz": "Dz", "Dsoftmax": r"D\operatorname{softmax}", "dx": "dx", "dt": "dt", "dH": "dH", "dL": "dL", "dr": "dr",
}  # fmt: skip
#: words that are English in prose even when one letter long
_AMBIGUOUS = {"a", "A", "I", "sum", "in", "x", "e", "o"}
#: acronyms (2+ capitals) that are names of properties or models inside formulas
_ACRONYM = re.compile(r"^[A-Z]{2,}$")

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<abbr>\b(?:e\.g\.|i\.e\.|cf\.|vs\.|etc\.|resp\.))
  | (?P<code>`[^`]*`)
  | (?P<path>(?:docs|verify|theory|tests|\.ci|src)/[\w./-]*\w|\w+(?:\.\w+)*\.(?:md|py|json|tex|pdf|png|txt)\b|(?:verify|theory|numpy|sympy|mpmath|scipy)(?:\.\w+)+|[A-Za-z]\w+\.[A-Za-z]\w*_\w+)
  | (?P<ellipsis>\.\.\.)
  | (?P<flag>(?<![\w-])--[A-Za-z][\w-]*)
  | (?P<bold>\*\*[^*]+\*\*)
  | (?P<sci>\d+(?:\.\d+)?e[+-]?\d+\b)
  | (?P<dim>\d+x\d+\b)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z][A-Za-z0-9]*(?:_(?:\{[^{}]*\}|[A-Za-z0-9]+))*(?:'+(?![A-Za-z]))?)
  | (?P<poss>'s\b)
  | (?P<op><=>|<->|<=|>=|!=|->|=>|==|\+-|\.\.|\|\||[-+=<>*/|^~])
  | (?P<open>[(\[{])
  | (?P<close>[)\]}])
  | (?P<punct>[,;:.!?])
  | (?P<other>.)
    """,
    re.X | re.S,
)


@dataclass
class _Tok:
    kind: str
    text: str
    math: bool = False  # part of a formula
    strong: bool = False  # a formula on its own


#: English words that never name a quantity (so they never join a formula)
_ENGLISH = {
    "and", "or", "the", "of", "to", "is", "as", "at", "by", "on", "if", "it", "be", "an", "no", "not", "for", "per",
    "via", "all", "any", "one", "two", "off", "its", "has", "are", "was", "with", "from", "iff", "then", "so", "up",
    "out", "set", "see", "new", "old", "top", "how", "why", "who", "can", "may", "do", "does", "did", "we", "our",
    "us", "but", "nor", "yet", "too", "now", "few", "own", "than", "near", "far", "non", "own", "else", "each",
}  # fmt: skip
#: functions that are mathematics even without brackets when a quantity follows (``diag pi``, ``log pi``)
_PREFIX_FUNCS = {"sig", "softmax", "diag", "Cov", "KL", "Dsoftmax", "log", "exp", "sqrt", "det", "tr"}
#: words that head a subscripted operator (``sum_{i,j}``, ``min_j``)
_BIG_OPS = {"sum": r"\sum", "prod": r"\prod", "min": r"\min", "max": r"\max", "lim": r"\lim", "sup": r"\sup", "inf": r"\inf", "argmin": r"\operatorname{arg\,min}", "argmax": r"\operatorname{arg\,max}", "Cov": r"\operatorname{Cov}", "Var": r"\operatorname{Var}", "E": r"\mathbb{E}"}
_RELATIONS = {"=", "<", ">", "<=", ">=", "!=", "<=>", "=>", "->", "in"}


def _is_index(part: str) -> bool:
    return part in _SUB_WORDS or part.isdigit() or len(part) <= 2 or part.startswith("{") or part in ("IPO", "DPO", "exp", "tq")


def _ident_math(word: str) -> str | None:
    """The LaTeX of a word that is a mathematical name (``pi_ref``, ``mu_k``, ``P01``, ``dmu``), else None."""
    core = word.rstrip("'")
    tail = "'" * (len(word) - len(core))
    if core in _MATH_WORDS:
        return _MATH_WORDS[core] + tail
    if re.fullmatch(r"[A-Za-z]\d+", core):
        return core[0] + "_{" + core[1:] + "}" + tail
    parts = core.split("_")
    base, subs = parts[0], parts[1:]
    if subs and not all(_is_index(p) for p in subs):
        return None
    if base in _GREEK_ALIAS:
        head = _GREEK_ALIAS[base]
    elif base in _GREEK:
        head = "\\" + base
    elif subs and base in _BIG_OPS:
        head = _BIG_OPS[base]
    elif len(base) > 1 and base[0] == "d" and (base[1:] in _GREEK or base[1:] in _GREEK_ALIAS):
        head = "d" + (_GREEK_ALIAS.get(base[1:]) or "\\" + base[1:])
    elif len(base) == 1 or (subs and len(base) == 2):
        head = base
    else:
        return None
    if not subs:
        return head + tail
    pieces = []
    for p in subs:
        if p.startswith("{"):
            pieces.append(_formula(p[1:-1]))
        elif p in _SUB_WORDS:
            pieces.append(_SUB_WORDS[p])
        elif p in ("IPO", "DPO", "exp", "tq"):
            pieces.append(r"\mathrm{" + p + "}")
        elif p in _GREEK or p in _GREEK_ALIAS:
            pieces.append(_GREEK_ALIAS.get(p) or "\\" + p)
        else:
            pieces.append(p)
    sub = ",".join(pieces) if len(pieces) > 1 and any(len(p) > 1 for p in pieces) else "".join(pieces)
    return head + "_{" + sub + "}" + tail


def _neighbour(tokens: list[_Tok], k: int, step: int) -> _Tok | None:
    k += step
    while 0 <= k < len(tokens) and tokens[k].kind == "ws":
        k += step
    return tokens[k] if 0 <= k < len(tokens) else None


def _touching(tokens: list[_Tok], k: int, step: int) -> _Tok | None:
    j = k + step
    return tokens[j] if 0 <= j < len(tokens) and tokens[j].kind != "ws" else None


def _word(t: _Tok | None) -> bool:
    """An English word (an identifier that is not part of a formula)."""
    return t is not None and t.kind == "ident" and t.math is False


def _classify(tokens: list[_Tok]) -> None:
    """Mark the tokens that belong to formulas (``math``) and those that make a formula on their own (``strong``)."""
    # names
    for k, t in enumerate(tokens):
        if t.kind in ("op", "sci", "dim", "uni", "sub"):
            t.math = t.strong = True
        elif t.kind == "ident":
            w = t.text.rstrip("'*")
            nxt = _touching(tokens, k, 1)
            if w in _FUNCS:
                t.math = t.strong = nxt is not None and nxt.kind == "open" and nxt.text == "("
                t.kind = "func" if t.math else "ident"
                if not t.math and w in _PREFIX_FUNCS:
                    t.math = None  # decided below, by what follows
                    t.kind = "func"
            elif k and tokens[k - 1].kind == "sub":
                t.math = t.strong = True  # a subscript: "(P mu)_top"
            elif t.text.endswith("*") and (w in _AMBIGUOUS or len(w) <= 2):
                t.math = t.strong = True
            elif w in _AMBIGUOUS:
                t.math = None
            elif _ident_math(w) is not None or (_ACRONYM.match(w) and nxt is not None and nxt.kind == "open" and nxt.text == "("):
                t.math = t.strong = True
            else:
                t.math = False
    # prefix functions: mathematics when a quantity follows ("log pi", "diag(mu)")
    for k, t in enumerate(tokens):
        if t.kind == "func" and t.math is None:
            nx = _neighbour(tokens, k, 1)
            t.math = t.strong = nx is not None and (nx.kind in ("open", "num") or (nx.kind in ("ident", "func") and bool(nx.strong)))
    # operators between words: a hyphen ("first-order", "3-cycle", "log-ratio"), a slash ("and/or")
    for k, t in enumerate(tokens):
        if t.kind == "op" and t.text in ("-", "/"):
            a, b = _touching(tokens, k, -1), _touching(tokens, k, 1)
            if t.text == "-" and a is not None and b is not None and a.kind in ("ident", "num", "func") and b.kind in ("ident", "num", "func") and (any(u.kind in ("ident", "func") and u.math is False for u in (a, b)) or _ACRONYM.match(b.text) or _ACRONYM.match(a.text)):
                t.math = t.strong = False
            if t.text == "/" and _word(_neighbour(tokens, k, -1)) and _word(_neighbour(tokens, k, 1)):
                t.math = t.strong = False
    # short names glued to a number or an operator ("2Km", "dH/dt")
    for k, t in enumerate(tokens):
        w = t.text.rstrip("'*")
        if t.kind == "ident" and t.math is False and len(w) <= 3 and w.lower() not in _ENGLISH and not _ACRONYM.match(w):
            prev, nxt = _touching(tokens, k, -1), _touching(tokens, k, 1)
            t.math = t.strong = bool(
                (prev is not None and (prev.kind == "num" or prev.kind == "op" and prev.math))
                or (nxt is not None and nxt.kind == "op" and nxt.math and nxt.text in "/*^=")
            )
    # words that are English or mathematics by their neighbours
    for k, t in enumerate(tokens):
        if t.math is not None:
            continue
        prev, nx = _neighbour(tokens, k, -1), _neighbour(tokens, k, 1)
        tp, tn = _touching(tokens, k, -1), _touching(tokens, k, 1)
        near_op = any(u is not None and u.kind == "op" and u.math and u.text not in ("*",) for u in (prev, nx))
        if t.text == "sum":
            t.math = (prev is None or prev.kind in ("open", "op")) and nx is not None and (nx.strong or nx.kind == "open")
        elif t.text == "in":
            t.math = prev is not None and nx is not None and bool(prev.strong) and (bool(nx.strong) or nx.kind == "open")
        else:
            bracketed = tp is not None and tp.kind == "open" and tn is not None and tn.kind in ("close", "op", "punct")
            scripted = tn is not None and tn.kind in ("sub",) or (tn is not None and tn.kind == "op" and tn.text == "^")
            operand = t.text in ("A", "I") and nx is not None and nx.kind == "ident" and bool(nx.strong) and (_neighbour(tokens, k + 2, 1) or _Tok("ws", "")).kind == "op"
            times = t.text == "x" and prev is not None and nx is not None and (prev.kind == "num" or prev.strong) and (nx.kind == "num" or nx.strong)
            glued = tp is not None and tp.kind == "num"
            sandwich = prev is not None and nx is not None and (prev.kind == "num" or prev.kind == "ident" and bool(prev.strong)) and (nx.kind in ("num", "close") or nx.kind == "op" and nx.math or nx.kind == "ident" and bool(nx.strong) or nx.kind == "punct" and prev.kind == "ident")
            t.math = near_op or bracketed or scripted or operand or times or glued or sandwich
        t.strong = bool(t.math)
    # numbers and brackets are neutral: they join the formula around them
    for t in tokens:
        if t.kind in ("num", "open", "close"):
            t.math = None


def _spans(tokens: list[_Tok]) -> list[tuple[int, int]]:
    """``(start, end)`` index ranges of the formulas: runs of math tokens, numbers and balanced brackets."""
    out = []
    n, k = len(tokens), 0
    while k < n:
        t = tokens[k]
        if t.kind == "ws" or t.math is False:
            k += 1
            continue
        j = k
        while j < n:
            u = tokens[j]
            if u.kind == "ws" or u.math or u.math is None:
                j += 1
                continue
            if u.kind == "punct" and u.text in ",;:" and _inside(tokens, k, j):
                j += 1
                continue
            break
        out += _trim(tokens, k, j)
        k = j
    return out


def _inside(tokens: list[_Tok], start: int, j: int) -> bool:
    """Whether the separator at ``j`` sits inside a bracket of the formula that closes before the next word."""
    depth = 0
    for u in tokens[start:j]:
        if u.kind == "open":
            depth += 1
        elif u.kind == "close":
            depth -= 1
    if depth <= 0:
        return False
    d = depth
    for u in tokens[j + 1 :]:
        if u.math is False and u.kind not in ("ws", "punct"):
            return False
        if u.kind == "open":
            d += 1
        elif u.kind == "close":
            d -= 1
            if d < depth:
                return True
        elif u.kind == "punct" and u.text in ".:":
            return False
    return False


def _trim(tokens: list[_Tok], a: int, b: int) -> list[tuple[int, int]]:
    """Split ``[a, b)`` at unmatched brackets, strip edge whitespace and punctuation; keep runs with a formula in them."""
    stack, bad = [], set()
    for k in range(a, b):
        u = tokens[k]
        if u.kind == "open":
            stack.append(k)
        elif u.kind == "close":
            if stack:
                stack.pop()
            else:
                bad.add(k)
    bad |= set(stack)
    runs, start = [], a
    for k in sorted(bad) + [b]:
        runs.append((start, k))
        start = k + 1
    out = []
    for s, e in runs:
        while s < e and tokens[s].kind in ("ws", "punct"):
            s += 1
        while e > s and tokens[e - 1].kind in ("ws", "punct"):
            e -= 1
        if s < e and any(tokens[k].strong for k in range(s, e)):
            out.append((s, e))
    return out


_OPS_TEX = {"<=>": r"\iff", "<->": r"\leftrightarrow", "<=": r"\le", ">=": r"\ge", "!=": r"\ne", "->": r"\to", "=>": r"\Rightarrow", "==": "=", "||": r"\|", "~": r"\sim", "+-": r"\pm", "..": r",\dots,", ".": r"\cdot"}


def _has_relation(toks: list[_Tok]) -> bool:
    return any((t.kind == "op" and t.text in _RELATIONS) or t.text == "in" for t in toks)


def _formula(text: str) -> str:
    r"""An ASCII formula as LaTeX math (without dollars): ``pi_ref * exp(beta P mu) / Z`` -> ``\pi_{\mathrm{ref}} \cdot \exp(\beta P \mu) / Z``."""
    toks = _tokenize(text)
    out: list[str] = []
    k, n = 0, len(toks)
    while k < n:
        t = toks[k]
        kind, s = t.kind, t.text
        if kind == "ws":
            nx = toks[k + 1] if k + 1 < n else None
            pv = toks[k - 1] if k else None
            if nx is not None and nx.kind == "open" and pv is not None and pv.kind in ("ident", "num", "close") and _has_relation(toks[k + 1 : _match(toks, k + 1)]):
                out.append(r"\ ")  # "mu (K >= 3)": a condition in brackets, not a product
            else:
                out.append(" ")
        elif kind == "ident":
            star = s.endswith("*")
            w = s.rstrip("*")
            if w == "sqrt" and k + 1 < n and toks[k + 1].kind == "open":
                j = _match(toks, k + 1)
                out.append(r"\sqrt{" + _formula("".join(u.text for u in toks[k + 2 : j])) + "}")
                k = j + 1
                continue
            bare = w.rstrip("'")
            primes = w[len(bare) :]
            pv = toks[k - 2] if k >= 2 and toks[k - 1].kind == "ws" else None
            nx = toks[k + 2] if k + 2 < n and toks[k + 1].kind == "ws" else None
            if bare in _FUNCS:
                out.append(_FUNCS[bare] + primes)
            elif w in ("sum", "in"):
                out.append("\\" + w)
            elif w == "x" and pv is not None and nx is not None and pv.kind in ("num", "ident", "close") and nx.kind in ("num", "ident", "open"):
                out.append(r"\times")
            elif w in _SUB_WORDS and w not in ("max", "min", "inf"):
                out.append(_SUB_WORDS[w])
            else:
                m = _ident_math(w)
                if m is None:
                    m = w if len(w) <= 3 and not _ACRONYM.match(w) else r"\mathrm{" + w + "}"
                out.append(m)
            if star:
                out.append("^*")
        elif kind == "sci":
            mant, ex = re.match(r"(\d+(?:\.\d+)?)e([+-]?\d+)", s).groups()
            out.append(("10" if mant == "1" else mant + r" \cdot 10") + "^{" + str(int(ex)) + "}")
        elif kind == "dim":
            a, b = s.split("x")
            out.append(a + r" \times " + b)
        elif kind == "num":
            out.append(s)
        elif kind == "op" and s == "^":
            arg, k = _script_arg(toks, k + 1)
            out.append("^{" + arg + "}")
            continue
        elif kind == "op" and s == "*":
            out.append(r"\cdot")
        elif kind == "op":
            out.append(_OPS_TEX.get(s, s))
        elif kind == "sub":
            arg, k = _script_arg(toks, k + 1)
            out.append("_{" + arg + "}")
            continue
        elif kind == "uni":
            out.append(_UNI_MATH[s])
        elif kind in ("open", "close"):
            out.append("\\" + s if s in "{}" else s)
        elif kind == "punct":
            out.append({",": r",\allowbreak ", ";": r";\ ", ":": r"\colon ", ".": ".", "!": "!", "?": r"\mathord{?}"}[s])
        elif kind == "ellipsis":
            out.append(r"\dots")
        else:
            out.append(r"\text{" + _escape_plain(s.strip("`*")) + "}")
        k += 1
    joined = ""
    for piece in out:
        # a command followed by a letter needs a space ("\cdot x", not "\cdotx")
        if piece and piece[0].isalpha() and re.search(r"\\[A-Za-z]+$", joined):
            joined += " "
        joined += piece
    return re.sub(r"\s+", " ", joined).strip()


def _match(toks: list[_Tok], k: int) -> int:
    depth = 0
    for j in range(k, len(toks)):
        if toks[j].kind == "open":
            depth += 1
        elif toks[j].kind == "close":
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def _script_arg(toks: list[_Tok], k: int) -> tuple[str, int]:
    """The argument of ``^`` or ``_`` at ``toks[k]``: a bracket group, a braced group, a signed word, ``T`` (transpose) or one token."""
    n = len(toks)
    if k >= n:
        return "{}", k
    t = toks[k]
    if t.kind == "open":
        j = _match(toks, k)
        inner_toks = toks[k + 1 : j]
        inner = _formula("".join(u.text for u in inner_toks))
        if t.text == "(" and len([u for u in inner_toks if u.kind != "ws"]) == 1:
            return "(" + inner + ")", j + 1  # a time index: pi^(t)
        return (inner if t.text in "({" else "[" + inner + "]"), j + 1
    if t.kind == "op" and t.text in "-+" and k + 1 < n and toks[k + 1].kind in ("num", "ident"):
        return t.text + _formula(toks[k + 1].text), k + 2
    if t.kind == "ident" and t.text == "T":
        return r"\top", k + 1
    if t.kind == "ident" and t.text.rstrip("*") == "T":
        return r"\top*", k + 1
    if t.kind == "ident" and len(t.text) > 2 and not t.text.isdigit() and _ident_math(t.text) is None:
        return r"\mathrm{" + t.text + "}", k + 1
    if t.kind in ("ident", "num"):
        return _formula(t.text), k + 1
    if t.kind == "op" and t.text == "*":
        return "*", k + 1
    if t.kind == "uni":
        return _UNI_MATH[t.text], k + 1
    return "{}", k


def _prepare(text: str) -> str:
    """Rewrite the few ASCII idioms that tokens cannot see: the ones vector, ``P[i,j]``, ``pi_top,0``."""
    text = text.replace("(<=)", "(⇐)").replace("(=>)", "(⇒)")  # the directions of an equivalence
    text = re.sub(r"(?<![\w.])1 ?1\^T\b", "ONES ONES^T", text)
    text = re.sub(r"(?<![\w.])1\^T\b", "ONES^T", text)
    text = re.sub(r"\bone\^T one\b", "ONES^T ONES", text)
    text = re.sub(r"ONES\^T 1\b", "ONES^T ONES", text)
    text = re.sub(r"\bS ?1(?=\s*(?:=|\)))", "S ONES", text)
    text = re.sub(r"\b([a-z]) 1\b(?!\s*[/.\d])(?=\s*(?:[),;]|$|is\b|with\b))", r"\1 ONES", text)
    text = re.sub(r"\bspan ?\(?1\)?", "span(ONES)", text)
    text = re.sub(r"(?<=[(\-])\.(?=[;)])", "·", text)  # the placeholder argument of g(.; p)

    def sub(m: re.Match) -> str:
        i, j = m.group(2), m.group(3)
        return m.group(1) + "_{" + (i + j if len(i) == len(j) == 1 else i + "," + j) + "}"

    text = re.sub(r"\b([A-Za-z])\[([^\[\],\s]{1,5}),\s*([^\[\],\s]{1,5})\]", sub, text)
    return re.sub(r"\b([A-Za-z]+)_([A-Za-z0-9]+),([A-Za-z0-9])\b(?!\s*[,)])", r"\1_{\2,\3}", text)


def _tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        kind, s = m.lastgroup, m.group()
        if kind == "other" and s in _UNI_MATH:
            kind = "uni"
        if kind == "ident" and "_" in s and s.rstrip("'") not in _MATH_WORDS:
            # an identifier whose suffix is a word is a name in the code ("mu_interior", "make_batch_step")
            parts = s.split("_")
            if not all(_is_index(p.rstrip("'")) for p in parts[1:]):
                out.append(_Tok("path", s))
                continue
        out.append(_Tok(kind, s))
    merged: list[_Tok] = []
    for k, t in enumerate(out):
        prev = merged[-1] if merged else None
        # "x*" (a starred name, "x* (mu)") is one identifier unless a word follows the star ("a*b" is a product)
        if t.kind == "op" and t.text == "*" and prev is not None and prev.kind == "ident" and not prev.text.endswith("*"):
            nxt = out[k + 1] if k + 1 < len(out) else None
            if nxt is None or nxt.kind not in ("ident", "num"):
                merged[-1] = _Tok("ident", prev.text + "*")
                continue
        # "_" after a bracket, a norm bar or a symbol is a subscript
        if t.kind == "other" and t.text == "_" and prev is not None and (prev.kind in ("close", "ident", "num", "uni") or prev.text in ("||", "|")):
            merged.append(_Tok("sub", "_"))
            continue
        # " . " between spaces is a product
        if t.kind == "punct" and t.text == "." and prev is not None and prev.kind == "ws" and k + 1 < len(out) and out[k + 1].kind == "ws":
            merged.append(_Tok("op", "."))
            continue
        merged.append(t)
    return merged


def _escape_plain(s: str) -> str:
    out = []
    for ch in s:
        if ch in _TEXT_ESC:
            out.append(_TEXT_ESC[ch])
        elif ch in _UNI_TEXT:
            out.append(_UNI_TEXT[ch])
        elif ch in _UNI_MATH:
            m = _UNI_MATH[ch]
            out.append("${}" + m + "$" if m[0] in "_^" else "$" + m + "$")
        elif ord(ch) > 126 or (ord(ch) < 32 and ch not in "\n\t"):
            out.append("?")
        else:
            out.append(ch)
    return "".join(out)


def _code_tex(s: str) -> str:
    r"""Code in ``\texttt`` with break points after ``/ . _ ,``."""
    esc = _escape_plain(s)
    return r"\texttt{" + re.sub(r"([/.,]|\\_)(?!$)", r"\1\\allowbreak{}", esc) + "}"


def _code(s: str) -> str:
    """Backticked text: code (a command, an option, a keyword argument, a module) in typewriter, anything else as prose."""
    inner = s[1:-1]
    if re.search(r"[\"']|^--|^prefdyn\b|\w+\.\w+|^\w+=|\(\)$", inner) or re.fullmatch(r"[a-z]+(?:_[a-z]+)+", inner) and inner not in _MATH_WORDS and _ident_math(inner) is None:
        return _code_tex(inner)
    return _prose_plain(inner)


def prose(text: str) -> str:
    r"""Plain text of a claim (statement, scope, hypothesis, title, note) as LaTeX; the one way prose is typeset.

    * ``$...$`` is kept as it is (already LaTeX);
    * formulas become inline math in the project's notation: names (``pi_ref`` ->
      ``\pi_{\mathrm{ref}}``, ``beta_dpo`` -> ``\beta_{\mathrm{DPO}}``, ``mu_k``, ``P[i,j]`` ->
      ``P_{ij}``, ``1^T`` -> ``\mathbf{1}^{\top}``), operators (``<=`` -> ``\le``, ``->`` -> ``\to``,
      ``^T`` -> ``^{\top}``, a starred name ``pi*`` -> ``\pi^*``), functions (``exp``, ``log``,
      ``diag``, ``sqrt(...)``) and unicode mathematics (``∝ ≤ ≥ → ⇒ ∈ Δ ±``);
    * a formula is a run of such tokens with numbers and balanced brackets between English
      words; single letters that are also words (``a``, ``A``, ``I``) and ``sum``, ``in`` are
      mathematics only next to an operator or bracket;
    * backticked text is a formula or prose, or code (an option, a keyword, a module path) in
      ``\texttt`` with break points; file names and module paths break at their separators;
      ``**bold**`` is bold; everything else is escaped text (unknown non-ASCII characters print as ``?``);
    * lines indented by four spaces are a block of displayed formulas.

    The result uses only the commands of LaTeX, amsmath and amssymb.

    >>> prose("pi* = pi_ref * exp(beta P mu) / Z")
    '$\\pi^* = \\pi_{\\mathrm{ref}} \\cdot \\exp(\\beta P \\mu) / Z$'
    >>> prose("unstable iff alpha^2 + (4 lam rho(S)/(beta_dpo K))^2 > 1")
    'unstable iff $\\alpha^{2} + (4 \\lambda \\rho(S)/(\\beta_{\\mathrm{DPO}} K))^{2} > 1$'
    >>> prose("fixed points solve pi ∝ pi_ref exp(kappa P pi), 50% of `loss_type`")
    'fixed points solve $\\pi \\propto \\pi_{\\mathrm{ref}} \\exp(\\kappa P \\pi)$, 50\\% of \\texttt{loss\\_\\allowbreak{}type}'
    """
    if not text:
        return ""
    parts = re.split(r"(?<!\\)\$", text)
    if len(parts) % 2 == 0:  # an odd number of dollar signs: they are dollars, not mathematics
        return _prose_blocks(text)
    out = []
    for k, part in enumerate(parts):
        out.append("$" + _math_unicode(part) + "$" if k % 2 == 1 else _prose_blocks(part))
    return "".join(out)


def _math_unicode(tex: str) -> str:
    """Unicode mathematics inside kept ``$...$`` as LaTeX commands (pdflatex does not read them)."""
    return "".join((" " + (r"\surd" if ch == "√" else _UNI_MATH[ch]) + " ") if ch in _UNI_MATH else ch for ch in tex)


def _display_row(line: str) -> str:
    """One indented line of a formula block: the formula, aligned at its relation, and a trailing comment in brackets."""
    cols = re.split(r"\s{2,}", line.strip())
    comment = ""
    if len(cols) > 1 and cols[-1].startswith("("):
        comment = cols.pop()
    formula = _formula(_prepare(" ".join(cols)))
    formula = re.sub(r"^(.*?)\s*(=|\\propto)\s*", r"\1 &\2 ", formula, count=1)
    return formula + (r" &&\text{" + _escape_plain(comment) + "}" if comment else "")


def _prose_blocks(text: str) -> str:
    """Paragraphs of prose, with runs of lines indented by four spaces as displayed formulas."""
    if "\n" not in text:
        return _prose_plain(text)
    blocks: list = []
    for line in text.split("\n"):
        kind = "d" if line.startswith("    ") and line.strip() else ("p" if line.strip() else None)
        if kind is not None and blocks and blocks[-1] is not None and blocks[-1][0] == kind:
            blocks[-1][1].append(line)
        else:
            blocks.append(None if kind is None else (kind, [line]))
    out = []
    for b in blocks:
        if b is None:
            if out and out[-1] != "\n\n":
                out.append("\n\n")
        elif b[0] == "p":
            out.append(_prose_plain(" ".join(b[1])))
        else:
            out.append("\n\\begin{align*}\n" + " \\\\\n".join(_display_row(x) for x in b[1]) + "\n\\end{align*}\n")
    return "".join(out)


def _prose_plain(text: str) -> str:
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() else ""
    toks = _tokenize(_prepare(text))
    _classify(toks)
    starts = dict(_spans(toks))
    out, k = [], 0
    while k < len(toks):
        if k in starts:
            b = starts[k]
            out.append("$" + _formula("".join(t.text for t in toks[k:b])) + "$")
            k = b
            continue
        t = toks[k]
        if t.kind == "code":
            out.append(_code(t.text))
        elif t.kind == "bold":
            out.append(r"\textbf{" + _prose_plain(t.text[2:-2]) + "}")
        elif t.kind in ("path", "flag"):
            out.append(_code_tex(t.text))
        elif t.kind == "uni":
            m = _UNI_MATH[t.text]
            out.append("${}" + m + "$" if m[0] in "_^" else "$" + m + "$")
        elif t.kind == "ellipsis":
            out.append(r"\dots{}")
        elif t.kind == "poss":
            out.append("'s")
        elif t.kind == "ws":
            out.append(" ")
        elif t.kind == "ident" and t.text == "ONES":
            out.append(r"$\mathbf{1}$")
        else:
            out.append(_escape_plain(t.text))
        k += 1
    return lead + "".join(out).strip() + trail


def escape_text(s: str) -> str:
    """Escape LaTeX special characters in plain text, keeping ``$...$`` math (no conversion of formulas; see :func:`prose`)."""
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



def plain_text(s: str, *, breaks: str = "") -> str:
    r"""Text set as it is, for tables and evidence: every special character escaped, ``--`` kept as two
    hyphens, a unicode mathematical character as ``\ensuremath{...}``, a unicode text character in its
    LaTeX form, any other non-ASCII character as ``U+XXXX``; ``\allowbreak`` after each character of
    ``breaks``. No formula is converted (see :func:`prose` for that).

    >>> plain_text("50% of x_k ∝ π--done", breaks="_")
    '50\\% of x\\_\\allowbreak{}k \\ensuremath{\\propto} \\ensuremath{\\pi}-{}-done'
    """
    out = []
    prev = ""
    for ch in str(s):
        if ch == "-" and prev == "-":
            out.append("{}")
        if ch in _TEXT_ESC:
            out.append(_TEXT_ESC[ch])
        elif ch in _UNI_MATH:
            out.append(r"\ensuremath{" + (r"\surd" if ch == "√" else _UNI_MATH[ch]) + "}")
        elif ch in _UNI_TEXT:
            out.append(_UNI_TEXT[ch])
        elif ord(ch) > 127:
            out.append(r"\texttt{U+%04X}" % ord(ch))
        else:
            out.append(ch)
        if ch in breaks:
            out.append(r"\allowbreak{}")
        prev = ch
    return "".join(out)


# =========================================================================== a document of sections
def section_body(sec: Section, *, heading: str = r"\subsubsection*", label_end: str = "") -> str:
    """The LaTeX of one section: its title as ``heading``, its statement as prose, each item as a labelled
    display (``label_end`` closes each label, e.g. ``"."``)."""
    out = [heading + "{" + prose(sec.title) + "}"]
    if sec.statement:
        out.append(prose(sec.statement) + "\n")
    for label, item in sec.items:
        if label:
            out.append(r"\paragraph{" + prose(label) + label_end + "}")
        out.append(display(item))
    return "\n".join(out) + "\n"


def document(sections: Sequence[Section], title: str = "prefdyn: derived expressions") -> str:
    """A complete ``.tex`` document of sections (``article``, amsmath, amssymb, A4 portrait)."""
    lines = [
        r"\documentclass[10pt,a4paper]{article}",
        r"\usepackage[T1]{fontenc}",
        r"\usepackage{lmodern}",
        r"\usepackage{amsmath}",
        r"\usepackage{amssymb}",
        r"\usepackage[margin=2.2cm]{geometry}",
        r"\allowdisplaybreaks",
        r"\emergencystretch=3em",
        r"\begin{document}",
        r"\section*{" + prose(title) + "}",
    ]
    lines += [section_body(sec, heading=r"\section") for sec in sections]
    lines.append(r"\end{document}")
    return "\n".join(lines) + "\n"
