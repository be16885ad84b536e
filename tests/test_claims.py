"""Across the whole registry: every claim passes its checks and every control is caught.

A newly registered built-in claim is tested here without anyone writing a test
for it (the pattern of a registry-wide test). Claims whose checkers *refute*
a statement of docs/claims.md are findings; they are listed in KNOWN_FINDINGS with
the verdict we measured, so a change in either direction fails this test.
"""

import pytest

from verify.engine.registry import DRAWN, EVIDENCE, MUTATION_FACTORS, REGISTRY, TOLERANCE_KINDS, CheckContext
from verify.engine.report import results_markdown
from verify.engine.runner import load_builtin_claims

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
    assert c.controls or c.constants, f"{cid} has no negative control or mutation: a check that cannot fail proves nothing"
    assert c.scope is not DRAWN and c.scope.text, f"{cid} does not state its scope"
    for ch in c.checkers:
        assert ch.evidence in EVIDENCE and ch.covers, f"{cid}/{ch.name} does not say what it covers"
    for k in c.constants:
        kinds = {c.checker(n).evidence for n in k.checkers}
        has_other = any(ch.evidence != "proof" for ch in c.checkers)
        if has_other:
            assert kinds - {"proof"}, f"{cid}: constant {k.name!r} is mutated in proofs only; the numeric/dynamic evidence must see it too"
        assert k.why, f"{cid}: constant {k.name!r} does not say why each perturbation is true or false"


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
        if o.verdict == "verified":
            assert o.tolerance_kind in TOLERANCE_KINDS, f"{cid}/{c.checker}: verified without a tolerance kind"
            assert isinstance(o.tolerance, (int, float)) and o.tolerance >= 0, f"{cid}/{c.checker}: tolerance {o.tolerance!r} is not a number"
            if o.tolerance_kind != "exact":
                assert isinstance(o.dps, int), f"{cid}/{c.checker}: numeric verdict without dps"
        if o.verdict == "refuted":
            assert o.counterexample is not None and o.counterexample.instance is not None
    if r.verdict == "proved":
        assert not r.unproved_parts and not r.argument, f"{cid} is proved but leaves {r.unproved_parts} / an argument in prose"


def _ctx(claim):
    return CheckContext(budget="quick", seed=0, claim_id=claim.id, hypotheses=dict(claim.hypotheses))


@pytest.mark.parametrize("cid", BUILTIN)
def test_every_negative_control_is_refuted(cid):
    claim = REGISTRY.get(cid)
    for c in claim.controls:
        o = c.fn(_ctx(claim))
        assert c.caught(o), f"{cid}/{c.name} was not caught: {o.verdict}: {o.summary}"
        if c.expect == "refuted":
            assert o.counterexample.instance is not None


MUTATED = [(c.id, k.name, f) for c in REGISTRY for k in c.constants for f in MUTATION_FACTORS]


@pytest.mark.parametrize("cid, constant, factor", MUTATED, ids=[f"{a}-{b}-x{f}" for a, b, f in MUTATED])
def test_mutation_of_each_constant(cid, constant, factor):
    """Each constant perturbed by 3/4, 5/4 and 2: where the perturbed statement is false every
    listed checker — symbolic, numeric and dynamic alike — refutes it; where it stays true
    (a sufficient condition made more conservative) none refutes it. `Constant.why` says which."""
    claim = REGISTRY.get(cid)
    (k,) = [k for k in claim.constants if k.name == constant]
    expect_false = not k.holds(factor)
    for name in k.checkers:
        o = claim.checker(name).fn(_ctx(claim), **{k.param: k.perturbed(factor)})
        if expect_false:
            assert o.verdict == "refuted", f"{cid}: {constant} x{factor} makes the statement false, but {name} says {o.verdict}: {o.summary}"
        else:
            assert o.verdict in ("proved", "verified"), f"{cid}: {constant} x{factor} keeps the statement true ({k.why}), but {name} says {o.verdict}: {o.summary}"


def test_mutation_test_covers_the_claims_with_constants():
    """The claims whose statements carry a constant or a formula declare it for the mutation test."""
    with_constants = {c.id for c in REGISTRY if c.constants}
    assert {"IPO-1", "DYN-1", "DYN-2", "DYN-6", "DPO-4", "DPO-6", "RANK-2"} <= with_constants


def test_readme_verified_table_is_current(quick_results):
    """The README's "what is verified" table is what `prefdyn check --markdown` prints now."""
    import pathlib

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index("<!-- verified-table:start -->") + len("<!-- verified-table:start -->")
    end = readme.index("<!-- verified-table:end -->")
    table = readme[start:end].strip()
    current = results_markdown([quick_results[c] for c in BUILTIN])
    assert table == current, "README table is stale: regenerate with `prefdyn check --markdown`"
