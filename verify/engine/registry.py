"""Claims, checkers, verdicts and the claim registry.

A claim is one unit: an id from docs/claims.md, its statement, its tag
(``paper`` / ``derived`` / ``open``, or ``user``), named hypotheses, the
checkers that each return a verdict with evidence, and *negative controls*:
planted wrong variants (a wrong constant, a dropped hypothesis) that the same
checking code must refute. A check that cannot fail proves nothing, so every
built-in claim carries at least one control and the test-suite runs them all.

Verdicts
--------
``proved``       an exact argument was checked (symbolic identity, exact certificate).
``verified``     N instances checked numerically, worst error and precision stated.
``refuted``      a reproducible counterexample is attached (instance and seed).
``inconclusive`` the check could not decide (e.g. an optional tool is missing).
``error``        the checker itself failed; the traceback is in the evidence.

Scope and coverage
------------------
A claim states its :class:`Scope`: what it quantifies over ("every K >= 2, every
interior mu"), split into named *parts* ("(<=) every BT P, every K"). Every
:class:`Checker` declares what it establishes (:data:`EVIDENCE`: a proof, exact
instances, high-precision instances, float dynamics, a search), what it covers in
words (``covers="K = 2, 3, 4"``) and which scope parts its proof covers *in full*
(``proves=("every K",)``). A claim is ``proved`` only when the proofs that came back
``proved`` cover every part of its scope; otherwise the strongest verdict is
``verified``, and :attr:`ClaimResult.coverage` says what is proved and what is only
checked. An argument that is not mechanised is attached as a labelled, human-checked
``argument``: it is reported, never counted as a proof.

A ``certified`` checker (evidence ``certified instances``) proves its statement for each instance it
draws, by ball arithmetic (:mod:`verify.certified`): it returns ``verified`` (never ``proved``: finitely
many instances are not the claim's scope), ``refuted`` when a certificate contradicts the claim on an
exact instance, and ``inconclusive`` when python-flint is missing or an enclosure is too wide to decide.

Checkers are plain functions ``fn(ctx: CheckContext) -> Outcome``; build the
outcome with :func:`proved`, :func:`verified`, :func:`refuted`,
:func:`inconclusive`. They never print.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterable, Iterator, Mapping

__all__ = [
    "SCHEMA_VERSION",
    "VERDICTS",
    "TAGS",
    "BUDGETS",
    "EVIDENCE",
    "TOLERANCE_KINDS",
    "Scope",
    "Constant",
    "Outcome",
    "Counterexample",
    "CheckContext",
    "Checker",
    "Control",
    "Claim",
    "CheckResult",
    "ClaimResult",
    "Registry",
    "REGISTRY",
    "register",
    "proved",
    "verified",
    "refuted",
    "inconclusive",
    "jsonable",
    "json_number",
    "combine_verdicts",
]

#: Version of the JSON that ``prefdyn check --json`` prints (docs/json-schema.md).
SCHEMA_VERSION = "2.1"
VERDICTS = ("proved", "verified", "refuted", "inconclusive", "error")
TAGS = ("paper", "derived", "open", "user")
BUDGETS = ("quick", "standard", "thorough")
#: What a checker establishes, strongest first.
EVIDENCE = (
    "proof",  # an exact argument (symbolic identity, certificate); ``proves`` names the scope parts it covers in full
    "certified instances",  # a computer-assisted proof for each of finitely many instances (ball arithmetic, with the enclosure)
    "exact instances",  # exact rational arithmetic on finitely many instances
    "high-precision instances",  # mpmath at a stated dps, finitely many instances
    "float instances",  # float64 on finitely many instances
    "float dynamics",  # float64 simulations of the iterative maps
    "search",  # a (hypothesis or random) search for a counterexample
)
#: How a numeric tolerance is applied.
TOLERANCE_KINDS = (
    "exact",  # no tolerance: exact arithmetic (tolerance 0)
    "relative",  # |a - b| <= tol * |b|
    "absolute",  # |a - b| <= tol
    "relative-or-absolute",  # |a - b| <= tol * max(1, |a|, |b|)  (verify.numerics.precision.agree)
    "margin",  # a decision threshold on a measured quantity (dynamic checks), explained in ``criterion``
    "predicate",  # the predicate's own comparison decides (user claims); dps is the working precision
    "enclosure",  # rigorous ball enclosures decide, only when they lie on one side (tolerance 0; max error = the widest enclosure)
)

_KIND_EVIDENCE = {
    "symbolic": "proof",
    "certified": "certified instances",
    "exact": "exact instances",
    "numeric": "high-precision instances",
    "property": "search",
    "dynamic": "float dynamics",
    "search": "search",
}


def json_number(x: Any, *, magnitude: bool = True) -> Any:
    """A number for JSON: int, float, or a string that keeps every digit.

    Fractions stay exact (an int, or ``"p/q"``). An mpmath number is a float when it is
    a *magnitude* (an error, a tolerance: 17 significant digits say all there is to say)
    and in the float range; a computed value (``magnitude=False``) is a float only when
    the float is exactly that value, else a string with every digit of its precision.
    """
    if x is None or isinstance(x, (bool, int)):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else str(x)
    if isinstance(x, Fraction):
        return x.numerator if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    mod = type(x).__module__
    if mod.startswith("mpmath"):
        import mpmath

        if isinstance(x, mpmath.mpf) and mpmath.isfinite(x):
            f = float(x)
            if x == 0 or (mpmath.mpf("1e-300") < abs(x) < mpmath.mpf("1e300") and (magnitude or mpmath.mpf(f) == x)):
                return f
            bits = x._mpf_[3]  # the mantissa's own length, whatever the current precision
            return mpmath.nstr(x, max(17, int(bits * 0.30103) + 2), strip_zeros=False)  # every digit it carries
        return str(x)
    if mod.startswith("numpy"):
        return json_number(x.item(), magnitude=magnitude)
    if mod.startswith("sympy"):
        if getattr(x, "is_Integer", False):
            return int(x)
        if getattr(x, "is_Rational", False):
            return str(x)
        return str(x)
    if isinstance(x, str):
        return x
    return str(x)


def _as_tolerance(x: Any) -> Any:
    """A tolerance as a JSON number; strings such as ``"1e-50"`` are parsed."""
    if x is None:
        return None
    if isinstance(x, str):
        t = x.strip()
        if t.lower() == "exact":
            return 0
        try:
            return float(t) if "/" not in t else json_number(Fraction(t))
        except ValueError:
            raise ValueError(f"tolerance {x!r} is not a number; put the decision rule in criterion=...") from None
    return json_number(x)


def jsonable(x: Any) -> Any:
    """Convert evidence to plain JSON types; numbers stay numbers (see :func:`json_number`)."""
    if x is None or isinstance(x, (bool, int, str, float, Fraction)):
        return json_number(x, magnitude=False)
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if hasattr(x, "to_json"):
        return jsonable(x.to_json())
    mod = type(x).__module__
    if mod.startswith("numpy"):
        if hasattr(x, "tolist"):
            return jsonable(x.tolist())
    if mod.startswith("mpmath"):
        if hasattr(x, "tolist"):
            return jsonable(x.tolist())
        return json_number(x, magnitude=False)
    if mod.startswith("sympy"):
        if getattr(x, "is_Matrix", False):
            return [[jsonable(e) for e in x.row(i)] for i in range(x.rows)]
        return json_number(x, magnitude=False)
    if isinstance(x, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in x]
    if hasattr(x, "__dict__") and hasattr(x, "__dataclass_fields__"):
        return {k: jsonable(v) for k, v in vars(x).items()}
    return repr(x)


@dataclass
class Counterexample:
    """A reproducible counterexample: the instance itself, the seed, what fails.

    ``instance`` is the failing instance as data (it replays without any seed);
    ``seed`` regenerates it when the claim is checked alone
    (``prefdyn check --claim ID --seed RUNSEED``, see :attr:`replay`).
    """

    instance: Any
    seed: int | None = None
    detail: str = ""
    replay: str = ""

    def to_dict(self) -> dict:
        d = {"instance": jsonable(self.instance), "seed": self.seed, "detail": self.detail}
        if self.replay:
            d["replay"] = self.replay
        return d


@dataclass
class Outcome:
    """What a checker returns: a verdict with its evidence.

    Numeric evidence states ``dps`` (decimal digits of the arithmetic; 15 for float64,
    ``None`` for exact arithmetic), ``tolerance`` (a number) and ``tolerance_kind``
    (one of :data:`TOLERANCE_KINDS`); ``criterion`` explains a decision rule in words.
    """

    verdict: str
    summary: str
    details: dict = field(default_factory=dict)
    counterexample: Counterexample | None = None
    n_instances: int | None = None
    max_error: Any = None
    dps: int | None = None
    tolerance: Any = None
    tolerance_kind: str | None = None
    criterion: str = ""

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r}, expected one of {VERDICTS}")
        if self.verdict == "refuted" and self.counterexample is None:
            raise ValueError("a refuted outcome needs a counterexample")
        if self.tolerance_kind is not None and self.tolerance_kind not in TOLERANCE_KINDS:
            raise ValueError(f"tolerance kind {self.tolerance_kind!r}, expected one of {TOLERANCE_KINDS}")

    def precision(self) -> str:
        """``"dps 70, tolerance 1e-50 (relative-or-absolute), max error 4.4e-69"`` (empty fields omitted)."""
        parts = []
        if self.dps is not None:
            parts.append(f"dps {self.dps}")
        if self.tolerance is not None:
            kind = f" ({self.tolerance_kind})" if self.tolerance_kind else ""
            parts.append(f"tolerance {_short(self.tolerance)}{kind}")
        elif self.tolerance_kind == "exact":
            parts.append("exact")
        if self.max_error is not None:
            parts.append(f"max error {_short(self.max_error)}")
        return ", ".join(parts)


def proved(summary: str, **details: Any) -> Outcome:
    """An exact argument was checked (its extent is the checker's ``covers``)."""
    return Outcome("proved", summary, details, tolerance=0, tolerance_kind="exact")


def verified(
    summary: str,
    *,
    n: int,
    dps: int | None = None,
    tolerance: Any = None,
    max_error: Any = None,
    tolerance_kind: str | None = None,
    criterion: str = "",
    **details: Any,
) -> Outcome:
    """``n`` instances checked; the verdict states ``dps``, ``tolerance`` and its kind.

    ``tolerance`` is a number (int, float, mpf, Fraction or a string such as ``"1e-50"``);
    ``"exact"`` or ``0`` means exact arithmetic. ``tolerance_kind`` defaults to
    ``"exact"`` for a zero tolerance and ``"relative-or-absolute"`` otherwise
    (:func:`verify.numerics.precision.agree`).
    """
    tol = _as_tolerance(tolerance)
    if tolerance_kind is None and tol is not None:
        tolerance_kind = "exact" if tol == 0 else "relative-or-absolute"
    return Outcome(
        "verified",
        summary,
        details,
        n_instances=n,
        dps=dps,
        tolerance=tol,
        tolerance_kind=tolerance_kind,
        max_error=None if max_error is None else json_number(max_error),
        criterion=criterion,
    )


def refuted(summary: str, instance: Any, seed: int | None = None, detail: str = "", **details: Any) -> Outcome:
    """A counterexample: the failing instance as data, and the seed that regenerates it."""
    return Outcome("refuted", summary, details, counterexample=Counterexample(instance, seed, detail or summary))


def inconclusive(summary: str, **details: Any) -> Outcome:
    """The check could not decide."""
    return Outcome("inconclusive", summary, details)


def _short(x: Any) -> str:
    """A short rendering of a number for tables (JSON keeps full precision)."""
    if isinstance(x, float):
        return f"{x:.3g}"
    return str(x)


@dataclass
class CheckContext:
    """What a checker may depend on: the budget, the seed, the claim id, its hypotheses.

    ``ctx.pick(quick=..., standard=..., thorough=...)`` chooses a size by
    budget; ``ctx.rng(name)`` is a numpy ``Generator`` seeded from
    ``(seed, claim id, name)`` so that every random choice is reproducible and
    does not depend on which other claims ran. ``ctx.hypotheses`` are the claim's
    named hypotheses (predicates on the instances its checkers draw); a checker
    that draws instances filters them with it, so a control that drops one runs
    the very same checker.
    """

    budget: str = "quick"
    seed: int = 0
    claim_id: str = ""
    hypotheses: Mapping[str, Callable[..., bool]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.budget not in BUDGETS:
            raise ValueError(f"budget {self.budget!r}, expected one of {', '.join(BUDGETS)}")

    def pick(self, quick: Any, standard: Any, thorough: Any) -> Any:
        return {"quick": quick, "standard": standard, "thorough": thorough}[self.budget]

    def subseed(self, name: str = "") -> int:
        """A 32-bit seed derived from the run seed, the claim id and ``name``."""
        return (int(self.seed) * 1_000_003 + zlib.crc32(f"{self.claim_id}/{name}".encode())) % (2**32)

    def rng(self, name: str = ""):
        import numpy as np

        return np.random.default_rng(self.subseed(name))

    def satisfies(self, instance: Any) -> bool:
        """Whether ``instance`` satisfies every hypothesis in :attr:`hypotheses`."""
        return all(bool(h(instance)) for h in self.hypotheses.values())


@dataclass(frozen=True)
class Scope:
    """What a claim quantifies over, and the parts that its proofs must cover.

    >>> Scope("every K >= 2; every interior mu; beta > 0").parts
    ('every K >= 2; every interior mu; beta > 0',)
    >>> Scope("every P", parts=("(<=) every BT P", "(=>) every non-BT P")).parts
    ('(<=) every BT P', '(=>) every non-BT P')
    """

    text: str
    parts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise ValueError("a scope needs a statement of what the claim quantifies over")
        if not self.parts:
            object.__setattr__(self, "parts", (self.text,))


#: The scope of a claim that declares none (user claims): the drawn instances only.
DRAWN = Scope("the instances drawn by its strategy")


@dataclass(frozen=True)
class Checker:
    """A named check of a claim.

    ``kind``: symbolic, certified, exact, numeric, property, dynamic, search.
    ``evidence``: what it establishes (:data:`EVIDENCE`; default from ``kind``).
    ``covers``: its extent in words ("K = 2, 3, 4", "every K", "50-digit instances, K <= 8").
    ``proves``: the scope parts its proof covers in full (only for ``evidence="proof"``);
    a proof that covers none of them (e.g. fixed small K) is a partial proof.
    """

    name: str
    kind: str
    fn: Callable[[CheckContext], Outcome]
    description: str = ""
    evidence: str = ""
    covers: str = ""
    proves: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.evidence:
            object.__setattr__(self, "evidence", _KIND_EVIDENCE.get(self.kind, "search"))
        if self.evidence not in EVIDENCE:
            raise ValueError(f"checker {self.name!r}: evidence {self.evidence!r}, expected one of {EVIDENCE}")
        if isinstance(self.proves, str):
            object.__setattr__(self, "proves", (self.proves,))
        if self.proves and self.evidence != "proof":
            raise ValueError(f"checker {self.name!r}: only a proof can cover scope parts, not {self.evidence!r}")


@dataclass(frozen=True)
class Control:
    """A negative control: a planted wrong variant.

    ``fn`` runs the same checking code as a real checker on the wrong variant
    described by ``description`` (e.g. "closed form with beta/2"). With
    ``expect="refuted"`` (the default) it must come back ``refuted``; a mutation
    that leaves the statement true has ``expect="holds"`` and must *not* be refuted.
    """

    name: str
    description: str
    fn: Callable[[CheckContext], Outcome]
    expect: str = "refuted"

    def __post_init__(self) -> None:
        if self.expect not in ("refuted", "holds"):
            raise ValueError(f"control {self.name!r}: expect {self.expect!r}, expected 'refuted' or 'holds'")

    def caught(self, outcome: Outcome) -> bool:
        """Whether ``outcome`` is what this control expects."""
        if self.expect == "refuted":
            return outcome.verdict == "refuted"
        return outcome.verdict in ("proved", "verified", "inconclusive")


#: Factors applied to each constant by the mutation test.
MUTATION_FACTORS = (Fraction(3, 4), Fraction(5, 4), Fraction(2))


@dataclass(frozen=True)
class Constant:
    """A constant of a claim's statement that its checkers take as a keyword.

    The mutation test runs every checker in ``checkers`` with ``param`` set to
    ``value * factor`` for each factor in :data:`MUTATION_FACTORS`. Where
    ``holds(factor)`` is False the perturbed statement is false and every one of
    these checkers must refute it (symbolic *and* numeric/dynamic evidence); where it
    is True (e.g. a sufficient bound made more conservative) none may refute it.
    ``why`` says which is which and why.
    """

    name: str
    value: Any
    param: str
    checkers: tuple[str, ...]
    holds: Callable[[Fraction], bool] = lambda f: f == 1
    why: str = ""
    scale: Callable[[Any, Fraction], Any] | None = None

    def perturbed(self, factor: Fraction) -> Any:
        if self.scale is not None:
            return self.scale(self.value, factor)
        v = self.value
        if isinstance(v, float):
            return v * float(factor)
        if type(v).__module__.startswith("sympy"):
            import sympy

            return v * sympy.Rational(factor.numerator, factor.denominator)
        return v * factor


@dataclass
class Claim:
    """One claim of the specification (or a user's), with its checkers and controls.

    ``scope`` says what it quantifies over; ``argument`` is a human-checked argument
    that is reported but never counted as a proof; ``cites`` names published theorems
    and elementary lemmas that a mechanised proof uses as axioms, each stated in full
    (reported with the verdict: "proved: ... | citing: ..."); ``constants`` feed the
    mutation test.
    """

    id: str
    statement: str
    tag: str
    checkers: list[Checker]
    latex: str = ""
    hypotheses: dict[str, Callable[..., bool]] = field(default_factory=dict)
    controls: list[Control] = field(default_factory=list)
    source: str = ""
    note: str = ""
    expressions: Callable[[], list] | None = None
    scope: Scope = DRAWN
    argument: str = ""
    constants: list[Constant] = field(default_factory=list)
    cites: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.cites, str):
            self.cites = (self.cites,)
        if not isinstance(self.id, str) or not self.id.strip():
            raise ValueError("a claim needs a non-empty string id")
        if self.tag not in TAGS:
            raise ValueError(f"claim {self.id}: tag {self.tag!r}, expected one of {TAGS}")
        if not self.checkers:
            raise ValueError(f"claim {self.id}: at least one checker is needed")
        if isinstance(self.scope, str):
            self.scope = Scope(self.scope)
        names = {c.name for c in self.checkers}
        for c in self.checkers:
            unknown = [p for p in c.proves if p not in self.scope.parts]
            if unknown:
                raise ValueError(f"claim {self.id}: checker {c.name!r} proves {unknown}, not parts of the scope {self.scope.parts}")
        for k in self.constants:
            missing = [n for n in k.checkers if n not in names]
            if missing:
                raise ValueError(f"claim {self.id}: constant {k.name!r} names unknown checkers {missing}")

    def checker(self, name: str) -> Checker:
        for c in self.checkers:
            if c.name == name:
                return c
        raise KeyError(f"claim {self.id} has no checker {name!r}; it has {[c.name for c in self.checkers]}")

    def mutation_controls(self) -> list[Control]:
        """One control per constant, factor and checker (see :class:`Constant`)."""
        import functools

        out = []
        for k in self.constants:
            for f in MUTATION_FACTORS:
                holds = bool(k.holds(f))
                for name in k.checkers:
                    fn = functools.partial(self.checker(name).fn, **{k.param: k.perturbed(f)})
                    out.append(
                        Control(
                            f"mutate {k.name} x{f} [{name}]",
                            f"{k.name} multiplied by {f}: the statement is {'still true' if holds else 'false'}"
                            + (f" ({k.why})" if k.why else ""),
                            fn,
                            expect="holds" if holds else "refuted",
                        )
                    )
        return out


@dataclass
class CheckResult:
    """One checker's verdict on one claim, with timing and what the checker establishes."""

    checker: str
    kind: str
    outcome: Outcome
    seconds: float
    evidence: str = ""
    covers: str = ""
    proves: tuple[str, ...] = ()
    expect: str | None = None  # controls only: "refuted" or "holds"
    caught: bool | None = None  # controls only: came back as expected

    @property
    def verdict(self) -> str:
        return self.outcome.verdict

    def to_dict(self) -> dict:
        o = self.outcome
        d = {
            "checker": self.checker,
            "kind": self.kind,
            "evidence": self.evidence,
            "covers": self.covers,
            "proves": list(self.proves),
            "verdict": o.verdict,
            "summary": o.summary,
            "n_instances": o.n_instances,
            "dps": o.dps,
            "tolerance": o.tolerance,
            "tolerance_kind": o.tolerance_kind,
            "criterion": o.criterion,
            "max_error": o.max_error,
            "details": jsonable(o.details),
            "seconds": round(self.seconds, 4),
        }
        if o.counterexample is not None:
            d["counterexample"] = o.counterexample.to_dict()
        if self.expect is not None:
            d["expect"] = self.expect
            d["caught"] = self.caught
        return d


def combine_verdicts(checks: Iterable[CheckResult], parts: Iterable[str] = ()) -> str:
    """Claim verdict from checker results and the scope parts.

    ``error`` if any errored, else ``refuted`` if any refuted, else ``proved`` when
    the checkers that came back ``proved`` prove every scope part, else ``verified``
    if any check proved or verified something, else ``inconclusive``.
    """
    checks = list(checks)
    vs = [c.verdict for c in checks]
    for v in ("error", "refuted"):
        if v in vs:
            return v
    covered = {p for c in checks if c.verdict == "proved" for p in c.proves}
    parts = tuple(parts)
    if parts and covered >= set(parts):
        return "proved"
    if "proved" in vs or "verified" in vs:
        return "verified"
    return "inconclusive"


@dataclass
class ClaimResult:
    """The result of checking one claim: ``.id``, ``.verdict``, ``.evidence``, ``.checks``, ``.coverage``."""

    id: str
    tag: str
    statement: str
    checks: list[CheckResult]
    seconds: float
    budget: str
    seed: int
    note: str = ""
    scope: Scope = DRAWN
    argument: str = ""
    cites: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        return combine_verdicts(self.checks, self.scope.parts)

    @property
    def evidence(self) -> str:
        return "; ".join(f"{c.checker}: {c.verdict} ({c.outcome.summary})" for c in self.checks)

    @property
    def counterexamples(self) -> list[Counterexample]:
        return [c.outcome.counterexample for c in self.checks if c.outcome.counterexample is not None]

    @property
    def unproved_parts(self) -> list[str]:
        """Scope parts that no proof which came back ``proved`` covers."""
        covered = {p for c in self.checks if c.verdict == "proved" for p in c.proves}
        return [p for p in self.scope.parts if p not in covered]

    @property
    def coverage(self) -> str:
        """What is proved and what is only checked, in one line.

        ``"proved for every K; checked: 50-digit instances K <= 8 (numeric)"``
        """
        proofs = [c for c in self.checks if c.verdict == "proved"]
        checked = [c for c in self.checks if c.verdict == "verified"]
        bits = []
        if proofs:
            bits.append("proved: " + "; ".join(f"{c.covers or c.checker}" + ("" if c.proves else " (part)") for c in proofs))
            if self.cites:
                bits.append("citing: " + "; ".join(self.cites))
        if checked:
            bits.append("checked: " + "; ".join(f"{c.covers or c.checker} ({c.evidence})" for c in checked))
        missing = self.unproved_parts if self.verdict in ("verified", "inconclusive") else []
        if missing:
            bits.append("not proved: " + "; ".join(missing))
        if self.argument and self.verdict != "proved":
            bits.append("argument in a human-checked note (not counted as a proof)")
        return " | ".join(bits)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "tag": self.tag,
            "statement": self.statement,
            "scope": {"text": self.scope.text, "parts": list(self.scope.parts), "unproved": self.unproved_parts},
            "verdict": self.verdict,
            "coverage": self.coverage,
            "evidence": self.evidence,
            "seconds": round(self.seconds, 4),
            "budget": self.budget,
            "seed": self.seed,
            "note": self.note,
            "argument": self.argument,
            "cites": list(self.cites),
            "checks": [c.to_dict() for c in self.checks],
        }


