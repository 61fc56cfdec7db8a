"""The feature store: provenance, clip identity, real kills, concurrent writers, read-only folders, old folders."""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from _extract_worker import WORKER, featurizer, reference_features
from _extract_worker import store_files as cache_entries

from skmem import PrecomputedFeatureLoader
from skmem.features.store import CONFIG_FILE, FORMAT_VERSION, FeatureConfigError, FeatureStore, read_config

@pytest.fixture(scope="module")
def clips(generated_clips):
    return list(generated_clips[0][:4])


@pytest.fixture(scope="module")
def reference(clips):
    return reference_features(clips)


def temporaries(folder):
    return os.listdir(os.path.join(folder, "tmp"))


def test_config_is_recorded_and_read(clips, tmp_path):
    model = featurizer(tmp_path)
    model.transform(clips[:1])
    config = read_config(tmp_path)
    assert config == {"format_version": FORMAT_VERSION, **json.loads(json.dumps(model.feature_config()))}
    assert FORMAT_VERSION == 3 and config["extra_outputs"] == []
    assert config["precision"] == "float32" and config["sampler"]["n_frames"] == 2 and config["layer"] is None
    assert read_config(tmp_path / "elsewhere") is None
    (tmp_path / CONFIG_FILE).write_text("{not json")
    with pytest.raises(ValueError, match=CONFIG_FILE):
        read_config(tmp_path)


def test_kill_inside_the_save_window_then_read_and_resume(clips, reference, tmp_path):
    run = subprocess.run(
        [sys.executable, WORKER, str(tmp_path), *clips],
        env={**os.environ, "SKMEM_TEST_KILL_AT_SAVE": "3"},
        stderr=subprocess.DEVNULL,
        timeout=300,
    )
    assert run.returncode == -9
    assert len(temporaries(tmp_path)) == 1  # the third entry, complete but never renamed
    assert sorted(cache_entries(tmp_path)) == sorted(os.path.basename(c) for c in clips[:2])
    resumed = featurizer(tmp_path)
    features = resumed.transform(clips)
    assert (resumed.report_.hits, resumed.report_.misses, resumed.report_.corrupt) == (2, 2, 0)
    np.testing.assert_allclose(features, reference, rtol=1e-4, atol=1e-5)
    assert temporaries(tmp_path) == []  # its writer is dead: removed


def test_only_temporary_files_of_dead_writers_are_removed(tmp_path):
    host = socket.gethostname()
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    names = {
        "live": f".tmp-{host}@{os.getpid()}@aa.npy",
        "dead": f".tmp-{host}@{dead_pid}@bb.npy",
        "other_host": f".tmp-elsewhere.example@{dead_pid}@cc.npy",
        "old_other_host": f".tmp-elsewhere.example@{dead_pid}@dd.npy",
    }
    (tmp_path / "tmp").mkdir()
    for name in names.values():
        (tmp_path / "tmp" / name).write_bytes(b"partial")
    old = time.time() - 3 * 24 * 3600
    os.utime(tmp_path / "tmp" / names["old_other_host"], (old, old))
    FeatureStore(tmp_path, {"backbone": "x"})
    assert sorted(temporaries(tmp_path)) == sorted([names["live"], names["other_host"]])
    assert cache_entries(tmp_path) == {}


def test_same_names_in_two_folders_are_two_clips_and_ids_are_refused_naming_both(clips, reference, tmp_path):
    first, second = tmp_path / "clips", tmp_path / "new-clips"
    first.mkdir(), second.mkdir()
    shutil.copy(clips[0], first / "video1.webm")
    shutil.copy(clips[1], second / "video1.webm")
    store = tmp_path / "store"
    featurizer(store).transform([str(first / "video1.webm")])
    rerun = featurizer(store)
    features = rerun.transform([str(second / "video1.webm"), str(first / "video1.webm")])
    assert (rerun.report_.hits, rerun.report_.misses, rerun.report_.corrupt) == (1, 1, 0)  # the first folder's entry is intact
    np.testing.assert_allclose(features, reference[[1, 0]], rtol=1e-4, atol=1e-5)
    loader = PrecomputedFeatureLoader(kind="npy", root=str(store), aggregate="stack")
    by_path = loader.fit_transform([str(first / "video1.webm"), str(second / "video1.webm")])
    np.testing.assert_allclose(by_path, reference[[0, 1]], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"names 2 clips .*clips/video1.webm.*new-clips/video1.webm"):
        loader.fit(["video1"])


