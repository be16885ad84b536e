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

# --- iterative dynamics (MRS-IPO) -------------------------------------------
from . import simulate  # a callable module: ``verify.simulate(P, alpha, beta, lam, ...)``
from .dynamics import fixed_points, mrs_ipo_jacobian, mrs_ipo_step
from .simulate import run_batch


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
    "mrs_ipo_step",
    "mrs_ipo_jacobian",
    "fixed_points",
    "simulate",
    "run_batch",
]
