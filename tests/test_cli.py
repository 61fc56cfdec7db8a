"""End-to-end tests of the ``skmem`` command line on generated clips.

One feature folder is extracted per module (12 clips, resnet18 with random
weights, 2 frames of 48x48) and shared by the tests; each fault class of the
command line has a test that reproduces it for real.
"""

import csv
import json
import os
import shutil
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from _extract_worker import store_files as cache_entries

from _read_only import read_only_run

from skmem.cli import main
from skmem.datasets import make_memorability_videos
from skmem.features.store import CONFIG_FILE

N_CLIPS = 12
pytestmark = pytest.mark.filterwarnings("ignore:.*random weights:UserWarning")
FEATURES = ["--backbone", "resnet18", "--weights", "none", "--frames", "2", "--device", "cpu"]


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """12 generated clips, their ground-truth CSV, and one corrupt clip beside them."""
    folder = tmp_path_factory.mktemp("clips")
    make_memorability_videos(N_CLIPS, folder, n_seconds=1, size=(48, 48), fps=6, random_state=0)
    (folder / "broken.webm").write_bytes(b"not a video")
    return folder


@pytest.fixture(scope="module")
def features(clips, tmp_path_factory):
    """Features extracted by ``skmem extract`` from the ground-truth CSV (every clip decodes)."""
    out = tmp_path_factory.mktemp("features")
    assert main(["extract", str(clips / "ground-truth.csv"), "--out", str(out), *FEATURES]) == 0
    return out


@pytest.fixture(scope="module")
def model(features, clips, tmp_path_factory):
    """A ridge model fitted by ``skmem fit`` on the shared features."""
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    argv = ["fit", "--features", features, "--labels", clips / "ground-truth.csv", "--target", "short", "--model", "ridge", "--out", path]
    assert main([str(a) for a in argv]) == 0
    return path


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def labels_args(features, clips, target="short"):
    return ["--features", features, "--labels", clips / "ground-truth.csv", "--target", target]


# -- extract ------------------------------------------------------------------------


def test_extract_writes_one_entry_per_clip_and_reuses_them(features, clips, capsys):
    entries = cache_entries(features)
    assert sorted(entries) == sorted(f"video{i}.webm" for i in range(1, N_CLIPS + 1))
    assert np.load(entries["video3.webm"]).shape == (2, 512)  # (frames, resnet18 features)
    config = json.loads((features / CONFIG_FILE).read_text())
    assert config["backbone"] == "resnet18" and config["sampler"]["n_frames"] == 2
    stamps = {p: os.stat(p).st_mtime_ns for p in entries.values()}
    status, out, _ = run(capsys, "extract", clips / "ground-truth.csv", "--out", features, *FEATURES)
    assert status == 0 and f"0 clip(s) extracted, {N_CLIPS} reused" in out
    assert {p: os.stat(p).st_mtime_ns for p in cache_entries(features).values()} == stamps


def decode_error(path):
    """Why the sampler cannot read ``path``."""
    from skmem.video import FrameSampler, VideoDecodeError

    with pytest.raises(VideoDecodeError) as info:
        FrameSampler(n_frames=2).sample_clip(path)
    return str(info.value.cause)


def test_extract_exits_1_listing_failed_clips_unless_keep_going(features, clips, capsys, monkeypatch):
    from skmem.video import FrameSampler

    reason = decode_error(clips / "broken.webm")
    decoded = []
    decode = FrameSampler.decode
    monkeypatch.setattr(FrameSampler, "decode", lambda self, path: decoded.append(str(path)) or decode(self, path))
    status, out, err = run(capsys, "extract", clips, "--out", features, *FEATURES, "--jobs", "0")
    assert status == 1
    assert "1 failed" in out and f"{clips / 'broken.webm'}: {reason}" in err
    assert decoded.count(str(clips / "broken.webm")) == 1  # the reason comes from the one decode
    assert "broken.webm" not in cache_entries(features)
    status, out, err = run(capsys, "extract", clips, "--out", features, *FEATURES, "--keep-going")
    assert status == 0 and "1 failed" in out and "broken.webm" in err


