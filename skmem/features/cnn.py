"""Per-frame CNN features: :class:`CNNFeaturizer`."""

import contextlib

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from torchvision.models.feature_extraction import create_feature_extractor
from torchvision.transforms.v2 import functional as TF
from tqdm.auto import tqdm

from skmem._validation import check_choice, check_positive_int, resolve_device
from skmem.features.backbones import build_network, get_backbone
from skmem.features.cache import FeatureCache
from skmem.features.streaming import clip_loader
from skmem.video import as_paths

__all__ = ["CNNFeaturizer", "flat_frames", "resolve_autocast"]


class CNNFeaturizer(TransformerMixin, BaseEstimator):
    """Run a torchvision backbone over every frame of every clip.

    Frames go in as raw uint8 RGB; the backbone's own preprocessing (resize,
    centre crop, normalisation) is applied inside. With a ``sampler`` it takes
    clip paths instead and streams: worker processes decode the next clips
    while the network runs, so memory is bounded by the batch, not the
    dataset, and ``cache_dir`` keeps one file per clip so that a rerun only
    computes what is missing.

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
        None returns the pooled penultimate features ``(n, T, D)``. The name of
        a module (e.g. ``"layer3"``) returns its feature map as
        ``(n, T, L, C)`` with ``L = h * w`` locations (resnet50 ``layer3`` at
        224²: ``L = 196``, ``C = 1024``).
    batch_size : int, default=32
        Frames per forward pass (frames of several clips share a batch).
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    sampler : FrameSampler or None, default=None
        When given, ``transform`` takes clip paths and decodes them with it
        (its ``on_error`` decides whether a bad clip raises or is returned as
        zeros and listed in ``failed_paths_``).
    cache_dir : str, path-like or None, default=None
        Folder of the per-clip feature cache (needs ``sampler``); see
        :mod:`skmem.features.cache` for the layout.
    n_workers : int, default=0
        Decoding worker processes (0 decodes in the main process).
    autocast : bool or "auto", default=False
        Run the network in reduced precision (bfloat16 where supported, else
        float16 on CUDA; bfloat16 on the CPU). ``"auto"`` enables it on CUDA
        and on CPUs with bfloat16 instructions (AVX512-BF16 or AMX), where it
        runs several times faster. Features are returned as float32.
    random_state : int or None, default=None
        Seed of the random initialisation when ``weights=None``.
    verbose : int, default=0
        Show a progress bar when > 0.

    Attributes
    ----------
    network_ : torch.nn.Module
        The full backbone (with its classifier), in eval mode, on the CPU.
    extractor_ : torch.nn.Module
        The part of the network that computes the returned features.
    n_features_out_ : int
        Feature size ``D`` (channels ``C`` for a ``layer``).
    n_locations_ : int or None
        ``L`` for a spatial ``layer`` at the backbone's input size, else None.
    weights_id_ : str
        Exactly which weights were loaded (part of the cache key).
    failed_paths_ : list of str
        Clips that could not be decoded in the last ``transform``.
    cache_stats_ : dict
        Cache ``hits``, ``misses`` and ``corrupt`` counts of the last ``transform``.
    """

    def __init__(
        self,
        backbone="resnet50",
        weights="DEFAULT",
        layer=None,
        batch_size=32,
        device="auto",
        sampler=None,
        cache_dir=None,
        n_workers=0,
        autocast=False,
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
        self.n_workers = n_workers
        self.autocast = autocast
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X=None, y=None):
        """Build the network; nothing is learned from ``X``."""
        spec = get_backbone(self.backbone)
        check_positive_int(self.batch_size, "batch_size")
        check_positive_int(self.n_workers, "n_workers", minimum=0)
        check_choice(self.autocast, "autocast", (False, True, "auto"))
        if self.cache_dir is not None and self.sampler is None:
            raise ValueError("cache_dir needs a sampler: the cache is keyed by clip files")
        if self.sampler is not None:
            self.sampler._validate_params()
        network, self.weights_id_ = build_network(spec, self.weights, self.random_state)
        self.backbone_spec_ = spec
        self.network_ = network
        self.extractor_ = _extractor(network, spec, self.layer, self.backbone)
        with torch.inference_mode():
            probe = self.extractor_(torch.zeros(1, 3, spec.crop_size, spec.crop_size))["out"]
        self.n_features_out_ = int(probe.shape[1])
        self.n_locations_ = int(np.prod(probe.shape[2:])) if probe.ndim > 2 else None
        return self

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
        check_is_fitted(self, "extractor_")
        if self.sampler is not None:
            cache = self._cache() if self.cache_dir is not None else None
            return self._stream(as_paths(X), cache, keep=True)
        lead, flat = flat_frames(X)
        out = np.empty((len(flat),) + self._frame_shape(), dtype=np.float32)
        with self._running() as run:
            for start in tqdm(range(0, len(flat), self.batch_size), disable=not self.verbose, desc="features", unit="batch"):
                batch = flat[start : start + self.batch_size]
                out[start : start + len(batch)] = run(batch)
        return out.reshape(lead + out.shape[1:])

    def extract(self, paths):
        """Fill the cache for ``paths`` without holding their features in memory.

        Returns the cache file of each clip (None for clips that failed).
        """
        check_is_fitted(self, "extractor_")
        if self.cache_dir is None:
            raise ValueError("extract needs cache_dir (and a sampler)")
        paths = as_paths(paths)
        cache = self._cache()
        self._stream(paths, cache, keep=False)
        failed = set(self.failed_paths_)
        return [None if p in failed else cache.entry(p) for p in paths]

    def _frame_shape(self):
        if self.n_locations_ is None:
            return (self.n_features_out_,)
        return (self.n_locations_, self.n_features_out_)

    def _cache(self):
        sampler = {k: v for k, v in self.sampler.get_params().items() if k not in ("n_jobs", "on_error", "verbose")}
        config = {
            "sampler": sampler,
            "backbone": self.backbone,
            "layer": self.layer,
            "weights": self.weights_id_,
            "autocast": resolve_autocast(self.autocast, torch.device(resolve_device(self.device))),
        }
        return FeatureCache(self.cache_dir, config)

    def _stream(self, paths, cache, keep):
        """Features of ``paths`` from ``cache`` (or None), computing what is missing."""
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
        self.failed_paths_ = []
        if todo:
            self._compute(paths, todo, clip_shape, cache, out)
        self.cache_stats_ = stats
        return out

    def _compute(self, paths, todo, clip_shape, cache, out):
        """Decode and featurize the clips ``todo``; fill ``out`` and the cache."""
        device = torch.device(resolve_device(self.device))
        loader = clip_loader(
            paths,
            self.sampler,
            todo,
            clips_per_batch=max(1, self.batch_size // self.sampler.n_frames),
            n_workers=self.n_workers,
            pin_memory=device.type == "cuda",
        )
        progress = tqdm(
            total=len(paths), initial=len(paths) - len(todo), disable=not self.verbose, desc="clips", unit="clip"
        )
        with progress, self._running() as run:
            for items in loader:
                good = [(i, frames) for i, frames, error in items if error is None]
                for i, _, error in items:
                    if error is not None:
                        self.sampler.handle_failure(error)
                        self.failed_paths_.append(paths[i])
                if good:
                    frames = torch.cat([f for _, f in good])
                    features = np.concatenate(
                        [run(frames[s : s + self.batch_size]) for s in range(0, len(frames), self.batch_size)]
                    ).reshape((len(good),) + clip_shape)
                    for (i, _), clip_features in zip(good, features):
                        if cache is not None:
                            cache.save(paths[i], clip_features)
                        if out is not None:
                            out[i] = clip_features
                progress.update(len(items))

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
            self.extractor_.to("cpu")

    def preprocess(self, batch, device):
        """uint8 ``(B, H, W, 3)`` tensor -> normalised float ``(B, 3, S, S)`` on ``device``."""
        spec = self.backbone_spec_
        images = batch.to(device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)
        if images.shape[-2:] != (spec.crop_size, spec.crop_size):
            size = [spec.resize_size, spec.resize_size] if spec.stretch else spec.resize_size
            images = TF.center_crop(TF.resize(images, size, antialias=True), spec.crop_size)
        if spec.mean is not None:
            images = TF.normalize(images, spec.mean, spec.std)
        return images


class _WholeNetwork(torch.nn.Module):
    """Expose a network's output under the key ``"out"``, like a feature extractor."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, images):
        return {"out": self.network(images)}


def _extractor(network, spec, layer, backbone):
    node = spec.pooled_node if layer is None else layer
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
