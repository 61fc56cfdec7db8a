"""What every backbone family shares: input handling, layer reading, checkpoints."""

import contextlib
import os
import re
from dataclasses import dataclass

import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as TF  # what the weights' own transforms use

__all__ = [
    "Backbone", "LayerOutput", "LayerOutputs", "clean_state_dict", "is_checkpoint_path", "load_file", "read_checkpoint", "seeded",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Backbone:
    """How to build, feed and read one image network.

    Subclasses (one per weights source) say how the network is built and
    where its named weights come from; this base feeds frames to it and
    reads its outputs.

    Attributes
    ----------
    name : str
        Registry name (``CNNFeaturizer(backbone=name)``).
    builder : str
        The name the weights source knows the architecture by.
    crop_size : int
        Side of the square the network sees.
    resize_size : int or tuple of int
        Frames of another size are resized to this (an int: their shorter
        side; a pair: exactly ``(height, width)``), then centre-cropped to
        ``crop_size``. Frames already ``crop_size`` square are used as they are.
    mean, std : tuple of float or None
        Per-channel normalisation of ``[0, 1]`` pixels (None: none).
    interpolation : {"bilinear", "bicubic"}
        Resampling of the resize.
    antialias : bool
        Antialiased resize (what the weights' own transforms do).
    head : str or None
        Dotted name of the final classification layer; its input is the
        pooled feature vector (averaged over any spatial or time axes left).
        None: the network's output is the pooled output.
    last_conv : str or None
        Module holding the last convolutional map, pooled and fed to ``head``
        alone (class activation maps); None where the head is not one linear
        layer on an averaged map.
    cam_relu : bool
        The network applies a ReLU to ``last_conv``'s output before pooling.
    token_layers : bool
        Layers output ``(B, L, C)`` tokens (transformers) rather than
        channels-first maps.
    channels_last_maps : bool
        Layers output ``(B, H, W, C)`` maps (Swin).
    source : str
        Where ``weights="DEFAULT"`` comes from.
    """

    name: str
    builder: str
    crop_size: int = 224
    resize_size: object = 256
    mean: tuple = IMAGENET_MEAN
    std: tuple = IMAGENET_STD
    interpolation: str = "bilinear"
    antialias: bool = True
    head: str = "fc"
    last_conv: str = None
    cam_relu: bool = False
    token_layers: bool = False
    channels_last_maps: bool = False
    source: str = "torchvision"

    #: Frames per network input (None: one image per input).
    segment_frames = None
    #: ``autocast="auto"`` runs the network in bfloat16 on CPUs that have the instructions for it.
    cpu_bfloat16 = True

    # -- weights: subclasses ----------------------------------------------------

    def with_weights(self, weights):
        """This backbone fed as ``weights`` declare (named weights may change the input size)."""
        return self

    def construct(self, state=None):
        """The network with random weights, shaped to hold the checkpoint ``state`` when given."""
        raise NotImplementedError

    def num_classes(self, state, default=1000):
        """Outputs of the head that the checkpoint ``state`` holds."""
        return state[f"{self.head}.weight"].shape[0] if state is not None and self.head is not None else default

    def meta_network(self, state=None):
        """:meth:`construct` on the meta device: shapes, no weights."""
        try:
            with torch.device("meta"):
                return self.construct(state)
        except NotImplementedError:  # a constructor that computes with tensors (RegNet's widths)
            with _parameters_on_meta():
                return self.construct(state)

    def pretrained(self, weights):
        """The network with the named ``weights`` (downloaded into the source's cache)."""
        raise NotImplementedError

    def pretrained_identity(self, weights):
        """``"<source>:<exact name>"`` of the named ``weights``; checks the name, downloads nothing."""
        raise NotImplementedError

    @staticmethod
    def weights_from_label(label):
        """The ``weights`` value whose identity ends in ``label`` (see :meth:`pretrained_identity`)."""
        return label

    def finish(self, network):
        """The built network as it runs (e.g. without training-only branches)."""
        return network

    def checkpoint_state(self, state, path):
        """A checkpoint's entries as the network names them."""
        return state

    def categories(self):
        """Class names of the default weights' outputs."""
        raise ValueError(f"{self.name} has no class names")

    # -- running ----------------------------------------------------------------

    @property
    def memory_format(self):
        """Memory format of the network's input and weights (channels-last: faster convolutions)."""
        return torch.channels_last

    def auto_batch_size(self, device_type):
        """Frames per forward pass for ``batch_size="auto"``."""
        return 64 if device_type == "cuda" else 16

    def round_batch(self, batch_size):
        """``batch_size`` frames, rounded up to whole network inputs."""
        return batch_size

    def n_steps(self, n_frames):
        """Feature vectors given by ``n_frames`` consecutive frames of one clip."""
        return n_frames

    def probe(self):
        """A meta-device input of one sample (output shapes)."""
        return torch.zeros(1, 3, self.crop_size, self.crop_size, device="meta")

    def preprocess(self, batch, device):
        """uint8 ``(B, H, W, 3)`` frames -> normalised float ``(B, 3, S, S)`` on ``device``."""
        images = batch.to(device, non_blocking=True).permute(0, 3, 1, 2).contiguous()
        images = self._resize(images).float().div_(255.0)
        if self.mean is not None:
            images = TF.normalize(images, self.mean, self.std)
        return images

    def _resize(self, images):
        """Resize and centre-crop uint8 ``(B, 3, H, W)`` images, as the weights' transforms do."""
        if images.shape[-2:] == (self.crop_size, self.crop_size):
            return images
        size = list(self.resize_size) if isinstance(self.resize_size, tuple) else self.resize_size
        mode = InterpolationMode(self.interpolation)
        return TF.center_crop(TF.resize(images, size, interpolation=mode, antialias=self.antialias), self.crop_size)

    def output_request(self, network, output, label=None):
        """How the output named ``output`` is read: ``(module name or None, read its input, pool)``.

        ``"pooled"``: the pooled features (the input of ``head``); ``"logits"``:
        the network's output (None); else the output of the named module. An
        unknown module raises ``ValueError`` naming it as ``label`` (by
        default ``layer '<output>'``).
        """
        if output == "logits" or (output == "pooled" and self.head is None):
            return None, False, False
        if output == "pooled":
            return self.head, True, True
        try:
            network.get_submodule(output)
        except AttributeError:
            raise ValueError(
                f"{label or f'layer {output!r}'} is not a layer of {self.name}; "
                f"top-level modules are {[n for n, _ in network.named_children()]}"
            ) from None
        return output, False, False

    def extractor(self, network, outputs):
        """The module computing every output of ``outputs`` in one forward pass, as ``{name: tensor}``.

        See :meth:`output_request` for the names.
        """
        return LayerOutputs(network, {name: self.output_request(network, name) for name in outputs})

    def locations(self, features):
        """Extractor output -> ``(B, D)`` vectors or ``(B, L, C)`` maps."""
        if features.ndim == 2:
            return features
        if self.token_layers and features.ndim == 3:
            return features
        if self.channels_last_maps:
            return features.flatten(1, -2)
        return features.flatten(2).transpose(1, 2)


@contextlib.contextmanager
def _parameters_on_meta():
    """Move every parameter and buffer a module registers to the meta device (its initialisation is then free)."""
    module = torch.nn.Module
    register_parameter, register_buffer = module.register_parameter, module.register_buffer

    def parameter(self, name, param):
        if param is not None:
            param = torch.nn.Parameter(param.to("meta"), requires_grad=param.requires_grad)
        register_parameter(self, name, param)

    def buffer(self, name, tensor, persistent=True):
        register_buffer(self, name, None if tensor is None else tensor.to("meta"), persistent=persistent)

    module.register_parameter, module.register_buffer = parameter, buffer
    try:
        yield
    finally:
        module.register_parameter, module.register_buffer = register_parameter, register_buffer


class _Reached(Exception):
    """Raised by a hook once the wanted layer has run: the rest of the network is skipped."""


class LayerOutputs(torch.nn.Module):
    """Run ``network`` once and return several of its layers' outputs as ``{name: tensor}``.

    The pass stops as soon as every requested layer has run, unless the
    network's own output is requested too.

    Parameters
    ----------
    network : torch.nn.Module
    requests : dict
        ``name -> (module, read_input, pool)``: the dotted module name (None:
        the network's own output), whether to return the module's input
        instead of its output, and whether to average the tensor over every
        axis after the second.
    """

    def __init__(self, network, requests):
        super().__init__()
        self.network, self.requests = network, dict(requests)

    def run_network(self, images):
        """Run the network on ``images`` (a subclass may run it otherwise)."""
        return self.network(images)

    def network_output(self, out, name):
        """The output ``name`` read from what :meth:`run_network` returned (a subclass may split it)."""
        return out

    def forward(self, images):
        box, hooks = {}, []
        whole = any(module is None for module, _, _ in self.requests.values())
        pending = {name for name, (module, _, _) in self.requests.items() if module is not None}

        def keeper(name, read_input):
            def keep(module, args, output=None):
                box[name] = args[0] if read_input else output
                pending.discard(name)
                if not pending and not whole:
                    raise _Reached

            return keep

        try:
            for name, (module, read_input, _) in self.requests.items():
                if module is None:
                    continue
                layer = self.network.get_submodule(module)
                keep = keeper(name, read_input)
                hooks.append(layer.register_forward_pre_hook(keep) if read_input else layer.register_forward_hook(keep))
            out = self.run_network(images)
            box.update({name: self.network_output(out, name) for name, (module, _, _) in self.requests.items() if module is None})
        except _Reached:
            pass
        finally:
            for hook in hooks:
                hook.remove()
        return {name: _tensor(name, box[name], pool) for name, (_, _, pool) in self.requests.items()}


def _tensor(name, out, pool):
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        out = out[0]  # e.g. MViT blocks: (tokens, their grid size)
    if not isinstance(out, torch.Tensor):
        raise ValueError(f"layer {name!r} does not output one tensor ({type(out).__name__})")
    if pool and out.ndim > 2:
        out = out.flatten(2).mean(dim=2)
    return out


class LayerOutput(LayerOutputs):
    """Run ``network`` up to the module ``name`` and return its output as ``{"out": ...}``.

    Parameters
    ----------
    network : torch.nn.Module
    name : str or None
        Dotted module name; None returns the network's own output.
    read_input : bool, default=False
        Return the module's input instead of its output.
    pool : bool, default=False
        Average the returned tensor over every axis after the second.
    """

    def __init__(self, network, name, read_input=False, pool=False):
        super().__init__(network, {"out": (name, read_input, pool)})


def seeded(build, random_state):
    """``build()`` with PyTorch's global generator seeded by ``random_state`` (restored after)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0 if random_state is None else int(random_state))
        return build()


_OLD_DENSENET_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\.([12]\..+)$")


def clean_state_dict(state, path):
    if not isinstance(state, dict):
        raise ValueError(f"{path}: expected a state dict or a dict with a 'state_dict' entry, got {type(state).__name__}")
    for wrapper in ("state_dict", "model", "module"):
        if wrapper in state and isinstance(state[wrapper], dict):
            state = state[wrapper]
            break
    cleaned = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise ValueError(f"{path}: entry {key!r} is not a tensor; is this a state dict?")
        key = key.removeprefix("module.")
        key = _OLD_DENSENET_KEY.sub(lambda m: m.group(1) + m.group(2), key)
        cleaned[key] = value
    return cleaned


def load_file(path, mmap):
    if str(path).endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except RuntimeError:
        if not mmap:
            raise
        return torch.load(path, map_location="cpu", weights_only=True)  # legacy format: no mmap


def read_checkpoint(backbone, path, mmap=True):
    """The cleaned state dict of a checkpoint, its tensors memory-mapped where possible."""
    try:
        state = load_file(path, mmap)
    except Exception as exc:  # torch and safetensors raise several types for unreadable files
        raise ValueError(f"{path}: not a readable checkpoint ({exc})") from exc
    state = backbone.checkpoint_state(clean_state_dict(state, path), path)
    head_key = f"{backbone.head}.weight"
    if backbone.head is not None and head_key not in state:
        raise ValueError(f"{path}: no {head_key!r} entry; it does not look like a {backbone.name} checkpoint")
    return state


def is_checkpoint_path(weights):
    """Whether ``weights`` names a file rather than named weights."""
    if isinstance(weights, os.PathLike):
        return True
    return isinstance(weights, str) and (
        os.sep in weights or weights.lower().endswith((".pt", ".pth", ".tar", ".bin", ".ckpt", ".safetensors"))
        or os.path.exists(weights)
    )
