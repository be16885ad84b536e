"""A seeded generator of clearly labelled SYNTHETIC files in the HelpSteer schema (not HelpSteer data).

HelpSteer itself is not reachable from our machines, so the tests, the ``--synthetic`` run and the
README example use a file made here. Every prompt and response text says what it is
(``"prefdyn synthetic prompt 17 — not HelpSteer data"``); only the schema and the rough shape of the
scores imitate HelpSteer.

The model (all draws from :class:`random.Random` ``(seed)``, whose ``random()`` stream Python keeps
stable across versions, combined with ``+``, ``*`` and ``floor`` only, so a file is the same on
every platform):

* a prompt has 4 responses, or 3 with probability ``p_three``, or 5 with probability ``p_five``;
* a prompt has a level ``m`` uniform on [0.8, 3.2] and its own centres for complexity and verbosity;
* a response has a quality ``q = m + spread * z`` (``z`` a centred Irwin-Hall(3) variable, variance
  1/4); helpfulness and correctness follow ``q``, coherence sits high (about 3.3) and moves a little with
  ``q - m``, complexity and verbosity follow their prompt's centres and ``q - m`` weakly. Each score
  is ``floor(x + noise * (u - 1/2) + 1/2)`` clipped to 0-4, with a fresh uniform ``u`` per score: the
  noise makes attributes disagree on the order of two responses, which is what makes some matrices
  cyclic when each pair is compared on a random attribute;
* with probability ``p_duplicate`` a response (not the first) repeats an earlier response's score row
  exactly (its text stays distinct).

With these defaults and the default :class:`~verify.experiments.construct.BuildOptions`, about 5% of
the matrices are cyclic (4.5% at 8,800 prompts). Scores 0-4 make ties common, and most matrices have
a tie on some pair's chosen attribute, so the SST share depends on the classification's ``premise``:
about 57% SST, 6% transitive and 32% other with the default "strict" premise (ties impose
nothing), about 11% SST, 8% transitive and 77% other with "weak" (ties count). For comparison, the paper's 118
cyclic and 4,924 SST matrices of about 8,800 prompts are 1.3% and 56%. About 2% of the prompts have
3 responses and 1.5% have 5.

The shipped sample ``verify/data/helpsteer_synthetic.jsonl.gz`` (550 prompts, 2,197 rows) is
reproduced byte for byte by::

    python -m verify.experiments.synthetic --out verify/data/helpsteer_synthetic.jsonl.gz --prompts 550 --seed 0

(gzip with ``mtime=0``, no file name in the header, level 9; the bytes depend only on the zlib
version, recorded in :data:`SAMPLE_ZLIB`).

>>> rows = list(generate(2, seed=1))
>>> rows[0]["prompt"]
'prefdyn synthetic prompt 0 — not HelpSteer data'
>>> sorted(rows[0]) == sorted(("prompt", "response", "helpfulness", "correctness", "coherence", "complexity", "verbosity"))
True
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import os
import random
import sys
from pathlib import Path
from typing import Iterator

from verify.exact.objects import InputError
from verify.experiments.helpsteer import ATTRIBUTES, FIELDS, detect_format

__all__ = ["generate", "write", "main", "SAMPLE_COMMAND", "SAMPLE_PROMPTS", "SAMPLE_SEED", "SAMPLE_ZLIB"]

#: The shipped sample: prompts and seed, and the command that writes it (from the repository root).
SAMPLE_PROMPTS = 550
SAMPLE_SEED = 0
SAMPLE_COMMAND = (
    f"python -m verify.experiments.synthetic --out verify/data/helpsteer_synthetic.jsonl.gz"
    f" --prompts {SAMPLE_PROMPTS} --seed {SAMPLE_SEED}"
)
#: The zlib version the shipped sample's bytes were compressed with (another zlib may compress differently).
SAMPLE_ZLIB = "1.2.13"

_LABEL = "not HelpSteer data"


def _score(x: float) -> int:
    return min(4, max(0, math.floor(x + 0.5)))


def generate(
    n_prompts: int,
    *,
    seed: int = 0,
    noise: float = 1.5,
    spread: float = 1.2,
    p_three: float = 0.02,
    p_five: float = 0.015,
    p_duplicate: float = 0.04,
) -> Iterator[dict]:
    """The rows of a synthetic HelpSteer-schema file, one dict per response, prompts in order.

    Parameters
    ----------
    n_prompts : int
        Number of prompts.
    seed : int
        Seed of :class:`random.Random`; the first ``n`` prompts do not depend on ``n_prompts``.
    noise : float
        Width of the uniform noise added to each score (disagreement between attributes).
    spread : float
        Scale of the responses' quality around their prompt's level.
    p_three, p_five : float
        Probability that a prompt has 3 (resp. 5) responses instead of 4.
    p_duplicate : float
        Probability that a response repeats an earlier response's score row.

    Yields
    ------
    dict
        ``prompt``, ``response`` and the five attributes (ints 0-4).
    """
    if isinstance(n_prompts, bool) or not isinstance(n_prompts, int) or n_prompts < 0:
        raise InputError(f"n_prompts={n_prompts!r}: expected an integer >= 0")
    for name, p in (("p_three", p_three), ("p_five", p_five), ("p_duplicate", p_duplicate)):
        if not 0 <= p <= 1:
            raise InputError(f"{name}={p!r}: expected a probability in [0, 1]")
    if p_three + p_five > 1:
        raise InputError(f"p_three + p_five = {p_three + p_five}: expected at most 1")
    rnd = random.Random(seed).random
    for i in range(n_prompts):
        u = rnd()
        n = 3 if u < p_three else 5 if u < p_three + p_five else 4
        m = 0.8 + 2.4 * rnd()
        c_cplx = 0.6 + 1.6 * rnd()
        c_verb = 0.6 + 1.6 * rnd()
        prompt = f"prefdyn synthetic prompt {i} — {_LABEL}"
        rows: list[tuple[int, ...]] = []
        for r in range(n):
            if r and rnd() < p_duplicate:
                row = rows[math.floor(rnd() * len(rows))]
            else:
                z = rnd() + rnd() + rnd() - 1.5
                q = m + spread * z
                dq = q - m
                base = (q, q + 0.2, 3.3 + 0.3 * dq, c_cplx + 0.3 * dq, c_verb + 0.4 * dq)
                row = tuple(_score(x + noise * (rnd() - 0.5)) for x in base)
            rows.append(row)
            rec = {"prompt": prompt, "response": f"prefdyn synthetic response {i}.{r} — {_LABEL}"}
            rec.update(zip(ATTRIBUTES, row))
            yield rec


def _jsonl_bytes(rows) -> Iterator[bytes]:
    for rec in rows:
        yield (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")


def write(path: str | os.PathLike, n_prompts: int, *, seed: int = 0, fmt: str | None = None, **model) -> int:
    """Write a synthetic file; the format from the name (``.jsonl``, ``.jsonl.gz``, ``.csv``, ``.parquet``) or ``fmt``.

    ``.jsonl.gz`` is written reproducibly (gzip ``mtime=0``, no name in the header, level 9).
    ``model`` passes the keyword options of :func:`generate`. Returns the number of rows written.

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "s.csv")
    >>> write(p, 3, seed=2)
    12
    >>> open(p, encoding="utf-8").readline().strip()
    'prompt,response,helpfulness,correctness,coherence,complexity,verbosity'
    """
    fmt = detect_format(path, fmt)
    rows = list(generate(n_prompts, seed=seed, **model)) if fmt == "parquet" else generate(n_prompts, seed=seed, **model)
    count = 0

    def counted(it):
        nonlocal count
        for rec in it:
            count += 1
            yield rec

    target = Path(path)
    try:
        if fmt == "jsonl":
            with open(target, "wb") as fh:
                fh.writelines(_jsonl_bytes(counted(rows)))
        elif fmt == "jsonl.gz":
            with open(target, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as fh:
                fh.writelines(_jsonl_bytes(counted(rows)))
        elif fmt == "csv":
            with open(target, "w", encoding="utf-8", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=list(FIELDS), lineterminator="\n")
                w.writeheader()
                w.writerows(counted(rows))
        else:
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:
                raise InputError(f'{path}: writing Parquet needs pyarrow: pip install "prefdyn[parquet]"') from None
            table = pa.table({f: [r[f] for r in rows] for f in FIELDS})
            pq.write_table(table, target)
            count = len(rows)
    except OSError as e:
        raise InputError(f"{path}: cannot write ({e.strerror or e})") from None
    return count


def main(argv: list[str] | None = None) -> int:
    """``python -m verify.experiments.synthetic --out FILE --prompts N --seed S``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m verify.experiments.synthetic",
        description="Write a clearly labelled SYNTHETIC file in the HelpSteer schema (not HelpSteer data). "
        f"The shipped sample is: {SAMPLE_COMMAND}",
    )
    parser.add_argument("--out", required=True, help="output file: .jsonl, .jsonl.gz, .csv or .parquet")
    parser.add_argument("--prompts", type=int, default=SAMPLE_PROMPTS, help=f"number of prompts (default {SAMPLE_PROMPTS})")
    parser.add_argument("--seed", type=int, default=SAMPLE_SEED, help=f"random seed (default {SAMPLE_SEED})")
    parser.add_argument("--format", dest="fmt", choices=["jsonl", "jsonl.gz", "csv", "parquet"], help="format (default: from --out)")
    args = parser.parse_args(argv)
    try:
        n = write(args.out, args.prompts, seed=args.seed, fmt=args.fmt)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {n} synthetic rows ({args.prompts} prompts, seed {args.seed}) to {args.out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
