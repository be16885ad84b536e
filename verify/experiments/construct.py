r"""Preference matrices from HelpSteer-schema scores (docs/experiments.md), and their exact classification.

Construction (the paper's rule)
-------------------------------
For a prompt with responses ``0..K-1`` and scores ``s[r, a]`` (``a`` one of the five
:data:`~verify.experiments.helpsteer.ATTRIBUTES`), each unordered pair ``i < j`` gets one attribute
``a_ij`` uniformly at random, and

.. math:: P_{ij} = \sigma(c\,(s_{i,a_{ij}} - s_{j,a_{ij}})), \qquad P_{ji} = 1 - P_{ij}, \qquad P_{ii} = 1/2,

with ``sigma`` the logistic function and ``c`` the scale (1 in the paper). Every choice the paper does
not state is an explicit option of :class:`BuildOptions` (see :meth:`BuildOptions.describe`):

* ``K`` (4): responses per matrix. Prompts with fewer are always dropped (counted).
* ``group`` ("first"): a prompt with more than ``K`` responses gives its first ``K`` in file order;
  "drop" drops it (counted); "subsets" gives one matrix per ``K``-subset of its responses
  (lexicographic order, so subset 0 is the first ``K``), refused with a clear error when a prompt
  would give more than ``max_subsets`` (1000) matrices.
* ``attribute`` ("random"): the attribute of a pair, uniform over the five; or one fixed attribute name.
* ``ties`` ("half"): when the two scores on the chosen attribute are equal, "half" keeps the formula's
  value ``P = 1/2``; "resample" draws again, uniformly among the attributes on which the two responses
  differ (``1/2`` if they differ on none); "drop" drops the matrix (the prompt, or with
  ``group="subsets"`` that subset's matrix; counted).
* ``scale`` (1.0): ``c`` above, any finite ``c > 0``.
* ``seed`` (0): the random draws. The draw of pair ``p`` (pairs numbered ``(0,1), (0,2), ...,
  (K-2,K-1)``), round ``r`` (0: the attribute; 1: a tie's resample) of subset ``t`` of the prompt
  numbered ``i`` in its file is :func:`draw` ``(seed, i, t, p, r, n)``, a counter-based hash
  (SplitMix64 finaliser chained over the key). It depends on nothing else, so dropping, selecting or
  chunking prompts never changes another prompt's matrix.

Classification (exact)
----------------------
With ``i >_M j`` iff ``P_ij > 1/2`` (the strict majority relation), for ``K`` responses:

* **cyclic**: ``>_M`` has a directed cycle;
* **sst** (strong stochastic transitivity): for all distinct ``i, j, k``, ``P_ij >= 1/2`` and
  ``P_jk >= 1/2`` imply ``P_ik >= max(P_ij, P_jk)``;
* **transitive**: weakly stochastically transitive (the same premise implies ``P_ik >= 1/2``) but not SST;
* **other**: the rest -- not cyclic and not weakly transitive (only ties can do this, e.g.
  ``P_ij = P_jk = 1/2 > P_ik``).

The option ``premise`` (:class:`BuildOptions`, :func:`classify`) says how a tie enters these
premises. "weak" is the definition above: a tie ``P_ij = 1/2`` is a premise in both
directions, so a matrix with ties is SST only if tied responses are interchangeable. "strict" (the
default: it is the project's exact oracle, and its class shares are close to the paper's) reads
the premises as ``P_ij > 1/2 and P_jk > 1/2`` (only chains of the strict majority relation constrain;
weak transitivity then says ``>_M`` is transitive), and "other" becomes: ``>_M`` acyclic but not
transitive. The paper does not say which it used. With five 0-4 scores and one random attribute per
pair most matrices have a tie, so the choice moves most of the matrices between "sst" and "other"
(cyclic is the same under both); report it beside the counts.

Under either premise the four classes partition all matrices: SST implies weak transitivity, and
weak transitivity rules out a majority cycle (``a >_M b >_M ... >_M z >_M a`` chains to ``P_az >=
1/2``, contradicting ``P_za > 1/2``). The exact oracle :func:`verify.exact.social.is_sst` also
demands that ``>_M`` be a strict linear order (no ties), so it agrees with our "sst" (either
premise) on tie-free matrices, and ours is the larger set otherwise; ``is_wst`` and
``has_majority_cycle`` of :mod:`verify.exact.social` are exactly our weak transitivity and cycle tests;
with ``premise="strict"``, ``sst_violation(P) is None`` and ``is_wst(P, strict=True)`` are our SST and
weak transitivity.

A built matrix is classified from its integer score differences ``d_ij`` (threshold 0), not from its
floats: ``d -> sigma(c d)`` is strictly increasing with ``sigma(0) = 1/2`` and ``1 - sigma(c d) =
sigma(-c d)``, so every comparison above has the same answer on ``d`` as on the exact matrix,
whatever rounding does to the floats (``c = 1e3`` rounds ``sigma(c)`` and ``sigma(2c)`` both to 1.0).

>>> from verify.experiments.helpsteer import Groups
>>> s = np.array([[4, 4, 4, 2, 2], [2, 4, 3, 2, 2], [3, 3, 4, 1, 3], [2, 2, 2, 2, 2]])
>>> m = build_matrices(Groups(["q"], [s]), BuildOptions(attribute="helpfulness"))
>>> m.classes.tolist(), m.differences[0, 0].tolist()
(['sst'], [0, 2, 1, 2])
>>> classify(np.array([[.5, .7, .3], [.3, .5, .7], [.7, .3, .5]])).tolist()
['cyclic']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Iterable

import numpy as np

from verify.exact.objects import InputError
from verify.experiments.helpsteer import ATTRIBUTES, Groups

__all__ = [
    "mix64",
    "CLASSES",
    "PAPER_COUNTS",
    "GROUPS",
    "TIES",
    "PREMISES",
    "DROP_REASONS",
    "BuildOptions",
    "MatrixSet",
    "build_matrices",
    "classify",
    "draw",
    "draws",
    "sigmoid_table",
]

#: The matrix classes, in the order of precedence used by :func:`classify` (they partition).
CLASSES = ("cyclic", "sst", "transitive", "other")
#: The counts the paper reports for HelpSteer (K = 4): 118 cyclic and 4,924 SST matrices.
PAPER_COUNTS = {"cyclic": 118, "sst": 4924}
#: Values of :attr:`BuildOptions.group`.
GROUPS = ("first", "drop", "subsets")
#: Values of :attr:`BuildOptions.ties`.
TIES = ("half", "resample", "drop")
#: Values of :attr:`BuildOptions.premise` (the premise of SST and weak transitivity in :func:`classify`).
PREMISES = ("weak", "strict")
#: Keys of :attr:`MatrixSet.dropped`: prompts with fewer than K responses, prompts with more than K
#: (``group="drop"``), and matrices dropped for a tie (``ties="drop"``).
DROP_REASONS = ("fewer_responses", "more_responses", "ties")

_U64 = np.uint64
_MASK = (1 << 64) - 1
_GOLDEN, _M1, _M2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class BuildOptions:
    """Every choice of the matrix construction, with the defaults of the module docstring.

    >>> BuildOptions().to_json()
    {'K': 4, 'group': 'first', 'attribute': 'random', 'ties': 'half', 'scale': 1.0, 'seed': 0, 'max_subsets': 1000, 'premise': 'strict'}
    >>> BuildOptions(ties="never")
    Traceback (most recent call last):
    ...
    verify.exact.objects.InputError: ties='never': expected one of 'half', 'resample', 'drop'
    """

    K: int = 4
    group: str = "first"
    attribute: str = "random"
    ties: str = "half"
    scale: float = 1.0
    seed: int = 0
    max_subsets: int = 1000
    premise: str = "strict"

    def __post_init__(self) -> None:
        def integer(name, v, lo, hi=None):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo or (hi is not None and v > hi):
                rng = f"an integer >= {lo}" if hi is None else f"an integer {lo}..{hi}"
                raise InputError(f"{name}={v!r}: expected {rng}")

        integer("K", self.K, 2, 64)
        integer("seed", self.seed, 0, _MASK)
        integer("max_subsets", self.max_subsets, 1)
        for name, allowed in (("group", GROUPS), ("ties", TIES), ("premise", PREMISES), ("attribute", ("random",) + ATTRIBUTES)):
            if getattr(self, name) not in allowed:
                raise InputError(f"{name}={getattr(self, name)!r}: expected one of {', '.join(map(repr, allowed))}")
        try:
            scale = float(self.scale)
        except (TypeError, ValueError):
            raise InputError(f"scale={self.scale!r}: expected a finite number > 0") from None
        if isinstance(self.scale, bool) or not (math.isfinite(scale) and scale > 0):
            raise InputError(f"scale={self.scale!r}: expected a finite number > 0")
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "K", int(self.K))
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "max_subsets", int(self.max_subsets))

    def to_json(self) -> dict:
        """The options as a JSON-ready dict (field order)."""
        return {
            "K": self.K,
            "group": self.group,
            "attribute": self.attribute,
            "ties": self.ties,
            "scale": self.scale,
            "seed": self.seed,
            "max_subsets": self.max_subsets,
            "premise": self.premise,
        }

    def describe(self) -> list[str]:
        """One line per option: its value and what it means.

        >>> print("\\n".join(BuildOptions().describe()))  # doctest: +NORMALIZE_WHITESPACE
        K = 4: responses per matrix; prompts with fewer are dropped (counted)
        group = first: a prompt with more than K responses gives its first K, in file order
        attribute = random: each pair's attribute is drawn uniformly from the 5 attributes
        ties = half: equal scores on the chosen attribute give P = 1/2 (the formula's value)
        scale = 1: P[i,j] = sigmoid(1 * (score_i - score_j)), P[j,i] = 1 - P[i,j]
        seed = 0: the draws of a prompt depend only on (seed, prompt number, subset number)
        max_subsets = 1000: with group = subsets, a prompt giving more matrices is an error
        premise = strict: SST and transitivity read only P_ij > 1/2 and P_jk > 1/2 as a premise (ties impose nothing)
        """
        group = {
            "first": "a prompt with more than K responses gives its first K, in file order",
            "drop": "a prompt with more than K responses is dropped (counted)",
            "subsets": "a prompt with more than K responses gives one matrix per K-subset (lexicographic)",
        }[self.group]
        attribute = (
            "each pair's attribute is drawn uniformly from the 5 attributes"
            if self.attribute == "random"
            else f"every pair is compared on {self.attribute}"
        )
        ties = {
            "half": "equal scores on the chosen attribute give P = 1/2 (the formula's value)",
            "resample": "equal scores: draw again among the attributes on which the two differ (1/2 if none)",
            "drop": "a matrix with equal scores on a chosen attribute is dropped (counted)",
        }[self.ties]
        premise = {
            "weak": "SST and transitivity read P_ij >= 1/2 and P_jk >= 1/2 as a premise (ties count)",
            "strict": "SST and transitivity read only P_ij > 1/2 and P_jk > 1/2 as a premise (ties impose nothing)",
        }[self.premise]
        return [
            f"K = {self.K}: responses per matrix; prompts with fewer are dropped (counted)",
            f"group = {self.group}: {group}",
            f"attribute = {self.attribute}: {attribute}",
            f"ties = {self.ties}: {ties}",
            f"scale = {self.scale:g}: P[i,j] = sigmoid({self.scale:g} * (score_i - score_j)), P[j,i] = 1 - P[i,j]",
            f"seed = {self.seed}: the draws of a prompt depend only on (seed, prompt number, subset number)",
            f"max_subsets = {self.max_subsets}: with group = subsets, a prompt giving more matrices is an error",
            f"premise = {self.premise}: {premise}",
        ]


# --------------------------------------------------------------------------- random draws


def draw(seed: int, prompt: int, subset: int, pair: int, round: int, n: int) -> int:
    """One draw, uniform in ``range(n)``: the definition that :func:`draws` vectorises.

    ``h`` runs the SplitMix64 finaliser ``mix`` over the key, ``h = mix(mix(mix(mix(seed) ^ prompt)
    ^ subset) ^ (4 pair + round))``, and the draw is ``floor(n (h >> 11) / 2**53)``.

    >>> [draw(0, 7, 0, p, 0, 5) for p in range(6)] == draws(0, 7, 0, np.arange(6), 0, 5).tolist()
    True
    """

    def mix(z: int) -> int:
        z = (z + _GOLDEN) & _MASK
        z = ((z ^ (z >> 30)) * _M1) & _MASK
        z = ((z ^ (z >> 27)) * _M2) & _MASK
        return z ^ (z >> 31)

    h = mix(mix(mix(mix(seed) ^ prompt) ^ subset) ^ (4 * pair + round))
    return ((h >> 11) * n) >> 53


def mix64(z: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser on ``uint64`` arrays (wrapping arithmetic): the hash of every keyed draw."""
    z = z + _U64(_GOLDEN)
    z = (z ^ (z >> _U64(30))) * _U64(_M1)
    z = (z ^ (z >> _U64(27))) * _U64(_M2)
    return z ^ (z >> _U64(31))


def draws(seed: int, prompt, subset, pair, round, n) -> np.ndarray:
    """:func:`draw` on arrays (broadcast), as int64.

    >>> draws(3, np.arange(4), 0, 0, 0, 5).tolist() == [draw(3, i, 0, 0, 0, 5) for i in range(4)]
    True
    """
    prompt, subset, pair, round, n = (np.asarray(x) for x in (prompt, subset, pair, round, n))
    shape = np.broadcast_shapes(prompt.shape, subset.shape, pair.shape, round.shape, n.shape)
    with np.errstate(over="ignore"):
        h = mix64(np.full(shape, seed, dtype=_U64))
        h = mix64(h ^ prompt.astype(_U64))
        h = mix64(h ^ subset.astype(_U64))
        h = mix64(h ^ (pair.astype(_U64) * _U64(4) + round.astype(_U64)))
        return (((h >> _U64(11)) * n.astype(_U64)) >> _U64(53)).astype(np.int64)


# --------------------------------------------------------------------------- classification


def classify(P, *, half: float = 0.5, premise: str = "strict") -> np.ndarray:
    """The class of each matrix (:data:`CLASSES`, definitions in the module docstring).

    Parameters
    ----------
    P : array_like, shape ``(N, K, K)`` or ``(K, K)``
        Preference matrices. The decision uses only comparisons of entries with each other and with
        ``half``, exactly on the values given. Any array whose order matches ``P``'s works: integer
        score differences with ``half=0`` give the class of the exact matrix ``sigmoid(c d)``.
    half : float
        The value of a tie (1/2 for probabilities, 0 for differences).
    premise : {"weak", "strict"}
        "weak": the definitions of the module docstring, premise ``P_ij >= 1/2 and P_jk >=
        1/2``. "strict" (default): premise ``P_ij > 1/2 and P_jk > 1/2`` (ties impose nothing) in both SST
        and weak transitivity, i.e. :func:`verify.exact.social.sst_violation` and
        ``is_wst(P, strict=True)``.

    Returns
    -------
    numpy.ndarray of str, shape ``(N,)`` (``(1,)`` for one matrix).

    Examples
    --------
    >>> classify(np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]]), half=0).tolist()
    ['sst']
    >>> classify(np.array([[0, 2, 1], [-2, 0, 1], [-1, -1, 0]]), half=0).tolist()
    ['transitive']
    >>> tied = np.array([[0, 0, -1], [0, 0, 0], [1, 0, 0]])   # 1 ~ 2 ~ 3, 3 beats 1
    >>> classify(tied, half=0, premise="weak").tolist(), classify(tied, half=0).tolist()
    (['other'], ['sst'])
    """
    X = np.asarray(P)
    if X.ndim == 2:
        X = X[None]
    if X.ndim != 3 or X.shape[1] != X.shape[2]:
        raise InputError(f"classify: expected matrices of shape (N, K, K), got {np.shape(P)}")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise InputError("classify: the matrices have non-finite entries")
    if premise not in PREMISES:
        raise InputError(f"premise={premise!r}: expected one of {', '.join(map(repr, PREMISES))}")
    N, K = X.shape[0], X.shape[1]
    out = np.empty(N, dtype="<U10")
    block = max(1, (1 << 21) // (K**3))
    for lo in range(0, N, block):
        out[lo : lo + block] = _classify_block(X[lo : lo + block], half, premise == "strict")
    return out


def _classify_block(X: np.ndarray, half, strict_premise: bool) -> np.ndarray:
    K = X.shape[1]
    off = ~np.eye(K, dtype=bool)
    strict = (X > half) & off
    weak = strict if strict_premise else (X >= half) & off
    reach = strict.copy()
    for k in range(K):  # transitive closure (Floyd-Warshall on booleans)
        reach |= reach[:, :, k, None] & reach[:, None, k, :]
    cyclic = np.diagonal(reach, axis1=1, axis2=2).any(axis=1)
    distinct = off[:, :, None] & off[None, :, :] & off[:, None, :]  # [i, j, k]
    premise = weak[:, :, :, None] & weak[:, None, :, :] & distinct  # P_ij >= 1/2 and P_jk >= 1/2
    wst = ~(premise & ~weak[:, :, None, :]).any(axis=(1, 2, 3))
    top = np.maximum(X[:, :, :, None], X[:, None, :, :])  # max(P_ij, P_jk)
    sst = ~(premise & (X[:, :, None, :] < top)).any(axis=(1, 2, 3))
    return np.where(cyclic, "cyclic", np.where(sst, "sst", np.where(wst, "transitive", "other")))


# --------------------------------------------------------------------------- construction


def sigmoid_table(scale: float) -> np.ndarray:
    """``table[d + 4] = sigmoid(scale d)`` for ``d = -4..4``, with ``table[4 - d] = 1 - table[4 + d]`` exactly.

    The values for ``d >= 0`` are computed as ``1 / (1 + exp(-scale d))`` (non-decreasing) and the
    others as one minus them, so a matrix read from the table has ``P[j,i] = 1 - P[i,j]`` in floats
    and equal differences give equal entries.

    >>> sigmoid_table(1.0)[[4, 5, 3]].tolist() == [0.5, 1 / (1 + np.exp(-1.0)), 1 - 1 / (1 + np.exp(-1.0))]
    True
    """
    up = 1.0 / (1.0 + np.exp(-scale * np.arange(5.0)))
    up = np.maximum.accumulate(up)
    return np.concatenate([1.0 - up[:0:-1], up])


@dataclass
class MatrixSet:
    """The matrices built from a file, with where each came from.

    Attributes
    ----------
    P : (N, K, K) float64
        The preference matrices.
    classes : (N,) str
        :func:`classify` of the exact matrices (decided on :attr:`differences`).
    prompt_index : (N,) int64
        The prompt's number in its file (:attr:`Groups.index <verify.experiments.helpsteer.Groups>`).
    responses : (N, K) int64
        Which responses of the prompt (positions in file order) are the matrix's rows.
    attributes : (N, K, K) int8
        The attribute (index into :data:`~verify.experiments.helpsteer.ATTRIBUTES`) each pair was
        compared on (after a tie's resample); symmetric, -1 on the diagonal.
    options : BuildOptions
    dropped : dict
        :data:`DROP_REASONS` -> how many prompts (matrices, for ``"ties"``) were dropped.
    differences : (N, K, K) int8
        ``d_ij = score_i - score_j`` on the pair's attribute (``0`` for a kept tie).
    subset_index : (N,) int64
        The subset number (0 unless ``group="subsets"``).
    """

    P: np.ndarray
    classes: np.ndarray
    prompt_index: np.ndarray
    responses: np.ndarray
    attributes: np.ndarray
    options: BuildOptions
    dropped: dict[str, int]
    differences: np.ndarray | None = None
    subset_index: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.classes)

    def counts(self) -> dict[str, int]:
        """Matrices per class, every class of :data:`CLASSES` present (zeros included)."""
        return {c: int(np.count_nonzero(self.classes == c)) for c in CLASSES}

    def select(self, classes: str | Iterable[str]) -> "MatrixSet":
        """The matrices of the given class(es), in their order.

        >>> from verify.experiments.helpsteer import load_groups, SAMPLE_PATH
        >>> m = build_matrices(load_groups(SAMPLE_PATH)[0])
        >>> sub = m.select(["cyclic", "sst"])
        >>> len(sub) == m.counts()["cyclic"] + m.counts()["sst"], sorted(set(sub.classes.tolist()))
        (True, ['cyclic', 'sst'])
        """
        want = [classes] if isinstance(classes, str) else list(classes)
        bad = [c for c in want if c not in CLASSES]
        if bad:
            raise InputError(f"unknown matrix class {bad[0]!r}: expected one of {', '.join(CLASSES)}")
        keep = np.isin(self.classes, want)
        return self.take(keep)

    def take(self, which) -> "MatrixSet":
        """The matrices at ``which`` (indices or a boolean mask); options and drop counts are kept."""

        def cut(a):
            return None if a is None else a[which]

        return replace(
            self,
            P=self.P[which],
            classes=self.classes[which],
            prompt_index=self.prompt_index[which],
            responses=self.responses[which],
            attributes=self.attributes[which],
            dropped=dict(self.dropped),
            differences=cut(self.differences),
            subset_index=cut(self.subset_index),
        )

    def to_json(self) -> dict:
        """Counts, drops and options as a JSON-ready dict (the paper's counts beside ours)."""
        return {
            "matrices": len(self),
            "counts": self.counts(),
            "paper_counts": dict(PAPER_COUNTS),
            "dropped": dict(self.dropped),
            "options": self.options.to_json(),
        }


def _empty(K: int, options: BuildOptions, dropped: dict) -> MatrixSet:
    return MatrixSet(
        P=np.zeros((0, K, K)),
        classes=np.zeros(0, dtype="<U10"),
        prompt_index=np.zeros(0, dtype=np.int64),
        responses=np.zeros((0, K), dtype=np.int64),
        attributes=np.zeros((0, K, K), dtype=np.int8),
        options=options,
        dropped=dropped,
        differences=np.zeros((0, K, K), dtype=np.int8),
        subset_index=np.zeros(0, dtype=np.int64),
    )


def _gather(groups: Groups, options: BuildOptions, dropped: dict):
    """``(S (N, K, 5) int8, position (N,), subset (N,), responses (N, K))`` of every matrix, in order."""
    K = options.K
    sizes = groups.sizes()
    dropped["fewer_responses"] = int(np.count_nonzero(sizes < K))
    more = sizes > K
    if options.group == "drop":
        dropped["more_responses"] = int(np.count_nonzero(more))
        use = np.flatnonzero(sizes == K)
    else:
        use = np.flatnonzero(sizes >= K)
    if options.group != "subsets" or not more.any():
        S = np.stack([groups.scores[i][:K] for i in use]) if len(use) else np.zeros((0, K, 5), np.int8)
        zeros = np.zeros(len(use), dtype=np.int64)
        return S, use.astype(np.int64), zeros, np.broadcast_to(np.arange(K), (len(use), K)).copy()
    parts = []
    for n in np.unique(sizes[use]):
        pos = use[sizes[use] == n]
        count = math.comb(int(n), K)
        if count > options.max_subsets:
            i = int(pos[0])
            raise InputError(
                f"prompt {int(groups.index[i])} ({_snippet(groups.prompts[i])}) has {int(n)} responses:"
                f" {count} subsets of {K} exceed max_subsets={options.max_subsets}"
                " (use group='first' or 'drop', or raise max_subsets)"
            )
        combos = np.array(list(combinations(range(int(n)), K)), dtype=np.int64)  # (C, K)
        arr = np.stack([groups.scores[i] for i in pos])  # (m, n, 5)
        S = arr[:, combos, :].reshape(-1, K, 5)
        parts.append((S, np.repeat(pos, count), np.tile(np.arange(count), len(pos)), np.tile(combos, (len(pos), 1))))
    S, position, subset, responses = (np.concatenate(x) for x in zip(*parts))
    order = np.lexsort((subset, position))
    return S[order], position[order], subset[order], responses[order]


def _snippet(text: str, n: int = 40) -> str:
    return repr(text if len(text) <= n else text[: n - 3] + "...")


def build_matrices(groups: Groups, options: BuildOptions = BuildOptions()) -> MatrixSet:
    """The preference matrices of ``groups`` under ``options`` (module docstring), vectorised.

    Parameters
    ----------
    groups : Groups
        Scores per prompt (:func:`verify.experiments.helpsteer.load_groups`).
    options : BuildOptions

    Returns
    -------
    MatrixSet
        One matrix per kept prompt (per subset with ``group="subsets"``), ordered by prompt number
        and then subset number.

    Examples
    --------
    >>> from verify.experiments.helpsteer import load_groups, SAMPLE_PATH
    >>> m = build_matrices(load_groups(SAMPLE_PATH)[0])
    >>> m.P.shape, m.dropped
    ((540, 4, 4), {'fewer_responses': 10, 'more_responses': 0, 'ties': 0})
    >>> bool(np.all(m.P + m.P.transpose(0, 2, 1) == 1))
    True
    """
    if not isinstance(options, BuildOptions):
        raise InputError(f"options: expected BuildOptions, got {type(options).__name__}")
    K = options.K
    dropped = dict.fromkeys(DROP_REASONS, 0)
    S, position, subset, responses = _gather(groups, options, dropped)
    if len(S) == 0:
        return _empty(K, options, dropped)
    prompt = groups.index[position]
    iu, ju = np.triu_indices(K, 1)
    pair = np.arange(len(iu))
    S16 = S.astype(np.int16)
    diff = S16[:, iu, :] - S16[:, ju, :]  # (N, pairs, 5)
    if options.attribute == "random":
        a = draws(options.seed, prompt[:, None], subset[:, None], pair[None, :], 0, 5)
    else:
        a = np.full((len(S), len(iu)), ATTRIBUTES.index(options.attribute), dtype=np.int64)
    d = np.take_along_axis(diff, a[..., None], axis=2)[..., 0]
    if options.ties == "resample":
        nonzero = diff != 0
        m = nonzero.sum(axis=2)
        need = (d == 0) & (m > 0)
        r = draws(options.seed, prompt[:, None], subset[:, None], pair[None, :], 1, np.maximum(m, 1))
        rank = np.cumsum(nonzero, axis=2)
        pick = np.argmax(nonzero & (rank == (r + 1)[..., None]), axis=2)
        a = np.where(need, pick, a)
        d = np.take_along_axis(diff, a[..., None], axis=2)[..., 0]
    if options.ties == "drop":
        keep = ~(d == 0).any(axis=1)
        dropped["ties"] = int(np.count_nonzero(~keep))
        S, position, subset, responses, prompt, a, d = (x[keep] for x in (S, position, subset, responses, prompt, a, d))
        if len(S) == 0:
            return _empty(K, options, dropped)
    N = len(S)
    D = np.zeros((N, K, K), dtype=np.int8)
    D[:, iu, ju] = d
    D[:, ju, iu] = -d
    A = np.full((N, K, K), -1, dtype=np.int8)
    A[:, iu, ju] = a
    A[:, ju, iu] = a
    P = sigmoid_table(options.scale)[D.astype(np.intp) + 4]
    return MatrixSet(
        P=P,
        classes=classify(D, half=0, premise=options.premise),
        prompt_index=prompt.astype(np.int64),
        responses=responses.astype(np.int64),
        attributes=A,
        options=options,
        dropped=dropped,
        differences=D,
        subset_index=subset.astype(np.int64),
    )
