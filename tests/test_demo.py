"""``skmem demo`` end to end on a few generated clips."""

import importlib.util

import numpy as np
from _extract_worker import store_files as cache_entries
from matplotlib.image import imread

from skmem.demo import run_demo


def test_demo_prints_a_table_plots_and_reuses_its_clips_and_features(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "resmem" else real(name, *a))
    lines = []
    results = run_demo(n_clips=10, out=tmp_path, print_fn=lines.append)
    text = "\n".join(lines)
    assert set(results) == {"Ridge", "SVR"}
    assert "RANDOM weights" in text and "rho pooled" in text
    for name, rho in results.items():
        assert f"{name:<8}{rho:>12.3f}" in text
    image = imread(tmp_path / "predicted_vs_true.png")
    assert image.shape[:2] == (450, 450) and np.ptp(image[..., :3]) > 0.5  # the figure, with marks drawn on it
    entries = cache_entries(tmp_path / "features-resnet18")
    assert sorted(entries) == sorted(f"video{i}.webm" for i in range(1, 11))
    lines.clear()
    again = run_demo(n_clips=10, out=tmp_path, print_fn=lines.append)
    assert again == results
    assert any("using the 10 generated clips" in line for line in lines)
    assert cache_entries(tmp_path / "features-resnet18") == entries
