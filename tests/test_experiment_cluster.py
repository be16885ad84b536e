"""Sweeps on a Dask cluster (verify.experiments.cluster): the same table as the serial run, and nothing lost.

One 2-worker ``LocalCluster`` (processes, one thread each, no dashboard) serves the module and is
always closed. The second test kills a worker that holds a chunk while the sweep runs; its chunk is
recomputed on the other (or the restarted) worker, every chunk file is written, and the table is the
serial one, bit for bit.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

pytest.importorskip("distributed", reason='dask.distributed is an optional extra: pip install "prefdyn[distributed]"')

from verify.exact.families import random_sst_float  # noqa: E402
from verify.exact.objects import InputError  # noqa: E402
from verify.experiments.cluster import close, connect, start_local  # noqa: E402
from verify.experiments.finite import FiniteSample  # noqa: E402
from verify.experiments.sweep import SweepSpec, parse_grid, run_sweep  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    client = cluster_ = None
    try:
        client, cluster_ = start_local(2)
        yield client
    finally:
        close(client, cluster_)


def _matrices(n):
    P = random_sst_float(np.random.default_rng(11), 4, n)
    P[0, :3, :3] = [[0.5, 0.9, 0.1], [0.1, 0.5, 0.9], [0.9, 0.1, 0.5]]  # one cyclic block among the SST ones
    P[0, :3, 3], P[0, 3, :3] = 0.7, 0.3
    return P


def _same(a, b):
    x, y = a.arrays(), b.arrays()
    assert sorted(x) == sorted(y)
    for k in x:
        assert np.array_equal(x[k], y[k]), k


def test_two_workers_give_the_serial_table_bit_for_bit(cluster, tmp_path):
    P = _matrices(6)
    spec = SweepSpec(grid=parse_grid("alpha=0.5/0.9,beta=2/8", "beta"), steps=80, chunk=5, engine="numpy",
                     finite=FiniteSample(pairs=16, realisations=2), record=((0, 3),))
    serial = run_sweep(P, spec)
    seen = []
    dist = run_sweep(P, spec, client=cluster, out_dir=tmp_path, progress=lambda d, t, _: seen.append(d))
    _same(serial, dist)
    assert dist.computed == dist.chunks == len(list((tmp_path / "chunks").glob("chunk-*.npz"))) > 2
    assert seen == list(range(dist.chunks + 1))
    workers = cluster.run(os.getpid)
    assert len(set(workers.values())) == 2 and os.getpid() not in workers.values()


def test_a_killed_worker_loses_nothing(cluster, tmp_path):
    P = _matrices(16)
    spec = SweepSpec(grid=parse_grid("alpha=0.9,beta=8/2", "beta"), steps=2000, chunk=4, engine="numpy")
    done = threading.Event()
    state: dict = {}

    def progress(d, t, _):
        if d >= 2:
            done.set()

    def run():
        try:
            state["result"] = run_sweep(P, spec, client=cluster, out_dir=tmp_path, progress=progress)
        except BaseException as exc:  # reported by the main thread
            state["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert done.wait(60), "no chunk finished"
    busy = [w for w, tasks in cluster.processing().items() if tasks]
    assert busy, "no worker held a chunk to lose"
    victim = busy[0]
    try:
        cluster.run(os._exit, 1, workers=[victim])
    except Exception:  # the worker dies under the call: its comm closes
        pass
    thread.join(120)
    assert not thread.is_alive(), "the sweep did not finish after a worker died"
    if "error" in state:
        raise state["error"]
    res = state["result"]
    deadline = time.time() + 30
    while victim in cluster.scheduler_info()["workers"] and time.time() < deadline:
        time.sleep(0.2)
    assert victim not in cluster.scheduler_info()["workers"]  # the worker really died
    assert res.computed == res.chunks == 8 and len(list((tmp_path / "chunks").glob("chunk-*.npz"))) == 8
    _same(res, run_sweep(P, spec))


def test_connect_to_nothing_is_one_clear_line():
    with pytest.raises(InputError, match="cannot connect"):
        connect("tcp://127.0.0.1:9", timeout=0.5)
    with pytest.raises(InputError, match="workers"):
        start_local(0)
