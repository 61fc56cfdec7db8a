"""Decode a few frames per clip: :class:`FrameSampler` and PyAV helpers.

Frames are chosen by presentation time: the frame kept for a target time is
the last frame shown at or before it (targets past the end get the clip's
last frame). A clip is first demuxed without decoding, which gives the time
and key-frame flag of every frame. Decoding then either runs once from the
start and stops right after the frame that covers the last target, or, when
the targets are sparse relative to the key-frame interval, seeks to the key
frame before a target and decodes forward from there (see ``seek`` in
:class:`FrameSampler`); both give exactly the frames a full decode gives.
Only the kept frames are converted to RGB, turned as the display matrix
asks (as a player shows them) and resized.

Times count from the video stream's own start, whatever its first
timestamp (after 0, or before 0 in Matroska or behind an MP4 edit list);
frames an edit list hides are not part of the clip, and a container's
declared duration is read as that container defines it (a Matroska
segment's runs from time 0).

The demuxed index and the decoded frames also tell whether a clip is
damaged: see :class:`ClipDamage`.
"""

import os
import warnings
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral, Real

import av
import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from tqdm.auto import tqdm

from skmem._params import Interval, StrOptions
from skmem._validation import check_choice

__all__ = [
    "ClipDamage",
    "DamagedClipError",
    "FrameSampler",
    "VideoDecodeError",
    "probe_duration",
    "seek_points",
    "write_video",
]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
STRATEGIES = ("uniform", "fps", "keyframes")
CODECS = {
    "vp8": ("libvpx", ".webm"),
    "vp9": ("libvpx-vp9", ".webm"),
    "h264": ("libx264", ".mp4"),
    "hevc": ("libx265", ".mp4"),
    "av1": ("libsvtav1", ".mp4"),
}
"""Codecs :func:`write_video` encodes: name -> (PyAV encoder, file extension)."""

_DISPLAY_MATRIX = av.sidedata.sidedata.Type.DISPLAYMATRIX

SEEK_MIN_SKIP = 16
"""With ``seek="auto"``, seek only when that skips more than this many frames."""

GAP_FRAMES = 10
"""A pause between two frames longer than this many typical frame intervals is missing data."""

_EPS = 1e-6


class VideoDecodeError(ValueError):
    """A clip could not be read; the message starts with the clip's path."""

    def __init__(self, path, cause):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{path}: {cause}")

    def __reduce__(self):
        return type(self), (self.path, self.cause)


@dataclass(frozen=True)
class ClipDamage:
    """What is missing from a damaged clip.

    Attributes
    ----------
    path : str
    declared_seconds : float
        Duration the container declares (the span of its data when it
        declares none).
    decoded_seconds : float
        Seconds of the clip for which frames could be read.
    reason : str
        The signs found, e.g. ``"data ends at 2.00 s"``.
    """

    path: str
    declared_seconds: float
    decoded_seconds: float
    reason: str

    def describe(self):
        """What is damaged, without the path."""
        return (
            f"damaged clip, {self.decoded_seconds:.2f} s decodable of the "
            f"{self.declared_seconds:.2f} s its container declares ({self.reason})"
        )

    def __str__(self):
        return f"{self.path}: {self.describe()}"


class DamagedClipError(VideoDecodeError):
    """A clip is damaged and ``on_damaged="raise"``; ``damage`` is its :class:`ClipDamage`."""

    def __init__(self, damage):
        self.damage = damage
        super().__init__(damage.path, damage.describe())

    def __reduce__(self):
        return type(self), (self.damage,)


def as_paths(X):
    """Return clip paths from a list, a 1-D array, a Series or a DataFrame.

    A DataFrame must have a ``path`` column or a single column.
    """
    if hasattr(X, "columns"):
        if "path" in X.columns:
            X = X["path"]
        elif len(X.columns) == 1:
            X = X.iloc[:, 0]
        else:
            raise ValueError(
                f"a DataFrame of clips needs a 'path' column; got columns {list(X.columns)}"
            )
    if isinstance(X, (str, os.PathLike)):
        raise ValueError("expected a list or array of paths, got a single path; wrap it in a list")
    array = np.asarray(X, dtype=object)
    if array.ndim > 2 or (array.ndim == 2 and array.shape[1] != 1):
        raise ValueError(f"paths must be 1-D, got shape {array.shape}")
    paths = np.asarray([os.fspath(p) for p in array.ravel()], dtype=object)
    if len(paths) == 0:
        raise ValueError("no paths given")
    return paths


