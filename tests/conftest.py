"""Test configuration: hypothesis profiles and a precision guard.

Profiles (select with ``pytest --hypothesis-profile=NAME``):

* ``dev``      (default) few examples, quick feedback;
* ``ci``       deterministic (derandomized, no database): loaded when ``CI`` is set;
* ``thorough`` many examples, for users who want more search before trusting a bound.
"""

import os

import mpmath
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    settings.get_profile("ci"),
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile(
    "thorough",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("PREFDYN_HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def _guard_precision():
    """Fail a test that leaks a changed mpmath precision into the next one."""
    dps = mpmath.mp.dps
    yield
    leaked = mpmath.mp.dps
    mpmath.mp.dps = dps
    assert leaked == dps, f"test changed mpmath.mp.dps from {dps} to {leaked} without restoring it"


@pytest.fixture(scope="session")
def quick_results():
    """Every built-in claim checked once per session at the quick budget, seed 0."""
    from verify.engine.runner import check, load_builtin_claims
    from verify.engine.registry import REGISTRY

    load_builtin_claims()
    builtin = [c.id for c in REGISTRY if c.tag != "user"]
    return {r.id: r for r in check(builtin, budget="quick", seed=0)}
