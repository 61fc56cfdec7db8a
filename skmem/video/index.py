"""A clip's frames before decoding: container, declared duration, frame times and key frames, and the plan of seeks."""

import os
from dataclasses import dataclass

import av
import numpy as np
from skmem.video.errors import VideoDecodeError

__all__ = ["GAP_FRAMES", "SEEK_MIN_SKIP", "probe_duration", "seek_points"]

SEEK_MIN_SKIP = 16
"""With ``seek="auto"``, seek only when that skips more than this many frames."""

GAP_FRAMES = 10
"""A pause between two frames longer than this many typical frame intervals is missing data."""

_EPS = 1e-6


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