def test_extract_refuses_a_folder_of_other_settings(features, clips, capsys):
    status, _, err = run(capsys, "extract", clips / "video1.webm", "--out", features, *FEATURES[:4], "--frames", "3")
    assert status == 1 and str(features) in one_line(err)


def test_extract_checks_inputs_and_output_before_building_the_network(clips, tmp_path, capsys):
    status, _, err = run(capsys, "extract", clips / "video99.webm", "--out", tmp_path / "f", *FEATURES)
    assert status == 1 and "video99.webm: no such file" in one_line(err)
    assert not (tmp_path / "f").exists()
    status, _, err = run(capsys, "extract", clips / "video1.webm", "--out", tmp_path / "f", *FEATURES[:2], "--weights", tmp_path / "w.pth")
    assert status == 1 and "w.pth" in one_line(err)
    assert not (tmp_path / "f").exists()
    (tmp_path / "file").write_text("")
    status, _, err = run(capsys, "extract", clips / "video1.webm", "--out", tmp_path / "file", *FEATURES)
    assert status == 1 and "--out" in one_line(err) and "not a folder" in err


def test_extract_tags_decodes_and_runs_the_network_once_per_clip(features, clips, tmp_path, capsys, monkeypatch):
    from skmem import CNNFeaturizer, FrameSampler

    decoded, forwarded = [], []
    decode, preprocess = FrameSampler.decode, CNNFeaturizer.preprocess
    monkeypatch.setattr(FrameSampler, "decode", lambda self, path: decoded.append(path) or decode(self, path))
    monkeypatch.setattr(CNNFeaturizer, "preprocess", lambda self, b, d: forwarded.append(len(b)) or preprocess(self, b, d))
    out = tmp_path / "tagged"
    status, _, _ = run(capsys, "extract", clips / "ground-truth.csv", "--out", out, *FEATURES, "--jobs", "0", "--tags")
    assert status == 0
    assert sorted(map(str, decoded)) == sorted(str(clips / f"video{i}.webm") for i in range(1, N_CLIPS + 1))
    assert sum(forwarded) == 2 * N_CLIPS  # 2 frames per clip, through the network once
    with open(out / "captions.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted(r["video"] for r in rows) == sorted(f"video{i}.webm" for i in range(1, N_CLIPS + 1))
    assert all(len(r["caption"].split(", ")) == 10 for r in rows)  # the top 10 ImageNet labels
    np.testing.assert_allclose(  # the same features as a plain extraction
        np.load(cache_entries(out)["video3.webm"]), np.load(cache_entries(features)["video3.webm"]), rtol=1e-5
    )
    assert np.load(cache_entries(out, "logits")["video3.webm"]).shape == (2, 1000)
    status, _, _ = run(capsys, "extract", clips / "video1.webm", "--out", out, *FEATURES)  # extended without --tags
    assert status == 0 and len(cache_entries(out, "logits")) == N_CLIPS
    status, _, err = run(capsys, "extract", clips / "video1.webm", "--out", features, *FEATURES, "--tags")
    assert status == 1 and "extract into a new folder with --tags" in one_line(err)
    status, out_text, _ = run(
        capsys, "cv", *labels_args(out, clips), "--captions", out / "captions.csv", "--models", "multimodal", "--folds", "3"
    )
    assert status == 0 and out_text.splitlines()[2].split()[0] == "multimodal"


def test_sharded_extraction_on_a_dask_cluster_gives_the_features_of_one_process(features, clips, tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    inputs = [clips / "video4.webm", clips / "video5.webm"]
    status, _, err = run(capsys, "extract", *inputs, "--out", tmp_path / "x", *FEATURES, "--scheduler", "tcp://127.0.0.1:1")
    assert status == 1 and "--scheduler: give --shards too" in one_line(err)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        argv = ["extract", *inputs, "--out", tmp_path / "dask", *FEATURES, "--jobs", "0", "--shards", "2"]
        status, out, _ = run(capsys, *argv, "--scheduler", cluster.scheduler_address)
    assert status == 0 and "2 clip(s) extracted" in out
    single = cache_entries(features)
    for name, path in cache_entries(tmp_path / "dask").items():
        np.testing.assert_array_equal(np.load(path), np.load(single[name]))


# -- cv ------------------------------------------------------------------------------


def test_cv_prints_a_table_and_writes_csv_and_json(features, clips, tmp_path, capsys):
    status, out, _ = run(
        capsys, "cv", *labels_args(features, clips), "--models", "ridge,svr,lstm", "--folds", "3",
        "--set", "max_epochs=2", "--set", "hidden_size=8", "--set", "valid_size=0.25",
        "--device", "cpu", "--csv", tmp_path / "cv.csv", "--json", tmp_path / "cv.json",
    )
    assert status == 0
    lines = out.splitlines()
    assert lines[1].split() == ["model", "spearman", "pearson", "mse", "pooled", "rho"]
    assert [line.split()[0] for line in lines[2:5]] == ["ridge", "svr", "lstm"]
    table = pd.read_csv(tmp_path / "cv.csv", index_col="model")
    assert list(table.index) == ["ridge", "svr", "lstm"]
    payload = json.loads((tmp_path / "cv.json").read_text())
    assert len(payload["fold_scores"]["ridge"]["spearman"]) == 3
    np.testing.assert_allclose(np.mean(payload["fold_scores"]["svr"]["mse"]), table.loc["svr", "mse_mean"])
    np.testing.assert_allclose(payload["table"]["lstm"]["spearman_pooled"], table.loc["lstm", "spearman_pooled"])


def test_cv_folds_are_shuffled_and_seeded(features, clips, tmp_path, capsys):
    def fold_scores(seed):
        path = tmp_path / f"cv-{seed}.json"
        status, _, _ = run(capsys, "cv", *labels_args(features, clips), "--models", "ridge", "--folds", "3", "--seed", seed, "--json", path)
        assert status == 0
        return json.loads(path.read_text())["fold_scores"]["ridge"]["mse"]

    assert fold_scores(0) == fold_scores(0)
    assert fold_scores(0) != fold_scores(1)


def test_long_term_models_train_with_the_short_term_scores_unless_told_not_to(features, clips, tmp_path, capsys):
    from skmem.models.targets import AuxiliaryTargetRegressor
    from skmem.persistence import load_model

    def cv(*extra):
        path = tmp_path / f"cv{len(extra)}.json"
        status, out, _ = run(capsys, "cv", *labels_args(features, clips, "long"), "--models", "ridge,lstm", "--folds", "3",
                             "--set", "max_epochs=1", "--set", "hidden_size=4", "--device", "cpu", "--json", path, *extra)
        assert status == 0
        return out, json.loads(path.read_text())

    out, helped = cv()
    assert "long-term memorability, with short_term as auxiliary target" in out and helped["auxiliary_target"] == "short_term"
    out, alone = cv("--no-auxiliary-target")
    assert "auxiliary" not in out and alone["auxiliary_target"] is None
    assert helped["fold_scores"]["ridge"]["mse"] != alone["fold_scores"]["ridge"]["mse"]
    # fit saves the wrapped model, which predicts without the short-term scores
    path = tmp_path / "long.skops"
    status, out, _ = run(capsys, "fit", *labels_args(features, clips, "long"), "--model", "ridge", "--out", path)
    assert status == 0 and "long-term, with short_term as auxiliary target" in out
    bundle = load_model(path)
    assert isinstance(bundle.model, AuxiliaryTargetRegressor) and bundle.metadata["auxiliary_target"] == "short_term"
    status, _, _ = run(capsys, "predict", path, features, "--out", tmp_path / "run.csv")
    assert status == 0 and len(pd.read_csv(tmp_path / "run.csv", header=None)) == N_CLIPS
    # short-term models never take one
    status, out, _ = run(capsys, "fit", *labels_args(features, clips), "--model", "ridge", "--out", tmp_path / "s.skops")
    assert status == 0 and "auxiliary" not in out and load_model(tmp_path / "s.skops").metadata["auxiliary_target"] is None


def test_cv_checks_its_outputs_before_training(features, clips, tmp_path, capsys):
    status, out, err = run(capsys, "cv", *labels_args(features, clips), "--csv", tmp_path)
    assert status == 1 and f"--csv {tmp_path} is a folder" in one_line(err) and out == ""


# -- fit and predict ------------------------------------------------------------------


def test_fit_then_predict_writes_one_run_row_per_clip(model, features, clips, tmp_path, capsys):
    folder = tmp_path / "features"
    shutil.copytree(features, folder)
    (folder / ".tmp-host@1@abcdef.npy").write_bytes(b"left by a killed writer")
    run_file = tmp_path / "run.csv"
    status, _, _ = run(capsys, "predict", model, folder, "--out", run_file)
    assert status == 0
    rows = pd.read_csv(run_file, header=None, names=["video", "score"])
    assert sorted(rows["video"]) == sorted(pd.read_csv(clips / "ground-truth.csv")["video"])
    # Straight from the videos: features are extracted with the model's configuration, same scores.
    from_videos = tmp_path / "run-videos.csv"
    status, _, _ = run(capsys, "predict", model, clips / "ground-truth.csv", "--out", from_videos, "--device", "cpu")
    assert status == 0
    again = pd.read_csv(from_videos, header=None, names=["video", "score"]).set_index("video")
    np.testing.assert_allclose(again.loc[rows["video"], "score"].to_numpy(), rows["score"].to_numpy(), atol=1e-5)


def test_predict_from_videos_refuses_to_leave_out_a_broken_clip_unless_keep_going(model, features, clips, tmp_path, capsys):
    run_file = tmp_path / "run.csv"
    status, _, err = run(capsys, "predict", model, clips, "--cache", features, "--out", run_file, "--device", "cpu")
    reason = decode_error(clips / "broken.webm")
    assert status == 1 and f"failed: {clips / 'broken.webm'}: {reason}" in err and "1 clip(s) could not be decoded" in err
    assert not run_file.exists()
    status, _, err = run(capsys, "predict", model, clips, "--cache", features, "--out", run_file, "--device", "cpu", "--keep-going")
    assert status == 0 and "broken.webm" in err
    assert len(pd.read_csv(run_file, header=None)) == N_CLIPS


def test_predict_with_a_read_only_cache_serves_its_entries_and_computes_the_rest(model, features, clips, tmp_path):
    from test_store import read_only_run

    store = tmp_path / "store"
    shutil.copytree(features, store)
    with_stray = tmp_path / "clips"
    with_stray.mkdir()
    for i in (1, 2):
        shutil.copy(clips / f"video{i}.webm", with_stray)
    np.save(with_stray / "video9.npy", np.zeros(3))  # a stray array: a clip folder stays a clip folder
    run_file = tmp_path / "run.csv"
    command = ["-m", "skmem", "predict", str(model), str(with_stray), "--cache", str(store), "--out", str(run_file),
               "--device", "cpu", "--jobs", "0"]
    try:
        result = read_only_run(store, command, tmp_path / "unused", capture_output=True, text=True)
    finally:
        os.chmod(store, 0o755)
    assert result.returncode == 0, result.stderr
    assert "not writable" in result.stderr and "video9.npy" in result.stderr
    rows = pd.read_csv(run_file, header=None, names=["video", "score"])
    assert sorted(rows["video"]) == ["video1.webm", "video2.webm"]
    assert sorted(os.listdir(store)) == sorted(os.listdir(features))


def test_predict_quotes_a_clip_name_with_a_comma(model, features, clips, tmp_path, capsys):
    shutil.copy(clips / "video1.webm", tmp_path / "clip, one.webm")
    folder = tmp_path / "features"
    assert run(capsys, "extract", tmp_path / "clip, one.webm", "--out", folder, *FEATURES)[0] == 0
    for source, out in ((folder, "comma.csv"), (features, "all.csv")):
        assert run(capsys, "predict", model, source, "--out", tmp_path / out)[0] == 0
    with open(tmp_path / "comma.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    scores = pd.read_csv(tmp_path / "all.csv", header=None, index_col=0)[1]
    assert len(rows) == 1 and rows[0][0] == "clip, one.webm"
    assert float(rows[0][1]) == pytest.approx(scores["video1.webm"], abs=1e-5)  # a copy of video1 scores as video1


def test_predict_refuses_features_of_another_configuration(model, clips, tmp_path, capsys):
    other = tmp_path / "three-frames"
    assert run(capsys, "extract", clips / "video1.webm", "--out", other, *FEATURES[:4], "--frames", "3")[0] == 0
    status, _, err = run(capsys, "predict", model, other, "--out", tmp_path / "run.csv")
    line = one_line(err)
    assert status == 1 and str(other) in line and "sampler.n_frames (2 vs 3)" in line
    assert not (tmp_path / "run.csv").exists()


def test_predict_refuses_a_file_that_is_not_a_model(features, clips, tmp_path, capsys):
    joblib.dump({"model": "a string"}, tmp_path / "dict.joblib")
    for path in (clips / "ground-truth.csv", tmp_path / "dict.joblib"):
        status, _, err = run(capsys, "predict", path, features, "--out", tmp_path / "run.csv")
        assert status == 1 and f"{path}: not a model saved by skmem" in one_line(err)


def test_fit_checks_its_output_before_training(features, clips, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    for out, message in ((tmp_path, "is a folder"), (tmp_path / "file" / "m.joblib", "not an existing folder")):
        status, stdout, err = run(capsys, "fit", *labels_args(features, clips), "--model", "ridge", "--out", out)
        assert status == 1 and f"--out {out}" in one_line(err) and message in err and stdout == ""


def test_fit_refuses_a_read_only_output_folder(features, clips, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    argv = ["fit", *labels_args(features, clips), "--model", "ridge", "--out", folder / "m.skops"]
    result = read_only_run(folder, [sys.executable, "-m", "skmem", *map(str, argv)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "cannot write" in one_line(result.stderr), result.stderr
    assert os.listdir(folder) == []


def test_a_missing_label_names_the_file_and_row(features, clips, tmp_path, capsys):
    labels = pd.read_csv(clips / "ground-truth.csv")
    labels.loc[4, "short-term_memorability"] = np.nan
    path = tmp_path / "gt.csv"
    labels.to_csv(path, index=False)
    status, _, err = run(capsys, "fit", "--features", features, "--labels", path, "--target", "short", "--model", "ridge", "--out", tmp_path / "m.joblib")
    assert status == 1 and f"{path}, line 6: short-term_memorability" in one_line(err)


def test_labelled_clips_missing_from_the_feature_folder_are_counted_and_named(features, clips, tmp_path, capsys):
    labels = pd.read_csv(clips / "ground-truth.csv")
    extra = labels.iloc[:2].assign(video=["video98.webm", "video99.webm"])
    path = tmp_path / "gt.csv"
    pd.concat([labels, extra]).to_csv(path, index=False)
    status, _, err = run(capsys, "cv", "--features", features, "--labels", path, "--target", "short")
    assert status == 1 and f"--features: {features}: no features for 2 of 14 clip(s), e.g. video98.webm, video99.webm" in one_line(err)


def test_captions_must_cover_every_labelled_clip(features, clips, tmp_path, capsys):
    path = tmp_path / "captions.txt"
    path.write_text("".join(f"video{i}.webm\tclip-number-{i}\n" for i in range(2, N_CLIPS + 1)))
    status, _, err = run(capsys, "cv", *labels_args(features, clips), "--captions", path, "--models", "multimodal")
    assert status == 1 and f"--captions: {path}: no caption for 1 of 12 clip(s), e.g. video1.webm" in one_line(err)
    status, _, err = run(capsys, "cv", *labels_args(features, clips), "--captions", path, "--models", "ridge,multimodal")
    assert status == 1 and "--captions: read by the multimodal model only, not by ridge" in one_line(err)
    status, _, err = run(capsys, "fit", *labels_args(features, clips), "--model", "multimodal", "--out", tmp_path / "m.joblib")
    assert status == 1 and "needs --captions" in one_line(err)


def test_the_multimodal_model_learns_from_captions_in_cv_fit_and_predict(model, features, clips, tmp_path, capsys):
    labels = pd.read_csv(clips / "ground-truth.csv")
    words = np.where(labels["short-term_memorability"] > labels["short-term_memorability"].median(), "bright-big-disc", "dull-scene")
    captions = tmp_path / "captions.csv"
    pd.DataFrame({"video": labels["video"], "caption": words}).to_csv(captions, index=False)
    status, out, _ = run(capsys, "cv", *labels_args(features, clips), "--captions", captions, "--folds", "3", "--models", "multimodal")
    assert status == 0 and out.splitlines()[2].split()[0] == "multimodal"
    with_captions = tmp_path / "captions.joblib"
    assert run(capsys, "fit", *labels_args(features, clips), "--captions", captions, "--model", "multimodal", "--out", with_captions)[0] == 0
    assert run(capsys, "predict", with_captions, features, "--captions", captions, "--out", tmp_path / "run.csv")[0] == 0
    assert len(pd.read_csv(tmp_path / "run.csv", header=None)) == N_CLIPS
    status, _, err = run(capsys, "predict", with_captions, features, "--out", tmp_path / "run.csv")
    assert status == 1 and "needs captions" in one_line(err)
    status, _, err = run(capsys, "predict", model, features, "--captions", captions, "--out", tmp_path / "run.csv")
    assert status == 1 and "without captions" in one_line(err)


# -- tune ------------------------------------------------------------------------------


def test_tune_prints_best_params_plots_and_resumes(features, clips, tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    common = ["tune", *labels_args(features, clips), "--model", "ridge", "--folds", "3", "--storage", storage, "--plot", tmp_path / "history.png"]
    status, out, _ = run(capsys, *common, "--trials", "3")
    assert status == 0 and "3 trials" in out and "ridge__alpha = " in out
    assert (tmp_path / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    status, out, _ = run(capsys, *common, "--trials", "5", "--out", tmp_path / "best.joblib")
    assert status == 0 and "5 trials" in out
    status, _, _ = run(capsys, "predict", tmp_path / "best.joblib", features, "--out", tmp_path / "run.csv")
    assert status == 0


def test_tune_checks_the_plot_path_before_any_trial(features, clips, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    plot = tmp_path / "file" / "history.png"
    status, out, err = run(
        capsys, "tune", *labels_args(features, clips), "--model", "ridge", "--trials", "2", "--folds", "3",
        "--storage", tmp_path / "study.log", "--plot", plot, "--out", tmp_path / "best.joblib",
    )
    assert status == 1 and f"--plot {plot}" in one_line(err) and out == ""
    assert not (tmp_path / "study.log").exists() and not (tmp_path / "best.joblib").exists()


# -- usage -------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["demo", "extract", "cv", "tune", "fit", "predict"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert f"usage: skmem {command}" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, option",
    [
        (["cv", "--features", "f", "--labels", "l", "--target", "short", "--models", "ridge,forest"], "--models"),
        (["fit", "--features", "f", "--labels", "l", "--target", "medium", "--model", "ridge", "--out", "m"], "--target"),
        (["cv", "--features", "f", "--labels", "l", "--target", "short", "--folds", "1"], "--folds"),
        (["cv", "--features", "f", "--labels", "l", "--target", "short", "--jobs", "0"], "--jobs"),
        (["tune", "--features", "f", "--labels", "l", "--target", "short", "--model", "ridge", "--jobs", "0"], "--jobs"),
        (["cv", "--features", "f", "--labels", "l", "--target", "short", "--device", "gpu"], "--device"),
        (["extract", "v.webm", "--out", "f", "--device", "cuda:7"], "--device"),
    ],
)
def test_usage_errors_exit_with_2_and_name_the_option(argv, option, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert f"argument {option}" in capsys.readouterr().err


def test_runtime_errors_exit_with_1_and_name_the_file(features, clips, tmp_path, capsys):
    status, _, err = run(capsys, "cv", "--features", features, "--labels", tmp_path / "nope.csv", "--target", "short")
    assert status == 1 and "nope.csv" in one_line(err)
    empty = tmp_path / "empty"
    empty.mkdir()
    status, _, err = run(capsys, "cv", "--features", empty, "--labels", clips / "ground-truth.csv", "--target", "short")
    assert status == 1 and "video1" in one_line(err)
    status, _, err = run(capsys, "cv", *labels_args(features, clips), "--captions", tmp_path / "nope.txt", "--models", "multimodal")
    assert status == 1 and "--captions" in one_line(err)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--set", "hidden_sise=4"], "--set hidden_sise: not a parameter of ridge"),
        (["--set", "alpha=-1"], "--set: The 'alpha' parameter of Ridge must be"),
        (["--folds", "7"], "--folds 7: 12 labelled clip(s) leave a fold of fewer than 2 clips; use --folds 6 or fewer"),
    ],
)
def test_invalid_option_values_found_before_any_work_exit_with_2(features, clips, capsys, extra, message):
    status, out, err = run(capsys, "cv", *labels_args(features, clips), "--models", "ridge", *extra)
    assert status == 2 and message in one_line(err) and out == ""


@pytest.mark.parametrize(
    "argv, option",
    [
        (["tune", "--features", "f", "--labels", "l", "--target", "short", "--model", "ridge", "--timeout", "-1"], "--timeout"),
        (["tune", "--features", "f", "--labels", "l", "--target", "short", "--model", "ridge", "--timeout", "nan"], "--timeout"),
        (["cv", "--features", "f", "--labels", "l", "--target", "short", "--seed", "-1"], "--seed"),
        (["fit", "--features", "f", "--labels", "l", "--target", "short", "--model", "ridge", "--out", "m", "--seed", "4294967296"], "--seed"),
    ],
)
def test_out_of_range_numbers_are_usage_errors(argv, option, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2 and f"argument {option}" in capsys.readouterr().err


def test_tune_refuses_a_plot_format_and_a_fold_of_one_clip_with_2(features, clips, tmp_path, capsys):
    common = ["tune", *labels_args(features, clips), "--model", "ridge", "--trials", "1", "--storage", tmp_path / "s.log"]
    status, _, err = run(capsys, *common, "--plot", tmp_path / "history.xyz")
    assert status == 2 and "--plot" in one_line(err)
    status, _, err = run(capsys, *common, "--plot", tmp_path / "h.png", "--folds", "8")
    assert status == 2 and "--folds 8" in one_line(err)
    assert not (tmp_path / "s.log").exists()


# -- outputs are never inputs --------------------------------------------------------------


def _snapshot(*folders):
    return {p: p.read_bytes() for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def workspace(model, features, clips, tmp_path):
    """Copies of the labels, features and model, and a link to the labels."""
    shutil.copy(clips / "ground-truth.csv", tmp_path / "ground-truth.csv")
    shutil.copytree(features, tmp_path / "features")
    shutil.copy(model, tmp_path / "m.joblib")
    (tmp_path / "link.csv").symlink_to(tmp_path / "ground-truth.csv")
    (tmp_path / "linked-features").symlink_to(tmp_path / "features")
    return tmp_path


def _data(w):
    return ["--features", w / "features", "--labels", w / "ground-truth.csv", "--target", "short"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (lambda w, c: ["predict", w / "m.joblib", w / "features", "--out", w / "m.joblib"], "--out {w}/m.joblib is the input MODEL"),
        (lambda w, c: ["cv", *_data(w), "--csv", w / "ground-truth.csv"], "--csv {w}/ground-truth.csv is the input --labels"),
        (lambda w, c: ["cv", *_data(w), "--csv", w / "link.csv"], "--csv {w}/link.csv is the input --labels"),
        (lambda w, c: ["cv", *_data(w), "--csv", w / "r.csv", "--json", w / "r.csv"], "--csv {w}/r.csv is the output --json"),
        (lambda w, c: ["fit", *_data(w), "--model", "ridge", "--out", w / "ground-truth.csv"], "--out {w}/ground-truth.csv is the input --labels"),
        (lambda w, c: ["fit", *_data(w), "--model", "ridge", "--out", w / "linked-features" / "video1.webm.npy"], "lies in the input --features"),
        (lambda w, c: ["tune", *_data(w), "--model", "ridge", "--plot", w / "link.csv"], "--plot {w}/link.csv is the input --labels"),
        (lambda w, c: ["tune", *_data(w), "--model", "ridge", "--storage", w / "ground-truth.csv"], "--storage {w}/ground-truth.csv is the input --labels"),
        (lambda w, c: ["tune", *_data(w), "--model", "ridge", "--storage", w / "s.db", "--out", w / "s.db"], "--out {w}/s.db is the output --storage"),
        (lambda w, c: ["predict", w / "m.joblib", c, "--out", c / "video1.webm"], "--out {c}/video1.webm is the input clip"),
        (lambda w, c: ["predict", w / "m.joblib", w / "features", "--out", w / "features" / "x.npy"], "lies in the input feature folder"),
        (lambda w, c: ["predict", w / "m.joblib", c, "--cache", c, "--out", w / "run.csv"], "--cache {c} holds the input clip"),
        (lambda w, c: ["extract", c, "--out", c, "--backbone", "resnet18"], "--out {c} holds the input clip"),
    ],
)
def test_an_output_that_is_an_input_is_refused_with_2_naming_both(workspace, clips, capsys, argv, message):
    before = _snapshot(workspace, clips)
    status, out, err = run(capsys, *argv(workspace, clips))
    assert status == 2 and message.format(w=workspace, c=clips) in one_line(err), err
    assert _snapshot(workspace, clips) == before


def test_captions_join_labels_by_canonical_id(features, clips, tmp_path, capsys):
    labels = pd.read_csv(clips / "ground-truth.csv")
    stems = [v.removesuffix(".webm") for v in labels["video"]]
    captions = tmp_path / "captions.csv"
    pd.DataFrame({"video": stems, "caption": ["a clip"] * len(stems)}).to_csv(captions, index=False)
    status, _, _ = run(capsys, "cv", *labels_args(features, clips), "--captions", captions, "--folds", "3", "--models", "multimodal")
    assert status == 0
    pd.DataFrame({"video": [stems[0], labels["video"][0]], "caption": ["a", "b"]}).to_csv(captions, index=False)
    status, _, err = run(capsys, "cv", *labels_args(features, clips), "--captions", captions, "--models", "multimodal")
    assert status == 1 and f"line 3: video '{labels['video'][0]}' is the clip '{stems[0]}' of line 2" in one_line(err)


def test_a_pickled_model_is_loaded_only_with_trusted(model, features, tmp_path, capsys):
    from skmem.persistence import load_model

    joblib.dump(load_model(model), tmp_path / "old.joblib")
    status, _, err = run(capsys, "predict", tmp_path / "old.joblib", features, "--out", tmp_path / "run.csv")
    assert status == 1 and "--trusted" in one_line(err) and not (tmp_path / "run.csv").exists()
    status, _, _ = run(capsys, "predict", tmp_path / "old.joblib", features, "--out", tmp_path / "run.csv", "--trusted")
    assert status == 0 and len(pd.read_csv(tmp_path / "run.csv", header=None)) == N_CLIPS


def test_module_entry_point_reports_errors_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "skmem", "fit", "--features", str(tmp_path), "--labels", str(tmp_path / "gt.csv"),
         "--target", "short", "--model", "ridge", "--out", str(tmp_path / "m.joblib")],
        capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"}, timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"skmem fit: error: --labels: {tmp_path / 'gt.csv'}: no such file"
