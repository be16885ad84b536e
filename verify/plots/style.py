"""One style for every prefdyn figure, and the one way a figure reaches a file.

* Colours: the Okabe–Ito palette (:data:`PALETTE`), safe for the common colour-vision deficiencies;
  filled regions use light tints of it (:func:`tint`).
* Text: mathtext names as a paper writes them (:func:`math_name`: ``beta_dpo`` ->
  ``$\\beta_{\\mathrm{DPO}}$``, from :data:`theory.notation.LATEX_NAMES`); axes labelled with units.
* Axes: plain tick labels (no offset, no ``1e-8`` multiplier above an axis).
* Size: :data:`WIDTH` inches wide at :data:`DPI` dots per inch; layout by matplotlib's constrained
  layout, so a suptitle, axes titles and legends placed outside the axes never collide.

matplotlib is the optional ``plot`` extra: nothing here imports it at module level, so the numeric
parts of prefdyn run without it; :func:`require_matplotlib` raises ``ImportError`` with the install
hint (:data:`PLOT_HINT`). Figures are built on :class:`matplotlib.figure.Figure` directly, not
through ``pyplot``, so no backend or global figure list is involved.

>>> PALETTE["blue"], len(PALETTE)
('#0072B2', 8)
>>> math_name("beta_dpo"), math_name("alpha"), math_name("beta_slic"), math_name("b")
('$\\\\beta_{\\\\mathrm{DPO}}$', '$\\\\alpha$', '$\\\\beta_{\\\\mathrm{SLiC}}$', '$b$')
>>> picture_format("run.PDF"), picture_format("phase.png")
('pdf', 'png')
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import sys
import tempfile
from typing import Any, Iterator

from theory.notation import LATEX_NAMES
from verify.exact.objects import InputError

__all__ = [
    "PALETTE",
    "CYCLE",
    "WIDTH",
    "DPI",
    "PLOT_HINT",
    "FORMATS",
    "RC",
    "require_matplotlib",
    "figure_style",
    "new_figure",
    "tint",
    "math_name",
    "parameter_text",
    "matrix_mathtext",
    "picture_format",
    "check_picture_path",
    "save",
    "close",
]

#: The Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design").
PALETTE: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}

#: The order in which lines take the palette's colours (yellow last: weak on white).
CYCLE: tuple[str, ...] = tuple(PALETTE[k] for k in ("blue", "vermillion", "green", "orange", "purple", "sky", "black", "yellow"))

#: Figure width in inches (a full text width in a paper) and resolution of raster output.
WIDTH = 6.8
DPI = 180

PLOT_HINT = "plotting needs matplotlib: pip install 'prefdyn[plot]'"

#: Picture formats :func:`save` writes, from the file name's extension.
FORMATS: tuple[str, ...] = ("png", "pdf", "svg", "eps", "ps", "jpg", "jpeg", "tif", "tiff")

#: rcParams of every prefdyn figure.
RC: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "figure.titlesize": 10,
    "axes.formatter.useoffset": False,
    "axes.formatter.limits": (-9, 9),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
    "image.cmap": "cividis",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.fonttype": "none",
}


def require_matplotlib():
    """Import matplotlib, or raise ``ImportError`` with :data:`PLOT_HINT`; returns the module."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(PLOT_HINT) from None
    return matplotlib


@contextlib.contextmanager
def figure_style() -> Iterator[None]:
    """The prefdyn rcParams (:data:`RC` and the palette as the colour cycle), for the duration of a ``with``."""
    mpl = require_matplotlib()
    from cycler import cycler

    with mpl.rc_context({**RC, "axes.prop_cycle": cycler(color=list(CYCLE))}):
        yield


