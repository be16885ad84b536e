"""Shared options of the commands that take a loss: ``--loss NAME|EXPR`` and its scale.

The loss is a built-in of :data:`theory.losses.BUILTIN` (by name or alias) or an
expression in ``x`` (``"exp(-x)"``, ``"log(1+exp(-x))"``); it is built by
:func:`verify.loss`, which validates it (convex? differentiable at 0?). Its scale is
given by ``--scale VALUE`` or by the loss's own flag, generated from the built-ins
(``--beta`` for IPO, ``--beta-dpo`` for DPO, ``--beta-slic``, ...). Exact strings
(``"7/10"``) are accepted.

Building the parser needs only the names, scale names and texts of the built-ins, so they
are kept here as :data:`LOSS_CATALOGUE` and :data:`LOSS_ALIASES` (plain strings: ``prefdyn
--help`` starts without sympy). :func:`loss_catalogue` derives the same table from
:mod:`theory.losses` (a test keeps the two equal): a new built-in loss is one entry there and
the line :func:`loss_catalogue` prints for it here.

>>> LOSS_CATALOGUE["dpo"].scale_name, LOSS_ALIASES["hinge"], scale_flag("beta_dpo")
('beta_dpo', 'slic', '--beta-dpo')
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from verify.exact.objects import InputError, positive

if TYPE_CHECKING:  # pragma: no cover
    from theory.losses import PairLoss

__all__ = [
    "LossEntry",
    "LOSS_CATALOGUE",
    "LOSS_ALIASES",
    "loss_catalogue",
    "Subparsers",
    "HelpFormatter",
    "LOSS_HELP",
    "loss_epilog",
    "add_loss_options",
    "loss_from_args",
    "scale_flag",
    "scale_text",
    "loss_label",
    "builtin_twin",
    "loss_json",
    "exact_json",
]


@dataclass(frozen=True)
class LossEntry:
    """What the command line shows of a built-in loss: its texts, as ``sympy.sstr`` prints them."""

    name: str
    title: str
    f: str  #: ``f(x)``
    b: str  #: ``b`` in terms of the scale
    scale_name: str
    convention: str


#: The built-in losses of :data:`theory.losses.BUILTIN`, in its order (regenerate with :func:`loss_catalogue`).
LOSS_CATALOGUE: dict[str, LossEntry] = {
    e.name: e
    for e in (
        LossEntry("ipo", "IPO (squared)", "(1 - x)**2", "2/beta", "beta",
                  "IPO (Azar et al. 2023): beta = 1/tau, b = 2/beta; TRL loss_type='ipo' calls tau 'beta'"),
        LossEntry("dpo", "DPO (logistic)", "log(1 + exp(-x))", "beta_dpo", "beta_dpo",
                  "DPO (Rafailov et al. 2023): b = beta_dpo, the KL coefficient (TRL: beta, loss_type='sigmoid')"),
        LossEntry("slic", "SLiC (hinge)", "Max(0, 1 - x)", "beta_slic", "beta_slic",
                  "SLiC (Zhao et al. 2023) hinge: b = beta_slic (TRL: beta, loss_type='hinge')"),
        LossEntry("exp", "exponential", "exp(-x)", "beta_exp", "beta_exp",
                  "exponential loss (GPO, Tang et al. 2024): b = beta_exp"),
        LossEntry("tq", "truncated quadratic", "Max(0, 1 - x)**2", "beta_tq", "beta_tq",
                  "truncated quadratic (GPO, Tang et al. 2024): b = beta_tq"),
    )
}

#: The aliases of :data:`theory.losses.ALIASES` (alias -> built-in name).
LOSS_ALIASES: dict[str, str] = {
    "hinge": "slic", "logistic": "dpo", "sigmoid": "dpo", "squared": "ipo", "exponential": "exp",
    "truncated-quadratic": "tq", "sqhinge": "tq", "squared-hinge": "tq",
}


def loss_catalogue() -> tuple[dict[str, LossEntry], dict[str, str]]:
    """:data:`LOSS_CATALOGUE` and :data:`LOSS_ALIASES` derived from :mod:`theory.losses` (imports sympy).

    Print it to update the table after adding a built-in loss:
    ``python -c "from verify.commands._lossargs import loss_catalogue; print(loss_catalogue())"``.
    """
    import sympy

    from theory.losses import ALIASES, BUILTIN

    table = {
        name: LossEntry(name, L.title, sympy.sstr(L.f), sympy.sstr(L.b_of(sympy.Symbol(L.scale_name, positive=True))),
                        L.scale_name, L.convention)
        for name, L in BUILTIN.items()
    }
    return table, dict(ALIASES)


class Subparsers(Protocol):
    """What a command's ``register`` uses of the object ``ArgumentParser.add_subparsers()`` returns."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


