"""Class activation maps: where in a frame a backbone finds its class evidence.

For networks that end in global average pooling and one linear layer
(ResNets, ResNeXts, Wide ResNets, RegNets, DenseNets, Inception v3, GoogLeNet,
ShuffleNets, MNASNets, EfficientNets, MobileNet v2), the score of class ``k`` is a weighted sum
of the channels of the last convolutional map. Weighting the map's channels
by the linear layer's row ``k`` instead of averaging them first gives, per
location, that location's contribution to the class: its class activation map.
"""

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted
from torch.nn import functional as F
from skmem.features.backbones._base import LayerOutput
from skmem.features.cnn import flat_frames

__all__ = ["class_activation_maps", "network_view", "plot_activation_maps"]


def _head(featurizer):
    spec = featurizer.backbone_spec_
    head = featurizer.network_.get_submodule(spec.head) if spec.head and spec.last_conv else None
    if not isinstance(head, torch.nn.Linear):
        raise ValueError(
            f"class activation maps need a backbone ending in pooling and one linear layer "
            f"(ResNets, RegNets, DenseNets, EfficientNets, ...); {featurizer.backbone!r} is not one"
        )
    return spec, head


def class_activation_maps(featurizer, frames, target=None, return_targets=False):
    """Per-frame class activation maps of a fitted :class:`~skmem.CNNFeaturizer`.

    Parameters
    ----------
    featurizer : CNNFeaturizer
        Fitted, with a backbone whose ``backbone_spec_.last_conv`` is set (a
        torchvision ResNet, ResNeXt, Wide ResNet, RegNet, DenseNet, Inception
        v3, GoogLeNet, ShuffleNet, MNASNet, EfficientNet or MobileNet v2).
    frames : ndarray of shape (n, T, H, W, 3) or (n, H, W, 3), uint8
    target : int, array-like of int, or None
        The class whose evidence is mapped: one for all frames, one per frame
        (shape ``(n, T)`` or ``(n,)``), or None for each frame's top class.
    return_targets : bool, default=False
        Also return the class used for each frame.

    Returns
    -------
    maps : ndarray of shape (n, T, S, S) or (n, S, S), float32
        Each map scaled to [0, 1] (0 at the weakest location, 1 at the
        strongest), at the network's input size ``S``, aligned with
        :func:`network_view` of the frames.
    targets : ndarray of int, optional
    """
    check_is_fitted(featurizer, "weights_id_")
    spec, head = _head(featurizer)
    lead, flat = flat_frames(frames)
    targets = None if target is None else np.broadcast_to(np.asarray(target, dtype=int), lead).reshape(-1).copy()
    if targets is not None and ((targets < 0) | (targets >= head.out_features)).any():
        raise ValueError(f"target must be a class index in [0, {head.out_features}), got {target!r}")
    body = LayerOutput(featurizer.network_, spec.last_conv).eval()
    maps, chosen = [], []
    with torch.inference_mode():
        for start in range(0, len(flat), featurizer.batch_size_):
            images = featurizer.preprocess(flat[start : start + featurizer.batch_size_], "cpu")
            conv = body(images)["out"]
            conv = F.relu(conv) if spec.cam_relu else conv
            logits = head(conv.mean(dim=(2, 3)))
            classes = (
                logits.argmax(dim=1)
                if targets is None
                else torch.as_tensor(targets[start : start + len(images)])
            )
            cam = torch.einsum("bchw,bc->bhw", conv, head.weight[classes])
            cam = F.interpolate(cam[:, None], size=images.shape[-2:], mode="bilinear", align_corners=False)[:, 0]
            low = cam.amin(dim=(1, 2), keepdim=True)
            span = (cam.amax(dim=(1, 2), keepdim=True) - low).clamp_min(1e-12)
            maps.append(((cam - low) / span).numpy())
            chosen.append(classes.numpy())
    maps = np.concatenate(maps).astype(np.float32)
    maps = maps.reshape(lead + maps.shape[1:])
    if return_targets:
        return maps, np.concatenate(chosen).reshape(lead)
    return maps


def network_view(featurizer, frames):
    """The frames as the network sees them (resized and cropped), uint8."""
    check_is_fitted(featurizer, "weights_id_")
    spec = featurizer.backbone_spec_
    lead, flat = flat_frames(frames)
    images = featurizer.preprocess(flat, "cpu")
    if spec.mean is not None:
        mean = torch.tensor(spec.mean)[:, None, None]
        std = torch.tensor(spec.std)[:, None, None]
        images = images * std + mean
    view = (images.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return view.reshape(lead + view.shape[1:])


def plot_activation_maps(frames, maps, *, titles=None, alpha=0.5, cmap="jet", columns=4):
    """Overlay maps on frames in a grid; returns the matplotlib Figure.

    Parameters
    ----------
    frames : ndarray of shape (k, H, W, 3), uint8
        E.g. :func:`network_view` of the frames the maps were computed on.
    maps : ndarray of shape (k, h, w)
        Resized to the frames' size for display.
    titles : list of str, optional
    alpha : float, default=0.5
        Opacity of the maps.
    cmap : str, default="jet"
    columns : int, default=4
    """
    import matplotlib.pyplot as plt

    frames, maps = np.asarray(frames), np.asarray(maps, dtype=np.float32)
    if frames.ndim != 4 or maps.ndim != 3 or len(frames) != len(maps):
        raise ValueError(
            f"frames must be (k, H, W, 3) and maps (k, h, w) with the same k; got {frames.shape} and {maps.shape}"
        )
    resized = F.interpolate(torch.from_numpy(maps)[:, None], size=frames.shape[1:3], mode="bilinear")[:, 0].numpy()
    columns = min(columns, len(frames))
    rows = -(-len(frames) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 3 * rows), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(frames):
            ax.imshow(frames[index])
            ax.imshow(resized[index], cmap=cmap, alpha=alpha, vmin=0, vmax=1)
            if titles is not None:
                ax.set_title(str(titles[index]), fontsize=9)
    fig.tight_layout()
    return fig
