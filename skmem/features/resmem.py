"""Networks from the optional ``resmem`` package (non-commercial licence).

The package ships one checkpoint, ``model.pt``, holding

- a frozen ImageNet ResNet152 under the key prefix ``features.``, whose
  batch-norm statistics were adapted to pixels in [0, 1] without ImageNet
  mean/std normalisation (input: 256² resize, 227² centre crop), and
- the ResMem memorability model: an AlexNet-like branch on the image whose
  flattened map is concatenated with the ResNet152's 1,000 class scores and
  mapped to a memorability in [0, 1] by fully connected layers.

Only the weights are used; the network definitions are skmem's own.
"""

import importlib.metadata
import importlib.util
import os

import torch
from torch import nn
from torchvision.models import resnet152

__all__ = ["ResMemNet", "resmem_checkpoint", "resmem_identity", "load_resmem_state"]


def resmem_checkpoint():
    """Path of the ``model.pt`` shipped by the ``resmem`` package."""
    spec = importlib.util.find_spec("resmem")
    if spec is None:
        raise ImportError(
            "the resmem backbones need the optional 'resmem' package (NON-COMMERCIAL licence): "
            "pip install 'skmem[resmem]'"
        )
    path = os.path.join(spec.submodule_search_locations[0], "model.pt")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"the resmem package has no weights file at {path}")
    return path


def resmem_identity():
    """Names the installed resmem weights (package version and file size)."""
    path = resmem_checkpoint()
    return f"resmem-{importlib.metadata.version('resmem')}:{os.path.getsize(path)}"


def load_resmem_state():
    """The state dict of the checkpoint shipped by the ``resmem`` package."""
    return torch.load(resmem_checkpoint(), map_location="cpu", weights_only=True)


class ResMemNet(nn.Module):
    """ResMem: image memorability in [0, 1] from a 227² image in [0, 1].

    ``features`` is the ImageNet ResNet152 (with its class layer ``fc``); the
    other layers are ResMem's own branch and regression head.
    """

    def __init__(self, width=384):
        super().__init__()
        self.features = resnet152(weights=None)
        self.conv1 = nn.Conv2d(3, 48, 11, stride=4)
        self.conv2 = nn.Conv2d(48, 256, 5, padding=2, groups=2)
        self.conv3 = nn.Conv2d(256, width, 3, padding=1, groups=2)
        self.conv4 = nn.Conv2d(width, width, 3, padding=1, groups=2)
        self.conv5 = nn.Conv2d(width, 256, 3, padding=1, groups=2)
        sizes = [256 * 6 * 6 + 1000, 4096, 4096, 2048, 1024, 512, 256, 1]
        for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=6):
            setattr(self, f"fc{index}", nn.Linear(n_in, n_out))
        self.pool = nn.MaxPool2d(3, 2)
        self.norm = nn.LocalResponseNorm(5)

    def forward(self, images):
        x = self.norm(self.pool(torch.relu(self.conv1(images))))
        x = self.norm(self.pool(torch.relu(self.conv2(x))))
        for conv in (self.conv3, self.conv4, self.conv5):
            x = torch.relu(conv(x))
        x = torch.cat([self.pool(x).flatten(1), self.features(images)], dim=1)
        for index in range(6, 12):
            x = torch.relu(getattr(self, f"fc{index}")(x))
        return torch.sigmoid(self.fc12(x))
