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

import contextlib
import time
from typing import Any, Callable, Iterator, Mapping

from verify.engine.registry import (
    DRAWN,
    CheckContext,
    Checker,
    Claim,
    Control,
    Outcome,
    Registry,
    Scope,
    inconclusive,
    refuted,
    register,
    verified,
)

__all__ = ["property_check", "claim", "property_checker", "without_hypothesis"]

#: examples per budget for property checks
EXAMPLES = {"quick": 100, "standard": 500, "thorough": 5000}
#: predicate evaluations allowed for shrinking after the first failure (deterministic, so replays agree)
SHRINK_STEPS = {"quick": 20, "standard": 200, "thorough": 1000}
#: safety cap on shrinking time; hitting it is reported, since the counterexample may then differ on replay
SHRINK_SECONDS = {"quick": 30.0, "standard": 120.0, "thorough": 600.0}


class _ClaimFalse(AssertionError):
    pass


class _ShrinkBudgetSpent(BaseException):
    """Raised through hypothesis to end shrinking after a fixed number of evaluations."""


@contextlib.contextmanager
def code_constants_left_out() -> Iterator[bool]:
    """Keep hypothesis from drawing the literal constants of the loaded modules; yields whether it could.

    Hypothesis (6.13x and later) mixes into its draws, with probability 0.05 per choice, the literal
    constants of every *local* module that happens to be imported (``_get_local_constants`` in
    ``hypothesis.internal.conjecture.providers``). A search would then depend on what else the process
    imported — a test module, a figure module, a user's claim file — and not only on the claim, the
    budget and the seed. Inside this context the pool of local constants is empty (hypothesis's own
    global constants stay), so the same seed draws the same instances in every process. Where a
    hypothesis release has no such pool the context does nothing and yields False.
    """
    try:
        from hypothesis.internal.conjecture import providers

        original = providers._get_local_constants
        empty = providers.Constants()
        cache = providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):
        yield False
        return
    cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield True
    finally:
        providers._get_local_constants = original
        cache.clear()


