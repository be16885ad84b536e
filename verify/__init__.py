"""prefdyn.verify — numbers and verdicts.

High-precision numerics (mpmath), batched float numerics (numpy), exact
certificates, hypothesis strategies, the claim registry, reports and the
``prefdyn`` command line.

Public API (see README.md for examples that run as tests)::

    from verify import load_preference_matrix, ipo_optimum, check, claim
    from verify import System, loss       # any pairwise loss: System(P, "dpo", alpha=..., lam=...)
"""

from __future__ import annotations

__version__ = "0.1.0"

# --- foundation: objects, registry, running claims -------------------------
from verify.exact.objects import InputError, PreferenceMatrix, load_preference_matrix, simplex_vector
from verify.numerics.precision import agree, workdps
from verify.engine.property import claim, property_check
from verify.engine.registry import (
    REGISTRY,
    CheckContext,
    Checker,
    Claim,
    ClaimResult,
    Control,
    Outcome,
    Registry,
    inconclusive,
    proved,
    refuted,
    register,
    verified,
)
from verify.engine.runner import check, load_module

# --- one-shot IPO (IPO-1, IPO-2) --------------------------------------------
from verify.numerics.ipo import NonUniqueOptimum, ipo_minimise, ipo_optimum

# --- one-shot ranking (RANK) -----------------------------------------------
from verify.exact.social import (
    bradley_terry,
    condorcet_winner,
    is_bt,
    is_sst,
    is_transitive,
    is_wst,
    majority_cycle,
    smith_set,
)
from verify.exact.ranking import counterexample, sampler

# --- iterative dynamics (MRS-IPO) -------------------------------------------
from verify.numerics.mrs_ipo import fixed_points, mrs_ipo_jacobian, mrs_ipo_step
from verify.numerics.simulate import run_batch, simulate

# --- DPO and MRS-DPO ----------------------------------------------------------
from verify.numerics.dpo import DPOSolveError, NonUniqueDPOOptimum, dpo_minimise, dpo_optimum, dpo_sensitivity
from verify.numerics.batch import make_batch_step
from verify.numerics.mrs_dpo import mrs_dpo_jacobian, mrs_dpo_step
from verify.numerics.phase import dpo_cycle_threshold_curve

# --- every pairwise loss: the loss object and the system facade ----------------
from verify.numerics.losses import loss
from verify.system import System


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
]
