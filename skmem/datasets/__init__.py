"""Dataset loaders and generated data."""

from skmem.datasets.feature_folder import MissingClipsError, load_feature_folder
from skmem.datasets.lamem import load_lamem
from skmem.datasets.layout import write_mediaeval_layout
from skmem.datasets.mediaeval import load_mediaeval2018, read_captions, read_ground_truth
from skmem.datasets.memento import load_memento10k
from skmem.datasets.multimodal import make_multimodal_memorability
from skmem.datasets.synthetic import make_memorability_videos

__all__ = [
    "MissingClipsError",
    "load_feature_folder",
    "load_lamem",
    "load_mediaeval2018",
    "load_memento10k",
    "make_memorability_videos",
    "make_multimodal_memorability",
    "read_captions",
    "read_ground_truth",
    "write_mediaeval_layout",
]
