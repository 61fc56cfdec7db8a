"""Backbone registry: how each network is built, fed and cut.

Each :class:`Backbone` says which torchvision constructor builds the network,
what input it expects (size, normalisation), where its pooled penultimate
features are read (an FX graph node) and which layer is its classifier.
"""

import os
import re
from dataclasses import dataclass

import torch
from torchvision.models import get_model, get_model_weights

from skmem.features.resmem import ResMemNet, load_resmem_state, resmem_identity

__all__ = [
    "Backbone",
    "BACKBONES",
    "build_network",
    "get_backbone",
    "skeleton",
    "weights_from_identity",
    "weights_identity",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Backbone:
    """How to build and feed one network.

    Attributes
    ----------
    name : str
        Registry name (``CNNFeaturizer(backbone=name)``).
    builder : str
        torchvision model name.
    crop_size : int
        Side of the square the network sees.
    resize_size : int
        Frames of another size are resized (shorter side) to this, then
        centre-cropped to ``crop_size``.
    mean, std : tuple of float or None
        Per-channel normalisation of ``[0, 1]`` pixels (None: none).
    pooled_node : str
        FX node holding the pooled penultimate features.
    head : str
        Dotted name of the final classification layer.
    last_conv : str or None
        Module holding the last convolutional feature map (class activation maps).
    stretch : bool
        Resize frames of another size to ``resize_size`` squared (ignoring the
        aspect ratio) instead of resizing their shorter side.
    source : {"torchvision", "resmem"}
        Where ``weights="DEFAULT"`` comes from.
    """

    name: str
    builder: str
    crop_size: int = 224
    resize_size: int = 256
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    pooled_node: str = "flatten"
    head: str = "fc"
    last_conv: str = "layer4"
    stretch: bool = False
    source: str = "torchvision"


_RESMEM_INPUT = {"crop_size": 227, "resize_size": 256, "mean": None, "std": None, "stretch": True, "source": "resmem"}
BACKBONES = {
    **{n: Backbone(n, n) for n in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")},
    "inception_v3": Backbone("inception_v3", "inception_v3", crop_size=299, resize_size=342, last_conv="Mixed_7c"),
    "densenet161": Backbone("densenet161", "densenet161", head="classifier", last_conv="features"),
    "alexnet": Backbone("alexnet", "alexnet", pooled_node="classifier.5", head="classifier.6", last_conv=None),
    # ImageNet ResNet152 from the resmem package, with that model's own input handling
    "resmem_resnet152": Backbone("resmem_resnet152", "resnet152", **_RESMEM_INPUT),
    # ResMem's memorability output: one score in [0, 1] per frame
    "resmem": Backbone("resmem", "resmem", pooled_node=None, head=None, last_conv=None, **_RESMEM_INPUT),
}


def get_backbone(name):
    """Look up a registered backbone by name."""
    if name not in BACKBONES:
        raise ValueError(f"backbone must be one of {sorted(BACKBONES)}, got {name!r}")
    return BACKBONES[name]


def _construct(backbone, num_classes=1000, aux_logits=False):
    if backbone.builder == "resmem":
        return ResMemNet()
    kwargs = {"num_classes": num_classes}
    if backbone.builder == "inception_v3":
        kwargs.update(aux_logits=aux_logits, init_weights=False)
    return get_model(backbone.builder, weights=None, **kwargs)


_CHECKPOINT_SUFFIXES = (".pt", ".pth", ".tar", ".bin", ".ckpt")


def _is_checkpoint_path(weights):
    if isinstance(weights, os.PathLike):
        return True
    return isinstance(weights, str) and (
        os.sep in weights or weights.lower().endswith(_CHECKPOINT_SUFFIXES) or os.path.exists(weights)
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
        A torchvision weights name (``"DEFAULT"``, ``"IMAGENET1K_V2"``,
        ``"ResNet50_Weights.IMAGENET1K_V2"``), downloaded into the torch hub
        cache on first use (resmem backbones: ``"DEFAULT"`` loads the resmem
        package's weights, offline); a local checkpoint path; or None for
        random weights.
    random_state : int or None
        Seed of the random initialisation when ``weights`` is None.

    Returns
    -------
    network : torch.nn.Module
    identity : str
        Names the weights exactly (for cache keys).
    """
    identity = weights_identity(backbone, weights, random_state)
    return _load(backbone, weights, random_state).eval(), identity


def skeleton(backbone, weights):
    """The network ``build_network`` would build, on the meta device: shapes, no weights.

    A checkpoint is only checked (its class count, entry names and shapes
    must match ``backbone``), reading its index without its tensors where the
    file format allows.
    """
    num_classes, aux_logits = 1000, False
    checkpoint = weights is not None and _is_checkpoint_path(weights)
    if checkpoint:
        path = os.path.abspath(os.fspath(weights))
        state = _read_checkpoint(backbone, path)
        num_classes = state[f"{backbone.head}.weight"].shape[0] if backbone.head is not None else 1000
        aux_logits = any(k.startswith("AuxLogits.") for k in state)
    with torch.device("meta"):
        network = _construct(backbone, num_classes=num_classes, aux_logits=aux_logits)
    if checkpoint:
        expected = {k: tuple(v.shape) for k, v in network.state_dict().items()}
        found = {k: tuple(v.shape) for k, v in state.items()}
        if expected != found:
            odd = sorted(set(expected) ^ set(found)) or sorted(k for k in expected if expected[k] != found[k])
            raise ValueError(f"{path}: does not match {backbone.name}: entries differ, e.g. {odd[:3]}")
    if backbone.builder == "inception_v3":
        network.aux_logits, network.AuxLogits = False, None
    return network.eval()


def weights_identity(backbone, weights, random_state=None):
    """A string naming exactly which weights ``build_network`` loads."""
    if weights is None:
        return f"random:{0 if random_state is None else int(random_state)}"
    if _is_checkpoint_path(weights):
        path = os.path.abspath(os.fspath(weights))
        if not os.path.isfile(path):
            raise FileNotFoundError(f"weights file not found: {path}")
        return f"file:{path}:{os.path.getsize(path)}:{os.stat(path).st_mtime_ns}"
    if backbone.source == "resmem":
        if weights != "DEFAULT":
            raise ValueError(
                f"{backbone.name} takes weights='DEFAULT' (the resmem package), a checkpoint path or None; got {weights!r}"
            )
        return resmem_identity()
    return f"torchvision:{_torchvision_weights(backbone, str(weights))}"


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
    if kind == "torchvision":
        return rest, None
    if kind.startswith("resmem-"):
        return "DEFAULT", None
    raise ValueError(f"not a weights identity recorded by skmem: {identity!r}")


def _load(backbone, weights, random_state):
    if weights is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0 if random_state is None else int(random_state))
            return _construct(backbone)
    if _is_checkpoint_path(weights):
        return _from_checkpoint(backbone, os.path.abspath(os.fspath(weights)))
    if backbone.source == "resmem":
        return _from_resmem(backbone)
    return _from_torchvision(backbone, str(weights))


def _from_resmem(backbone):
    state = load_resmem_state()
    network = _construct(backbone)
    if backbone.builder != "resmem":
        state = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
    network.load_state_dict(state)
    return network


def _torchvision_weights(backbone, weights):
    enum = get_model_weights(backbone.builder)
    member = weights.split(".")[-1]
    try:
        return enum.DEFAULT if member == "DEFAULT" else enum[member]
    except KeyError:
        names = ["DEFAULT"] + [w.name for w in enum]
        raise ValueError(
            f"weights={weights!r} is neither a file nor a {enum.__name__} name; expected one of {names}"
        ) from None


def _from_torchvision(backbone, weights):
    chosen = _torchvision_weights(backbone, weights)
    try:
        network = get_model(
            backbone.builder, weights=chosen, **({"aux_logits": True} if backbone.builder == "inception_v3" else {})
        )
    except OSError as exc:
        raise RuntimeError(
            f"could not load torchvision weights {chosen} for {backbone.name} "
            f"(they are downloaded into the torch hub cache on first use): {exc}. "
            "Offline, pass weights=<path to a checkpoint file> or weights=None."
        ) from exc
    if backbone.builder == "inception_v3":
        network.aux_logits, network.AuxLogits = False, None
    return network


_OLD_DENSENET_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.([12]\..+)$")


def _clean_state_dict(state, path):
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict or a dict with a 'state_dict' entry, got {type(state).__name__}")
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    cleaned = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{path}: entry {key!r} is not a tensor; is this a state dict?")
        key = key.removeprefix("module.")
        key = _OLD_DENSENET_KEY.sub(lambda m: m.group(1) + m.group(2), key)
        cleaned[key] = value
    return cleaned


def _read_checkpoint(backbone, path, mmap=True):
    """The cleaned state dict of a checkpoint, its tensors memory-mapped where possible."""
    try:
        try:
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
        except RuntimeError:
            if not mmap:
                raise
            state = torch.load(path, map_location="cpu", weights_only=True)  # legacy format: no mmap
    except Exception as exc:  # torch raises several types for unreadable files
        raise ValueError(f"{path}: not a readable PyTorch checkpoint ({exc})") from exc
    state = _clean_state_dict(state, path)
    head_key = f"{backbone.head}.weight"
    if backbone.head is not None and head_key not in state:
        raise ValueError(
            f"{path}: no {head_key!r} entry; it does not look like a {backbone.name} checkpoint"
        )
    return state


def _from_checkpoint(backbone, path):
    state = _read_checkpoint(backbone, path, mmap=False)
    network = _construct(
        backbone,
        num_classes=state[f"{backbone.head}.weight"].shape[0] if backbone.head is not None else 1000,
        aux_logits=any(k.startswith("AuxLogits.") for k in state),
    )
    try:
        network.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(f"{path}: does not match {backbone.name}: {exc}") from exc
    if backbone.builder == "inception_v3":
        network.aux_logits, network.AuxLogits = False, None
    return network
