"""Caption features: TF-IDF over caption words and sentence embeddings.

MediaEval 2018 captions are stock-footage slugs whose words are joined by
``-`` (``blonde-woman-is-massaged-tilt-down``); Memento10k has five free-text
captions per clip. Both are read the same way: a sample is one caption, or a
sequence of captions (a list/tuple cell, or one row of a 2-D array/DataFrame
with one caption per column). Missing captions (``None``, NaN, empty, and the
spreadsheet damage ``#NAME?``) contribute nothing.

Routing a multimodal DataFrame (``path``/``id``, ``caption`` columns) is done
with :class:`sklearn.compose.ColumnTransformer`::

    ColumnTransformer([
        ("visual", PrecomputedFeatureLoader("C3D", features_root), "id"),
        ("text", CaptionVectorizer(), "caption"),
    ])

Clips without captions get one from :class:`TagCaptioner` (the labels a
classification network sees in them), e.g.
``make_pipeline(TagCaptioner(CNNFeaturizer(layer="logits",
sampler=FrameSampler())), CaptionVectorizer())`` on a ``path`` column.
"""

from skmem.features.text.captions import caption_text
from skmem.features.text.embedder import CaptionEmbedder
from skmem.features.text.tags import TagCaptioner, label_words, read_labels
from skmem.features.text.vectorizer import CaptionVectorizer

__all__ = ["CaptionEmbedder", "CaptionVectorizer", "TagCaptioner", "caption_text", "label_words", "read_labels"]
