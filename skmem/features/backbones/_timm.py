"""timm image models by name: ``backbone="timm/<model>[.<pretrained tag>]"`` (optional extra ``timm``)."""

import math
from dataclasses import dataclass, replace

from skmem.features.backbones._base import Backbone, LayerOutputs

__all__ = ["Timm", "timm_backbone"]

PREFIX = "timm/"


def _timm():
    try:
        import timm
    except ImportError as exc:
        raise ImportError("timm backbones need the optional 'timm' package: pip install 'skmem[timm]'") from exc
    return timm


def _input_handling(cfg):
    size = int(cfg.input_size[-1])
    return {
        "crop_size": size,
        "resize_size": int(math.floor(size / cfg.crop_pct)) if cfg.crop_pct else size,
        "mean": tuple(cfg.mean),
        "std": tuple(cfg.std),
        "interpolation": cfg.interpolation if cfg.interpolation in ("bilinear", "bicubic", "nearest") else "bicubic",
    }


@dataclass(frozen=True)
class Timm(Backbone):
    """A timm model; ``builder`` is ``<architecture>.<pretrained tag>``.

    ``weights="DEFAULT"`` downloads that tag's weights from the Hugging Face
    hub into its usual cache; another tag name selects that tag. The input
    handling (size, ``crop_pct`` resize, interpolation, mean/std) is the
    tag's pretrained configuration.
    """

    token_layers: bool = True

    def _cfg(self, tag=None):
        timm = _timm()
        architecture = self.builder.split(".")[0]
        try:
            return timm.models.get_pretrained_cfg(architecture if tag is None else f"{architecture}.{tag}")
        except RuntimeError as exc:
            raise ValueError(f"weights={tag!r} is not a pretrained tag of timm model {architecture!r}: {exc}") from None

    def _tag(self, weights):
        return self.builder.split(".")[1] if weights == "DEFAULT" else weights

    def with_weights(self, weights):
        if not isinstance(weights, str) or weights in ("DEFAULT", self.builder.split(".")[1]):
            return self
        try:
            cfg = self._cfg(weights)
        except ValueError:
            return self  # a checkpoint path, or a bad tag that pretrained_identity names
        return replace(self, builder=f"{cfg.architecture}.{cfg.tag}", **_input_handling(cfg))

    def pretrained_identity(self, weights):
        cfg = self._cfg(self._tag(weights))
        return f"timm:{cfg.architecture}.{cfg.tag}"

    @staticmethod
    def weights_from_label(label):
        return label.split(".", 1)[1]

    def construct(self, state=None):
        return _timm().create_model(self.builder, pretrained=False, num_classes=self.num_classes(state))

    def pretrained(self, weights):
        cfg = self._cfg(self._tag(weights))
        try:
            return _timm().create_model(f"{cfg.architecture}.{cfg.tag}", pretrained=True)
        except OSError as exc:
            raise RuntimeError(
                f"could not load timm weights {cfg.architecture}.{cfg.tag} (downloaded from the Hugging Face hub "
                f"on first use): {exc}. Offline, pass weights=<path to a checkpoint file> or weights=None."
            ) from exc

    def extractor(self, network, outputs):
        requests = {
            name: (None, False, False) if name in ("pooled", "logits") else self.output_request(network, name)
            for name in outputs
        }
        return _TimmOutputs(network, requests)

    def categories(self):
        from timm.data import ImageNetInfo, infer_imagenet_subset

        subset = infer_imagenet_subset(self._cfg(self._tag("DEFAULT")).to_dict())
        if subset is None:
            raise ValueError(f"timm model {self.builder} does not declare ImageNet classes")
        return [d.split(",")[0] for d in ImageNetInfo(subset).label_descriptions()]


class _TimmOutputs(LayerOutputs):
    """timm's own split of the pass: ``"pooled"`` is ``forward_head(pre_logits=True)``, ``"logits"`` the head's output."""

    def run_network(self, images):
        features = self.network.forward_features(images)
        return {
            "pooled": self.network.forward_head(features, pre_logits=True),
            "logits": self.network.forward_head(features),
        }

    def network_output(self, out, name):
        return out[name]


def timm_backbone(name):
    """The backbone ``timm/<model>[.<tag>]``."""
    timm = _timm()
    model = name.removeprefix(PREFIX)
    if not timm.is_model(model):
        raise ValueError(f"backbone={name!r}: {model!r} is not a timm model (see timm.list_models())")
    try:
        cfg = timm.models.get_pretrained_cfg(model)
    except RuntimeError as exc:
        raise ValueError(f"backbone={name!r}: {exc}") from None
    if cfg is None:
        raise ValueError(f"backbone={name!r}: timm declares no input configuration for {model!r}")
    return Timm(
        name, f"{cfg.architecture}.{cfg.tag}", **_input_handling(cfg), head=cfg.classifier or None,
        source="timm",
    )