def test_a_symlinked_folder_and_its_target_are_one_clip(clips, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    shutil.copy(clips[0], real / "a.webm")
    (tmp_path / "link").symlink_to(real)
    featurizer(tmp_path / "store").transform([str(real / "a.webm")])
    rerun = featurizer(tmp_path / "store")
    rerun.transform([str(tmp_path / "link" / "a.webm")])
    assert rerun.report_.hits == 1 and len(cache_entries(tmp_path / "store")) == 1


@pytest.mark.parametrize("name", ["v" * 235 + ".webm", ".tmp-host@1@x.webm", "vidéo, 1 ☃.webm", "a__0123456789abcdef.npy"])
def test_any_clip_name_works(clips, reference, tmp_path, name):
    clip = tmp_path / name
    shutil.copy(clips[0], clip)
    np.testing.assert_allclose(featurizer(tmp_path / "store").transform([str(clip)]), reference[:1], rtol=1e-4, atol=1e-5)
    rerun = featurizer(tmp_path / "store")
    rerun.transform([str(clip)])
    assert rerun.report_.hits == 1 and list(cache_entries(tmp_path / "store")) == [name]


def same_size_copies(source_a, source_b, target):
    """Write ``source_a`` at ``target`` and return ``source_b``'s bytes padded to the same size."""
    a, b = open(source_a, "rb").read(), open(source_b, "rb").read()
    size = max(len(a), len(b))
    with open(target, "wb") as fh:
        fh.write(a + b"\0" * (size - len(a)))
    return b + b"\0" * (size - len(b))


def test_same_size_same_mtime_rewrite_is_recomputed(clips, reference, tmp_path):
    clip = str(tmp_path / "clip.webm")
    replacement = same_size_copies(clips[0], clips[1], clip)
    cache = tmp_path / "cache"
    np.testing.assert_allclose(featurizer(cache).transform([clip])[0], reference[0], rtol=1e-4, atol=1e-5)
    stat = os.stat(clip)
    with open(clip, "r+b") as fh:  # in place: same inode, same size
        fh.write(replacement)
    os.utime(clip, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (os.stat(clip).st_size, os.stat(clip).st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    rerun = featurizer(cache)
    np.testing.assert_allclose(rerun.transform([clip])[0], reference[1], rtol=1e-4, atol=1e-5)
    assert rerun.report_.misses == 1 and list(cache_entries(cache)) == ["clip.webm"]
    assert sum(len(files) for _, _, files in os.walk(cache / "entries")) == 1  # the old entry's file is gone


def test_content_key_survives_moving_the_dataset(clips, reference, tmp_path):
    first, moved = tmp_path / "first", tmp_path / "moved"
    first.mkdir()
    for clip in clips[:2]:
        shutil.copy(clip, first)
    featurizer(tmp_path / "cache", cache_key="content").transform([str(first / os.path.basename(c)) for c in clips[:2]])
    first.rename(moved)
    rerun = featurizer(tmp_path / "cache", cache_key="content")
    features = rerun.transform([str(moved / os.path.basename(c)) for c in clips[:2]])
    assert rerun.report_.hits == 2
    np.testing.assert_allclose(features, reference[:2], rtol=1e-4, atol=1e-5)


def test_a_clip_that_now_fails_never_falls_back_to_its_old_entry(clips, tmp_path):
    clip = tmp_path / "clip.webm"
    shutil.copy(clips[0], clip)
    featurizer(tmp_path / "cache").transform([str(clip)])
    clip.write_bytes(clip.read_bytes()[:40])  # truncated: no frame decodes
    model = featurizer(tmp_path / "cache")
    model.sampler.set_params(on_error="warn")
    with pytest.warns(UserWarning, match="clip.webm"):
        features = model.transform([str(clip)])
    assert model.report_.failed_paths == [str(clip)] and (features == 0).all()
    assert cache_entries(tmp_path / "cache") == {}


def test_files_follow_the_umask(clips, tmp_path):
    previous = os.umask(0o027)
    try:
        featurizer(tmp_path / "cache").transform(clips[:1])
    finally:
        os.umask(previous)
    files = [os.path.join(d, f) for d, _, names in os.walk(tmp_path / "cache") for f in names]
    modes = {path: os.stat(path).st_mode & 0o777 for path in files}
    assert len(modes) == 3 and set(modes.values()) == {0o640}  # configuration, index, one entry


def read_only_run(cache, arguments, report, **options):
    """Run Python with ``arguments`` on ``cache`` mounted read-only (root: a private read-only bind mount)."""
    env = {**os.environ, "SKMEM_TEST_REPORT": str(report)}
    command = [sys.executable, *arguments]
    if os.geteuid() != 0:
        os.chmod(cache, 0o555)
        return subprocess.run(command, env=env, timeout=300, **options)
    if shutil.which("unshare") is None:
        pytest.skip("running as root, where only a read-only mount makes a folder unwritable, and unshare is missing")
    probe = subprocess.run(["unshare", "-m", "mount", "--bind", "-o", "ro", str(cache), str(cache)], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"running as root and cannot mount a read-only folder here: {probe.stderr.decode().strip()}")
    script = 'mount --bind -o ro "$1" "$1" && shift && exec "$@"'
    return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(cache), *command], env=env, timeout=300, **options)


def test_read_only_cache_with_a_corrupt_entry_computes_in_memory_with_one_warning(clips, reference, tmp_path):
    cache = tmp_path / "cache"
    featurizer(cache).transform(clips[:3])
    victim = cache_entries(cache)[os.path.basename(clips[1])]
    with open(victim, "r+b") as fh:
        fh.truncate(100)
    report = tmp_path / "report.npy"
    try:
        assert read_only_run(cache, [WORKER, str(cache), *clips], report).returncode == 0
    finally:
        os.chmod(cache, 0o755)
    np.testing.assert_allclose(np.load(report), reference, rtol=1e-4, atol=1e-5)
    messages = json.loads(open(str(report) + ".json").read())
    assert sum("not writable" in m for m in messages) == 1, messages
    assert sum("corrupt cache entry" in m for m in messages) == 1, messages
    assert os.path.getsize(victim) == 100 and len(cache_entries(cache)) == 3  # nothing changed in the folder


def test_a_folder_of_another_configuration_or_of_the_old_format_is_refused(tmp_path):
    FeatureStore(tmp_path / "a", {"backbone": "resnet18", "layer": None})
    FeatureStore(tmp_path / "a", {"layer": None, "backbone": "resnet18"})  # same configuration
    with pytest.raises(FeatureConfigError, match=r"a: holds features made with .*resnet18.*, not .*resnet50"):
        FeatureStore(tmp_path / "a", {"backbone": "resnet50", "layer": None})
    for name in ("old", "older"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "video1.webm__0123456789abcdef.npy").write_bytes(b"")
    (tmp_path / "old" / "skmem-cache.json").write_text('{"format_version": 2}')
    for name in ("old", "older"):
        for attempt in (
            lambda: FeatureStore(tmp_path / name, {"backbone": "resnet18"}),
            lambda: read_config(tmp_path / name),
            lambda: PrecomputedFeatureLoader(kind="npy", root=str(tmp_path / name)).fit(["video1"]),
        ):
            with pytest.raises(FeatureConfigError, match=r"format 2.*skmem extract CLIPS --out NEW_FOLDER"):
                attempt()
    assert sorted(os.listdir(tmp_path / "old")) == ["skmem-cache.json", "video1.webm__0123456789abcdef.npy"]


def test_lookups_go_through_the_index_never_a_folder_listing(tmp_path, monkeypatch):
    clips = []
    for i in range(30):
        clips.append(tmp_path / "clips" / f"clip{i}.webm")
        clips[-1].parent.mkdir(exist_ok=True)
        clips[-1].write_bytes(b"%d" % i)
    listings = []
    scandir, listdir = os.scandir, os.listdir
    monkeypatch.setattr(os, "scandir", lambda *a: listings.append(a) or scandir(*a))
    monkeypatch.setattr(os, "listdir", lambda *a: listings.append(a) or listdir(*a))
    store = FeatureStore(tmp_path / "store", {"backbone": "x"})
    opened = len(listings)  # the old-format check of a new folder, the leftover temporaries
    for i, clip in enumerate(clips):
        assert store.load(clip, {"pooled": (2,)}) is None
        store.save(clip, {"pooled": np.full(2, i, np.float32)})
    assert [store.load(clip, {"pooled": (2,)})["pooled"][0] for clip in clips] == list(range(30))
    assert len(listings) == opened <= 2


def test_the_documented_layout_is_readable_with_sqlite_and_numpy(tmp_path):
    import sqlite3

    clip = tmp_path / "0007.webm"
    clip.write_bytes(b"a clip")
    with FeatureStore(tmp_path / "store", {"backbone": "x"}) as store:
        store.save(clip, {"pooled": np.ones((2, 3), np.float32), "logits": np.zeros((2, 5), np.float32)})
    index = sqlite3.connect(f"file:{tmp_path / 'store' / 'index.sqlite'}?mode=ro", uri=True)
    ((clip_id, path, digest, outputs),) = index.execute("SELECT clip_id, path, digest, outputs FROM entries")
    assert (clip_id, path, json.loads(outputs)) == ("video7", os.path.realpath(clip), ["pooled", "logits"])
    shapes = {name: np.load(tmp_path / "store" / "entries" / digest[:2] / f"{digest}.{name}.npy").shape
              for name in json.loads(outputs)}
    assert shapes == {"pooled": (2, 3), "logits": (2, 5)}
    assert json.loads((tmp_path / "store" / CONFIG_FILE).read_text()) == {"backbone": "x", "format_version": FORMAT_VERSION}
