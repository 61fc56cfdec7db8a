"""torchvision's image classifiers and video networks, fed as their weights declare."""

import math
import warnings
from dataclasses import dataclass, replace

import torch
import torchvision.models
from torchvision.models import get_model, get_model_weights, list_models

from skmem.features.backbones._base import Backbone

__all__ = ["TorchvisionImage", "TorchvisionVideo", "image_backbones", "video_backbones"]

# The classifier (last linear layer) of each architecture family, by name prefix ("fc" otherwise).
_HEADS = {
    "alexnet": "classifier.6", "vgg": "classifier.6", "densenet": "classifier", "mobilenet_v2": "classifier.1",
    "mobilenet_v3": "classifier.3", "efficientnet": "classifier.1", "mnasnet": "classifier.1",
    "convnext": "classifier.2", "vit_": "heads.head", "swin": "head", "maxvit": "classifier.5",
    "squeezenet": "classifier.1", "s3d": "classifier.1", "mvit": "head.1",
}
# The last convolutional map of architectures whose head is one linear layer on its average.
_LAST_CONV = {
    "resnet": "layer4", "resnext": "layer4", "wide_resnet": "layer4", "regnet": "trunk_output",
    "densenet": "features", "inception_v3": "Mixed_7c", "googlenet": "inception5b", "shufflenet": "conv5",
    "mnasnet": "layers", "efficientnet": "features", "mobilenet_v2": "features",
}
# Frames per input of each video network: the clip length of its recorded evaluation, except S3D
# (evaluated on 128 frames, trained on 64; fully convolutional in time, it takes any length >= 14).
_SEGMENT_FRAMES = {"r3d_18": 16, "mc3_18": 16, "r2plus1d_18": 16, "s3d": 16, "mvit_v1_b": 16, "mvit_v2_s": 16}
_AUX = {"inception_v3": "AuxLogits.", "googlenet": "aux1."}


def _by_prefix(table, name, default=None):
    return next((value for prefix, value in table.items() if name.startswith(prefix)), default)


def _input_handling(weights):
    """Backbone fields from a weights enum member's transforms (built without downloading)."""
    transforms = weights.transforms()
    resize = transforms.resize_size
    return {
        "crop_size": int(transforms.crop_size[0]),
        "resize_size": int(resize[0]) if len(resize) == 1 else tuple(int(s) for s in resize),
        "mean": tuple(transforms.mean),
        "std": tuple(transforms.std),
        "interpolation": transforms.interpolation.value,
        "antialias": bool(getattr(transforms, "antialias", False)),
    }