def write_video(path, frames, fps=24, codec="vp9", *, bit_rate=None, crf=None, options=None):
    """Encode frames into a real video file.

    Parameters
    ----------
    path : str or path-like
    frames : array-like of shape (T, H, W, 3) or iterable of (H, W, 3), uint8 RGB
        An iterable is encoded as it is consumed, so long clips need not be
        held in memory.
    fps : int
    codec : {"vp8", "vp9", "h264", "hevc", "av1"}
        One of :data:`CODECS`. VP8/VP9 go into WebM, the others into MP4
        (the container follows the file extension).
    bit_rate : int, optional
        Target bit rate; the encoder default when None.
    crf : int, optional
        Constant-quality factor, passed to the encoder when given.
    options : dict, optional
        Further encoder options (e.g. ``{"deadline": "realtime"}`` for libvpx,
        ``{"g": 48}`` for the key-frame interval).
    """
    check_choice(codec, "codec", tuple(CODECS))
    with av.open(os.fspath(path), mode="w") as container:
        stream = None
        for image in frames:
            image = np.asarray(image)
            if stream is None:
                stream = _video_output(container, codec, fps, image, bit_rate, crf, options)
            if image.shape != (stream.height, stream.width, 3) or image.dtype != np.uint8:
                raise ValueError(
                    f"frames must be uint8 of shape (H, W, 3) = ({stream.height}, {stream.width}, 3), "
                    f"got {image.dtype} {image.shape}"
                )
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        if stream is None:
            raise ValueError("no frames to write")
        for packet in stream.encode():
            container.mux(packet)


def _video_output(container, codec, fps, first, bit_rate, crf, options):
    if first.ndim != 3 or first.shape[-1] != 3 or first.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 of shape (H, W, 3), got {first.dtype} {first.shape}")
    height, width = first.shape[:2]
    if height % 2 or width % 2:
        raise ValueError(f"frame height and width must be even, got {height}x{width}")
    stream = container.add_stream(CODECS[codec][0], rate=Fraction(fps).limit_denominator(1001))
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    if bit_rate is not None:
        stream.bit_rate = int(bit_rate)
    settings = dict(options or {})
    if crf is not None:
        settings["crf"] = str(crf)
    if settings:
        stream.options = {k: str(v) for k, v in settings.items()}
    return stream


def probe_duration(path):
    """Duration of a clip's first video stream, in seconds.

    Uses the stream's duration, then the container's, then the end of the
    last demuxed frame (``stream.frames`` is 0 for VP8/VP9 WebM and is not used).
    """
    with _open(path) as container:
        declared = _declared_duration(container, _video_stream(container, path))
    if declared is not None:
        return declared
    index = _frame_index(path)
    return index.end if index is not None else 0.0


