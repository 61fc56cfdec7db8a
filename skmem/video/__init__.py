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

The package: :mod:`~skmem.video.sampler` (the estimator),
:mod:`~skmem.video.frames` (:class:`SampledFrames`, the frames it returns,
decoded when read), :mod:`~skmem.video.index`
(demuxing and the seek plan), :mod:`~skmem.video.decoding` (decoding what the plan
asks for), :mod:`~skmem.video.damage`, :mod:`~skmem.video.errors`,
:mod:`~skmem.video.stream` (the one loop decoding many clips, and its
:class:`ClipReport`) and :mod:`~skmem.video.writing` (encoding clips).
"""

from skmem.video.decoding import IMAGE_EXTENSIONS
from skmem.video.errors import ClipDamage, DamagedClipError, VideoDecodeError
from skmem.video.frames import SampledFrames
from skmem.video.index import GAP_FRAMES, SEEK_MIN_SKIP, probe_duration, seek_points
from skmem.video.sampler import STRATEGIES, FrameSampler, as_paths
from skmem.video.stream import ClipReport, stream_clips
from skmem.video.writing import CODECS, write_video

__all__ = [
    "CODECS",
    "GAP_FRAMES",
    "IMAGE_EXTENSIONS",
    "SEEK_MIN_SKIP",
    "STRATEGIES",
    "ClipDamage",
    "ClipReport",
    "DamagedClipError",
    "FrameSampler",
    "SampledFrames",
    "VideoDecodeError",
    "as_paths",
    "probe_duration",
    "seek_points",
    "stream_clips",
    "write_video",
]
