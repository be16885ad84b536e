"""Running claims: built-in claim modules, user modules, budgets, seeds.

>>> from verify import check
>>> [r.id for r in check(["IPO-2"])]
['IPO-2']
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
import traceback
from pathlib import Path
from typing import Callable, Iterable, Sequence

from verify.engine.registry import (
    BUDGETS,
    REGISTRY,
    CheckContext,
    Checker,
    CheckResult,
    Claim,
    ClaimResult,
    Control,
    Outcome,
    Registry,
)

__all__ = ["BUILTIN_MODULES", "load_builtin_claims", "load_module", "check", "run_claim", "run_checker", "run_controls", "all_controls", "replay_command"]

#: Modules that register the built-in claims (explicit, in docs/claims.md order).
BUILTIN_MODULES: list[str] = [
    "verify.claims.ipo",
    "verify.claims.ranking",
    "verify.claims.dynamics",
    "verify.claims.dpo",
    "verify.claims.losses",
    "verify.claims.oscillation",
]


#: claim id -> the file it was loaded from (for replay commands)
_USER_MODULE_PATHS: dict[str, str] = {}


def load_builtin_claims() -> Registry:
    """Import every built-in claim module (idempotent) and return the registry."""
    for name in BUILTIN_MODULES:
        importlib.import_module(name)
    return REGISTRY


def load_module(path: str | Path) -> list[str]:
    """Execute a Python file of user claims; return the ids it registered.

    Raises ``FileNotFoundError`` / ``ValueError`` with a one-line message when the
    file is missing or fails to import.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"claim module {str(p)!r} does not exist")
    mod_name = f"prefdyn_user_{abs(hash(str(p.resolve())))}"
    if mod_name in sys.modules:
        ids = list(getattr(sys.modules[mod_name], "__prefdyn_ids__", []))
        if all(i in REGISTRY for i in ids):
            return ids
        # some of its claims were removed from the registry since: run the file again
        for i in ids:
            if i in REGISTRY:
                REGISTRY.remove(i)
        del sys.modules[mod_name]
    before = set(REGISTRY.ids())
    spec = importlib.util.spec_from_file_location(mod_name, p)
    if spec is None or spec.loader is None:
        raise ValueError(f"claim module {str(p)!r} cannot be loaded as Python")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as e:
        del sys.modules[mod_name]
        raise ValueError(f"claim module {str(p)!r} failed to import: {type(e).__name__}: {e}") from e
    new = [i for i in REGISTRY.ids() if i not in before]
    mod.__prefdyn_ids__ = new  # type: ignore[attr-defined]
    for i in new:
        _USER_MODULE_PATHS[i] = str(p)
    return new


def _timed(fn: Callable[[CheckContext], Outcome], ctx: CheckContext) -> tuple[Outcome, float]:
    t0 = time.perf_counter()
    try:
        out = fn(ctx)
        if not isinstance(out, Outcome):
            out = Outcome("error", f"checker returned {type(out).__name__}, expected an Outcome")
    except Exception as e:  # noqa: BLE001 - any failure of a checker is an 'error' verdict
        out = Outcome(
            "error",
            f"{type(e).__name__}: {e}",
            {"traceback": traceback.format_exc(limit=8)},
        )
    return out, time.perf_counter() - t0


def replay_command(claim: Claim, budget: str, seed: int) -> str:
    """The command that checks ``claim`` alone and regenerates its counterexamples."""
    cmd = f"prefdyn check --claim {claim.id} --seed {seed}"
    if budget != "quick":
        cmd += f" --budget {budget}"
    path = _USER_MODULE_PATHS.get(claim.id)
    if path:
        cmd += f" --module {path}"
    return cmd


def _context(claim: Claim, budget: str, seed: int) -> CheckContext:
    return CheckContext(budget=budget, seed=seed, claim_id=claim.id, hypotheses=dict(claim.hypotheses))


