"""Property-based checking with hypothesis, and the user-facing ``claim`` decorator.

:func:`property_check` draws instances from a hypothesis strategy, keeps those
that satisfy the claim's named hypotheses, and searches for one on which the
predicate is False. Hypothesis shrinks the first failure it finds; the shrunk
instance and the seed that reproduces the search are the counterexample.

A user claim:

>>> import hypothesis.strategies as st
>>> from verify import claim, check, REGISTRY
>>> @claim("USER-squares", statement="x*x >= x for integers", given=st.integers())
... def squares_dominate(x):
...     return x * x >= x
>>> check(["USER-squares"])[0].verdict
'verified'
>>> REGISTRY.remove("USER-squares")
"""

from __future__ import annotations

import time
from typing import Any, Callable, Mapping

from .registry import (
    CheckContext,
    Checker,
    Claim,
    Control,
    Outcome,
    Registry,
    inconclusive,
    refuted,
    register,
    verified,
)

__all__ = ["property_check", "claim", "property_checker", "without_hypothesis", "dropped_hypothesis_control"]

#: examples per budget for property checks
EXAMPLES = {"quick": 100, "standard": 500, "thorough": 5000}
#: seconds of shrinking per budget, counted from the first failure
SHRINK_SECONDS = {"quick": 3.0, "standard": 10.0, "thorough": 60.0}


class _ClaimFalse(AssertionError):
    pass


