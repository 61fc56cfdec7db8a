"""Decode a few frames per clip: :class:`FrameSampler` and PyAV helpers.

Frames are chosen by presentation time. Each clip is decoded once, front to
back, and decoding stops right after the frame that covers the last requested
time; only the kept frames are converted to RGB and resized.
"""

import os
import warnings
from fractions import Fraction
from numbers import Integral

import av
import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from tqdm.auto import tqdm

from skmem._validation import check_choice, check_positive_int

__all__ = ["FrameSampler", "VideoDecodeError", "probe_duration", "write_video"]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
STRATEGIES = ("uniform", "fps", "keyframes")
_CODECS = {"vp8": ("libvpx", ".webm"), "vp9": ("libvpx-vp9", ".webm"), "h264": ("libx264", ".mp4")}


class VideoDecodeError(ValueError):
    """A clip could not be read; the message starts with the clip's path."""

    def __init__(self, path, cause):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{path}: {cause}")

    def __reduce__(self):
        return type(self), (self.path, self.cause)


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
    codec : {"vp8", "vp9", "h264"}
        VP8/VP9 go into WebM, H.264 into MP4 (the container follows the
        file extension).
    bit_rate : int, optional
        Target bit rate; the encoder default when None.
    crf : int, optional
        Constant-quality factor, passed to the encoder when given.
    options : dict, optional
        Further encoder options (e.g. ``{"deadline": "realtime"}`` for libvpx).
    """
    check_choice(codec, "codec", tuple(_CODECS))
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
    stream = container.add_stream(_CODECS[codec][0], rate=Fraction(fps).limit_denominator(1001))
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

    Uses the stream's duration, then the container's, then the last demuxed
    packet timestamp (``stream.frames`` is 0 for VP8/VP9 WebM and is not used).
    """
    with _open(path) as container:
        return _duration(container, _video_stream(container, path))


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


def _duration(container, stream):
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    end = 0.0
    for packet in container.demux(stream):
        if packet.pts is not None and packet.time_base:
            end = max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base))
    container.seek(0)
    return end


def _start_time(stream):
    if stream.start_time is not None and stream.time_base:
        return float(stream.start_time * stream.time_base)
    return 0.0


def _target_times(strategy, n_frames, duration, fps):
    if strategy == "uniform":
        return (np.arange(n_frames) + 0.5) * duration / n_frames
    return np.arange(n_frames) / fps


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


class _Converter:
    """RGB conversion, resize and crop of the frames that are kept.

    Resizing uses swscale's area filter: antialiased when shrinking (1080p to
    224 pixels) and faster than its default bicubic filter.
    """

    def __init__(self, size, crop):
        self.size, self.crop = size, crop
        self._cache = {}

    def __call__(self, frame):
        key = id(frame)
        if key not in self._cache:
            (w, h), box = _output_size(self.size, self.crop, frame.width, frame.height)
            image = frame.to_ndarray(format="rgb24", width=w, height=h, interpolation="AREA")
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
        while next_target < len(targets) and previous is not None and targets[next_target] < time - 1e-6:
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


def _timed_frames(container, stream, *, keyframes_only=False):
    start = _start_time(stream)
    if keyframes_only:
        stream.codec_context.skip_frame = "NONKEY"
    for index, frame in enumerate(container.decode(stream)):
        time = _frame_time(frame, start)
        if time is None:
            rate = float(stream.average_rate or stream.guessed_rate or 1)
            time = index / rate
        yield time, frame


def _sample_clip(path, n_frames, strategy, fps, size, crop):
    """Decode ``n_frames`` frames of one clip as uint8 ``(n_frames, H, W, 3)``."""
    convert = _Converter(size, crop)
    with _open(path) as container:
        stream = _video_stream(container, path)
        try:
            if os.path.splitext(path)[1].lower() in IMAGE_EXTENSIONS:
                chosen = _select_by_time(_timed_frames(container, stream), np.zeros(n_frames), convert)
            elif strategy == "keyframes":
                keys = [frame for _, frame in _timed_frames(container, stream, keyframes_only=True)]
                if keys:
                    picks = np.linspace(0, len(keys) - 1, num=n_frames)
                    picks = np.floor(picks + 0.5).astype(int) if len(keys) > n_frames else np.minimum(
                        np.arange(n_frames), len(keys) - 1
                    )
                    chosen = [convert(keys[i]) for i in picks]
                else:
                    chosen = None
            else:
                targets = _target_times(strategy, n_frames, _duration(container, stream), fps)
                chosen = _select_by_time(_timed_frames(container, stream), targets, convert)
        except av.error.FFmpegError as exc:
            raise VideoDecodeError(path, f"could not be decoded ({exc.strerror or exc})") from exc
    if chosen is None:
        raise VideoDecodeError(path, "no frame could be decoded")
    return np.stack(chosen)