def run_checker(claim: Claim, checker: Checker, budget: str = "quick", seed: int = 0) -> CheckResult:
    """Run one checker of ``claim`` in a fresh context (depends only on claim, budget, seed)."""
    out, secs = _timed(checker.fn, _context(claim, budget, seed))
    if out.verdict == "proved" and checker.evidence != "proof":
        out = Outcome(
            "error",
            f"checker {checker.name!r} returned 'proved' but declares evidence {checker.evidence!r}, not a proof",
            {"summary": out.summary},
        )
    ce = out.counterexample
    if ce is not None:
        # the seed a refuted verdict reports is the run seed: `--seed` with it regenerates the
        # counterexample when the claim is checked alone; a checker's own sub-seed is kept as detail
        if ce.seed is not None and ce.seed != seed:
            out.details.setdefault("generator_seed", ce.seed)
        ce.seed = seed
        if not ce.replay:
            ce.replay = replay_command(claim, budget, seed)
    return CheckResult(checker.name, checker.kind, out, secs, checker.evidence, checker.covers, tuple(checker.proves))


def run_claim(claim: Claim, budget: str = "quick", seed: int = 0) -> ClaimResult:
    """Run every checker of ``claim``; exceptions become ``error`` verdicts.

    Each checker gets a fresh :class:`CheckContext` whose random streams depend only on
    ``(seed, claim id)``: the result does not depend on which other claims ran.
    """
    t0 = time.perf_counter()
    checks = [run_checker(claim, ch, budget, seed) for ch in claim.checkers]
    return ClaimResult(
        id=claim.id,
        tag=claim.tag,
        statement=claim.statement,
        checks=checks,
        seconds=time.perf_counter() - t0,
        budget=budget,
        seed=seed,
        note=claim.note,
        scope=claim.scope,
        argument=claim.argument,
        cites=claim.cites,
    )


def all_controls(claim: Claim) -> list[Control]:
    """The claim's planted controls followed by its constant mutations."""
    return list(claim.controls) + claim.mutation_controls()


def run_controls(claim: Claim, budget: str = "quick", seed: int = 0) -> list[CheckResult]:
    """Run the negative controls and constant mutations of ``claim``.

    Each result has ``.expect`` (``"refuted"``, or ``"holds"`` for a mutation that
    leaves the statement true) and ``.caught`` (whether it came back as expected).
    """
    out = []
    for c in all_controls(claim):
        o, secs = _timed(c.fn, _context(claim, budget, seed))
        out.append(CheckResult(f"control:{c.name}", "control", o, secs, expect=c.expect, caught=c.caught(o)))
    return out


def check(
    claim_ids: Sequence[str] | None = None,
    budget: str = "quick",
    seed: int = 0,
    *,
    modules: Iterable[str | Path] = (),
    progress: Callable[[int, int, str], None] | None = None,
) -> list[ClaimResult]:
    """Check claims and return one :class:`ClaimResult` per claim.

    Parameters
    ----------
    claim_ids : list of str, optional
        Claim ids to check (default: every registered claim, built-in and user).
    budget : {"quick", "standard", "thorough"}
        How many instances / examples / digits checkers spend.
    seed : int
        Seed from which every random choice is derived.
    modules : paths
        Python files of user claims to load first.
    progress : callable(done, total, claim_id), optional
        Called before each claim.
    """
    if budget not in BUDGETS:
        raise ValueError(f"budget {budget!r}, expected one of {', '.join(BUDGETS)}")
    load_builtin_claims()
    for m in modules:
        load_module(m)
    if claim_ids:
        claims = [REGISTRY.get(i) for i in claim_ids]
    else:
        claims = list(REGISTRY)
    results = []
    for k, c in enumerate(claims):
        if progress is not None:
            progress(k, len(claims), c.id)
        results.append(run_claim(c, budget=budget, seed=seed))
    if progress is not None:
        progress(len(claims), len(claims), "")
    return results
