"""Claims, checkers, verdicts and the claim registry.

A claim is one unit: an id from THEORY.md, its statement, its tag
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

Checkers are plain functions ``fn(ctx: CheckContext) -> Outcome``; build the
outcome with :func:`proved`, :func:`verified`, :func:`refuted`,
:func:`inconclusive`. They never print.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable, Iterable, Iterator, Mapping

__all__ = [
    "VERDICTS",
    "TAGS",
    "BUDGETS",
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
    "combine_verdicts",
]

VERDICTS = ("proved", "verified", "refuted", "inconclusive", "error")
TAGS = ("paper", "derived", "open", "user")
BUDGETS = ("quick", "standard", "thorough")


def jsonable(x: Any) -> Any:
    """Convert evidence to plain JSON types (fractions as ``"p/q"``, mpf as strings)."""
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, float):
        return x if x == x and abs(x) != float("inf") else str(x)
    if isinstance(x, Fraction):
        return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
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
        import mpmath

        return mpmath.nstr(x, 30)
    if mod.startswith("sympy"):
        if getattr(x, "is_Matrix", False):
            return [[jsonable(e) for e in x.row(i)] for i in range(x.rows)]
        if getattr(x, "is_Rational", False):
            return str(x)
        return str(x)
    if isinstance(x, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in x]
    if hasattr(x, "__dict__") and hasattr(x, "__dataclass_fields__"):
        return {k: jsonable(v) for k, v in vars(x).items()}
    return repr(x)


@dataclass
class Counterexample:
    """A reproducible counterexample: the instance, the seed, what fails."""

    instance: Any
    seed: int | None = None
    detail: str = ""

    def to_dict(self) -> dict:
        return {"instance": jsonable(self.instance), "seed": self.seed, "detail": self.detail}


@dataclass
class Outcome:
    """What a checker returns: a verdict with its evidence."""

    verdict: str
    summary: str
    details: dict = field(default_factory=dict)
    counterexample: Counterexample | None = None
    n_instances: int | None = None
    max_error: str | None = None
    dps: int | None = None
    tolerance: str | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r}, expected one of {VERDICTS}")
        if self.verdict == "refuted" and self.counterexample is None:
            raise ValueError("a refuted outcome needs a counterexample")


def proved(summary: str, **details: Any) -> Outcome:
    """An exact argument was checked."""
    return Outcome("proved", summary, details)


def verified(
    summary: str,
    *,
    n: int,
    dps: int | None = None,
    tolerance: Any = None,
    max_error: Any = None,
    **details: Any,
) -> Outcome:
    """``n`` instances checked; numeric verdicts state ``dps`` and ``tolerance``."""
    return Outcome(
        "verified",
        summary,
        details,
        n_instances=n,
        dps=dps,
        tolerance=None if tolerance is None else _num_str(tolerance),
        max_error=None if max_error is None else _num_str(max_error),
    )


def refuted(summary: str, instance: Any, seed: int | None = None, detail: str = "", **details: Any) -> Outcome:
    """A counterexample (with the seed that reproduces it)."""
    return Outcome("refuted", summary, details, counterexample=Counterexample(instance, seed, detail or summary))


def inconclusive(summary: str, **details: Any) -> Outcome:
    """The check could not decide."""
    return Outcome("inconclusive", summary, details)


def _num_str(x: Any) -> str:
    if isinstance(x, str):
        return x
    mod = type(x).__module__
    if mod.startswith("mpmath"):
        import mpmath

        return mpmath.nstr(x, 3)
    if isinstance(x, float):
        return f"{x:.3g}"
    return str(x)


@dataclass
class CheckContext:
    """What a checker may depend on: the budget, the seed, the claim id.

    ``ctx.pick(quick=..., standard=..., thorough=...)`` chooses a size by
    budget; ``ctx.rng(name)`` is a numpy ``Generator`` seeded from
    ``(seed, claim id, name)`` so that every random choice is reproducible.
    """

    budget: str = "quick"
    seed: int = 0
    claim_id: str = ""

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


@dataclass(frozen=True)
class Checker:
    """A named check of a claim. ``kind``: symbolic, exact, numeric, property, dynamic, search."""

    name: str
    kind: str
    fn: Callable[[CheckContext], Outcome]
    description: str = ""


@dataclass(frozen=True)
class Control:
    """A negative control: a planted wrong variant that ``fn`` must refute.

    ``fn`` runs the same checking code as a real checker on the wrong variant
    described by ``description`` (e.g. "closed form with beta/2").
    """

    name: str
    description: str
    fn: Callable[[CheckContext], Outcome]
    expect: str = "refuted"


@dataclass
class Claim:
    """One claim of THEORY.md (or a user's), with its checkers and controls."""

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

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise ValueError("a claim needs a non-empty string id")
        if self.tag not in TAGS:
            raise ValueError(f"claim {self.id}: tag {self.tag!r}, expected one of {TAGS}")
        if not self.checkers:
            raise ValueError(f"claim {self.id}: at least one checker is needed")


@dataclass
class CheckResult:
    """One checker's verdict on one claim, with timing."""

    checker: str
    kind: str
    outcome: Outcome
    seconds: float

    @property
    def verdict(self) -> str:
        return self.outcome.verdict

    def to_dict(self) -> dict:
        o = self.outcome
        d = {
            "checker": self.checker,
            "kind": self.kind,
            "verdict": o.verdict,
            "summary": o.summary,
            "n_instances": o.n_instances,
            "dps": o.dps,
            "tolerance": o.tolerance,
            "max_error": o.max_error,
            "details": jsonable(o.details),
            "seconds": round(self.seconds, 4),
        }
        if o.counterexample is not None:
            d["counterexample"] = o.counterexample.to_dict()
        return d


def combine_verdicts(verdicts: Iterable[str]) -> str:
    """Claim verdict from checker verdicts.

    ``error`` if any errored, else ``refuted`` if any refuted, else ``proved``
    if any proved, else ``verified`` if any verified, else ``inconclusive``.
    """
    vs = list(verdicts)
    for v in ("error", "refuted", "proved", "verified"):
        if v in vs:
            return v
    return "inconclusive"


@dataclass
class ClaimResult:
    """The result of checking one claim: ``.id``, ``.verdict``, ``.evidence``, ``.checks``."""

    id: str
    tag: str
    statement: str
    checks: list[CheckResult]
    seconds: float
    budget: str
    seed: int
    note: str = ""

    @property
    def verdict(self) -> str:
        return combine_verdicts(c.verdict for c in self.checks)

    @property
    def evidence(self) -> str:
        return "; ".join(f"{c.checker}: {c.verdict} ({c.outcome.summary})" for c in self.checks)

    @property
    def counterexamples(self) -> list[Counterexample]:
        return [c.outcome.counterexample for c in self.checks if c.outcome.counterexample is not None]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "tag": self.tag,
            "statement": self.statement,
            "verdict": self.verdict,
            "evidence": self.evidence,
            "seconds": round(self.seconds, 4),
            "budget": self.budget,
            "seed": self.seed,
            "note": self.note,
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