def _open(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise VideoDecodeError(path, "file not found")
    if os.path.isdir(path):
        raise VideoDecodeError(path, "is a directory, not a video file")
    if os.path.getsize(path) == 0:
        raise VideoDecodeError(path, "file is empty")
    try:
        return av.open(path)
    except av.error.FFmpegError as exc:
        raise VideoDecodeError(path, f"not a video or image file ({exc.strerror or exc})") from exc


def _video_stream(container, path):
    if not container.streams.video:
        raise VideoDecodeError(path, "has no video stream")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return stream


# Containers whose declared duration runs from time 0, not from the first timestamp:
# a Matroska segment's duration covers its whole timeline (and NUT's is its last timestamp).
_DURATION_FROM_ZERO = frozenset({"matroska", "webm", "nut"})


def _declared_duration(container, stream):
    """Seconds the container declares for ``stream``, counted from the stream's own start."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if not container.duration:
        return None
    if _DURATION_FROM_ZERO.intersection(container.format.name.split(",")):
        origin = 0.0
    else:
        origin = container.start_time / av.time_base if container.start_time is not None else _start_time(stream)
    return max(0.0, origin + container.duration / av.time_base - _start_time(stream))


def _start_time(stream):
    if stream.start_time is not None and stream.time_base:
        return float(stream.start_time * stream.time_base)
    return 0.0


def _packets(container, stream):
    """Demuxed packets of ``stream``; a container error ends them (the data stops there)."""
    packets = container.demux(stream)
    while True:
        try:
            yield next(packets)
        except StopIteration:
            return
        except av.error.FFmpegError:
            return


@dataclass
class _FrameIndex:
    """Every shown frame's presentation time (s, from the stream start, sorted), and where seeking may start.

    ``keys`` flags the key frames a seek can reach (not those before time 0,
    which some demuxers cannot seek to); ``decode_times`` are the frames'
    decoding times (s, from the stream start), which demuxers seek by.
    """

    times: np.ndarray
    keys: np.ndarray
    decode_times: np.ndarray
    end: float
    interval: float
    declared: float

    def decode_time(self, time):
        """Decoding time of the frame shown at ``time``."""
        return float(self.decode_times[np.searchsorted(self.times, time - _EPS)])

    def gaps(self):
        """Pauses between frames (the start included) longer than ``GAP_FRAMES`` intervals."""
        if not self.interval:
            return []
        edges = np.concatenate([[0.0], self.times])
        wide = np.flatnonzero(np.diff(edges) > GAP_FRAMES * self.interval)
        return [(float(edges[i]), float(edges[i + 1])) for i in wide]


def _frame_index(path):
    """Demux a clip without decoding it; None when its packets carry no timestamps."""
    with _open(path) as container:
        stream = _video_stream(container, path)
        start, declared = _start_time(stream), _declared_duration(container, stream)
        rate = stream.average_rate or stream.guessed_rate
        times, keys, decodes, durations = [], [], [], []
        for packet in _packets(container, stream):
            if packet.is_discard:  # decoded but never shown (cut by an MP4 edit list)
                continue
            if packet.pts is None:
                if packet.size:
                    return None
                continue
            times.append(float(packet.pts * packet.time_base) - start)
            decodes.append(times[-1] if packet.dts is None else float(packet.dts * packet.time_base) - start)
            keys.append(packet.is_keyframe and decodes[-1] + start >= 0)
            durations.append(float((packet.duration or 0) * packet.time_base))
    if not times:
        return None
    order = np.argsort(times, kind="stable")
    times, keys, decodes = np.asarray(times)[order], np.asarray(keys, dtype=bool)[order], np.asarray(decodes)[order]
    steps = np.diff(times)
    steps = steps[steps > 0]
    interval = float(np.median(steps)) if len(steps) else (1 / float(rate) if rate else 0.0)
    end = times[-1] + (durations[order[-1]] or interval)
    return _FrameIndex(times, keys, decodes, end, interval, declared if declared is not None else end)


def _target_times(strategy, n_frames, duration, fps):
    if strategy == "uniform":
        return (np.arange(n_frames) + 0.5) * duration / n_frames
    return np.arange(n_frames) / fps


def _plan(index, targets, min_skip):
    """Split sorted ``targets`` into runs ``(seek_time, target_indices)``.

    The first run decodes from the start (``seek_time`` None) unless it seeks;
    a run seeks to the key frame before its first target when that skips more
    than ``min_skip`` frames of forward decoding (never when ``min_skip`` is None).
    """
    everything = [(None, list(range(len(targets))))]
    if min_skip is None or index is None or not index.keys.any():
        return everything
    answers = np.clip(np.searchsorted(index.times, targets + _EPS, side="right") - 1, 0, len(index.times) - 1)
    key_at = np.flatnonzero(index.keys)
    runs, reached = [], -1
    for i, answer in enumerate(answers):
        k = np.searchsorted(key_at, answer, side="right") - 1
        if k >= 0 and key_at[k] - (reached + 1) > min_skip:
            runs.append((float(index.times[key_at[k]]), [i]))
        elif runs:
            runs[-1][1].append(i)
        else:
            runs.append((None, [i]))
        reached = max(reached, answer + 1)
    return runs


def seek_points(path, times, seek="auto"):
    """Key-frame times (s) that sampling ``times`` from ``path`` seeks to.

    An empty list means a single front-to-back pass. ``seek`` is as in
    :class:`FrameSampler`.
    """
    runs = _plan(_frame_index(os.fspath(path)), np.sort(np.asarray(times, dtype=float)), _min_skip(seek))
    return [time for time, _ in runs if time is not None]


def _min_skip(seek):
    return {"auto": SEEK_MIN_SKIP, True: 0, False: None}[seek]


def _output_size(size, crop, width, height):
    """Resize target ``(w, h)`` for a ``width`` x ``height`` frame, and the crop box."""
    if size is None:
        return (width, height), None
    if isinstance(size, Integral):
        scale = size / min(width, height)
        new_w, new_h = max(size, round(width * scale)), max(size, round(height * scale))
        if crop is None:
            return (new_w, new_h), None
        top, left = (new_h - size) // 2, (new_w - size) // 2
        return (new_w, new_h), (top, left, size, size)
    return (int(size[1]), int(size[0])), None


def _display_transform(frame):
    """How a player turns ``frame`` to show it: ``(transpose, flip_rows, flip_columns)``, applied in that order.

    Read from the frame's display matrix as FFmpeg's own autorotation reads
    it (``ffmpeg``, ``ffplay``); a rotation that is not a quarter turn is
    rounded to the nearest one. No matrix: ``(False, False, False)``.
    """
    side = frame.side_data.get(_DISPLAY_MATRIX)
    if side is None:
        return False, False, False
    m = np.frombuffer(bytes(side), dtype=np.int32)[:9].astype(np.float64)
    if not (np.hypot(m[0], m[3]) and np.hypot(m[1], m[4])):
        return False, False, False
    counterclockwise = -np.degrees(np.arctan2(m[1] / np.hypot(m[1], m[4]), m[0] / np.hypot(m[0], m[3])))
    quarter = int(round(-counterclockwise / 90)) % 4  # clockwise quarter turns, FFmpeg's "theta"
    if quarter == 1:  # transpose=clock, or cclock_flip when mirrored
        return (True, False, False) if m[3] > 0 else (True, False, True)
    if quarter == 2:
        return False, bool(m[4] < 0), bool(m[0] < 0)
    if quarter == 3:  # transpose=cclock, or clock_flip when mirrored
        return (True, True, True) if m[3] < 0 else (True, True, False)
    return False, bool(m[4] < 0), False


def _turn(image, transpose, flip_rows, flip_columns):
    if transpose:
        image = image.transpose(1, 0, 2)
    if flip_rows:
        image = image[::-1]
    if flip_columns:
        image = image[:, ::-1]
    return image


class _Converter:
    """RGB conversion, turn (see :func:`_display_transform`), resize and crop of the frames that are kept.

    Resizing uses swscale's area filter: antialiased when shrinking (1080p to
    224 pixels) and faster than its default bicubic filter.
    """

    def __init__(self, size, crop):
        self.size, self.crop = size, crop
        self._cache = {}

    def __call__(self, frame):
        key = id(frame)
        if key not in self._cache:
            turn = _display_transform(frame)
            width, height = (frame.height, frame.width) if turn[0] else (frame.width, frame.height)
            (w, h), box = _output_size(self.size, self.crop, width, height)
            if turn[0]:
                w, h = h, w
            image = _turn(frame.to_ndarray(format="rgb24", width=w, height=h, interpolation="AREA"), *turn)
            if box is not None:
                top, left, ch, cw = box
                image = image[top : top + ch, left : left + cw]
            self._cache[key] = (frame, np.ascontiguousarray(image))
        return self._cache[key][1]


def _frame_time(frame, start):
    if frame.pts is None or frame.time_base is None:
        return None
    return float(frame.pts * frame.time_base) - start


def _select_by_time(frames, targets, convert):
    """Map each target time to the last frame shown at or before it.

    ``frames`` yields ``(time, frame)`` in presentation order. Iteration stops
    once the frame after the last target is seen. Targets past the end get
    the last frame (short clips repeat their last frame).
    """
    chosen = [None] * len(targets)
    next_target, previous = 0, None
    for time, frame in frames:
        while next_target < len(targets) and previous is not None and targets[next_target] < time - _EPS:
            chosen[next_target] = convert(previous)
            next_target += 1
        if next_target == len(targets):
            break
        previous = frame
    if previous is None:
        return None
    for i in range(next_target, len(targets)):
        chosen[i] = convert(previous)
    return chosen


class _SeekMissed(Exception):
    def __init__(self, wanted, landed):
        self.wanted, self.landed = wanted, landed


class _Decoder:
    """Frames of one clip as ``(time, frame)``, skipping packets that fail to decode.

    Records the times of the frames it yields, one list per call of
    :meth:`frames`, and where the frames ended when decoding reached the end
    of the data.
    """

    def __init__(self, container, stream, index):
        self.container, self.stream, self.index = container, stream, index
        self.start = _start_time(stream)
        self.runs = []
        self.frames_end = None

    def frames(self, seek_time=None):
        """Decode from the start, or from the key frame shown at ``seek_time``.

        The seek aims at that frame's decoding time: demuxers seek by it, and
        with reordered frames (B-frames) a later key frame can be decoded
        before the presentation time of this one.
        """
        if seek_time is not None:
            offset = round((self.index.decode_time(seek_time) + self.start) / self.stream.time_base)
            try:
                self.container.seek(offset, backward=True, any_frame=False, stream=self.stream)
            except av.error.FFmpegError:
                raise _SeekMissed(seek_time, None) from None
        rate = float(self.stream.average_rate or self.stream.guessed_rate or 1)
        count, time, run = 0, None, []
        self.runs.append(run)
        for packet in _packets(self.container, self.stream):
            try:
                decoded = packet.decode()
            except av.error.FFmpegError:  # its frame is missing from the run
                continue
            for frame in decoded:
                time = _frame_time(frame, self.start)
                if time is None:
                    time = count / rate
                count += 1
                if seek_time is not None:
                    if time < seek_time - _EPS:  # decoded to reach the key frame, or shown before it
                        continue
                    if time > seek_time + _EPS:
                        raise _SeekMissed(seek_time, time)
                    seek_time = None
                run.append(time)
                yield time, frame
        if seek_time is not None:
            raise _SeekMissed(seek_time, None)
        if time is not None:
            self.frames_end = time + 1 / rate


def _select_runs(decoder, runs, targets, convert):
    chosen = [None] * len(targets)
    for seek_time, members in runs:
        picked = _select_by_time(decoder.frames(seek_time), targets[members], convert)
        if picked is None:
            return None
        for i, image in zip(members, picked):
            chosen[i] = image
    return chosen


def _pick_keyframes(decoder, n_frames, convert):
    decoder.stream.codec_context.skip_frame = "NONKEY"
    keys = [frame for _, frame in decoder.frames()]
    decoder.runs, decoder.frames_end = [], None  # only key frames were decoded: no sign of damage
    if not keys:
        return None
    picks = np.linspace(0, len(keys) - 1, num=n_frames)
    if len(keys) > n_frames:
        picks = np.floor(picks + 0.5).astype(int)
    else:
        picks = np.minimum(np.arange(n_frames), len(keys) - 1)
    return [convert(keys[i]) for i in picks]


def _read(path, index, strategy, targets, runs, convert):
    """Decode the chosen frames of one clip; returns them and the decoder's record."""
    with _open(path) as container:
        decoder = _Decoder(container, _video_stream(container, path), index)
        try:
            if strategy == "keyframes":
                chosen = _pick_keyframes(decoder, len(targets), convert)
            else:
                chosen = _select_runs(decoder, runs, targets, convert)
        except av.error.FFmpegError as exc:
            raise VideoDecodeError(path, f"could not be decoded ({exc.strerror or exc})") from exc
    if chosen is None:
        raise VideoDecodeError(path, "no frame could be decoded")
    return np.stack(chosen), decoder