def property_check(
    predicate: Callable[[Any], Any],
    strategy: Any,
    ctx: CheckContext,
    *,
    hypotheses: Mapping[str, Callable[[Any], bool]] | None = None,
    max_examples: int | None = None,
    describe: Callable[[Any], Any] | None = None,
    shrink_steps: int | None = None,
    shrink_seconds: float | None = None,
    dps: int | None = None,
    tolerance: Any = 0,
    tolerance_kind: str = "predicate",
    criterion: str = "",
) -> Outcome:
    """Search for an instance drawn from ``strategy`` on which ``predicate`` fails.

    Instances that violate one of ``hypotheses`` (default: the claim's,
    ``ctx.hypotheses``) are discarded with ``hypothesis.assume``. The search is seeded
    from ``(ctx.seed, claim id)`` only, and shrinking stops after ``shrink_steps``
    predicate evaluations counted from the first failure (default by budget: 20, 200,
    1000), so the counterexample is the same whenever the claim is checked with the
    same seed and budget, whatever else ran in the process. It is the last instance
    that was *evaluated* and failed: always a genuine counterexample, if not always the
    smallest. A safety time cap (``shrink_seconds``) is reported when hit.

    ``predicate(x)`` returns True when the claim holds for ``x``; it may also
    return ``(ok, slack)`` where ``slack`` (a float, larger = safer) steers the
    search toward near-violations with ``hypothesis.target``. It runs at ``dps``
    decimal digits (default: the current mpmath precision), which the verdict states
    together with ``tolerance`` and ``tolerance_kind`` (default ``"predicate"``: the
    predicate's own comparisons decide).

    Returns ``verified`` with the number of instances that satisfied the
    hypotheses, ``refuted`` with the shrunk counterexample and the run seed that
    regenerates it, ``inconclusive`` when too few drawn instances satisfied the
    hypotheses, or ``error`` when the predicate raised.
    """
    import hypothesis
    import mpmath
    from hypothesis import HealthCheck, Verbosity, given, settings
    from hypothesis import seed as hseed

    hyps = dict(ctx.hypotheses if hypotheses is None else hypotheses)
    n_examples = max_examples or EXAMPLES[ctx.budget]
    hseed_value = ctx.subseed("property")
    work_dps = int(dps) if dps is not None else int(mpmath.mp.dps)
    failing: list[Any] = []
    raised: list[tuple[Any, BaseException]] = []
    count = [0]
    after_fail = [0]
    min_slack: list[float] = []
    steps_cap = shrink_steps if shrink_steps is not None else SHRINK_STEPS[ctx.budget]
    time_cap = shrink_seconds if shrink_seconds is not None else SHRINK_SECONDS[ctx.budget]
    first_fail: list[float] = []
    stopped_by_time = [False]

    def shrink_spent() -> bool:
        if not first_fail:
            return False
        if after_fail[0] >= steps_cap:
            return True
        if time.perf_counter() - first_fail[0] > time_cap:
            stopped_by_time[0] = True
            return True
        return False

    @settings(
        max_examples=n_examples,
        database=None,
        deadline=None,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        derandomize=False,
    )
    @hseed(hseed_value)
    @given(strategy)
    def run(x: Any) -> None:
        for _name, h in hyps.items():
            hypothesis.assume(bool(h(x)))
        if shrink_spent():
            raise _ShrinkBudgetSpent()  # ends the run: the last failing instance is the counterexample
        count[0] += 1
        if first_fail:
            after_fail[0] += 1
        try:
            with mpmath.workdps(work_dps):
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
    precision = {"dps": work_dps, "tolerance": tolerance, "tolerance_kind": tolerance_kind}
    crit = criterion or (
        "the predicate's own comparisons decide" if tolerance_kind == "predicate" else ""
    )
    try:
        with code_constants_left_out():
            run()
    except hypothesis.errors.Unsatisfiable:
        return inconclusive(f"too few drawn instances satisfied the hypotheses {sorted(hyps)}")
    except BaseException as exc:  # noqa: BLE001 - a failure found by the search, or a crash
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        if failing:
            x = failing[-1]
            out = refuted(
                f"counterexample found by hypothesis (run seed {ctx.seed}), shrunk",
                instance=show(x),
                seed=ctx.seed,
                detail="the predicate returned False on this instance",
                examples_tried=count[0],
                hypothesis_seed=hseed_value,
                shrink_steps=after_fail[0],
                shrink_stopped_by_time=stopped_by_time[0],
                hypotheses=sorted(hyps),
            )
            out.dps, out.tolerance, out.tolerance_kind, out.criterion = work_dps, tolerance, tolerance_kind, crit
            return out
        if raised:
            x, err = raised[-1]
            return Outcome(
                "error",
                f"the predicate raised {type(err).__name__}: {err}",
                {"instance": show(x), "seed": ctx.seed, "hypothesis_seed": hseed_value},
            )
        raise
    details: dict[str, Any] = {"hypothesis_seed": hseed_value, "hypotheses": sorted(hyps)}
    if min_slack:
        details["min_slack"] = min(min_slack)
    return verified(
        f"no counterexample in {count[0]} instances (hypothesis, run seed {ctx.seed})",
        n=count[0],
        criterion=crit,
        **precision,
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
    dps: int | None = None,
    tolerance: Any = 0,
    tolerance_kind: str = "predicate",
    criterion: str = "",
    covers: str = "",
) -> Checker:
    """A :class:`Checker` running :func:`property_check` on ``predicate``.

    With ``hypotheses=None`` (the default) the claim's own hypotheses
    (``ctx.hypotheses``) filter the drawn instances, so a control that drops one
    (:func:`without_hypothesis`) runs this very checker without it.
    """

    def fn(ctx: CheckContext) -> Outcome:
        return property_check(
            predicate,
            strategy,
            ctx,
            hypotheses=hypotheses,
            max_examples=max_examples,
            describe=describe,
            dps=dps,
            tolerance=tolerance,
            tolerance_kind=tolerance_kind,
            criterion=criterion,
        )

    return Checker(
        name,
        "property",
        fn,
        f"hypothesis search for a counterexample ({name})",
        covers=covers or "hypothesis search over the drawn instances",
    )


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
    scope: str | Scope | None = None,
    dps: int | None = None,
    tolerance: Any = 0,
    tolerance_kind: str = "predicate",
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
        Named hypotheses, predicates on the drawn instance; instances that violate
        one are discarded (``hypothesis.assume``).
    scope : str, optional
        What the claim quantifies over (default: the instances drawn by ``given``).
        A search never proves, so a user claim is at best ``verified``.
    dps, tolerance, tolerance_kind :
        The working precision the predicate runs at (default: mpmath's current, 15)
        and the tolerance its comparisons use (default 0, kind ``"predicate"``: its
        own comparisons decide); the verdict states them.

    Returns the decorated function unchanged, with ``.claim`` attached.
    """

    def deco(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        checker = property_checker(
            fn, given, max_examples=max_examples, dps=dps, tolerance=tolerance, tolerance_kind=tolerance_kind
        )
        c = Claim(
            id=id,
            statement=statement,
            tag=tag,
            latex=latex,
            hypotheses=dict(hypotheses or {}),
            checkers=[checker],
            source=getattr(fn, "__module__", ""),
            scope=Scope(scope) if isinstance(scope, str) else (scope or DRAWN),
            # each named hypothesis dropped in turn: the same search must then fail
            controls=[without_hypothesis(checker.fn, h) for h in (hypotheses or {})],
        )
        register(c, registry)
        fn.claim = c  # type: ignore[attr-defined]
        return fn

    return deco


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
