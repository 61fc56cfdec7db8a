"""open_clip image towers by name: ``backbone="open_clip/<architecture>"`` (optional extra ``clip``).

The features are the image tower's output: the embedding that CLIP compares
with the text tower's (see :class:`skmem.text.CaptionEmbedder`).
"""

import logging
import os
from dataclasses import dataclass, replace

import numpy as np
import torch

from skmem.features.backbones._base import Backbone, clean_state_dict, is_checkpoint_path, load_file, seeded

__all__ = ["OpenClip", "PREFIX", "TextTower", "open_clip_backbone"]

PREFIX = "open_clip/"
_OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
_OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def _open_clip():
    try:
        import open_clip
    except ImportError as exc:
        raise ImportError(
            "open_clip backbones need the optional 'open_clip_torch' package: pip install 'skmem[clip]'"
        ) from exc
    return open_clip


def _quiet_create(*args, **kwargs):
    """``open_clip.create_model`` without its log line about random initialisation."""
    logger = logging.getLogger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return _open_clip().create_model(*args, **kwargs)
    finally:
        logger.setLevel(level)


@dataclass(frozen=True)
class OpenClip(Backbone):
    """A CLIP image tower from open_clip; weights are a pretrained tag, ``"DEFAULT"`` the first listed tag.

    Tagged weights are downloaded from the Hugging Face hub (or the tag's
    URL) into open_clip's usual cache. A checkpoint file holds the whole CLIP
    model (its ``visual.`` entries are used) or the image tower alone.
    Checkpoints of OpenAI's models need the ``-quickgelu`` architecture names.
    """

    head: str = None
    token_layers: bool = True
    cpu_bfloat16 = False  # measured about half as fast as float32 on the CPU (bench_backbones.py)

    def _tag(self, weights):
        tags = _open_clip().list_pretrained_tags_by_model(self.builder)
        if weights == "DEFAULT":
            if not tags:
                raise ValueError(f"open_clip lists no pretrained weights for {self.builder}; pass a checkpoint path")
            return tags[0]
        if weights not in tags:
            raise ValueError(f"weights={weights!r} is neither a file nor a pretrained tag of {self.builder}: {tags}")
        return weights

    def with_weights(self, weights):
        if not isinstance(weights, str):
            return self
        try:
            tag = self._tag(weights)
        except ValueError:
            return self  # a checkpoint path, or a bad tag that pretrained_identity names
        cfg = _open_clip().get_pretrained_cfg(self.builder, tag)
        return replace(
            self, mean=tuple(cfg.get("mean", self.mean)), std=tuple(cfg.get("std", self.std)),
            interpolation=cfg.get("interpolation", self.interpolation),
        )

    def pretrained_identity(self, weights):
        return f"open_clip:{self.builder}:{self._tag(weights)}"

    @staticmethod
    def weights_from_label(label):
        return label.rsplit(":", 1)[1]

    def checkpoint_state(self, state, path):
        if any(key.startswith("visual.") for key in state):
            return {k.removeprefix("visual."): v for k, v in state.items() if k.startswith("visual.")}
        return state

    def construct(self, state=None):
        return self.clip_model(None).visual

    def pretrained(self, weights):
        return self.clip_model(weights).visual

    def clip_model(self, weights, device="cpu"):
        """The whole CLIP model (both towers) with the named ``weights`` (None: random)."""
        tag = None if weights is None else self._tag(weights)
        try:
            return _quiet_create(self.builder, pretrained=tag, device=device)
        except OSError as exc:
            raise RuntimeError(
                f"could not load open_clip weights {self.builder}:{tag} (downloaded on first use): {exc}. "
                "Offline, pass weights=<path to a checkpoint file> or weights=None."
            ) from exc

    def meta_network(self, state=None):
        return self.clip_model(None, device="meta").visual


def open_clip_backbone(name):
    """The backbone ``open_clip/<architecture>``."""
    open_clip = _open_clip()
    architecture = name.removeprefix(PREFIX)
    config = open_clip.get_model_config(architecture)
    if config is None:
        raise ValueError(
            f"backbone={name!r}: {architecture!r} is not an open_clip architecture (see open_clip.list_models())"
        )
    size = config["vision_cfg"].get("image_size", 224)
    size = int(size if isinstance(size, int) else size[0])
    preprocess = config.get("preprocess_cfg", {})
    return OpenClip(
        name, architecture, crop_size=size, resize_size=size, mean=tuple(preprocess.get("mean", _OPENAI_MEAN)),
        std=tuple(preprocess.get("std", _OPENAI_STD)), interpolation=preprocess.get("interpolation", "bicubic"),
        source="open_clip",
    )


class TextTower:
    """The text tower of an open_clip model, encoding like a ``SentenceTransformer``.

    Parameters
    ----------
    backbone : OpenClip
    weights : str, path-like or None
        A pretrained tag (``"DEFAULT"``: the first listed), a checkpoint file
        of the whole CLIP model, or None for random weights (seed 0).
    device : str
    """

    def __init__(self, backbone, weights, device="cpu"):
        if weights is None:
            model = seeded(lambda: backbone.clip_model(None), 0)
        elif is_checkpoint_path(weights):
            path = os.path.abspath(os.fspath(weights))
            model = backbone.clip_model(None)
            try:
                model.load_state_dict(clean_state_dict(load_file(path, mmap=False), path))
            except RuntimeError as exc:
                raise ValueError(f"{path}: not a whole {backbone.builder} CLIP model: {exc}") from exc
        else:
            model = backbone.clip_model(str(weights))
        model.visual = None  # only the text tower is used
        self.model = model.eval().to(device)
        self.device = device
        self.tokenizer = _open_clip().get_tokenizer(backbone.builder)
        self.dimension = int(_open_clip().get_model_config(backbone.builder)["embed_dim"])

    def get_embedding_dimension(self):
        """Size of the text embeddings."""
        return self.dimension

    def encode(self, texts, batch_size=32, show_progress_bar=False, convert_to_numpy=True, normalize_embeddings=False):
        """Embeddings of ``texts``, float32 ``(len(texts), D)`` (unit length with ``normalize_embeddings``)."""
        from tqdm.auto import tqdm

        out = [np.empty((0, self.dimension), np.float32)]
        with torch.inference_mode():
            for start in tqdm(range(0, len(texts), batch_size), disable=not show_progress_bar, desc="captions"):
                tokens = self.tokenizer(list(texts[start : start + batch_size])).to(self.device)
                vectors = self.model.encode_text(tokens, normalize=normalize_embeddings)
                out.append(vectors.float().cpu().numpy())
        return np.concatenate(out)
