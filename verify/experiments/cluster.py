"""Scale-out on Dask: start a local cluster or join an existing one, and close them.

A sweep (:func:`verify.experiments.sweep.run_sweep`) given a ``client`` submits one task per
unfinished chunk and writes each result on the client side as it arrives; the results are
bit-identical to the serial run (the chunks and every random stream are fixed by the spec, never by
the workers). Needs the optional extra: ``pip install "prefdyn[distributed]"``.

* :func:`start_local` -- a ``LocalCluster`` of ``n_workers`` processes with one thread each and no
  dashboard (no network beyond localhost), and a client of it;
* :func:`connect` -- a client of a running scheduler (``tcp://host:8786``);
* :func:`close` -- closes a client and, when given, its cluster (never raises on an already closed one).

>>> start_local(0)
Traceback (most recent call last):
...
verify.exact.objects.InputError: workers = 0, expected an integer >= 1
>>> close(None, None)                  # nothing to close: no error
"""

from __future__ import annotations

from typing import Any

from verify.exact.objects import InputError

__all__ = ["start_local", "connect", "close", "INSTALL_HINT"]

INSTALL_HINT = 'pip install "prefdyn[distributed]"'


def _distributed():
    try:
        import distributed
    except ImportError:
        raise InputError(f"a Dask cluster needs the distributed extra: {INSTALL_HINT}") from None
    return distributed


def start_local(n_workers: int, *, timeout: float = 60.0) -> tuple[Any, Any]:
    """``(client, cluster)``: a local cluster of ``n_workers`` worker processes (one thread each, no dashboard).

    Close both with :func:`close` (a leaked cluster keeps its processes alive).
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise InputError(f"workers = {n_workers!r}, expected an integer >= 1")
    distributed = _distributed()
    cluster = distributed.LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None, timeout=timeout
    )
    try:
        client = distributed.Client(cluster, timeout=timeout)
    except BaseException:
        cluster.close()
        raise
    return client, cluster


def connect(address: str, *, timeout: float = 30.0) -> Any:
    """A client of the scheduler at ``address`` (e.g. ``tcp://10.0.0.5:8786``); a clear error when it cannot be reached.

    The workers must be able to import this package (the same version: results are bit-identical
    only when every worker runs the same code and engine).
    """
    if not isinstance(address, str) or not address.strip():
        raise InputError(f"scheduler address {address!r}: expected e.g. tcp://host:8786")
    distributed = _distributed()
    try:
        return distributed.Client(address.strip(), timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"scheduler {address}: cannot connect ({exc})") from None


def close(client: Any = None, cluster: Any = None) -> None:
    """Close ``client`` and then ``cluster`` (either may be None or already closed)."""
    for obj in (client, cluster):
        if obj is None:
            continue
        try:
            obj.close()
        except Exception:  # already closed or its loop gone: nothing left to release
            pass