def _missing_frames(index, run):
    """How many indexed frames within the span of a run of decoded frame times it lacks."""
    if not run:
        return 0
    expected = index.times[(index.times >= min(run) - _EPS) & (index.times <= max(run) + _EPS)]
    return int(np.count_nonzero(~np.isin(np.round(expected, 4), np.round(run, 4))))


def _tolerance(interval):
    return max(2 * interval, 0.1)


def _assess(path, index, decoder, missed):
    """A :class:`ClipDamage` when less of the clip decodes than its container declares, else None."""
    if index is None:
        return None
    tolerance = _tolerance(index.interval)
    end, reasons = index.end, []
    if index.declared - end > tolerance:
        reasons.append(f"data ends at {end:.2f} s")
    if decoder.frames_end is not None and decoder.frames_end < end - tolerance:
        end = decoder.frames_end
        reasons.append(f"frames end at {end:.2f} s")
    lost = 0.0
    for first, last in index.gaps():
        if last < end:
            lost += last - first - index.interval
            reasons.append(f"no frames from {first:.2f} s to {last:.2f} s")
    missing = sum(_missing_frames(index, run) for run in decoder.runs)
    if missing:
        lost += missing * index.interval
        reasons.append(f"{missing} frame(s) failed to decode")
    if missed is not None:
        landed = "nowhere" if missed.landed is None else f"at {missed.landed:.2f} s"
        reasons.append(f"seeking to the key frame at {missed.wanted:.2f} s landed {landed}")
    decoded = max(0.0, end - lost)
    if missed is None and index.declared - decoded <= tolerance:
        return None
    return ClipDamage(path, float(index.declared), float(decoded), "; ".join(reasons))


