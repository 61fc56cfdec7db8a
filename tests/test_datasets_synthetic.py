import numpy as np
import pytest

from skmem import FrameSampler
from skmem.datasets import make_memorability_videos
from skmem.datasets.mediaeval import read_ground_truth
from skmem.video import probe_duration


def test_writes_real_clips_and_ground_truth(generated_clips):
    paths, scores, folder = generated_clips
    assert len(paths) == 60 and scores.shape == (60,)
    assert ((scores >= 0) & (scores <= 1)).all() and scores.std() > 0.05
    assert probe_duration(paths[0]) == pytest.approx(2.0, abs=0.2)
    truth = read_ground_truth(folder / "ground-truth.csv")
    assert list(truth["video"]) == [f"video{i}.webm" for i in range(1, 61)]
    np.testing.assert_allclose(truth["short_term"], scores, atol=1e-4)
    assert (truth["long_term"] < truth["short_term"] + 0.2).all()


def test_same_seed_same_scores_and_frames(tmp_path):
    a_paths, a = make_memorability_videos(3, tmp_path / "a", n_seconds=1, size=(32, 32), fps=4, codec="h264", random_state=5)
    b_paths, b = make_memorability_videos(3, tmp_path / "b", n_seconds=1, size=(32, 32), fps=4, codec="h264", random_state=5)
    np.testing.assert_array_equal(a, b)
    assert a_paths[0].endswith("video1.mp4")
    sampler = FrameSampler(n_frames=2, size=None)
    np.testing.assert_array_equal(sampler.fit_transform(a_paths), sampler.transform(b_paths))


def test_planted_signal_is_visible_in_pixels(generated_clips):
    """Large, long-lasting red discs make memorable clips: the red area tracks the score."""
    paths, scores, _ = generated_clips
    frames = FrameSampler(n_frames=8, size=None).fit_transform(paths).astype(int)
    red = ((frames[..., 0] > 180) & (frames[..., 1] < 90)).mean(axis=(1, 2, 3))
    assert np.corrcoef(red, scores)[0, 1] > 0.7


def test_vp8_codec_and_bad_parameters(tmp_path):
    paths, _ = make_memorability_videos(1, tmp_path, n_seconds=1, size=(32, 32), fps=4, codec="vp8", random_state=0)
    assert paths[0].endswith(".webm")
    with pytest.raises(ValueError, match="codec"):
        make_memorability_videos(1, tmp_path, codec="theora")
    with pytest.raises(ValueError, match="n_videos"):
        make_memorability_videos(0, tmp_path)
