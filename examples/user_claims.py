"""Example user claims for `prefdyn check --module examples/user_claims.py`.

The first claim is true; the second is false on purpose, so prefdyn reports it
refuted with a shrunk counterexample and the seed that reproduces it.
"""


from hypothesis import strategies as st

from verify import claim, ipo_optimum
from verify.engine.strategies import preference_matrices, simplex_points

instances = st.integers(2, 5).flatmap(
    lambda K: st.tuples(preference_matrices(K=K, exact=True), simplex_points(K=K, exact=True))
)


@claim(
    "USER-ipo-order",
    statement="With uniform reference, the IPO optimum ranks responses by the score P mu.",
    given=instances,
)
def ipo_follows_scores(inst):
    P, mu = inst
    pi = ipo_optimum(P, mu, dps=30)
    s = [sum(P[i][j] * mu[j] for j in range(len(mu))) for i in range(len(mu))]
    return all((s[i] > s[j]) == (pi[i] > pi[j]) for i in range(len(mu)) for j in range(len(mu)))


@claim(
    "USER-false-top",
    statement="(false on purpose) the IPO optimum puts more than half its mass on its top response",
    given=instances,
)
def top_has_majority(inst):
    P, mu = inst
    return max(ipo_optimum(P, mu, dps=20)) > 0.5
