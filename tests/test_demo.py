import importlib.util
import os

from skmem.demo import run_demo


def test_demo_prints_a_table_and_reuses_its_clips_and_features(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "resmem" else real(name, *a))
    lines = []
    results = run_demo(n_clips=10, out=tmp_path, print_fn=lines.append)
    text = "\n".join(lines)
    assert set(results) == {"Ridge", "SVR"} and all(-1 <= r <= 1 for r in results.values())
    assert "RANDOM weights" in text and "rho mean" in text
    assert os.path.getsize(tmp_path / "predicted_vs_true.png") > 5_000
    features = tmp_path / "features-resnet18"
    assert len(list(features.glob("video*__*.npy"))) == 10
    lines.clear()
    again = run_demo(n_clips=10, out=tmp_path, print_fn=lines.append)
    assert again == results
    assert any("using the 10 generated clips" in line for line in lines)
