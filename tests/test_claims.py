"""Across the whole registry: every claim passes its checks and every control is caught.

A newly registered built-in claim is tested here without anyone writing a test
for it (the pattern of a registry-wide test). Claims whose checkers *refute*
a statement of THEORY.md are findings; they are listed in KNOWN_FINDINGS with
the verdict we measured, so a change in either direction fails this test.
"""

import pytest

from verify.registry import REGISTRY
from verify.report import results_markdown
from verify.runner import load_builtin_claims, run_controls

load_builtin_claims()
BUILTIN = [c.id for c in REGISTRY]

#: claim id -> verdict measured at the quick budget, seed 0, when it is not proved/verified
KNOWN_FINDINGS: dict[str, str] = {}


def test_registry_is_not_empty_and_ids_are_unique():
    assert len(BUILTIN) == len(set(BUILTIN)) >= 2
    assert {"IPO-1", "IPO-2"} <= set(BUILTIN)


@pytest.mark.parametrize("cid", BUILTIN)
def test_claim_is_well_formed(cid):
    c = REGISTRY.get(cid)
    assert c.statement and c.tag in ("paper", "derived", "open")
    assert c.checkers, f"{cid} has no checker"
    assert c.controls, f"{cid} has no negative control: a check that cannot fail proves nothing"


@pytest.mark.parametrize("cid", BUILTIN)
def test_claim_checks_at_quick_budget(cid, quick_results):
    r = quick_results[cid]
    errors = [c for c in r.checks if c.verdict == "error"]
    assert not errors, [(c.checker, c.outcome.summary, c.outcome.details.get("traceback", "")) for c in errors]
    expected = KNOWN_FINDINGS.get(cid)
    if expected is None:
        assert r.verdict in ("proved", "verified"), r.evidence
    else:
        assert r.verdict == expected, r.evidence
    for c in r.checks:
        o = c.outcome
        if o.verdict == "verified" and c.kind == "numeric":
            assert o.dps is not None and o.tolerance is not None, f"{cid}/{c.checker}: numeric verdict without dps/tolerance"
        if o.verdict == "refuted":
            assert o.counterexample is not None and o.counterexample.instance is not None


@pytest.mark.parametrize("cid", BUILTIN)
def test_every_negative_control_is_refuted(cid):
    for c in run_controls(REGISTRY.get(cid), budget="quick", seed=0):
        assert c.verdict == "refuted", f"{cid}/{c.checker} was not caught: {c.verdict}: {c.outcome.summary}"
        assert c.outcome.counterexample.instance is not None


def test_readme_verified_table_is_current(quick_results):
    """The README's "what is verified" table is what `prefdyn check --markdown` prints now."""
    import pathlib

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index("<!-- verified-table:start -->") + len("<!-- verified-table:start -->")
    end = readme.index("<!-- verified-table:end -->")
    table = readme[start:end].strip()
    current = results_markdown([quick_results[c] for c in BUILTIN])
    assert table == current, "README table is stale: regenerate with `prefdyn check --markdown`"
