"""Backbone registry: how each network is built, fed and read.

One class per weights source (:mod:`._torchvision` image classifiers and
video networks, :mod:`._resmem`, :mod:`._timm`, :mod:`._open_clip`) says how
its networks are built and where named weights come from; the
:class:`Backbone` base feeds frames to them and reads their layers. Every
torchvision image classifier and video network and both resmem networks are
registered by name in :data:`BACKBONES`; timm and open_clip models are named
``"timm/<model>"`` and ``"open_clip/<architecture>"``.
"""

import functools
import os

from skmem.features.backbones._base import Backbone, is_checkpoint_path, read_checkpoint, seeded
from skmem.features.backbones._open_clip import PREFIX as OPEN_CLIP_PREFIX
from skmem.features.backbones._open_clip import OpenClip, open_clip_backbone
from skmem.features.backbones._resmem import ResMem, resmem_backbones
from skmem.features.backbones._timm import PREFIX as TIMM_PREFIX
from skmem.features.backbones._timm import Timm, timm_backbone
from skmem.features.backbones._torchvision import TorchvisionImage, TorchvisionVideo, image_backbones, video_backbones

__all__ = [
    "Backbone",
    "BACKBONES",
    "BackboneNames",
    "OpenClip",
    "ResMem",
    "Timm",
    "TorchvisionImage",
    "TorchvisionVideo",
    "build_network",
    "get_backbone",
    "skeleton",
    "weights_from_identity",
    "weights_identity",
]

#: Every backbone registered by name: torchvision's image classifiers and video networks, resmem's two.
BACKBONES = {**image_backbones(), **video_backbones(), **resmem_backbones()}

_DYNAMIC = {TIMM_PREFIX: timm_backbone, OPEN_CLIP_PREFIX: open_clip_backbone}


class BackboneNames(frozenset):
    """The names :func:`get_backbone` may accept: :data:`BACKBONES` and any ``timm/...``, ``open_clip/...``.

    Listed (in parameter errors) as the registered names plus ``"timm/<model>"``
    and ``"open_clip/<architecture>"``.
    """

    def __new__(cls):
        return super().__new__(cls, [*BACKBONES, f"{TIMM_PREFIX}<model>", f"{OPEN_CLIP_PREFIX}<architecture>"])

    def __contains__(self, name):
        return isinstance(name, str) and (name in BACKBONES or name.startswith(tuple(_DYNAMIC)))


def get_backbone(name, weights="DEFAULT"):
    """The backbone ``name``, with the input handling of ``weights``.

    Parameters
    ----------
    name : str
        A key of :data:`BACKBONES`, ``"timm/<model>[.<tag>]"`` or ``"open_clip/<architecture>"``.
    weights : str, path-like or None, default="DEFAULT"
        Named weights may declare another input size or normalisation than
        the default ones (e.g. torchvision's ``IMAGENET1K_SWAG_E2E_V1``).
    """
    return _named(name).with_weights(weights)


@functools.lru_cache(maxsize=None)
def _named(name):
    if name in BACKBONES:
        return BACKBONES[name]
    for prefix, make in _DYNAMIC.items():
        if isinstance(name, str) and name.startswith(prefix):
            return make(name)
    raise ValueError(
        f"backbone must be one of {sorted(BACKBONES)}, 'timm/<model>' or 'open_clip/<architecture>'; got {name!r}"
    )


def build_network(backbone, weights, random_state=None):
    """Build ``backbone`` with ``weights`` in eval mode, on the CPU.

    Every call builds (and reads the weights) anew; callers keep the network
    they need (:class:`~skmem.CNNFeaturizer` builds it only when a clip must
    be computed).

    Parameters
    ----------
    backbone : Backbone
    weights : str, path-like or None
        Named weights (``"DEFAULT"``; a torchvision weights name such as
        ``"IMAGENET1K_V2"``; a timm or open_clip pretrained tag), downloaded
        into the source's cache on first use (resmem backbones:
        ``"DEFAULT"`` loads the resmem package's weights, offline); a local
        checkpoint path; or None for random weights.
    random_state : int or None
        Seed of the random initialisation when ``weights`` is None.

    Returns
    -------
    network : torch.nn.Module
    identity : str
        Names the weights exactly (for cache keys).
    """
    identity = weights_identity(backbone, weights, random_state)
    if weights is None:
        network = seeded(backbone.construct, random_state)
    elif is_checkpoint_path(weights):
        network = _from_checkpoint(backbone, os.path.abspath(os.fspath(weights)))
    else:
        network = backbone.pretrained(str(weights))
    return backbone.finish(network).eval(), identity


def skeleton(backbone, weights):
    """The network ``build_network`` would build, on the meta device: shapes, no weights.

    A checkpoint is only checked (its class count, entry names and shapes
    must match ``backbone``), reading its index without its tensors where the
    file format allows.
    """
    state = None
    if weights is not None and is_checkpoint_path(weights):
        path = os.path.abspath(os.fspath(weights))
        state = read_checkpoint(backbone, path)
    network = backbone.meta_network(state)
    if state is not None:
        expected = {k: tuple(v.shape) for k, v in network.state_dict().items()}
        found = {k: tuple(v.shape) for k, v in state.items()}
        if expected != found:
            odd = sorted(set(expected) ^ set(found)) or sorted(k for k in expected if expected[k] != found[k])
            raise ValueError(f"{path}: does not match {backbone.name}: entries differ, e.g. {odd[:3]}")
    return backbone.finish(network).eval()


def weights_identity(backbone, weights, random_state=None):
    """A string naming exactly which weights ``build_network`` loads.

    ``random:<seed>``, ``file:<path>:<size>:<mtime>``, or the source's name
    of named weights: ``torchvision:<enum member>``, ``resmem-<version>:<size>``,
    ``timm:<model>.<tag>``, ``open_clip:<architecture>:<tag>``.
    """
    if weights is None:
        return f"random:{0 if random_state is None else int(random_state)}"
    if is_checkpoint_path(weights):
        path = os.path.abspath(os.fspath(weights))
        if not os.path.isfile(path):
            raise FileNotFoundError(f"weights file not found: {path}")
        return f"file:{path}:{os.path.getsize(path)}:{os.stat(path).st_mtime_ns}"
    return backbone.pretrained_identity(str(weights))


_NAMED_KINDS = {"torchvision": TorchvisionImage, "timm": Timm, "open_clip": OpenClip}


def weights_from_identity(identity):
    """The ``(weights, random_state)`` settings that give ``identity`` (see :func:`weights_identity`).

    The identity of a checkpoint names its path: the file must still be
    there (and unchanged, which building the network then checks).
    """
    kind, _, rest = str(identity).partition(":")
    if kind == "random":
        return None, int(rest)
    if kind == "file":
        return rest.rsplit(":", 2)[0], None
    if kind in _NAMED_KINDS:
        return _NAMED_KINDS[kind].weights_from_label(rest), None
    if kind.startswith("resmem-"):
        return "DEFAULT", None
    raise ValueError(f"not a weights identity recorded by skmem: {identity!r}")


def _from_checkpoint(backbone, path):
    state = read_checkpoint(backbone, path, mmap=False)
    network = backbone.construct(state)
    try:
        network.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{path}: does not match {backbone.name}: {exc}") from exc
    return network