@dataclass(frozen=True)
class TorchvisionImage(Backbone):
    """A torchvision image classifier; ``weights="DEFAULT"`` or a member of its weights enum.

    The input handling is the one the chosen weights' ``transforms()`` declare
    (their DEFAULT member for random weights and checkpoints).
    """

    def with_weights(self, weights):
        if not isinstance(weights, str) or weights == "DEFAULT":
            return self
        try:
            chosen = self._weights(weights)
        except ValueError:
            return self  # a checkpoint path, or a bad name that pretrained_identity names
        return replace(self, **_input_handling(chosen))

    def _weights(self, weights):
        enum = get_model_weights(self.builder)
        member = weights.split(".")[-1]
        try:
            return enum.DEFAULT if member == "DEFAULT" else enum[member]
        except KeyError:
            names = ["DEFAULT"] + [w.name for w in enum]
            raise ValueError(
                f"weights={weights!r} is neither a file nor a {enum.__name__} name; expected one of {names}"
            ) from None

    def pretrained_identity(self, weights):
        return f"torchvision:{self._weights(weights)}"

    def construct(self, state=None):
        kwargs = {"num_classes": self.num_classes(state, default=len(self.categories()))}
        if self.builder.startswith("vit_"):
            kwargs["image_size"] = self.crop_size  # the size of the chosen weights (SWAG: 384 to 518)
        if self.builder in _AUX:
            kwargs.update(aux_logits=state is not None and any(k.startswith(_AUX[self.builder]) for k in state))
            kwargs.update(init_weights=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return get_model(self.builder, weights=None, **kwargs)

    def pretrained(self, weights):
        chosen = self._weights(weights)
        try:
            network = get_model(self.builder, weights=chosen, **({"aux_logits": True} if self.builder in _AUX else {}))
        except OSError as exc:
            raise RuntimeError(
                f"could not load torchvision weights {chosen} for {self.name} "
                f"(they are downloaded into the torch hub cache on first use): {exc}. "
                "Offline, pass weights=<path to a checkpoint file> or weights=None."
            ) from exc
        return network

    def finish(self, network):
        """Drop the auxiliary classifiers used only in training."""
        if self.builder == "inception_v3":
            network.aux_logits, network.AuxLogits = False, None
        elif self.builder == "googlenet":
            network.aux_logits, network.aux1, network.aux2 = False, None, None
        return network

    def categories(self):
        return list(get_model_weights(self.builder).DEFAULT.meta["categories"])


@dataclass(frozen=True)
class TorchvisionVideo(TorchvisionImage):
    """A torchvision video network: segments of ``segment_frames`` consecutive frames -> one vector each.

    Input ``(B, 3, segment_frames, S, S)``; the frames are resized as the
    Kinetics weights' transforms do (no antialiasing).
    """

    segment_frames: int = 16

    @property
    def memory_format(self):
        return torch.contiguous_format  # channels-last is defined for 4-D tensors only

    def auto_batch_size(self, device_type):
        return self.segment_frames * (8 if device_type == "cuda" else 2)

    def round_batch(self, batch_size):
        return self.segment_frames * math.ceil(batch_size / self.segment_frames)

    def n_steps(self, n_frames):
        if n_frames % self.segment_frames:
            raise ValueError(
                f"{self.name} reads segments of {self.segment_frames} consecutive frames: the frames per clip "
                f"({n_frames}) must be a multiple of {self.segment_frames} (e.g. FrameSampler(n_frames="
                f"{self.segment_frames * max(1, n_frames // self.segment_frames)}, strategy='fps', fps=15))"
            )
        return n_frames // self.segment_frames

    def probe(self):
        return torch.zeros(1, 3, self.segment_frames, self.crop_size, self.crop_size, device="meta")

    def preprocess(self, batch, device):
        """uint8 ``(B * segment_frames, H, W, 3)`` frames -> float ``(B, 3, segment_frames, S, S)``."""
        self.n_steps(len(batch))
        images = super().preprocess(batch, device)
        segments = images.reshape((-1, self.segment_frames) + images.shape[1:])
        return segments.transpose(1, 2)


def _image_backbone(name):
    head = _by_prefix(_HEADS, name, "fc")
    return TorchvisionImage(
        name, name, **_input_handling(get_model_weights(name).DEFAULT), head=head,
        last_conv=_by_prefix(_LAST_CONV, name), cam_relu=name.startswith("densenet"),
        token_layers=name.startswith("vit_"), channels_last_maps=name.startswith("swin"),
    )


def _video_backbone(name):
    weights = get_model_weights(name).DEFAULT
    handling = _input_handling(weights)
    segment = _SEGMENT_FRAMES.get(name) or int(weights.meta["_docs"].split("clip_len=")[1].split("`")[0])
    return TorchvisionVideo(
        name, name, **{**handling, "antialias": False}, head=_by_prefix(_HEADS, name, "fc"),
        token_layers=name.startswith("mvit"), channels_last_maps=name.startswith("swin3d"), segment_frames=segment,
    )


def image_backbones():
    """Every torchvision image classifier, by name."""
    return {name: _image_backbone(name) for name in list_models(module=torchvision.models)}


def video_backbones():
    """Every torchvision video network, by name."""
    return {name: _video_backbone(name) for name in list_models(module=torchvision.models.video)}

