"""The paper's experiments (docs/experiments.md): HelpSteer-schema data to preference matrices, sweeps and outputs.

Submodules (imported on first use, so ``import verify.experiments`` stays cheap and never pulls sympy):

* :mod:`verify.experiments.helpsteer` -- streaming loader of HelpSteer-schema files (JSONL, JSONL.gz,
  CSV, Parquet) into compact per-prompt score arrays (:func:`~verify.experiments.helpsteer.load_groups`);
* :mod:`verify.experiments.construct` -- the preference matrices of §5 with every unstated choice an
  explicit option (:class:`~verify.experiments.construct.BuildOptions`), and their exact classification
  into cyclic / SST / transitive-not-SST / other;
* :mod:`verify.experiments.synthetic` -- the seeded generator of the clearly labelled synthetic sample
  shipped as ``verify/data/helpsteer_synthetic.jsonl.gz``;
* :mod:`verify.experiments.sweep`, :mod:`verify.experiments.finite`, :mod:`verify.experiments.cluster`,
  :mod:`verify.experiments.outputs` -- grids of runs, the finite-sample variant, scale-out on Dask, and
  the written results;
* :mod:`verify.experiments.pipeline` -- :func:`~verify.experiments.pipeline.run_experiment`, data to
  outputs in one call (what ``prefdyn experiment`` runs).

>>> import verify.experiments as ex
>>> ex.helpsteer.ATTRIBUTES[0]
'helpfulness'
"""

from __future__ import annotations

import importlib

__all__ = ["helpsteer", "construct", "synthetic", "sweep", "finite", "cluster", "outputs", "pipeline"]


def __getattr__(name: str):
    """Import a submodule on first attribute access (PEP 562)."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
