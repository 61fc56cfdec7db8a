"""Sharded extraction as tasks of the active joblib backend (a real 2-worker Dask cluster)."""

import os

import numpy as np
import pytest
from _extract_worker import store_files as cache_entries
from _extract_worker import featurizer
from joblib import parallel_config


distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def clips(generated_clips):
    return [str(p) for p in generated_clips[0][:6]]


def test_sharded_extract_on_a_dask_cluster_matches_one_process(clips, tmp_path):
    broken = tmp_path / "broken.webm"
    broken.write_bytes(b"\x1a\x45\xdf\xa3" + b"garbage" * 100)
    single = featurizer(tmp_path / "single")
    expected = [np.load(f) for f in single.extract(clips)]
    with distributed.LocalCluster(n_workers=2, dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        model = featurizer(tmp_path / "sharded", n_workers="auto")  # decoding workers in daemonic processes
        model.sampler.set_params(on_error="warn")
        with parallel_config(backend="dask"), pytest.warns(UserWarning, match="broken.webm"):
            files = model.extract(clips + [str(broken)], n_shards=3)
        workers = {w["id"] for w in client.scheduler_info()["workers"].values()}
    assert len(workers) == 2
    assert files[-1] is None and model.report_.failed_paths == [str(broken)]
    assert str(model.report_.failures[0].cause)  # the reason travels back from the worker
    assert sorted(cache_entries(tmp_path / "sharded")) == sorted(os.path.basename(c) for c in clips)
    for path, reference in zip(files[:-1], expected):
        np.testing.assert_allclose(np.load(path), reference, rtol=1e-4, atol=1e-5)
    assert (model.report_.hits, model.report_.misses, model.report_.corrupt) == (0, 7, 0)
    rerun = featurizer(tmp_path / "sharded")
    assert rerun.extract(clips, n_shards=2) == files[:-1] and rerun.report_.hits == len(clips)