def _sample_or_error(path, *args):
    try:
        return _sample_clip(path, *args), None
    except VideoDecodeError as exc:
        return None, exc


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
        seconds; ``"fps"`` takes the first frame and then one every ``1 / fps``
        seconds (with ``fps=1`` and 8 frames: the scheme of the MediaEval 2018
        LSTM systems); ``"keyframes"`` decodes key frames only and takes
        ``n_frames`` of them evenly spread.
    fps : float, default=1.0
        Sampling rate of the ``"fps"`` strategy.
    size : int, (height, width) or None, default=224
        An int resizes the shorter side to ``size`` (then crops, see ``crop``);
        a pair stretches to exactly that size; None keeps the native size
        (all clips must then share one resolution).
    crop : {"center", None}, default="center"
        With an int ``size``: crop the centre ``size`` x ``size`` square, or
        keep the aspect ratio (None; clips must then share one aspect ratio).
    n_jobs : int or None, default=None
        Clips decoded in parallel (joblib; ``-1`` uses every core).
    on_error : {"raise", "warn"}, default="raise"
        ``"raise"`` stops at the first unreadable clip with a
        :class:`VideoDecodeError` naming it; ``"warn"`` warns, returns that
        clip as zeros and lists it in ``failed_paths_``.
    verbose : int, default=0
        Show a progress bar when > 0.

    Attributes
    ----------
    failed_paths_ : list of str
        Clips that could not be decoded during the last ``transform``
        (``on_error="warn"``).
    """

    def __init__(
        self,
        n_frames=8,
        strategy="uniform",
        fps=1.0,
        size=224,
        crop="center",
        n_jobs=None,
        on_error="raise",
        verbose=0,
    ):
        self.n_frames = n_frames
        self.strategy = strategy
        self.fps = fps
        self.size = size
        self.crop = crop
        self.n_jobs = n_jobs
        self.on_error = on_error
        self.verbose = verbose

    def _validate_params(self):
        check_positive_int(self.n_frames, "n_frames")
        check_choice(self.strategy, "strategy", STRATEGIES)
        check_choice(self.crop, "crop", ("center", None))
        check_choice(self.on_error, "on_error", ("raise", "warn"))
        if not (isinstance(self.fps, (int, float)) and self.fps > 0):
            raise ValueError(f"fps must be a positive number, got {self.fps!r}")
        size = self.size
        if size is not None and not isinstance(size, Integral):
            if not (isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(s, Integral) and s > 0 for s in size)):
                raise ValueError(f"size must be an int, a (height, width) pair or None, got {size!r}")
        elif isinstance(size, Integral) and size <= 0:
            raise ValueError(f"size must be positive, got {size!r}")

    def fit(self, X=None, y=None):
        """Check the parameters; nothing is learned."""
        self._validate_params()
        self.failed_paths_ = []
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = False
        return tags

    def transform(self, X):
        """Decode the clips.

        Parameters
        ----------
        X : list or array of paths, or a DataFrame with a ``path`` column

        Returns
        -------
        frames : ndarray of shape (n_clips, n_frames, H, W, 3), uint8
        """
        self._validate_params()
        paths = as_paths(X)
        args = (self.n_frames, self.strategy, float(self.fps), self.size, self.crop)
        jobs = (delayed(_sample_or_error)(p, *args) for p in paths)
        results = Parallel(n_jobs=self.n_jobs, return_as="generator")(jobs)
        clips, failed = [], []
        for path, (clip, error) in tqdm(
            zip(paths, results), total=len(paths), disable=not self.verbose, desc="decoding", unit="clip"
        ):
            if error is not None:
                self.handle_failure(error)
                failed.append(path)
            clips.append(clip)
        self.failed_paths_ = failed
        return _stack_clips(clips, paths)

    def handle_failure(self, error):
        """Apply ``on_error`` to a :class:`VideoDecodeError`: raise it, or warn that the clip is zeros."""
        if self.on_error == "raise":
            raise error
        warnings.warn(f"skipping clip, returned as zeros: {error}", stacklevel=3)

    def sample_clip(self, path):
        """Decode one clip as ``(n_frames, H, W, 3)`` uint8 (errors always raise)."""
        self._validate_params()
        return _sample_clip(os.fspath(path), self.n_frames, self.strategy, float(self.fps), self.size, self.crop)


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
