"""The claims reference: what prefdyn checks, generated from the claim registry.

``docs/claims.md`` is this module's output (``prefdyn claims --out docs/claims.md``); a test
regenerates it and fails when the file differs, so the reference cannot drift from the code. It
holds the conventions (:data:`theory.notation.CONVENTIONS`) and, for every claim in registry order
grouped by section (:data:`theory.notation.SECTIONS`): its id and tag, statement, formula, scope
and the parts a proof must cover, hypotheses, source, cited results, the human-checked argument
when there is one, the note, its checkers (what each establishes and covers) and its negative
controls and constant mutations. It states no verdicts: those come from running the checks
(``prefdyn check``, the README's table, ``prefdyn report``).

>>> text = claims_reference()
>>> text.startswith("# Claims reference") and "### DYN-1 [paper]" in text and "## §0." in text
True
"""

from __future__ import annotations

from typing import Iterable

from theory.notation import CONVENTIONS, SECTIONS, section_of
from verify.engine.registry import MUTATION_FACTORS, REGISTRY, Claim

__all__ = ["claims_reference", "claim_markdown", "REFERENCE_PATH", "REGENERATE"]

#: Where the repository keeps the generated reference.
REFERENCE_PATH = "docs/claims.md"
#: The command that regenerates it.
REGENERATE = "prefdyn claims --out docs/claims.md"

_HEADER = f"""# Claims reference

*Generated from the claim registry by `{REGENERATE}` — do not edit by hand; a test regenerates it and
fails when this file differs.*

prefdyn checks the claims of Y. Chen, Y. He, M. I. Jordan, F. Yao, *How Sampling Shapes LLM Alignment:
From One-Shot Optima to Iterative Dynamics*, arXiv:2602.12180 (2026), and questions beyond the paper.
The paper's full text is not available to us: this reference is the project's specification, written by
us. Every claim has a tag: **paper** (stated by the paper, taken from its abstract and public summaries),
**derived** (derived for this project, re-derived and checked, never trusted) or **open** (a question
settled by computation). A claim states its **scope** — what it quantifies over — and the **parts** of
the scope that proofs must cover before the claim is `proved`; each **checker** says what it establishes
(a proof; certified instances, a computer-assisted proof per instance in ball arithmetic; exact or
high-precision instances; float dynamics; a search) and what it covers. Verdicts are not part of the
reference: run `prefdyn check` (or see the README's table, or `prefdyn report`).
"""


def _one_line(s: str) -> str:
    return " ".join(s.split())


def _cell(s: str) -> str:
    return _one_line(s).replace("|", "\\|") or "—"


def _mutations(claim: Claim) -> list[str]:
    out = []
    for k in claim.constants:
        factors = ", ".join(f"×{f}" for f in MUTATION_FACTORS)
        out.append(f"`{k.name}` = `{k.value}` (factors {factors}; checkers {', '.join(k.checkers)})" + (f": {_one_line(k.why)}" if k.why else ""))
    return out


def claim_markdown(claim: Claim) -> str:
    """The reference entry of one claim (Markdown)."""
    lines = [f"### {claim.id} [{claim.tag}]", "", _one_line(claim.statement), ""]
    if claim.latex:
        lines += ["$$", claim.latex.strip(), "$$", ""]
    lines.append(f"- **Scope:** {_one_line(claim.scope.text)}")
    if len(claim.scope.parts) > 1:
        lines.append("- **Parts a proof must cover:**")
        lines += [f"  - {_one_line(p)}" for p in claim.scope.parts]
    if claim.hypotheses:
        lines.append("- **Hypotheses** (checked on every drawn instance): " + ", ".join(f"`{h}`" for h in claim.hypotheses))
    if claim.source:
        lines.append(f"- **Source:** {_one_line(claim.source)}")
    if claim.cites:
        lines.append("- **Cited results** (used as axioms by a mechanised proof):")
        lines += [f"  - {_one_line(c)}" for c in claim.cites]
    if claim.argument:
        lines.append(f"- **Human-checked argument** (reported, never counted as a proof): {_one_line(claim.argument)}")
    if claim.note:
        lines.append(f"- **Note:** {_one_line(claim.note)}")
    lines += ["", "| checker | kind | establishes | covers | proves scope parts |", "|---|---|---|---|---|"]
    for c in claim.checkers:
        lines.append(f"| `{c.name}` | {c.kind} | {c.evidence} | {_cell(c.covers)} | {_cell('; '.join(c.proves))} |")
    lines.append("")
    if claim.controls:
        lines.append(f"Negative controls ({len(claim.controls)}; each must come back as stated):")
        lines.append("")
        for k in claim.controls:
            lines.append(f"- `{k.name}` (expect {k.expect}): {_one_line(k.description)}")
        lines.append("")
    muts = _mutations(claim)
    if muts:
        lines.append("Constant mutations (a perturbed constant that makes the statement false must be refuted by every listed checker):")
        lines.append("")
        lines += [f"- {m}" for m in muts]
        lines.append("")
    return "\n".join(lines)


def claims_reference(claims: Iterable[Claim] | None = None) -> str:
    """The whole reference (Markdown) for ``claims`` (default: every built-in claim, registry order)."""
    if claims is None:
        from verify.engine.runner import load_builtin_claims

        load_builtin_claims()
        claims = [c for c in REGISTRY if c.tag != "user"]
    claims = list(claims)
    parts = [_HEADER]
    by_section: dict[str | None, list[Claim]] = {}
    for c in claims:
        by_section.setdefault(section_of(c.id), []).append(c)
    toc = []
    for sec in SECTIONS:
        ids = [c.id for c in by_section.get(sec.number, [])]
        toc.append(f"- §{sec.number}. {sec.title}" + (f": {', '.join(ids)}" if ids else ""))
    if by_section.get(None):
        toc.append("- Other claims: " + ", ".join(c.id for c in by_section[None]))
    parts.append("## Contents\n\n" + "\n".join(toc) + "\n")
    for sec in SECTIONS:
        body = [f"## §{sec.number}. {sec.title}", ""]
        if sec.number == "0":
            body += [f"- {c}" for c in CONVENTIONS]
            body.append("")
        if sec.intro:
            body += [sec.intro, ""]
        for c in by_section.get(sec.number, []):
            body.append(claim_markdown(c))
        parts.append("\n".join(body))
    if by_section.get(None):
        parts.append("\n".join(["## Other claims", ""] + [claim_markdown(c) for c in by_section[None]]))
    return "\n".join(p.rstrip() + "\n" for p in parts)
