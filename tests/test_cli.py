"""End-to-end tests of the ``skmem`` command line on generated clips."""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skmem.cli import main
from skmem.datasets import make_memorability_videos

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
    """Features extracted by ``skmem extract`` from the clip folder."""
    out = tmp_path_factory.mktemp("features")
    assert main(["extract", str(clips), "--out", str(out), *FEATURES]) == 0
    return out


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_extract_writes_one_array_per_clip_and_reports_failures(features, clips, capsys):
    arrays = sorted(features.glob("*.npy"))
    assert sorted(a.stem.split("__")[0] for a in arrays) == sorted(f"video{i}" for i in range(1, N_CLIPS + 1))
    assert np.load(arrays[0]).shape == (2, 512)  # (frames, resnet18 features)
    manifest = json.loads((features / "skmem-features.json").read_text())
    assert manifest["backbone"] == "resnet18" and manifest["frames"] == 2
    assert manifest["clips"]["video3"] == "video3.webm"
    # A second run reuses the cache: nothing is recomputed or rewritten.
    stamps = {a.name: a.stat().st_mtime_ns for a in arrays}
    status, out, err = run(capsys, "extract", clips / "ground-truth.csv", "--out", features, *FEATURES)
    assert status == 0
    assert f"0 clip(s) extracted, {N_CLIPS} reused" in out
    assert {a.name: a.stat().st_mtime_ns for a in features.glob("*.npy")} == stamps
    # The corrupt clip was named in the first run's summary and left out of the cache.
    status, out, err = run(capsys, "extract", clips, "--out", features, *FEATURES)
    assert status == 0 and "1 failed" in out and "broken.webm" in err
    assert not list(features.glob("broken*"))


def test_extract_refuses_a_cache_of_other_settings(features, clips, capsys):
    status, _, err = run(capsys, "extract", clips / "video1.webm", "--out", features, "--backbone", "resnet18", "--weights", "none", "--frames", "3")
    assert status == 1
    assert str(features) in err and "another --out" in err


def test_cv_prints_a_table_and_writes_csv_and_json(features, clips, tmp_path, capsys):
    status, out, _ = run(
        capsys, "cv", "--features", features, "--labels", clips / "ground-truth.csv", "--target", "short",
        "--models", "ridge,svr,lstm", "--folds", "3", "--set", "max_epochs=2", "--set", "hidden_size=8", "--set", "valid_size=0.25",
        "--device", "cpu", "--csv", tmp_path / "cv.csv", "--json", tmp_path / "cv.json",
    )
    assert status == 0
    lines = out.splitlines()
    assert lines[1].split() == ["model", "spearman", "pearson", "mse"]
    assert [line.split()[0] for line in lines[2:5]] == ["ridge", "svr", "lstm"]
    assert all(line.count("±") == 3 for line in lines[2:5])
    table = pd.read_csv(tmp_path / "cv.csv", index_col="model")
    assert list(table.index) == ["ridge", "svr", "lstm"]
    assert set(table.columns) >= {"spearman_mean", "spearman_std", "pearson_mean", "mse_mean"}
    assert table["mse_mean"].gt(0).all() and table["spearman_mean"].between(-1, 1).all()
    payload = json.loads((tmp_path / "cv.json").read_text())
    assert len(payload["fold_scores"]["ridge"]["spearman"]) == 3
    np.testing.assert_allclose(np.mean(payload["fold_scores"]["svr"]["mse"]), table.loc["svr", "mse_mean"])


def test_fit_then_predict_writes_one_run_row_per_clip(features, clips, tmp_path, capsys):
    labels = pd.read_csv(clips / "ground-truth.csv")
    model = tmp_path / "model.joblib"
    status, out, _ = run(capsys, "fit", "--features", features, "--labels", clips / "ground-truth.csv", "--target", "long", "--model", "ridge", "--out", model)
    assert status == 0 and model.is_file()
    run_file = tmp_path / "run.csv"
    status, out, _ = run(capsys, "predict", model, features, "--out", run_file)
    assert status == 0
    rows = pd.read_csv(run_file, header=None, names=["video", "score"])
    assert len(rows) == N_CLIPS
    assert sorted(rows["video"]) == sorted(labels["video"])
    # Straight from the videos: features are extracted with the model's settings, same scores.
    from_videos = tmp_path / "run-videos.csv"
    status, out, _ = run(capsys, "predict", model, clips / "ground-truth.csv", "--out", from_videos, "--device", "cpu")
    assert status == 0
    again = pd.read_csv(from_videos, header=None, names=["video", "score"]).set_index("video")
    np.testing.assert_allclose(again.loc[rows["video"], "score"].to_numpy(), rows["score"].to_numpy(), atol=1e-5)


def test_tune_prints_best_params_plots_and_resumes(features, clips, tmp_path, capsys):
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    common = ["tune", "--features", features, "--labels", clips / "ground-truth.csv", "--target", "short",
              "--model", "ridge", "--folds", "3", "--storage", storage, "--plot", tmp_path / "history.png"]
    status, out, _ = run(capsys, *common, "--trials", "3")
    assert status == 0
    assert "3 trials" in out and "ridge__alpha = " in out
    assert (tmp_path / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    status, out, _ = run(capsys, *common, "--trials", "5", "--out", tmp_path / "best.joblib")
    assert status == 0 and "5 trials" in out and (tmp_path / "best.joblib").is_file()


@pytest.mark.parametrize("command", ["demo", "extract", "cv", "tune", "fit", "predict"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert f"usage: skmem {command}" in capsys.readouterr().out


def test_usage_errors_exit_with_2_and_name_the_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["cv", "--features", "f", "--labels", "l", "--target", "short", "--models", "ridge,forest"])
    assert info.value.code == 2
    assert "--models" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["fit", "--features", "f", "--labels", "l", "--target", "medium", "--model", "ridge", "--out", "m"])
    assert info.value.code == 2 and "--target" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["cv", "--features", "f", "--labels", "l", "--target", "short", "--folds", "1"])
    assert "--folds" in capsys.readouterr().err


def test_runtime_errors_exit_with_1_and_name_the_file(features, clips, tmp_path, capsys):
    status, _, err = run(capsys, "cv", "--features", features, "--labels", tmp_path / "nope.csv", "--target", "short")
    assert status == 1 and "nope.csv" in err and len(err.strip().splitlines()) == 1
    status, _, err = run(capsys, "cv", "--features", features, "--labels", clips / "ground-truth.csv", "--target", "short", "--set", "hidden_sise=4")
    assert status == 1 and "--set hidden_sise" in err
    status, _, err = run(capsys, "predict", clips / "ground-truth.csv", features, "--out", tmp_path / "r.csv")
    assert status == 1 and "ground-truth.csv" in err and "not a model" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    status, _, err = run(capsys, "cv", "--features", empty, "--labels", clips / "ground-truth.csv", "--target", "short")
    assert status == 1 and "video1" in err


def test_module_entry_point_reports_errors_without_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "skmem", "fit", "--features", str(tmp_path), "--labels", str(tmp_path / "gt.csv"),
         "--target", "short", "--model", "ridge", "--out", str(tmp_path / "m.joblib")],
        capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"}, timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == f"skmem fit: error: --labels: {tmp_path / 'gt.csv'}: no such file"
