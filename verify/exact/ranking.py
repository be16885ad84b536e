"""One-shot ranking properties of IPO samplers: counterexamples and instance-dependent samplers.

With a uniform reference, IPO ranks responses by the score ``s = P mu``
(docs/claims.md §2). For a sampler ``mu`` and a preference matrix ``P``:

* **CT** — the Condorcet winner (if any) scores strictly above every other response;
* **ST** — every Smith-set member scores strictly above every non-member;
* **OP** — for transitive ``P``: the scores are strictly ordered like ``>_M``.

Each property is a set of required strict inequalities ``s_i > s_j``
(:func:`required_pairs`); a property without requirements (CT when there is
no Condorcet winner, ST when the Smith set is everything) holds vacuously.

* :func:`counterexample` builds, for any interior ``mu`` (``K >= 3``), a ``P``
  on which the property fails (RANK-1), with an exact certificate that
  :func:`verify_counterexample` re-checks from scratch.
* :func:`sampler` finds, for a given ``P``, an interior ``mu`` with a certified
  positive margin, or an exact Farkas certificate that none exists (RANK-3/4).
* :func:`ct_sampler` is the explicit RANK-2 sampler
  ``mu = (1 - eps) e_c + (eps/K) 1`` with the explicit bound :func:`rank2_eps_bound`.

>>> cx = counterexample("0.2,0.3,0.5", "CT")
>>> cx.pair, cx.gap
((0, 1), Fraction(-1, 8))
>>> verify_counterexample(cx.to_json())
(True, 'P is valid; mu is interior; response 0 is the Condorcet winner; s_0 - s_1 = -1/8 <= 0, so CT fails')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

from verify.exact.lp import MarginLP, check_farkas, margins, max_min_margin
from verify.exact.objects import InputError, PreferenceMatrix, fmt_exact, load_preference_matrix, simplex_vector
from verify.exact.social import condorcet_winner, majority_order, rows_of, smith_set

__all__ = [
    "PROPERTIES",
    "scores",
    "required_pairs",
    "property_margin",
    "satisfies",
    "RankingCounterexample",
    "counterexample",
    "verify_counterexample",
    "SamplerResult",
    "sampler",
    "verify_sampler_certificate",
    "rank2_eps_bound",
    "ct_sampler",
]

PROPERTIES = ("CT", "ST", "OP")
HALF = Fraction(1, 2)


def _prop(prop: str) -> str:
    p = str(prop).upper()
    if p not in PROPERTIES:
        raise InputError(f"property = {prop!r}, expected one of {', '.join(PROPERTIES)}")
    return p


def scores(P: Any, mu: Any) -> tuple[Fraction, ...]:
    """Exact IPO scores ``s = P mu``.

    >>> scores([["1/2", "3/4"], ["1/4", "1/2"]], "1/2,1/2")
    (Fraction(5, 8), Fraction(3, 8))
    """
    R = rows_of(P)
    m = simplex_vector(mu, len(R))
    return tuple(sum((a * b for a, b in zip(r, m)), Fraction(0)) for r in R)


def required_pairs(P: Any, prop: str) -> list[tuple[int, int]]:
    """The strict inequalities ``s_i > s_j`` that ``prop`` requires on ``P``.

    Raises ``InputError`` for OP on a ``P`` that is not transitive.

    >>> required_pairs([["1/2", "3/5", "4/5"], ["2/5", "1/2", "1"], ["1/5", "0", "1/2"]], "OP")
    [(0, 1), (1, 2)]
    """
    prop = _prop(prop)
    R = rows_of(P)
    K = len(R)
    if prop == "CT":
        c = condorcet_winner(R)
        return [] if c is None else [(c, j) for j in range(K) if j != c]
    if prop == "ST":
        S = smith_set(R)
        return [(i, j) for i in S for j in range(K) if j not in S]
    order = majority_order(R)
    if order is None:
        raise InputError("OP needs a transitive P (the majority relation a strict linear order); this P is not")
    return [(order[r], order[r + 1]) for r in range(K - 1)]


def property_margin(P: Any, mu: Any, prop: str) -> tuple[Fraction | None, tuple[int, int] | None]:
    """``(min_r s_i - s_j, worst pair)`` over the required pairs; ``(None, None)`` if vacuous."""
    pairs = required_pairs(P, prop)
    if not pairs:
        return None, None
    R = rows_of(P)
    m = simplex_vector(mu, len(R))
    ms = margins(R, pairs, m)
    r = min(range(len(pairs)), key=lambda k: ms[k])
    return ms[r], pairs[r]


def satisfies(P: Any, mu: Any, prop: str) -> bool:
    """Whether ``mu`` satisfies ``prop`` on ``P`` (exactly).

    >>> satisfies([["1/2", "3/5", "4/5"], ["2/5", "1/2", "1"], ["1/5", "0", "1/2"]], "1/3,1/3,1/3", "CT")
    False
    """
    t, _ = property_margin(P, mu, prop)
    return t is None or t > 0


# --------------------------------------------------------------------------- RANK-1


@dataclass(frozen=True)
class RankingCounterexample:
    """A ``P`` on which ``mu`` violates ``property``, with its exact certificate.

    Attributes
    ----------
    property : str
    mu : tuple of Fraction
    P : PreferenceMatrix
    scores : tuple of Fraction
        ``P mu``.
    pair : (i, j)
        A required inequality ``s_i > s_j`` that fails.
    gap : Fraction
        ``s_i - s_j <= 0``.
    eps : Fraction
        The construction's margin parameter.
    construction : str
        Which construction (see :mod:`theory.ranking`).
    """

    property: str
    mu: tuple[Fraction, ...]
    P: PreferenceMatrix
    scores: tuple[Fraction, ...]
    pair: tuple[int, int]
    gap: Fraction
    eps: Fraction
    construction: str

    def to_json(self) -> dict:
        """Exact JSON form (fractions as ``"p/q"`` strings)."""
        return {
            "property": self.property,
            "mu": [fmt_exact(x) for x in self.mu],
            "P": self.P.to_json(),
            "scores": [fmt_exact(x) for x in self.scores],
            "pair": list(self.pair),
            "gap": fmt_exact(self.gap),
            "eps": fmt_exact(self.eps),
            "construction": self.construction,
        }


def ct_matrix(K: int, eps: Fraction) -> list[list[Fraction]]:
    P = [[HALF] * K for _ in range(K)]
    for k in range(1, K):
        P[0][k] = HALF + eps
    for i in range(1, K):
        for j in range(i + 1, K):
            P[i][j] = Fraction(1)
    for i in range(K):
        for j in range(i + 1, K):
            P[j][i] = 1 - P[i][j]
    return P


def _st_matrix(K: int, e: Fraction) -> list[list[Fraction]]:
    P = [[HALF] * K for _ in range(K)]
    P[0][1] = HALF + e
    P[1][2] = HALF + e
    P[0][2] = Fraction(0)
    for i in range(K):
        for j in range(max(i + 1, 3), K):
            P[i][j] = HALF + e
    for i in range(K):
        for j in range(i + 1, K):
            P[j][i] = 1 - P[i][j]
    return P


def counterexample(mu: Any, property: str, *, factor: Fraction | None = None) -> RankingCounterexample:  # noqa: A002
    """RANK-1: a preference matrix on which the interior sampler ``mu`` violates ``prop``.

    Parameters
    ----------
    mu : interior point of the simplex, ``K >= 3`` (anything ``simplex_vector`` accepts)
    property : {"CT", "ST", "OP"}
    factor : Fraction, optional
        The construction's constant (default ``1/4``); see below. Other
        values exist for negative controls.

    Returns
    -------
    RankingCounterexample

    Notes
    -----
    *CT and OP* (and ST for ``K = 3``): response 0 beats everyone by
    ``1/2 + eps``, response 1 beats every ``k >= 2`` surely, the rest are
    ordered surely (``P`` is transitive, 0 is the Condorcet winner and the
    Smith set is ``{0}``). Then ``s_0 - s_1 = eps - (1 - mu_0 - mu_1)/2``
    exactly (:func:`theory.ranking.ct_gap`), so any
    ``0 < eps <= (1 - mu_0 - mu_1)/2`` breaks CT, OP and ST; the default is
    ``eps = (1 - mu_0 - mu_1)/4`` (for ``K = 3``: ``mu_2/4``).

    *ST for K >= 4*: a Smith set ``{0, 1, 2}`` (a majority cycle, no Condorcet
    winner) and outsider 3 with ``s_3 - s_0 = mu_2/2 - e (mu_0 + 2 mu_1 + mu_2 + mu_3)``
    (:func:`theory.ranking.st_gap`); ``e = mu_2/4`` makes it positive.

    Examples
    --------
    >>> counterexample([Fraction(1, 3)] * 3, "OP").gap
    Fraction(-1, 12)
    """
    prop = _prop(property)
    m = simplex_vector(mu, interior=True)
    K = len(m)
    if K < 3:
        raise InputError(f"mu has K = {K} entries: counterexamples need K >= 3 (for K = 2 every mu ranks correctly)")
    f = Fraction(1, 4) if factor is None else Fraction(factor)
    if prop == "ST" and K >= 4:
        e = min(f * m[2], Fraction(1, 2))
        P = _st_matrix(K, e)
        pair, construction = (0, 3), "st-cycle"
    else:
        e = min(f * (1 - m[0] - m[1]), Fraction(1, 2))
        P = ct_matrix(K, e)
        pair, construction = (0, 1), "ct-wide-runner-up"
    pm = load_preference_matrix(P)
    s = scores(pm, m)
    return RankingCounterexample(prop, m, pm, s, pair, s[pair[0]] - s[pair[1]], e, construction)


def verify_counterexample(cert: dict | RankingCounterexample) -> tuple[bool, str]:
    """Independent exact check of a counterexample certificate (its JSON form or the object).

    Recomputes everything from ``P``, ``mu`` and ``property``: validity of
    ``P``, interiority of ``mu``, the property's premise (Condorcet winner,
    Smith set, transitivity) and a required pair whose score gap is ``<= 0``.
    Returns ``(ok, reason)``.
    """
    if isinstance(cert, RankingCounterexample):
        cert = cert.to_json()
    try:
        prop = _prop(cert["property"])
        P = load_preference_matrix(cert["P"])
        mu = simplex_vector(cert["mu"], P.K, interior=True)
    except (InputError, KeyError) as e:
        return False, f"invalid certificate: {e}"
    if not P.exact:
        return False, "P must be exact"
    R = P.entries
    s = [sum((a * b for a, b in zip(r, mu)), Fraction(0)) for r in R]
    if prop == "CT":
        c = condorcet_winner(R)
        if c is None:
            return False, "P has no Condorcet winner, so CT holds vacuously"
        bad = [j for j in range(P.K) if j != c and s[c] - s[j] <= 0]
        if not bad:
            return False, f"the Condorcet winner {c} is strictly top: CT holds"
        j = bad[0]
        return True, f"P is valid; mu is interior; response {c} is the Condorcet winner; s_{c} - s_{j} = {fmt_exact(s[c] - s[j])} <= 0, so CT fails"
    if prop == "ST":
        S = smith_set(R)
        bad = [(i, j) for i in S for j in range(P.K) if j not in S and s[i] - s[j] <= 0]
        if not bad:
            return False, f"every Smith member {S} is strictly above every non-member: ST holds"
        i, j = bad[0]
        return True, f"P is valid; mu is interior; Smith set {S}; s_{i} - s_{j} = {fmt_exact(s[i] - s[j])} <= 0, so ST fails"
    order = majority_order(R)
    if order is None:
        return False, "P is not transitive, so OP does not apply"
    bad = [(order[r], order[r + 1]) for r in range(P.K - 1) if s[order[r]] - s[order[r + 1]] <= 0]
    if not bad:
        return False, "scores are strictly ordered like the majority relation: OP holds"
    i, j = bad[0]
    return True, f"P is valid and transitive (order {order}); mu is interior; s_{i} - s_{j} = {fmt_exact(s[i] - s[j])} <= 0, so OP fails"


# --------------------------------------------------------------------------- RANK-2/3/4


@dataclass(frozen=True)
class SamplerResult:
    """An instance-dependent sampler for ``property`` on ``P``, or a proof that none exists.

    Attributes
    ----------
    status : {"feasible", "infeasible", "vacuous"}
    pairs : list of (i, j)
        The required inequalities ``s_i > s_j``.
    mu : tuple of Fraction or None
        An interior sampler (``feasible``/``vacuous``).
    margin : Fraction or None
        Its exact minimum margin ``min (P mu)_i - (P mu)_j > 0``.
    lp : MarginLP or None
        The max-min-margin LP with its exact primal/dual certificate; when
        ``infeasible``, ``lp.y`` is the Farkas certificate (``y >= 0``,
        ``sum y = 1``, ``D^T y <= 0``).
    """

    property: str
    P: PreferenceMatrix
    status: str
    pairs: list[tuple[int, int]]
    mu: tuple[Fraction, ...] | None = None
    margin: Fraction | None = None
    lp: MarginLP | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """Exact JSON form."""
        d: dict[str, Any] = {
            "property": self.property,
            "status": self.status,
            "P": self.P.to_json(),
            "pairs": [list(p) for p in self.pairs],
        }
        if self.mu is not None:
            d["mu"] = [fmt_exact(x) for x in self.mu]
            d["margin"] = None if self.margin is None else fmt_exact(self.margin)
        if self.lp is not None:
            d["lp_optimum"] = fmt_exact(self.lp.t)
            d["lp_mu"] = [fmt_exact(x) for x in self.lp.mu]
            d["dual_y"] = [fmt_exact(x) for x in self.lp.y]
        if self.status == "infeasible":
            assert self.lp is not None
            d["farkas_y"] = [fmt_exact(x) for x in self.lp.y]
            d["farkas_value"] = fmt_exact(self.lp.t)
        d["notes"] = list(self.notes)
        return d


def _push_interior(P: Any, pairs: Sequence[tuple[int, int]], mu: Sequence[Fraction], t: Fraction) -> tuple[Fraction, ...]:
    """Mix ``mu`` (margin ``t > 0``) with the uniform point so that every entry is > 0.

    Every margin of the uniform point is ``>= -1``, so with
    ``delta = t / (2 (1 + t))`` the mixture keeps a margin ``>= t/2 > 0``.
    """
    K = len(mu)
    if all(x > 0 for x in mu):
        return tuple(mu)
    delta = t / (2 * (1 + t))
    return tuple((1 - delta) * x + delta / K for x in mu)


def sampler(P: Any, property: str, method: str = "exact") -> SamplerResult:  # noqa: A002
    """An interior sampler satisfying ``prop`` on ``P`` with a certified margin, or a Farkas certificate.

    Solves the max-min-margin LP (:func:`verify.exact.lp.max_min_margin`) over the
    closed simplex. If its optimum ``t* > 0`` the optimal point is mixed with
    the uniform point (:func:`_push_interior`) and the exact margin of the
    resulting interior sampler is reported; if ``t* <= 0`` the dual optimum
    is a Farkas certificate that no sampler, interior or not, works.

    Examples
    --------
    >>> W = [["1/2", "3/5", "4/5", "3/5"], ["2/5", "1/2", "1", "4/5"],
    ...      ["1/5", "0", "1/2", "3/5"], ["2/5", "1/5", "2/5", "1/2"]]
    >>> r = sampler(W, "OP")
    >>> r.status, r.lp.y, r.lp.t
    ('infeasible', (Fraction(1, 2), Fraction(0, 1), Fraction(1, 2)), Fraction(-1, 20))
    """
    prop = _prop(property)
    pm = load_preference_matrix(P)
    pairs = required_pairs(pm, prop)
    K = pm.K
    if not pairs:
        why = "P has no Condorcet winner" if prop == "CT" else "the Smith set is every response"
        return SamplerResult(prop, pm, "vacuous", [], tuple(Fraction(1, K) for _ in range(K)), None, None, [f"{why}: {prop} holds for every sampler"])
    lp = max_min_margin(pm, pairs, method=method)
    if lp.t > 0:
        mu = _push_interior(pm, pairs, lp.mu, lp.t)
        margin = min(margins(pm, pairs, mu))
        return SamplerResult(prop, pm, "feasible", pairs, mu, margin, lp)
    return SamplerResult(prop, pm, "infeasible", pairs, None, None, lp, ["no sampler in the closed simplex satisfies the strict inequalities"])


def verify_sampler_certificate(P: Any, prop: str, cert: dict) -> tuple[bool, str]:
    """Independent exact check of a sampler certificate (the JSON form of :class:`SamplerResult`).

    ``feasible``/``vacuous``: ``mu`` is interior and every required pair has
    ``s_i - s_j >= margin > 0``. ``infeasible``: ``farkas_y`` is a Farkas
    certificate for the required pairs.
    """
    prop = _prop(prop)
    pm = load_preference_matrix(P)
    pairs = required_pairs(pm, prop)
    status = cert.get("status")
    if status in ("feasible", "vacuous"):
        mu = simplex_vector(cert["mu"], pm.K, interior=True)
        if status == "vacuous":
            return (not pairs), "vacuous: no required pairs" if not pairs else "pairs are required"
        ms = margins(pm, pairs, mu)
        claimed = Fraction(cert["margin"])
        ok = claimed > 0 and min(ms) >= claimed
        return ok, f"interior mu with exact min margin {fmt_exact(min(ms))} (claimed {fmt_exact(claimed)})"
    if status == "infeasible":
        ok = check_farkas(pm, pairs, cert["farkas_y"])
        return ok, "Farkas certificate y >= 0, y != 0, D^T y <= 0" + (" holds" if ok else " fails")
    return False, f"unknown status {status!r}"


def rank2_eps_bound(P: Any) -> tuple[int, Fraction, Fraction]:
    """RANK-2: ``(c, m, bound)`` for a ``P`` with a Condorcet winner ``c``.

    ``m = min_{j != c} P[c,j] - 1/2 > 0`` and ``bound = 2 K m / (K - 2)``
    (``+inf`` is never needed: for ``K = 2`` the bound is reported as 1).
    Every ``eps`` with ``0 < eps < bound`` and ``eps <= 1`` makes
    ``mu = (1 - eps) e_c + (eps/K) 1`` satisfy CT; the bound is attained (the
    gap is 0 at ``eps = bound``) by the RANK-1 construction.
    """
    R = rows_of(P)
    K = len(R)
    c = condorcet_winner(R)
    if c is None:
        raise InputError("P has no Condorcet winner: RANK-2 (CT) does not apply")
    m = min(R[c][j] for j in range(K) if j != c) - HALF
    if K == 2:
        return c, m, Fraction(1)
    return c, m, Fraction(2 * K) * m / (K - 2)


def ct_sampler(P: Any, eps: Any = None) -> tuple[tuple[Fraction, ...], Fraction]:
    """RANK-2 sampler ``mu = (1 - eps) e_c + (eps/K) 1``; default ``eps = min(1, bound)/2``.

    Returns ``(mu, eps)``.

    >>> ct_sampler([["1/2", "3/5", "3/5"], ["2/5", "1/2", "1"], ["2/5", "0", "1/2"]])[1]
    Fraction(3, 10)
    """
    R = rows_of(P)
    K = len(R)
    c, m, bound = rank2_eps_bound(R)
    e = min(Fraction(1), bound) / 2 if eps is None else Fraction(eps)
    if not (0 < e <= 1):
        raise InputError(f"eps = {e}, expected 0 < eps <= 1")
    mu = tuple((1 - e) * (1 if k == c else 0) + e / K for k in range(K))
    return mu, e