def new_figure(height: float, width: float = WIDTH):
    """A :class:`matplotlib.figure.Figure` of ``width x height`` inches with constrained layout (call inside :func:`figure_style`)."""
    require_matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def tint(colour: str, amount: float = 0.6) -> str:
    """``colour`` mixed with white (``amount`` = share of white), as ``#rrggbb``.

    >>> tint("#000000", 0.5)
    '#808080'
    """
    c = colour.lstrip("#")
    rgb = [int(c[i : i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(v + (255 - v) * amount):02x}" for v in rgb)


_UPPER = {"dpo": "DPO", "ipo": "IPO", "slic": "SLiC", "tq": "TQ", "exp": "exp"}


def math_name(name: str) -> str:
    """The mathtext of a parameter name: :data:`theory.notation.LATEX_NAMES`, else ``beta_x`` -> ``β_x`` upright."""
    if name in LATEX_NAMES:
        return f"${LATEX_NAMES[name]}$"
    head, _, sub = name.partition("_")
    if sub and head.isalpha():
        base = f"\\{head}" if head in ("alpha", "beta", "gamma", "lambda", "mu", "tau", "pi") else head
        return f"${base}_{{\\mathrm{{{_UPPER.get(sub, sub)}}}}}$"
    return f"${name}$" if name.isidentifier() else name


def picture_format(path: Any) -> str:
    """The picture format of ``path`` from its extension; :class:`InputError` (one line) for an unknown one."""
    ext = pathlib.Path(os.fspath(path)).suffix.lower().lstrip(".")
    if ext not in FORMATS:
        shown = f"'.{ext}'" if ext else "no extension"
        raise InputError(f"{os.fspath(path)}: {shown} is not a picture format; use one of " + ", ".join("." + f for f in FORMATS))
    return ext


def check_picture_path(path: Any) -> str:
    """Check, before any work, that a picture can be written to ``path``; returns its format.

    Raises :class:`InputError` (one line) for an unknown extension or a missing directory, and
    ``ImportError`` with :data:`PLOT_HINT` when matplotlib is not installed.
    """
    fmt = picture_format(path)
    parent = pathlib.Path(os.fspath(path)).parent
    if not parent.is_dir():
        raise InputError(f"{os.fspath(path)}: the directory {str(parent)!r} does not exist")
    require_matplotlib()
    return fmt


def check_out_option(path: Any) -> str:
    """:func:`check_picture_path` for a command's ``--out FILE``: every problem, a missing matplotlib too, is one
    :class:`InputError` line (exit 2) naming the option; returns the format."""
    try:
        return check_picture_path(path)
    except ImportError as e:
        raise InputError(f"--out {os.fspath(path)}: {e}") from None


def parameter_text(loss: Any, params: dict) -> str:
    """The parameters of a run in mathtext, each by its own name, and ``b`` for a loss other than IPO and DPO.

    ``params`` maps names (``alpha``, the loss's scale name, ``lambda`` or ``lam``, ...) to numbers;
    the loss's scale is taken from ``loss.scale`` when ``params`` does not give it. IPO shows ``β``,
    DPO ``β_DPO`` (never the other's), any other loss its own scale name and ``b``.

    >>> from theory.losses import BUILTIN
    >>> print(parameter_text(BUILTIN["dpo"], {"alpha": 0.9, "beta_dpo": 0.5, "lambda": 1}))
    $\\alpha$ = 0.9, $\\beta_{\\mathrm{DPO}}$ = 0.5, $\\lambda$ = 1
    >>> print(parameter_text(BUILTIN["slic"], {"alpha": 0.9, "beta_slic": 0.25, "lambda": 1}))
    $\\alpha$ = 0.9, $\\beta_{\\mathrm{SLiC}}$ = 0.25, $\\lambda$ = 1, $b$ = 0.25
    """
    values = dict(params)
    sname = getattr(loss, "scale_name", None)
    if sname is not None and sname not in values:
        values[sname] = float(loss.scale)
    parts = [f"{math_name(k)} = {float(v):g}" for k, v in values.items() if v is not None]
    if sname is not None and sname != "b" and getattr(loss, "name", None) not in ("ipo", "dpo"):
        parts.append(f"$b$ = {float(loss.b_of(values[sname])):g}")
    return ", ".join(parts)


def matrix_mathtext(label: str) -> str:
    """A matrix label of the command line with ``P_cyc(a)`` in mathtext.

    >>> print(matrix_mathtext("P_cyc(0.4)"))
    $P_{\\mathrm{cyc}}$(0.4)
    """
    return label.replace("P_cyc(", "$P_{\\mathrm{cyc}}$(")


def save(fig, path: Any) -> str:
    """Write ``fig`` to ``path`` in the format its extension names, and close it; returns the path as a string.

    The picture is written to a temporary file next to ``path`` and moved into place, so a failure
    leaves no half-written file.
    """
    fmt = picture_format(path)
    path = os.fspath(path)
    target = pathlib.Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".prefdyn-", suffix="." + fmt, dir=str(target.parent) if str(target.parent) else ".")
    os.close(fd)
    try:
        with figure_style():
            fig.savefig(tmp, format=fmt)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes the file private; a picture gets the usual mode
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
        close(fig)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def close(fig) -> None:
    """Release ``fig``: remove it from pyplot's figure list when it came from pyplot (a no-op otherwise)."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)
