"""The estimator: :class:`FrameSampler`, and clip paths from user input."""

import os
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from skmem._params import Interval, StrOptions
from skmem.video.decoding import _decode_clip
from skmem.video.errors import DamagedClipError
from skmem.video.frames import SampledFrames
from skmem.video.index import _min_skip

__all__ = ["STRATEGIES", "FrameSampler", "as_paths"]

STRATEGIES = ("uniform", "fps", "keyframes")


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


class FrameSampler(TransformerMixin, BaseEstimator):
    """Decode ``n_frames`` RGB frames from each clip.

    ``transform`` decodes nothing: it returns a :class:`SampledFrames`, an
    array-like of the clips' frames that decodes them when it is read.
    ``np.asarray`` of it gives the uint8 array ``(n_clips, n_frames, H, W, 3)``
    (decoding every clip each time); a :class:`~skmem.CNNFeaturizer` after
    the sampler in a ``Pipeline`` streams the clips through its network a
    batch at a time (bounded memory, its feature store), exactly as a
    featurizer with this sampler as its ``sampler`` does.

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
        Threads decoding clips in parallel (FFmpeg decodes without holding
        the GIL), counted as joblib counts jobs (None: 1, decoding in the
        calling thread; ``-1``: one per core) when the frames are read as
        an array; see :func:`~skmem.video.stream.stream_clips`. A
        featurizer streaming them decodes with its own ``n_workers``.
    on_error : {"raise", "warn"}, default="raise"
        ``"raise"`` stops at the first unreadable clip with a
        :class:`VideoDecodeError` naming it; ``"warn"`` warns, returns that
        clip as zeros and lists it, with its error, in ``report_``. Either
        happens when the frames are read (decoded), not in ``transform``.
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
        ``"ignore"`` says nothing; ``report_`` lists them. Damage is seen in what is read:
        the demuxed index of the whole clip, and the frames decoded (a
        corrupt stretch whose packets are intact and that no target needs
        can go unnoticed).
    verbose : int, default=0
        Show a progress bar when > 0.

    Attributes
    ----------
    report_ : ClipReport
        The :attr:`~SampledFrames.report` of the frames the last
        ``transform`` returned (the same object): empty until they are read,
        then what decoding them met: the clips that failed, with their
        :class:`VideoDecodeError` (``on_error="warn"``), and the damaged
        clips, with their :class:`ClipDamage` (see ``on_damaged``); a
        featurizer that streamed them adds its store counts. The only
        attribute ``transform`` sets.
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
        """The clips' frames, decoded when they are read.

        The parameters and paths are checked here; no clip is decoded.

        Parameters
        ----------
        X : list or array of paths, or a DataFrame with a ``path`` column

        Returns
        -------
        frames : SampledFrames
            Stands for the uint8 array ``(n_clips, n_frames, H, W, 3)``:
            ``np.asarray(frames)`` decodes every clip (each time it is
            called); a :class:`~skmem.CNNFeaturizer` streams them, a few
            clips in memory at a time. It decodes with a copy of this
            sampler, so later changes to its parameters do not reach it.
        """
        self._decoding_settings()
        frames = SampledFrames(as_paths(X), clone(self))
        self.report_ = frames.report
        return frames

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

