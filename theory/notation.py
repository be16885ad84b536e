"""One notation for the whole project: the objects, the conventions, and how symbols print.

This module is the single source of the conventions that the claims reference
(``docs/claims.md``, generated from the claim registry by ``prefdyn claims``) states, and of the
LaTeX names of the symbols that the derivations use.

>>> [s.number for s in SECTIONS]
['0', '1', '2', '3', '4', '4b']
>>> LATEX_NAMES["beta_dpo"]
'\\\\beta_{\\\\mathrm{DPO}}'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Section", "SECTIONS", "CONVENTIONS", "LATEX_NAMES", "section_of", "ID_PREFIX_SECTION"]


@dataclass(frozen=True)
class Section:
    """A numbered section of the claims reference: its number, title and a short introduction."""

    number: str
    title: str
    intro: str = ""


SECTIONS: tuple[Section, ...] = (
    Section("0", "Objects and conventions"),
    Section(
        "1",
        "One-shot IPO",
        "The IPO optimum for a fixed sampler `mu` and reference `pi_ref`: its closed form and what happens "
        "when the sampler misses a response.",
    ),
    Section(
        "2",
        "One-shot ranking properties",
        "With a uniform reference, IPO ranks responses by the score `s = P mu` (`beta > 0` does not change the "
        "order). Which samplers keep the Condorcet winner, the Smith set or the majority order on top, and for "
        "which `P` every sampler does.",
    ),
    Section(
        "3",
        "Iterative dynamics: MRS-IPO",
        "One step of MRS-IPO with `alpha, lambda in [0, 1]`, `beta > 0`, interior `pi_0` (the offline sampler) "
        "and `pi_ref` (the fixed reference):\n\n"
        "    pi_ref^(t) ∝ pi_t^alpha pi_ref^(1 - alpha)      (elementwise, normalised)\n"
        "    mu_t       = lambda pi_t + (1 - lambda) pi_0\n"
        "    pi_{t+1}   = softmax(alpha log pi_t + (1 - alpha) log pi_ref + beta P mu_t)\n\n"
        "Defaults: `pi_0 = pi_ref = uniform`. The Jacobian acts on the tangent space `{v : 1^T v = 0}` of the simplex.",
    ),
    Section(
        "4",
        "DPO and MRS-DPO",
        "The one-shot DPO optimum and MRS-DPO: the same reference and sampler mixing as MRS-IPO, with the IPO "
        "optimum replaced by the DPO optimum (an implicit map).",
    ),
    Section(
        "4b",
        "The family of pairwise losses [beyond the paper]",
        "A pairwise loss is `l(h; p) = p f(b h) + (1 - p) f(-b h)` for a comparison with win probability `p` and "
        "margin `h`, with `f` convex and a scale `b > 0` (Tang et al., ICML 2024): logistic `log(1 + e^-x)` (DPO, "
        "`b = beta_DPO`), squared `(1 - x)^2` (IPO, `b = 2/beta`), hinge `max(0, 1 - x)` (SLiC), exponential "
        "`e^-x`, truncated quadratic `max(0, 1 - x)^2`. Population loss "
        "`L(r; mu) = sum_{i,j} mu_i mu_j l(r_i - r_j; P_ij)`. The MRS map is the same for every loss, with the IPO "
        "optimum replaced by the loss's optimum.",
    ),
)

#: The conventions every claim uses (the claims reference's section 0), one bullet each.
CONVENTIONS: tuple[str, ...] = (
    "`K >= 2` candidate responses to one prompt, indexed `0..K-1`.",
    "Preference matrix `P`, `P_ij = Pr(i beats j)`: valid iff `0 <= P_ij <= 1` and `P_ij + P_ji = 1` (so "
    "`P_ii = 1/2`). `P` is not assumed Bradley–Terry. `S = P - (1/2) 1 1^T` is skew-symmetric.",
    "`Δ_K` is the probability simplex; interior means every entry > 0.",
    "`mu` in `Δ_K` is the sampling distribution: the two responses of a comparison are drawn independently "
    "from `mu` (ordered pairs from `mu x mu`).",
    "`pi_ref` is the reference policy (interior), `pi` the policy; log-ratio `r_i = log(pi_i / pi_ref_i)`, "
    "margin `h(i, j) = r_i - r_j`.",
    "IPO (Azar et al. 2023): sampled-pair loss `E[(h(y_w, y_l) - 1/(2 tau))^2]`. prefdyn writes `beta = 1/tau` "
    "(the paper's convention). TRL's `loss_type=\"ipo\"` calls `tau` \"beta\": TRL's beta is `1/beta` here.",
    "DPO (Rafailov et al. 2023): loss `-E log sigmoid(beta_DPO h(y_w, y_l))`; `beta_DPO` is the KL coefficient "
    "(larger = closer to the reference), a different role from IPO's `beta`; the two keep two names.",
    "Population losses (labels drawn from `P`, ordered pairs from `mu x mu`): "
    "`L_IPO(r; mu) = sum_{i,j} mu_i mu_j (r_i - r_j - beta S_ij)^2` (up to a constant; it follows from "
    "expanding `P_ij (h - c)^2 + P_ji (-h - c)^2` with `c = beta/2`) and "
    "`L_DPO(r; mu) = -sum_{i,j} mu_i mu_j [P_ij log sigmoid(beta_DPO h) + P_ji log sigmoid(-beta_DPO h)]`, "
    "`h = r_i - r_j`.",
    "Tags: **paper** — stated by the paper (taken from its abstract and public summaries; its full text is not "
    "available to us, so where its hypotheses are unknown prefdyn states its own precise version and says so); "
    "**derived** — derived for this project, re-derived and checked here, never trusted; **open** — a question "
    "settled by computation (a proof, a certificate or a counterexample); **user** — a claim loaded with `--module`.",
)

#: Claim id prefix -> section number of the claims reference.
ID_PREFIX_SECTION = {"IPO": "1", "RANK": "2", "DYN": "3", "DPO": "4", "LOSS": "4b"}

#: sympy symbol name -> LaTeX, as a paper writes it (passed to sympy's printer as ``symbol_names``).
LATEX_NAMES: dict[str, str] = {
    "alpha": r"\alpha",
    "beta": r"\beta",
    "beta_dpo": r"\beta_{\mathrm{DPO}}",
    "beta_DPO": r"\beta_{\mathrm{DPO}}",
    "beta_slic": r"\beta_{\mathrm{SLiC}}",
    "beta_exp": r"\beta_{\mathrm{exp}}",
    "beta_tq": r"\beta_{\mathrm{tq}}",
    "lam": r"\lambda",
    "lambda": r"\lambda",
    "mu": r"\mu",
    "pi_ref": r"\pi_{\mathrm{ref}}",
    "piref": r"\pi_{\mathrm{ref}}",
    "pi0": r"\pi_0",
    "pizero": r"\pi_0",
    "eps": r"\varepsilon",
    "epsilon": r"\varepsilon",
    "varepsilon": r"\varepsilon",
    "s_max": r"s_{\max}",
}


def section_of(claim_id: str) -> str | None:
    """The section number of a built-in claim id (``"DYN-1"`` -> ``"3"``), None for other ids.

    >>> section_of("LOSS-2"), section_of("USER-x")
    ('4b', None)
    """
    prefix = claim_id.split("-", 1)[0]
    return ID_PREFIX_SECTION.get(prefix)
