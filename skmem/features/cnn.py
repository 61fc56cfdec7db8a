"""Per-frame (or per-segment) network features: :class:`CNNFeaturizer`."""

import contextlib
import os
import warnings
from numbers import Integral

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from skmem._params import HasMethods, Interval, StrOptions, check_constraints
from skmem._validation import resolve_device
from skmem.features import backbones
from skmem.features.store import CACHE_KEYS, FeatureStore, check_output_name, output_name
from skmem.features.streaming import clip_source, extract_shard, stream_outputs
from skmem.video import ClipReport, FrameSampler, SampledFrames

__all__ = ["CNNFeaturizer", "flat_frames", "resolve_autocast"]

_STORE_NEEDS_CLIPS = (
    "cache_dir needs clips, the store is keyed by clip files: give the featurizer a sampler and clip paths, "
    "or the frames of a FrameSampler (e.g. after one in a Pipeline), not frame arrays"
)

#: Sampler parameters that do not change the frames (left out of the cache configuration;
#: ``seek`` picks how frames are reached, never which).
_SAMPLER_RUNTIME_PARAMS = frozenset({"n_jobs", "on_error", "on_damaged", "seek", "verbose"})


class CNNFeaturizer(TransformerMixin, BaseEstimator):
    """Run an image network over every frame (a video network over every segment) of every clip.

    Frames go in as raw uint8 RGB; the backbone's own preprocessing (resize,
    centre crop, normalisation, as its weights declare) is applied inside. With a ``sampler`` it takes
    clip paths instead and streams: threads decode the next clips
    while the network runs, so memory is bounded by the batch, not the
    dataset, and ``cache_dir`` keeps each clip's features in a feature store
    (:mod:`skmem.features.store`) so that a rerun only computes what is
    missing. The frames a :class:`~skmem.FrameSampler` returns (a
    :class:`~skmem.video.SampledFrames`, e.g. in
    ``Pipeline([("frames", FrameSampler()), ("cnn", CNNFeaturizer())])``)
    are streamed the same way: the featurizer then acts as one with
    ``sampler=frames.sampler`` given ``frames.paths``, sharing its store.

    One decode and one forward pass give several outputs: ``layer`` names
    the one ``transform`` returns, ``extra_outputs`` others computed and
    stored with it (:meth:`transform_outputs` returns them all).

    Nothing is loaded that is not needed: ``fit`` reads no weights (the
    output shapes come from the network built on PyTorch's ``meta`` device),
    and the network is built the first time a frame must go through it, so a
    fully cached ``transform`` never builds it. A refit with the same
    backbone, weights and layer keeps the network already built (one per
    instance; clones build their own).

    Parameters
    ----------
    backbone : str, default="resnet50"
        Any torchvision image classifier (``resnet50``, ``vit_b_16``,
        ``convnext_tiny``, ``efficientnet_v2_s``, ...); a torchvision video
        network (``r3d_18``, ``mc3_18``, ``r2plus1d_18``, ``s3d``,
        ``mvit_v1_b``, ``mvit_v2_s``, ``swin3d_t/s/b``), which reads segments
        of ``F`` consecutive frames (16; Swin3D: 32) and gives one vector per
        segment, so ``T`` is the number of segments and the sampler's
        ``n_frames`` must be a multiple of ``F``; ``"timm/<model>"`` (optional
        extra ``timm``); ``"open_clip/<architecture>"`` (a CLIP image tower:
        its image embedding; optional extra ``clip``); ``resmem_resnet152``
        (the ImageNet ResNet152 shipped by the optional ``resmem`` package,
        fed as ResMem feeds it: 256² resize, 227² crop, no mean/std
        normalisation) or ``resmem`` (ResMem's own memorability score per
        frame, ``D = 1``; the ``resmem`` package has a NON-COMMERCIAL
        licence). The documentation's Backbones page lists them all.
    weights : str, path-like or None, default="DEFAULT"
        Named weights: ``"DEFAULT"``, a torchvision weights name
        (``"IMAGENET1K_V2"``, ...), a timm or open_clip pretrained tag;
        downloaded into the source's cache the first time (needs internet
        once). A local checkpoint (a plain state dict, or a Places365-style
        ``.pth.tar`` holding ``state_dict`` with ``module.``-prefixed keys and
        any number of classes; open_clip: the whole CLIP model or its image
        tower); or None for random weights (warns).
    layer : str or None, default=None
        None returns the pooled penultimate features ``(n, T, D)``;
        ``"logits"`` the network's final output ``(n, T, n_classes_)`` (class
        scores before softmax; ResMem's score for ``backbone="resmem"``; the
        image embedding for open_clip). The name of a module (e.g.
        ``"layer3"``) returns its output as ``(n, T, L, C)`` with ``L``
        locations (resnet50 ``layer3`` at 224²: ``L = 196``, ``C = 1024``;
        a vision transformer's tokens; a video network's ``t * h * w``).
    extra_outputs : tuple of str, default=()
        Further outputs of the same forward pass, stored in the same entry:
        ``"pooled"`` (the pooled penultimate features), ``"logits"`` or a
        module name, as for ``layer``. :meth:`transform_outputs` returns them
        with the ``layer`` output (named ``"pooled"`` for ``layer=None``).
    batch_size : int or "auto", default="auto"
        Frames per forward pass (frames of several clips share a batch;
        rounded up to whole segments for a video network). ``"auto"``: 16 on
        the CPU (larger batches gain nothing there and delay the first
        results), 64 on CUDA; video networks: 2 segments on the CPU, 8 on CUDA.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    sampler : FrameSampler or None, default=None
        When given, ``transform`` takes clip paths and decodes them with it
        (its ``on_error`` decides whether a bad clip raises or is returned as
        zeros and listed in ``report_``). Leave it out when the featurizer
        follows a :class:`~skmem.FrameSampler` in a pipeline: its frames
        bring their sampler (two samplers raise a ValueError).
    cache_dir : str, path-like or None, default=None
        Folder of the per-clip feature store (needs clips: a ``sampler``, or
        the frames of a :class:`~skmem.FrameSampler`; keyed by its settings
        either way, so either form reads what the other stored); see
        :mod:`skmem.features.store` for the layout and its guarantees. A
        folder holding features of another configuration raises
        :class:`~skmem.features.store.FeatureConfigError`.
    cache_key : {"stat", "content"}, default="stat"
        How a cached clip is recognised: by path, size, times and inode
        (``"stat"``), or by a digest of its content (``"content"``: reads
        3 MiB per clip, survives moving the dataset folder).
    n_workers : int or "auto", default="auto"
        Threads decoding the next clips while the network runs (0 decodes
        between batches); FFmpeg decodes without holding the GIL (see
        :mod:`skmem.video.stream`). ``"auto"``: one per two cores on the
        CPU (the network needs the rest), every core but one on CUDA.
    autocast : bool or "auto", default="auto"
        Run the network in reduced precision (bfloat16 where supported, else
        float16 on CUDA; bfloat16 on the CPU). ``"auto"`` enables it on CUDA
        and on CPUs with bfloat16 instructions (AVX512-BF16 or AMX), where it
        runs several times faster (except open_clip towers, slower in
        bfloat16 on the CPU: float32 there); features then differ from
        float32 ones by about 1% and the cache records the precision.
        Features are returned as float32.
    random_state : int or None, default=None
        Seed of the random initialisation when ``weights=None``.
    verbose : int, default=0
        Show a progress bar when > 0.

    Attributes
    ----------
    n_features_in_ : int
        1 (one column of clip paths); set when ``fit`` is given ``X`` and a
        ``sampler``, or frames of a ``FrameSampler``.
    batch_size_ : int
        Frames per forward pass (see ``batch_size``).
    network_ : torch.nn.Module
        The full backbone (with its classifier), in eval mode, on the CPU;
        built on first access.
    extractor_ : torch.nn.Module
        The part of the network that computes the returned features (built
        with ``network_``).
    n_features_out_ : int
        Feature size ``D`` (channels ``C`` for a spatial ``layer``).
    n_locations_ : int or None
        ``L`` for a spatial ``layer`` at the backbone's input size, else None.
    outputs_ : list of str
        Names of the outputs computed, the ``layer`` output first.
    output_shapes_ : dict
        Shape of one frame's array of each output (``(D,)`` or ``(L, C)``).
    n_classes_ : int
        Number of outputs of the network's final layer (1000 for ImageNet
        weights, 400 for Kinetics, 365 for Places365 checkpoints, 1 for
        ``"resmem"``, the embedding size for open_clip).
    weights_id_ : str
        Exactly which weights are used (part of the cache configuration).
    backbone_spec_ : Backbone
        How the backbone is built and fed (for the chosen weights); see
        :mod:`skmem.features.backbones`.
    report_ : ClipReport
        What the last ``transform``, ``transform_outputs`` or ``extract``
        of clips met (all shards together; for frames of a ``FrameSampler``,
        their :attr:`~skmem.video.SampledFrames.report`, the same object as
        that sampler's ``report_``): the clips that could not
        be decoded with their :class:`~skmem.video.VideoDecodeError`, the
        damaged clips with their :class:`~skmem.video.ClipDamage` (cached
        clips are not decoded again and are not listed), and the store's
        ``hits``, ``misses`` and ``corrupt`` counts. The only attribute these
        methods set; the sampler's ``on_error`` and ``on_damaged`` are applied
        in this process.
    """

    _parameter_constraints = {
        "backbone": [StrOptions(backbones.BackboneNames())],
        "weights": [str, os.PathLike, None],
        "layer": [str, None],
        "extra_outputs": [tuple, list],
        "batch_size": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "device": [str, torch.device],
        "sampler": [HasMethods(["decode", "handle_damage", "handle_failure", "get_params"]), None],
        "cache_dir": [str, os.PathLike, None],
        "cache_key": [StrOptions(set(CACHE_KEYS))],
        "n_workers": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "autocast": ["boolean", StrOptions({"auto"})],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        backbone="resnet50",
        weights="DEFAULT",
        layer=None,
        extra_outputs=(),
        batch_size="auto",
        device="auto",
        sampler=None,
        cache_dir=None,
        cache_key="stat",
        n_workers="auto",
        autocast="auto",
        random_state=None,
        verbose=0,
    ):
        self.backbone = backbone
        self.weights = weights
        self.layer = layer
        self.extra_outputs = extra_outputs
        self.batch_size = batch_size
        self.device = device
        self.sampler = sampler
        self.cache_dir = cache_dir
        self.cache_key = cache_key
        self.n_workers = n_workers
        self.autocast = autocast
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X=None, y=None):
        """Check the settings and work out the output shapes; no weights are read.

        A checkpoint file is checked against the backbone (entry names and
        shapes) without loading its tensors where its format allows.
        """
        self._validate_params()
        if self.sampler is not None:
            clone(self.sampler).fit()
        source = clip_source(self, X) if X is not None else None
        if source is not None:
            self.n_features_in_ = 1
        elif self.cache_dir is not None and X is not None:
            raise ValueError(_STORE_NEEDS_CLIPS)
        spec = backbones.get_backbone(self.backbone, self.weights)
        sampler = source[1] if source is not None else self.sampler
        if sampler is not None:
            spec.n_steps(sampler.n_frames)
        if self.weights is None:
            warnings.warn(
                f"{spec.name} runs with random weights (weights=None): its features carry no "
                "pretrained knowledge; pass weights='DEFAULT' or a checkpoint path for pretrained ones",
                stacklevel=2,
            )
        self.weights_id_ = backbones.weights_identity(spec, self.weights, self.random_state)
        self.batch_size_ = self.batch_size
        if self.batch_size == "auto":
            self.batch_size_ = spec.auto_batch_size(torch.device(resolve_device(self.device)).type)
        self.batch_size_ = spec.round_batch(self.batch_size_)
        self.backbone_spec_ = spec
        self.outputs_ = self.output_names()
        network = backbones.skeleton(spec, self.weights)
        for name in self.outputs_:
            spec.output_request(
                network, name, label=f"layer={self.layer!r}" if name == self.outputs_[0] else f"extra_outputs {[name]!r}"
            )
        image = spec.probe()
        probes = spec.extractor(network, self.outputs_)(image)
        self.output_shapes_ = {name: tuple(int(d) for d in spec.locations(p).shape[1:]) for name, p in probes.items()}
        probe = spec.locations(probes[self.outputs_[0]])
        self.n_classes_ = int(network(image).shape[1])
        self.n_features_out_ = int(probe.shape[-1])
        self.n_locations_ = int(probe.shape[1]) if probe.ndim > 2 else None
        if getattr(self, "_built", None) is not None and self._built[0] != self._network_key():
            self._built = None
        return self

    def _network_key(self):
        return (self.backbone, self.weights_id_, tuple(self.outputs_))

    def _networks(self):
        """``(network, extractor)``, built on first use."""
        check_is_fitted(self, "weights_id_")
        if getattr(self, "_built", None) is None:
            network, identity = backbones.build_network(self.backbone_spec_, self.weights, self.random_state)
            if identity != self.weights_id_:
                raise ValueError(f"the weights changed since fit ({self.weights_id_} then, {identity} now); refit")
            self._built = (self._network_key(), network, self.backbone_spec_.extractor(network, self.outputs_).eval())
        return self._built[1:]

    @property
    def network_(self):
        """The full backbone in eval mode on the CPU (built on first access)."""
        return self._networks()[0]

    @property
    def extractor_(self):
        """The module computing the outputs, a dict by name (built on first access)."""
        return self._networks()[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.requires_fit = False  # fit reads no data: an unfitted featurizer transforms as a fitted one
        return tags

    def transform(self, X):
        """Compute features.

        Parameters
        ----------
        X : ndarray of shape (n, T, H, W, 3) or (n, H, W, 3), uint8; SampledFrames; or clip paths
            Clips or single images; the frames of a :class:`~skmem.FrameSampler`
            (streamed, see above); with a ``sampler``: a list of paths or a
            DataFrame with a ``path`` column.

        Returns
        -------
        features : ndarray, float32
            ``(n, T, D)`` pooled or ``(n, T, L, C)`` for a ``layer``; the ``T``
            axis is absent for 4-D (image) input. A video network gives one
            step per segment: ``T`` = frames per clip / ``segment_frames``.
        """
        if not hasattr(self, "weights_id_"):  # fit learns nothing: an unfitted featurizer fits a copy
            return clone(self).fit(X).transform(X)
        return self._outputs(X, self.outputs_[:1])[self.outputs_[0]]

    def transform_outputs(self, X):
        """Every output (``layer``'s and ``extra_outputs``) from one decode and one forward pass.

        Parameters
        ----------
        X : as in :meth:`transform`

        Returns
        -------
        outputs : dict of str to ndarray
            Keyed by :attr:`outputs_` (``"pooled"`` for ``layer=None``), each
            shaped as :meth:`transform`'s output for that layer.
        """
        if not hasattr(self, "weights_id_"):
            return clone(self).fit(X).transform_outputs(X)
        return self._outputs(X, None)

    def _outputs(self, X, wanted):
        check_is_fitted(self, "weights_id_")
        wanted = self.outputs_ if wanted is None else wanted
        source = clip_source(self, X)
        if source is not None:
            paths, sampler = source
            cache = self._cache(sampler) if self.cache_dir is not None else None
            self.report_ = _report_for(X)
            return stream_outputs(self, paths, sampler, cache, wanted, self.report_)
        if self.cache_dir is not None:
            raise ValueError(_STORE_NEEDS_CLIPS)
        lead, flat = flat_frames(X)
        steps = self.backbone_spec_.n_steps
        if len(lead) == 1 and self.backbone_spec_.segment_frames:
            raise ValueError(f"{self.backbone} reads clips: X must be of shape (n, T, H, W, 3), got {np.shape(X)}")
        lead = lead[:-1] + (steps(lead[-1]),)
        out = {name: np.empty((int(np.prod(lead)),) + self.output_shapes_[name], dtype=np.float32) for name in wanted}
        batch_size = self.batch_size_
        with self._running() as run:
            for start in tqdm(range(0, len(flat), batch_size), disable=not self.verbose, desc="features", unit="batch"):
                computed = run(flat[start : start + batch_size])
                for name in wanted:
                    out[name][steps(start) : steps(start) + len(computed[name])] = computed[name]
        return {name: array.reshape(lead + array.shape[1:]) for name, array in out.items()}

    @classmethod
    def from_feature_config(cls, config, **params):
        """A featurizer that makes the features ``config`` records (see :meth:`feature_config`).

        Parameters
        ----------
        config : dict
            A recorded configuration, e.g. :func:`skmem.features.store.read_config`
            of a feature folder or the one a saved model keeps.
        **params
            Other parameters (``cache_dir``, ``device``, ``n_workers``, ...);
            they take precedence over the recorded settings.
        """
        weights, random_state = backbones.weights_from_identity(config["weights"])
        settings = {
            "backbone": config["backbone"],
            "weights": weights,
            "layer": config["layer"],
            "extra_outputs": tuple(config.get("extra_outputs", ())),
            "autocast": config["precision"] != "float32",
            "random_state": random_state,
        }
        if config.get("sampler") is not None:
            settings["sampler"] = FrameSampler(**config["sampler"])
        return cls(**{**settings, **params})

    def output_names(self):
        """The outputs a fit computes, ``layer``'s first (``"pooled"`` for None), then ``extra_outputs``."""
        return list(dict.fromkeys([output_name(self.layer), *map(check_output_name, self.extra_outputs)]))

    def feature_config(self):
        """The settings that determine the features: the configuration a feature store records.

        Backbone, weights identity, layer, extra outputs, the sampler's frame
        settings, the precision the network runs in on ``device`` and, for a
        video network, ``segment_frames`` (frames per segment).
        """
        return self._feature_config(self.sampler)

    def _feature_config(self, sampler):
        """:meth:`feature_config` of clips decoded by ``sampler`` (None: frames given as arrays)."""
        check_is_fitted(self, "weights_id_")
        if sampler is not None:
            sampler = {k: v for k, v in sampler.get_params().items() if k not in _SAMPLER_RUNTIME_PARAMS}
        device = torch.device(resolve_device(self.device))
        precision = str(_autocast_dtype(device)).removeprefix("torch.") if self._reduced(device) else "float32"
        config = {
            "backbone": self.backbone,
            "weights": self.weights_id_,
            "layer": self.layer,
            "extra_outputs": self.outputs_[1:],
            "sampler": sampler,
            "precision": precision,
        }
        if self.backbone_spec_.segment_frames:
            config["segment_frames"] = self.backbone_spec_.segment_frames
        return config

    def extract(self, paths, n_shards=None):
        """Fill the feature store for ``paths`` without holding their features in memory.

        Parameters
        ----------
        paths : list of paths or DataFrame with a ``path`` column; or SampledFrames
            Paths need a ``sampler``; the frames of a :class:`~skmem.FrameSampler`
            bring theirs.
        n_shards : int or None, default=None
            None (or 1) computes here. ``k > 1`` splits the clips into ``k``
            shards run as tasks of the active joblib backend (see
            :func:`joblib.parallel_config`: processes of this machine, or a
            Dask or Ray cluster); each task fits a clone of this featurizer
            and writes into the one shared store ``cache_dir``, so a rerun skips
            every clip a finished or killed task stored. The shards' reports
            are merged into ``report_`` and the sampler's ``on_damaged`` and
            ``on_error`` are applied here once all shards are done
            (``on_error="raise"`` raises the first failure then). On GPU
            workers, give each worker one device (``CUDA_VISIBLE_DEVICES``
            per worker process, or Dask worker resources such as
            ``--resources GPU=1``) and keep ``device="auto"``.

        Returns
        -------
        entries : list of str or None
            The ``.npy`` file of each clip's ``layer`` output in the store
            (None for clips that failed).
        """
        check_is_fitted(self, "weights_id_")
        check_constraints(
            {"n_shards": [Interval(Integral, 1, None, closed="left"), None]}, {"n_shards": n_shards}, "extract"
        )
        if self.cache_dir is None:
            raise ValueError("extract needs cache_dir (and a sampler)")
        source = clip_source(self, paths)
        if source is None:
            raise ValueError("extract needs clips: a sampler, or the frames of a FrameSampler")
        clips, (paths, sampler) = paths, source
        cache = self._cache(sampler)
        self.report_ = _report_for(clips)
        if n_shards is None or n_shards == 1:
            stream_outputs(self, paths, sampler, cache, (), self.report_)
        else:
            shards = [s for s in np.array_split(np.arange(len(paths)), n_shards) if len(s)]
            for report in Parallel()(delayed(extract_shard)(clone(self), paths[s], sampler) for s in shards):
                self.report_.add(report)
            self.report_.apply(sampler)
        failed = set(self.report_.failed_paths)
        files = []
        for path in paths:
            entry = None if path in failed else cache.entry(path)
            files.append(None if entry is None else entry.file(self.outputs_[0]))
        return files

    def _reduced(self, device):
        """Whether the network runs in reduced precision on ``device``."""
        return resolve_autocast(self.autocast, device, self.backbone_spec_)

    def _n_workers(self, device):
        if self.n_workers != "auto":
            return self.n_workers
        cores = os.cpu_count() or 1
        return max(0, cores - 1) if device.type == "cuda" else cores // 2

    def _cache(self, sampler):
        return FeatureStore(self.cache_dir, self._feature_config(sampler), cache_key=self.cache_key)

    def _clip_shapes(self, sampler):
        return {name: (self.backbone_spec_.n_steps(sampler.n_frames),) + self.output_shapes_[name] for name in self.outputs_}

    @contextlib.contextmanager
    def _running(self):
        """Move the extractor to the device; yield ``run(uint8 batch) -> {output: ndarray}``."""
        device = torch.device(resolve_device(self.device))
        spec = self.backbone_spec_
        extractor = self.extractor_.to(device=device, memory_format=spec.memory_format)
        autocast = torch.autocast(
            device.type, dtype=_autocast_dtype(device), enabled=self._reduced(device)
        )

        def run(batch):
            images = self.preprocess(batch, device).contiguous(memory_format=spec.memory_format)
            with autocast:
                outputs = extractor(images)
            return {name: spec.locations(f).float().cpu().numpy() for name, f in outputs.items()}

        try:
            with torch.inference_mode():
                yield run
        finally:
            extractor.to("cpu")

    def preprocess(self, batch, device):
        """uint8 ``(B, H, W, 3)`` tensor -> the network's normalised float input on ``device``.

        ``(B, 3, S, S)`` for image networks; ``(B / F, 3, F, S, S)`` for video
        networks reading segments of ``F`` frames.
        """
        check_is_fitted(self, "weights_id_")
        return self.backbone_spec_.preprocess(batch, device)


def _report_for(X):
    """The report a call on ``X`` fills: the frames' own (emptied) for SampledFrames, else a new one."""
    return X.start_report() if isinstance(X, SampledFrames) else ClipReport()


def resolve_autocast(setting, device, backbone=None):
    """Whether ``autocast=setting`` runs in reduced precision on ``device`` (with ``backbone``, a Backbone)."""
    if setting != "auto":
        return bool(setting)
    if device.type == "cuda":
        return True
    if backbone is not None and not backbone.cpu_bfloat16:
        return False
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))


def _autocast_dtype(device):
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def flat_frames(X):
    """Check uint8 frames ``(n, T, H, W, 3)`` or ``(n, H, W, 3)``.

    Returns the leading shape (``(n, T)`` or ``(n,)``) and the frames as one
    uint8 tensor ``(N, H, W, 3)``.
    """
    frames = np.asarray(X)
    if frames.dtype != np.uint8:
        raise ValueError(
            f"X must hold raw uint8 RGB frames (from FrameSampler), got dtype {frames.dtype}"
        )
    if frames.ndim not in (4, 5) or frames.shape[-1] != 3:
        raise ValueError(
            f"X must be of shape (n, T, H, W, 3) or (n, H, W, 3), got {frames.shape}"
        )
    if frames.shape[0] == 0:
        raise ValueError("X holds no clip")
    return frames.shape[:-3], torch.from_numpy(np.ascontiguousarray(frames).reshape((-1,) + frames.shape[-3:]))
