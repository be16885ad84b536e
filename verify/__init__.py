"""prefdyn.verify — numbers and verdicts.

High-precision numerics (mpmath), batched float numerics (numpy), exact
certificates, hypothesis strategies, the claim registry, reports and the
``prefdyn`` command line.

Public API (see README.md for examples that run as tests)::

    from verify import load_preference_matrix, ipo_optimum, check, claim
    from verify import System, loss       # any pairwise loss: System(P, "dpo", alpha=..., lam=...)

The names are imported on first use (PEP 562, :data:`EXPORTS` says from where), so
``import verify`` and the ``prefdyn`` command line start without sympy, mpmath or
``theory``; a command imports what it computes with when it runs.

>>> import sys, verify
>>> verify.ipo_optimum.__module__, "verify.numerics.ipo" in sys.modules
('verify.numerics.ipo', True)
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Where each public name lives: module -> names (imported on first access).
EXPORTS: dict[str, tuple[str, ...]] = {
    # --- foundation: objects, registry, running claims
    "verify.exact.objects": ("InputError", "PreferenceMatrix", "load_preference_matrix", "simplex_vector"),
    "verify.numerics.precision": ("agree", "workdps"),
    "verify.engine.property": ("claim", "property_check"),
    "verify.engine.registry": (
        "REGISTRY", "CheckContext", "Checker", "Claim", "ClaimResult", "Control", "Outcome", "Registry",
        "inconclusive", "proved", "refuted", "register", "verified",
    ),
    "verify.engine.runner": ("check", "load_module"),
    # --- one-shot IPO (IPO-1, IPO-2)
    "verify.numerics.ipo": ("NonUniqueOptimum", "ipo_minimise", "ipo_optimum"),
    # --- one-shot ranking (RANK)
    "verify.exact.social": (
        "bradley_terry", "condorcet_winner", "is_bt", "is_sst", "is_transitive", "is_wst", "majority_cycle", "smith_set",
    ),
    "verify.exact.ranking": ("counterexample", "sampler"),
    # --- iterative dynamics (MRS-IPO)
    "verify.numerics.mrs_ipo": ("fixed_points", "mrs_ipo_jacobian", "mrs_ipo_step"),
    "verify.numerics.simulate": ("run_batch", "simulate"),
    # --- DPO and MRS-DPO
    "verify.numerics.dpo": ("DPOSolveError", "NonUniqueDPOOptimum", "dpo_minimise", "dpo_optimum", "dpo_sensitivity"),
    "verify.numerics.batch": ("make_batch_step",),
    "verify.numerics.mrs_dpo": ("mrs_dpo_jacobian", "mrs_dpo_step"),
    "verify.numerics.phase": ("dpo_cycle_threshold_curve",),
    # --- every pairwise loss: the loss object and the system facade
    "verify.numerics.losses": ("loss",),
    "verify.system": ("System",),
    # --- the paper's experiments: HelpSteer-schema data to tables and figures (docs/experiments.md)
    "verify.experiments.pipeline": ("run_experiment",),
}

_SOURCE = {name: module for module, names in EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first access (and keep it here)."""
    module = _SOURCE.get(name)
    if module is None:
        raise AttributeError(f"module 'verify' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SOURCE))


__all__ = [
    "__version__",
    "InputError",
    "PreferenceMatrix",
    "load_preference_matrix",
    "simplex_vector",
    "agree",
    "workdps",
    "claim",
    "property_check",
    "REGISTRY",
    "CheckContext",
    "Checker",
    "Claim",
    "ClaimResult",
    "Control",
    "Outcome",
    "Registry",
    "inconclusive",
    "proved",
    "refuted",
    "register",
    "verified",
    "check",
    "load_module",
    "NonUniqueOptimum",
    "ipo_optimum",
    "ipo_minimise",
    # one-shot ranking (RANK)
    "condorcet_winner",
    "smith_set",
    "is_sst",
    "is_bt",
    "is_wst",
    "is_transitive",
    "majority_cycle",
    "bradley_terry",
    "counterexample",
    "sampler",
    "DPOSolveError",
    "NonUniqueDPOOptimum",
    "dpo_optimum",
    "dpo_minimise",
    "dpo_sensitivity",
    "mrs_dpo_step",
    "mrs_dpo_jacobian",
    "make_batch_step",
    "dpo_cycle_threshold_curve",
    "mrs_ipo_step",
    "mrs_ipo_jacobian",
    "fixed_points",
    "simulate",
    "run_batch",
    "loss",
    "System",
    "run_experiment",
]
