"""Decode the frames a plan asks for: conversion, rotation, seeking, selection by time."""

import os
from numbers import Integral

import av
import numpy as np
from skmem.video.damage import _assess
from skmem.video.errors import VideoDecodeError
from skmem.video.index import (
    _EPS,
    SEEK_MIN_SKIP,
    _frame_index,
    _open,
    _packets,
    _plan,
    _start_time,
    _target_times,
    _video_stream,
    probe_duration,
)

__all__ = ["IMAGE_EXTENSIONS"]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
_DISPLAY_MATRIX = av.sidedata.sidedata.Type.DISPLAYMATRIX


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

