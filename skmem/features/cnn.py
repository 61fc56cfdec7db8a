"""Per-frame CNN features: :class:`CNNFeaturizer`."""

import contextlib
import multiprocessing
import os
import warnings
from numbers import Integral

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted
from torchvision.models.feature_extraction import create_feature_extractor, get_graph_node_names
from torchvision.transforms.v2 import functional as TF
from tqdm.auto import tqdm

from skmem._params import HasMethods, Interval, StrOptions, check_constraints
from skmem._validation import resolve_device
from skmem.features import backbones
from skmem.features.store import CACHE_KEYS, FeatureStore, check_output_name, output_name
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
    dataset, and ``cache_dir`` keeps each clip's features in a feature store
    (:mod:`skmem.features.store`) so that a rerun only computes what is
    missing.

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
    extra_outputs : tuple of str, default=()
        Further outputs of the same forward pass, stored in the same entry:
        ``"pooled"`` (the pooled penultimate features), ``"logits"`` or a
        module name, as for ``layer``. :meth:`transform_outputs` returns them
        with the ``layer`` output (named ``"pooled"`` for ``layer=None``).
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
        Folder of the per-clip feature store (needs ``sampler``); see
        :mod:`skmem.features.store` for the layout and its guarantees. A
        folder holding features of another configuration raises
        :class:`~skmem.features.store.FeatureConfigError`.
    cache_key : {"stat", "content"}, default="stat"
        How a cached clip is recognised: by path, size, times and inode
        (``"stat"``), or by a digest of its content (``"content"``: reads
        3 MiB per clip, survives moving the dataset folder).
    n_workers : int or "auto", default="auto"
        Decoding worker processes (0 decodes in the main process).
        ``"auto"``: one per two cores on the CPU (the network needs the
        rest), every core but one on CUDA. In a daemonic process (a worker
        of Dask, Ray or a multiprocessing pool), which may not start
        processes, the workers are threads.
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
    outputs_ : list of str
        Names of the outputs computed, the ``layer`` output first.
    output_shapes_ : dict
        Shape of one frame's array of each output (``(D,)`` or ``(L, C)``).
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
        self.outputs_ = list(dict.fromkeys([output_name(self.layer), *map(check_output_name, self.extra_outputs)]))
        network = backbones.skeleton(spec, self.weights)
        image = torch.zeros(1, 3, spec.crop_size, spec.crop_size, device="meta")
        probes = _extractor(network, spec, self.outputs_, self.backbone)(image)
        self.output_shapes_ = {
            name: (int(p.shape[1]),) if p.ndim == 2 else (int(np.prod(p.shape[2:])), int(p.shape[1]))
            for name, p in probes.items()
        }
        probe = probes[self.outputs_[0]]
        self.n_classes_ = int(network(image).shape[1])
        self.n_features_out_ = int(probe.shape[1])
        self.n_locations_ = int(np.prod(probe.shape[2:])) if probe.ndim > 2 else None
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
            extractor = _extractor(network, self.backbone_spec_, self.outputs_, self.backbone)
            self._built = (self._network_key(), network, extractor)
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
        check_is_fitted(self, "weights_id_")
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
        return self._outputs(X, None)

    def _outputs(self, X, wanted):
        check_is_fitted(self, "weights_id_")
        wanted = self.outputs_ if wanted is None else wanted
        if self.sampler is not None:
            cache = self._cache() if self.cache_dir is not None else None
            out, errors = self._stream(as_paths(X), cache, keep=wanted)
            self._report(errors)
            return out
        lead, flat = flat_frames(X)
        out = {name: np.empty((len(flat),) + self.output_shapes_[name], dtype=np.float32) for name in wanted}
        batch_size = self.batch_size_
        with self._running() as run:
            for start in tqdm(range(0, len(flat), batch_size), disable=not self.verbose, desc="features", unit="batch"):
                computed = run(flat[start : start + batch_size])
                for name in wanted:
                    out[name][start : start + len(computed[name])] = computed[name]
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

    def feature_config(self):
        """The settings that determine the features: the configuration a feature store records.

        Backbone, weights identity, layer, extra outputs, the sampler's frame
        settings and the precision the network runs in on ``device``.
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
            "extra_outputs": self.outputs_[1:],
            "sampler": sampler,
            "precision": precision,
        }

    def extract(self, paths, n_shards=None):
        """Fill the feature store for ``paths`` without holding their features in memory.

        Parameters
        ----------
        paths : list of paths or DataFrame with a ``path`` column
        n_shards : int or None, default=None
            None (or 1) computes here. ``k > 1`` splits the clips into ``k``
            shards run as tasks of the active joblib backend (see
            :func:`joblib.parallel_config`: processes of this machine, or a
            Dask or Ray cluster); each task fits a clone of this featurizer
            and writes into the one shared store ``cache_dir``, so a rerun skips
            every clip a finished or killed task stored. Decoding failures are
            reported here once all shards are done (``on_error="raise"``
            raises the first one then). On GPU workers, give each worker one
            device (``CUDA_VISIBLE_DEVICES`` per worker process, or Dask
            worker resources such as ``--resources GPU=1``) and keep
            ``device="auto"``.

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
        files = []
        for path in paths:
            entry = None if path in failed else cache.entry(path)
            files.append(None if entry is None else entry.file(self.outputs_[0]))
        return files

    def _report(self, errors):
        """Record the failed clips and apply the sampler's ``on_error`` to each."""
        self.failed_paths_ = [error.path for error in errors]
        for error in errors:
            self.sampler.handle_failure(error)

    def _n_workers(self, device):
        if self.n_workers != "auto":
            return self.n_workers
        cores = os.cpu_count() or 1
        return max(0, cores - 1) if device.type == "cuda" else cores // 2

    def _cache(self):
        return FeatureStore(self.cache_dir, self.feature_config(), cache_key=self.cache_key)

    def _clip_shapes(self):
        return {name: (self.sampler.n_frames,) + self.output_shapes_[name] for name in self.outputs_}

    def _stream(self, paths, cache, keep):
        """Outputs of ``paths`` from ``cache`` (or None), computing what is missing.

        ``keep`` lists the outputs to return (falsy: none are kept). Returns
        the outputs (``{name: (n, T, ...)}``, None unless ``keep``) and the
        decoding errors. A clip is decoded and run through the network once
        for all outputs; every output goes to the store.
        """
        shapes = self._clip_shapes()
        out = {name: np.zeros((len(paths),) + shapes[name], dtype=np.float32) for name in keep} if keep else None
        todo = []
        for i, path in enumerate(paths):
            cached = cache.load(path, shapes) if cache is not None else None
            if cached is None:
                todo.append(i)
            elif keep:
                for name in keep:
                    out[name][i] = cached[name]
        stats = {
            "hits": len(paths) - len(todo),
            "misses": len(todo),
            "corrupt": len(cache.corrupt_entries) if cache is not None else 0,
        }
        self.damages_ = []
        errors = self._compute(paths, todo, shapes, cache, out) if todo else []
        self.damaged_paths_ = [damage.path for damage in self.damages_]
        self.cache_stats_ = stats
        return out, errors

    def _compute(self, paths, todo, shapes, cache, out):
        """Decode and featurize the clips ``todo``; fill ``out`` and the store; return the errors."""
        device = torch.device(resolve_device(self.device))
        batch_size = self.batch_size_
        loader = clip_loader(
            paths,
            self.sampler,
            todo,
            clips_per_batch=max(1, batch_size // self.sampler.n_frames),
            n_workers=self._n_workers(device),
            pin_memory=device.type == "cuda",
            threads=multiprocessing.current_process().daemon,
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
                    runs = [run(frames[s : s + batch_size]) for s in range(0, len(frames), batch_size)]
                    features = {
                        name: np.concatenate([r[name] for r in runs]).reshape((len(good),) + shape)
                        for name, shape in shapes.items()
                    }
                    for k, (i, _) in enumerate(good):
                        if cache is not None:
                            cache.save(paths[i], {name: features[name][k] for name in shapes})
                        if out is not None:
                            for name in out:
                                out[name][i] = features[name][k]
                progress.update(len(items))
                if errors and self.sampler.on_error == "raise":
                    break  # nothing stored so far is lost; the caller raises
        return errors

    @contextlib.contextmanager
    def _running(self):
        """Move the extractor to the device; yield ``run(uint8 batch) -> {output: ndarray}``."""
        device = torch.device(resolve_device(self.device))
        extractor = self.extractor_.to(device=device, memory_format=torch.channels_last)
        autocast = torch.autocast(
            device.type, dtype=_autocast_dtype(device), enabled=resolve_autocast(self.autocast, device)
        )

        def run(batch):
            images = self.preprocess(batch, device).contiguous(memory_format=torch.channels_last)
            with autocast:
                outputs = extractor(images)
            return {
                name: (f.flatten(2).transpose(1, 2) if f.ndim > 2 else f).float().cpu().numpy()
                for name, f in outputs.items()
            }

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
    """Fill ``featurizer``'s store for ``paths`` (a task of :meth:`CNNFeaturizer.extract`).

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


class _WholeNetwork(torch.nn.Module):
    """Expose a network's output under one name, like a feature extractor."""

    def __init__(self, network, names):
        super().__init__()
        self.network = network
        self.names = list(names)

    def forward(self, images):
        out = self.network(images)
        return dict.fromkeys(self.names, out)


def _extractor(network, spec, outputs, backbone):
    """A module returning ``{output: tensor}`` for each of ``outputs`` from one forward pass."""
    nodes = {name: spec.pooled_node if name == "pooled" else None if name == "logits" else name for name in outputs}
    if set(nodes.values()) == {None}:
        return _WholeNetwork(network, outputs).eval()
    if None in nodes.values():
        _, eval_nodes = get_graph_node_names(network)
        nodes = {name: eval_nodes[-1] if node is None else node for name, node in nodes.items()}
    try:
        return create_feature_extractor(network, return_nodes={node: name for name, node in nodes.items()}).eval()
    except ValueError as exc:
        unknown = [name for name in outputs if name not in ("pooled", "logits")]
        raise ValueError(
            f"layer or extra_outputs {unknown!r} is not a layer of {backbone}; "
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
