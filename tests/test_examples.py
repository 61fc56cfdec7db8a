"""Every gallery example runs to the end and draws at least one figure.

Each example runs in its own interpreter, as sphinx-gallery runs it, from an
empty working folder, with the non-interactive Agg backend. The examples
have no test mode: what runs here is what the documentation shows.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.rglob("plot_*.py"))

_RUNNER = """
import runpy, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
runpy.run_path(sys.argv[1], run_name="__main__")
figures = [plt.figure(n) for n in plt.get_fignums()]
drawn = [f for f in figures if any(ax.has_data() or ax.images for ax in f.axes)]
if not drawn:
    sys.exit(f"{sys.argv[1]}: no figure with plotted data")
print(f"figures with data: {len(drawn)}")
"""


#: The gallery's examples, by topic folder: a missing or misplaced example fails here.
EXPECTED = {
    "command_line": ["plot_command_line.py"],
    "getting_started": ["plot_first_pipeline.py"],
    "images": ["plot_lamem_images.py"],
    "interpretation": ["plot_activation_maps.py"],
    "mediaeval": ["plot_mediaeval_files.py"],
    "model_selection": ["plot_compare_backbones.py", "plot_compare_models.py", "plot_grid_search.py"],
    "multimodal": ["plot_multimodal_preset.py", "plot_tag_captions.py"],
    "ranking": ["plot_pairwise_ranking.py"],
    "scale_out": ["plot_dask_search.py"],
    "sequence_models": ["plot_amnet_attention.py", "plot_lstm_vs_pooling.py"],
    "tuning": ["plot_optuna_study.py"],
}


def test_the_gallery_holds_the_expected_examples():
    found = {}
    for script in EXAMPLES:
        found.setdefault(script.parent.name, []).append(script.name)
    assert found == EXPECTED


@pytest.mark.slow
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: str(p.relative_to(EXAMPLES_DIR)))
def test_example_runs_and_draws(script, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore::UserWarning"}
    result = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    assert "figures with data:" in result.stdout
