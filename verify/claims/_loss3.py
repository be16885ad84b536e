"""LOSS-3's checkers for one named loss, as the evidence of that loss's own threshold claim (DYN-6, DPO-6)."""

from __future__ import annotations

from typing import Callable

from verify.engine.registry import CheckContext, Outcome

__all__ = ["with_loss"]


def with_loss(loss_name: str, checker: str, **bound) -> Callable[..., Outcome]:
    """LOSS-3's checker ``checker`` (:mod:`verify.claims.losses`) with the loss ``loss_name`` only.

    The keyword ``gain`` states the gain ``c_f``. The module is imported when the checker runs, so
    that LOSS-1..3 register after the DPO claims (docs/claims.md order). The checker is named
    ``checker[loss_name]``.
    """

    def run(ctx: CheckContext, **kw) -> Outcome:
        from verify.claims import losses

        return getattr(losses, checker)(ctx, **{"losses": (loss_name,), **bound, **kw})

    run.__name__ = run.__qualname__ = f"{checker}[{loss_name}]"
    run.__doc__ = f"LOSS-3's {checker} with the {loss_name.upper()} loss."
    return run