def _decode_clip(path, n_frames, strategy="uniform", fps=1.0, size=None, crop="center", min_skip=SEEK_MIN_SKIP):
    """Decode ``n_frames`` frames of one clip: uint8 ``(n_frames, H, W, 3)`` and its damage (or None).

    The arguments are :class:`FrameSampler`'s; ``min_skip`` is the number of
    frames a seek must skip (None: never seek). Unreadable clips raise
    :class:`VideoDecodeError`; damage is returned, never warned about.
    """
    path = os.fspath(path)
    convert = _Converter(size, crop)
    if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
        targets = np.zeros(n_frames)
        return _read(path, None, "uniform", targets, _plan(None, targets, None), convert)[0], None
    index = _frame_index(path)
    duration = index.declared if index is not None else probe_duration(path)
    targets = _target_times(strategy, n_frames, duration, fps)
    missed = None
    try:
        frames, decoder = _read(path, index, strategy, targets, _plan(index, targets, min_skip), convert)
    except _SeekMissed as exc:  # the index and the data disagree: decode front to back
        missed = exc
        frames, decoder = _read(path, index, strategy, targets, _plan(index, targets, None), _Converter(size, crop))
    return frames, _assess(path, index, decoder, missed)


def _decode_or_error(path, settings):
    try:
        return (*_decode_clip(path, **settings), None)
    except VideoDecodeError as exc:
        return None, None, exc