def property_check(
    predicate: Callable[[Any], Any],
    strategy: Any,
    ctx: CheckContext,
    *,
    hypotheses: Mapping[str, Callable[[Any], bool]] | None = None,
    max_examples: int | None = None,
    describe: Callable[[Any], Any] | None = None,
    shrink_seconds: float | None = None,
) -> Outcome:
    """Search for an instance drawn from ``strategy`` on which ``predicate`` fails.

    Shrinking stops after ``shrink_seconds`` (default by budget: 3, 10, 60 s) from the
    first failure; the counterexample is then the last instance that was *evaluated*
    and failed, so it is always a genuine counterexample, if not always the smallest.

    ``predicate(x)`` returns True when the claim holds for ``x``; it may also
    return ``(ok, slack)`` where ``slack`` (a float, larger = safer) steers the
    search toward near-violations with ``hypothesis.target``.

    Returns ``verified`` with the number of instances that satisfied the
    hypotheses, ``refuted`` with the shrunk counterexample and the seed, or
    ``inconclusive`` when too few drawn instances satisfied the hypotheses.
    """
    import hypothesis
    from hypothesis import HealthCheck, Verbosity, given, settings
    from hypothesis import seed as hseed

    hyps = dict(ctx.hypotheses if hypotheses is None else hypotheses)
    n_examples = max_examples or EXAMPLES[ctx.budget]
    seed = ctx.subseed("property")
    failing: list[Any] = []
    raised: list[tuple[Any, BaseException]] = []
    count = [0]
    min_slack: list[float] = []
    budget_s = shrink_seconds if shrink_seconds is not None else SHRINK_SECONDS[ctx.budget]
    first_fail: list[float] = []

    @settings(
        max_examples=n_examples,
        database=None,
        deadline=None,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @hseed(seed)
    @given(strategy)
    def run(x: Any) -> None:
        for _name, h in hyps.items():
            hypothesis.assume(bool(h(x)))
        if first_fail and time.perf_counter() - first_fail[0] > budget_s:
            return  # shrink budget spent: stop evaluating (nothing new fails)
        count[0] += 1
        try:
            res = predicate(x)
        except Exception as e:  # recorded, then re-raised so hypothesis shrinks it
            raised.append((x, e))
            if not first_fail:
                first_fail.append(time.perf_counter())
            raise
        slack = None
        if isinstance(res, tuple):
            res, slack = res
        if slack is not None:
            s = float(slack)
            min_slack.append(s)
            hypothesis.target(-s, label="closeness to violation")
        if not res:
            failing.append(x)
            if not first_fail:
                first_fail.append(time.perf_counter())
            raise _ClaimFalse()

    show = describe or (lambda x: x)
    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        return inconclusive(f"too few drawn instances satisfied the hypotheses {sorted(hyps)}")
    except BaseException as exc:  # noqa: BLE001 - a failure found by the search, or a crash
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        if failing:
            x = failing[-1]
            return refuted(
                f"counterexample found by hypothesis (seed {seed}), shrunk",
                instance=show(x),
                seed=seed,
                detail="the predicate returned False on this instance",
                examples_tried=count[0],
            )
        if raised:
            x, err = raised[-1]
            return Outcome(
                "error",
                f"the predicate raised {type(err).__name__}: {err}",
                {"instance": show(x), "seed": seed},
            )
        raise
    details: dict[str, Any] = {"seed": seed, "hypotheses": sorted(hyps)}
    if min_slack:
        details["min_slack"] = min(min_slack)
    return verified(
        f"no counterexample in {count[0]} instances (hypothesis, seed {seed})",
        n=count[0],
        **details,
    )


def property_checker(
    predicate: Callable[[Any], Any],
    strategy: Any,
    *,
    name: str = "property",
    hypotheses: Mapping[str, Callable[[Any], bool]] | None = None,
    max_examples: int | None = None,
    describe: Callable[[Any], Any] | None = None,
) -> Checker:
    """A :class:`Checker` running :func:`property_check` on ``predicate``."""

    def fn(ctx: CheckContext) -> Outcome:
        return property_check(
            predicate, strategy, ctx, hypotheses=hypotheses, max_examples=max_examples, describe=describe
        )

    return Checker(name, "property", fn, f"hypothesis search for a counterexample ({name})")


def claim(
    id: str,
    *,
    statement: str,
    given: Any,
    tag: str = "user",
    hypotheses: Mapping[str, Callable[[Any], bool]] | None = None,
    latex: str = "",
    max_examples: int | None = None,
    registry: Registry | None = None,
) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Register a property-based claim (decorator).

    Parameters
    ----------
    id : str
        Unique claim id (a duplicate raises ``ValueError``).
    statement : str
        The claim in words.
    given : hypothesis strategy
        Draws one instance; the decorated function receives it and returns
        True when the claim holds for it (or ``(ok, slack)``).
    hypotheses : dict name -> predicate, optional
        Named hypotheses; drawn instances that violate one are discarded.

    Returns the decorated function unchanged, with ``.claim`` attached.
    """

    def deco(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        c = Claim(
            id=id,
            statement=statement,
            tag=tag,
            latex=latex,
            hypotheses=dict(hypotheses or {}),
            checkers=[property_checker(fn, given, hypotheses=hypotheses, max_examples=max_examples)],
            source=getattr(fn, "__module__", ""),
        )
        register(c, registry)
        fn.claim = c  # type: ignore[attr-defined]
        return fn

    return deco


def dropped_hypothesis_control(
    predicate: Callable[[Any], Any],
    strategy: Any,
    hypotheses: Mapping[str, Callable[[Any], bool]],
    drop: str,
    *,
    max_examples: int | None = None,
    describe: Callable[[Any], Any] | None = None,
) -> Control:
    """A negative control: the same property check with hypothesis ``drop`` removed."""
    if drop not in hypotheses:
        raise KeyError(f"no hypothesis named {drop!r}")
    kept = {k: v for k, v in hypotheses.items() if k != drop}

    def fn(ctx: CheckContext) -> Outcome:
        return property_check(predicate, strategy, ctx, hypotheses=kept, max_examples=max_examples, describe=describe)

    return Control(f"drop-{drop}", f"the property check without the hypothesis '{drop}'", fn)


def without_hypothesis(fn: Callable[[CheckContext], Outcome], drop: str, description: str = "") -> Control:
    """A negative control: checker ``fn`` run with the claim's hypothesis ``drop`` removed.

    The checker must draw its instances and filter them with ``ctx.hypotheses``
    (or :meth:`CheckContext.satisfies`); the control then runs the very same code on
    instances that the dropped hypothesis used to exclude, and must be refuted when
    that hypothesis is needed.
    """
    import dataclasses

    def run(ctx: CheckContext) -> Outcome:
        if drop not in ctx.hypotheses:
            raise KeyError(f"claim {ctx.claim_id} has no hypothesis named {drop!r}; it has {sorted(ctx.hypotheses)}")
        kept = {k: v for k, v in ctx.hypotheses.items() if k != drop}
        return fn(dataclasses.replace(ctx, hypotheses=kept))

    return Control(f"drop-{drop}", description or f"the same checker without the hypothesis '{drop}'", run)
