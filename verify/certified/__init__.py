r"""Certified enclosures with python-flint's ball arithmetic (the optional ``certified`` extra).

A certified result is a computer-assisted proof *for one instance*: every number is an Arb ball that
contains the exact value, inputs are exact rationals, and a decision is taken only when the enclosure lies
on one side. The modules, one object each:

* :mod:`~verify.certified.balls`: loading flint (lazily), exact inputs, enclosures as rational intervals;
* :mod:`~verify.certified.spectrum`: :func:`certify_spectrum`, the eigenvalues of a ball matrix and the side
  of the unit circle;
* :mod:`~verify.certified.contraction`: :func:`certify_contraction`, DYN-2's ``||S||_2`` and ``q``
  (an exact rational certificate for the upper end), and :func:`certify_step_norm`;
* :mod:`~verify.certified.krawczyk`: the Krawczyk test for a unique zero in a box;
* :mod:`~verify.certified.chart`: the MRS-IPO and MRS-DPO maps in the log-ratio chart, over boxes;
* :mod:`~verify.certified.fixed_point`: :func:`certify_fixed_point` and :func:`certify_instance`.

Importing this package never imports flint (nor sympy or mpmath); :func:`available` says whether flint can
be imported. Without it every ``certify_*`` function raises :class:`CertifiedUnavailable`, whose message
ends with :data:`INSTALL_HINT`; the claim checkers turn that into ``inconclusive``, never a pass.

>>> from verify.certified import available, certify_instance
>>> from verify.exact.families import cyclic
>>> available()
True
>>> certify_instance(cyclic("2/5"), "1/5", 1, 1).verdict                     # the README's converging example
'certified stable'
"""

from __future__ import annotations

from verify.certified.balls import (
    DEFAULT_PREC,
    INSTALL_HINT,
    CertifiedUnavailable,
    Interval,
    available,
    exact_rational,
)
from verify.certified.chart import MapInstance, map_instance
from verify.certified.contraction import ContractionCertificate, certify_contraction, certify_step_norm, skew_norm_enclosure
from verify.certified.fixed_point import FixedPointCertificate, InstanceCertificate, certify_fixed_point, certify_instance
from verify.certified.spectrum import SpectrumCertificate, certify_spectrum

__all__ = [
    "DEFAULT_PREC",
    "INSTALL_HINT",
    "CertifiedUnavailable",
    "Interval",
    "available",
    "exact_rational",
    "MapInstance",
    "map_instance",
    "SpectrumCertificate",
    "certify_spectrum",
    "ContractionCertificate",
    "certify_contraction",
    "certify_step_norm",
    "skew_norm_enclosure",
    "FixedPointCertificate",
    "InstanceCertificate",
    "certify_fixed_point",
    "certify_instance",
]
