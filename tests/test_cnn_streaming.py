"""Streaming from paths, the resumable cache, worker decoding and failures."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from _extract_worker import store_files as cache_entries
from _extract_worker import WORKER, featurizer, reference_features

from skmem import CNNFeaturizer, FrameSampler, PrecomputedFeatureLoader
from skmem.features.store import FeatureConfigError
from skmem.video import VideoDecodeError

@pytest.fixture(scope="module")
def clips(generated_clips):
    return list(generated_clips[0][:6])


@pytest.fixture(scope="module")
def reference(clips):
    return reference_features(clips)


def count_forward_frames(model):
    seen = []
    model.extractor_.register_forward_hook(lambda module, inputs, output: seen.append(len(inputs[0])))
    return seen


def entries(folder):
    return sorted(cache_entries(folder).values())


@pytest.mark.parametrize("n_workers", [0, 2])
def test_streaming_equals_array_input(clips, reference, n_workers):
    streamed = featurizer(None, n_workers=n_workers).transform(clips)
    np.testing.assert_allclose(streamed, reference, rtol=1e-4, atol=1e-5)


def test_second_run_reads_the_cache(clips, reference, tmp_path):
    first = featurizer(tmp_path)
    calls = count_forward_frames(first)
    np.testing.assert_allclose(first.transform(clips), reference, rtol=1e-4, atol=1e-5)
    assert sum(calls) == 2 * len(clips) and first.report_.misses == len(clips)
    assert len(entries(tmp_path)) == len(clips)
    second = featurizer(tmp_path)
    calls = count_forward_frames(second)
    np.testing.assert_array_equal(second.transform(clips), first.transform(clips))
    assert calls == [] and (second.report_.hits, second.report_.misses, second.report_.corrupt) == (len(clips), 0, 0)


@pytest.mark.parametrize(
    "change,setting",
    [
        ({"sampler": FrameSampler(n_frames=2, size=64, strategy="fps")}, "fps"),
        ({"sampler": FrameSampler(n_frames=2, size=48)}, "48"),
        ({"random_state": 1}, "random:1"),
        ({"autocast": True}, "bfloat16"),
        ({"layer": "layer4"}, "layer4"),
    ],
    ids=["strategy", "size", "weights", "autocast", "layer"],
)
def test_a_folder_of_another_configuration_is_refused(clips, tmp_path, change, setting):
    featurizer(tmp_path).transform(clips[:2])
    changed = featurizer(tmp_path, **change)
    with pytest.raises(FeatureConfigError, match=str(tmp_path)) as error:
        changed.transform(clips[:2])
    assert setting in str(error.value) and "random:0" in str(error.value)  # both configurations
    assert len(entries(tmp_path)) == 2


def test_runtime_settings_share_the_folder(clips, tmp_path):
    featurizer(tmp_path).transform(clips[:2])
    other = featurizer(tmp_path, batch_size=4, n_workers=1, sampler=FrameSampler(n_frames=2, size=64, n_jobs=2))
    other.transform(clips[:2])
    assert other.report_.hits == 2


def test_modified_clip_misses(clips, tmp_path):
    import shutil

    clip = str(tmp_path / "clip.webm")
    shutil.copy(clips[0], clip)
    cache = tmp_path / "cache"
    featurizer(cache).transform([clip])
    shutil.copy(clips[1], clip)
    os.utime(clip, ns=(time.time_ns(), time.time_ns() + 10**9))
    rerun = featurizer(cache)
    rerun.transform([clip])
    assert rerun.report_.misses == 1


def test_corrupt_entry_is_detected_recomputed_and_reported(clips, reference, tmp_path):
    featurizer(tmp_path).transform(clips[:3])
    victim = entries(tmp_path)[1]
    with open(victim, "r+b") as fh:
        fh.truncate(os.path.getsize(victim) // 2)
    rerun = featurizer(tmp_path)
    with pytest.warns(UserWarning, match="corrupt cache entry") as record:
        features = rerun.transform(clips[:3])
    assert any(os.path.basename(victim) in str(w.message) for w in record)
    assert (rerun.report_.hits, rerun.report_.misses, rerun.report_.corrupt) == (2, 1, 1)
    np.testing.assert_allclose(features, reference[:3], rtol=1e-4, atol=1e-5)
    assert len(entries(tmp_path)) == 3


def test_killed_run_resumes_to_the_same_features(clips, reference, tmp_path):
    env = {**os.environ, "SKMEM_TEST_KILL_AT_SAVE": "3"}  # SIGKILL as the third clip's entry is renamed into place
    run = subprocess.run([sys.executable, WORKER, str(tmp_path), *clips], env=env, stderr=subprocess.DEVNULL, timeout=300)
    assert run.returncode == -signal.SIGKILL
    done = len(entries(tmp_path))
    assert done == 2
    resumed = featurizer(tmp_path)
    features = resumed.transform(clips)
    assert resumed.report_.hits == done and resumed.report_.misses == len(clips) - done and resumed.report_.corrupt == 0
    np.testing.assert_allclose(features, reference, rtol=1e-4, atol=1e-5)


def test_two_processes_share_one_cache(clips, reference, tmp_path):
    processes = [subprocess.Popen([sys.executable, WORKER, str(tmp_path), *clips]) for _ in range(2)]
    assert [p.wait(timeout=300) for p in processes] == [0, 0]
    assert sorted(cache_entries(tmp_path)) == sorted(os.path.basename(c) for c in clips)  # each clip once
    assert [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")] == []
    check = featurizer(tmp_path)
    np.testing.assert_allclose(check.transform(clips), reference, rtol=1e-4, atol=1e-5)
    assert (check.report_.hits, check.report_.misses, check.report_.corrupt) == (len(clips), 0, 0)


@pytest.fixture
def broken_clip(tmp_path):
    path = tmp_path / "broken.webm"
    path.write_bytes(b"\x1a\x45\xdf\xa3" + b"garbage" * 100)
    return str(path)


def test_failing_clip_in_worker_is_named_and_earlier_clips_stay_cached(clips, broken_clip, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(VideoDecodeError, match="broken.webm"):
        featurizer(cache, n_workers=2).transform(clips[:2] + [broken_clip] + clips[2:3])
    assert len(entries(cache)) == 2


def test_warn_keeps_the_rest_of_the_batch(clips, reference, broken_clip, tmp_path):
    model = featurizer(tmp_path / "cache", n_workers=2, batch_size=6)  # 3 clips per batch
    model.sampler.set_params(on_error="warn")
    with pytest.warns(UserWarning, match="broken.webm"):
        features = model.transform([clips[0], broken_clip, clips[1]])
    assert model.report_.failed_paths == [broken_clip]
    assert (features[1] == 0).all()
    np.testing.assert_allclose(features[[0, 2]], reference[:2], rtol=1e-4, atol=1e-5)
    assert len(entries(tmp_path / "cache")) == 2  # the failed clip is not cached: a rerun retries it


def test_shards_report_to_the_caller_which_applies_the_policy_once(clips, broken_clip, tmp_path):
    from joblib import parallel_config

    model = featurizer(tmp_path / "cache")
    model.sampler.set_params(on_error="warn")
    paths = [clips[0], broken_clip, clips[1], clips[2]]
    with parallel_config(backend="threading"), pytest.warns(UserWarning, match="broken.webm") as record:
        files = model.extract(paths, n_shards=2)
    assert len(record) == 1 and files[1] is None and all(files[i] for i in (0, 2, 3))
    (error,) = model.report_.failures
    assert isinstance(error, VideoDecodeError) and error.path == broken_clip and str(error.cause)
    assert (model.report_.hits, model.report_.misses, model.report_.corrupt) == (0, 4, 0)  # both shards
    assert model.sampler.get_params()["on_error"] == "warn" and model.sampler.on_damaged == "warn"
    strict = featurizer(tmp_path / "cache")
    with parallel_config(backend="threading"), pytest.raises(VideoDecodeError, match="broken.webm"):
        strict.extract(paths, n_shards=2)  # raised here, once every shard is done
    assert (strict.report_.hits, strict.report_.misses) == (3, 1)


def test_extract_writes_files_the_loader_reads(clips, reference, tmp_path):
    model = featurizer(tmp_path)
    files = model.extract(clips[:3])
    listed = cache_entries(tmp_path)
    assert files == [listed[os.path.basename(c)] for c in clips[:3]] and all(os.path.exists(f) for f in files)
    loaded = PrecomputedFeatureLoader(kind="npy", root=str(tmp_path), aggregate="stack").fit(clips[:3]).transform(clips[:3])
    np.testing.assert_allclose(loaded, reference[:3], rtol=1e-4, atol=1e-5)


def test_autocast_stays_close_to_float32(clips, reference):
    features = featurizer(None, autocast=True).transform(clips[:2])
    assert features.dtype == np.float32
    np.testing.assert_allclose(features, reference[:2], rtol=0.1, atol=0.05 * np.abs(reference).max())


def test_cache_needs_clips_and_extract_needs_a_cache(tmp_path, clips):
    frames = np.zeros((1, 2, 32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="cache_dir needs clips"):
        CNNFeaturizer("resnet18", weights=None, cache_dir=str(tmp_path)).fit(frames)
    without_sampler = featurizer(tmp_path, sampler=None)  # fine before a FrameSampler in a pipeline
    with pytest.raises(ValueError, match="cache_dir needs clips"):
        without_sampler.transform(frames)
    with pytest.raises(ValueError, match="extract needs clips"):
        without_sampler.extract(clips[:1])
    with pytest.raises(ValueError, match="cache_dir"):
        featurizer(None).extract(clips[:1])
    with pytest.raises(ValueError, match="n_workers"):
        featurizer(None, n_workers=-1)
    with pytest.raises(ValueError, match="n_shards"):
        featurizer(tmp_path).extract(clips[:1], n_shards=0)
    with pytest.raises(ValueError, match="n_frames"):
        featurizer(None, sampler=FrameSampler(n_frames=0))
    with pytest.raises(ValueError, match="autocast"):
        featurizer(None, autocast="yes")


@pytest.mark.gpu
@pytest.mark.parametrize("autocast", [False, True])
def test_cuda_streaming_matches_cpu(clips, reference, autocast):
    features = featurizer(None, device="cuda", autocast=autocast, n_workers=2).transform(clips)
    tolerance = 0.05 * np.abs(reference).max() if autocast else 1e-3
    np.testing.assert_allclose(features, reference, rtol=0.1 if autocast else 1e-3, atol=tolerance)


@pytest.fixture
def damaged_clip(tmp_path):
    """A VP8 clip of 7 s of noise cut after 30% of its bytes: the container still declares 7 s."""
    from skmem.video import write_video

    frames = np.random.default_rng(0).integers(0, 256, (168, 64, 80, 3), dtype=np.uint8)
    whole = tmp_path / "noise.webm"
    write_video(whole, frames, fps=24, codec="vp8", options={"deadline": "realtime", "cpu-used": 8})
    path = tmp_path / "cut.webm"
    path.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.3)])
    return str(path)


def test_damage_found_in_workers_is_reported_here(clips, damaged_clip, tmp_path):
    model = featurizer(tmp_path / "cache", n_workers=2)
    with pytest.warns(UserWarning, match="cut.webm.*damaged clip"):
        features = model.transform([clips[0], damaged_clip])
    assert model.report_.damaged_paths == [damaged_clip] and model.report_.failed_paths == []
    assert np.abs(features[1]).sum() > 0  # its decodable frames are featurized
    strict = featurizer(tmp_path / "strict")
    strict.sampler.set_params(on_damaged="raise")
    with pytest.raises(VideoDecodeError, match="cut.webm"):
        strict.transform([clips[0], damaged_clip])
    assert len(entries(tmp_path / "strict")) == 1  # the clip before it stays cached


def test_several_outputs_come_from_one_decode_and_one_forward_pass(clips, reference, tmp_path, monkeypatch):
    decoded = []
    decode = FrameSampler.decode
    monkeypatch.setattr(FrameSampler, "decode", lambda self, path: decoded.append(path) or decode(self, path))
    model = featurizer(tmp_path, extra_outputs=("logits", "layer3"))
    calls = count_forward_frames(model)
    model.extract(clips[:3])
    assert sorted(decoded) == sorted(clips[:3]) and sum(calls) == 2 * 3
    assert model.outputs_ == ["pooled", "logits", "layer3"]
    assert model.feature_config()["extra_outputs"] == ["logits", "layer3"]
    outputs = model.transform_outputs(clips[:3])  # all from the store
    assert sum(calls) == 2 * 3 and model.report_.hits == 3
    np.testing.assert_allclose(outputs["pooled"], reference[:3], rtol=1e-4, atol=1e-5)
    logits = featurizer(None, layer="logits").transform(clips[:3])
    np.testing.assert_allclose(outputs["logits"], logits, rtol=1e-4, atol=1e-4)
    assert outputs["logits"].shape == (3, 2, 1000) and outputs["layer3"].shape == (3, 2, 196, 256)
    for name in model.outputs_:
        assert len(cache_entries(tmp_path, name)) == 3
    with pytest.raises(FeatureConfigError, match="extra_outputs"):
        featurizer(tmp_path).transform(clips[:1])


def _sharded_in_a_daemonic_process(folder, clips):
    model = featurizer(folder, n_workers=2)
    model.transform(clips)
    return model.report_


def test_a_daemonic_process_decodes_in_threads(clips, reference, tmp_path):
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:  # pool workers are daemonic
        report = pool.apply(_sharded_in_a_daemonic_process, (str(tmp_path), clips[:3]))
    assert report.misses == 3
    np.testing.assert_allclose(featurizer(tmp_path).transform(clips[:3]), reference[:3], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("outputs,message", [(("nolayer",), r"\['nolayer'\] is not a layer of resnet18"),
                                              (("../x",), r"output name '\.\./x'")])
def test_bad_extra_outputs_are_named(outputs, message):
    with pytest.raises(ValueError, match=message):
        featurizer(None, extra_outputs=outputs)
