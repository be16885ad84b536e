"""Plain-text tables, JSON output and progress lines for the command line.

Machine output (``--json``) goes to stdout; progress goes to stderr.
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from typing import Any, Sequence, TextIO

from verify.engine.registry import SCHEMA_VERSION, ClaimResult, jsonable

__all__ = ["Progress", "results_table", "results_markdown", "results_json", "print_json", "table"]


class Progress:
    """A one-line progress bar on stderr (redrawn in place on a terminal)."""

    def __init__(self, label: str = "", stream: TextIO | None = None, enabled: bool = True) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def __call__(self, done: int, total: int, what: str = "") -> None:
        if not self.enabled or total <= 0:
            return
        width = 24
        filled = int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        secs = time.perf_counter() - self.t0
        line = f"{self.label} [{bar}] {done}/{total} {secs:6.1f}s {what}"
        if self.tty:
            self.stream.write("\r" + line[:110].ljust(110))
            if done >= total:
                self.stream.write("\n")
        else:
            self.stream.write(line.rstrip() + "\n")
        self.stream.flush()


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[int] | None = None) -> str:
    """A fixed-width text table; long cells wrap within their column."""
    cols = len(headers)
    if widths is None:
        widths = [max(len(str(h)), *(len(str(r[c])) for r in rows)) if rows else len(str(h)) for c, h in enumerate(headers)]
    out = []
    fmt_row = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out.append(fmt_row(headers))
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        wrapped = [textwrap.wrap(str(r[c]), widths[c]) or [""] for c in range(cols)]
        height = max(len(w) for w in wrapped)
        for line in range(height):
            out.append(fmt_row([w[line] if line < len(w) else "" for w in wrapped]))
    return "\n".join(out)


def results_table(results: Sequence[ClaimResult], evidence_width: int = 70) -> str:
    """One row per claim (its scope and what is proved vs checked), then one indented row per checker."""
    rows = []
    for r in results:
        rows.append([r.id, r.tag, r.verdict.upper(), f"scope: {r.scope.text}", f"{r.seconds:.2f}"])
        if r.coverage:
            rows.append(["", "", "", r.coverage, ""])
        for c in r.checks:
            ev = f"{c.checker} [{c.evidence}{': ' + c.covers if c.covers else ''}]: {c.outcome.summary}"
            prec = c.outcome.precision() if c.verdict != "proved" else ""
            if prec:
                ev += f" [{prec}]"
            if c.outcome.counterexample is not None:
                ce = c.outcome.counterexample
                ev += f" | counterexample: {json.dumps(ce.to_dict()['instance'])} (seed {ce.seed})"
                if ce.replay:
                    ev += f" | replay: {ce.replay}"
            rows.append(["", "", f"  {c.verdict}", ev, f"{c.seconds:.2f}"])
    idw = max([5] + [len(r.id) for r in results])
    text = table(["claim", "tag", "verdict", "scope / evidence", "seconds"], rows, [idw, 7, 13, evidence_width, 7])
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    summary = ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
    total = sum(r.seconds for r in results)
    return f"{text}\n\n{len(results)} claims: {summary} ({total:.1f} s)"


def results_markdown(results: Sequence[ClaimResult]) -> str:
    """A Markdown table (claim, tag, scope, verdict, proved / checked) for the README's "what is verified"."""
    lines = ["| claim | tag | scope | verdict | what is proved / checked |", "|---|---|---|---|---|"]
    for r in results:
        cov = r.coverage.replace("|", "/")
        lines.append(f"| {r.id} | {r.tag} | {r.scope.text.replace('|', '/')} | {r.verdict} | {cov} |")
    return "\n".join(lines)


def results_json(results: Sequence[ClaimResult], **run: Any) -> dict:
    """The versioned JSON document of a check run (schema: docs/json-schema.md).

    ``run`` adds fields describing the run (budget, seed, command, controls).
    """
    from verify import __version__

    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "prefdyn_version": __version__}
    doc.update(run)
    doc["results"] = [r.to_dict() for r in results]
    return doc


def print_json(obj: Any, stream: TextIO | None = None) -> None:
    """Print ``obj`` as indented JSON on stdout."""
    json.dump(jsonable(obj), stream or sys.stdout, indent=2)
    (stream or sys.stdout).write("\n")
