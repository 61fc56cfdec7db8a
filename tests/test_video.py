import os
import pickle
import struct
import warnings
from fractions import Fraction

import av
import numpy as np
import pytest
from conftest import CLIP_FPS, CLIP_SECONDS, GREY_STEP, moving_frames, timed_frames
from sklearn.base import clone

from skmem import FrameSampler
from skmem._params import InvalidParameterError
from skmem.video import (
    STRATEGIES,
    ClipDamage,
    ClipReport,
    DamagedClipError,
    VideoDecodeError,
    probe_duration,
    seek_points,
    stream_clips,
    write_video,
)

CODECS = ["vp8", "vp9", "h264"]
FAST_VP8 = {"deadline": "realtime", "cpu-used": 8}


def frame_indices(frames):
    """Recover frame indices from the grey level of the centre pixel."""
    return frames[..., frames.shape[-3] // 2, frames.shape[-2] // 2, 0] / GREY_STEP


def reference_decode(path):
    """Every frame of a clip, decoded front to back: times from the stream start and RGB images."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        decoded = [(float(f.pts * f.time_base) - start, f.to_ndarray(format="rgb24")) for f in container.decode(stream)]
    return np.array([t for t, _ in decoded]), np.stack([image for _, image in decoded])


def shown_at(times, images, targets):
    """The frame on screen at each target time (the first frame before the clip, the last after it)."""
    shown = np.searchsorted(times, np.asarray(targets) + 1e-6, side="right") - 1
    return images[np.clip(shown, 0, len(times) - 1)]


def can_encode(encoder):
    try:
        av.codec.Codec(encoder, "w")
    except ValueError:  # the wheel has no such encoder
        return False
    return True


@pytest.mark.parametrize("codec", CODECS)
def test_uniform_picks_frames_at_intended_times(timed_clips, codec):
    frames = np.asarray(FrameSampler(n_frames=8, size=None).fit_transform([timed_clips[codec]]))
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


def test_keyframes_strategy_spreads_over_the_key_frames(tmp_path, timed_clips):
    path = str(tmp_path / "gop12.mp4")  # key frames at frames 0, 12, ..., 60
    write_video(path, moving_frames(72), fps=24, codec="h264", options={"g": 12, "sc_threshold": 0})
    frames = FrameSampler(n_frames=3, strategy="keyframes", size=None).fit_transform([path])[0]
    _, images = reference_decode(path)
    np.testing.assert_array_equal(frames, images[[0, 36, 60]])  # key frames 0, 3 and 5 of 6
    # x264 puts a single key frame at the start of this 40-frame clip: it is repeated
    single = FrameSampler(n_frames=3, strategy="keyframes", size=None).fit_transform([timed_clips["h264"]])
    np.testing.assert_allclose(frame_indices(single[0]), [0, 0, 0], atol=0.5)


@pytest.mark.parametrize("codec", CODECS)
def test_duration_does_not_need_frame_count(timed_clips, codec):
    assert probe_duration(timed_clips[codec]) == pytest.approx(CLIP_SECONDS, abs=0.15)


def test_size_resizes_shorter_side_and_crops_centre(timed_clips):
    frames = FrameSampler(n_frames=2, size=32).fit_transform([timed_clips["vp9"]])
    assert frames.shape == (1, 2, 32, 32, 3)
    stretched = FrameSampler(n_frames=2, size=(20, 50)).fit_transform([timed_clips["vp9"]])
    assert stretched.shape == (1, 2, 20, 50, 3)
    kept = np.asarray(FrameSampler(n_frames=2, size=32, crop=None).fit_transform([timed_clips["vp9"]]))
    assert kept.shape == (1, 2, 32, 40, 3)


def test_h264_with_b_frames_duration_and_frames_match_a_full_decode(h264_clip):
    assert probe_duration(h264_clip) == pytest.approx(10.0, abs=0.05)
    frames = FrameSampler(n_frames=5, size=None, n_jobs=2).fit_transform([h264_clip, h264_clip])
    times, images = reference_decode(h264_clip)
    expected = shown_at(times, images, (np.arange(5) + 0.5) * 10.0 / 5)
    np.testing.assert_array_equal(frames[0], expected)
    np.testing.assert_array_equal(frames[1], expected)


def test_parallel_matches_sequential(timed_clips):
    paths = list(timed_clips.values())
    a = FrameSampler(n_frames=4, size=32).fit_transform(paths)
    b = FrameSampler(n_frames=4, size=32, n_jobs=2).fit_transform(paths)
    np.testing.assert_array_equal(a, b)


def test_still_image_is_repeated(tmp_path):
    image = np.zeros((1, 40, 60, 3), dtype=np.uint8)
    image[..., 0] = 200
    path = tmp_path / "still.png"
    with av.open(str(path), "w", format="image2") as container:
        stream = container.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = 60, 40, "rgb24"
        for packet in stream.encode(av.VideoFrame.from_ndarray(image[0], format="rgb24")):
            container.mux(packet)
    frames = np.asarray(FrameSampler(n_frames=3, size=None).fit_transform([str(path)]))
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


@pytest.mark.parametrize("kind", ["missing", "empty", "not a video"])
def test_bad_input_raises_with_file_name(bad_files, kind):
    path, cause = bad_files[kind]
    with pytest.raises(VideoDecodeError, match=cause) as info:
        np.asarray(FrameSampler(n_frames=2, size=16).fit_transform([path]))
    assert path in str(info.value)


def test_truncated_clip_error_names_file(timed_clips, tmp_path):
    path = str(tmp_path / "cut.mp4")
    truncated(timed_clips["h264"], path, keep=0.02)
    with pytest.raises(VideoDecodeError) as info:
        np.asarray(FrameSampler(n_frames=2, size=16).fit_transform([path]))
    assert path in str(info.value)


def test_audio_only_file_has_no_video_stream(tmp_path):
    path = str(tmp_path / "sound.wav")
    with av.open(path, "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
    with pytest.raises(VideoDecodeError, match="no video stream") as info:
        np.asarray(FrameSampler(n_frames=2, size=16).fit_transform([path]))
    assert path in str(info.value)


def test_warn_returns_zeros_and_lists_failures(timed_clips, bad_files):
    missing = bad_files["missing"][0]
    sampler = FrameSampler(n_frames=2, size=16, on_error="warn")
    with pytest.warns(UserWarning, match="missing.webm"):
        frames = np.asarray(sampler.fit_transform([timed_clips["vp9"], missing, timed_clips["h264"]]))
    assert frames.shape == (3, 2, 16, 16, 3)
    assert (frames[1] == 0).all()
    alone = FrameSampler(n_frames=2, size=16).transform([timed_clips["vp9"], timed_clips["h264"]])
    np.testing.assert_array_equal(frames[[0, 2]], alone)
    assert sampler.report_.failed_paths == [missing]


def test_the_report_keeps_each_failure_with_its_reason(timed_clips, bad_files):
    missing = bad_files["missing"][0]
    sampler = FrameSampler(n_frames=2, size=16, on_error="warn").fit()
    with pytest.warns(UserWarning, match="missing.webm"):
        np.asarray(sampler.transform([missing, timed_clips["vp9"]]))
    (error,) = sampler.report_.failures
    assert isinstance(error, VideoDecodeError) and error.path == missing and str(error.cause)
    with pytest.raises(VideoDecodeError) as info:
        sampler.sample_clip(missing)
    assert str(info.value.cause) == str(error.cause)  # the reason a second decode would give
    np.asarray(sampler.transform([timed_clips["vp9"]]))
    assert sampler.report_.failures == []  # the report is the last call's


def test_the_stream_raises_a_failure_once_its_batch_has_reached_the_caller(timed_clips, bad_files):
    missing = bad_files["missing"][0]
    report = ClipReport()
    batches = stream_clips(
        [timed_clips["vp9"], missing, timed_clips["h264"]], FrameSampler(n_frames=2, size=16), clips_per_batch=2,
        report=report,
    )
    first = next(batches)
    assert [clip.index for clip in first] == [0, 1] and first[0].frames.shape == (2, 16, 16, 3)
    assert first[1].frames is None and first[1].error.path == missing
    with pytest.raises(VideoDecodeError, match="missing.webm"):
        next(batches)
    assert report.failed_paths == [missing]


def test_stream_without_policy_records_and_reports_merge_in_order(timed_clips, bad_files):
    missing = bad_files["missing"][0]
    paths = [missing, timed_clips["vp9"], timed_clips["h264"]]
    first, second = ClipReport(hits=1), ClipReport(misses=2, corrupt=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batches = list(stream_clips(paths, FrameSampler(n_frames=2, size=16), n_workers=2, report=first, policy=False))
    assert [clip.index for batch in batches for clip in batch] == [0, 1, 2]
    list(stream_clips(paths[:1], FrameSampler(n_frames=2, size=16), report=second, policy=False))
    merged = ClipReport.merge([first, second])
    assert merged.failed_paths == [missing, missing] and (merged.hits, merged.misses, merged.corrupt) == (1, 2, 1)
    with pytest.warns(UserWarning, match="missing.webm") as record:
        merged.apply(FrameSampler(on_error="warn"))
    assert len(record) == 2
    with pytest.raises(VideoDecodeError, match="missing.webm"):
        merged.apply(FrameSampler())


INVALID = [
    ({"n_frames": 0}, "n_frames"),
    ({"strategy": "random"}, "strategy"),
    ({"size": -3}, "size"),
    ({"size": (1, 2, 3)}, "size"),
    ({"size": (0, 8)}, "size"),
    ({"on_error": "ignore"}, "on_error"),
    ({"on_damaged": "skip"}, "on_damaged"),
    ({"seek": "always"}, "seek"),
    ({"fps": 0}, "fps"),
    ({"crop": "left"}, "crop"),
]


@pytest.mark.parametrize("params, name", INVALID)
def test_invalid_parameters_are_named_at_fit(params, name):
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        FrameSampler(**params).fit(["x.mp4"])


@pytest.mark.parametrize("params, name", INVALID)
def test_unfitted_transform_and_decode_validate_too(timed_clips, params, name):
    sampler = FrameSampler(**params)
    for call in (sampler.transform, sampler.decode, sampler.sample_clip):
        with pytest.raises(ValueError, match=f"'{name}' parameter"):
            call([timed_clips["vp8"]] if call == sampler.transform else timed_clips["vp8"])


def test_constraint_errors_are_sklearn_ones_and_typos_fail_at_set_params():
    with pytest.raises(InvalidParameterError, match="FrameSampler"):
        FrameSampler(seek="sometimes").fit()
    with pytest.raises(ValueError, match="on_damage"):
        FrameSampler().set_params(on_damage="raise")


def test_mixed_resolutions_without_resize_raise(timed_clips, tmp_path):
    other = tmp_path / "other.webm"
    write_video(other, np.zeros((5, 32, 32, 3), np.uint8), fps=5, codec="vp9")
    with pytest.raises(ValueError, match="other.webm"):
        np.asarray(FrameSampler(n_frames=2, size=None).fit_transform([timed_clips["vp9"], str(other)]))


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


# --- seek-aware sampling gives exactly the frames of a full decode ---------------------------

ENCODINGS = {
    "h264-intra": ("h264", {"g": 1}),
    "h264-gop12-bframes": ("h264", {"g": 12, "bf": 3}),
    "h264-gop48-bframes": ("h264", {"g": 48, "bf": 3, "sc_threshold": 0}),
    "h264-gop250": ("h264", {"g": 250, "sc_threshold": 0}),
    "vp8-gop12": ("vp8", {"g": 12, **FAST_VP8}),
    "vp9-gop12": ("vp9", {"g": 12}),
    "hevc-gop12-bframes": ("hevc", {"g": 12, "bf": 3, "x265-params": "log-level=none"}),
    "av1-gop12": ("av1", {"g": 12}),
}
ENCODERS = {"h264": "libx264", "vp8": "libvpx", "vp9": "libvpx-vp9", "hevc": "libx265", "av1": "libsvtav1"}
SAMPLINGS = [
    {"n_frames": 8},
    {"n_frames": 3},
    {"n_frames": 10, "strategy": "fps", "fps": 2.0},  # the last 4 targets fall after the 3 s clip
]


def sampled_targets(path, n_frames, strategy="uniform", fps=1.0):
    if strategy == "fps":
        return np.arange(n_frames) / fps
    return (np.arange(n_frames) + 0.5) * probe_duration(path) / n_frames


def assert_same_frames_as_full_decode(path):
    times, images = reference_decode(path)
    for sampling in SAMPLINGS:
        expected = shown_at(times, images, sampled_targets(path, **sampling))
        for seek in (True, False, "auto"):
            frames, damage = FrameSampler(size=None, seek=seek, **sampling).decode(path)
            assert damage is None
            np.testing.assert_array_equal(frames, expected, err_msg=f"{sampling}, seek={seek}")


@pytest.mark.parametrize("name", list(ENCODINGS))
def test_seeking_gives_the_frames_of_a_full_decode(tmp_path, name):
    codec, options = ENCODINGS[name]
    if not can_encode(ENCODERS[codec]):
        pytest.skip(f"this PyAV wheel has no {ENCODERS[codec]} encoder")
    path = str(tmp_path / f"clip{'.webm' if codec in ('vp8', 'vp9') else '.mp4'}")
    write_video(path, moving_frames(72), fps=24, codec=codec, options=options)
    assert_same_frames_as_full_decode(path)
    targets = sampled_targets(path, 8)
    if options["g"] <= 12:  # several key frames: seek=True must really seek
        assert len(seek_points(path, targets, seek=True)) >= 2
    if options["g"] == 250:  # one key frame: nothing to seek to
        assert seek_points(path, targets, seek=True) == []
    assert seek_points(path, targets, seek=False) == []


def write_variable_rate(path, encoder, times_ms):
    """Encode :func:`moving_frames` shown at irregular times (milliseconds)."""
    with av.open(path, "w") as container:
        stream = container.add_stream(encoder, rate=25)
        stream.width, stream.height, stream.pix_fmt = 80, 64, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        stream.options = {"g": "8"}
        for time, image in zip(times_ms, moving_frames(len(times_ms))):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = int(time), Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.mark.parametrize("encoder, extension", [("libx264", ".mp4"), ("libvpx-vp9", ".webm")])
def test_variable_frame_rate_clips_are_sampled_exactly(tmp_path, encoder, extension):
    path = str(tmp_path / f"vfr{extension}")
    times_ms = np.cumsum(np.random.default_rng(0).integers(20, 120, 60))
    write_variable_rate(path, encoder, times_ms)
    times, _ = reference_decode(path)
    assert np.ptp(np.diff(times)) > 0.05  # the intervals really vary
    assert_same_frames_as_full_decode(path)
    assert len(seek_points(path, sampled_targets(path, 8), seek=True)) >= 2


def test_auto_seeks_only_when_it_skips_many_frames(tmp_path):
    long_clip = str(tmp_path / "long.mp4")  # 20 s, key frame every second: targets 2.5 s apart
    write_video(long_clip, moving_frames(480), fps=24, codec="h264", options={"g": 24, "sc_threshold": 0})
    assert len(seek_points(long_clip, sampled_targets(long_clip, 8))) >= 6
    assert_same_frames_as_full_decode(long_clip)
    short_clip = str(tmp_path / "short.mp4")  # 3 s, key frame every 12 frames: seeks skip too little
    write_video(short_clip, moving_frames(72), fps=24, codec="h264", options={"g": 12, "sc_threshold": 0})
    targets = sampled_targets(short_clip, 8)
    assert seek_points(short_clip, targets) == [] and seek_points(short_clip, targets, seek=True)


# --- damaged clips ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def noise_clips(tmp_path_factory):
    """7 s of noise at 24 fps (every frame costs about the same bytes), as VP8 WebM and H.264 MP4."""
    folder = tmp_path_factory.mktemp("noise")
    frames = np.random.default_rng(0).integers(0, 256, (168, 64, 80, 3), dtype=np.uint8)
    paths = {"webm": str(folder / "noise.webm"), "mp4": str(folder / "noise.mp4")}
    write_video(paths["webm"], frames, fps=24, codec="vp8", options=FAST_VP8)
    write_video(paths["mp4"], frames, fps=24, codec="h264")
    return paths


def truncated(source, target, keep):
    data = open(source, "rb").read()
    open(target, "wb").write(data[: int(len(data) * keep)])
    return str(target)


def corrupt_middle(source, target):
    data = bytearray(open(source, "rb").read())
    middle, span = len(data) // 2, len(data) // 10
    data[middle : middle + span] = np.random.default_rng(1).integers(0, 256, span, dtype=np.uint8).tobytes()
    open(target, "wb").write(bytes(data))
    return str(target)


def misreported(source, target, seconds):
    """A WebM whose segment declares ``seconds`` instead of its real duration."""
    data = open(source, "rb").read()
    at = data.index(b"\x44\x89\x88") + 3  # Matroska Duration element, an 8-byte float in milliseconds
    open(target, "wb").write(data[:at] + struct.pack(">d", seconds * 1000) + data[at + 8 :])
    return str(target)


@pytest.fixture
def damaged(noise_clips, tmp_path):
    """name -> (path, decodable seconds, declared seconds)."""
    return {
        "truncated": (truncated(noise_clips["webm"], tmp_path / "cut.webm", 0.3), 2.0, 7.0),
        "corrupt webm": (corrupt_middle(noise_clips["webm"], tmp_path / "mid.webm"), None, 7.0),
        "corrupt mp4": (corrupt_middle(noise_clips["mp4"], tmp_path / "mid.mp4"), None, 7.0),
        "misreported": (misreported(noise_clips["webm"], tmp_path / "long.webm", 20.0), 7.0, 20.0),
    }


@pytest.mark.parametrize("kind", ["truncated", "corrupt webm", "corrupt mp4", "misreported"])
def test_damaged_clip_warns_with_both_durations_and_is_listed(damaged, noise_clips, kind):
    path, decodable, declared = damaged[kind]
    sampler = FrameSampler(n_frames=8, size=16, n_jobs=2)
    with pytest.warns(UserWarning, match=os.path.basename(path)) as record:
        frames = np.asarray(sampler.fit_transform([noise_clips["webm"], path]))
    message = str(record[0].message)
    assert f"of the {declared:.2f} s its container declares" in message
    decoded = float(message.split(" s decodable")[0].split()[-1])
    if decodable is None:  # a stretch in the middle is missing
        assert 4.0 < decoded < declared - 0.2
    else:
        assert decoded == pytest.approx(decodable, abs=0.1)
    assert sampler.report_.damaged_paths == [path] and sampler.report_.failed_paths == []
    assert frames.shape == (2, 8, 16, 16, 3)


@pytest.mark.parametrize("kind", ["truncated", "corrupt webm", "corrupt mp4", "misreported"])
def test_damaged_clip_raises_or_stays_silent_on_request(damaged, kind):
    path = damaged[kind][0]
    with pytest.raises(DamagedClipError) as info:
        np.asarray(FrameSampler(n_frames=4, size=16, on_damaged="raise").fit_transform([path]))
    assert str(info.value).startswith(path) and isinstance(info.value, VideoDecodeError)
    sampler = FrameSampler(n_frames=4, size=16, on_damaged="ignore")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.asarray(sampler.fit_transform([path]))
    assert sampler.report_.damaged_paths == [path]


def test_frames_past_the_damage_repeat_the_last_decodable_frame(damaged):
    path = damaged["truncated"][0]
    times, images = reference_decode(path)
    assert times[-1] < 2.1  # the data stops near 2 s of the 7 s
    frames = FrameSampler(n_frames=7, size=None, on_damaged="ignore").fit_transform([path])[0]
    np.testing.assert_array_equal(frames[:2], shown_at(times, images, [0.5, 1.5]))
    np.testing.assert_array_equal(frames[2:], np.broadcast_to(images[-1], frames[2:].shape))


def test_decode_returns_damage_for_the_caller_to_handle(damaged):
    path = damaged["truncated"][0]
    sampler = FrameSampler(n_frames=2, size=16, on_damaged="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frames, damage = sampler.decode(path)  # never warns or raises for damage
    assert frames.shape == (2, 16, 16, 3)
    assert isinstance(damage, ClipDamage) and damage.path == path and damage.declared_seconds == pytest.approx(7.0)
    assert pickle.loads(pickle.dumps(damage)) == damage
    error = pickle.loads(pickle.dumps(DamagedClipError(damage)))
    assert error.damage == damage and str(error).startswith(path)
    with pytest.raises(DamagedClipError):
        sampler.handle_damage(damage)
    with pytest.raises(DamagedClipError):
        sampler.sample_clip(path)
    assert sampler.handle_damage(None) is None
    with pytest.warns(UserWarning, match="7.00 s"):
        sampler.set_params(on_damaged="warn").handle_damage(damage)


def test_whole_clips_are_not_damaged(noise_clips, timed_clips, h264_clip):
    for path in [*noise_clips.values(), *timed_clips.values(), h264_clip]:
        for strategy in STRATEGIES:
            assert FrameSampler(n_frames=8, strategy=strategy, size=16).decode(path)[1] is None


def test_seek_onto_a_broken_key_frame_falls_back_to_a_full_pass_and_reports_it(tmp_path):
    path = str(tmp_path / "broken_key.mp4")
    write_video(path, moving_frames(72), fps=24, codec="h264", options={"g": 12, "sc_threshold": 0})
    targets = sampled_targets(path, 8)
    assert 2.0 in seek_points(path, targets, seek=True)
    with av.open(path) as container:
        key = next(p for p in container.demux() if p.is_keyframe and p.pts * p.time_base == 2)
        where, size = key.pos, key.size
    data = bytearray(open(path, "rb").read())
    # keep the NAL length and header (the demuxer still flags a key frame), zero the slice data
    data[where + 8 : where + size] = bytes(size - 8)
    open(path, "wb").write(bytes(data))
    seeking, damage = FrameSampler(n_frames=8, size=None, seek=True).decode(path)
    single, _ = FrameSampler(n_frames=8, size=None, seek=False).decode(path)
    np.testing.assert_array_equal(seeking, single)
    assert "seeking to the key frame at 2.00 s landed" in damage.reason
    assert "failed to decode" in damage.reason and damage.decoded_seconds < 2.8


def test_frames_that_stop_before_the_data_does_are_damage(tmp_path):
    path = str(tmp_path / "tail.mp4")
    write_video(path, moving_frames(72), fps=24, codec="h264", options={"g": 1})
    with av.open(path) as container:
        tail = [(p.pos, p.size) for p in container.demux() if p.size and p.pts * p.time_base >= 2]
    data = bytearray(open(path, "rb").read())
    noise = np.random.default_rng(0).integers(0, 256, len(data), dtype=np.uint8).tobytes()
    for where, size in tail:  # every frame from 2 s on is garbage after its NAL header
        data[where + 5 : where + size] = noise[: size - 5]
    open(path, "wb").write(bytes(data))
    frames, damage = FrameSampler(n_frames=8, size=None, seek=False).decode(path)
    assert "frames end at 2.00 s" in damage.reason and damage.decoded_seconds == pytest.approx(2.0, abs=0.05)
    np.testing.assert_array_equal(frames[-2:], frames[[-3, -3]])  # the targets after 2 s repeat one frame
    seeking, damage = FrameSampler(n_frames=8, size=None, seek=True).decode(path)
    np.testing.assert_array_equal(seeking, frames)
    assert "landed" in damage.reason


# --- timestamps that do not start at 0, rotation -------------------------------------------


def write_shifted(path, encoder, start, n_frames=16, fps=8, gop=2, format=None, container_options=None):
    """:func:`timed_frames` whose first frame is shown at ``start`` seconds (negative: before 0)."""
    with av.open(path, "w", format=format, options=container_options or {}) as container:
        stream = container.add_stream(encoder, rate=fps)
        stream.width, stream.height, stream.pix_fmt = 80, 64, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        stream.options = {"g": str(gop), **({"crf": "4"} if encoder == "libx264" else {"crf": "4", "b": "0"})}
        for i, image in enumerate(timed_frames(n_frames)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i + round(start * fps), Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


SHIFTED = {  # name -> (encoder, extension, start (s), key-frame interval, muxer options, first frame a player shows)
    "webm-after-0": ("libvpx-vp9", ".webm", 10, 2, None, 0),
    "mkv-h264-after-0": ("libx264", ".mkv", 10, 2, None, 0),
    "mkv-before-0": ("libvpx-vp9", ".mkv", -1, 2, {"avoid_negative_ts": "disabled"}, 0),
    "mp4-after-0": ("libx264", ".mp4", 10, 2, None, 0),  # an edit list starts the track at 10 s
    "mp4-edit-list-before-0": ("libx264", ".mp4", -1, 2, None, 8),  # the edit list hides the first 8 frames
    "mp4-edit-list-mid-group": ("libx264", ".mp4", -1, 3, None, 8),  # ... and the first shown frame is no key frame
    "mpegts-after-0": ("libx264", ".ts", 10, 2, None, 0),
}


@pytest.mark.parametrize("name", list(SHIFTED))
def test_clips_whose_timestamps_do_not_start_at_0_give_exact_frames(tmp_path, name):
    encoder, extension, start, gop, options, first_shown = SHIFTED[name]
    path = write_shifted(str(tmp_path / f"clip{extension}"), encoder, start, gop=gop, container_options=options)
    with av.open(path) as container:
        stream = container.streams.video[0]
        assert float(stream.start_time * stream.time_base) == pytest.approx(max(start, 0) if first_shown else start)
    shown = 16 - first_shown
    assert probe_duration(path) == pytest.approx(shown / 8)
    # 4 uniform targets at (i + 0.5) / 4 of the clip: frames 2, 6, 10, 14 of 16 (of the 8 shown: 9, 11, 13, 15)
    expected = first_shown + (np.arange(4) + 0.5) * shown / 4
    for seek in (True, False, "auto"):
        frames, damage = FrameSampler(n_frames=4, size=None, seek=seek).decode(path)
        assert damage is None, f"seek={seek}: {damage}"
        np.testing.assert_allclose(frame_indices(frames), np.floor(expected), atol=0.5, err_msg=f"seek={seek}")
    assert seek_points(path, sampled_targets(path, 3), seek=True)  # frequent key frames: it seeks
    assert_same_frames_as_full_decode(path)
    keys = FrameSampler(n_frames=2, strategy="keyframes", size=None).decode(path)
    assert keys[1] is None and frame_indices(keys[0])[0] == pytest.approx(-(-first_shown // gop) * gop, abs=0.5)


def test_damage_is_measured_from_the_stream_start(tmp_path):
    whole = write_shifted(str(tmp_path / "whole.webm"), "libvpx-vp9", 10, n_frames=48)
    cut = truncated(whole, tmp_path / "cut.webm", 0.5)
    frames, damage = FrameSampler(n_frames=4, size=None).decode(cut)
    assert damage.declared_seconds == pytest.approx(6.0)
    assert 1.0 < damage.decoded_seconds < 5.0 and "data ends at" in damage.reason


ROTATIONS = {  # set_display_rotation arguments -> the frames a player shows, from the coded ones
    (90, False, False): lambda f: np.rot90(f, 1, axes=(1, 2)),
    (-90, False, False): lambda f: np.rot90(f, -1, axes=(1, 2)),
    (180, False, False): lambda f: f[:, ::-1, ::-1],
    (0, True, False): lambda f: f[:, :, ::-1],
    (90, True, False): lambda f: np.rot90(f, 1, axes=(1, 2))[:, :, ::-1],
    (270, False, True): lambda f: np.rot90(f, 3, axes=(1, 2))[:, ::-1],
}


def write_turned(path, rotation):
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.options = {"crf": "0", "g": "4"}
        if rotation is not None:
            degrees, hflip, vflip = rotation
            stream.set_display_rotation(degrees, hflip=hflip, vflip=vflip)
        for image in moving_frames(16, size=(32, 64)):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.mark.skipif(not hasattr(av.video.stream.VideoStream, "set_display_rotation"), reason="PyAV cannot write a display matrix")
@pytest.mark.parametrize("rotation", list(ROTATIONS))
def test_display_matrix_turns_frames_as_a_player_shows_them(tmp_path, rotation):
    coded = write_turned(str(tmp_path / "coded.mp4"), None)
    turned = write_turned(str(tmp_path / "turned.mp4"), rotation)
    show = ROTATIONS[rotation]
    for params in ({"size": None}, {"size": None, "seek": True, "n_frames": 3}, {"strategy": "keyframes", "size": None}):
        sampler = FrameSampler(**{"n_frames": 5, **params})
        np.testing.assert_array_equal(sampler.decode(turned)[0], show(sampler.decode(coded)[0]), err_msg=str(params))
    # sizes apply to the frame as shown: 32 x 64 when turned a quarter
    quarter = rotation[0] % 180 == 90
    assert FrameSampler(n_frames=2, size=16, crop=None).decode(turned)[0].shape == ((2, 32, 16, 3) if quarter else (2, 16, 32, 3))
    np.testing.assert_array_equal(
        FrameSampler(n_frames=2, size=(20, 10)).decode(turned)[0].shape, (2, 20, 10, 3)
    )
