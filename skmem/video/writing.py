"""Encode frames into a clip file: :func:`write_video` (test clips, generated datasets)."""

import os
from fractions import Fraction

import av
import numpy as np
from skmem._validation import check_choice

__all__ = ["CODECS", "write_video"]

CODECS = {
    "vp8": ("libvpx", ".webm"),
    "vp9": ("libvpx-vp9", ".webm"),
    "h264": ("libx264", ".mp4"),
    "hevc": ("libx265", ".mp4"),
    "av1": ("libsvtav1", ".mp4"),
}
"""Codecs :func:`write_video` encodes: name -> (PyAV encoder, file extension)."""



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