class FrameSampler(TransformerMixin, BaseEstimator):
    """Decode ``n_frames`` RGB frames from each clip.

    Parameters
    ----------
    n_frames : int, default=8
        Frames per clip. A clip with fewer distinct frames at the requested
        times repeats its last frame. A still image (jpg, png, ...) is a
        one-frame clip: its frame is repeated ``n_frames`` times (use
        ``n_frames=1`` for image datasets).
    strategy : {"uniform", "fps", "keyframes"}, default="uniform"
        ``"uniform"`` takes the frames shown at ``(i + 0.5) * duration / n_frames``
        seconds (``duration`` as the container declares it); ``"fps"`` takes
        the first frame and then one every ``1 / fps`` seconds (with ``fps=1``
        and 8 frames: the scheme of the MediaEval 2018 LSTM systems);
        ``"keyframes"`` decodes key frames only and takes ``n_frames`` of
        them evenly spread.
    fps : float, default=1.0
        Sampling rate of the ``"fps"`` strategy.
    size : int, (height, width) or None, default=224
        Sizes apply to frames as a player shows them: a clip whose display
        matrix asks for a quarter turn or a mirror (phone videos) is turned
        first, as FFmpeg's autorotation does (other angles are rounded to a
        quarter turn; PyAV must be built on FFmpeg 7 or later, which passes
        the matrix to decoded frames). An int resizes the shorter side to ``size`` (then crops, see ``crop``);
        a pair stretches to exactly that size; None keeps the native size
        (all clips must then share one resolution).
    crop : {"center", None}, default="center"
        With an int ``size``: crop the centre ``size`` x ``size`` square, or
        keep the aspect ratio (None; clips must then share one aspect ratio).
    seek : {"auto", True, False}, default="auto"
        How ``"uniform"`` and ``"fps"`` reach their frames; the frames are the
        same either way. False decodes once from the start up to the last
        target. True seeks to the key frame that starts a target's group of
        pictures whenever that skips frames. ``"auto"`` seeks only when it
        skips more than :data:`SEEK_MIN_SKIP` frames, so long clips with
        regular key frames are sampled in a fraction of a full decode while
        short clips (or clips with one key frame) keep the single pass. The
        key-frame times come from demuxing the clip, which reads no pixels.
    n_jobs : int or None, default=None
        Clips decoded in parallel (joblib; ``-1`` uses every core).
    on_error : {"raise", "warn"}, default="raise"
        ``"raise"`` stops at the first unreadable clip with a
        :class:`VideoDecodeError` naming it; ``"warn"`` warns, returns that
        clip as zeros and lists it in ``failed_paths_``.
    on_damaged : {"warn", "raise", "ignore"}, default="warn"
        A clip is damaged when the frames that can be read span less than
        its container declares (by more than two frame intervals or 0.1 s):
        its data stops early, a stretch of it is missing (no frame for more
        than :data:`GAP_FRAMES` typical frame intervals, which a variable-rate
        clip that pauses that long also shows) or fails to decode, or the
        container misreports its duration (a seek that lands away
        from the key frame it aimed at also counts). Its frames are still
        returned: each target time gets the last frame decoded at or before
        it, so targets in or after a missing stretch repeat the last
        decodable frame before them. ``"warn"`` warns naming the clip and
        both durations, ``"raise"`` raises :class:`DamagedClipError`,
        ``"ignore"`` says nothing; ``damaged_paths_`` lists them. Damage is seen in what is read:
        the demuxed index of the whole clip, and the frames decoded (a
        corrupt stretch whose packets are intact and that no target needs
        can go unnoticed).
    verbose : int, default=0
        Show a progress bar when > 0.

    Attributes
    ----------
    failed_paths_ : list of str
        Clips that could not be decoded during the last ``transform``
        (``on_error="warn"``).
    damaged_paths_ : list of str
        Damaged clips met during the last ``transform`` (see ``on_damaged``).
    n_features_in_ : int
        1 (one column of paths); set when ``fit`` is given ``X``.

    See Also
    --------
    seek_points : the key frames sampling a clip seeks to.
    """

    _parameter_constraints = {
        "n_frames": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions(set(STRATEGIES))],
        "fps": [Interval(Real, 0, None, closed="neither")],
        "size": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "crop": [StrOptions({"center"}), None],
        "seek": [StrOptions({"auto"}), "boolean"],
        "n_jobs": [Integral, None],
        "on_error": [StrOptions({"raise", "warn"})],
        "on_damaged": [StrOptions({"warn", "raise", "ignore"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        n_frames=8,
        strategy="uniform",
        fps=1.0,
        size=224,
        crop="center",
        seek="auto",
        n_jobs=None,
        on_error="raise",
        on_damaged="warn",
        verbose=0,
    ):
        self.n_frames = n_frames
        self.strategy = strategy
        self.fps = fps
        self.size = size
        self.crop = crop
        self.seek = seek
        self.n_jobs = n_jobs
        self.on_error = on_error
        self.on_damaged = on_damaged
        self.verbose = verbose

    def fit(self, X=None, y=None):
        """Check the parameters (and, when given, that ``X`` is a column of paths); nothing is learned."""
        self._decoding_settings()
        if X is not None:
            as_paths(X)
            self.n_features_in_ = 1
        self.failed_paths_ = []
        self.damaged_paths_ = []
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags

    def _decoding_settings(self):
        """The validated parameters, as keyword arguments of the clip decoder."""
        self._validate_params()
        size = self.size
        if isinstance(size, (tuple, list)) and not (
            len(size) == 2 and all(isinstance(s, Integral) and s > 0 for s in size)
        ):
            raise ValueError(
                f"The 'size' parameter of FrameSampler must be an int, a (height, width) pair of "
                f"positive ints or None. Got {size!r} instead."
            )
        return {
            "n_frames": self.n_frames,
            "strategy": self.strategy,
            "fps": float(self.fps),
            "size": size,
            "crop": self.crop,
            "min_skip": _min_skip(self.seek),
        }

    def transform(self, X):
        """Decode the clips.

        Parameters
        ----------
        X : list or array of paths, or a DataFrame with a ``path`` column

        Returns
        -------
        frames : ndarray of shape (n_clips, n_frames, H, W, 3), uint8
        """
        settings = self._decoding_settings()
        paths = as_paths(X)
        jobs = (delayed(_decode_or_error)(p, settings) for p in paths)
        results = Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs)
        clips, failed, damaged = [], [], []
        for path, (clip, damage, error) in tqdm(
            zip(paths, results), total=len(paths), disable=not self.verbose, desc="decoding", unit="clip"
        ):
            if error is not None:
                self.handle_failure(error)
                failed.append(path)
            elif damage is not None:
                self.handle_damage(damage)
                damaged.append(path)
            clips.append(clip)
        self.failed_paths_, self.damaged_paths_ = failed, damaged
        return _stack_clips(clips, paths)

    def handle_failure(self, error):
        """Apply ``on_error`` to a :class:`VideoDecodeError`: raise it, or warn that the clip is zeros."""
        if self.on_error == "raise":
            raise error
        warnings.warn(f"skipping clip, returned as zeros: {error}", stacklevel=3)

    def handle_damage(self, damage):
        """Apply ``on_damaged`` to the result of :meth:`decode`.

        ``damage`` is a :class:`ClipDamage` or None (nothing to do): warn,
        raise :class:`DamagedClipError`, or ignore it.
        """
        if damage is None or self.on_damaged == "ignore":
            return
        if self.on_damaged == "raise":
            raise DamagedClipError(damage)
        warnings.warn(f"{damage}; missing stretches repeat the last decodable frame", stacklevel=3)

    def decode(self, path):
        """Decode one clip without applying ``on_damaged``.

        Safe to call in worker processes: pass the damage back and apply
        :meth:`handle_damage` in the caller's process.

        Returns
        -------
        frames : ndarray of shape (n_frames, H, W, 3), uint8
        damage : ClipDamage or None

        Raises
        ------
        VideoDecodeError
            When the clip cannot be read at all.
        """
        return _decode_clip(os.fspath(path), **self._decoding_settings())

    def sample_clip(self, path):
        """Decode one clip as ``(n_frames, H, W, 3)`` uint8, applying ``on_damaged``.

        Unreadable clips always raise :class:`VideoDecodeError`.
        """
        frames, damage = self.decode(path)
        self.handle_damage(damage)
        return frames


def _stack_clips(clips, paths):
    shapes = {c.shape for c in clips if c is not None}
    if not shapes:
        raise VideoDecodeError(paths[0], "no clip could be decoded")
    if len(shapes) > 1:
        first = next(c.shape for c in clips if c is not None)
        odd = next(p for p, c in zip(paths, clips) if c is not None and c.shape != first)
        raise ValueError(
            f"{odd}: frames of shape {next(c.shape for p, c in zip(paths, clips) if p == odd)[1:]} differ "
            f"from the first clip's {first[1:]}; set size to an int or a (height, width) pair"
        )
    shape = shapes.pop()
    out = np.zeros((len(clips),) + shape, dtype=np.uint8)
    for i, clip in enumerate(clips):
        if clip is not None:
            out[i] = clip
    return out
