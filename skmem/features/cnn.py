"""Per-frame CNN features: :class:`CNNFeaturizer`."""

import contextlib
import os
import warnings
from numbers import Integral

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted
from torchvision.models.feature_extraction import create_feature_extractor
from torchvision.transforms.v2 import functional as TF
from tqdm.auto import tqdm

from skmem._params import HasMethods, Interval, StrOptions, check_constraints
from skmem._validation import resolve_device
from skmem.features import backbones
from skmem.features.cache import CACHE_KEYS, FeatureCache
from skmem.features.streaming import clip_loader
from skmem.video import FrameSampler, as_paths

__all__ = ["CNNFeaturizer", "flat_frames", "resolve_autocast"]

#: Sampler parameters that do not change the frames (left out of the cache configuration;
#: ``seek`` picks how frames are reached, never which).
_SAMPLER_RUNTIME_PARAMS = frozenset({"n_jobs", "on_error", "on_damaged", "seek", "verbose"})


class CNNFeaturizer(TransformerMixin, BaseEstimator):
    """Run a torchvision backbone over every frame of every clip.

    Frames go in as raw uint8 RGB; the backbone's own preprocessing (resize,
    centre crop, normalisation) is applied inside. With a ``sampler`` it takes
    clip paths instead and streams: worker processes decode the next clips
    while the network runs, so memory is bounded by the batch, not the
    dataset, and ``cache_dir`` keeps one file per clip so that a rerun only
    computes what is missing.

    Nothing is loaded that is not needed: ``fit`` reads no weights (the
    output shapes come from the network built on PyTorch's ``meta`` device),
    and the network is built the first time a frame must go through it, so a
    fully cached ``transform`` never builds it. A refit with the same
    backbone, weights and layer keeps the network already built (one per
    instance; clones build their own).

    Parameters
    ----------
    backbone : str, default="resnet50"
        One of ``resnet18/34/50/101/152``, ``inception_v3``, ``densenet161``,
        ``alexnet`` (torchvision), ``resmem_resnet152`` (the ImageNet
        ResNet152 shipped by the optional ``resmem`` package, fed as ResMem
        feeds it: 256² resize, 227² crop, no mean/std normalisation) or
        ``resmem`` (ResMem's own memorability score per frame, ``D = 1``).
        The ``resmem`` package has a NON-COMMERCIAL licence.
    weights : str, path-like or None, default="DEFAULT"
        A torchvision weights name (``"DEFAULT"``, ``"IMAGENET1K_V2"``, ...),
        downloaded into the torch hub cache the first time (needs internet
        once); a local checkpoint (a plain state dict, or a Places365-style
        ``.pth.tar`` holding ``state_dict`` with ``module.``-prefixed keys and
        any number of classes); or None for random weights (warns).
    layer : str or None, default=None
        None returns the pooled penultimate features ``(n, T, D)``;
        ``"logits"`` the network's final output ``(n, T, n_classes_)`` (class
        scores before softmax; ResMem's score for ``backbone="resmem"``). The
        name of a module (e.g. ``"layer3"``) returns its feature map as
        ``(n, T, L, C)`` with ``L = h * w`` locations (resnet50 ``layer3`` at
        224²: ``L = 196``, ``C = 1024``).
    batch_size : int or "auto", default="auto"
        Frames per forward pass (frames of several clips share a batch).
        ``"auto"``: 16 on the CPU (larger batches gain nothing there and delay
        the first results), 64 on CUDA.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    sampler : FrameSampler or None, default=None
        When given, ``transform`` takes clip paths and decodes them with it
        (its ``on_error`` decides whether a bad clip raises or is returned as
        zeros and listed in ``failed_paths_``).
    cache_dir : str, path-like or None, default=None
        Folder of the per-clip feature cache (needs ``sampler``); see
        :mod:`skmem.features.cache` for the layout and its guarantees. A
        folder holding features of another configuration raises
        :class:`~skmem.features.cache.FeatureConfigError`.
    cache_key : {"stat", "content"}, default="stat"
        How a cached clip is recognised: by path, size, times and inode
        (``"stat"``), or by a digest of its content (``"content"``: reads
        3 MiB per clip, survives moving the dataset folder).
    n_workers : int or "auto", default="auto"
        Decoding worker processes (0 decodes in the main process).
        ``"auto"``: one per two cores on the CPU (the network needs the
        rest), every core but one on CUDA.
    autocast : bool or "auto", default="auto"
        Run the network in reduced precision (bfloat16 where supported, else
        float16 on CUDA; bfloat16 on the CPU). ``"auto"`` enables it on CUDA
        and on CPUs with bfloat16 instructions (AVX512-BF16 or AMX), where it
        runs several times faster; features then differ from float32 ones by
        about 1% and the cache records the precision. Features are returned
        as float32.
    random_state : int or None, default=None
        Seed of the random initialisation when ``weights=None``.
    verbose : int, default=0
        Show a progress bar when > 0.

    Attributes
    ----------
    n_features_in_ : int
        1 (one column of clip paths); set when ``fit`` is given ``X`` and a
        ``sampler``.
    batch_size_ : int
        Frames per forward pass (``batch_size="auto"``: 64 on CUDA, 16 on
        the CPU).
    network_ : torch.nn.Module
        The full backbone (with its classifier), in eval mode, on the CPU;
        built on first access.
    extractor_ : torch.nn.Module
        The part of the network that computes the returned features (built
        with ``network_``).
    n_features_out_ : int
        Feature size ``D`` (channels ``C`` for a ``layer``).
    n_locations_ : int or None
        ``L`` for a spatial ``layer`` at the backbone's input size, else None.
    n_classes_ : int
        Number of outputs of the network's final layer (1000 for ImageNet
        weights, 365 for Places365 checkpoints, 1 for ``"resmem"``).
    weights_id_ : str
        Exactly which weights are used (part of the cache configuration).
    backbone_spec_ : Backbone
        How the backbone is built and fed.
    failed_paths_ : list of str
        Clips that could not be decoded in the last ``transform``/``extract``.
    damaged_paths_ : list of str
        Clips decoded in the last ``transform``/``extract`` that the sampler
        found damaged (its ``on_damaged`` is applied in this process; cached
        clips are not decoded again and are not listed).
    damages_ : list of ClipDamage
        What the sampler found missing in each of ``damaged_paths_``.
    cache_stats_ : dict
        Cache ``hits``, ``misses`` and ``corrupt`` counts of the last call.
    """

    _parameter_constraints = {
        "backbone": [StrOptions(set(backbones.BACKBONES))],
        "weights": [str, os.PathLike, None],
        "layer": [str, None],
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
        if self.cache_dir is not None and self.sampler is None:
            raise ValueError("cache_dir needs a sampler: the cache is keyed by clip files")
        if self.sampler is not None:
            clone(self.sampler).fit()
            if X is not None:
                as_paths(X)
                self.n_features_in_ = 1
        spec = backbones.get_backbone(self.backbone)
        if self.weights is None:
            warnings.warn(
                f"{spec.name} runs with random weights (weights=None): its features carry no "
                "pretrained knowledge; pass weights='DEFAULT' or a checkpoint path for pretrained ones",
                stacklevel=2,
            )
        self.weights_id_ = backbones.weights_identity(spec, self.weights, self.random_state)
        self.batch_size_ = self.batch_size
        if self.batch_size == "auto":
            self.batch_size_ = 64 if torch.device(resolve_device(self.device)).type == "cuda" else 16
        self.backbone_spec_ = spec
        network = backbones.skeleton(spec, self.weights)
        image = torch.zeros(1, 3, spec.crop_size, spec.crop_size, device="meta")
        probe = _extractor(network, spec, self.layer, self.backbone)(image)["out"]
        self.n_classes_ = int(network(image).shape[1])
        self.n_features_out_ = int(probe.shape[1])
        self.n_locations_ = int(np.prod(probe.shape[2:])) if probe.ndim > 2 else None
        if getattr(self, "_built", None) is not None and self._built[0] != self._network_key():
            self._built = None
        return self

    def _network_key(self):
        return (self.backbone, self.weights_id_, self.layer)

    def _networks(self):
        """``(network, extractor)``, built on first use."""
        check_is_fitted(self, "weights_id_")
        if getattr(self, "_built", None) is None:
            network, identity = backbones.build_network(self.backbone_spec_, self.weights, self.random_state)
            if identity != self.weights_id_:
                raise ValueError(f"the weights changed since fit ({self.weights_id_} then, {identity} now); refit")
            self._built = (self._network_key(), network, _extractor(network, self.backbone_spec_, self.layer, self.backbone))
        return self._built[1:]

    @property
    def network_(self):
        """The full backbone in eval mode on the CPU (built on first access)."""
        return self._networks()[0]

    @property
    def extractor_(self):
        """The module computing the returned features (built on first access)."""
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
        X : ndarray of shape (n, T, H, W, 3) or (n, H, W, 3), uint8; or clip paths
            Clips (e.g. from :class:`~skmem.FrameSampler`) or single images;
            with a ``sampler``: a list of paths or a DataFrame with a ``path``
            column.

        Returns
        -------
        features : ndarray, float32
            ``(n, T, D)`` pooled or ``(n, T, L, C)`` for a ``layer``; the ``T``
            axis is absent for 4-D (image) input.
        """
        if not hasattr(self, "weights_id_"):
            return clone(self).fit(X).transform(X)
        if self.sampler is not None:
            cache = self._cache() if self.cache_dir is not None else None
            out, errors = self._stream(as_paths(X), cache, keep=True)
            self._report(errors)
            return out
        lead, flat = flat_frames(X)
        out = np.empty((len(flat),) + self._frame_shape(), dtype=np.float32)
        batch_size = self.batch_size_
        with self._running() as run:
            for start in tqdm(range(0, len(flat), batch_size), disable=not self.verbose, desc="features", unit="batch"):
                batch = flat[start : start + batch_size]
                out[start : start + len(batch)] = run(batch)
        return out.reshape(lead + out.shape[1:])

    @classmethod
    def from_feature_config(cls, config, **params):
        """A featurizer that makes the features ``config`` records (see :meth:`feature_config`).

        Parameters
        ----------
        config : dict
            A recorded configuration, e.g. :func:`skmem.features.cache.read_config`
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
            "autocast": config["precision"] != "float32",
            "random_state": random_state,
        }
        if config.get("sampler") is not None:
            settings["sampler"] = FrameSampler(**config["sampler"])
        return cls(**{**settings, **params})

    def feature_config(self):
        """The settings that determine the features: the configuration a cache folder records.

        Backbone, weights identity, layer, the sampler's frame settings and
        the precision the network runs in on ``device``.
        """
        check_is_fitted(self, "weights_id_")
        sampler = None
        if self.sampler is not None:
            sampler = {k: v for k, v in self.sampler.get_params().items() if k not in _SAMPLER_RUNTIME_PARAMS}
        device = torch.device(resolve_device(self.device))
        precision = str(_autocast_dtype(device)).removeprefix("torch.") if resolve_autocast(self.autocast, device) else "float32"
        return {
            "backbone": self.backbone,
            "weights": self.weights_id_,
            "layer": self.layer,
            "sampler": sampler,
            "precision": precision,
        }

    def extract(self, paths, n_shards=None):
        """Fill the cache for ``paths`` without holding their features in memory.

        Parameters
        ----------
        paths : list of paths or DataFrame with a ``path`` column
        n_shards : int or None, default=None
            None (or 1) computes here. ``k > 1`` splits the clips into ``k``
            shards run as tasks of the active joblib backend (see
            :func:`joblib.parallel_config`: processes of this machine, or a
            Dask or Ray cluster); each task fits a clone of this featurizer
            and writes into the one shared ``cache_dir``, so a rerun skips
            every clip a finished or killed task stored. Decoding failures are
            reported here once all shards are done (``on_error="raise"``
            raises the first one then). On GPU workers, give each worker one
            device (``CUDA_VISIBLE_DEVICES`` per worker process, or Dask
            worker resources such as ``--resources GPU=1``) and keep
            ``device="auto"``.

        Returns
        -------
        entries : list of str or None
            The cache file of each clip (None for clips that failed).
        """
        check_is_fitted(self, "weights_id_")
        check_constraints(
            {"n_shards": [Interval(Integral, 1, None, closed="left"), None]}, {"n_shards": n_shards}, "extract"
        )
        if self.cache_dir is None:
            raise ValueError("extract needs cache_dir (and a sampler)")
        paths = as_paths(paths)
        cache = self._cache()
        if n_shards is None or n_shards == 1:
            _, errors = self._stream(paths, cache, keep=False)
        else:
            shards = [s for s in np.array_split(np.arange(len(paths)), n_shards) if len(s)]
            results = Parallel()(delayed(_extract_shard)(clone(self), paths[s]) for s in shards)
            errors = [e for result in results for e in result[0]]
            self.damages_ = [d for result in results for d in result[1]]
            self.damaged_paths_ = [damage.path for damage in self.damages_]
            for damage in self.damages_:
                self.sampler.handle_damage(damage)
            self.cache_stats_ = {k: sum(r[2][k] for r in results) for k in ("hits", "misses", "corrupt")}
        self._report(errors)
        failed = set(self.failed_paths_)
        return [None if p in failed else cache.entry(p) for p in paths]

    def _report(self, errors):
        """Record the failed clips and apply the sampler's ``on_error`` to each."""
        self.failed_paths_ = [error.path for error in errors]
        for error in errors:
            self.sampler.handle_failure(error)

    def _frame_shape(self):
        if self.n_locations_ is None:
            return (self.n_features_out_,)
        return (self.n_locations_, self.n_features_out_)

    def _n_workers(self, device):
        if self.n_workers != "auto":
            return self.n_workers
        cores = os.cpu_count() or 1
        return max(0, cores - 1) if device.type == "cuda" else cores // 2

    def _cache(self):
        return FeatureCache(self.cache_dir, self.feature_config(), cache_key=self.cache_key)

    def _stream(self, paths, cache, keep):
        """Features of ``paths`` from ``cache`` (or None), computing what is missing.

        Returns the features (None unless ``keep``) and the decoding errors.
        """
        if cache is not None:
            _check_unique_names(paths, cache.directory)
        clip_shape = (self.sampler.n_frames,) + self._frame_shape()
        out = np.zeros((len(paths),) + clip_shape, dtype=np.float32) if keep else None
        todo = []
        for i, path in enumerate(paths):
            cached = cache.load(path, clip_shape) if cache is not None else None
            if cached is None:
                todo.append(i)
            elif keep:
                out[i] = cached
        stats = {
            "hits": len(paths) - len(todo),
            "misses": len(todo),
            "corrupt": len(cache.corrupt_entries) if cache is not None else 0,
        }
        self.damages_ = []
        errors = self._compute(paths, todo, clip_shape, cache, out) if todo else []
        self.damaged_paths_ = [damage.path for damage in self.damages_]
        self.cache_stats_ = stats
        return out, errors

    def _compute(self, paths, todo, clip_shape, cache, out):
        """Decode and featurize the clips ``todo``; fill ``out`` and the cache; return the errors."""
        device = torch.device(resolve_device(self.device))
        batch_size = self.batch_size_
        loader = clip_loader(
            paths,
            self.sampler,
            todo,
            clips_per_batch=max(1, batch_size // self.sampler.n_frames),
            n_workers=self._n_workers(device),
            pin_memory=device.type == "cuda",
        )
        progress = tqdm(
            total=len(paths), initial=len(paths) - len(todo), disable=not self.verbose, desc="clips", unit="clip"
        )
        errors = []
        with progress, self._running() as run:
            for items in loader:
                errors += [error for *_, error in items if error is not None]
                for i, _, damage, _ in items:
                    if damage is not None:
                        self.damages_.append(damage)
                        self.sampler.handle_damage(damage)
                good = [(i, frames) for i, frames, _, error in items if error is None]
                if good:
                    frames = torch.cat([f for _, f in good])
                    features = np.concatenate(
                        [run(frames[s : s + batch_size]) for s in range(0, len(frames), batch_size)]
                    ).reshape((len(good),) + clip_shape)
                    for (i, _), clip_features in zip(good, features):
                        if cache is not None:
                            cache.save(paths[i], clip_features)
                        if out is not None:
                            out[i] = clip_features
                progress.update(len(items))
                if errors and self.sampler.on_error == "raise":
                    break  # nothing stored so far is lost; the caller raises
        return errors

    @contextlib.contextmanager
    def _running(self):
        """Move the extractor to the device; yield ``run(uint8 batch) -> ndarray``."""
        device = torch.device(resolve_device(self.device))
        extractor = self.extractor_.to(device=device, memory_format=torch.channels_last)
        autocast = torch.autocast(
            device.type, dtype=_autocast_dtype(device), enabled=resolve_autocast(self.autocast, device)
        )

        def run(batch):
            images = self.preprocess(batch, device).contiguous(memory_format=torch.channels_last)
            with autocast:
                features = extractor(images)["out"]
            if features.ndim > 2:
                features = features.flatten(2).transpose(1, 2)
            return features.float().cpu().numpy()

        try:
            with torch.inference_mode():
                yield run
        finally:
            extractor.to("cpu")

    def preprocess(self, batch, device):
        """uint8 ``(B, H, W, 3)`` tensor -> normalised float ``(B, 3, S, S)`` on ``device``."""
        check_is_fitted(self, "weights_id_")
        spec = self.backbone_spec_
        images = batch.to(device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)
        if images.shape[-2:] != (spec.crop_size, spec.crop_size):
            size = [spec.resize_size, spec.resize_size] if spec.stretch else spec.resize_size
            images = TF.center_crop(TF.resize(images, size, antialias=True), spec.crop_size)
        if spec.mean is not None:
            images = TF.normalize(images, spec.mean, spec.std)
        return images


def _extract_shard(featurizer, paths):
    """Fill ``featurizer``'s cache for ``paths`` (a task of :meth:`CNNFeaturizer.extract`).

    ``featurizer`` is an unfitted clone; it is fitted here. Decoding failures
    are returned, not raised or warned (the caller reports them).

    Returns
    -------
    errors : list of VideoDecodeError
    damages : list of ClipDamage
        Damaged clips (``on_damaged`` is left to the caller unless it is "raise").
    cache_stats : dict
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        featurizer.fit()
    featurizer.sampler = clone(featurizer.sampler).set_params(on_error="warn")
    if featurizer.sampler.on_damaged != "raise":
        featurizer.sampler.set_params(on_damaged="ignore")
    _, errors = featurizer._stream(as_paths(paths), featurizer._cache(), keep=False)
    return errors, featurizer.damages_, featurizer.cache_stats_


def _check_unique_names(paths, directory):
    """A cache folder holds one entry per clip file name: two clips of one name cannot share it."""
    seen = {}
    for path in paths:
        name = os.path.basename(path)
        if seen.setdefault(name, path) != path:
            raise ValueError(
                f"{seen[name]} and {path} share the file name {name!r}; the cache {directory} names "
                "entries by clip file name: use one cache_dir per folder of clips"
            )


class _WholeNetwork(torch.nn.Module):
    """Expose a network's output under the key ``"out"``, like a feature extractor."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, images):
        return {"out": self.network(images)}


def _extractor(network, spec, layer, backbone):
    node = spec.pooled_node if layer is None else None if layer == "logits" else layer
    if node is None:
        return _WholeNetwork(network).eval()
    try:
        return create_feature_extractor(network, return_nodes={node: "out"}).eval()
    except ValueError as exc:
        raise ValueError(
            f"layer={layer!r} is not a layer of {backbone}; "
            f"top-level modules are {[n for n, _ in network.named_children()]}"
        ) from exc


def resolve_autocast(setting, device):
    """Whether ``autocast=setting`` runs in reduced precision on ``device``."""
    if setting != "auto":
        return bool(setting)
    if device.type == "cuda":
        return True
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