class HelpFormatter(argparse.HelpFormatter):
    """Wrap the description as usual; keep the lines of a text that has line breaks (the list of losses)."""

    def _fill_text(self, text, width, indent):
        if "\n" not in text:
            return super()._fill_text(text, width, indent)
        import textwrap

        out = []
        for line in text.splitlines():
            lead = len(line) - len(line.lstrip())
            out.append(textwrap.fill(line.strip(), width, initial_indent=indent + " " * lead,
                                     subsequent_indent=indent + " " * (lead + 8 if lead else 2)))
        return "\n".join(out)


def scale_flag(scale_name: str) -> str:
    """The command-line flag of a scale parameter (``beta_dpo`` -> ``--beta-dpo``)."""
    return "--" + scale_name.replace("_", "-")


def _aliases_of(name: str) -> list[str]:
    return sorted(a for a, n in LOSS_ALIASES.items() if n == name)


def loss_epilog() -> str:
    """The built-in losses, one line each, for the ``--help`` of every command that takes ``--loss``."""
    lines = ["losses (--loss NAME or an expression f(x) in x, e.g. --loss 'exp(-x)'):"]
    for name, L in LOSS_CATALOGUE.items():
        al = _aliases_of(name)
        lines.append(
            f"  {name:<5} {L.title or name}: f(x) = {L.f}, b = {L.b} ({scale_flag(L.scale_name)})"
            + (f"; aliases: {', '.join(al)}" if al else "")
        )
    lines.append(
        "  EXPR  a convex f(x) in x only, with f'(0) < 0 (exp, log, sqrt, max, min, abs, cosh, ...): "
        "b = the value of --scale"
    )
    lines.append("The pair loss is p f(b h) + (1-p) f(-b h), h = r_i - r_j, r = log(pi/pi_ref); b is set by the scale.")
    return "\n".join(lines)


LOSS_HELP = (
    "the pairwise loss: a built-in name (" + ", ".join(LOSS_CATALOGUE) + ", or an alias) or an expression in x "
    "such as 'exp(-x)' or 'log(1+exp(-x))' (default: %(default)s)"
)


def _scale_flags() -> dict[str, list[str]]:
    """Scale name -> the built-in losses that use it."""
    out: dict[str, list[str]] = {}
    for name, L in LOSS_CATALOGUE.items():
        out.setdefault(L.scale_name, []).append(name)
    return out


def add_loss_options(p: argparse.ArgumentParser, *, default: str = "ipo", scale_defaults: dict[str, str] | None = None,
                     scale: bool = True) -> None:
    """Add ``--loss``, ``--scale`` and each built-in's named scale flag to ``p`` (``scale=False``: ``--loss`` only).

    ``scale_defaults`` maps a loss name to this command's default scale (e.g. ``{"ipo": "4"}``);
    other losses use their own default scale.
    """
    g = p.add_argument_group("loss", "the loss and its scale (see the list of losses below)" if scale else "the loss (see the list below)")
    g.add_argument("--loss", default=None, metavar="NAME|EXPR", help=LOSS_HELP.replace("%(default)s", default))
    p.set_defaults(loss_default=default, scale_defaults=dict(scale_defaults or {}))
    if not scale:
        return
    if scale_defaults:
        dflt = " (default: " + ", ".join(f"{scale_flag(LOSS_CATALOGUE[k].scale_name)[2:]} = {v} for {k}" for k, v in scale_defaults.items()) + \
            ", else the loss's default scale 1)"
    else:
        dflt = " (default: the loss's default scale, 1)"
    g.add_argument("--scale", default=None, metavar="VALUE",
                   help="the loss's scale parameter, > 0, exact strings such as 7/10 accepted" + dflt)
    for sname, losses in _scale_flags().items():
        g.add_argument(scale_flag(sname), dest=f"scale_{sname}", default=None, metavar="VALUE",
                       help=f"the same as --scale for --loss {'/'.join(losses)} ({sname})")


