"""The networks of the optional ``resmem`` package (NON-COMMERCIAL licence), fed as ResMem feeds them."""

from dataclasses import dataclass

from torchvision.models import get_model, get_model_weights

from skmem.features.backbones._base import Backbone
from skmem.features.resmem import ResMemNet, load_resmem_state, resmem_identity

__all__ = ["ResMem", "resmem_backbones"]


@dataclass(frozen=True)
class ResMem(Backbone):
    """``weights="DEFAULT"`` loads the resmem package's weights (offline)."""

    def _check(self, weights):
        if weights != "DEFAULT":
            raise ValueError(
                f"{self.name} takes weights='DEFAULT' (the resmem package), a checkpoint path or None; got {weights!r}"
            )

    def pretrained_identity(self, weights):
        self._check(weights)
        return resmem_identity()

    @staticmethod
    def weights_from_label(label):
        return "DEFAULT"

    def construct(self, state=None):
        if self.builder == "resmem":
            return ResMemNet()
        return get_model(self.builder, weights=None, num_classes=self.num_classes(state))

    def pretrained(self, weights):
        self._check(weights)
        state = load_resmem_state()
        network = self.construct()
        if self.builder != "resmem":
            state = {k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")}
        network.load_state_dict(state)
        return network

    def categories(self):
        if self.head is None:
            raise ValueError(f"{self.name} has no classes: it outputs a memorability score")
        return list(get_model_weights(self.builder).DEFAULT.meta["categories"])


def resmem_backbones():
    """``resmem_resnet152`` (its ImageNet ResNet152) and ``resmem`` (its memorability score)."""
    handling = {"crop_size": 227, "resize_size": (256, 256), "mean": None, "std": None, "source": "resmem"}
    return {
        "resmem_resnet152": ResMem("resmem_resnet152", "resnet152", last_conv="layer4", **handling),
        "resmem": ResMem("resmem", "resmem", head=None, **handling),
    }