class Registry:
    """An explicit registry of claims; a duplicate id raises ``ValueError``."""

    def __init__(self) -> None:
        self._claims: dict[str, Claim] = {}

    def add(self, claim: Claim) -> Claim:
        if claim.id in self._claims:
            raise ValueError(f"duplicate claim id {claim.id!r}: a claim with this id is already registered")
        self._claims[claim.id] = claim
        return claim

    def remove(self, claim_id: str) -> None:
        self._claims.pop(claim_id, None)

    def get(self, claim_id: str) -> Claim:
        try:
            return self._claims[claim_id]
        except KeyError:
            known = ", ".join(self._claims) or "(none)"
            raise KeyError(f"unknown claim id {claim_id!r}; known ids: {known}") from None

    def __contains__(self, claim_id: object) -> bool:
        return claim_id in self._claims

    def __iter__(self) -> Iterator[Claim]:
        return iter(list(self._claims.values()))

    def __len__(self) -> int:
        return len(self._claims)

    def ids(self) -> list[str]:
        return list(self._claims)


#: The default registry: built-in claims and claims registered by users.
REGISTRY = Registry()


def register(claim: Claim, registry: Registry | None = None) -> Claim:
    """Register ``claim`` in ``registry`` (default :data:`REGISTRY`)."""
    return (REGISTRY if registry is None else registry).add(claim)
