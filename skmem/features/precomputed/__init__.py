"""Read precomputed descriptors from disk: MediaEval files, ``.npy`` folders, feature matrices.

:class:`PrecomputedFeatureLoader` selects one format family per ``kind``;
each family (``text``: dense, sparse, channels, rows, ragged; ``arrays``:
npy folders; ``matrix``: one array plus an id list) owns how its files are
found, parsed, learnt from at ``fit`` and turned into rows.
"""

from skmem.features.descriptors import DescriptorFormatError
from skmem.features.precomputed.arrays import feature_index
from skmem.features.precomputed.loader import KINDS, PrecomputedFeatureLoader
from skmem.features.precomputed.matrix import read_id_list
from skmem.features.precomputed.reading import CacheInfo, ParsedFileCache

__all__ = [
    "KINDS",
    "CacheInfo",
    "DescriptorFormatError",
    "ParsedFileCache",
    "PrecomputedFeatureLoader",
    "feature_index",
    "read_id_list",
]
