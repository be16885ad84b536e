r"""``System``: a preference matrix, a pairwise loss and the MRS parameters, validated once.

The facade over the algorithm modules (the shape of Nashpy's ``Game``): every method is a
short call into :mod:`verify.numerics.optimum` (one-shot optimum), :mod:`verify.numerics.mrs`
(the high-precision map, its Jacobian, fixed points) and the batched float64 simulators, and
:meth:`System.threshold` evaluates LOSS-3's exact critical scale.

>>> import verify
>>> s = verify.System([["1/2", "3/4", "1/4"], ["1/4", "1/2", "3/4"], ["3/4", "1/4", "1/2"]], "dpo", alpha="1/2", lam=1)
>>> s
System(K=3, loss=dpo [f(x) = log(1 + exp(-x))], beta_dpo=1, alpha=1/2, lam=1, pi_ref=uniform, pi0=uniform)
>>> t = s.threshold()
>>> t.exact, t.unstable_when          # DPO-4: 4 a lam / (sqrt(3) sqrt(1 - alpha^2)) at a = 1/4
(2/3, 'beta_dpo < 2/3')
>>> [mpmath.nstr(v, 10) for v in s.step(["1/3"] * 3, dps=20)]   # balanced P: uniform is fixed
['0.3333333333', '0.3333333333', '0.3333333333']
>>> ev, rho = s.spectrum(["1/3"] * 3, dps=20)
>>> mpmath.nstr(rho, 12)                 # |alpha ± i 4 a lam/(sqrt(3) b)| = sqrt(1/4 + 1/3): stable, beta_dpo = 1 > 2/3
'0.763762615826'
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy

from theory import family
from theory.losses import SCALE, PairLoss
from verify.exact.objects import InputError, load_preference_matrix, reference_policies, uniform, unit_interval
from verify.numerics import batch, mrs
from verify.numerics import optimum as one_shot
from verify.numerics.simulate import near_uniform_starts, normalise_log, run_batch
from verify.numerics.bridge import evalf_mp
from verify.numerics.losses import loss as make_loss
from verify.numerics.precision import GUARD, workdps

__all__ = ["System", "Threshold", "skew_norm"]


def skew_norm(S: sympy.Matrix) -> sympy.Expr:
    """``||S||_2`` exactly: the square root of the largest eigenvalue of ``S^T S`` (a real root of its characteristic polynomial)."""
    M = (S.T * S).applyfunc(sympy.nsimplify)
    lam = sympy.Symbol("lam")
    roots = sympy.Poly(M.charpoly(lam).as_expr(), lam).real_roots()
    top = sympy.Max(*roots) if roots else sympy.Integer(0)
    return sympy.sqrt(top)


@dataclass(frozen=True)
class Threshold:
    """The critical value of a loss's scale at the uniform point of a balanced ``P`` (LOSS-3), or why there is none.

    Attributes
    ----------
    applicable : whether LOSS-3's formula applies
    scale_name : the loss's scale parameter (``beta``, ``beta_dpo``, ...)
    exact : the critical scale, exact (sympy), or None
    value : the critical scale as an mpf (30 digits), or None
    b_exact : the critical multiplier ``b*`` (exact), or None
    unstable_when : e.g. ``"beta > sqrt(3)"`` or ``"beta_dpo < 2/3"``; or a sentence when not applicable
    reason : why the formula does not apply (None when it does)
    gain, norm_S : ``c_f = -2 f'(0)/f''(0)`` and ``||S||_2`` (exact) when defined
    caveat : a hypothesis of LOSS-3 that is not proved for this loss (a user loss whose convexity was only checked
        on a grid), or None
    """

    applicable: bool
    scale_name: str
    exact: sympy.Expr | None = None
    value: Any = None
    b_exact: sympy.Expr | None = None
    unstable_when: str = ""
    reason: str | None = None
    gain: sympy.Expr | None = None
    norm_S: sympy.Expr | None = None
    caveat: str | None = None

    def to_json(self) -> dict:
        return {
            "applicable": self.applicable,
            "scale_name": self.scale_name,
            "critical": None if self.exact is None else str(self.exact),
            "critical_value": None if self.value is None else mpmath.nstr(self.value, 30),
            "critical_b": None if self.b_exact is None else str(self.b_exact),
            "unstable_when": self.unstable_when,
            "reason": self.reason,
            "gain": None if self.gain is None else str(self.gain),
            "norm_S": None if self.norm_S is None else str(self.norm_S),
            "caveat": self.caveat,
        }


def _rat(v: Fraction) -> sympy.Rational:
    return sympy.Rational(v.numerator, v.denominator)


def _show(v: Fraction) -> str:
    return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


class System:
    """A preference matrix, a pairwise loss and the MRS parameters, validated once.

    Parameters
    ----------
    P : preference matrix (nested lists, numpy array, exact strings such as ``"3/10"``, a file path)
    loss : a built-in name or alias (``ipo``, ``dpo``, ``slic``/``hinge``, ``exp``, ``tq``), an
        expression in ``x`` (``"log(1+exp(-x))"``), or a :class:`~theory.losses.PairLoss`
    alpha, lam : numbers in ``[0, 1]`` (needed by the dynamics: step, Jacobian, fixed points, threshold, simulate)
    pi_ref, pi0 : interior points of the simplex (default uniform): the reference and the offline sampler
    scale : the loss's scale parameter (``beta`` for IPO, ``beta_dpo`` for DPO, ...), kept exact;
        default the loss's default (or the scale a given PairLoss carries)

    Every number is read exactly (:func:`verify.exact.objects.read_number`); invalid input raises
    :class:`~verify.exact.objects.InputError` with one line.
    """

    def __init__(self, P: Any, loss: Any = "ipo", alpha: Any = None, lam: Any = None, pi_ref: Any = None, pi0: Any = None, scale: Any = None):
        self.P = load_preference_matrix(P)
        K = self.P.K
        self.loss: PairLoss = make_loss(loss, scale=scale)
        self.alpha = None if alpha is None else unit_interval(alpha, "alpha")
        self.lam = None if lam is None else unit_interval(lam, "lam")
        ref, p0 = reference_policies(K, pi_ref, pi0)
        self.pi_ref, self.pi0 = tuple(ref), tuple(p0)
        self._setting: mrs.Setting | None = None

    # --- what it is ---------------------------------------------------------------------------
    @property
    def K(self) -> int:
        """Number of responses."""
        return self.P.K

    @property
    def b(self) -> sympy.Expr:
        """The loss's multiplier ``b`` at its scale (exact)."""
        return self.loss.b

    def __repr__(self) -> str:
        u = uniform(self.K)

        def vec(v):
            return "uniform" if tuple(v) == u else "[" + ", ".join(_show(x) for x in v) + "]"

        dyn = ""
        if self.alpha is not None:
            dyn += f", alpha={_show(self.alpha)}"
        if self.lam is not None:
            dyn += f", lam={_show(self.lam)}"
        return (
            f"System(K={self.K}, loss={self.loss.name} [f(x) = {sympy.sstr(self.loss.f)}], "
            f"{self.loss.scale_name}={sympy.sstr(self.loss.scale)}{dyn}, pi_ref={vec(self.pi_ref)}, pi0={vec(self.pi0)})"
        )

    def setting(self) -> mrs.Setting:
        """The validated MRS setting (needs ``alpha`` and ``lam``)."""
        if self.alpha is None or self.lam is None:
            missing = " and ".join(n for n, v in (("alpha", self.alpha), ("lam", self.lam)) if v is None)
            raise InputError(f"the MRS dynamics need {missing}: System(P, loss, alpha=..., lam=...)")
        if self._setting is None:
            self._setting = mrs.setting(self.P, self.loss, self.alpha, self.lam, self.pi_ref, self.pi0)
        return self._setting

    # --- one shot -----------------------------------------------------------------------------
    def optimum(self, mu: Any = None, dps: int = 50) -> list:
        """The one-shot optimum ``pi* ∝ pi_ref exp(r*)`` for the sampler ``mu`` (default ``pi0``).

        Raises :class:`~verify.numerics.optimum.NonUniqueOptimum` (a zero ``mu_k``; the hinge) or
        :class:`~verify.numerics.optimum.NoOptimum` (an escaping set) with the reason.
        """
        return one_shot.optimum(self.P, self.pi0 if mu is None else mu, self.loss, self.pi_ref, dps=dps)

    def optimum_x(self, mu: Any = None, dps: int = 50) -> list:
        """The centred one-shot optimum ``x* = b r*`` for the sampler ``mu`` (default ``pi0``)."""
        return one_shot.optimum_x(self.P, self.pi0 if mu is None else mu, self.loss, dps=dps)

    def sensitivity(self, mu: Any = None, dps: int = 50) -> mpmath.matrix:
        """``dx*/dmu`` (``K x K``, centred columns) at the sampler ``mu`` (default ``pi0``)."""
        return one_shot.sensitivity(self.P, self.pi0 if mu is None else mu, self.loss, dps=dps)

    # --- the MRS map --------------------------------------------------------------------------
    def step(self, pi: Any, dps: int = 50) -> list:
        """One MRS step ``pi' = F(pi)`` at ``dps`` digits."""
        s = self.setting()
        with workdps(int(dps) + GUARD):
            return mrs.ambient_map(s, mrs.read_policy(pi, self.K))[0]

    def jacobian(self, pi: Any, dps: int = 50) -> mpmath.matrix:
        """The ``K x K`` Jacobian of the map at ``pi``, acting on tangent vectors (``1^T v = 0``)."""
        s = self.setting()
        with workdps(int(dps) + GUARD):
            return mrs.ambient_jacobian(s, mrs.read_policy(pi, self.K))

    def tangent_jacobian(self, pi: Any, dps: int = 50) -> mpmath.matrix:
        """The ``(K-1) x (K-1)`` Jacobian in the basis ``e_i - e_{K-1}`` (chart ``pi_0, ..., pi_{K-2}``)."""
        s = self.setting()
        with workdps(int(dps) + GUARD):
            return mrs.tangent_left_inverse(self.K) * mrs.ambient_jacobian(s, mrs.read_policy(pi, self.K)) * mrs.tangent_basis(self.K)

    def spectrum(self, pi: Any, dps: int = 50) -> tuple[list, mpmath.mpf]:
        """Tangent eigenvalues (largest modulus first) and the spectral radius at ``pi``."""
        J = self.tangent_jacobian(pi, dps)
        with workdps(int(dps) + GUARD):
            return mrs.spectrum(J)

    def fixed_points(self, dps: int = 50, *, n_random: int = 8, seed: int = 0) -> list[mrs.FixedPoint]:
        """Interior fixed points from the documented start set (:func:`verify.numerics.mrs.fixed_points`)."""
        return mrs.fixed_points_of(self.setting(), dps, n_random=n_random, seed=seed)

    # --- LOSS-3 -------------------------------------------------------------------------------
    def threshold(self) -> Threshold:
        """The exact critical value of the loss's scale at the uniform point (LOSS-3).

        For balanced ``P`` (``S 1 = 0``, ``S = P - 11^T/2``) and ``pi0 = pi_ref = uniform`` the uniform
        policy is fixed and its tangent Jacobian is ``alpha I + (c_f lam/(b K)) S`` with
        ``c_f = -2 f'(0)/f''(0)``; it is unstable iff ``b < b* = c_f lam ||S||_2 / (K sqrt(1 - alpha^2))``
        (:func:`theory.family.critical_b`, converted to the loss's own scale by
        :func:`theory.family.critical_scale`); which side is unstable follows from how ``b`` moves with the scale. Not applicable (``reason`` says why): ``P`` not
        balanced, ``pi0`` or ``pi_ref`` not uniform, ``alpha = 1``, ``lam = 0`` or ``S = 0`` (no
        crossing), a loss without a second derivative at 0 (the hinge).
        """
        name = self.loss.scale_name
        s = self.setting()

        def na(reason: str, **kw) -> Threshold:
            return Threshold(False, name, unstable_when="not applicable", reason=reason, **kw)

        K = self.K
        rows = [sum(p - Fraction(1, 2) for p in row) for row in self.P.entries]
        bad = [k for k, r in enumerate(rows) if r != 0]
        if bad:
            return na(f"P is not balanced: row {bad[0]} of S = P - 1/2 sums to {_show(rows[bad[0]])}, expected 0 (S 1 = 0)")
        u = uniform(K)
        if s.pi_ref != u or s.pi0 != u:
            return na("LOSS-3 is stated for pi0 = pi_ref = uniform (then the uniform policy is a fixed point)")
        if self.loss.gain is None:
            return na(f"the {self.loss.name} loss has no LOSS-3 gain: {self.loss.not_smooth_at_0}")
        gain = self.loss.gain
        S = sympy.Matrix([[_rat(p) - sympy.Rational(1, 2) for p in row] for row in self.P.entries])
        nS = skew_norm(S)
        alpha, lam = _rat(s.alpha), _rat(s.lam)
        if alpha == 1:
            return na("alpha = 1: the tangent eigenvalues are 1 ± i(...), so the uniform point is never stable when S != 0 (no threshold)", gain=gain, norm_S=nS)
        if lam == 0 or nS == 0:
            return na("lam = 0 or S = 0: the tangent Jacobian is alpha I, stable for every scale (no threshold)", gain=gain, norm_S=nS)
        bstar = sympy.radsimp(family.critical_b(self.loss, nS, K, alpha, lam))
        crit = sympy.radsimp(family.critical_scale(self.loss, nS, K, alpha, lam))
        slope = sympy.diff(self.loss.b_expr, SCALE).subs(SCALE, crit)
        side = "<" if sympy.simplify(slope) > 0 else ">"
        value = evalf_mp(crit, dps=30)
        caveat = None
        if self.loss.name == "user" and not self.loss.strictly_convex:
            caveat = ("LOSS-3 assumes f convex; for this user loss convexity was checked numerically on a grid, not proved "
                      f"({self.loss.convention})")
        return Threshold(True, name, crit, value, bstar, f"{name} {side} {sympy.sstr(crit)}", None, gain, nS, caveat)

    # --- simulation ---------------------------------------------------------------------------
    def simulate(self, steps: int = 3000, starts: Any = None, seed: int = 0, **options):
        """Simulate the map in float64 (batched, log space) from near-uniform starts or given policies.

        Parameters
        ----------
        steps : number of steps
        starts : None (one near-uniform start), an int ``n`` (``n`` near-uniform starts, logits perturbed by
            normal noise of standard deviation ``1e-3``, seeded), or policies ``(K,)`` / ``(n, K)``
        seed : the seed of the starts
        options : passed to :func:`verify.numerics.simulate.run_batch` (``burn_in``, ``record``, ...)

        Returns
        -------
        :class:`verify.numerics.simulate.BatchResult`

        The step is :func:`verify.numerics.batch.make_step` (IPO's closed form as its fast path, a
        batched Newton solve for smooth losses, the stated vertex selection for the hinge).
        """
        s = self.setting()
        K = self.K
        rng = np.random.default_rng(seed)
        if starts is None or isinstance(starts, (int, np.integer)):
            n = 1 if starts is None else int(starts)
            if n < 1:
                raise InputError(f"starts = {n}, expected >= 1")
            lp0 = near_uniform_starts(n, K, rng)
        else:
            arr = np.atleast_2d(np.asarray(starts, dtype=float))
            if arr.shape[-1] != K or np.any(arr <= 0):
                raise InputError(f"starts must be interior policies with K = {K} positive entries")
            lp0 = normalise_log(np.log(arr))
        B = lp0.shape[0]
        ref = np.array([float(v) for v in s.pi_ref])
        p0 = np.array([float(v) for v in s.pi0])
        scale = float(self.loss.scale)  # float64 numerics: an irrational exact scale is rounded here, once
        step = batch.make_step(self.P.to_numpy(), self.loss, float(s.alpha), float(s.lam), ref, p0, scale=scale, B=B)
        res = run_batch(step, lp0, steps, **options)
        res.params = {"loss": self.loss.name, self.loss.scale_name: str(self.loss.scale), "alpha": str(s.alpha), "lam": str(s.lam), "K": K, "B": B, "seed": seed}
        return res
