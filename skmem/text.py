"""Caption features (the public home of :mod:`skmem.features.text`).

:class:`CaptionVectorizer` (TF-IDF of caption words and word pairs),
:class:`CaptionEmbedder` (sentence or CLIP text embeddings, stored once) and
:class:`TagCaptioner` (captions from the labels a network sees in the frames).
"""

from skmem.features.text import CaptionEmbedder, CaptionVectorizer, TagCaptioner, caption_text

__all__ = ["CaptionEmbedder", "CaptionVectorizer", "TagCaptioner", "caption_text"]