def loss_from_args(args: argparse.Namespace, *, spec: str | None = None) -> PairLoss:
    """The validated loss object with its scale, from ``--loss``/``--scale``/the named flags.

    ``spec`` overrides ``--loss`` (used by the aliases ``ipo``, ``dpo``, ...). Raises
    :class:`InputError` with one line when a named flag belongs to another loss, when the
    scale is given twice with two values, or when the scale is not > 0.
    """
    from verify import loss as make_loss

    spec = spec or getattr(args, "loss", None) or args.loss_default
    base = make_loss(spec)
    given: list[tuple[str, str]] = []
    if getattr(args, "scale", None) is not None:
        given.append(("--scale", args.scale))
    for sname, losses in _scale_flags().items():
        v = getattr(args, f"scale_{sname}", None)
        if v is None:
            continue
        if sname != base.scale_name:
            raise InputError(
                f"{scale_flag(sname)} is the scale of --loss {'/'.join(losses)}; the loss {_name(base)} has scale "
                f"{base.scale_name}: give --scale"
                + (f" or {scale_flag(base.scale_name)}" if base.scale_name in _scale_flags() else "")
            )
        given.append((scale_flag(sname), v))
    if len(given) == 2:
        (f1, v1), (f2, v2) = given
        a, b = positive(v1, base.scale_name), positive(v2, base.scale_name)
        if a != b:
            raise InputError(f"the scale {base.scale_name} is given twice: {f1} {v1} and {f2} {v2}")
    if given:
        value = given[0][1]
    else:
        value = args.scale_defaults.get(base.name) if base.name in LOSS_CATALOGUE else None
    if value is None:
        return base
    positive(value, base.scale_name)  # one clear line: "beta_dpo = -1, expected > 0"
    return make_loss(base, scale=value)


def _name(loss: PairLoss) -> str:
    import sympy

    return loss.name if loss.name in LOSS_CATALOGUE else f"f(x) = {sympy.sstr(loss.f)}"


def builtin_twin(loss: PairLoss) -> PairLoss | None:
    """The built-in loss with the same ``f`` as a user expression (``"log(1+exp(-x))"`` is DPO's), or None."""
    import sympy

    from theory.losses import BUILTIN

    if loss.name in BUILTIN:
        return None
    for L in BUILTIN.values():
        if sympy.simplify(loss.f - L.f) == 0:
            return L
    return None


def loss_label(loss: PairLoss) -> str:
    """A short name for titles: ``DPO (logistic)``, or ``f(x) = exp(-x)`` for an expression."""
    import sympy

    if loss.name in LOSS_CATALOGUE:
        return loss.title or loss.name
    return f"f(x) = {sympy.sstr(loss.f)}"


def scale_text(loss: PairLoss) -> str:
    """``beta_dpo = 1/2`` (exact, as given)."""
    import sympy

    return f"{loss.scale_name} = {sympy.sstr(loss.scale)}"


def exact_json(x: Any) -> Any:
    """An exact sympy number for JSON: an int, or the exact string; with its float next to it by the caller."""
    import sympy

    x = sympy.sympify(x)
    if x.is_Integer:
        return int(x)
    return sympy.sstr(x)


def loss_json(loss: PairLoss) -> dict:
    """What a JSON document says about the loss: its name, f, the scale by its own name, and b."""
    import sympy

    return {
        "loss": loss.name,
        "f": sympy.sstr(loss.f),
        "scale_name": loss.scale_name,
        loss.scale_name: float(loss.scale),
        "scale_exact": exact_json(loss.scale),
        "convention": loss.convention,
    }
