"""prefdyn.verify — numbers and verdicts.

High-precision numerics (mpmath), batched float numerics (numpy), exact
certificates, hypothesis strategies, the claim registry, reports and the
``prefdyn`` command line.

Public API (see README.md for examples that run as tests)::

    from verify import load_preference_matrix, ipo_optimum, check, claim
"""

from __future__ import annotations

__version__ = "0.1.0"

# --- foundation: objects, registry, running claims -------------------------
from .objects import InputError, PreferenceMatrix, load_preference_matrix, simplex_vector
from .precision import agree, workdps
from .property import claim, property_check
from .registry import (
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
from .runner import check, load_module

# --- one-shot IPO (IPO-1, IPO-2) --------------------------------------------
from .ipo import NonUniqueOptimum, ipo_minimise, ipo_optimum

# --- one-shot ranking (RANK) -----------------------------------------------
from .social import (
    bradley_terry,
    condorcet_winner,
    is_bt,
    is_sst,
    is_transitive,
    is_wst,
    majority_cycle,
    smith_set,
)
from .ranking import counterexample, sampler

# --- iterative dynamics (MRS-IPO) -------------------------------------------
from . import simulate  # a callable module: ``verify.simulate(P, alpha, beta, lam, ...)``
from .dynamics import fixed_points, mrs_ipo_jacobian, mrs_ipo_step
from .simulate import run_batch

# --- DPO and MRS-DPO ----------------------------------------------------------
from .dpo import DPOSolveError, NonUniqueDPOOptimum, dpo_minimise, dpo_optimum, dpo_sensitivity
from .mrs_dpo import dpo_cycle_threshold_curve, make_batch_step, mrs_dpo_jacobian, mrs_dpo_step


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
]
