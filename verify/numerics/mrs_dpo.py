r"""MRS-DPO: the implicit map, its Jacobian, a batched float64 step, and the stability threshold.

The map (THEORY.md §3–4, same mixing as MRS-IPO)::

    pi_ref^(t) ∝ pi_t^alpha pi_ref^(1-alpha),   mu_t = lam pi_t + (1-lam) pi_0,
    log pi_{t+1} = log pi_ref^(t) + x*(mu_t) / beta_dpo   (normalised),

where ``x*`` solves ``(P - Sigma(x)) mu = 0`` (DPO-1 in the scaled coordinates
``x = beta_dpo r``, see :mod:`verify.numerics.dpo`). Its ambient ``K x K`` Jacobian (DPO-3,
implicit function theorem) is

    DF(pi) = (diag(pi') - pi' pi'^T) (alpha diag(pi)^{-1} + (lam/beta_dpo) X(mu)),

``X = dx*/dmu`` by the implicit function theorem. The high-precision functions are the DPO
instances of :mod:`verify.numerics.mrs` (one MRS implementation for every loss). Tangent
eigenvalues are reported in the basis ``e_k - e_{K-1}`` (:func:`tangent_matrix`).

Stability of the uniform point (DPO-4, DPO-6; ``pi_0 = pi_ref`` uniform, ``P`` balanced,
``S 1 = 0``): unstable iff ``alpha^2 + (4 lam rho(S) / (beta_dpo K))^2 > 1``; for the
3-cycle ``P_cyc(a)``: ``alpha^2 + 16 a^2 lam^2 / (3 beta_dpo^2) > 1``. This is the
MRS-IPO threshold with ``beta = 4 / beta_dpo``.

Phase-diagram curve: :func:`dpo_cycle_threshold_curve` returns, on the
``(alpha, beta*lambda)`` axes of the IPO diagram, the critical value of
``lambda / beta_dpo`` (default): the uniform point is unstable *above* the curve,
as for IPO's ``beta*lambda``. The DPO curve is the IPO curve divided by 4.

>>> from verify.numerics.mrs_dpo import dpo_cycle_threshold_curve
>>> [round(float(v), 6) for v in dpo_cycle_threshold_curve(0.25, [0.0, 0.6, 1.0])]
[1.732051, 1.385641, 0.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import mpmath
import numpy as np

from verify.numerics.bridge import mp_matrix, mp_vector, mpf
from verify.numerics import mrs
from verify.numerics.dpo import DPOSolveError, dpo_loss, escaping_set
from verify.exact.objects import InputError, PreferenceMatrix, load_preference_matrix, positive, simplex_vector, uniform, unit_interval
from verify.numerics.precision import GUARD, workdps

__all__ = [
    "MRSDPOInstance",
    "mrs_dpo_instance",
    "setting",
    "mrs_dpo_step",
    "mrs_dpo_jacobian",
    "ambient_map",
    "finite_difference_jacobian",
    "tangent_matrix",
    "tangent_eigenvalues",
    "solve_scaled_batch",
    "make_batch_step",
    "simulate_dpo",
    "cycle_matrix",
    "spectral_radius_skew",
    "dpo_balanced_modulus",
    "ipo_balanced_modulus",
    "dpo_cycle_modulus",
    "dpo_cycle_threshold_curve",
    "DPO_CURVE_QUANTITIES",
    "dpo_phase_extra_curve",
    "draw_threshold_comparison",
]


@dataclass(frozen=True)
class MRSDPOInstance:
    """Validated exact parameters of MRS-DPO."""

    P: PreferenceMatrix
    alpha: Fraction
    beta_dpo: Fraction
    lam: Fraction
    pi_ref: tuple[Fraction, ...]
    pi0: tuple[Fraction, ...]

    @property
    def K(self) -> int:
        return self.P.K

    def to_json(self) -> dict:
        return {
            "P": self.P.to_json(),
            "alpha": self.alpha,
            "beta_dpo": self.beta_dpo,
            "lam": self.lam,
            "pi_ref": list(self.pi_ref),
            "pi0": list(self.pi0),
        }


def mrs_dpo_instance(P: Any, alpha: Any, beta_dpo: Any, lam: Any, pi_ref: Any = None, pi0: Any = None) -> MRSDPOInstance:
    """Validate MRS-DPO parameters (``alpha, lam in [0,1]``, ``beta_dpo > 0``, interior ``pi_ref``, ``pi_0``)."""
    Pm = load_preference_matrix(P)
    K = Pm.K
    ref = uniform(K) if pi_ref is None else simplex_vector(pi_ref, K, name="pi_ref", interior=True)
    p0 = uniform(K) if pi0 is None else simplex_vector(pi0, K, name="pi0", interior=True)
    return MRSDPOInstance(Pm, unit_interval(alpha, "alpha"), positive(beta_dpo, "beta_dpo"), unit_interval(lam, "lam"), ref, p0)


def _mp_pi(pi: Any, K: int) -> list:
    """An interior point of the simplex at the current precision (mpf input kept as is)."""
    if all(isinstance(v, mpmath.mpf) for v in pi) and len(pi) == K:
        vals = list(pi)
        for k, v in enumerate(vals):
            if not v > 0:
                raise InputError(f"pi[{k}] = {mpmath.nstr(v, 8)}, expected > 0 (an interior point of the simplex)")
        s = mpmath.fsum(vals)
        if abs(s - 1) > mpmath.mpf(10) ** (-(mpmath.mp.dps // 2)):
            raise InputError(f"pi sums to {mpmath.nstr(s, 12)}, expected 1 (a point of the simplex)")
        return [v / s for v in vals]
    return mp_vector(simplex_vector(pi, K, name="pi", interior=True))


def setting(inst: MRSDPOInstance) -> mrs.Setting:
    """The generic :class:`verify.numerics.mrs.Setting` of an MRS-DPO instance (loss ``dpo`` at ``beta_dpo``)."""
    return mrs.Setting(inst.P, dpo_loss(inst.beta_dpo), inst.alpha, inst.lam, inst.pi_ref, inst.pi0)


def ambient_map(inst: MRSDPOInstance, pi: Sequence, *, x0: Sequence | None = None) -> tuple[list, list]:
    """``F(pi)`` for any positive ``pi`` (not necessarily normalised), at the current precision.

    Returns ``(pi', x*)``. This is the extension whose derivative is the ambient Jacobian
    (:func:`verify.numerics.mrs.ambient_map` with the DPO loss).
    """
    return mrs.ambient_map(setting(inst), pi, x0=x0)


def mrs_dpo_step(pi: Any, P: Any, alpha: Any, beta_dpo: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50) -> list:
    """One MRS-DPO step ``pi_{t+1} = F(pi_t)`` at ``dps`` digits.

    Parameters
    ----------
    pi : interior point of the simplex (exact numbers, floats, or mpf at the current precision)
    P : preference matrix
    alpha, lam : numbers in [0, 1]
    beta_dpo : number > 0 (DPO's KL coefficient)
    pi_ref, pi0 : interior points of the simplex (default uniform)
    dps : digits of the result

    Returns
    -------
    list of mpmath.mpf

    Examples
    --------
    >>> P = [["1/2", "3/4", "1/4"], ["1/4", "1/2", "3/4"], ["3/4", "1/4", "1/2"]]
    >>> [mpmath.nstr(v, 15) for v in mrs_dpo_step(["1/3"] * 3, P, "1/2", 1, 1)]   # uniform is fixed
    ['0.333333333333333', '0.333333333333333', '0.333333333333333']
    """
    inst = mrs_dpo_instance(P, alpha, beta_dpo, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        out, _ = ambient_map(inst, _mp_pi(pi, inst.K))
    return out


def mrs_dpo_jacobian(
    pi: Any, P: Any, alpha: Any, beta_dpo: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50
) -> mpmath.matrix:
    """The ambient ``K x K`` Jacobian of the MRS-DPO map at ``pi`` (DPO-3).

    ``DF = (diag(pi') - pi' pi'^T)(alpha diag(pi)^{-1} + (lam/beta_dpo) X)``, ``X = dx*/dmu``
    by the implicit function theorem (:func:`verify.numerics.mrs.ambient_jacobian`). Its columns
    sum to 0 (the image is tangent); :func:`tangent_matrix` gives it in the basis ``e_k - e_{K-1}``.

    Examples
    --------
    >>> P = [["1/2", "7/10", "3/10"], ["3/10", "1/2", "7/10"], ["7/10", "3/10", "1/2"]]
    >>> J = mrs_dpo_jacobian(["1/3"] * 3, P, "1/2", "1/2", 1, dps=20)   # = alpha C + (4 lam/(beta_dpo K)) S
    >>> with workdps(20):
    ...     print(mpmath.nstr(J[0, 1], 12), mpmath.nstr(J[0, 2], 12))
    0.366666666667 -0.7
    """
    inst = mrs_dpo_instance(P, alpha, beta_dpo, lam, pi_ref, pi0)
    with workdps(int(dps) + GUARD):
        return mrs.ambient_jacobian(setting(inst), _mp_pi(pi, inst.K))


def tangent_matrix(DF: mpmath.matrix) -> mpmath.matrix:
    """``DF`` on the tangent space in the basis ``v_k = e_k - e_{K-1}``: ``(V^T V)^{-1} V^T DF V``."""
    K = DF.rows
    V = mpmath.matrix(K, K - 1)
    for k in range(K - 1):
        V[k, k] = 1
        V[K - 1, k] = -1
    return mpmath.inverse(V.T * V) * V.T * DF * V


def finite_difference_jacobian(
    pi: Any, P: Any, alpha: Any, beta_dpo: Any, lam: Any, pi_ref: Any = None, pi0: Any = None, dps: int = 50
) -> mpmath.matrix:
    """The ambient Jacobian of the MRS-DPO map at ``pi`` by central differences of the solved map.

    Independent of DPO-3's formula: no implicit-function matrices, only evaluations of the map
    ``F`` (each a DPO optimum solved by Newton); :func:`verify.numerics.mrs.finite_difference_jacobian`
    (``2 dps + 40`` digits, step ``h = 10^-(dps + 20)``).
    """
    inst = mrs_dpo_instance(P, alpha, beta_dpo, lam, pi_ref, pi0)
    return mrs.finite_difference_jacobian(pi, inst.P, dpo_loss(inst.beta_dpo), inst.alpha, inst.lam, inst.pi_ref, inst.pi0, dps=dps)


def tangent_eigenvalues(DF: mpmath.matrix) -> list:
    """Eigenvalues of ``DF`` restricted to the tangent space (sorted by modulus, largest first)."""
    ev = mpmath.eig(tangent_matrix(DF), left=False, right=False)
    return sorted(ev, key=lambda z: -abs(z))


# ----------------------------------------------------------------------------- batched float64


def _expit(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def solve_scaled_batch(
    P: np.ndarray, mu: np.ndarray, x0: np.ndarray | None = None, *, max_iter: int = 60, tol: float = 1e-11, max_step: float = 8.0
) -> tuple[np.ndarray, np.ndarray]:
    """Batched float64 solve of ``(P - Sigma(x)) mu = 0``; returns centred ``x`` (B, K) and a converged mask.

    Newton on the ``K - 1`` coordinates other than ``p = argmax mu`` (pinned), with a
    backtracking line search on ``||G||^2`` (the Newton direction is a descent
    direction for it). Rows with ``mu_k = 0`` are fine: the equation ``G_k = 0`` does
    not contain ``mu_k`` and still fixes ``x_k`` (the continuous extension).
    """
    P = np.asarray(P, dtype=float)
    mu = np.asarray(mu, dtype=float)
    Bn, K = mu.shape
    if P.ndim == 2:
        P = np.broadcast_to(P, (Bn, K, K))
    x = np.zeros((Bn, K)) if x0 is None else np.array(x0, dtype=float, copy=True)
    rows = np.arange(Bn)
    p = np.argmax(mu, axis=1)
    x = x - x[rows, p][:, None]
    eye = np.eye(K, dtype=bool)

    def resid(xx):
        s = _expit(xx[:, :, None] - xx[:, None, :])
        return np.einsum("bkj,bj->bk", P - s, mu), s

    G, s = resid(x)
    phi = np.sum(G * G, axis=1)
    for _ in range(max_iter):
        res = np.max(np.abs(G), axis=1)
        active = res > tol
        if not active.any():
            break
        sp = s * (1 - s)
        A = sp * mu[:, None, :]
        A[:, eye] = 0.0
        A[:, eye] = -A.sum(axis=2)
        rhs = -G.copy()
        A[rows, p, :] = 0.0
        A[rows, p, p] = 1.0
        rhs[rows, p] = 0.0
        dx = np.linalg.solve(A, rhs[..., None])[..., 0]
        dx[~active] = 0.0
        # cap the step (a trust region): Newton steps from a poor start can overshoot far into the flat tails
        big = np.max(np.abs(dx), axis=1)
        dx *= np.minimum(1.0, max_step / np.maximum(big, 1e-300))[:, None]
        t = np.ones(Bn)
        pending = active.copy()
        xn = x.copy()
        for _ls in range(40):
            cand = x + t[:, None] * dx
            Gc, sc = resid(cand)
            phic = np.sum(Gc * Gc, axis=1)
            accept = pending & (phic <= (1 - 1e-4 * t) * phi)
            xn[accept] = cand[accept]
            pending &= ~accept
            if not pending.any():
                break
            t[pending] *= 0.5
        x = xn
        G, s = resid(x)
        phi = np.sum(G * G, axis=1)
    ok = np.max(np.abs(G), axis=1) <= tol
    x = x - x.mean(axis=1, keepdims=True)
    return x, ok


def _logsumexp(z: np.ndarray) -> np.ndarray:
    m = np.max(z, axis=1, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))


def make_batch_step(
    P: Any,
    alpha: float,
    beta_dpo: float,
    lam: float,
    pi_ref: Any = None,
    pi0: Any = None,
    *,
    max_iter: int = 60,
    tol: float = 1e-11,
    warm_start: bool = True,
) -> Callable[[np.ndarray], np.ndarray]:
    """A batched float64 MRS-DPO step on normalised log-policies.

    Parameters
    ----------
    P : (K, K) or (B, K, K) array (validated when 2-d); entries 0 or 1 only where a finite
        DPO optimum still exists (:func:`verify.numerics.dpo.escaping_set`)
    alpha, lam : in [0, 1]; beta_dpo > 0
    pi_ref, pi0 : (K,) or (B, K) interior points (default uniform)
    warm_start : reuse the previous call's ``x*`` as the Newton start when the batch shape matches

    Returns
    -------
    step : callable ``logpi (B, K) -> logpi' (B, K)`` with ``logsumexp(logpi') = 0``.
        Raises :class:`verify.numerics.dpo.DPOSolveError` naming the batch rows whose inner
        DPO solve did not reach ``max |G| <= tol``.

    Examples
    --------
    >>> step = make_batch_step([[0.5, 0.8], [0.2, 0.5]], alpha=0.5, beta_dpo=1.0, lam=1.0)
    >>> np.round(np.exp(step(np.log(np.full((1, 2), 0.5)))), 6)
    array([[0.8, 0.2]])
    """
    Parr = np.asarray(P, dtype=float)
    if Parr.ndim == 2:
        load_preference_matrix(Parr)
    elif Parr.ndim != 3 or Parr.shape[1] != Parr.shape[2]:
        raise InputError(f"P must be (K, K) or (B, K, K), got shape {Parr.shape}")
    K = Parr.shape[-1]
    off = ~np.eye(K, dtype=bool)
    extreme = ((Parr <= 0) | (Parr >= 1)) & off
    mats = Parr[None] if Parr.ndim == 2 else Parr
    ext_rows = np.flatnonzero(extreme.reshape(-1, K, K).any(axis=(1, 2)))
    for bi in ext_rows:
        U = escaping_set(load_preference_matrix(mats[bi], name="P" if Parr.ndim == 2 else f"P[{bi}]"))
        if U is not None:
            raise InputError(
                f"{'P' if Parr.ndim == 2 else f'P[{bi}]'}: responses {U} beat all others with probability 1, so no finite "
                "DPO optimum exists (an off-diagonal entry 0 or 1 that is not part of a cycle)"
            )
    a, b, l = float(unit_interval(alpha, "alpha")), float(positive(beta_dpo, "beta_dpo")), float(unit_interval(lam, "lam"))

    def _vec(v, name):
        if v is None:
            return np.full((1, K), 1.0 / K)
        arr = np.asarray(v, dtype=float)
        if arr.ndim == 1:
            arr = np.array([[float(x) for x in simplex_vector(arr, K, name=name, interior=True)]])
        if arr.shape[-1] != K or np.any(arr <= 0):
            raise InputError(f"{name} must have K = {K} positive entries per row")
        return arr

    logref = np.log(_vec(pi_ref, "pi_ref"))
    p0 = _vec(pi0, "pi0")
    state: dict[str, np.ndarray] = {}

    def step(logpi: np.ndarray) -> np.ndarray:
        logpi = np.asarray(logpi, dtype=float)
        pi = np.exp(logpi)
        mu = l * pi + (1 - l) * p0
        x0 = state.get("x") if warm_start and state.get("x") is not None and state["x"].shape == logpi.shape else None
        x, ok = solve_scaled_batch(Parr, mu, x0, max_iter=max_iter, tol=tol)
        if not ok.all():
            bad = np.flatnonzero(~ok)
            raise DPOSolveError(
                f"inner DPO solve did not converge (max |G| > {tol:g}) for batch rows {bad[:10].tolist()}"
                + (" ..." if bad.size > 10 else "")
            )
        state["x"] = x
        z = a * logpi + (1 - a) * logref + x / b
        return z - _logsumexp(z)

    return step


def simulate_dpo(step: Callable[[np.ndarray], np.ndarray], logpi0: np.ndarray, steps: int) -> np.ndarray:
    """A small local loop: the trajectory ``(steps + 1, B, K)`` of log-policies."""
    out = np.empty((steps + 1,) + np.shape(logpi0))
    out[0] = logpi0
    for t in range(steps):
        out[t + 1] = step(out[t])
    return out


# ----------------------------------------------------------------------------- thresholds


def cycle_matrix(a: Any) -> list[list[Fraction]]:
    """``P_cyc(a)``: ``P[0,1] = P[1,2] = P[2,0] = 1/2 + a`` (exact)."""
    a = Fraction(a) if not isinstance(a, float) else Fraction(repr(a))
    h = Fraction(1, 2)
    return [[h, h + a, h - a], [h - a, h, h + a], [h + a, h - a, h]]


def spectral_radius_skew(S: Any) -> mpmath.mpf:
    """``rho(S) = ||S||_2`` for a real skew matrix, as ``sqrt(lambda_max(S^T S))`` (current precision)."""
    M = mp_matrix(S) if not isinstance(S, mpmath.matrix) else S
    ev = mpmath.eigsy(M.T * M, eigvals_only=True)
    return mpmath.sqrt(max(max(ev), mpmath.mpf(0)))


def dpo_balanced_modulus(rho: Any, K: int, alpha: Any, beta_dpo: Any, lam: Any) -> mpmath.mpf:
    """``alpha^2 + (4 lam rho / (beta_dpo K))^2`` (squared spectral radius; unstable iff > 1)."""
    return mpf(alpha) ** 2 + (4 * mpf(lam) * mpf(rho) / (mpf(beta_dpo) * K)) ** 2


def ipo_balanced_modulus(rho: Any, K: int, alpha: Any, beta: Any, lam: Any) -> mpmath.mpf:
    """The MRS-IPO analogue ``alpha^2 + (beta lam rho / K)^2``."""
    return mpf(alpha) ** 2 + (mpf(beta) * mpf(lam) * mpf(rho) / K) ** 2


def dpo_cycle_modulus(alpha: Any, a: Any, beta_dpo: Any, lam: Any) -> mpmath.mpf:
    """DPO-4: ``alpha^2 + 16 a^2 lam^2 / (3 beta_dpo^2)``; the uniform point is unstable iff > 1."""
    return mpf(alpha) ** 2 + 16 * mpf(a) ** 2 * mpf(lam) ** 2 / (3 * mpf(beta_dpo) ** 2)


#: What :func:`dpo_cycle_threshold_curve` can return.
DPO_CURVE_QUANTITIES = ("lam_over_beta_dpo", "ipo_equivalent", "beta_dpo")


def dpo_cycle_threshold_curve(a: float, alphas: Sequence[float], lam: float = 1.0, quantity: str = "lam_over_beta_dpo") -> np.ndarray:
    """The DPO-4 threshold curve for the phase diagram (``P_cyc(a)``, ``pi_0 = pi_ref`` uniform).

    Parameters
    ----------
    a : float in (0, 1/2]
    alphas : sequence of alpha in [0, 1]
    lam : float in (0, 1], used only by ``quantity="beta_dpo"``
    quantity : str
        ``"lam_over_beta_dpo"`` (default): the critical ``lambda / beta_dpo`` =
        ``sqrt(3 (1 - alpha^2)) / (4 a)``; unstable above the curve. Drawn on the
        ``beta*lambda`` axis it is the IPO curve ``sqrt(3 (1 - alpha^2)) / a`` divided by 4.
        ``"ipo_equivalent"``: the critical ``4 lambda / beta_dpo``; coincides with the IPO curve.
        ``"beta_dpo"``: the critical ``beta_dpo`` at the given ``lam``,
        ``4 a lam / sqrt(3 (1 - alpha^2))``; unstable *below* (``inf`` at ``alpha = 1``).

    Returns
    -------
    numpy array of the critical values, one per alpha.
    """
    if quantity not in DPO_CURVE_QUANTITIES:
        raise InputError(f"quantity = {quantity!r}, expected one of {DPO_CURVE_QUANTITIES}")
    a = float(a)
    if not 0 < a <= 0.5:
        raise InputError(f"a = {a}, expected 0 < a <= 1/2")
    al = np.asarray(alphas, dtype=float)
    if np.any((al < 0) | (al > 1)):
        raise InputError("alphas must lie in [0, 1]")
    root = np.sqrt(3.0 * (1.0 - al**2))
    if quantity == "lam_over_beta_dpo":
        return root / (4.0 * a)
    if quantity == "ipo_equivalent":
        return root / a
    with np.errstate(divide="ignore"):
        return np.where(root > 0, 4.0 * a * float(lam) / np.where(root > 0, root, 1.0), np.inf)


_CURVE_LABELS = {
    "lam_over_beta_dpo": "MRS-DPO threshold: critical lambda/beta_dpo (DPO-4)",
    "ipo_equivalent": "MRS-DPO threshold: critical 4 lambda/beta_dpo (DPO-4)",
    "beta_dpo": "MRS-DPO threshold: critical beta_dpo at lambda = {lam:g} (DPO-4)",
}


def dpo_phase_extra_curve(a: float, alphas: Sequence[float], lam: float = 1.0, quantity: str = "lam_over_beta_dpo") -> tuple[str, np.ndarray, np.ndarray]:
    """``(label, alphas, values)`` for the ``extra_curves`` argument of the MRS-IPO phase plot.

    The label names the quantity on the vertical axis (see :func:`dpo_cycle_threshold_curve`).

    >>> label, al, v = dpo_phase_extra_curve(0.25, [0.0, 1.0])
    >>> label, [round(float(x), 4) for x in v]
    ('MRS-DPO threshold: critical lambda/beta_dpo (DPO-4)', [1.7321, 0.0])
    """
    al = np.asarray(alphas, dtype=float)
    values = dpo_cycle_threshold_curve(a, al, lam=lam, quantity=quantity)
    return _CURVE_LABELS[quantity].format(lam=float(lam)), al, values


def draw_threshold_comparison(a: float, path: str | None = None, ax: Any = None, n: int = 201):
    """Draw the DYN-1 (MRS-IPO) and DPO-4 (MRS-DPO) thresholds for ``P_cyc(a)`` on ``(alpha, beta*lambda)`` axes.

    IPO: ``beta*lambda = sqrt(3 (1 - alpha^2)) / a``. DPO (same axis, read as ``lambda / beta_dpo``):
    ``sqrt(3 (1 - alpha^2)) / (4 a)``; the uniform point is unstable above each curve. Writes ``path``
    (any matplotlib format) when given; returns the Axes.
    """
    import matplotlib

    if ax is None:
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.5, 4))
    al = np.linspace(0.0, 1.0, n)
    ipo = dpo_cycle_threshold_curve(a, al, quantity="ipo_equivalent")  # = the IPO curve
    label, _, dpo = dpo_phase_extra_curve(a, al)
    ax.plot(al, ipo, color="C0", label="MRS-IPO threshold (DYN-1): critical beta*lambda")
    ax.plot(al, dpo, color="C3", linestyle="--", label=label)
    ax.set_xlabel("alpha")
    ax.set_ylabel("beta*lambda  (DPO curve: lambda/beta_dpo)")
    ax.set_title(f"Uniform point of P_cyc({a:g}): unstable above each curve")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05 * float(ipo[0]))
    ax.legend(fontsize=7)
    if path is not None:
        ax.figure.tight_layout()
        ax.figure.savefig(path)
    return ax
